#!/bin/sh
# A block reported skipped (null) by an endpoint that lies is fetched again and delivered,
# even when it is the final head and no later block exists yet to disprove the null
# (final mode used to wait for the next block, however long the chain paused).
. "$top_srcdir/tests/integration/blocks_lib.sh"

start_sim --manual
produce 30
"$PY" "$top_srcdir/tests/integration/blocks_nullproxy.py" "$SIM_PORT" "$tmp/proxy.port" &
pids="$pids $!"
i=0; while [ ! -s "$tmp/proxy.port" ]; do i=$((i+1)); [ $i -gt 200 ] && break; sleep 0.05; done
cat >"$tmp/indexer.conf" <<CONF
[indexer]
state_dir = $tmp/state
[near]
contract = mpc.test.near
block_urls = http://127.0.0.1:$(cat "$tmp/proxy.port")
[blocks]
start = 110
CONF
"$INDEXER" -c "$tmp/indexer.conf" blocks --json --output "$tmp/out.jsonl" 2>"$tmp/err.log" &
CLI=$!
pids="$pids $CLI"
target=$(final_height)
if wait_height "$tmp/out.jsonl" "$target" 60; then
	ok "the final head ($target) is delivered though its first answer was null"
else
	not_ok "the final head ($target) is delivered though its first answer was null (got $(last_height "$tmp/out.jsonl"))"
	sed 's/^/# /' "$tmp/err.log" | tail -n 20
fi
check "the wrong null is logged" grep -q "reported skipped, but it is the final head" "$tmp/err.log"
produce 5
target=$(final_height)
check "blocks after the pause follow ($target)" wait_height "$tmp/out.jsonl" "$target" 60
kill -TERM "$CLI"; wait "$CLI"
check "the consumer stops cleanly" [ $? -eq 0 ]
checks heights "$tmp/out.jsonl" "$SIM_PORT" 110
finish
