#!/bin/sh
# Builds the JSON-RPC response fuzzer with clang (ASan+UBSan) and runs it briefly,
# seeded with the recorded RPC fixtures and the corpus in tests/fixtures/viewer.
. "$top_srcdir/tests/tap.sh"

[ -n "$CLANG" ] || skip_all "no clang (configure found none)"
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang '$CLANG' not runnable"
deps=$(pkg-config --cflags --libs libcjson 2>/dev/null) || skip_all "pkg-config cannot find libcjson"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-rpc.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
target=fuzz_rpc_response
runs=20000
corpus="$tmp/$target.corpus"
mkdir -p "$corpus"
cp "$top_srcdir/tests/fixtures/viewer/corpus/$target"/* "$corpus/" 2>/dev/null
# the recorded answers, each as a 200 (selector byte 0)
for f in "$top_srcdir"/tests/fixtures/rpc/*.json; do
	[ -f "$f" ] || continue
	{ printf '\000'; cat "$f"; } >"$corpus/fixture-$(basename "$f")"
done
# shellcheck disable=SC2086 # word splitting of $deps is intended
if ! "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -I"$top_srcdir/core" -o "$tmp/$target" \
	"$top_srcdir/tests/fuzz/$target.c" "$top_srcdir/core/rpc_parse.c" $deps -lm \
	>"$tmp/build.log" 2>&1; then
	sed 's/^/# /' "$tmp/build.log"
	not_ok "$target builds"
	finish
	exit
fi
ok "$target builds"
if "$tmp/$target" -runs=$runs -max_len=8192 -seed=1 "$corpus" >"$tmp/run.log" 2>&1; then
	ok "$target: $runs runs clean, corpus of $(ls "$corpus" | wc -l)"
else
	tail -n 30 "$tmp/run.log" | sed 's/^/# /'
	not_ok "$target: $runs runs clean"
fi
finish
