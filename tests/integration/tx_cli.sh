# `mpc-indexer tx`: offline signing reproduces vector V5; calls against nearsim
# with a configuration or with --rpc/--key-file only; bad arguments are refused
# before anything is signed; a key file readable by others is refused; and no
# log line at any level (debug here) contains key material.
. "$top_srcdir/tests/integration/tx_util.sh"

# V5 (vectors.md): the nearcore test key for "alice.near"
printf '%s\n' 'ed25519:2wyRcSwSuHtRVmkMCGjPwnzZmQLeXLzLLyED1NDMt4BjnKgQL6tF85yBx6Jr26D2dUNeC716RBoTxntVHsegogYw' > "$t/alice.key"
chmod 600 "$t/alice.key"
"$cli" -c "$t/none.conf" tx sign contract.testnet sign \
	'{"request":{"payload":"hello","path":"m/0","key_version":0}}' --key-file "$t/alice.key" \
	--account signer.testnet --nonce 123456789012345 \
	--block-hash 244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM --gas 30T --deposit 1 > "$t/v5.out" 2> "$t/v5.err"
check "tx sign works offline, without a configuration file (exit $?)" [ $? -eq 0 ]
check "tx sign: the V5 hash" grep -qx 'hash: FPdJmK3VAE5xrKapsgvypQbYswURvy9E8XYue8KaPHVg' "$t/v5.out"
check "tx sign: the V5 signed transaction, byte for byte" grep -qx 'signed_tx_base64: DgAAAHNpZ25lci50ZXN0bmV0AA9WpfAo38CJ7Hw5wRg7MhtNj4m6W+yeF2KAPMJJH274ed8NhkhwAAAQAAAAY29udHJhY3QudGVzdG5ldA+kc/0mkB3ylr5q3EzE3zTQQO+iQ1IktphpEOYwwv72AQAAAAIEAAAAc2lnbjwAAAB7InJlcXVlc3QiOnsicGF5bG9hZCI6ImhlbGxvIiwicGF0aCI6Im0vMCIsImtleV92ZXJzaW9uIjowfX0A4FfrSBsAAAEAAAAAAAAAAAAAAAAAAAAAtu6JHXsCOge5occSDBlfbQpSddtbae0aAzylfb4XYwtSQa+8wJIJGTrvspCUG20XO6zE7cHkviIlxoQR9FXxCQ==' "$t/v5.out"

start_sim --block-ms 100
conf "$t/c.conf" 'retry_interval = 200ms'
sed -i 's/^\[indexer\]/[indexer]\nlog_level = debug/' "$t/c.conf"
MPC_INDEXER_INDEXER__LOG_LEVEL=debug "$cli" -c "$t/c.conf" tx call mpc.test.near verify_tee '{}' --wait \
	> "$t/call.out" 2> "$t/call.err"
check "tx call --wait with the configured signer: exit 0" [ $? -eq 0 ]
check "it prints the hash and the outcome" \
	grep -q '^hash: [1-9A-HJ-NP-Za-km-z]\{43,44\}$' "$t/call.out"
check "status and value" [ "$(sed -n 's/^status: //p' "$t/call.out")" = succeeded -a \
	"$(sed -n 's/^value: //p' "$t/call.out")" = true ]
exactly_once 1 "tx call"

key frodo.test.near "$t/frodo-full.key"
"$cli" -c "$t/missing.conf" tx call mpc.test.near verify_tee '{}' --rpc "$url" \
	--key-file "$t/frodo-full.key" > "$t/call2.out" 2> "$t/call2.err"
check "tx call with --rpc and --key-file, no configuration file: exit $?" [ $? -eq 0 ]
check "without --wait it reports acceptance" grep -qx 'status: accepted' "$t/call2.out"
exactly_once 2 "both calls"

refused() { # refused DESCRIPTION MESSAGE ARGS...
	d=$1; m=$2; shift 2
	"$cli" -c "$t/c.conf" tx call "$@" > "$t/r.out" 2> "$t/r.err"
	rc=$?
	if [ $rc -eq 2 ] && grep -qF -- "$m" "$t/r.err" && grep -q 'nothing was signed' "$t/r.err" &&
	   ! grep -q 'signed: hash' "$t/r.err"; then ok "refused: $d"
	else not_ok "refused: $d (exit $rc)"; sed 's/^/#   /' "$t/r.err"; fi
}
refused "an invalid account id" "receiver 'MPC!.near' is not a valid NEAR account id" 'MPC!.near' verify_tee '{}'
refused "args that are not JSON" "'{request: 1}'" mpc.test.near verify_tee '{request: 1}'
refused "gas over the limit" "gas 2000000000000000 is over the per-transaction limit" mpc.test.near verify_tee '{}' --gas 2P
refused "a deposit that is not a u128" "deposit '0.5' is not an amount of yoctoNEAR" mpc.test.near verify_tee '{}' --deposit 0.5
refused "a deposit above 2^128-1" "deposit '340282366920938463463374607431768211456'" \
	mpc.test.near verify_tee '{}' --deposit 340282366920938463463374607431768211456
"$cli" -c "$t/c.conf" tx call mpc.test.near verify_tee '{}' --gas lots > "$t/r.out" 2> "$t/r.err"
check "refused: gas that is not a number (exit $?)" grep -q "gas 'lots' is not a number" "$t/r.err"
exactly_once 2 "nothing refused reached the chain"

# key files readable by group or others
cp "$t/frodo.key" "$t/open.key"; chmod 644 "$t/open.key"
"$cli" -c "$t/none.conf" tx call mpc.test.near verify_tee '{}' --rpc "$url" --key-file "$t/open.key" \
	--account frodo.test.near > "$t/o.out" 2> "$t/o.err"
rc=$?
check "a key file readable by others is refused (exit $rc)" [ $rc -eq 3 ]
check "saying why and what to do" grep -q 'mode 0644 is readable by group or others; chmod 600 it' "$t/o.err"
chmod 640 "$t/open.key"
sed "s|key_file = .*|key_file = $t/open.key|" "$t/c.conf" > "$t/open.conf"
"$drv" -c "$t/open.conf" --state-dir "$t/o" --count 1 > "$t/o2.out" 2> "$t/o2.err"
rc=$?
if [ $rc -eq 3 ] && grep -q 'readable by group or others' "$t/o2.err"; then
	ok "the sender refuses a group-readable key file from the configuration (exit $rc)"
else
	not_ok "the sender refuses a group-readable key file from the configuration (exit $rc)"
fi

# [tx] values the schema cannot check are refused with file:line
conf "$t/bad.conf" 'wait_until = SOON'
"$drv" -c "$t/bad.conf" --state-dir "$t/bad" --count 1 > "$t/bad.out" 2> "$t/bad.err"
rc=$?
if [ $rc -eq 3 ] && grep -q 'bad.conf:[0-9]*: \[tx\] wait_until: want EXECUTED_OPTIMISTIC, EXECUTED or FINAL' "$t/bad.err"; then
	ok "a bad [tx] wait_until is a configuration error naming file:line (exit $rc)"
else
	not_ok "a bad [tx] wait_until is a configuration error naming file:line (exit $rc)"
fi
conf "$t/bad2.conf" 'default_gas = 2P'
"$drv" -c "$t/bad2.conf" --state-dir "$t/bad" --count 1 > "$t/bad.out" 2> "$t/bad.err"
check "default_gas over 1 Pgas is refused" grep -q 'bad2.conf:[0-9]*: \[tx\] default_gas: want 1 gas .. 1 Pgas' "$t/bad.err"

# Key material never reaches a log, at debug level, through success, failure
# and refusals (tx_faults.sh checks its InvalidNonce run the same way).
"$drv" -c "$t/c.conf" --state-dir "$t/d" --count 5 --wait --log "$t/debug.log" --log-level debug \
	--timeout 60 > "$t/d.out"
"$drv" -c "$t/c.conf" --state-dir "$t/d" --count 2 --wait --method nope --log "$t/debug.log" \
	--log-level debug --timeout 60 >> "$t/d.out"
check "debug logs were written ($(wc -l < "$t/debug.log") lines, $(grep -c DEBUG "$t/debug.log") at debug)" \
	[ "$(grep -c DEBUG "$t/debug.log")" -gt 10 ]
cat "$t/call.err" "$t/call2.err" "$t/v5.err" "$t/o.err" "$t/o2.err" >> "$t/debug.log"
no_key_material "debug logs, CLI output" "$t/debug.log" "$t/frodo.key" "$t/frodo-full.key" "$t/alice.key"
finish
