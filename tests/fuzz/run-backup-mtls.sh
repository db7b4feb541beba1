#!/bin/sh
# Builds the fuzzer of backup-migration's HTTP/1.1 response reader (the real
# mtls.c, its try_complete() fed as after each TLS read) with clang (ASan+UBSan)
# and runs it briefly, seeded with answers shaped as an MPC node sends them
# around the fixture bodies (tests/fixtures/backup/corpus).  FUZZ_RUNS=N runs longer.
. "$top_srcdir/tests/tap.sh"

[ -n "$CLANG" ] || skip_all "no clang (configure found none)"
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang '$CLANG' not runnable"
deps=$(pkg-config --cflags --libs libssl libcrypto libsodium libcjson 2>/dev/null) ||
	skip_all "pkg-config cannot find libssl/libcrypto/libsodium/libcjson"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-mtls.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
target=fuzz_mtls_http
runs=${FUZZ_RUNS:-20000}
pl="$top_srcdir/plugins/backup-migration"
mkdir -p "$tmp/corpus"
cp "$top_srcdir/tests/fixtures/backup/corpus/$target"/* "$tmp/corpus/"
# shellcheck disable=SC2086 # word splitting of $deps is intended
if ! "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -I"$top_srcdir/include" -I"$pl" -o "$tmp/$target" \
	"$top_srcdir/tests/fuzz/$target.c" "$pl/edkey.c" $deps -lpthread \
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
