#!/usr/bin/env python3
"""Acceptance 3: the MPC contract scenario end to end on nearsim (manual blocks):
a sign request yields (SuccessReceiptId X), a respond makes X execute in a later block,
a second request times out after exactly 200 blocks, a resharing moves the epoch, an
attestation changes get_tee_accounts, and a migration start / conclude changes migration_info."""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nearsim_util import Sim, Tap, fixture, tweak  # noqa: E402

t = Tap()
C = None


def find(sim, lo, hi, pred):
    """(height, outcome) of the first receipt outcome in [lo, hi] matching pred."""
    for h in range(lo, hi + 1):
        for o in sim.outcomes(h):
            if pred(o):
                return h, o
    return None, None


def method_of(o):
    acts = o["receipt"]["receipt"].get("Action", {}).get("actions", [])
    return acts[0]["FunctionCall"]["method_name"] if len(acts) == 1 and "FunctionCall" in acts[0] else None


sim = Sim("--manual", "--reshare-blocks", "6", "--tx-timeout-ms", "3000")
try:
    C = sim.contract
    start = sim.admin("/stats")["head"]

    # --- 1. a sign request yields: its receipt outcome is SuccessReceiptId(X)
    req = sim.admin("/request", {"kind": "sign", "user": "user1.test.near", "path": "nearsim-path"})
    sim.produce(3)
    head = sim.admin("/stats")["head"]
    h_req, o_req = find(sim, start, head, lambda o: o["execution_outcome"]["outcome"]["executor_id"] == C and method_of(o) == "sign")
    st = o_req and o_req["execution_outcome"]["outcome"]["status"]
    t.ok(o_req is not None and "SuccessReceiptId" in st, "the sign receipt executes on the contract with SuccessReceiptId(X)", st)
    x = st["SuccessReceiptId"]
    t.ok(o_req["tx_hash"] == req["tx_hash"], "its outcome names the user's transaction (neardata tx_hash)")
    t.ok(o_req["receipt"]["predecessor_id"] == "user1.test.near", "predecessor is the user")
    args = json.loads(base64.b64decode(o_req["receipt"]["receipt"]["Action"]["actions"][0]["FunctionCall"]["args"]))
    payload = args["request"]["payload_v2"]["Ecdsa"]
    t.ok(args["request"]["path"] == "nearsim-path" and len(payload) == 64, "sign args follow the fixture shape (path, payload_v2, domain_id)")
    request = {"tweak": tweak("user1.test.near", "nearsim-path"), "payload": {"Ecdsa": payload}, "domain_id": 0}
    sim.produce(2)
    pend = sim.view("get_pending_request", {"request": request})
    t.ok(isinstance(pend, dict) and len(pend.get("data_id", [])) == 32, "get_pending_request shows the yield's data_id", pend)

    # --- 2. respond from an attested participant (its function-call signer key) resumes X
    resp = fixture("nearsim", "respond_ecdsa.json")["response"]
    h_resp_tx, _ = sim.send("sam.test.near", "respond", {"request": request, "response": resp}, role="signer")
    sim.produce(4)
    head = sim.admin("/stats")["head"]
    h_x, o_x = find(sim, h_req + 1, head, lambda o: o["receipt"]["receipt_id"] == x)
    h_r, o_r = find(sim, h_req + 1, head, lambda o: method_of(o) == "respond")
    t.ok(o_r is not None and "SuccessValue" in o_r["execution_outcome"]["outcome"]["status"], "respond executes successfully")
    t.ok(o_x is not None and h_x > h_r, "callback receipt X executes in a later block than respond (%s > %s)" % (h_x, h_r))
    t.ok(o_x and method_of(o_x) == "return_signature_and_clean_state_on_success", "X is return_signature_and_clean_state_on_success")
    t.ok(o_x and o_x["receipt"]["receiver_id"] == C and o_x["receipt"]["predecessor_id"] == C, "X: contract to contract")
    cb_args = json.loads(base64.b64decode(o_x["receipt"]["receipt"]["Action"]["actions"][0]["FunctionCall"]["args"]))
    t.ok(cb_args == [request], "X's args are the 1-element array [request]", cb_args)
    val = o_x["execution_outcome"]["outcome"]["status"].get("SuccessValue")
    t.ok(val is not None and json.loads(base64.b64decode(val)) == resp, "X returns the response to the user")
    sim.produce(3)
    t.ok(sim.view("get_pending_request", {"request": request}) is None, "get_pending_request is null after the respond")
    txs = sim.rpc("tx", {"tx_hash": req["tx_hash"], "sender_account_id": "user1.test.near", "wait_until": "EXECUTED_OPTIMISTIC"})
    t.ok(txs["status"].get("SuccessValue") == val, "the user's sign tx resolves to the signature")
    st, doc = sim.rpc_raw("send_tx", {"signed_tx_base64": sim.sign("sam.test.near", "respond", {"request": request, "response": resp},
                                                                    role="signer")["signed_tx_base64"], "wait_until": "EXECUTED_OPTIMISTIC"})
    t.ok(doc.get("error", {}).get("cause", {}).get("name") == "TIMEOUT_ERROR" or
         "RequestNotFound" in json.dumps(doc), "a second respond to the same request finds nothing (or waits)", json.dumps(doc)[:300])
    sim.produce(3)
    h_dup, o_dup = find(sim, h_x, sim.admin("/stats")["head"], lambda o: method_of(o) == "respond" and "Failure" in o["execution_outcome"]["outcome"]["status"])
    t.ok(o_dup is not None and "RequestNotFound" in json.dumps(o_dup["execution_outcome"]["outcome"]["status"]), "a late respond fails with RequestNotFound")

    # a respond signed by a key the contract did not record at attestation time is refused
    lo = sim.admin("/stats")["head"]
    sim.admin("/request", {"kind": "sign", "user": "user2.test.near", "path": "p3"})
    sim.produce(2)
    _, o3 = find(sim, lo, lo + 2, lambda o: method_of(o) == "sign")
    a3 = json.loads(base64.b64decode(o3["receipt"]["receipt"]["Action"]["actions"][0]["FunctionCall"]["args"]))
    r3 = {"tweak": tweak("user2.test.near", "p3"), "payload": a3["request"]["payload_v2"], "domain_id": 0}
    h3, _ = sim.send("sam.test.near", "respond", {"request": r3, "response": resp})  # full-access key, not the attested one
    sim.produce(3)
    r = sim.rpc("tx", {"tx_hash": h3, "sender_account_id": "sam.test.near", "wait_until": "EXECUTED_OPTIMISTIC"})
    t.ok("InvalidTeeRemoteAttestation" in json.dumps(r["status"]), "respond signed with a key other than the attested one fails")
    t.ok(sim.view("get_pending_request", {"request": r3}) is not None, "that request stays pending")

    # --- 3. a second request times out after 200 blocks
    lo = sim.admin("/stats")["head"]
    req2 = sim.admin("/request", {"kind": "ckd", "user": "user0.test.near", "path": "ckd-path"})
    sim.produce(2)
    h2, o2 = find(sim, lo, lo + 2, lambda o: method_of(o) == "request_app_private_key")
    x2 = o2 and o2["execution_outcome"]["outcome"]["status"].get("SuccessReceiptId")
    t.ok(x2 is not None, "the CKD request yields SuccessReceiptId(X2)")
    sim.produce(h2 + 199 - sim.admin("/stats")["head"])
    hx2, _ = find(sim, h2 + 1, h2 + 199, lambda o: o["receipt"]["receipt_id"] == x2)
    t.ok(hx2 is None, "X2 has not executed 199 blocks after the request")
    sim.produce(3)
    hx2, ox2 = find(sim, h2 + 200, h2 + 200, lambda o: o["receipt"]["receipt_id"] == x2)
    t.ok(hx2 == h2 + 200, "X2 executes exactly 200 blocks after the request (%s, %s)" % (h2, hx2))
    t.ok(ox2 and method_of(ox2) == "return_ck_and_clean_state_on_success", "X2 is return_ck_and_clean_state_on_success")
    f_id = ox2 and ox2["execution_outcome"]["outcome"]["status"].get("SuccessReceiptId")
    hf, of = find(sim, h2 + 201, h2 + 201, lambda o: o["receipt"]["receipt_id"] == f_id)
    t.ok(of and method_of(of) == "fail_on_timeout" and "Failure" in of["execution_outcome"]["outcome"]["status"],
         "the timeout schedules fail_on_timeout, which fails, in the next block")
    txs = sim.rpc("tx", {"tx_hash": req2["tx_hash"], "sender_account_id": "user0.test.near", "wait_until": "EXECUTED_OPTIMISTIC"})
    t.ok("Failure" in txs["status"], "the user's CKD tx ends in Failure")
    # the sign request of user2 timed out as well (nobody answered it)
    t.ok(sim.admin("/stats")["contract"]["timeouts"] >= 2, "nearsim counts the timeouts")

    # --- 4. resharing: Running -> Resharing -> Running with epoch + 1
    e0 = sim.view("state")["Running"]["keyset"]["epoch_id"]
    sim.admin("/reshare", {})
    sim.produce(3)
    s = sim.view("state")
    t.ok("Resharing" in s and s["Resharing"]["resharing_key"]["epoch_id"] == e0 + 1, "state is Resharing towards epoch + 1")
    sim.produce(8)
    s = sim.view("state")
    t.ok("Running" in s and s["Running"]["keyset"]["epoch_id"] == e0 + 1, "back to Running with keyset.epoch_id = %d" % (e0 + 1))

    # --- 5. attestation: submit_participant_info changes get_tee_accounts
    before = sim.view("get_tee_accounts")
    mock = fixture("nearsim", "submit_participant_info_mock.json")
    h_att, _ = sim.send("frodo.test.near", "submit_participant_info", mock, role="signer")
    sim.produce(4)
    after = sim.view("get_tee_accounts")
    signer_pk = json.loads(os.popen(os.path.join(os.environ.get("top_builddir", "."), "nearsim") +
                                    " --print-key frodo.test.near:signer").read())["public_key"]
    new = [a for a in after if a not in before]
    t.ok(len(after) == len(before) + 1 and new == [{"account_id": "frodo.test.near", "tls_public_key": mock["tls_public_key"],
                                                    "account_public_key": signer_pk}],
         "get_tee_accounts gains frodo's new TLS key with the signing key", new)
    t.ok(sim.view("get_attestation", {"tls_public_key": mock["tls_public_key"]}) == {"Mock": "Valid"}, "get_attestation returns {Mock: Valid}")
    dstack = fixture("nearsim", "submit_participant_info_dstack_real_localnet_tdx_data.json")
    dstack["tls_public_key"] = json.loads(os.popen(os.path.join(os.environ.get("top_builddir", "."), "nearsim") +
                                                   " --print-key sam.test.near:tls2").read())["public_key"]
    sim.send("sam.test.near", "submit_participant_info", dstack, role="signer")
    sim.produce(4)
    att = sim.view("get_attestation", {"tls_public_key": dstack["tls_public_key"]})
    m = att and att.get("Dstack", {}).get("measurements", {})
    t.ok(att and set(att["Dstack"]) == {"mpc_image_hash", "launcher_compose_hash", "expiry_timestamp_seconds", "measurements"}
         and m.get("mrtd", "").startswith("f06dfda6") and len(m.get("key_provider_event_digest", "")) == 96,
         "a Dstack submission is stored (unverified) with measurements from tcb_info", att)
    sim.admin("/drop_attestation", {"tls_public_key": dstack["tls_public_key"]})
    sim.produce(3)
    t.ok(sim.view("get_attestation", {"tls_public_key": dstack["tls_public_key"]}) is None, "/admin/drop_attestation removes it")

    # --- 6. migration: start (operator, 1 yocto) and conclude (destination signer key)
    t.ok(sim.view("migration_info") == {}, "migration_info starts empty")
    sim.send("frodo.test.near", "register_backup_service", fixture("nearsim", "register_backup_service.json"), deposit="1")
    dest = {"destination_node_info": {"signer_account_pk": signer_pk,
                                      "destination_node_info": {"url": "https://frodo-new.example.org",
                                                                "tls_public_key": mock["tls_public_key"]}}}
    sim.send("frodo.test.near", "start_node_migration", dest, deposit="1")
    sim.produce(4)
    mi = sim.view("migration_info")
    t.ok(mi == {"frodo.test.near": [fixture("nearsim", "register_backup_service.json")["backup_service_info"], dest["destination_node_info"]]},
         "migration_info shows the backup service and the destination", mi)
    keyset = sim.view("state")["Running"]["keyset"]
    sim.send("frodo.test.near", "conclude_node_migration", {"keyset": keyset}, role="signer")
    sim.produce(4)
    mi = sim.view("migration_info")
    t.ok(mi == {"frodo.test.near": [fixture("nearsim", "register_backup_service.json")["backup_service_info"], None]},
         "conclude_node_migration removes the destination from migration_info", mi)
    parts = sim.view("state")["Running"]["parameters"]["participants"]["participants"]
    fr = [p for p in parts if p[0] == "frodo.test.near"][0]
    t.ok(fr[2] == {"url": "https://frodo-new.example.org", "tls_public_key": mock["tls_public_key"]},
         "the participant's url and TLS key are now the destination's", fr)
    # a start by a non-participant fails
    h_bad, _ = sim.send("user3.test.near", "start_node_migration", dest, deposit="1")
    sim.produce(3)
    r = sim.rpc("tx", {"tx_hash": h_bad, "sender_account_id": "user3.test.near", "wait_until": "EXECUTED_OPTIMISTIC"})
    t.ok("NotParticipant" in json.dumps(r["status"]), "start_node_migration by a non-participant fails (NotParticipant)")
finally:
    rc = sim.stop()
t.ok(rc == 0, "nearsim exits 0")
t.done()
