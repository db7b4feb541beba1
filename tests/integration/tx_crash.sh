# kill -9 of the process that runs the sender (the tx_driver, which links the
# daemon's library; the daemon itself is wired to the sender elsewhere), with
# 100 transactions queued, then a restart on the same state directory: all 100
# execute exactly once (counted by nearsim) and each outcome is reported once
# (the log lines of both runs together).
. "$top_srcdir/tests/integration/tx_util.sh"

producer() { ( while :; do produce 1; sleep 0.1; done ) & prodpid=$!; extra_pids=$prodpid; }
stop_producer() { kill $prodpid 2>/dev/null; wait $prodpid 2>/dev/null; extra_pids=; }

# outcomes LOG...: "TOTAL DISTINCT" outcome lines ("tx ID succeeded: ...")
outcomes() {
	cat "$@" | sed -n 's/.* tx \([0-9]*\) \(succeeded\|failed\|unknown\|rejected\|accepted\): .*/\1/p' |
		sort | uniq -c | awk '{ n += $1; d++ } END { print n + 0, d + 0 }'
}

# Round 1: nothing executes before the kill (blocks only on demand): 40 are
# signed and sent (the pipeline holds 40), 60 only queued.
start_sim --block-ms 0
conf "$t/a.conf" 'retry_interval = 200ms\nsweep_interval = 500ms\nin_flight_max = 40'
"$drv" -c "$t/a.conf" --state-dir "$t/a" --count 100 --wait --deadline 120 --timeout 120 \
	--log "$t/a1.log" > "$t/a1.out" &
dpid=$!
wait_for '^queued 100' "$t/a1.out" 30
wait_for 'tx 40 .* signed' "$t/a1.log" 30
i=0; while [ "$(stat pool)" != 40 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
kill -9 $dpid
wait $dpid 2>/dev/null
check "round 1: killed with nothing reported" [ "$(grep -c '^done' "$t/a1.out")" -eq 0 ]
check "round 1: 40 were signed before the kill" [ "$(grep -c 'signed: hash' "$t/a1.log")" -eq 40 ]
pool=$(stat pool)
check "round 1: and sent: nearsim holds $pool in its pool" [ "$pool" -eq 40 ]
exactly_once 0 "round 1: before the restart nothing has executed"
producer
"$drv" -c "$t/a.conf" --state-dir "$t/a" --count 0 --timeout 120 --log "$t/a2.log" > "$t/a2.out"
rc=$?
stop_producer
check "round 1: the restart finishes everything (exit $rc)" [ "$rc" -eq 0 ]
check "round 1: 100 taken over from the journal" [ "$(field replayed "$t/a2.out")" -eq 100 ]
check "round 1: the 40 signed were sent again as the same bytes" \
	[ "$(grep -c 'signed before the restart; sending the same bytes again' "$t/a2.log")" -eq 40 ]
exactly_once 100 "round 1"
set -- $(outcomes "$t/a1.log" "$t/a2.log")
check "round 1: every outcome reported once ($1 reports for $2 transactions)" [ "$1" -eq 100 -a "$2" -eq 100 ]
check "round 1: all succeeded" [ "$(grep -c ' succeeded: .*(replayed from the journal)' "$t/a2.log")" -eq 100 ]

# Round 2: the kill comes while outcomes are arriving.  Blocks come every
# 100 ms until 20 outcomes are in, then no more: with 30 in flight, the rest
# cannot finish before the kill, however slow the machine.
start_sim --block-ms 0
conf "$t/b.conf" 'retry_interval = 200ms\nsweep_interval = 500ms\nin_flight_max = 30'
"$drv" -c "$t/b.conf" --state-dir "$t/b" --count 100 --wait --deadline 120 --timeout 120 \
	--log "$t/b1.log" > "$t/b1.out" &
dpid=$!
i=0
while [ "$(cat "$t/b1.out" 2>/dev/null | grep -c 'status=succeeded')" -lt 20 ] && [ $i -lt 600 ]; do
	produce 1; sleep 0.1; i=$((i+1))
done
kill -9 $dpid
wait $dpid 2>/dev/null
before=$(grep -c '^done' "$t/b1.out")
check "round 2: killed after $before of 100 outcomes" [ "$before" -ge 20 -a "$before" -lt 100 ]
producer
"$drv" -c "$t/b.conf" --state-dir "$t/b" --count 0 --timeout 120 --log "$t/b2.log" > "$t/b2.out"
rc=$?
stop_producer
check "round 2: the restart finishes everything (exit $rc)" [ "$rc" -eq 0 ]
exactly_once 100 "round 2"
set -- $(outcomes "$t/b1.log" "$t/b2.log")
check "round 2: every outcome reported once ($1 reports for $2 transactions)" [ "$1" -eq 100 -a "$2" -eq 100 ]
check "round 2: the callbacks before the kill are among them" \
	[ "$(grep -c '^done id=' "$t/b1.out")" -eq "$(outcomes "$t/b1.log" | cut -d' ' -f1)" ]
finish
