#!/bin/sh
# Builds the fuzzer of what the transaction sender reads (key files and
# variables, gas, deposits, request checks, RPC outcomes) with clang
# (ASan+UBSan) and runs it briefly, seeded with tests/fixtures/tx/corpus and
# the `result` of each recorded RPC answer.  FUZZ_RUNS=N runs longer.
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init tx libsodium libcjson libcrypto inih
libs=-lm
c="$top_srcdir/core"
near="$c/near"
fuzz_seeds fuzz_tx_inputs "$top_srcdir/tests/fixtures/tx/corpus/fuzz_tx_inputs"
# txoutcome_judge takes the `result` member, at three wanted levels
if command -v python3 >/dev/null 2>&1; then
	python3 - "$top_srcdir/tests/fixtures/rpc" "$fuzz_corpus" <<'PY' || diag "no RPC outcome seeds"
import glob, json, os, sys
for f in glob.glob(sys.argv[1] + "/*.json"):
    d = json.load(open(f))
    r = d.get("result", d.get("error"))
    for lv in (0, 3, 5):
        with open("%s/outcome-%d-%s" % (sys.argv[2], lv, os.path.basename(f)), "wb") as o:
            o.write(bytes([4, lv]) + json.dumps(r).encode())
PY
fi
fuzz_build fuzz_tx_inputs -I"$c" -I"$top_srcdir/include" "$c/keyfile.c" "$c/config.c" \
	"$c/txcheck.c" "$c/json_scan.c" "$c/txoutcome.c" "$near/base58.c" "$near/base64.c" \
	"$near/hash.c" "$near/borsh.c" "$near/u128.c" "$near/account_id.c" "$near/keys.c" \
	"$near/tx.c" &&
	fuzz_one fuzz_tx_inputs 20000 4096
finish
