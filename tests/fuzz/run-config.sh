#!/bin/sh
# Builds the configuration parser's libFuzzer target with clang and runs it briefly.
. "$top_srcdir/tests/tap.sh"

[ -n "$CLANG" ] || skip_all "no clang (configure found none)"
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang '$CLANG' not runnable"
deps=$(pkg-config --cflags --libs inih 2>/dev/null) || skip_all "pkg-config cannot find inih"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-config.XXXXXX") || exit 99
trap 'rm -rf "$tmp" /tmp/fuzz-config-*.ini' EXIT INT TERM
mkdir -p "$tmp/corpus"
cp "$top_srcdir/etc/"*.conf "$tmp/corpus/"
# shellcheck disable=SC2086 # word splitting of $deps is intended
if ! "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -I"$top_srcdir/core" -o "$tmp/fuzz_config" \
	"$top_srcdir/tests/fuzz/fuzz_config.c" "$top_srcdir/core/config.c" $deps \
	>"$tmp/build.log" 2>&1; then
	sed 's/^/# /' "$tmp/build.log"
	not_ok "fuzz_config builds"
	finish; exit 1
fi
ok "fuzz_config builds"
if "$tmp/fuzz_config" -runs=20000 -max_len=2048 -seed=1 "$tmp/corpus" >"$tmp/log" 2>&1; then
	ok "fuzz_config: 20000 runs clean"
else
	tail -n 30 "$tmp/log" | sed 's/^/# /'
	not_ok "fuzz_config: 20000 runs clean"
fi
finish
