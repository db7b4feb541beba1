#!/usr/bin/env python3
"""tee-attester in the daemon against nearsim (signer, transactions and views
for real): the Mock submission lands and get_tee_accounts lists the node;
when nearsim drops the attestation the plugin submits again on the poll that
notices it; refresh_interval brings new submissions; the Dstack submission
of the real quote (fake agent and PCCS) lands; and the command a dry run
prints submits the same arguments by hand.  Needs the wired daemon; skips
without it."""
import json
import os
import re
import subprocess

from tee_util import (Agent, Daemon, Pccs, Sim, Tap, fixture, key_file, mktemp, rmtree, skip_all,
                      wait_for, DAEMON, PLUGIN, PROM, FIXTURES, TOP_BUILDDIR)

NEARSIM = os.path.join(TOP_BUILDDIR, "nearsim")
ACCOUNT = "frodo.test.near"


def print_key(role):
    out = subprocess.run([NEARSIM, "--print-key", "%s:%s" % (ACCOUNT, role)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def lists(sim, tls, signer_pk):
    return any(e["account_id"] == ACCOUNT and e["tls_public_key"] == tls and
               e["account_public_key"] == signer_pk for e in sim.view("get_tee_accounts"))


def submissions(d, reason):
    return d.metric("mpc_indexer_tee_submissions_total", reason=reason)


def main():
    for path in (DAEMON, PLUGIN, PROM, NEARSIM):
        if not os.path.exists(path):
            skip_all("%s is not built" % path)
    tmp = mktemp()
    vec = fixture("report_data_v1_vector.json")
    with open(os.path.join(FIXTURES, "near_account_secret_key")) as f:
        fixture_secret = f.read().strip()
    # the built-in genesis, with the fixture node's signer key on frodo as well
    genesis = json.loads(subprocess.run([NEARSIM, "--dump-genesis"], check=True,
                                        capture_output=True, text=True).stdout)
    for a in genesis["accounts"]:
        if a["account_id"] == ACCOUNT:
            a["keys"].append({"public_key": vec["account_public_key"], "permission": {
                "FunctionCall": {"allowance": None, "receiver_id": "mpc.test.near", "method_names": []}}})
    gfile = os.path.join(tmp, "genesis.json")
    with open(gfile, "w") as f:
        json.dump(genesis, f)

    sim = Sim("--block-ms", "100", "--genesis", gfile)
    near = "http://127.0.0.1:%d" % sim.port
    signer = print_key("signer")
    tls = print_key("tls")["public_key"]
    frodo = key_file(os.path.join(tmp, "frodo.json"), ACCOUNT, signer["public_key"], signer["private_key"])
    t = Tap()
    daemons = []
    agent = pccs = None
    try:
        sim.admin("/drop_attestation", {"account_id": ACCOUNT})
        unlisted = wait_for(lambda: not lists(sim, tls, signer["public_key"]))
        mock = ["mode = mock", "tls_public_key = " + tls, "poll_interval = 500ms",
                "refresh_interval = 1h", "confirm_timeout = 30s", "backoff_max = 2s"]
        d = Daemon(tmp, "mock", mock, near=near, signer=(ACCOUNT, frodo))
        daemons.append(d)
        if wait_for(lambda: d.logged("tee-attester: init failed") or d.logged("no transaction sender")
                    or d.logged("tee-attester: attestation"), limit=30) and \
                d.logged("no transaction sender"):
            d.stop()
            sim.stop()
            rmtree(tmp)
            skip_all("this daemon has no transaction sender yet (core/sources.c)")
        t.ok(unlisted, "before: get_tee_accounts does not list the node")

        # ---- the submission lands ----
        t.ok(wait_for(lambda: d.metric("mpc_indexer_tee_last_success_timestamp_seconds") > 0),
             "mock: the attestation is submitted and confirmed", d.log_text()[-3000:])
        t.ok(submissions(d, "start") == 1, "one submission, at start")
        t.ok(lists(sim, tls, signer["public_key"]), "get_tee_accounts lists the node (account, TLS key, signer key)")
        t.ok(sim.view("get_attestation", {"tls_public_key": tls}) == {"Mock": "Valid"},
             "get_attestation shows {\"Mock\":\"Valid\"}")
        t.ok(wait_for(lambda: d.metric("mpc_indexer_tee_attested") == 1),
             "the plugin sees itself listed (attested = 1)")

        # ---- nearsim drops it ----
        sim.admin("/drop_attestation", {"account_id": ACCOUNT})
        t.ok(wait_for(lambda: submissions(d, "dropped") == 1),
             "dropped: the plugin submits again (submissions{reason=dropped})")
        t.ok(wait_for(lambda: lists(sim, tls, signer["public_key"])), "and get_tee_accounts lists the node again")
        t.ok(d.logged("no longer lists this node"), "the log says it noticed on a get_tee_accounts poll")
        t.ok(submissions(d, "refresh") == 0 and submissions(d, "retry") == 0,
             "it was the poll, not the refresh timer or a retry")
        t.ok(d.metric("mpc_indexer_tee_failures_total", cause="tx_failed") == 0, "no failed transaction")
        t.ok(d.stop() == 0, "the daemon stops cleanly")

        # ---- refresh_interval ----
        r = Daemon(tmp, "refresh", ["mode = mock", "tls_public_key = " + tls, "refresh_interval = 1s",
                                    "poll_interval = 500ms"], near=near, signer=(ACCOUNT, frodo))
        daemons.append(r)
        t.ok(wait_for(lambda: submissions(r, "refresh") >= 2),
             "refresh_interval = 1s: refreshes follow the first submission")
        t.ok(r.metric("mpc_indexer_tee_failures_total", cause="not_confirmed") == 0,
             "each one confirmed")
        t.ok(r.stop() == 0, "stops cleanly")

        # ---- the real quote, submitted as Dstack ----
        agent, pccs = Agent(tmp), Pccs(tmp)
        sk = key_file(os.path.join(tmp, "fixture-node.json"), ACCOUNT, vec["account_public_key"], fixture_secret)
        ds = Daemon(tmp, "dstack", ["mode = dstack", "tls_public_key = " + vec["tls_public_key"],
                                    "dstack_socket = " + agent.socket, "pccs_url = " + pccs.url,
                                    "collateral_max_age = 36500d", "poll_interval = 500ms",
                                    "backoff_max = 1s"], near=near, signer=(ACCOUNT, sk))
        daemons.append(ds)
        t.ok(wait_for(lambda: ds.metric("mpc_indexer_tee_last_success_timestamp_seconds") > 0),
             "dstack: the real quote's attestation is submitted and confirmed", ds.log_text()[-3000:])
        att = sim.view("get_attestation", {"tls_public_key": vec["tls_public_key"]})
        t.ok(isinstance(att, dict) and "Dstack" in att and
             lists(sim, vec["tls_public_key"], vec["account_public_key"]),
             "dstack: get_attestation shows a Dstack entry; get_tee_accounts lists the fixture node")
        expiry = att.get("Dstack", {}).get("expiry_timestamp_seconds") if isinstance(att, dict) else None
        t.ok(expiry and ds.metric("mpc_indexer_tee_attestation_expiry_timestamp_seconds") == expiry,
             "the expiry gauge shows the stored expiry (%s)" % expiry)
        t.ok(submissions(ds, "start") == 1 and
             ds.metric("mpc_indexer_tee_failures_total", cause="pccs_issuer_chain") == 0,
             "one submission; the issuer chains came from the PCCS's response headers")
        t.ok(ds.stop() == 0, "stops cleanly")

        # ---- dry-run: the printed command submits the arguments by hand ----
        out = os.path.join(tmp, "args.json")
        dry = Daemon(tmp, "dry", ["mode = dry-run", "tls_public_key = " + vec["tls_public_key"],
                                  "signer_public_key = " + vec["account_public_key"],
                                  "dstack_socket = " + agent.socket, "pccs_url = " + pccs.url,
                                  "collateral_max_age = 36500d", "dry_run_output = " + out],
                     near=near)
        daemons.append(dry)
        cmd = wait_for(lambda: re.search(r"To submit them: (mpc-indexer tx call .*)$", dry.log_text(), re.M))
        cmd = cmd.group(1) if cmd else None
        t.ok(cmd and os.path.exists(out), "dry-run writes the arguments and logs a command", cmd)
        t.ok(dry.stop() == 0, "stops cleanly")
        sim.admin("/drop_attestation", {"account_id": ACCOUNT})
        t.ok(wait_for(lambda: not lists(sim, vec["tls_public_key"], vec["account_public_key"])),
             "nearsim dropped the fixture node's attestation")
        # the user adds where the configuration is (here the dstack daemon's: [near], [signer.node])
        run = subprocess.run(["sh", "-c", cmd.replace("mpc-indexer", '"$0" -c "$1"', 1),
                              DAEMON, ds.conf] if cmd else ["false"],
                             capture_output=True, text=True, timeout=120)
        t.ok(run.returncode == 0, "the printed command, run with -c CONF, succeeds",
             (run.stdout + run.stderr)[-2000:])
        t.ok(wait_for(lambda: lists(sim, vec["tls_public_key"], vec["account_public_key"]) and
                      "Dstack" in (sim.view("get_attestation", {"tls_public_key": vec["tls_public_key"]}) or {})),
             "and the attestation is stored again: get_tee_accounts lists the fixture node")
    finally:
        for x in daemons:
            x.stop()
        for x in (agent, pccs):
            if x:
                x.stop()
        sim.stop()
        rmtree(tmp)
    t.done()


if __name__ == "__main__":
    main()
