#!/bin/sh
# Found by make soak: in optimistic mode the RPC-only fallback delivered a block with a
# completion, the block was forked away (orphaned), and its canonical replacement came
# without the completion: the source had stopped following the transaction once its
# outcomes were in a delivered block, and an orphaned block counted as delivered. The
# canonical blocks of the optimistic stream must carry exactly the final stream's events.
. "$top_srcdir/tests/integration/blocks_lib.sh"

head_height() { curl -sf "$SIM_URL/admin/stats" | sed -n 's/.*"head":\([0-9]*\).*/\1/p'; }
start_sim --manual --auto-respond --sign-rate 1
produce 3
post faults '{"kind":"neardata","5xx":1}'	# the primary is down: the RPC fallback serves
post chain '{"fork_rate":0.3}'
for mode in final optimistic; do
	"$INDEXER" blocks --block-url "$SIM_URL" --rpc-url "$SIM_URL" --contract mpc.test.near \
		--from 100 --$mode --json --state-dir "$tmp/state-$mode" >"$tmp/$mode.jsonl" 2>"$tmp/$mode.log" &
	pids="$pids $!"
done
# one block at a time, each seen by the optimistic stream before the next may fork it
i=0
while [ $i -lt 60 ]; do
	produce 1
	wait_height "$tmp/optimistic.jsonl" "$(head_height)" 60 || break
	i=$((i+1))
done
check "the optimistic stream kept up with 60 blocks ($i)" [ "$i" -eq 60 ]
post chain '{"fork_rate":0}'
produce 4
post stall '{"on":true}'
target=$(final_height)
for mode in final optimistic; do
	check "$mode: the stream reaches the final height $target" wait_height "$tmp/$mode.jsonl" "$target" 90
done
"$PY" - "$tmp/final.jsonl" "$tmp/optimistic.jsonl" "$target" >"$tmp/cmp.out" <<'PYEOF'
import json, sys
def load(fn):
    blocks, orphaned = {}, set()
    for line in open(fn):
        e = json.loads(line)
        if e.get("event") == "block":
            blocks[e["hash"]] = e
        elif e.get("event") == "orphaned":
            orphaned.add(e["hash"])
    return blocks, orphaned
def events(blocks, orphaned, last):
    return {(k, x["id"], b["height"]) for h, b in blocks.items() if h not in orphaned and b["height"] <= last
            for k in ("requests", "completions") for x in b[k]}
fb, _ = load(sys.argv[1])
ob, oo = load(sys.argv[2])
last = int(sys.argv[3])
fe, oe = events(fb, set(), last), events(ob, oo, last)
comps = sum(1 for e in fe if e[0] == "completions")
with_comp = sum(1 for h in oo if ob[h]["completions"])
print(len(oo), with_comp, comps, len(fe ^ oe))
for e in sorted(fe - oe)[:5]:
    print("# only in the final stream:", *e)
for e in sorted(oe - fe)[:5]:
    print("# only in the optimistic stream's canonical blocks:", *e)
PYEOF
read -r norph ncomporph ncomp ndiff <"$tmp/cmp.out"
tail -n +2 "$tmp/cmp.out"
diag "$norph blocks orphaned, $ncomporph of them with completions; $ncomp completions up to $target"
check "forks replaced delivered blocks that held completions ($ncomporph)" [ "$ncomporph" -gt 0 ]
check "the optimistic stream's canonical blocks carry the final stream's requests and completions ($ndiff differ)" \
	[ "$ndiff" -eq 0 ]
check "the fallback was used" grep -q "switching block source from neardata to rpc" "$tmp/optimistic.log"
finish
