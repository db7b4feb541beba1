# The daemon itself: a plugin (tests/plugins/tx_burst) submits 100
# transactions through the host's function table, the daemon is killed with
# kill -9 while they are queued and in flight, and restarted on the same state
# directory: all 100 execute exactly once (counted by nearsim) and each outcome
# is reported once (the callbacks of the first run plus the log lines of the
# second, where the journal's transactions have no callback any more).
. "$top_srcdir/tests/integration/tx_util.sh"
plugins="$MPCI_TEST_PLUGINDIR"
[ -f "$plugins/tx_burst.so" ] || skip_all "the tx_burst test plugin is not built"

producer() { ( while :; do produce 1; sleep 0.1; done ) & prodpid=$!; extra_pids=$prodpid; }
stop_producer() { kill $prodpid 2>/dev/null; wait $prodpid 2>/dev/null; extra_pids=; }

start_sim --block-ms 0
conf "$t/d.conf" 'retry_interval = 200ms\nsweep_interval = 500ms\nin_flight_max = 40'
cat >> "$t/d.conf" <<EOC
[plugin.tx_burst]
path = $plugins/tx_burst.so
count = 100
out = $t/outcomes
EOC
sed -i "s|^\[indexer\]|[indexer]\nlog_level = info\nplugin_dir = $plugins|" "$t/d.conf"

"$cli" -c "$t/d.conf" run 2> "$t/run1.log" &
dpid=$!
wait_for 'submitted 100 transactions' "$t/run1.log" 30
wait_for 'tx 40 .* signed' "$t/run1.log" 30
i=0; while [ "$(stat pool)" != 40 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
kill -9 $dpid
wait $dpid 2>/dev/null
check "run 1: the plugin submitted 100 through the host" grep -q 'submitted 100 transactions' "$t/run1.log"
check "run 1: 40 signed (the pipeline), none reported before the kill -9" \
	[ "$(grep -c 'signed: hash' "$t/run1.log")" -eq 40 -a ! -s "$t/outcomes" ]
check "run 1: nearsim holds the 40 in its pool" [ "$(stat pool)" -eq 40 ]

producer
MPC_INDEXER_PLUGIN_TX_BURST__COUNT=0 "$cli" -c "$t/d.conf" run 2> "$t/run2.log" &
dpid=$!
i=0
# (through cat: the daemon may not have created its log yet, and grep -c of a
# missing file prints nothing, which would end the wait at once)
while [ "$(cat "$t/run2.log" 2>/dev/null | grep -c '(replayed from the journal)')" -lt 100 ] && [ $i -lt 1200 ]; do
	sleep 0.05; i=$((i+1))
done
kill -TERM $dpid
wait $dpid
rc=$?
stop_producer
check "run 2: the daemon stops cleanly on SIGTERM (exit $rc)" [ "$rc" -eq 0 ]
check "run 2: the 100 came back from the journal" grep -q 'journal: 100 transactions pending from before' "$t/run2.log"
exactly_once 100 "daemon killed with 100 queued"
n=$(cat "$t/run1.log" "$t/run2.log" | sed -n 's/.* tx \([0-9]*\) \(succeeded\|failed\|unknown\|rejected\): .*/\1/p' | sort -u | wc -l)
total=$(cat "$t/run1.log" "$t/run2.log" | grep -c ' tx [0-9]* \(succeeded\|failed\|unknown\|rejected\): ')
check "every outcome reported once ($total reports for $n transactions)" [ "$total" -eq 100 -a "$n" -eq 100 ]
check "all succeeded" [ "$(grep -c ' succeeded: .*(replayed from the journal)' "$t/run2.log")" -eq 100 ]

# Round 2: the kill -9 comes while outcomes arrive.  Blocks come every 100 ms
# until 20 callbacks are in, then no more: with 8 in flight, the rest cannot
# finish before the kill, however slow the machine.
reports() { cat "$@" | grep -c ' tx [0-9]* \(succeeded\|failed\|unknown\|rejected\): '; }
start_sim --block-ms 0
conf "$t/d2.conf" 'retry_interval = 200ms\nsweep_interval = 500ms\nin_flight_max = 8'
cat >> "$t/d2.conf" <<EOC
[plugin.tx_burst]
path = $plugins/tx_burst.so
count = 100
out = $t/outcomes2
EOC
sed -i -e "s|^\[indexer\]|[indexer]\nlog_level = info\nplugin_dir = $plugins|" -e "s|$t/state|$t/state2|" "$t/d2.conf"
"$cli" -c "$t/d2.conf" run 2> "$t/run3.log" &
dpid=$!
i=0
while [ "$(cat "$t/outcomes2" 2>/dev/null | wc -l)" -lt 20 ] && [ $i -lt 600 ]; do
	produce 1; sleep 0.1; i=$((i+1))
done
kill -9 $dpid
wait $dpid 2>/dev/null
before=$(wc -l < "$t/outcomes2")
check "round 2: killed after $before of 100 callbacks" [ "$before" -ge 20 -a "$before" -lt 100 ]
check "round 2: each callback was also logged" [ "$(reports "$t/run3.log")" -eq "$before" ]
producer
MPC_INDEXER_PLUGIN_TX_BURST__COUNT=0 "$cli" -c "$t/d2.conf" run 2> "$t/run4.log" &
dpid=$!
wait_for 'transactions pending from before' "$t/run4.log" 30
i=0
while [ "$(reports "$t/run3.log" "$t/run4.log")" -lt 100 ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
kill -TERM $dpid
wait $dpid
rc=$?
stop_producer
check "round 2: the restart stops cleanly (exit $rc)" [ $rc -eq 0 ]
exactly_once 100 "round 2"
n=$(cat "$t/run3.log" "$t/run4.log" | sed -n 's/.* tx \([0-9]*\) \(succeeded\|failed\|unknown\|rejected\): .*/\1/p' | sort -u | wc -l)
check "round 2: every outcome reported once ($(reports "$t/run3.log" "$t/run4.log") reports for $n transactions)" \
	[ "$(reports "$t/run3.log" "$t/run4.log")" -eq 100 -a "$n" -eq 100 ]
cat "$t/run1.log" "$t/run2.log" "$t/run3.log" "$t/run4.log" > "$t/all.log"
no_key_material "the daemon's logs, four runs" "$t/all.log" "$t/frodo.key"
finish
