#!/bin/sh
# Builds the fuzzer of a [signer.NAME] key as signer_load takes it from a key
# file or the environment (refused without quoting the key, or a signer whose
# account, public key and signatures are the text's) with clang (ASan+UBSan)
# and runs it briefly, seeded with the NEAR key files and bare keys of
# tests/fixtures/tx/corpus/fuzz_tx_inputs under each flag byte (file, variable,
# account in the section, group-readable file).  FUZZ_RUNS=N runs longer.
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init signer libsodium libcjson libcrypto inih
libs=-lm
c="$top_srcdir/core"
near="$c/near"
fuzz_seeds fuzz_signer_key
for f in "$top_srcdir"/tests/fixtures/tx/corpus/fuzz_tx_inputs/key_*; do
	for flag in 0 1 2 4; do
		{ printf "\\00$flag"; tail -c +3 "$f"; } >"$fuzz_corpus/$flag-$(basename "$f")"
	done
done
fuzz_build fuzz_signer_key -I"$c" -I"$top_srcdir/include" "$c/signer.c" "$c/keyfile.c" \
	"$c/config.c" "$near/base58.c" "$near/base64.c" "$near/hash.c" "$near/borsh.c" \
	"$near/u128.c" "$near/account_id.c" "$near/keys.c" "$near/tx.c" &&
	fuzz_one fuzz_signer_key 20000 4096
finish
