#!/usr/bin/env python3
"""tee-attester in the daemon against the fake dstack agent and the fake PCCS
(tests/fakes/, serving the real fixture quote, tcb_info and collateral):
report_data and the PCCS requests follow from the real quote; a garbage,
failing, silent or absent agent, a quote of other keys, a PCCS answering 404
or garbage, and stale collateral are each counted by cause and retried, and
the daemon keeps running; dry-run writes the arguments."""
import json
import os

from tee_util import (Agent, Daemon, Pccs, Sim, Tap, fixture, mktemp, rmtree, skip_all,
                      wait_for, DAEMON, PLUGIN, PROM)


def failures(d, cause):
    return d.metric("mpc_indexer_tee_failures_total", cause=cause)


def main():
    for path in (DAEMON, PLUGIN, PROM):
        if not os.path.exists(path):
            skip_all("%s is not built" % path)
    t = Tap()
    tmp = mktemp()
    vec = fixture("report_data_v1_vector.json")
    sim = Sim("--block-ms", "100")
    near = "http://127.0.0.1:%d" % sim.port
    agent = Agent(tmp)
    pccs = Pccs(tmp)
    fast = ["backoff_initial = 50ms", "backoff_max = 300ms", "dstack_socket = %s" % agent.socket,
            "pccs_url = %s/sgx/certification/v4" % pccs.url]
    daemons = []
    try:
        # ---- the real quote: what the plugin asks for and what it fetches ----
        out = os.path.join(tmp, "args.json")
        d = Daemon(tmp, "dry", ["mode = dry-run", "tls_public_key = " + vec["tls_public_key"],
                                "signer_public_key = " + vec["account_public_key"],
                                "collateral_max_age = 36500d", "dry_run_output = " + out,
                                "refresh_interval = 200ms"] + fast,
                   near=near)
        daemons.append(d)
        t.ok(d.port is not None, "the daemon starts with tee-attester in dry-run mode", d.log_text()[-2000:])
        quotes = wait_for(lambda: [r for r in agent.requests() if r["path"] == "/GetQuote"])
        rd = json.loads(quotes[0]["body"])["report_data"] if quotes else None
        t.ok(rd == vec["report_data_hex"], "GetQuote asks the agent for report_data_v1_vector.json's report_data",
             "got %s" % rd)
        t.ok(agent.requests()[0]["path"] == "/Info" and agent.requests()[0]["method"] == "POST",
             "Info comes first, as a POST over the agent's socket")
        paths = wait_for(lambda: len(pccs.requests()) >= 4 and pccs.requests())
        t.ok(paths and "/sgx/certification/v4/pckcrl?ca=platform&encoding=der" in paths and
             "/tdx/certification/v4/tcb?fmspc=B0C06F000000" in paths and
             "/tdx/certification/v4/qe/identity?update=standard" in paths and
             "/sgx/certification/v4/rootcacrl" in paths,
             "the four PCCS requests carry the quote's FMSPC and CA type", paths)
        wait_for(lambda: os.path.exists(out) or failures(d, "pccs_issuer_chain") >= 1)
        got = None
        if os.path.exists(out):
            with open(out) as f:
                got = json.load(f)
        want = fixture("submit_participant_info_args.dstack.json")
        t.ok(got == want, "dry-run writes arguments equal to submit_participant_info_args.dstack.json",
             d.log_text()[-2000:] if got is None else "")
        t.ok(d.logged('mpc-indexer tx call mpc.test.near submit_participant_info "$(cat %s)" '
                      '--gas 300T --deposit 0 --wait' % out),
             "and logs the mpc-indexer tx call command that submits them")
        t.ok(wait_for(lambda: d.metric("mpc_indexer_tee_last_success_timestamp_seconds") > 0),
             "a dry run that wrote its arguments counts as a success")
        t.ok(failures(d, "pccs_issuer_chain") == 0,
             "the issuer chains came from the PCCS's response headers")

        # ---- a broken agent or PCCS: counted by cause, retried, no crash ----
        for mode, cause, say in (("garbage", "dstack_malformed", "not a JSON object"),
                                 ("error", "dstack_http", "tdx guest device not available"),
                                 ("close", "dstack_unreachable", "dstack agent at")):
            agent.set_mode(mode)
            n = wait_for(lambda: failures(d, cause) >= 2 and failures(d, cause))
            t.ok(n >= 2, "agent %s: failures{cause=%s} counted and retried (%s)" % (mode, cause, n))
            t.ok(d.logged(say), "agent %s: the log says '%s'" % (mode, say))
            if mode == "garbage":  # from here on every attempt fails
                written = os.stat(out).st_mtime_ns
                last = d.metric("mpc_indexer_tee_last_success_timestamp_seconds")
        agent.stop()
        n0 = failures(d, "dstack_unreachable")
        t.ok(wait_for(lambda: failures(d, "dstack_unreachable") >= n0 + 2),
             "agent gone: dstack_unreachable keeps being retried")
        pccs.set_mode("404")
        agent = Agent(tmp)
        for mode, cause, say in (("404", "pccs_http", "HTTP status 404"),
                                 ("garbage", "pccs_malformed", "PCK CRL: the body is not a CRL")):
            pccs.set_mode(mode)
            n = wait_for(lambda: failures(d, cause) >= 2 and failures(d, cause))
            t.ok(n >= 2, "PCCS %s: failures{cause=%s} counted and retried (%s)" % (mode, cause, n))
            t.ok(d.logged(say), "PCCS %s: the log says '%s'" % (mode, say))
        t.ok(os.stat(out).st_mtime_ns == written and
             d.metric("mpc_indexer_tee_last_success_timestamp_seconds") == last,
             "no failed attempt wrote arguments or counted as a success")
        pccs.set_mode("ok")
        t.ok(d.alive(), "the daemon is still running")
        t.ok(wait_for(lambda: os.stat(out).st_mtime_ns != written and
                      d.metric("mpc_indexer_tee_last_success_timestamp_seconds") > last),
             "with agent and PCCS healthy again, the next attempt succeeds")
        t.ok(d.stop() == 0, "it stops cleanly on SIGTERM")

        # ---- a quote that does not carry our keys ----
        seen = len(pccs.requests())
        other = Daemon(tmp, "other", ["mode = dry-run", "tls_public_key = " + vec["tls_public_key"],
                                      "signer_public_key = " + vec["tls_public_key"],
                                      "collateral_max_age = 36500d"] + fast, near=near)
        daemons.append(other)
        t.ok(wait_for(lambda: failures(other, "report_data_mismatch") >= 2),
             "a quote of other keys: failures{cause=report_data_mismatch}, retried")
        t.ok(other.logged("is not ours"), "the log shows both report_data values")
        t.ok(len(pccs.requests()) == seen, "no collateral is fetched for it")
        t.ok(other.stop() == 0, "no crash")

        # ---- stale collateral ----
        stale = Daemon(tmp, "stale", ["mode = dry-run", "tls_public_key = " + vec["tls_public_key"],
                                      "signer_public_key = " + vec["account_public_key"],
                                      "collateral_max_age = 1d"] + fast, near=near)
        daemons.append(stale)
        t.ok(wait_for(lambda: failures(stale, "collateral_stale") >= 2),
             "collateral issued more than collateral_max_age ago: failures{cause=collateral_stale}, retried")
        t.ok(stale.logged("days old, more than the 1.0 allowed"), "the log says how old it is")
        t.ok(stale.stop() == 0, "no crash")
    finally:
        for d in daemons:
            d.stop()
        agent.stop()
        pccs.stop()
        sim.stop()
        rmtree(tmp)
    t.done()


if __name__ == "__main__":
    main()
