#!/bin/sh
# Acceptance: optimistic mode. nearsim replaces its head block (a fork) a dozen times
# while the stream follows it; each replaced block is reported orphaned, never finalized,
# finality advances only over the chain's blocks, and every hash is delivered once.
. "$top_srcdir/tests/integration/blocks_lib.sh"

head_height() { curl -sf "$SIM_URL/admin/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["head"])'; }

start_sim --manual --shards 2 --sign-rate 0.2 --auto-respond
produce 30
"$INDEXER" blocks --block-url "$SIM_URL" --contract mpc.test.near --optimistic --from 100 --json \
	>"$tmp/out.jsonl" 2>"$tmp/err.log" &
CLI_PID=$!; pids="$pids $CLI_PID"
check "the optimistic stream catches up with the head" wait_height "$tmp/out.jsonl" "$(head_height)" 30
forks=0
for k in 1 2 3 4 5 6 7 8 9 10 11 12; do
	produce 1
	wait_height "$tmp/out.jsonl" "$(head_height)" 20 || break
	post chain '{"fork_next":1}'
	produce 1
	wait_height "$tmp/out.jsonl" "$(head_height)" 20 || break
	forks=$((forks+1))
done
check "the stream followed $forks forks at the head" [ "$forks" -eq 12 ]
produce 10
wait_height "$tmp/out.jsonl" "$(head_height)" 20
sleep 0.5
kill -TERM "$CLI_PID"; wait "$CLI_PID"
check "the stream stops cleanly" [ $? -eq 0 ]
checks optimistic "$tmp/out.jsonl" "$SIM_PORT"
finish
