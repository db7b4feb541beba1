#!/bin/sh
# make bench: block stream catch-up (blocks/s, peak RSS) against nearsim with mainnet-sized
# blocks, beside a Node.js baseline reading the same documents, and the latency from a
# block appearing in nearsim to the callback when following the head.
: "${top_srcdir:=.}" "${top_builddir:=.}"
export top_srcdir top_builddir
PY=${PYTHON3:-python3}
command -v "${NODE:-node}" >/dev/null 2>&1 || { echo "blocks_catchup: no node, skipped"; exit 0; }
exec "$PY" "$top_srcdir/tests/bench/blocks_catchup.py"
