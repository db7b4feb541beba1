#!/bin/sh
# Acceptance: against nearsim with MPC traffic, over 1,000+ blocks, every request and its
# completion are joined by id (timeouts included), nothing missed or doubled, and the
# delivered blocks are exactly nearsim's chain.
. "$top_srcdir/tests/integration/blocks_lib.sh"

start_sim --manual --sign-rate 0.4 --ckd-rate 0.15 --auto-respond --skip-rate 0.05 --shards 4
produce 400
post auto_respond '{"on":false}'	# the first of these time out after 200 blocks
produce 260
post auto_respond '{"on":true}'
produce 440
head=$(curl -sf "$SIM_URL/admin/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["final"])')
diag "chain 100..$head"

"$INDEXER" blocks --block-url "$SIM_URL" --contract mpc.test.near --from 100 --to "$head" \
	--json >"$tmp/out.jsonl" 2>"$tmp/err.log"
rc=$?
check "mpc-indexer blocks --from 100 --to $head exits 0" [ $rc -eq 0 ]
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/err.log" | tail -20
check "it stops at --to" [ "$(last_height "$tmp/out.jsonl")" -eq "$head" ]
checks heights "$tmp/out.jsonl" "$SIM_PORT" 100
checks mpc "$tmp/out.jsonl" "$SIM_PORT"

# A generic filter sees the same traffic: every sign receipt with a promise, by id.
"$INDEXER" blocks --block-url "$SIM_URL" --from 100 --to 300 --json \
	--match executor:mpc.test.near:sign >"$tmp/match.jsonl" 2>/dev/null
n_match=$(grep -o '"method":"sign"' "$tmp/match.jsonl" | wc -l)
n_req=$("$PY" -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    b=json.loads(l)
    if b["height"]<=300: n+=sum(q["kind"]=="sign" for q in b["requests"])
print(n)' "$tmp/out.jsonl")
check "an executor filter on sign finds the $n_req sign requests ($n_match)" [ "$n_match" -eq "$n_req" ] && [ "$n_req" -gt 0 ]

# The RPC-only source (block_urls down from the start) finds the same blocks and events
# (within a block, in transaction order rather than shard order).
"$INDEXER" blocks --block-url http://127.0.0.1:9 --rpc-url "$SIM_URL" --contract mpc.test.near \
	--from 100 --to 400 --json >"$tmp/rpc.jsonl" 2>"$tmp/rpc.err"
check "the RPC-only run exits 0" [ $? -eq 0 ]
check "it says it switched to the fallback" grep -q "switching block source from neardata to rpc" "$tmp/rpc.err"
same=$("$PY" -c 'import json,sys
a=[json.loads(l) for l in open(sys.argv[1])]
b=[json.loads(l) for l in open(sys.argv[2]) if json.loads(l)["height"]<=400]
srt=lambda l:sorted(l,key=lambda e:e["id"])
key=lambda x:(x["height"],x["hash"],srt(x["requests"]),srt(x["completions"]),x["timeouts"])
print(sum(1 for r in a if r["requests"] or r["completions"]), "yes" if list(map(key,a))==list(map(key,b)) else "no")' "$tmp/rpc.jsonl" "$tmp/out.jsonl")
check "RPC-only blocks, requests and completions equal the neardata ones (${same% *} blocks with events)" [ "${same#* }" = yes ]
finish
