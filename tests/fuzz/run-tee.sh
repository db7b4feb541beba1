#!/bin/sh
# Builds tee-attester's libFuzzer targets with clang (ASan+UBSan) and runs
# each briefly from seeds made of the real fixtures (quote, agent answers,
# PCCS answers, contract values).
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init tee libcjson libcrypto
[ -n "$PYTHON3" ] || skip_all "no python3 to make the seeds"
p="$top_srcdir/plugins/tee-attester"

# seeds: the fixtures in the shapes the readers see them
"$PYTHON3" - "$top_srcdir/tests/fixtures/tee" "$tmp" <<'PY' || exit 99
import json, os, sys
fx, out = sys.argv[1], sys.argv[2]
load = lambda n: json.load(open(os.path.join(fx, n)))
os.makedirs(out + "/fuzz_tee_quote.corpus"); os.makedirs(out + "/fuzz_tee_answers.corpus")
q = bytes(load("quote.json")); c = load("collateral.json"); t = load("tcb_info.json")
open(out + "/fuzz_tee_quote.corpus/quote.bin", "wb").write(q)
seeds = {
    "info": b"\0" + json.dumps({"tcb_info": json.dumps(t)}).encode(),
    "getquote": b"\1" + json.dumps({"quote": q.hex()}).encode(),
    "pccs": b"\2" + b"\xff\0".join([bytes.fromhex(c["pck_crl"]),
        ('{"tcbInfo":%s,"signature":"%s"}' % (c["tcb_info"], c["tcb_info_signature"])).encode(),
        ('{"enclaveIdentity":%s,"signature":"%s"}' % (c["qe_identity"], c["qe_identity_signature"])).encode(),
        c["root_ca_crl"].encode()]),
    "stored": b"\3" + b'{"Dstack":{"expiry_timestamp_seconds":1787227200}}',
    "accounts": b"\3" + b'[{"account_id":"a.near","tls_public_key":"ed25519:11111111111111111111111111111111","account_public_key":"ed25519:11111111111111111111111111111111"}]',
    "span": b"\4" + ('{"a":"}","tcbInfo":%s}' % c["tcb_info"]).encode(),
}
for k, v in seeds.items():
    open(out + "/fuzz_tee_answers.corpus/" + k, "wb").write(v)
PY

for target in fuzz_tee_quote fuzz_tee_answers; do
	fuzz_build "$target" -I"$top_srcdir/include" -I"$p" "$p/codec.c" "$p/quote.c" "$p/pck.c" \
		"$p/json_span.c" "$p/dstack.c" "$p/collateral.c" "$p/measurements.c" "$p/stored.c" \
		"$p/cause.c" &&
		fuzz_run "$target" 20000 65536
done
finish
