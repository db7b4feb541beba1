#!/bin/sh
# Builds the mpc-node-bridge request fuzzer (the real plugin on a minimal host,
# a client on its real socket) with clang (ASan+UBSan) and runs it briefly,
# seeded with tests/fixtures/bridge/corpus.  FUZZ_RUNS=N runs longer.
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init bridge libcjson
libs=-lm
pl="$top_srcdir/plugins/mpc-node-bridge"
fix="$top_srcdir/tests/fixtures/bridge"
fuzz_seeds fuzz_bridge_proto "$fix/corpus/fuzz_bridge_proto"
fuzz_build fuzz_bridge_proto -I"$top_srcdir/include" -I"$pl" "$pl"/bridge.c "$pl"/client.c \
	"$pl"/proto.c "$pl"/render.c "$pl"/ring.c "$pl"/msg.c "$pl"/jbuf.c "$pl"/listen.c &&
	fuzz_one fuzz_bridge_proto 20000 8192 -dict="$fix/fuzz_bridge_proto.dict"
finish
