#!/usr/bin/env python3
"""nearsim: determinism for a seed, the auto-respond mode, a genesis file, --dump-genesis,
--print-key, and mainnet-sized blocks from --bg-target-bytes."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nearsim_util import Sim, Tap  # noqa: E402

t = Tap()
BIN = os.path.join(os.environ.get("top_builddir", "."), "nearsim")


def chain_of(seed, extra=()):
    sim = Sim("--manual", "--seed", str(seed), "--sign-rate", "0.5", "--auto-respond", *extra)
    try:
        sim.admin("/request", {"kind": "ckd"})
        sim.produce(30)
        blocks = sim.admin("/chain")["blocks"]
        docs = [sim.get("/v0/block/%d" % h)[2] for h in (110, 120)]
        return [(b["height"], b["hash"]) for b in blocks], docs, sim.admin("/stats")
    finally:
        sim.stop()


a, da, sa = chain_of(7)
b, db, _ = chain_of(7)
c, _, _ = chain_of(8)
t.ok(a == b and da == db, "the same seed and requests give the same chain, byte for byte")
t.ok(a != c, "another seed gives another chain")
t.ok(sa["contract"]["requests"] > 5 and sa["contract"]["responses"] > 0,
     "--sign-rate with --auto-respond: requests are made and answered (%d / %d)"
     % (sa["contract"]["requests"], sa["contract"]["responses"]))

# auto-respond: every request is answered respond-delay blocks later, X executes after that
sim = Sim("--manual", "--auto-respond", "--respond-delay", "3")
try:
    sim.admin("/request", {"kind": "sign_eddsa", "user": "user2.test.near"})
    sim.produce(12)
    outs = [(h, o) for h in range(100, sim.admin("/stats")["head"] + 1) for o in sim.outcomes(h)]

    def meth(o):
        a = o["receipt"]["receipt"]["Action"]["actions"]
        return a[0]["FunctionCall"]["method_name"] if a and "FunctionCall" in a[0] else None
    req = [(h, o) for h, o in outs if meth(o) == "sign"]
    rsp = [(h, o) for h, o in outs if meth(o) == "respond"]
    cb = [(h, o) for h, o in outs if meth(o) == "return_signature_and_clean_state_on_success"]
    t.ok(len(req) == 1 and len(rsp) == 1 and len(cb) == 1, "one request, one automatic respond, one callback")
    t.ok(rsp and rsp[0][0] >= req[0][0] + 3 and cb[0][0] > rsp[0][0], "the respond comes >= 3 blocks later, the callback after it")
    t.ok(cb and cb[0][1]["receipt"]["receipt_id"] == req[0][1]["execution_outcome"]["outcome"]["status"]["SuccessReceiptId"],
         "the callback's receipt_id is the request's SuccessReceiptId")
    t.ok(rsp and rsp[0][1]["receipt"]["predecessor_id"].endswith(".test.near") and
         "SuccessValue" in rsp[0][1]["execution_outcome"]["outcome"]["status"], "a participant answered successfully")
    sim.admin("/auto_respond", {"on": False})
    sim.admin("/request", {"kind": "sign"})
    sim.produce(10)
    t.ok(len(sim.admin("/pending")) == 1, "auto_respond off: the next request stays pending")
finally:
    sim.stop()

# --dump-genesis round trip and a custom genesis file
out = subprocess.run([BIN, "--dump-genesis", "--participants", "2", "--users", "1"], capture_output=True, text=True)
g = json.loads(out.stdout)
t.ok(out.returncode == 0 and g["contract"]["account_id"] == "mpc.test.near" and len(g["contract"]["participants"]) == 2,
     "--dump-genesis prints the built-in genesis")
g = {"chain_id": "mysim", "genesis_height": 5000,
     "accounts": [{"account_id": "alice.test.near", "keys": [{}, {"role": "signer", "permission": {"FunctionCall": {
         "allowance": None, "receiver_id": "signer.test.near", "method_names": []}}}]},
                  {"account_id": "bob.test.near", "keys": [{}]}],
     "contract": {"account_id": "signer.test.near", "threshold": 1,
                  "participants": [{"account_id": "alice.test.near", "url": "http://a:1"}]}}
tmp = tempfile.mkdtemp()
with open(os.path.join(tmp, "g.json"), "w") as f:
    json.dump(g, f)
sim = Sim("--manual", "--genesis", os.path.join(tmp, "g.json"))
try:
    st = sim.rpc("status", [])
    t.ok(st["chain_id"] == "mysim" and st["sync_info"]["earliest_block_height"] == 5000, "the genesis file sets chain_id and height")
    s = sim.view("state")
    t.ok(s["Running"]["parameters"]["participants"]["participants"][0][0] == "alice.test.near" and
         s["Running"]["parameters"]["threshold"] == 1, "the genesis file sets the participants and threshold")
    h, _ = sim.send("alice.test.near", "verify_tee", {}, role="signer", receiver="signer.test.near")
    sim.produce(5)
    r = sim.rpc("tx", {"tx_hash": h, "sender_account_id": "alice.test.near", "wait_until": "FINAL"})
    t.ok(r["status"] == {"SuccessValue": "dHJ1ZQ=="}, "a genesis function-call key signs for the contract")
finally:
    sim.stop()
bad = subprocess.run([BIN, "--genesis", "/nonexistent/g.json"], capture_output=True, text=True)
t.ok(bad.returncode != 0 and "/nonexistent/g.json" in bad.stderr, "a missing genesis file is a clear error")
bad = subprocess.run([BIN, "--shards", "0"], capture_output=True, text=True)
t.ok(bad.returncode == 2 and "--shards" in bad.stderr, "a bad flag value names the flag")

# --print-key follows nearcore's test-key convention (vectors.md V6)
k = json.loads(subprocess.run([BIN, "--print-key", "alice.near"], capture_output=True, text=True).stdout)
t.ok(k["public_key"] == "ed25519:22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbTV", "--print-key alice.near is the V6 test key")

# untrusted input: malformed requests get an error answer and the server keeps serving
sim = Sim("--manual", "--tx-timeout-ms", "200", "--neardata-wait-ms", "200")
try:
    bodies = [b"", b"{", b"[]", b"null", b'{"jsonrpc":"2.0","id":1}', b'{"method":5}',
              b'{"jsonrpc":"2.0","id":{"a":[1]},"method":"block","params":{"block_id":-1}}',
              b'{"jsonrpc":"2.0","id":1,"method":"block","params":{"block_id":1e300}}',
              b'{"jsonrpc":"2.0","id":1,"method":"block","params":{"block_id":"zzz"}}',
              b'{"jsonrpc":"2.0","id":1,"method":"block","params":[1,2]}',
              b'{"jsonrpc":"2.0","id":1,"method":"chunk","params":{"block_id":101,"shard_id":99}}',
              b'{"jsonrpc":"2.0","id":1,"method":"chunk","params":{"chunk_id":"11111111111111111111111111111111"}}',
              b'{"jsonrpc":"2.0","id":1,"method":"query","params":{"request_type":"call_function","finality":"final","account_id":"mpc.test.near","method_name":"get_pending_request","args_base64":"e30="}}',
              b'{"jsonrpc":"2.0","id":1,"method":"query","params":{"request_type":"call_function","finality":"final","account_id":"mpc.test.near","method_name":"state","args_base64":"!!!"}}',
              b'{"jsonrpc":"2.0","id":1,"method":"query","params":{"request_type":"call_function","finality":"final","account_id":"nobody.near","method_name":"x","args_base64":""}}',
              b'{"jsonrpc":"2.0","id":1,"method":"send_tx","params":{"signed_tx_base64":"AAAA"}}',
              b'{"jsonrpc":"2.0","id":1,"method":"send_tx","params":{"signed_tx_base64":"' + b"A" * 4000 + b'"}}',
              b'{"jsonrpc":"2.0","id":1,"method":"tx","params":{"tx_hash":"x"}}',
              b'{"jsonrpc":"2.0","id":1,"method":"tx","params":{"tx_hash":"11111111111111111111111111111111","sender_account_id":"a.near"}}',
              b'{"jsonrpc":"2.0","id":1,"method":"nope","params":[]}',
              b"[" * 5000, b'{"a":' * 3000]
    answered = 0
    for body in bodies:
        st, hdr, out = sim.http("POST", "/", body)
        try:
            doc = json.loads(out)
            answered += 1 if ("error" in doc or "result" in doc) else 0
        except ValueError:
            pass
    t.ok(answered == len(bodies), "every malformed JSON-RPC request gets a JSON-RPC answer (%d/%d)" % (answered, len(bodies)))
    for path in ("/v0/block/", "/v0/block/99999999999999999999999", "/v0/block/101/shard/99", "/v0/block/101/x",
                 "/v0/block_opt/-3", "/nothing", "/admin/nothing"):
        st, _, _ = sim.get(path)
        t.ok(400 <= st < 500 or st == 200, "GET %s answers %d" % (path, st))
    for body in (b"{", b'{"kind":"xx"}', b'{"kind":"rpc","5xx":7}', b'{"kind":"rpc","bogus":1}'):
        st, _, _ = sim.http("POST", "/admin/faults", body)
        t.ok(st == 400, "admin faults rejects %r" % body)
    sim.admin("/faults", {"kind": "rpc", "lag_blocks": 1000000})
    t.ok(sim.rpc("status", [])["sync_info"]["latest_block_height"] == 100, "a lag beyond genesis shows the oldest block")
    sim.admin("/faults", {"kind": "rpc", "lag_blocks": 0})
    t.ok(sim.rpc("status", [])["chain_id"] == "nearsim", "the server still serves after all that")
finally:
    rc = sim.stop()
t.ok(rc == 0, "and exits 0")

# mainnet-sized documents
sim = Sim("--manual", "--shards", "9", "--bg-target-bytes", "300000")
try:
    sim.produce(40)
    size = len(sim.get("/v0/block/%d" % sim.admin("/stats")["final"])[2])
    t.ok(250000 <= size <= 350000, "--shards 9 --bg-target-bytes 300000: a block document of %d bytes" % size)
    doc = sim.block(sim.admin("/stats")["final"])
    t.ok(len(doc["shards"]) == 9 and all(s["chunk"]["transactions"] for s in doc["shards"]), "9 shards, each with transactions")
finally:
    sim.stop()
t.done()
