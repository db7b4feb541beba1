#!/bin/sh
# Builds the NEAR libFuzzer targets with clang (ASan+UBSan) and runs each briefly.
. "$top_srcdir/tests/tap.sh"

[ -n "$CLANG" ] || skip_all "no clang (configure found none)"
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang '$CLANG' not runnable"
deps=$(pkg-config --cflags --libs libsodium libcrypto 2>/dev/null) ||
	skip_all "pkg-config cannot find libsodium/libcrypto"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-near.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
near="$top_srcdir/core/near"
srcs="$near/base58.c $near/base64.c $near/hash.c $near/borsh.c $near/u128.c \
$near/account_id.c $near/keys.c $near/tx.c $near/tx_decode.c"

for target in fuzz_near_tx_decode fuzz_near_b58; do
	mkdir -p "$tmp/$target.corpus"
	seeds="$top_srcdir/tests/fixtures/near/corpus/$target"
	[ -d "$seeds" ] && cp "$seeds"/* "$tmp/$target.corpus/" 2>/dev/null
	# shellcheck disable=SC2086 # word splitting of $srcs and $deps is intended
	if ! "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -I"$top_srcdir/core" -o "$tmp/$target" \
		"$top_srcdir/tests/fuzz/$target.c" $srcs $deps >"$tmp/$target.build" 2>&1; then
		sed 's/^/# /' "$tmp/$target.build"
		not_ok "$target builds"
		continue
	fi
	if "$tmp/$target" -runs=20000 -max_len=4096 -seed=1 "$tmp/$target.corpus" \
		>"$tmp/$target.log" 2>&1; then
		ok "$target: 20000 runs clean, corpus of $(ls "$tmp/$target.corpus" | wc -l)"
	else
		tail -n 30 "$tmp/$target.log" | sed 's/^/# /'
		not_ok "$target: 20000 runs clean"
	fi
done
finish
