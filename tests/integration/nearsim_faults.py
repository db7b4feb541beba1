#!/usr/bin/env python3
"""Acceptance 4: every fault class is switched on and off at run time through the admin
endpoint, and a plain HTTP client observes it: latency, 5xx, 429, 408/TIMEOUT_ERROR,
connection reset, truncated body, invalid JSON (for JSON-RPC and neardata), stalled block
production, skipped heights, optimistic forks and a lagging node."""
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nearsim_util import Sim, Tap  # noqa: E402

t = Tap()


def request(sim, kind):
    """One request of this kind: (status, headers, body) or the exception it raised."""
    c = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=20)
    try:
        if kind == "rpc":
            c.request("POST", "/", body=json.dumps({"jsonrpc": "2.0", "id": 7, "method": "block",
                                                    "params": {"finality": "final"}}),
                      headers={"Content-Type": "application/json"})
        else:
            fin = sim.admin("/stats")["final"]
            c.request("GET", "/v0/block/%d" % fin)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    except Exception as e:  # the faults under test surface as exceptions
        return e
    finally:
        c.close()


def healthy(res):
    if isinstance(res, Exception) or res[0] != 200:
        return False
    try:
        doc = json.loads(res[2])
    except ValueError:
        return False
    return "result" in doc or "block" in doc


def faults(sim, kind, **kv):
    body = {"kind": kind}
    body.update(kv)
    return sim.admin("/faults", body)


sim = Sim("--manual", "--bg-tx", "4")
try:
    sim.produce(4)
    for kind in ("rpc", "neardata"):
        t.ok(healthy(request(sim, kind)), "%s: healthy before any fault" % kind)

        faults(sim, kind, latency_ms=400)
        t0 = time.monotonic()
        res = request(sim, kind)
        took = time.monotonic() - t0
        t.ok(healthy(res) and took >= 0.4, "%s latency_ms=400: the answer comes no sooner than 400 ms (%.3f s)" % (kind, took))
        faults(sim, kind, latency_ms=0)

        checks = [
            ("5xx", lambda r: not isinstance(r, Exception) and r[0] == 503, "HTTP 503 with a non-JSON edge page"),
            ("429", lambda r: not isinstance(r, Exception) and r[0] == 429 and r[1].get("Retry-After") == "1", "HTTP 429 with Retry-After"),
            ("reset", lambda r: isinstance(r, (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine)),
             "the connection closes without an answer"),
            ("truncate", lambda r: isinstance(r, http.client.IncompleteRead), "the body stops before Content-Length"),
            ("invalid_json", lambda r: not isinstance(r, Exception) and r[0] == 200 and not healthy(r), "HTTP 200 with a body that is not JSON"),
        ]
        if kind == "rpc":
            checks.append(("timeout", lambda r: not isinstance(r, Exception) and r[0] == 408 and
                           json.loads(r[2])["error"]["cause"]["name"] == "TIMEOUT_ERROR" and json.loads(r[2])["id"] == 7,
                           "HTTP 408 with a JSON-RPC TIMEOUT_ERROR echoing the id"))
        else:
            faults(sim, kind, hang_ms=300)
            checks.append(("timeout", lambda r: not isinstance(r, Exception) and r[0] == 504, "held, then HTTP 504"))
        for name, pred, what in checks:
            faults(sim, kind, **{name: 1})
            res = request(sim, kind)
            t.ok(pred(res), "%s %s on: %s" % (kind, name, what), repr(res)[:300])
            injected = sim.admin("/faults")[kind]["injected"][name]
            t.ok(injected >= 1, "%s %s: nearsim counts the injection (%d)" % (kind, name, injected))
            faults(sim, kind, **{name: 0})
            t.ok(healthy(request(sim, kind)), "%s %s off: healthy again" % (kind, name))
        # a rate below 1 mixes faults and answers, deterministically for the seed
        faults(sim, kind, **{"5xx": 0.5})
        res = [request(sim, kind) for _ in range(40)]
        n503 = sum(1 for r in res if not isinstance(r, Exception) and r[0] == 503)
        t.ok(0 < n503 < 40, "%s 5xx=0.5: some requests fail, some succeed (%d/40)" % (kind, n503))
        faults(sim, kind, clear=True)
        t.ok(healthy(request(sim, kind)), "%s clear: healthy" % kind)

    # lagging node: the RPC stays behind while neardata is current
    head = sim.admin("/stats")["head"]
    faults(sim, "rpc", lag_blocks=3)
    lat = sim.rpc("status", [])["sync_info"]["latest_block_height"]
    st, hdr, _ = sim.get("/v0/last_block/optimistic")
    t.ok(lat == head - 3 and hdr["Location"] == "/v0/block_opt/%d" % head,
         "rpc lag_blocks=3: status is 3 blocks behind, neardata is not (%d vs %d)" % (lat, head))
    st, doc = sim.rpc_raw("block", {"block_id": head})
    t.ok(doc.get("error", {}).get("cause", {}).get("name") == "UNKNOWN_BLOCK", "the lagging RPC does not know the head block yet")
    faults(sim, "rpc", lag_blocks=0)
    t.ok(sim.rpc("status", [])["sync_info"]["latest_block_height"] == head, "lag off: status is at the head again")

    # skipped heights
    sim.admin("/chain", {"skip_next": 2})
    before = sim.admin("/stats")["head"]
    after = sim.produce(1)["head"]
    t.ok(after == before + 3, "skip_next=2: the next block is 3 heights above the previous")
    sim.produce(3)
    for h in (before + 1, before + 2):
        st, _, body = sim.get("/v0/block/%d" % h)
        t.ok(st == 200 and body == b"null", "skipped height %d: neardata null" % h)
    blk = sim.rpc("block", {"block_id": after})
    t.ok(blk["header"]["prev_height"] == before, "the block after the gap names prev_height %d" % before)
    chain = sim.admin("/chain?from=%d&to=%d" % (before, after))
    t.ok(chain["skipped"] == [before + 1, before + 2], "/admin/chain lists the skipped heights")
    sim.admin("/chain", {"skip_rate": 0.5})
    sim.produce(40)
    sim.admin("/chain", {"skip_rate": 0})
    t.ok(sim.admin("/stats")["skipped"] > 5, "skip_rate=0.5 skips heights; skip_rate=0 stops it")

    # optimistic forks: the head is replaced before it is final
    head = sim.admin("/stats")["head"]
    st, _, body = sim.get("/v0/block_opt/%d" % head)
    old = json.loads(body)["block"]["header"]
    sim.admin("/chain", {"fork_next": 1})
    out = sim.produce(1)
    st, _, body = sim.get("/v0/block_opt/%d" % head)
    new = json.loads(body)["block"]["header"]
    t.ok(out["head"] == head and new["hash"] != old["hash"] and new["prev_hash"] == old["prev_hash"],
         "fork_next=1: the optimistic block at %d is replaced by another with the same parent" % head)
    t.ok(sim.rpc("block", {"block_id": old["hash"]})["header"]["hash"] == old["hash"], "the replaced block stays reachable by hash")
    sim.produce(3)
    nxt = sim.rpc("block", {"block_id": head + 1})
    t.ok(nxt["header"]["prev_hash"] == new["hash"], "the chain continues on the replacement")
    listed = {b["height"]: b["hash"] for b in sim.admin("/chain?from=%d&to=%d" % (head, head))["blocks"]}
    t.ok(listed.get(head) == new["hash"], "/admin/chain reports the canonical hash")
    t.ok(sim.admin("/stats")["forks"] == 1, "nearsim counts one fork")
finally:
    rc = sim.stop()
t.ok(rc == 0, "nearsim exits 0")

# stalled block production (timed mode)
sim = Sim("--block-ms", "50")
try:
    deadline = time.time() + 10
    while sim.admin("/stats")["head"] < 110 and time.time() < deadline:
        time.sleep(0.05)
    sim.admin("/stall", {"on": True})
    h1 = sim.admin("/stats")["head"]
    time.sleep(0.6)
    h2 = sim.admin("/stats")["head"]
    t.ok(h1 == h2, "stall on: no block in 0.6 s at --block-ms 50 (%d, %d)" % (h1, h2))
    sim.admin("/stall", {"on": False})
    deadline = time.time() + 10
    while sim.admin("/stats")["head"] == h2 and time.time() < deadline:
        time.sleep(0.05)
    t.ok(sim.admin("/stats")["head"] > h2, "stall off: blocks are produced again")
finally:
    rc = sim.stop()
t.ok(rc == 0, "nearsim (timed) exits 0")
t.done()
