#!/usr/bin/env python3
"""mpc-node-bridge acceptance 2: a client that stops reading is sent `lagged`
with the last height it was given and disconnected; it reconnects from that
height and the union of what it received equals nearsim's list of heights.
Meanwhile the daemon's buffers stay within their limits."""
import re
import socket
import time

from bridge_util import Closed, Daemon, Sim, Tap, wait_for

RING = 512
MAX_PENDING = 8192

t = Tap()
sim = Sim("--manual", "--sign-rate", "0.5")
d = None
try:
    sim.produce(3)
    d = Daemon(sim, "ring_size = %d\nmax_pending = %d\n" % (RING, MAX_PENDING))
    ctl = d.connect(client="control")
    wait_for(lambda: ctl.status()["ring"]["newest_height"], 60)
    start = ctl.status()["ring"]["newest_height"] + 1

    slow = d.connect(client="slow", timeout=60)
    slow.subscribe_blocks(from_height=start)
    got = []

    def synced():
        return ctl.status()["processed_height"] >= sim.admin("/stats")["final"]

    rss0 = d.rss_kb()
    worst_queue, worst_ring = 0, 0
    lagged = False
    for _ in range(200):                     # at most 4000 blocks
        sim.produce(20)
        wait_for(synced, 60)
        st = ctl.status()
        worst_queue = max(worst_queue, st["queued_bytes"])
        worst_ring = max(worst_ring, st["ring"]["updates"])
        if "lagged at height" in d.log_text():
            lagged = True
            break
    rss1 = d.rss_kb()
    head = sim.admin("/stats")["head"]
    t.ok(lagged, "the client that stopped reading is lagged (chain at %d, started at %d)" % (head, start))

    params = None
    try:
        while True:
            m = slow.notification(timeout=30)
            if m["method"] == "block":
                got.append(m["params"]["height"])
    except Closed as e:
        params = e.params if e.reason == "lagged" else None
    except socket.timeout:
        pass
    t.ok(params is not None, "its last message is `lagged`", params)
    t.ok(slow.read_message(timeout=10) is None, "then the connection is closed")
    slow.close()
    last = got[-1] if got else None
    t.ok(params and params["last_height"] == last, "lagged names the last height it was given (%s)" % last)
    t.ok(params and params["resume_from_height"] == last + 1, "and the height to resume from")
    m = re.search(r"client \d+ lagged at height (\d+)", d.log_text())
    t.diag("lagged at %s of %d; daemon RSS %d kB -> %d kB; worst queued %d bytes, ring %d updates" %
           (m.group(1) if m else "?", head, rss0, rss1, worst_queue, worst_ring))

    # reconnect from that height, catch up, then the chain goes on
    slow = d.connect(client="slow-again", timeout=60)
    slow.subscribe_blocks(from_height=params["resume_from_height"])
    sim.produce(10)
    head = sim.admin("/stats")["final"]      # the daemon follows final blocks
    deadline = time.time() + 120
    while (not got or got[-1] < head) and time.time() < deadline:
        try:
            m = slow.notification(timeout=1)
        except socket.timeout:
            continue
        if m["method"] == "block":
            got.append(m["params"]["height"])
    slow.close()
    chain = sim.admin("/chain?from=%d&to=%d" % (start, head))
    want = [b["height"] for b in chain["blocks"]]
    t.ok(sorted(set(got)) == want,
         "the union of what it received equals nearsim's heights %d..%d (%d blocks)" % (start, head, len(want)),
         "missing: %s" % sorted(set(want) - set(got))[:20], "extra: %s" % sorted(set(got) - set(want))[:20])
    t.ok(len(got) == len(set(got)), "and nothing came twice")
    t.ok(worst_ring <= RING, "the ring held at most ring_size updates (%d)" % worst_ring)
    t.ok(worst_queue <= 2 * (2 * MAX_PENDING + (1 << 20)),
         "queued output stayed within the per-client limit (%d bytes)" % worst_queue)
    t.ok(rss1 - rss0 < 64 * 1024, "the daemon's memory stayed bounded while a client stalled (+%d kB)" % (rss1 - rss0))
    ctl.close()
finally:
    rc = d.stop() if d else 0
    sim.stop()
t.ok(rc == 0, "the daemon stops cleanly")
if d and t.failed:
    t.diag(d.log_text()[-4000:])
t.done()
