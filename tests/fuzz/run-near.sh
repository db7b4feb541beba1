#!/bin/sh
# Builds the NEAR libFuzzer targets with clang (ASan+UBSan) and runs each briefly.
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init near libsodium libcrypto
near="$top_srcdir/core/near"
for target in fuzz_near_tx_decode fuzz_near_b58; do
	fuzz_seeds "$target" "$top_srcdir/tests/fixtures/near/corpus/$target"
	fuzz_build "$target" -I"$top_srcdir/core" "$near/base58.c" "$near/base64.c" "$near/hash.c" \
		"$near/borsh.c" "$near/u128.c" "$near/account_id.c" "$near/keys.c" "$near/tx.c" \
		"$near/tx_decode.c" &&
		fuzz_run "$target" 20000 4096
done
finish
