#!/bin/sh
# Builds the fuzzer of prometheus-monitor's contract view decoders (contract.c,
# contract_metrics.c, through the core's registry and the plugin's /metrics
# renderer) with clang (ASan+UBSan) and runs it briefly, seeded with the state
# fixtures and every view's example answer (tests/fixtures/prom).  FUZZ_RUNS=N
# runs longer.
. "$top_srcdir/tests/tap.sh"

[ -n "$CLANG" ] || skip_all "no clang (configure found none)"
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang '$CLANG' not runnable"
deps=$(pkg-config --cflags --libs libcjson 2>/dev/null) || skip_all "pkg-config cannot find libcjson"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-prom.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
target=fuzz_prom_contract
runs=${FUZZ_RUNS:-20000}
pm="$top_srcdir/plugins/prometheus-monitor"
fix="$top_srcdir/tests/fixtures/prom"
mkdir -p "$tmp/corpus"
cp "$fix/corpus/$target"/* "$tmp/corpus/"
for f in "$fix"/state_*.json "$fix"/mainnet_state_*.json; do
	{ printf '\000'; cat "$f"; } >"$tmp/corpus/$(basename "$f")"
done
# shellcheck disable=SC2086 # word splitting of $deps is intended
if ! "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -I"$top_srcdir/include" -I"$top_srcdir/core" -I"$pm" -o "$tmp/$target" \
	"$top_srcdir/tests/fuzz/$target.c" "$pm/contract.c" "$pm/contract_metrics.c" \
	"$pm/expo.c" "$pm/pbuf.c" "$top_srcdir/core/metrics.c" $deps -lm -lpthread \
	>"$tmp/build.log" 2>&1; then
	sed 's/^/# /' "$tmp/build.log"
	not_ok "$target builds"
	finish
	exit
fi
ok "$target builds"
if (cd "$tmp" && "./$target" -runs="$runs" -max_len=16384 -seed=1 corpus >run.log 2>&1); then
	ok "$target: $runs runs clean, corpus of $(ls "$tmp/corpus" | wc -l)"
else
	tail -n 30 "$tmp/run.log" | sed 's/^/# /'
	not_ok "$target: $runs runs clean"
fi
finish
