#!/bin/sh
# Builds the fuzzer of what the transaction sender reads (key files and
# variables, gas, deposits, request checks, RPC outcomes) with clang
# (ASan+UBSan) and runs it briefly, seeded with tests/fixtures/tx/corpus and
# the `result` of each recorded RPC answer.  FUZZ_RUNS=N runs longer.
. "$top_srcdir/tests/tap.sh"

[ -n "$CLANG" ] || skip_all "no clang (configure found none)"
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang '$CLANG' not runnable"
deps=$(pkg-config --cflags --libs libsodium libcjson libcrypto inih 2>/dev/null) ||
	skip_all "pkg-config cannot find libsodium/libcjson/libcrypto/inih"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-tx.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
target=fuzz_tx_inputs
runs=${FUZZ_RUNS:-20000}
c="$top_srcdir/core"
near="$c/near"
mkdir -p "$tmp/corpus"
cp "$top_srcdir/tests/fixtures/tx/corpus/$target"/* "$tmp/corpus/"
# txoutcome_judge takes the `result` member, at three wanted levels
if command -v python3 >/dev/null 2>&1; then
	python3 - "$top_srcdir/tests/fixtures/rpc" "$tmp/corpus" <<'PY' || diag "no RPC outcome seeds"
import glob, json, os, sys
for f in glob.glob(sys.argv[1] + "/*.json"):
    d = json.load(open(f))
    r = d.get("result", d.get("error"))
    for lv in (0, 3, 5):
        with open("%s/outcome-%d-%s" % (sys.argv[2], lv, os.path.basename(f)), "wb") as o:
            o.write(bytes([4, lv]) + json.dumps(r).encode())
PY
fi
# shellcheck disable=SC2086 # word splitting of $deps is intended
if ! "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -I"$c" -I"$top_srcdir/include" -o "$tmp/$target" \
	"$top_srcdir/tests/fuzz/$target.c" "$c/keyfile.c" "$c/config.c" "$c/txcheck.c" "$c/json_scan.c" \
	"$c/txoutcome.c" "$near/base58.c" "$near/base64.c" "$near/hash.c" "$near/borsh.c" \
	"$near/u128.c" "$near/account_id.c" "$near/keys.c" "$near/tx.c" $deps -lm \
	>"$tmp/build.log" 2>&1; then
	sed 's/^/# /' "$tmp/build.log"
	not_ok "$target builds"
	finish
	exit
fi
ok "$target builds"
if (cd "$tmp" && TMPDIR="$tmp" "./$target" -runs="$runs" -max_len=4096 -seed=1 corpus \
	>run.log 2>&1); then
	ok "$target: $runs runs clean, corpus of $(ls "$tmp/corpus" | wc -l)"
else
	tail -n 30 "$tmp/run.log" | sed 's/^/# /'
	not_ok "$target: $runs runs clean"
fi
finish
