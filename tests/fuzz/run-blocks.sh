#!/bin/sh
# Builds the block-document libFuzzer target with clang (ASan+UBSan) and runs it briefly
# from a seed corpus of real and nearsim-shaped documents.
. "$top_srcdir/tests/tap.sh"

[ -n "$CLANG" ] || skip_all "no clang (configure found none)"
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang '$CLANG' not runnable"
deps=$(pkg-config --cflags --libs libsodium libcrypto 2>/dev/null) ||
	skip_all "pkg-config cannot find libsodium/libcrypto"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-blocks.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
c="$top_srcdir/core"
near="$c/near"
srcs="$c/json_scan.c $c/blockdoc.c $c/mpc_events.c $c/log.c $near/base58.c $near/base64.c \
$near/hash.c $near/account_id.c"
target=fuzz_blockdoc
mkdir -p "$tmp/corpus"
cp "$top_srcdir/tests/fixtures/blocks/corpus/$target"/* "$tmp/corpus/" 2>/dev/null
# shellcheck disable=SC2086 # word splitting of $srcs and $deps is intended
if ! "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -I"$top_srcdir/include" -I"$c" -o "$tmp/$target" \
	"$top_srcdir/tests/fuzz/$target.c" $srcs $deps >"$tmp/build.log" 2>&1; then
	sed 's/^/# /' "$tmp/build.log"
	not_ok "$target builds"
	finish
	exit
fi
ok "$target builds"
if "$tmp/$target" -runs=30000 -max_len=16384 -seed=1 "$tmp/corpus" >"$tmp/run.log" 2>&1; then
	ok "$target: 30000 runs clean, corpus of $(ls "$tmp/corpus" | wc -l)"
else
	tail -n 30 "$tmp/run.log" | sed 's/^/# /'
	not_ok "$target: 30000 runs clean"
fi
finish
