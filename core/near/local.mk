# NEAR primitives: encodings, Borsh, hashes, keys, account ids, amounts, transactions.
noinst_LTLIBRARIES += core/near/libnear.la
core_near_libnear_la_SOURCES = core/near/near.h \
	core/near/base58.c core/near/base58.h \
	core/near/base64.c core/near/base64.h \
	core/near/hash.c core/near/hash.h \
	core/near/borsh.c core/near/borsh.h \
	core/near/u128.c core/near/u128.h \
	core/near/account_id.c core/near/account_id.h \
	core/near/keys.c core/near/keys.h \
	core/near/tx.c core/near/tx_decode.c core/near/tx.h
core_near_libnear_la_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS)
core_near_libnear_la_LIBADD = $(SODIUM_LIBS) $(CRYPTO_LIBS)

# Unit tests (TAP): vectors from shared/fixtures/near/vectors.md and the MPC kdf snapshots.
near_unit_tests = tests/unit/test_near_base58 tests/unit/test_near_base64 \
	tests/unit/test_near_hash tests/unit/test_near_borsh tests/unit/test_near_u128 \
	tests/unit/test_near_account_id tests/unit/test_near_keys tests/unit/test_near_tx
check_PROGRAMS += $(near_unit_tests)
TESTS += $(near_unit_tests)
EXTRA_DIST += tests/unit/test_near_util.h tests/fixtures/README.md
near_test_cflags = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS)
near_test_ldadd = core/near/libnear.la $(SODIUM_LIBS) $(CRYPTO_LIBS)
tests_unit_test_near_base58_CFLAGS = $(near_test_cflags)
tests_unit_test_near_base58_LDADD = $(near_test_ldadd)
tests_unit_test_near_base64_CFLAGS = $(near_test_cflags)
tests_unit_test_near_base64_LDADD = $(near_test_ldadd)
tests_unit_test_near_hash_CFLAGS = $(near_test_cflags)
tests_unit_test_near_hash_LDADD = $(near_test_ldadd)
tests_unit_test_near_borsh_CFLAGS = $(near_test_cflags)
tests_unit_test_near_borsh_LDADD = $(near_test_ldadd)
tests_unit_test_near_u128_CFLAGS = $(near_test_cflags)
tests_unit_test_near_u128_LDADD = $(near_test_ldadd)
tests_unit_test_near_account_id_CFLAGS = $(near_test_cflags)
tests_unit_test_near_account_id_LDADD = $(near_test_ldadd)
tests_unit_test_near_keys_CFLAGS = $(near_test_cflags)
tests_unit_test_near_keys_LDADD = $(near_test_ldadd)
tests_unit_test_near_tx_CFLAGS = $(near_test_cflags)
tests_unit_test_near_tx_LDADD = $(near_test_ldadd)
dist_check_DATA += tests/fixtures/near/kdf_derive_tweak.snap \
	tests/fixtures/near/kdf_derive_app_id.snap

# libFuzzer targets, built with $(CLANG) and run briefly by the script (skips without clang).
TESTS += tests/fuzz/run-near.sh
EXTRA_DIST += tests/fuzz/run-near.sh tests/fuzz/fuzz_near_tx_decode.c tests/fuzz/fuzz_near_b58.c
dist_check_DATA += \
	tests/fixtures/near/corpus/fuzz_near_tx_decode/v1_all_actions.bin \
	tests/fixtures/near/corpus/fuzz_near_tx_decode/v3_transfer.bin \
	tests/fixtures/near/corpus/fuzz_near_tx_decode/v4_docs_transfer.bin \
	tests/fixtures/near/corpus/fuzz_near_tx_decode/v5_function_call.bin \
	tests/fixtures/near/corpus/fuzz_near_tx_decode/v7_empty_signer.bin \
	tests/fixtures/near/corpus/fuzz_near_b58/hash.txt \
	tests/fixtures/near/corpus/fuzz_near_b58/zero_hash.txt \
	tests/fixtures/near/corpus/fuzz_near_b58/pubkey.txt \
	tests/fixtures/near/corpus/fuzz_near_b58/secret.txt
