#!/bin/sh
# make bench: how many /v0/block/{h} requests per second nearsim serves for ~200 KB blocks
# (9 shards) to concurrent keep-alive clients on loopback. Must be >= 2000/s so that later
# benchmarks measure the indexer, not the simulator.
set -u
: "${top_builddir:=.}"
CONNS=${NEARSIM_BENCH_CONNS:-4}
SECS=${NEARSIM_BENCH_SECONDS:-5}
MIN_RPS=2000
tmp=$(mktemp -d) || exit 1
"$top_builddir/nearsim" --manual --port 0 --port-file "$tmp/port" --quiet --shards 9 \
	--bg-target-bytes 200000 --bg-log-bytes 128 --keep-blocks 1000 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
port=$(cat "$tmp/port")
base="http://127.0.0.1:$port"
# let the background traffic settle on the target size, then measure over 50 final blocks
curl -s -X POST -d '{}' "$base/admin/produce?n=100" >/dev/null
curl -s -X POST -d '{}' "$base/admin/produce?n=50" >"$tmp/p.json"
final=$(sed 's/.*"final":\([0-9]*\).*/\1/' "$tmp/p.json")
from=$((final - 49))
size=$(curl -s "$base/v0/block/$final" | wc -c)
echo "nearsim: 9 shards, block document $size bytes, heights $from..$final, $CONNS connections, ${SECS}s"
out=$("$top_builddir/tests/bench/nearsim_bench_client" "$base" "$from" "$final" "$CONNS" "$SECS")
rc=$?
echo "$out"
rps=$(echo "$out" | sed 's/.*rps=\([0-9]*\).*/\1/')
if [ $rc -ne 0 ] || [ "${rps:-0}" -lt $MIN_RPS ]; then
	echo "FAIL: nearsim served ${rps:-0} blocks/s (need >= $MIN_RPS) or answered errors"
	exit 1
fi
echo "OK: nearsim serves $rps /v0/block requests/s for ~$((size / 1000)) KB blocks (>= $MIN_RPS)"
