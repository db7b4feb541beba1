#!/bin/sh
# Builds the fuzzer of the transaction journal as it is read back after a crash
# (txjournal_open: torn tails cut, damage refused, replay, compaction read back)
# with clang (ASan+UBSan) and runs it briefly, seeded with journals the daemon
# wrote (tests/fixtures/tx/corpus/fuzz_txjournal), each as is and with its
# CRCs recomputed after mutation (flag byte 0 / 1).  FUZZ_RUNS=N runs longer.
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init txjournal zlib
libs="-lev -lpthread"
c="$top_srcdir/core"
fuzz_seeds fuzz_txjournal
for f in "$top_srcdir"/tests/fixtures/tx/corpus/fuzz_txjournal/*; do
	for flag in 0 1; do
		{ printf "\\00$flag"; cat "$f"; } >"$fuzz_corpus/$flag-$(basename "$f")"
	done
done
fuzz_build fuzz_txjournal -I"$c" "$c/txjournal.c" "$c/log.c" "$c/near/borsh.c" "$c/near/u128.c" &&
	fuzz_one fuzz_txjournal 20000 8192
finish
