#!/bin/sh
# make bench: mpc-node-bridge fan-out of block updates to 16 clients on the Unix socket,
# compared with a peer writing the same lines to 16 sockets directly, and the latency
# from the core's callback to a client holding the line.  Fails below 50,000 msgs/s.
set -u
: "${top_builddir:=.}"
BLOCKS=${BRIDGE_BENCH_BLOCKS:-20000}
LAT=${BRIDGE_BENCH_LATENCY_BLOCKS:-2000}
MIN=50000
out=$(top_builddir="$top_builddir" "$top_builddir/tests/bench/bridge_fanout" "$BLOCKS" "$LAT")
rc=$?
echo "$out"
rate=$(echo "$out" | sed -n 's/.* msgs_per_s=\([0-9]*\).*/\1/p')
if [ $rc -ne 0 ] || [ "${rate:-0}" -lt $MIN ]; then
	echo "bridge_fanout: FAIL (${rate:-?} msgs/s, target $MIN)"
	exit 1
fi
echo "bridge_fanout: ok (${rate} msgs/s >= $MIN)"
