#!/bin/sh
# Found by make soak: in final mode the RPC-only fallback delivered blocks above the final
# height (`block` by height answers the optimistic head too), so a block that a fork could
# still replace was handed out as final. The stream must stop at nearsim's final height
# and go on as finality advances.
. "$top_srcdir/tests/integration/blocks_lib.sh"

start_sim --manual
produce 20
post faults '{"kind":"neardata","5xx":1}'	# the primary is down: the RPC fallback serves
"$INDEXER" blocks --block-url "$SIM_URL" --rpc-url "$SIM_URL" --contract mpc.test.near \
	--from 100 --final --json >"$tmp/out.jsonl" 2>"$tmp/err.log" &
CLI_PID=$!; pids="$pids $CLI_PID"
check "the fallback reaches the final height $(final_height)" wait_height "$tmp/out.jsonl" "$(final_height)" 60
check "the switch to the RPC fallback is logged" grep -q "switching block source from neardata to rpc" "$tmp/err.log"
for k in 1 2 3; do
	produce 5
	wait_height "$tmp/out.jsonl" "$(final_height)" 60
done
final=$(final_height)
sleep 2		# time for a wrong delivery beyond the final height to show
last=$(last_height "$tmp/out.jsonl")
diag "nearsim head $(curl -sf "$SIM_URL/admin/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["head"])'), final $final, delivered up to $last"
check "nothing above the final height $final was delivered (last $last)" [ "$last" -eq "$final" ]
kill -TERM "$CLI_PID"; wait "$CLI_PID"
checks heights "$tmp/out.jsonl" "$SIM_PORT" 100
finish
