#!/bin/sh
# Acceptance: with faults (5xx, 429, resets, truncated and invalid bodies, stalls, skipped
# heights), a lagging endpoint that also lies (null for real blocks, documents of other
# heights), the primary source down (the RPC fallback takes over and hands back), and
# kill -9 of the consumer mid-stream, the delivered heights are exactly nearsim's chain,
# once each, in order. The consumer is `mpc-indexer blocks` with a configuration file
# (state_dir cursor): with --output FILE it resumes after FILE's last block (exactly
# once); on stdout alone it resumes from the cursor (at least once, replaying at most the
# cursor interval).
. "$top_srcdir/tests/integration/blocks_lib.sh"

start_sim --manual --skip-rate 0.1 --sign-rate 0.3 --auto-respond --shards 3
produce 200
"$PY" "$CHECK" proxy "$SIM_PORT" "$tmp/proxy.port" &
pids="$pids $!"
i=0; while [ ! -s "$tmp/proxy.port" ]; do i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.05; done
PROXY_URL="http://127.0.0.1:$(cat "$tmp/proxy.port")"

cat >"$tmp/indexer.conf" <<CONF
[indexer]
state_dir = $tmp/state
log_level = info
[near]
contract = mpc.test.near
block_urls = $PROXY_URL, $SIM_URL
rpc_urls = $SIM_URL
request_timeout = 3s
[blocks]
start = 100
fetch_ahead = 8
fallback_after = 3
fallback_probe = 1s
cursor_interval = 100ms
retry_max = 500ms
CONF

run_cli() {	# OUT ERR [args]
	out=$1 err=$2; shift 2
	"$INDEXER" -c "$tmp/indexer.conf" blocks --json "$@" >>"$out" 2>>"$err" &
	CLI_PID=$!
	pids="$pids $CLI_PID"
}

post faults '{"kind":"neardata","5xx":0.05,"429":0.03,"reset":0.03,"truncate":0.05,"invalid_json":0.03,"timeout":0.01,"hang_ms":1500}'
run_cli "$tmp/unused" "$tmp/err1.log" --output "$tmp/out.jsonl"
for k in 1 2 3 4 5; do produce 20; sleep 0.2; done
wait_height "$tmp/out.jsonl" 250 60
kill -9 "$CLI_PID"; wait "$CLI_PID" 2>/dev/null
at_kill=$(last_height "$tmp/out.jsonl")
diag "killed -9 at height $at_kill"
check "the killed run got past height 250 through the faults" [ "$at_kill" -ge 250 ]

run_cli "$tmp/unused" "$tmp/err2.log" --output "$tmp/out.jsonl"
produce 100
check "the restarted run resumes after its output" wait_height "$tmp/out.jsonl" $(($(final_height) - 1)) 60
grep -q "resuming after it" "$tmp/err2.log" && ok "the restart says where it resumes" || not_ok "the restart says where it resumes"

post faults '{"kind":"neardata","clear":true,"5xx":1}'	# primary down
produce 80
target=$(final_height)
check "the RPC fallback delivers up to the head ($target) while block_urls fail" wait_height "$tmp/out.jsonl" "$target" 90
check "the switch to the fallback is logged" grep -q "switching block source from neardata to rpc" "$tmp/err2.log"
post faults '{"kind":"neardata","clear":true}'
produce 40
target=$(final_height)
check "the stream reaches $target after the primary recovers" wait_height "$tmp/out.jsonl" "$target" 60
sleep 1.5
produce 5
check "the switch back to neardata is logged" grep -q "switching block source from rpc to neardata" "$tmp/err2.log"
kill -TERM "$CLI_PID"; wait "$CLI_PID"
check "SIGTERM stops the consumer cleanly" [ $? -eq 0 ]
checks heights "$tmp/out.jsonl" "$SIM_PORT" 100
if grep -Eq "block [0-9]+ from 127\.0\.0\.1:[0-9]+: malformed document" "$tmp/err1.log" "$tmp/err2.log"; then
	ok "a malformed document is reported with its height and source"
else
	not_ok "a malformed document is reported with its height and source"
fi
check "the cursor was saved" grep -q "^height " "$tmp/state/blocks.cursor"

# The cursor alone: kill -9 and restart; replays at most a little, never skips.
start=$(sed -n 's/^height //p' "$tmp/state/blocks.cursor")
post faults '{"kind":"neardata","5xx":0.05,"truncate":0.05}'
"$INDEXER" -c "$tmp/indexer.conf" blocks --json >"$tmp/c1.jsonl" 2>"$tmp/err3.log" &
CLI_PID=$!; pids="$pids $CLI_PID"
for k in 1 2 3 4; do produce 20; sleep 0.3; done
wait_height "$tmp/c1.jsonl" $((start + 40)) 60
kill -9 "$CLI_PID"; wait "$CLI_PID" 2>/dev/null
"$INDEXER" -c "$tmp/indexer.conf" blocks --json >"$tmp/c2.jsonl" 2>"$tmp/err4.log" &
CLI_PID=$!; pids="$pids $CLI_PID"
produce 40
check "the cursor restart reaches the head" wait_height "$tmp/c2.jsonl" "$(final_height)" 60
kill -TERM "$CLI_PID"; wait "$CLI_PID"
"$PY" - "$tmp/c1.jsonl" "$tmp/c2.jsonl" "$tmp/merged.jsonl" <<'PYEOF' >"$tmp/dups"
import json, sys
seen, out, dups = set(), [], 0
for f in sys.argv[1:3]:
    for l in open(f):
        b = json.loads(l)
        if b.get("event") != "block":
            continue
        if b["height"] in seen:
            dups += 1
            continue
        seen.add(b["height"])
        out.append(l)
open(sys.argv[3], "w").writelines(out)
print(dups)
PYEOF
dups=$(cat "$tmp/dups")
diag "cursor restart replayed $dups blocks"
check "the cursor restart replays at most a few blocks ($dups)" [ "$dups" -le 20 ]
checks heights "$tmp/merged.jsonl" "$SIM_PORT" $((start + 1))
finish
