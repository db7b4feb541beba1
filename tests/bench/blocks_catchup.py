"""make bench: block stream catch-up and head-following latency (driven by blocks_catchup.sh).

Catch-up: nearsim with mainnet-sized blocks (9 shards, >= 200 KB of JSON each, MPC traffic)
pre-produces a few thousand blocks; `mpc-indexer blocks` and the Node.js baseline
(blocks_baseline.js) each read the same range from the same nearsim, one after the other,
three times; we report blocks/s, the events found and peak RSS.
Latency: nearsim produces a block every 200 ms; the indexer follows the head in optimistic
and in final mode and we time each block from its timestamp (when nearsim made it) to
the moment its line reached us (the callback printed it)."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

top = os.environ.get("top_builddir", ".")
INDEXER = os.path.join(top, "mpc-indexer")
NEARSIM = os.path.join(top, "nearsim")
BASELINE = os.path.join(os.environ.get("top_srcdir", "."), "tests", "bench", "blocks_baseline.js")
NODE = os.environ.get("NODE") or "node"
N = int(os.environ.get("BLOCKS_BENCH_N", "3000"))
ROUNDS = int(os.environ.get("BLOCKS_BENCH_ROUNDS", "3"))
FA = os.environ.get("BLOCKS_BENCH_FETCH_AHEAD", "8")


def start_sim(args):
    d = tempfile.mkdtemp(prefix="blocks-bench-")
    pf = os.path.join(d, "port")
    p = subprocess.Popen([NEARSIM, "--port", "0", "--port-file", pf, "--quiet"] + args)
    for _ in range(400):
        if os.path.exists(pf) and open(pf).read().strip():
            return p, "http://127.0.0.1:%s" % open(pf).read().strip()
        time.sleep(0.05)
    raise SystemExit("nearsim did not start")


def post(base, path, body=b"{}"):
    return json.loads(urllib.request.urlopen(urllib.request.Request(base + path, data=body, method="POST"),
                                             timeout=600).read())


def stats(base):
    return json.loads(urllib.request.urlopen(base + "/admin/stats").read())


# Peak RSS through GNU time: the ru_maxrss that wait4 reports for a child of this script
# also counts this script's own memory (Linux carries the parent's high-water mark into a
# vforked child across exec), and this script holds every output line it has parsed.
TIME = "/usr/bin/time"
HAVE_TIME = os.access(TIME, os.X_OK) and subprocess.call(
    [TIME, "-f", "%M", "-o", os.devnull, "true"], stderr=subprocess.DEVNULL) == 0


def run(cmd):
    """Run cmd; wall seconds, peak RSS (KB) and CPU seconds of the child, stdout."""
    rss_file = None
    if HAVE_TIME:
        fd, rss_file = tempfile.mkstemp(prefix="blocks-bench-rss-")
        os.close(fd)
        cmd = [TIME, "-f", "%M", "-o", rss_file] + cmd
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)   # CPU: the child and what it waited for
    secs = time.monotonic() - t0
    if status != 0:
        raise SystemExit("%s failed (%d)" % (cmd[0], status))
    rss = ru.ru_maxrss
    if rss_file:
        with open(rss_file) as f:
            rss = int(f.read().split()[-1])
        os.unlink(rss_file)
    return secs, rss, out, ru.ru_utime + ru.ru_stime


def catchup():
    sim, base = start_sim(["--manual", "--shards", "9", "--bg-target-bytes", "220000", "--bg-log-bytes", "128",
                           "--sign-rate", "0.3", "--ckd-rate", "0.1", "--auto-respond", "--keep-blocks", str(N + 500)])
    try:
        post(base, "/admin/produce?n=150")           # let the traffic settle on the size
        st = post(base, "/admin/produce?n=%d" % N)
        lo, hi = st["final"] - N + 1, st["final"]
        size = len(urllib.request.urlopen("%s/v0/block/%d" % (base, hi)).read())
        print("catch-up: nearsim, 9 shards, block documents ~%d bytes (last %d), heights %d..%d (%d)" %
              (stats(base)["last_doc_bytes"], size, lo, hi, N))
        ours, node = [], []
        for r in range(ROUNDS):
            secs, rss, out, cpu = run([INDEXER, "blocks", "--block-url", base, "--contract", "mpc.test.near",
                                       "--from", str(lo), "--to", str(hi), "--json", "--fetch-ahead", FA])
            lines = [json.loads(l) for l in out.splitlines()]
            reqs = sum(len(b["requests"]) for b in lines)
            comps = sum(len(b["completions"]) for b in lines)
            ours.append((len(lines) / secs, rss, len(lines), reqs, comps, len(lines) / cpu, os.getloadavg()[0]))
            secs, rss, out, cpu = run([NODE, BASELINE, base, str(lo), str(hi), "mpc.test.near", FA])
            res = json.loads(out)
            node.append((res["blocks"] / secs, rss, res["blocks"], res["requests"], res["completions"],
                         res["blocks"] / cpu, os.getloadavg()[0]))
        best = max(ours), max(node)
        for name, rows in (("mpc-indexer blocks", ours), ("node baseline", node)):
            for r in rows:
                print("  %-20s %7.0f blocks/s  %7.0f blocks per CPU-second  peak RSS %6.1f MB  "
                      "blocks %d  requests %d  completions %d  (load %.1f)" %
                      (name, r[0], r[5], r[1] / 1024.0, r[2], r[3], r[4], r[6]))
        o = statistics.median(r[0] for r in ours)
        n = statistics.median(r[0] for r in node)
        same = all(r[2:5] == ours[0][2:5] for r in ours + node)
        oc = statistics.median(r[5] for r in ours)
        nc = statistics.median(r[5] for r in node)
        print("RESULT catch-up per CPU-second: mpc-indexer %.0f blocks, node %.0f blocks, ratio %.1fx" %
              (oc, nc, oc / nc))
        print("RESULT catch-up median: mpc-indexer %.0f blocks/s, node %.0f blocks/s, ratio %.1fx; "
              "peak RSS %.1f MB (node %.1f MB); same events: %s" %
              (o, n, o / n, max(r[1] for r in ours) / 1024.0, max(r[1] for r in node) / 1024.0,
               "yes" if same else "NO"))
        return o, n, max(r[1] for r in ours) / 1024.0, same, best
    finally:
        sim.kill()
        sim.wait()


def latency(optimistic):
    sim, base = start_sim(["--block-ms", "200", "--shards", "9", "--bg-target-bytes", "220000",
                           "--bg-log-bytes", "128", "--sign-rate", "0.3", "--auto-respond"])
    try:
        time.sleep(1.0)
        cmd = [INDEXER, "blocks", "--block-url", base, "--contract", "mpc.test.near", "--json"]
        if optimistic:
            cmd.append("--optimistic")
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        lat = []
        t_end = time.monotonic() + 40
        first = True
        for line in p.stdout:
            now = time.time()
            b = json.loads(line)
            if b.get("event") != "block":
                continue
            if first:                              # the start-up block is not a fresh one
                first = False
                continue
            lat.append(now - int(b["timestamp_nanosec"]) / 1e9)
            if time.monotonic() > t_end:
                break
        p.kill()
        p.wait()
        lat.sort()
        med = statistics.median(lat)
        p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
        mode = "optimistic" if optimistic else "final"
        print("RESULT head latency (%s, 200 ms blocks, %d blocks): median %.1f ms, p99 %.1f ms%s" %
              (mode, len(lat), med * 1000, p99 * 1000,
               "" if optimistic else " (includes waiting for finality, 2 blocks)"))
    finally:
        sim.kill()
        sim.wait()


if __name__ == "__main__":
    print("machine: %d CPUs, load average %.1f %.1f %.1f (other work on the machine slows both sides)" %
          ((os.cpu_count() or 0,) + os.getloadavg()))
    if not HAVE_TIME:
        print("no GNU time: peak RSS figures include this script's own memory (an upper bound)")
    o, n, rss, same, _ = catchup()
    latency(True)
    latency(False)
    ok = o >= 1000 and o >= 3 * n and rss < 32 and same
    print("targets (>= 1000 blocks/s, >= 3x node, peak RSS < 32 MB, same events): %s" % ("met" if ok else "NOT met"))
