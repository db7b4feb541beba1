#!/bin/sh
# Builds tee-attester's libFuzzer targets with clang (ASan+UBSan) and runs
# each briefly from seeds made of the real fixtures (quote, agent answers,
# PCCS answers, contract values).
. "$top_srcdir/tests/tap.sh"

[ -n "$CLANG" ] || skip_all "no clang (configure found none)"
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang '$CLANG' not runnable"
[ -n "$PYTHON3" ] || skip_all "no python3 to make the seeds"
deps=$(pkg-config --cflags --libs libcjson libcrypto 2>/dev/null) ||
	skip_all "pkg-config cannot find libcjson/libcrypto"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-tee.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
p="$top_srcdir/plugins/tee-attester"
srcs="$p/codec.c $p/quote.c $p/pck.c $p/json_span.c $p/dstack.c $p/collateral.c \
$p/measurements.c $p/stored.c $p/cause.c"

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
	# shellcheck disable=SC2086 # word splitting of $srcs and $deps is intended
	if ! "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -I"$top_srcdir/include" -I"$p" -o "$tmp/$target" \
		"$top_srcdir/tests/fuzz/$target.c" $srcs $deps >"$tmp/$target.build" 2>&1; then
		sed 's/^/# /' "$tmp/$target.build"
		not_ok "$target builds"
		continue
	fi
	if "$tmp/$target" -runs=20000 -max_len=65536 -seed=1 "$tmp/$target.corpus" \
		>"$tmp/$target.log" 2>&1; then
		ok "$target: 20000 runs clean, corpus of $(ls "$tmp/$target.corpus" | wc -l)"
	else
		tail -n 30 "$tmp/$target.log" | sed 's/^/# /'
		not_ok "$target: 20000 runs clean"
	fi
done
finish
