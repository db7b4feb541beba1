#!/bin/sh
# Builds the fuzzer of backup-migration's HTTP/1.1 response reader (the real
# mtls.c, its try_complete() fed as after each TLS read) with clang (ASan+UBSan)
# and runs it briefly, seeded with answers shaped as an MPC node sends them
# around the fixture bodies (tests/fixtures/backup/corpus).  FUZZ_RUNS=N runs longer.
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init mtls libssl libcrypto libsodium libcjson
libs=-lpthread
pl="$top_srcdir/plugins/backup-migration"
fuzz_seeds fuzz_mtls_http "$top_srcdir/tests/fixtures/backup/corpus/fuzz_mtls_http"
fuzz_build fuzz_mtls_http -I"$top_srcdir/include" -I"$pl" "$pl/edkey.c" &&
	fuzz_one fuzz_mtls_http 20000 16384
finish
