#!/usr/bin/env python3
"""Acceptance 1: nearsim answers every JSON-RPC method and neardata endpoint with the key
sets and JSON types of the recorded fixtures (tests/fixtures/rpc, the Lake block and shard)."""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nearsim_util import Sim, Tap, fixture, shape_diff  # noqa: E402

# Fields nearsim emits that a given fixture predates; each is present in a newer real fixture.
NEW_CHUNK_HEADER = ("congestion_info", "bandwidth_requests")           # chunk_by_id_testnet (2025)
NEW_RECEIPT = ("priority", "is_promise_yield")                          # EXPERIMENTAL_receipt (2025)
NEW_TX = ("priority_fee",)                                              # chunk_by_id_testnet (2025)
NEW_OUTCOME = ("metadata",)                                             # EXPERIMENTAL_tx_status (2025)
NEARDATA = ("local_receipts", "tx_hash")                                # neardata BlockWithTxHashes

t = Tap()
notes = []


def same(desc, fix, act, allow=()):
    d = shape_diff(fix, act, allow_extra=allow, notes=notes)
    t.ok(not d, desc, *d)


sim = Sim("--manual", "--shards", "3", "--bg-tx", "2", "--tx-validity", "1000", "--tx-timeout-ms", "4000")
try:
    c = sim.contract
    sim.produce(3)

    # A function call, included and executed, so that chunks, receipts and outcomes exist.
    h1, res = sim.send("frodo.test.near", "submit_participant_info",
                       fixture("nearsim", "submit_participant_info_mock.json"), wait="NONE")
    same("send_tx wait_until NONE", fixture("rpc", "send_tx_wait_none.response.json")["result"], res)
    sim.produce(6)

    # status
    st, doc = sim.rpc_raw("status", [])
    same("status", fixture("rpc", "status_testnet.response.json"), doc)
    t.ok(st == 200 and doc["result"]["chain_id"] == "nearsim", "status: HTTP 200, chain_id nearsim")

    lake_block = fixture("nearsim", "lake_localnet_879765_block.json")
    lake_shard = fixture("nearsim", "lake_localnet_879765_shard_0.json")

    # block by finality and by block_id (height and hash)
    fin = sim.rpc("block", {"finality": "final"})
    same("block {finality: final} vs the Lake BlockView", lake_block, fin, NEW_CHUNK_HEADER)
    for f in ("optimistic", "near-final"):
        same("block {finality: %s}" % f, lake_block, sim.rpc("block", {"finality": f}), NEW_CHUNK_HEADER)
    byh = sim.rpc("block", {"block_id": fin["header"]["height"]})
    t.ok(byh == fin, "block {block_id: height} equals the final block")
    byhash = sim.rpc("block", {"block_id": fin["header"]["hash"]})
    t.ok(byhash == fin, "block {block_id: hash} equals the final block")
    st, doc = sim.rpc_raw("block", {"block_id": 99999999})
    t.ok(doc.get("error", {}).get("cause", {}).get("name") == "UNKNOWN_BLOCK", "block beyond the head: UNKNOWN_BLOCK")

    # the block that included the transaction
    status = sim.rpc("tx", {"tx_hash": h1, "sender_account_id": "frodo.test.near", "wait_until": "NONE"})
    incl = sim.rpc("block", {"block_id": status["transaction_outcome"]["block_hash"]})
    hh = incl["header"]["height"]

    # chunk by chunk_id and by block_id + shard_id
    chunk_fix = fixture("rpc", "chunk_by_id_testnet.response.json")
    receipt_fix = lake_shard["chunk"]["receipts"][0]
    for ch in incl["chunks"]:
        st, doc = sim.rpc_raw("chunk", {"chunk_id": ch["chunk_hash"]})
        if doc["result"]["transactions"]:
            break
    same("chunk {chunk_id} vs chunk_by_id_testnet", chunk_fix, doc)
    st2, doc2 = sim.rpc_raw("chunk", {"block_id": hh, "shard_id": ch["shard_id"]})
    t.ok(doc2["result"] == doc["result"], "chunk {block_id, shard_id} equals chunk {chunk_id}")
    nxt = sim.rpc("chunk", {"block_id": hh + 1, "shard_id": ch["shard_id"]})
    t.ok(len(nxt["receipts"]) > 0, "the next chunk of that shard ships the outgoing receipts")
    for r in nxt["receipts"]:
        same("chunk.receipts[] vs the Lake ReceiptView", receipt_fix, r, NEW_RECEIPT)
        break

    # query: call_function (success and the legacy in-band error), view_access_key
    st, doc = sim.rpc_raw("query", {"request_type": "call_function", "finality": "final", "account_id": c,
                                    "method_name": "version", "args_base64": ""})
    same("query call_function", fixture("rpc", "call_function_get_greeting.response.json"), doc)
    t.ok(bytes(doc["result"]["result"]) == b'"3.14.0"', "call_function version returns \"3.14.0\"")
    st, doc = sim.rpc_raw("query", {"request_type": "call_function", "finality": "final", "account_id": c,
                                    "method_name": "no_such_method", "args_base64": ""}, rpc_id=20)
    same("query call_function unknown method: legacy result.error", fixture("rpc", "query_call_function_panic.response.json"), doc)
    app_pk = json.loads(os.popen(os.path.join(os.environ.get("top_builddir", "."), "nearsim") +
                                 " --print-key user0.test.near:app").read())["public_key"]
    st, doc = sim.rpc_raw("query", {"request_type": "view_access_key", "finality": "final",
                                    "account_id": "user0.test.near", "public_key": app_pk})
    same("query view_access_key (FunctionCall key)", fixture("rpc", "view_access_key.response.json"), doc)
    st, doc = sim.rpc_raw("query", {"request_type": "view_access_key", "finality": "final",
                                    "account_id": "user0.test.near", "public_key": "ed25519:" + "1" * 32})
    t.ok("does not exist while viewing" in doc["result"].get("error", ""), "view_access_key of a missing key: legacy result.error")

    # gas_price
    for p in ([None], [hh], {"block_id": hh}):
        st, doc = sim.rpc_raw("gas_price", p)
        same("gas_price %s" % json.dumps(p), fixture("rpc", "gas_price.response.json"), doc)

    # tx / EXPERIMENTAL_tx_status
    commit_fix = fixture("rpc", "broadcast_tx_commit.response.json")
    st, doc = sim.rpc_raw("tx", {"tx_hash": h1, "sender_account_id": "frodo.test.near", "wait_until": "FINAL"})
    same("tx", commit_fix, doc, NEW_TX + NEW_OUTCOME)
    st, doc = sim.rpc_raw("tx", [h1, "frodo.test.near"])
    same("tx (positional params)", commit_fix, doc, NEW_TX + NEW_OUTCOME)
    st, doc = sim.rpc_raw("EXPERIMENTAL_tx_status", {"tx_hash": h1, "sender_account_id": "frodo.test.near", "wait_until": "FINAL"})
    same("EXPERIMENTAL_tx_status", fixture("rpc", "EXPERIMENTAL_tx_status.response.json"), doc)
    rid = sim.rpc("EXPERIMENTAL_tx_status", {"tx_hash": h1, "sender_account_id": "frodo.test.near"})["receipts_outcome"][0]["id"]
    st, doc = sim.rpc_raw("EXPERIMENTAL_receipt", {"receipt_id": rid})
    same("EXPERIMENTAL_receipt", fixture("rpc", "EXPERIMENTAL_receipt.response.json"), doc)
    st, doc = sim.rpc_raw("tx", {"tx_hash": "11111111111111111111111111111111", "sender_account_id": "x.near", "wait_until": "NONE"})
    t.ok(doc.get("error", {}).get("cause", {}).get("name") == "UNKNOWN_TRANSACTION", "tx of an unknown hash: UNKNOWN_TRANSACTION")

    # broadcast_tx_async and broadcast_tx_commit (a producer thread makes blocks meanwhile)
    stop = threading.Event()

    def producer():
        while not stop.is_set():
            try:
                sim.produce(1)
            except Exception:
                pass
            time.sleep(0.02)

    th = threading.Thread(target=producer)
    th.start()
    try:
        s = sim.sign("sam.test.near", "submit_participant_info", fixture("nearsim", "submit_participant_info_mock.json"))
        st, doc = sim.rpc_raw("broadcast_tx_async", [s["signed_tx_base64"]])
        same("broadcast_tx_async", fixture("rpc", "broadcast_tx_async.response.json"), doc)
        t.ok(doc["result"] == s["tx_hash"], "broadcast_tx_async returns the transaction hash")
        s = sim.sign("merry.test.near", "verify_tee", {}, role="signer")
        st, doc = sim.rpc_raw("broadcast_tx_commit", [s["signed_tx_base64"]])
        same("broadcast_tx_commit", commit_fix, doc, NEW_TX + NEW_OUTCOME)
        t.ok(doc["result"]["status"] == {"SuccessValue": "dHJ1ZQ=="}, "broadcast_tx_commit: verify_tee returns true")
        # send_tx at every wait_until level
        for lvl in ("NONE", "INCLUDED", "EXECUTED_OPTIMISTIC", "INCLUDED_FINAL", "EXECUTED", "FINAL"):
            s = sim.sign("pippin.test.near" if False else "sam.test.near", "verify_tee", {}, role="signer")
            st, doc = sim.rpc_raw("send_tx", {"signed_tx_base64": s["signed_tx_base64"], "wait_until": lvl})
            res = doc.get("result", {})
            if lvl == "NONE":
                t.ok(res == {"final_execution_status": "NONE"}, "send_tx wait_until NONE")
                continue
            fix = commit_fix
            if res.get("status") == "Started":
                # not executed yet: FinalExecutionStatus is the bare string "Started", no receipt outcomes
                fix = json.loads(json.dumps(commit_fix))
                fix["result"]["status"] = "Started"
                fix["result"]["receipts_outcome"] = []
            okl = {"INCLUDED": ("INCLUDED", "EXECUTED_OPTIMISTIC", "INCLUDED_FINAL", "EXECUTED", "FINAL"),
                   "EXECUTED_OPTIMISTIC": ("EXECUTED_OPTIMISTIC", "EXECUTED", "FINAL"),
                   "INCLUDED_FINAL": ("INCLUDED_FINAL", "EXECUTED", "FINAL"),
                   "EXECUTED": ("EXECUTED", "FINAL"), "FINAL": ("FINAL",)}[lvl]
            t.ok(res.get("final_execution_status") in okl, "send_tx wait_until %s answers %s" % (lvl, res.get("final_execution_status")), json.dumps(doc)[:500])
            same("send_tx wait_until %s shape" % lvl, fix, doc, NEW_TX + NEW_OUTCOME)
    finally:
        stop.set()
        th.join()

    # neardata: /v0/block/{h}, /v0/block_opt/{h}, redirects, health, null, 404
    doc = sim.block(hh)
    same("neardata block: .block vs the Lake BlockView", lake_block, doc["block"], NEW_CHUNK_HEADER)
    shard = [s for s in doc["shards"] if s["chunk"]["transactions"]][0]
    same("neardata block: .shards[] vs the Lake shard", lake_shard, shard, NEW_CHUNK_HEADER + NEW_RECEIPT + NEW_TX + NEARDATA)
    doc = sim.block(hh + 1)
    shard = [s for s in doc["shards"] if s["receipt_execution_outcomes"]][0]
    same("neardata block h+1: receipt_execution_outcomes vs the Lake shard", lake_shard["receipt_execution_outcomes"],
         shard["receipt_execution_outcomes"], NEW_RECEIPT + NEARDATA)
    t.ok(all(o["tx_hash"] for o in shard["receipt_execution_outcomes"]), "neardata: every outcome carries tx_hash")
    head = sim.admin("/stats")["head"]
    fin_h = sim.admin("/stats")["final"]
    st, hdr, body = sim.get("/v0/block_opt/%d" % head)
    same("neardata block_opt head", lake_block, json.loads(body)["block"], NEW_CHUNK_HEADER)
    st, hdr, body = sim.get("/v0/block_opt/%d" % (fin_h - 1))
    t.ok(st == 302 and hdr.get("Location") == "/v0/block/%d" % (fin_h - 1), "block_opt of a final height: 302 to /v0/block")
    st, hdr, body = sim.get("/v0/last_block/final")
    t.ok(st == 302 and hdr.get("Location") == "/v0/block/%d" % fin_h, "last_block/final: 302 to the final height", hdr)
    st, hdr, body = sim.get("/v0/last_block/optimistic")
    t.ok(st == 302 and hdr.get("Location") == "/v0/block_opt/%d" % head, "last_block/optimistic: 302 to the head", hdr)
    st, hdr, body = sim.get("/v0/last_block/final/headers")
    t.ok(st == 302 and hdr.get("Location") == "/v0/block/%d/headers" % fin_h, "last_block keeps a suffix")
    st, hdr, body = sim.get("/v0/first_block")
    t.ok(st == 302 and hdr.get("Location") == "/v0/block/100", "first_block: 302 to genesis")
    st, hdr, body = sim.get("/health")
    t.ok(st == 200 and json.loads(body) == {"status": "ok"}, "/health")
    st, hdr, body = sim.get("/v0/block/%d" % (fin_h + 11))
    t.ok(st == 404 and json.loads(body)["type"] == "BLOCK_DOES_NOT_EXIST", "a height > 10 beyond final: 404")
    st, hdr, body = sim.get("/v0/block/5")
    t.ok(st == 404 and json.loads(body)["type"] == "BLOCK_HEIGHT_TOO_LOW", "below genesis: 404 BLOCK_HEIGHT_TOO_LOW")
    st, hdr, body = sim.get("/v0/block/abc")
    t.ok(st == 400, "non-numeric height: 400")
    sim.admin("/chain", {"skip_next": 1})
    out = sim.produce(1)
    skipped = out["head"] - 1
    sim.produce(3)
    st, hdr, body = sim.get("/v0/block/%d" % skipped)
    t.ok(st == 200 and body == b"null", "a skipped height answers null")
    st, doc = sim.rpc_raw("block", {"block_id": skipped})
    t.ok(st == 422 and doc["error"]["cause"]["name"] == "UNKNOWN_BLOCK", "RPC block of a skipped height: 422 UNKNOWN_BLOCK")
    # a near-future height waits for its block
    fin_h = sim.admin("/stats")["final"]
    res = {}

    def fetch():
        res["r"] = sim.get("/v0/block/%d" % (fin_h + 2))

    th = threading.Thread(target=fetch)
    th.start()
    time.sleep(0.3)
    waiting = th.is_alive()
    sim.produce(3)
    th.join(20)
    t.ok(waiting and res.get("r", (0,))[0] == 200 and json.loads(res["r"][2])["block"]["header"]["height"] == fin_h + 2,
         "a height just beyond final waits and is then served")

    # contract views against the derived state fixtures
    same("view state (Running) vs the current-format fixture", fixture("nearsim", "state_running_current_format.json"), sim.view("state"))
    sim.admin("/reshare", {})
    sim.produce(5)
    same("view state (Resharing) vs the fixture", fixture("nearsim", "state_resharing.json"), sim.view("state"))
finally:
    for n in notes[:20]:
        t.diag("note: " + n)
    rc = sim.stop()
t.ok(rc == 0, "nearsim exits 0 on SIGTERM")
t.done()
