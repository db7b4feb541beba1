#!/usr/bin/env python3
"""Acceptance 3 of prometheus-monitor: /healthz is 200 while the daemon follows
nearsim, turns 503 (with the reason) when nearsim stalls, and 200 again when
it resumes."""
import os
import sys

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prom_util import Daemon, Sim, Tap, poll, skip_all  # noqa: E402

t = Tap()
sim = d = None
try:
    sim = Sim("--block-ms", "200")
    d = Daemon(sim, extra="stall_timeout = 3s\nmax_lag = 30s")
    if "no block stream" in d.get("/healthz")[2]:
        skip_all("this daemon has no event sources yet")
    t.ok(poll(lambda: d.get("/healthz")[0] == 200, tries=120), "/healthz: 200 while following",
         d.get("/healthz")[2])
    st, hdr, body = d.get("/healthz")
    t.ok(body.startswith("ok: following at height"), "the body says where: " + body.strip())
    t.ok(hdr.get("Content-Type", "").startswith("text/plain"), "as text/plain")

    sim.admin("/stall", {"on": True})
    t.ok(poll(lambda: d.get("/healthz")[0] == 503, tries=120), "/healthz: 503 once nearsim stalls")
    st, _, body = d.get("/healthz")
    t.ok("stalled: no new block" in body, "the reason says it is stalled: " + body.strip())
    t.ok(d.metrics().get("mpc_indexer_healthy") == 0, "mpc_indexer_healthy 0")

    sim.admin("/stall", {"on": False})
    t.ok(poll(lambda: d.get("/healthz")[0] == 200, tries=120), "/healthz: 200 again when nearsim resumes",
         d.get("/healthz")[2])
    t.ok(d.metrics().get("mpc_indexer_healthy") == 1, "mpc_indexer_healthy 1")
finally:
    if d:
        d.cleanup()
    if sim:
        sim.stop()
t.done()
