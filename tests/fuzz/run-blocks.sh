#!/bin/sh
# Builds the block-document libFuzzer target with clang (ASan+UBSan) and runs it briefly
# from a seed corpus of real and nearsim-shaped documents.
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init blocks libsodium libcrypto
c="$top_srcdir/core"
near="$c/near"
fuzz_seeds fuzz_blockdoc "$top_srcdir/tests/fixtures/blocks/corpus/fuzz_blockdoc"
fuzz_build fuzz_blockdoc -I"$top_srcdir/include" -I"$c" "$c/json_scan.c" "$c/blockdoc.c" \
	"$c/mpc_events.c" "$c/log.c" "$near/base58.c" "$near/base64.c" "$near/hash.c" \
	"$near/account_id.c" &&
	fuzz_one fuzz_blockdoc 30000 16384
finish
