"""The soak's checks, run once at the end, and the report.

Each check adds one line to a Result: PASS/FAIL, a name, the figures behind it, and on
failure the details (the first few offending items)."""
import json
import os
import statistics
import time

import logrules
from monitor import metric_sum
from world import ACCOUNT, START_HEIGHT, keyshares_json


class Result:
    def __init__(self):
        self.items = []     # (name, ok, figures, details)

    def add(self, name, ok, figures="", details=()):
        if isinstance(details, str):
            details = [details]
        self.items.append((name, bool(ok), figures, list(details)[:20]))
        return ok

    @property
    def ok(self):
        return bool(self.items) and all(ok for _, ok, _, _ in self.items)


def read_jsonl(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        out.append({"event": "garbage", "text": line[:200]})
    except OSError:
        pass
    return out


def last_final_height(path):
    """The last block height of `mpc-indexer blocks --json` output (0 if none)."""
    h = 0
    for e in read_jsonl(path):
        if e.get("event") == "block":
            h = e["height"]
    return h


def pct(xs, q):
    if not xs:
        return 0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def canonical(chain, hi):
    return [(b["height"], b["hash"], b["prev_hash"]) for b in
            chain.admin("/chain?from=%d&to=%d" % (START_HEIGHT, hi))["blocks"]]


# ---------------------------------------------------------------- blocks
def check_bridge_blocks(res, updates, canon, reconnects, forks, final):
    """The optimistic stream of the bridge block subscriber against nearsim's chain."""
    canon_hashes = {h for _, h, _ in canon}
    blocks = [u for u in updates if u["event"] == "block"]
    orph = [u for u in updates if u["event"] == "orphaned"]
    fin = [u for u in updates if u["event"] == "finalized"]
    seqs = [u["seq"] for u in updates]
    gaps = [(a, b) for a, b in zip(seqs, seqs[1:]) if b != a + 1]
    res.add("bridge subscriber: update seqs contiguous across %d lagged resumes" % reconnects, not gaps,
            "%d updates (%d blocks, %d orphaned, %d finalized)" % (len(updates), len(blocks), len(orph), len(fin)),
            ["seq %d then %d" % g for g in gaps])
    hashes = [b["hash"] for b in blocks]
    dup = sorted({h for h in hashes if hashes.count(h) > 1}) if len(hashes) != len(set(hashes)) else []
    res.add("bridge subscriber: no block delivered twice", not dup, "%d blocks" % len(blocks), dup)
    got = [(b["height"], b["hash"]) for b in blocks if b["hash"] in canon_hashes]
    want = [(h, x) for h, x, _ in canon]
    missing = sorted(set(want) - set(got))
    res.add("bridge subscriber: every canonical block delivered, in order (%d..%d)" % (START_HEIGHT, canon[-1][0]),
            not missing and got == want, "%d canonical blocks, %d skipped heights" %
            (len(want), canon[-1][0] - START_HEIGHT + 1 - len(want)),
            ["missing %s" % (m,) for m in missing[:10]] +
            ([] if got == want or missing else ["order differs near %s" % next(
                (g, w) for g, w in zip(got, want) if g != w)]))
    links = [b for a, b in zip([x for x in blocks if x["hash"] in canon_hashes][:-1],
                               [x for x in blocks if x["hash"] in canon_hashes][1:]) if b["prev_hash"] != a["hash"]]
    res.add("bridge subscriber: each canonical block's prev_hash is the one before it", not links, "",
            ["%d %s" % (b["height"], b["hash"]) for b in links])
    off = [b for b in blocks if b["hash"] not in canon_hashes]
    orph_hashes = {o["hash"] for o in orph}
    unreported = [b for b in off if b["hash"] not in orph_hashes and b["status"] != "fork"]
    res.add("bridge subscriber: every delivered block that left the chain was reported orphaned",
            not unreported and not (orph_hashes & canon_hashes),
            "%d off-chain blocks delivered, %d orphaned events, nearsim made %d forks" % (len(off), len(orph), forks),
            ["not reported: %d %s" % (b["height"], b["hash"]) for b in unreported] +
            ["orphaned but canonical: %s" % h for h in orph_hashes & canon_hashes])
    fh = [f["height"] for f in fin]
    bad_fin = [f for f in fin if f["hash"] not in canon_hashes]
    res.add("bridge subscriber: finality only advances, on the chain, up to nearsim's final height",
            fh == sorted(set(fh)) and not bad_fin and fh and fh[-1] == final,
            "last finalized %s, nearsim final %d" % (fh[-1] if fh else None, final),
            ["finalized off the chain: %d %s" % (f["height"], f["hash"]) for f in bad_fin])
    return [b for b in blocks if b["hash"] in canon_hashes]


def check_final_blocks(res, path, canon, final):
    evs = read_jsonl(path)
    garbage = [e for e in evs if e.get("event") == "garbage"]
    blocks = [e for e in evs if e.get("event") == "block"]
    want = [(h, x) for h, x, _ in canon if h <= final]
    got = [(b["height"], b["hash"]) for b in blocks]
    hs = [h for h, _ in got]
    dups = sorted({h for h in hs if hs.count(h) > 1}) if len(hs) != len(set(hs)) else []
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    res.add("final-mode follower (mpc-indexer blocks): exactly nearsim's final chain, once each, in order",
            not garbage and not dups and got == want,
            "%d blocks up to %d (nearsim final %d)" % (len(got), hs[-1] if hs else 0, final),
            ["garbage line %s" % g["text"] for g in garbage[:3]] + ["twice: %s" % d for d in dups[:5]] +
            ["missing %s" % (m,) for m in missing[:5]] + ["not the chain's %s" % (e,) for e in extra[:5]])
    return blocks


def check_mpc(res, blocks, final_blocks, chain, final):
    """Requests and completions found in the canonical blocks against nearsim's contract."""
    reqs, comps = {}, {}
    for b in blocks:
        for q in b["requests"]:
            reqs[q["id"]] = b["height"]
        for c in b["completions"]:
            comps[c["id"]] = b["height"]
    stats = chain.stats()["contract"]
    head = blocks[-1]["height"] if blocks else 0
    pending = {p["callback_receipt_id"] for p in chain.admin("/pending")}
    unanswered = set(reqs) - set(comps)
    orphans = set(comps) - set(reqs)
    # answered at the last blocks: nearsim counts the response, the callback runs in a
    # block after the head (production is stalled)
    in_flight = {i for i in unanswered - pending if reqs[i] > head - 12}
    lost = unanswered - pending - in_flight
    res.add("MPC events: every request the contract took was seen; unanswered ones are nearsim's pending ones",
            len(reqs) == stats["requests"] and not lost and pending <= unanswered and not orphans,
            "%d requests, %d completions, %d pending, %d answered after the head, %d timeouts "
            "(nearsim: %d requests, %d responses)" %
            (len(reqs), len(comps), len(pending), len(in_flight), stats["timeouts"], stats["requests"],
             stats["responses"]),
            ["no completion seen for %s (request at %d)" % (x, reqs[x]) for x in sorted(lost)[:5]] +
            ["only nearsim has pending %s" % x for x in sorted(pending - unanswered)[:5]] +
            ["completion without request %s" % x for x in sorted(orphans)[:5]])
    fr = {q["id"] for b in final_blocks if b["height"] <= final for q in b["requests"]}
    fc = {c["id"] for b in final_blocks if b["height"] <= final for c in b["completions"]}
    br = {i for i, h in reqs.items() if h <= final}
    bc = {i for i, h in comps.items() if h <= final}
    res.add("MPC events: the final-mode follower found the same requests and completions",
            fr == br and fc == bc, "%d requests, %d completions up to height %d" % (len(fr), len(fc), final),
            ["request only in final mode: %s" % x for x in sorted(fr - br)[:5]] +
            ["request only in the bridge: %s" % x for x in sorted(br - fr)[:5]] +
            ["completion only in final mode: %s" % x for x in sorted(fc - bc)[:5]] +
            ["completion only in the bridge: %s" % x for x in sorted(bc - fc)[:5]])


# ---------------------------------------------------------------- transactions
def check_txs(res, clients, blocks, chain):
    execs = {}
    for b in blocks:
        for m in b.get("matches") or []:
            a = m.get("args")
            if isinstance(a, str):
                try:
                    a = json.loads(a)
                except ValueError:
                    a = None
            sid = a.get("soak") if isinstance(a, dict) else None
            if sid is not None:
                execs.setdefault(sid, []).append(b["height"])
    subs = [s for c in clients for s in c.subs]
    by_status = {}
    for s in subs:
        by_status[s["status"]] = by_status.get(s["status"], 0) + 1
    bad = []
    for s in subs:
        n = len(execs.get(s["id"], []))
        ns = None
        if s.get("hash"):
            info = chain.tx_info(s["hash"])
            ns = info["executions"] if info else 0
        st = s["status"]
        if st in ("succeeded", "accepted", "failed"):
            if n != 1 or ns != 1:
                bad.append("%s %s: executed %d times in the blocks, nearsim says %s (%s)" % (s["id"], st, n, ns, s.get("hash")))
        elif st in ("rejected", "bridge_error"):
            if n != 0:
                bad.append("%s %s (%s) but executed %d times" % (s["id"], st, s.get("error"), n))
        elif st == "unknown":
            if n > 1:
                bad.append("%s unknown, executed %d times" % (s["id"], n))
        else:
            bad.append("%s: no answer (%s: %s)" % (s["id"], st, s.get("error")))
    phantom = sorted(set(execs) - {s["id"] for s in subs})
    dups = sorted(k for k, v in execs.items() if len(v) > 1)
    every = chain.admin("/txs")["executions"]
    twice = sorted(h for h, n in every.items() if n > 1)
    lat = [s["t1"] - s["t0"] for s in subs if s["status"] == "succeeded" and s.get("t1")]
    wrong_value = [s["id"] for s in subs if s["status"] == "succeeded" and s.get("value") is not True]
    res.add("transactions through the bridge: each executed exactly once",
            subs and not bad and not phantom and not dups and not twice and not wrong_value,
            "%d submitted: %s; send_and_wait latency median %.2f s, p95 %.2f s, max %.2f s; "
            "nearsim: %d transactions, none executed twice" %
            (len(subs), ", ".join("%s %d" % kv for kv in sorted(by_status.items(), key=str)),
             pct(lat, 0.5), pct(lat, 0.95), max(lat or [0]), len(every)),
            bad + ["executed but never submitted: %s" % p for p in phantom[:5]] +
            ["executed twice: %s at %s" % (d, execs[d]) for d in dups[:5]] +
            ["nearsim executed %s twice" % h for h in twice[:5]] +
            ["%s: value is not true" % w for w in wrong_value[:5]])


# ---------------------------------------------------------------- plugins
def check_backups(res, run, world, chain, events, mon):
    epoch = chain.contract_phase()[1]
    files = set()
    try:
        for n in os.listdir(world.backup_dir):
            if n.startswith("epoch-") and n.endswith(".mpcbak"):
                files.add(int(n[6:-7]))
    except OSError:
        pass
    want = set(range(0, epoch + 1))
    reshares = [e for e in events.done if e["kind"] == "reshare"]
    delays = [mon.backups[e["epoch"]] - e["end"] for e in reshares if e.get("ok") and e["epoch"] in mon.backups]
    res.add("backups: one per epoch, each made after its resharing",
            want <= files and all(e.get("ok") for e in reshares),
            "%d reshares (epoch 0 -> %d), backups of epochs %s; seen on disk %.1f s median, %.1f s max "
            "after the harness saw Running" % (len(reshares), epoch, sorted(files), pct(delays, 0.5), max(delays or [0])),
            ["no backup of epoch %d" % e for e in sorted(want - files)] +
            ["reshare failed: %s" % e.get("error") for e in reshares if not e.get("ok")])
    rc, out = run["backup_verify"]
    res.add("backups: mpc-indexer backup verify passes every file", rc == 0 and
            ("%d verified, 0 failed" % len(files)) in out, out.strip().splitlines()[-1] if out.strip() else "",
            [] if rc == 0 else out.splitlines()[-5:])
    migs = [e for e in events.done if e["kind"] == "migrate"]
    bad = []
    for e in migs:
        if not e.get("ok"):
            bad.append("%s -> %s: %s" % (e.get("from"), e.get("to"), e.get("error")))
            continue
        puts = world.fakes[e["to"]].puts()
        first = puts[e["puts_before"]] if len(puts) > e["puts_before"] else None
        if first is None or json.loads(first) != json.loads(keyshares_json(e["epoch"])):
            bad.append("%s -> %s: the destination did not get the keyshares of epoch %s" % (e["from"], e["to"], e["epoch"]))
    m = run.get("metrics", {})
    res.add("migrations: the destination received exactly the current keyshares, then the node moved",
            not bad, "%d migrations; pushes ok %d, failed %d; migrations served %d" %
            (len(migs), metric_sum(m, "mpc_indexer_backup_migration_pushes_total", outcome="ok"),
             metric_sum(m, "mpc_indexer_backup_migration_pushes_total", outcome="failed"),
             metric_sum(m, "mpc_indexer_backup_migrations_served_total")), bad)


def check_attestations(res, run, world, chain, events):
    drops = [e for e in events.done if e["kind"] == "drop"]
    m = run.get("metrics", {})
    tls = world.tls["A"]["public_key"]
    listed = any(e["account_id"] == ACCOUNT and e["tls_public_key"] == tls and
                 e["account_public_key"] == world.signer_pk for e in chain.view("get_tee_accounts"))
    subs = {r: metric_sum(m, "mpc_indexer_tee_submissions_total", reason=r) for r in ("start", "refresh", "dropped", "retry")}
    fails = {}
    for k, v in m.items():
        if k.startswith("mpc_indexer_tee_failures_total{") and v:
            fails[k.split('cause="')[1].split('"')[0]] = int(v)
    rel = [e["relisted_after"] for e in drops if e.get("relisted_after") is not None]
    res.add("attestations: made at start, and again after every drop",
            listed and all(e.get("ok") for e in drops) and subs["start"] >= 1 and
            metric_sum(m, "mpc_indexer_tee_attested") == 1,
            "%d drops, listed again after %.1f s median, %.1f s max; submissions %s; failures %s" %
            (len(drops), pct(rel, 0.5), max(rel or [0]), ", ".join("%s %d" % (k, v) for k, v in subs.items()),
             fails or "none"),
            ["drop: %s" % e.get("error") for e in drops if not e.get("ok")] +
            ([] if listed else ["get_tee_accounts does not list the node at the end"]))


def check_state(res, state, events, chain):
    epoch = chain.contract_phase()[1]
    seen = state.epochs()
    migs = sum(1 for e in events.done if e["kind"] == "migrate" and e.get("ok"))
    mi = [n for n in state.notes if n[1] == "migration_info"]
    back = [(a, b) for m in ("state", "migration_info")
            for a, b in zip([n for n in state.notes if n[1] == m], [n for n in state.notes if n[1] == m][1:])
            if a[2] is not None and b[2] is not None and b[2] < a[2]]
    res.add("state subscriber: every epoch, migration_info changes, heights never go back",
            seen == list(range(0, epoch + 1)) and len(mi) >= 2 * migs and not back and not state.errors,
            "%d notifications, Running epochs %s, %d migration_info changes for %d migrations, %d reconnects" %
            (len(state.notes), seen, len(mi), migs, state.reconnects),
            state.errors + ["height went back: %s -> %s" % (a[2], b[2]) for a, b in back])


# ---------------------------------------------------------------- the daemon
def check_memory(res, run, samples):
    warm = run["t_faults"] + max(30, min(120, run["duration"] / 5))
    s = [x for x in samples if x["t"] >= warm and x["t"] <= run["t_faults_end"]]
    if len(s) < 6:
        res.add("memory: RSS does not grow", False, "only %d samples after warm-up" % len(s))
        return
    third = len(s) // 3
    first = statistics.median(x["VmRSS"] for x in s[:third])
    last = statistics.median(x["VmRSS"] for x in s[-third:])
    limit = max(2048, first * 0.10)
    hwm_warm = s[0]["VmHWM"]
    hwm_end = samples[-1]["VmHWM"]
    fd0 = statistics.median(x["fds"] for x in s[:third])
    fd1 = statistics.median(x["fds"] for x in s[-third:])
    heap = [x["heap_kB"] for x in s if "heap_kB" in x]
    heap_note = ("; heap in use median %d kB -> %d kB" % (statistics.median(heap[:len(heap) // 3]),
                                                          statistics.median(heap[-(len(heap) // 3):]))
                 if len(heap) >= 6 else "")
    res.add("memory: RSS of the last third within max(2 MiB, 10%) of the first third after warm-up",
            last - first <= limit,
            "RSS median %d kB -> %d kB (%+d kB); VmHWM %d kB after warm-up, %d kB at the end%s; "
            "%d samples" % (first, last, last - first, hwm_warm, hwm_end, heap_note, len(s)))
    res.add("memory: VmHWM after warm-up grows by at most max(16 MiB, 50%)",
            hwm_end - hwm_warm <= max(16384, hwm_warm * 0.5), "%d kB -> %d kB" % (hwm_warm, hwm_end))
    res.add("file descriptors do not pile up", fd1 <= fd0 + 8, "median %d -> %d" % (fd0, fd1))


def check_log(res, world, faults, events, run):
    wins = logrules.windows(faults.episodes, events.done, run["t_end"])
    total = {}
    unexplained = []
    for path in (world.daemon_log, world.final_err):
        exp, unexp = logrules.classify(path, wins)
        for k, v in exp.items():
            total[k] = total.get(k, 0) + v
        unexplained += ["%s: %s" % (os.path.basename(path), u) for u in unexp]
    res.add("log: every ERROR / WARN line explained by a fault active at the time",
            not unexplained, "%d explained (%s), %d unexplained" %
            (sum(total.values()), ", ".join("%s %d" % (k, v)
                                            for k, v in sorted(total.items(), key=lambda kv: -kv[1])),
             len(unexplained)), unexplained)
    with open(os.path.join(world.work, "unexplained.log"), "w") as f:
        f.writelines(u + "\n" for u in unexplained)


def run_all(run, world, chain, faults, events, blocks, state, txclients, mon):
    res = Result()
    hi = run["head"]
    canon = canonical(chain, hi)
    st = chain.stats()
    res.add("the daemon ran to the end and stopped cleanly on SIGTERM", run["daemon_exit"] == 0,
            "exit status %s" % run["daemon_exit"])
    res.add("the final-mode follower stopped cleanly on SIGTERM", run["final_cli_exit"] == 0,
            "exit status %s" % run["final_cli_exit"])
    res.add("every fault class was switched on at least once",
            {e.cls for e in faults.episodes} >= set(__import__("faults").CLASSES) and not faults.errors,
            "%d episodes" % len(faults.episodes), faults.errors)
    res.add("the harness's own work went through", not blocks.errors, "", blocks.errors)
    canon_blocks = check_bridge_blocks(res, blocks.updates, canon, blocks.reconnects, st["forks"], run["final"])
    final_blocks = check_final_blocks(res, world.final_out, canon, run["final"])
    check_mpc(res, canon_blocks, final_blocks, chain, run["final"])
    check_txs(res, txclients, canon_blocks, chain)
    check_backups(res, run, world, chain, events, mon)
    check_attestations(res, run, world, chain, events)
    check_state(res, state, events, chain)
    check_memory(res, run, mon.samples)
    check_log(res, world, faults, events, run)
    run["figures"] = {"blocks": len(canon), "skipped": st["skipped"], "forks": st["forks"],
                      "nearsim_txs": st["txs_included"], "receipts": st["receipts_executed"]}
    run["episodes"] = faults.episodes
    run["events"] = events.done
    with open(os.path.join(world.work, "timeline.json"), "w") as f:
        json.dump({"episodes": [e.as_dict() for e in faults.episodes], "events": events.done}, f, indent=1)
    return res


def render(run, res, classes):
    out = ["# mpc-indexer soak report", ""]
    out.append("seed %s, duration %s s, block time %s ms, started %s" %
               (run.get("seed"), run.get("duration"), run.get("block_ms"), run.get("started")))
    out.append("machine: nproc %s, load average at start %s, at end %s" %
               (run.get("nproc"), " ".join(run.get("loadavg_start", [])), " ".join(run.get("loadavg_end", []) or ["-"])))
    out.append("reproduce: SOAK_SEED=%s SOAK_DURATION=%s make soak" % (run.get("seed"), run.get("duration")))
    f = run.get("figures")
    if f:
        out.append("chain: %d canonical blocks up to head %d (final %d), %d skipped heights, %d forks, "
                   "%d transactions, %d receipts" % (f["blocks"], run["head"], run["final"], f["skipped"],
                                                    f["forks"], f["nearsim_txs"], f["receipts"]))
    eps = run.get("episodes") or []
    if eps:
        out.append("")
        out.append("faults (episodes, seconds on in total):")
        for c in classes:
            mine = [e for e in eps if e.cls == c]
            on = sum((e.off or run.get("t_end", time.time())) - e.on for e in mine)
            out.append("  %-13s %3d episodes %6.1f s  %s" % (c, len(mine), on, classes[c][0]))
    evs = run.get("events") or []
    if evs:
        out.append("chain events: " + ", ".join("%s %d (%d failed)" % (k, sum(1 for e in evs if e["kind"] == k),
                                                                      sum(1 for e in evs if e["kind"] == k and not e.get("ok")))
                                                  for k in ("reshare", "migrate", "drop")))
    out.append("")
    for name, ok, figures, details in res.items:
        out.append("%s %s" % ("PASS" if ok else "FAIL", name))
        if figures:
            out.append("     " + figures)
        for d in details:
            out.append("       - " + d)
    out.append("")
    out.append("RESULT: %s (%d checks, %d failed)" % ("PASS" if res.ok else "FAIL", len(res.items),
                                                       sum(1 for i in res.items if not i[1])))
    return "\n".join(out) + "\n"
