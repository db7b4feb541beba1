#!/bin/sh
# Builds the JSON-RPC response fuzzer with clang (ASan+UBSan) and runs it briefly,
# seeded with the recorded RPC fixtures and the corpus in tests/fixtures/viewer.
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init rpc libcjson
libs=-lm
fuzz_seeds fuzz_rpc_response "$top_srcdir/tests/fixtures/viewer/corpus/fuzz_rpc_response"
# the recorded answers, each as a 200 (selector byte 0)
for f in "$top_srcdir"/tests/fixtures/rpc/*.json; do
	[ -f "$f" ] || continue
	{ printf '\000'; cat "$f"; } >"$fuzz_corpus/fixture-$(basename "$f")"
done
fuzz_build fuzz_rpc_response -I"$top_srcdir/core" "$top_srcdir/core/rpc_parse.c" &&
	fuzz_one fuzz_rpc_response 20000 8192
finish
