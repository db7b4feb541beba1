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
finish
