# Faults on the way to the chain: 5xx, 408 timeouts, dropped connections,
# answers that come after we gave up (the transaction landed anyway), an
# endpoint going down mid-flight, InvalidNonce (someone else used the key), a
# transaction dropped because someone else used its nonce first, and Expired
# (a stale block hash).  Each transaction must execute exactly once,
# counted on nearsim's side, and be reported once.
. "$top_srcdir/tests/integration/tx_util.sh"

run_faulty() { # run_faulty NAME FAULT_JSON N
	start_sim --block-ms 100
	conf "$t/$1.conf" 'retry_interval = 200ms\nsweep_interval = 500ms'
	faults "$2"
	"$drv" -c "$t/$1.conf" --state-dir "$t/$1" --count "$3" --wait --timeout 90 \
		--log "$t/$1.log" > "$t/$1.out"
	rc=$?
	injected=$(curl -s "$url/admin/faults" | sed 's/.*"rpc":{[^}]*"injected":{\([^}]*\)}.*/\1/' |
		tr ',' '\n' | sed 's/.*://' | awk '{ n += $1 } END { print n + 0 }')
	faults '{"kind":"all","clear":true}'
	check "$1: the driver finishes (exit $rc) after $injected injected faults" [ "$rc" -eq 0 -a "$injected" -gt 0 ]
	check "$1: $3 succeeded, each reported once" \
		[ "$(grep -c 'status=succeeded' "$t/$1.out")" -eq "$3" -a \
		  "$(grep -o '^done id=[0-9]*' "$t/$1.out" | sort -u | wc -l)" -eq "$3" ]
	exactly_once "$3" "$1"
}

run_faulty 5xx '{"kind":"rpc","5xx":0.3}' 30
run_faulty timeout '{"kind":"rpc","timeout":0.3}' 30
run_faulty reset '{"kind":"rpc","reset":0.25}' 30
run_faulty garbage '{"kind":"rpc","truncate":0.15,"invalid_json":0.15}' 30

# Answers later than our timeout: nearsim sleeps, then executes what we sent
# while we have given up on the request.  We must follow the hash, not sign
# again.
start_sim --block-ms 100
conf "$t/slow.conf" 'retry_interval = 200ms\nstatus_timeout = 1s\nsweep_interval = 500ms'
faults '{"kind":"rpc","latency_ms":1500}'
"$drv" -c "$t/slow.conf" --state-dir "$t/slow" --count 10 --wait --timeout 90 \
	--log "$t/slow.log" > "$t/slow.out" &
dpid=$!
# slow until a send_tx has timed out, however long a loaded machine takes to get there
wait_for 'send_tx: .*; following the hash' "$t/slow.log" 60
faults '{"kind":"all","clear":true}'
wait $dpid
check "slow answers: the driver finishes" [ $? -eq 0 ]
check "slow answers: 10 succeeded" [ "$(grep -c 'status=succeeded' "$t/slow.out")" -eq 10 ]
check "slow answers: send_tx timed out and the hash was followed instead" \
	grep -q 'send_tx: .*; following the hash' "$t/slow.log"
check "slow answers: never signed again" [ "$(field resigns "$t/slow.out")" -eq 0 ]
exactly_once 10 "slow answers"

# Blocks on demand from here on, so that heights are where the test wants them.
producer() { ( while :; do produce 1; sleep 0.1; done ) & prodpid=$!; extra_pids=$prodpid; }
stop_producer() { kill $prodpid 2>/dev/null; wait $prodpid 2>/dev/null; extra_pids=; }
# other_party_sends NONCE BLOCK_HASH OUT: someone else signs verify_tee with our key and
# sends it (wait_until NONE); OUT keeps nearsim's answer to the signing (tx_hash)
other_party_sends() {
	admin sign "{\"signer\":\"frodo.test.near\",\"role\":\"signer\",\"method\":\"verify_tee\",\"args\":{},\"nonce\":$1,\"block_hash\":\"$2\"}" > "$3"
	rpc "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"send_tx\",\"params\":{\"signed_tx_base64\":\"$(sed -n 's/.*"signed_tx_base64":"\([^"]*\)".*/\1/p' "$3")\",\"wait_until\":\"NONE\"}}" > /dev/null
}
height() { stat "$1"; }

# An endpoint going down mid-flight: the first URL is a proxy that we kill
# together with the connections it holds, while what was sent through it waits
# in nearsim's pool.  No block is made before that, so however slow the
# machine, nothing can have finished when the endpoint goes.
if command -v socat >/dev/null 2>&1; then
	start_sim --block-ms 0
	pport=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	socat TCP-LISTEN:$pport,bind=127.0.0.1,reuseaddr,fork TCP:127.0.0.1:$port 2>/dev/null &
	sopid=$!
	extra_pids=$sopid
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$pport/status" || [ $i -ge 600 ]; do
		i=$((i+1)); sleep 0.05
	done
	conf "$t/down.conf" 'retry_interval = 200ms\nsweep_interval = 500ms' \
		"http://127.0.0.1:$pport, $url"
	"$drv" -c "$t/down.conf" --state-dir "$t/down" --count 60 --wait --timeout 90 \
		--log "$t/down.log" > "$t/down.out" &
	dpid=$!
	i=0
	while [ "$(stat pool)" -lt 20 ] && [ $i -lt 600 ]; do i=$((i+1)); sleep 0.05; done
	inpool=$(stat pool)
	# stopped, the proxy cannot fork another connection while we end it and its own
	kill -STOP $sopid
	kill $sopid $(ps -o pid= --ppid $sopid) 2>/dev/null
	kill -CONT $sopid
	wait $sopid 2>/dev/null
	extra_pids=
	before=$(grep -c 'status=succeeded' "$t/down.out")
	producer
	wait $dpid
	rc=$?
	stop_producer
	check "endpoint down: the driver finishes (exit $rc; $inpool in the pool and $before done when the proxy died)" \
		[ "$rc" -eq 0 -a "$inpool" -ge 20 -a "$before" -lt 60 ]
	check "endpoint down: the proxy's failure was seen and the other endpoint used" \
		grep -q "127.0.0.1:$pport.*resting it" "$t/down.log"
	check "endpoint down: 60 succeeded, each reported once" \
		[ "$(grep -c 'status=succeeded' "$t/down.out")" -eq 60 -a \
		  "$(grep -o '^done id=[0-9]*' "$t/down.out" | sort -u | wc -l)" -eq 60 ]
	exactly_once 60 "endpoint down"
else
	ok "# SKIP endpoint down: socat is not installed"
fi

# InvalidNonce: between two batches someone else uses the key with a nonce
# far ahead of ours, and it lands on chain, so the nonces we would use next are
# below the key's nonce at the head (nearsim, like nearcore, judges a nonce
# against the chain, not against its pool).  Only that one block is made until
# we have signed again, so the final block still shows the key's old nonce:
# the new one must come from the error's ak_nonce.
start_sim --block-ms 0
producer
conf "$t/nonce.conf" 'retry_interval = 200ms\nsweep_interval = 500ms'
"$drv" -c "$t/nonce.conf" --state-dir "$t/nonce" --count 3 --then 3 --when "$t/nonce.go" \
	--wait --timeout 90 --log "$t/nonce.log" --log-level debug > "$t/nonce.out" &
dpid=$!
wait_for '^waiting' "$t/nonce.out" 30
stop_producer
head=$(stat head)
far=$(( (head + 1) * 1000000 - 10 ))
bh=$(curl -s "$url/admin/stats" | sed -n 's/.*"final_hash":"\([^"]*\)".*/\1/p')
other_party_sends $far "$bh" "$t/ext.sign"
ext=$(sed -n 's/.*"tx_hash":"\([^"]*\)".*/\1/p' "$t/ext.sign")
check "InvalidNonce: the other party's transaction waits in the pool" [ "$(stat pool)" -eq 1 ]
produce 1
exttx=$(curl -s "$url/admin/txs?hash=$ext")
check "InvalidNonce: the next block includes it, once ($exttx)" \
	[ "$(stat pool)" -eq 0 -a -n "$(echo "$exttx" | grep '"executions":1,"included":true,')" ]
akq="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_type\":\"view_access_key\",\"finality\":\"%s\",\"account_id\":\"frodo.test.near\",\"public_key\":\"$("$sim" --print-key frodo.test.near:signer | sed -n 's/.*"public_key":"\([^"]*\)".*/\1/p')\"}}"
ak_opt=$(rpc "$(printf "$akq" optimistic)" | sed -n 's/.*"nonce":\([0-9]*\).*/\1/p')
ak_final=$(rpc "$(printf "$akq" final)" | sed -n 's/.*"nonce":\([0-9]*\).*/\1/p')
check "InvalidNonce: on chain the key is at $far at the head ($ak_opt) and below it when final ($ak_final)" \
	[ "${ak_opt:-0}" -eq "$far" -a "${ak_final:-$far}" -lt "$far" ]
touch "$t/nonce.go"
wait_for "nonce $((far + 3)) " "$t/nonce.log" 20
check "InvalidNonce: our next nonces were refused by the chain's key nonce" \
	grep -q "InvalidTxError InvalidNonce {\"ak_nonce\":$far," "$t/nonce.log"
check "InvalidNonce: signed again above the other party's nonce, learned from the error alone" \
	grep -q "nonce $((far + 1)) " "$t/nonce.log"
# the first access key read after the first error
ak_read=$(sed -n '/InvalidTxError InvalidNonce/,$ s/.*access key .*: nonce \([0-9]*\), .*/\1/p' "$t/nonce.log" | head -1)
check "InvalidNonce: the access key read again after the error still said ${ak_read:-nothing} (final)" \
	[ "${ak_read:-$far}" -lt "$far" ]
producer
wait $dpid
check "InvalidNonce: the driver finishes" [ $? -eq 0 ]
check "InvalidNonce: all 6 succeeded" [ "$(grep -c 'status=succeeded' "$t/nonce.out")" -eq 6 ]
check "InvalidNonce: one error per transaction in flight, no storm ($(field nonce_errors "$t/nonce.out") errors, $(field resigns "$t/nonce.out") re-signed)" \
	[ "$(field nonce_errors "$t/nonce.out")" -ge 1 -a "$(field nonce_errors "$t/nonce.out")" -le 3 -a \
	  "$(field resigns "$t/nonce.out")" -eq "$(field nonce_errors "$t/nonce.out")" ]
exactly_once 7 "InvalidNonce (ours and the other party's)"
no_key_material "InvalidNonce at debug level" "$t/nonce.log" "$t/frodo.key"
stop_producer

# The same nonce, other bytes: another party's transaction takes the nonce our
# next one will use and reaches the pool first.  Both are admitted (a nonce is
# judged against the chain, not the pool); when the block is made theirs
# executes and ours is dropped.  Ours is then unknown to the node: the same
# bytes go again, are refused (InvalidNonce), are checked unknown and only then
# signed again with a new nonce, and execute once.  block_refresh = 1h keeps
# the final height the sender signs with, so our next nonce is the last + 1.
start_sim --block-ms 0 --tx-timeout-ms 2000
producer
conf "$t/dup.conf" 'retry_interval = 200ms\nsweep_interval = 500ms\nblock_refresh = 1h'
"$drv" -c "$t/dup.conf" --state-dir "$t/dup" --count 3 --then 3 --when "$t/dup.go" \
	--wait --timeout 90 --log "$t/dup.log" --log-level debug > "$t/dup.out" &
dpid=$!
wait_for '^waiting' "$t/dup.out" 30
stop_producer
last=$(sed -n 's/.* signed: hash .* nonce \([0-9]*\) .*/\1/p' "$t/dup.log" | sort -n | tail -1)
bh=$(curl -s "$url/admin/stats" | sed -n 's/.*"head_hash":"\([^"]*\)".*/\1/p')
other_party_sends $((last + 1)) "$bh" "$t/dup.sign"
touch "$t/dup.go"
i=0; while [ "$(stat pool)" -lt 4 ] && [ $i -lt 600 ]; do i=$((i+1)); sleep 0.05; done
ours=$(sed -n "s/.* signed: hash \([^ ]*\) nonce $((last + 1)) .*/\1/p" "$t/dup.log" | head -1)
check "same nonce: ours ($ours) and theirs, both nonce $((last + 1)), wait in the pool with our next two" \
	[ -n "$ours" -a "$(stat pool)" -eq 4 ]
produce 1
check "same nonce: the block executes theirs and drops ours" \
	sh -c "curl -s '$url/admin/txs?hash=$ours' | grep -q '\"executions\":0,\"included\":false,\"dropped\":true'"
producer
wait $dpid
check "same nonce: the driver finishes" [ $? -eq 0 ]
check "same nonce: all 6 succeeded, each reported once" \
	[ "$(grep -c 'status=succeeded' "$t/dup.out")" -eq 6 -a \
	  "$(grep -o '^done id=[0-9]*' "$t/dup.out" | sort -u | wc -l)" -eq 6 ]
check "same nonce: ours was sent again, refused, found unknown, and only then signed again" \
	sh -c "grep -q 'hash $ours nonce $((last + 1)): InvalidTxError InvalidNonce.*may have been sent before' '$t/dup.log' &&
	       grep -q 'unknown_tx for hash $ours; signing it again' '$t/dup.log'"
check "same nonce: signed again once ($(field resigns "$t/dup.out") re-signed, $(field nonce_errors "$t/dup.out") nonce errors)" \
	[ "$(field resigns "$t/dup.out")" -eq 1 -a "$(field nonce_errors "$t/dup.out")" -eq 1 ]
exactly_once 7 "same nonce (ours and the other party's)"
no_key_material "same nonce at debug level" "$t/dup.log" "$t/frodo.key"
stop_producer

# Expired: the second batch is signed on a block hash that has aged past the
# validity period (6 blocks here).
start_sim --block-ms 0 --tx-validity 6
producer
conf "$t/exp.conf" 'retry_interval = 200ms\nsweep_interval = 500ms\nblock_refresh = 1h\nvalidity_blocks = 6'
"$drv" -c "$t/exp.conf" --state-dir "$t/exp" --count 2 --then 3 --when "$t/exp.go" \
	--wait --timeout 90 --log "$t/exp.log" > "$t/exp.out" &
dpid=$!
wait_for '^waiting' "$t/exp.out" 30
produce 12
touch "$t/exp.go"
wait $dpid
check "Expired: the driver finishes" [ $? -eq 0 ]
check "Expired: all 5 succeeded" [ "$(grep -c 'status=succeeded' "$t/exp.out")" -eq 5 ]
check "Expired: seen, and signed again on a fresh block hash" \
	[ "$(grep -c 'InvalidTxError Expired' "$t/exp.log")" -ge 1 -a "$(field resigns "$t/exp.out")" -ge 1 ]
exactly_once 5 "Expired"
stop_producer
finish
