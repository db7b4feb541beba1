"""Checks for the block stream integration tests (called by tests/integration/blocks_*.sh).

Each check prints lines "PASS <what>" or "FAIL <what>: <why>"; the shell test turns them
into TAP. Subcommands:
  heights OUT PORT FROM         the blocks in OUT are exactly nearsim's canonical blocks
                                from FROM to the last height in OUT, once each, in order
  mpc OUT PORT                  every request joined with its completion by id; the
                                unanswered ones are exactly nearsim's pending ones
  optimistic OUT PORT           orphans are off the chain, finalized blocks on it
  proxy NEARSIM_PORT PORTFILE   a wrong and lagging neardata endpoint in front of nearsim
"""
import http.client
import http.server
import json
import random
import sys
import threading


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def admin(port, path):
    st, body = get(port, path)
    if st != 200:
        raise RuntimeError("GET %s: HTTP %d %s" % (path, st, body[:200]))
    return json.loads(body)


def lines(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"event": "garbage", "line": n, "text": line[:200]})
    return out


def report(ok, what, why=""):
    print("PASS %s" % what if ok else "FAIL %s: %s" % (what, why))
    return ok


def chain(port, lo, hi):
    return admin(port, "/admin/chain?from=%d&to=%d" % (lo, hi))


def heights(out, port, frm):
    evs = lines(out)
    garbage = [e for e in evs if e.get("event") == "garbage"]
    report(not garbage, "every output line is JSON", garbage[:2])
    blocks = [e for e in evs if e.get("event") == "block"]
    if not report(len(blocks) > 0, "the stream delivered blocks"):
        return
    last = blocks[-1]["height"]
    want = [(b["height"], b["hash"]) for b in chain(port, frm, last)["blocks"]]
    got = [(b["height"], b["hash"]) for b in blocks]
    hs = [h for h, _ in got]
    dups = sorted({h for h in hs if hs.count(h) > 1})
    report(not dups, "no height delivered twice (%d blocks)" % len(got), dups[:10])
    report(hs == sorted(hs), "heights in increasing order")
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    report(not missing, "no block of the chain missing (%d..%d: %d blocks)" % (frm, last, len(want)), missing[:10])
    report(not extra, "no block that is not the chain's", extra[:10])
    report(got == want, "the delivered sequence is exactly nearsim's list")
    links = all(blocks[i]["prev_hash"] == blocks[i - 1]["hash"] for i in range(1, len(blocks)))
    report(links, "each block's prev_hash is the block before it")


def mpc(out, port):
    blocks = [e for e in lines(out) if e.get("event") == "block"]
    reqs, comps = {}, {}
    dup_req = dup_comp = 0
    timeouts = 0
    for b in blocks:
        for q in b["requests"]:
            dup_req += q["id"] in reqs
            reqs[q["id"]] = (b["height"], q)
        for c in b["completions"]:
            dup_comp += c["id"] in comps
            comps[c["id"]] = (b["height"], c)
        timeouts += b["timeouts"]
    stats = admin(port, "/admin/stats")["contract"]
    pending = admin(port, "/admin/pending")
    pend_ids = {p["callback_receipt_id"]: p for p in pending}
    report(dup_req == 0 and dup_comp == 0, "no request or completion seen twice")
    report(len(reqs) == stats["requests"], "every request the contract took was seen (%d)" % len(reqs),
           "nearsim made %d" % stats["requests"])
    joined = [i for i in reqs if i in comps]
    report(all(comps[i][0] > reqs[i][0] for i in joined), "each completion comes after its request")
    unanswered = set(reqs) - set(comps)
    last = blocks[-1]["height"]
    # answered on chain after the last block we read (nearsim counts the response already)
    in_flight = {i for i in unanswered - set(pend_ids) if reqs[i][0] > last - 12}
    report(unanswered - in_flight == set(pend_ids),
           "the unanswered requests are nearsim's pending ones (%d) and %d answered after block %d" %
           (len(pend_ids), len(in_flight), last),
           "ours-only %s, nearsim-only %s" % (sorted(unanswered - in_flight - set(pend_ids))[:3],
                                              sorted(set(pend_ids) - unanswered)[:3]))
    report(not (set(comps) - set(reqs)), "no completion without its request (%d joined)" % len(joined),
           sorted(set(comps) - set(reqs))[:5])
    failed = [i for i in joined if not comps[i][1]["success"]]
    report(stats["timeouts"] > 0 and timeouts == stats["timeouts"],
           "timeouts seen: %d fail_on_timeout receipts" % timeouts, "nearsim says %d" % stats["timeouts"])
    answered = len(joined) - stats["timeouts"]
    report(answered + len(in_flight) == stats["responses"],
           "answered requests match nearsim's responses (%d + %d in flight)" % (answered, len(in_flight)),
           "nearsim says %d" % stats["responses"])
    late = [i for i in joined if comps[i][0] - reqs[i][0] >= 200]
    report(len(late) >= stats["timeouts"], "timed-out requests complete 200+ blocks later (%d)" % len(late),
           "nearsim says %d" % stats["timeouts"])
    ok_tw = all(list(bytes.fromhex(reqs[i][1].get("tweak") or reqs[i][1].get("app_id")))
                == pend_ids[i]["request"].get("tweak", pend_ids[i]["request"].get("app_id"))
                for i in unanswered & set(pend_ids))
    report(ok_tw, "tweak / app_id of pending requests equal the contract's")
    kinds = {q["kind"] for _, q in reqs.values()}
    report({"sign", "ckd"} <= kinds, "sign and CKD requests both seen", kinds)
    print("INFO requests=%d completions=%d failed=%d timeouts=%d blocks=%d" %
          (len(reqs), len(comps), len(failed), timeouts, len(blocks)))


def optimistic(out, port):
    evs = lines(out)
    blocks = [e for e in evs if e.get("event") == "block"]
    orph = [e for e in evs if e.get("event") == "orphaned"]
    fin = [e for e in evs if e.get("event") == "finalized"]
    lo = blocks[0]["height"]
    hi = max(b["height"] for b in blocks)
    canon = {b["hash"]: b["height"] for b in chain(port, lo, hi)["blocks"]}
    forks = admin(port, "/admin/stats")["forks"]
    delivered = [b["hash"] for b in blocks]
    report(len(delivered) == len(set(delivered)), "no block hash delivered twice (%d)" % len(delivered))
    report(len(orph) > 0 and len(orph) == forks, "a replaced block is reported orphaned, once per fork (%d)" % len(orph),
           "nearsim made %d forks" % forks)
    report(all(o["hash"] not in canon for o in orph), "orphaned blocks are not on the chain")
    off = {b["hash"] for b in blocks if b["hash"] not in canon and b["height"] <= hi - 3}
    report(off <= {o["hash"] for o in orph}, "every delivered block that left the chain was reported", sorted(off)[:3])
    report(len(fin) > 0 and all(f["hash"] in canon for f in fin), "finalized blocks are on the chain (%d events)" % len(fin))
    report(not ({f["hash"] for f in fin} & {o["hash"] for o in orph}), "no orphan is ever confirmed final")
    hs = [f["height"] for f in fin]
    report(hs == sorted(set(hs)), "finality only advances")
    statuses = {b["status"] for b in blocks}
    report("canonical" in statuses, "optimistic blocks are delivered before they are final", statuses)


class Proxy(http.server.BaseHTTPRequestHandler):
    """A neardata endpoint that lags 20 blocks behind and sometimes lies: it answers
    null for a block that exists, or serves the document of another height."""
    upstream = 0
    rng = random.Random(7)
    lock = threading.Lock()

    def log_message(self, *a):
        pass

    def send(self, status, body, ctype="application/json", location=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/v0/last_block/"):
            st = admin(self.upstream, "/admin/stats")
            self.send(302, b"", "text/plain", "/v0/block/%d" % max(st["genesis"], st["final"] - 20))
            return
        if path.startswith("/v0/block/"):
            h = int(path.split("/")[3])
            with self.lock:
                r = self.rng.random()
            if r < 0.15:
                self.send(200, b"null")
                return
            if r < 0.25:
                path = "/v0/block/%d" % max(100, h - 1)
        try:
            st, body = get(self.upstream, path)
        except (OSError, http.client.HTTPException):
            st, body = 502, b"bad gateway"
        self.send(st, body)


def proxy(nearsim_port, portfile):
    Proxy.upstream = int(nearsim_port)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    with open(portfile, "w") as f:
        f.write(str(srv.server_address[1]))
    srv.serve_forever()


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "heights":
        heights(args[0], int(args[1]), int(args[2]))
    elif cmd == "mpc":
        mpc(args[0], int(args[1]))
    elif cmd == "optimistic":
        optimistic(args[0], int(args[1]))
    elif cmd == "proxy":
        proxy(args[0], args[1])
    else:
        sys.exit("unknown command " + cmd)
