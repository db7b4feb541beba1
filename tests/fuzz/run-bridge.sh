#!/bin/sh
# Builds the mpc-node-bridge request fuzzer (the real plugin on a minimal host,
# a client on its real socket) with clang (ASan+UBSan) and runs it briefly,
# seeded with tests/fixtures/bridge/corpus.  FUZZ_RUNS=N runs longer.
. "$top_srcdir/tests/tap.sh"

[ -n "$CLANG" ] || skip_all "no clang (configure found none)"
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang '$CLANG' not runnable"
deps=$(pkg-config --cflags --libs libcjson 2>/dev/null) || skip_all "pkg-config cannot find libcjson"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-bridge.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
target=fuzz_bridge_proto
runs=${FUZZ_RUNS:-20000}
pl="$top_srcdir/plugins/mpc-node-bridge"
fix="$top_srcdir/tests/fixtures/bridge"
mkdir -p "$tmp/corpus"
cp "$fix/corpus/$target"/* "$tmp/corpus/"
# shellcheck disable=SC2086 # word splitting of $deps is intended
if ! "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -I"$top_srcdir/include" -I"$pl" -o "$tmp/$target" \
	"$top_srcdir/tests/fuzz/$target.c" "$pl"/bridge.c "$pl"/client.c "$pl"/proto.c \
	"$pl"/render.c "$pl"/ring.c "$pl"/msg.c "$pl"/jbuf.c "$pl"/listen.c $deps -lm \
	>"$tmp/build.log" 2>&1; then
	sed 's/^/# /' "$tmp/build.log"
	not_ok "$target builds"
	finish
	exit
fi
ok "$target builds"
if (cd "$tmp" && TMPDIR="$tmp" "./$target" -runs="$runs" -max_len=8192 -seed=1 \
	-dict="$fix/$target.dict" corpus >run.log 2>&1); then
	ok "$target: $runs runs clean, corpus of $(ls "$tmp/corpus" | wc -l)"
else
	tail -n 30 "$tmp/run.log" | sed 's/^/# /'
	not_ok "$target: $runs runs clean"
fi
finish
