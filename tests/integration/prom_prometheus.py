#!/usr/bin/env python3
"""Acceptance 1 and 2 of prometheus-monitor: a real Prometheus server scrapes the
plugin in the daemon while nearsim runs MPC traffic and a resharing.  Through
Prometheus's query API: participants and epoch equal nearsim's, the blocks
counter increases, the request latency histogram has observations, and the
contract state series flips to Resharing and back.  The daemon's scrape has
the exact content type and passes `promtool check metrics`."""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prom_util import CONTENT_TYPE, Daemon, Prometheus, Sim, Tap, poll, skip_all  # noqa: E402

import shutil  # noqa: E402

if not shutil.which("prometheus"):
    skip_all("prometheus is not installed (Debian package prometheus)")

t = Tap()
sim = d = prom = None
try:
    sim = Sim("--block-ms", "200", "--auto-respond", "--sign-rate", "0.5", "--ckd-rate", "0.2",
              "--reshare-blocks", "30")
    d = Daemon(sim, extra="stall_timeout = 10s\nattestation_interval = 2s")
    st, _, body = d.get("/healthz")
    if "no block stream" in body:
        skip_all("this daemon has no event sources yet (%s)" % body.strip())
    t.ok(poll(lambda: d.get("/healthz")[0] == 200, tries=120), "the daemon follows nearsim (/healthz 200)",
         d.get("/healthz")[2])

    # acceptance 1 on the real daemon: content type, promtool
    st, hdr, body = d.get("/metrics")
    t.ok(st == 200 and hdr.get("Content-Type") == CONTENT_TYPE, "/metrics: 200, Content-Type %s" % CONTENT_TYPE,
         hdr.get("Content-Type"))
    promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if promtool:
        r = subprocess.run([promtool, "check", "metrics"], input=body.encode(), capture_output=True)
        t.ok(r.returncode == 0, "promtool check metrics: clean on the daemon's scrape (exit %d)" % r.returncode,
             (r.stdout + r.stderr).decode()[-2000:])
    else:
        t.ok(True, "# SKIP promtool not found")

    prom = Prometheus(d.port)
    t.ok(poll(lambda: prom.value('up{job="mpc-indexer"}') == 1, tries=120),
         "Prometheus scrapes the plugin (up == 1)", prom.targets())

    state = sim.view("state")
    running = state["Running"]
    n_parts = len(running["parameters"]["participants"]["participants"])
    epoch = running["keyset"]["epoch_id"]
    t.ok(poll(lambda: prom.value("mpc_indexer_contract_participants") == n_parts, tries=120),
         "participants equal nearsim's (%d)" % n_parts, prom.query("mpc_indexer_contract_participants"))
    t.ok(poll(lambda: prom.value("mpc_indexer_contract_epoch") == epoch, tries=120),
         "epoch equals nearsim's (%d)" % epoch, prom.query("mpc_indexer_contract_epoch"))
    info = prom.query("mpc_indexer_contract_participant_info")
    accounts = sorted(p[0] for p in running["parameters"]["participants"]["participants"])
    t.ok(sorted(s[0]["account"] for s in info) == accounts, "one participant_info series per nearsim participant",
         info)

    first = poll(lambda: prom.value("mpc_indexer_blocks_processed_total"), tries=120)
    later = poll(lambda: (lambda v: v if v and first and v > first else None)(
        prom.value("mpc_indexer_blocks_processed_total")), tries=120)
    t.ok(first and later and later > first, "the blocks counter increases (%s -> %s)" % (first, later))

    obs = poll(lambda: prom.value("sum(mpc_indexer_mpc_request_latency_blocks_count)"), tries=240)
    t.ok(obs and obs > 0, "the request latency histogram has observations (%s)" % obs)
    p50 = prom.value("histogram_quantile(0.5, sum by (le) (mpc_indexer_mpc_request_latency_blocks_bucket))")
    t.ok(p50 is not None and 1 <= p50 <= 10,
         "its median is a few blocks (auto-respond after 2 blocks): %s" % p50)
    t.ok(poll(lambda: prom.value("sum(mpc_indexer_mpc_requests_total)"), tries=120),
         "requests are counted")

    # the resharing: Running -> Resharing -> Running at epoch + 1
    sim.admin("/reshare", {})
    t.ok(poll(lambda: prom.value('mpc_indexer_contract_state{state="Resharing"}') == 1, tries=240, every=0.25),
         "the state series flips to Resharing", prom.query("mpc_indexer_contract_state"))
    t.ok(prom.value('mpc_indexer_contract_state{state="Running"}') == 0, "and Running to 0 meanwhile")
    t.ok(poll(lambda: prom.value("mpc_indexer_contract_key_event_epoch") == epoch + 1, tries=120),
         "the key event produces epoch %d" % (epoch + 1))
    t.ok(poll(lambda: prom.value('mpc_indexer_contract_state{state="Running"}') == 1, tries=240),
         "and back to Running", prom.query("mpc_indexer_contract_state"))
    new_epoch = sim.view("state")["Running"]["keyset"]["epoch_id"]
    t.ok(new_epoch == epoch + 1 and poll(lambda: prom.value("mpc_indexer_contract_epoch") == new_epoch, tries=120),
         "epoch equals nearsim's after the resharing (%d)" % new_epoch, prom.query("mpc_indexer_contract_epoch"))
    t.ok(prom.value('max_over_time(mpc_indexer_contract_state{state="Resharing"}[10m])') == 1 and
         prom.value('min_over_time(mpc_indexer_contract_state{state="Running"}[10m])') == 0,
         "Prometheus's history holds the flip")
    t.ok(prom.value("mpc_indexer_contract_key_event_epoch") is None, "no key event series once Running")
    t.ok(prom.value('max_over_time(mpc_indexer_healthy[10m])') == 1, "mpc_indexer_healthy was 1")
finally:
    for x in (prom, d):
        if x:
            x.cleanup()
    if sim:
        sim.stop()
t.done()
