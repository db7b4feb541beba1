#!/bin/sh
# Builds the fuzzer of the block cursor file as cursor_load reads it at start-up
# (refused naming the file, or exactly the position the text says, which saves
# and loads back the same) with clang (ASan+UBSan) and runs it briefly, seeded
# with cursors the daemon wrote (tests/fixtures/blocks/corpus/fuzz_cursor).
# FUZZ_RUNS=N runs longer.
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init cursor libsodium libcrypto
c="$top_srcdir/core"
fuzz_seeds fuzz_cursor "$top_srcdir/tests/fixtures/blocks/corpus/fuzz_cursor"
fuzz_build fuzz_cursor -I"$c" "$c/cursor.c" "$c/near/hash.c" "$c/near/base58.c" &&
	fuzz_one fuzz_cursor 20000 1024
finish
