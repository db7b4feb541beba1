# The sender against nearsim: what it signs is accepted and executes once;
# send reports acceptance, send_and_wait the outcome (value, contract failure,
# a transaction the chain refuses).
. "$top_srcdir/tests/integration/tx_util.sh"

start_sim --block-ms 100
conf "$t/c.conf" 'retry_interval = 200ms'

"$drv" -c "$t/c.conf" --state-dir "$t/s1" --count 10 --log "$t/send.log" --timeout 60 > "$t/send.out"
check "send: the driver finishes" [ $? -eq 0 ]
check "send: 10 callbacks, each accepted with a hash" \
	[ "$(grep -c '^done id=[0-9]* status=accepted hash=[1-9A-HJ-NP-Za-km-z]\{43,44\} ' "$t/send.out")" -eq 10 ]
exactly_once 10 "send" # accepted means included: nearsim counts it executed

"$drv" -c "$t/c.conf" --state-dir "$t/s2" --count 10 --wait --log "$t/wait.log" --timeout 60 > "$t/wait.out"
check "send_and_wait: the driver finishes" [ $? -eq 0 ]
check "send_and_wait: 10 succeeded with the contract's value" \
	[ "$(grep -c 'status=succeeded .*value=true error=-' "$t/wait.out")" -eq 10 ]
check "every id reported once" [ "$(grep -o '^done id=[0-9]*' "$t/wait.out" | sort -u | wc -l)" -eq 10 ]
exactly_once 20 "send + send_and_wait"
check "the hash is logged when signed" grep -q 'signed: hash [1-9A-HJ-NP-Za-km-z]* nonce' "$t/wait.log"
check "no nonce errors, nothing sent twice" \
	[ "$(field nonce_errors "$t/wait.out")" -eq 0 -a "$(field resubmissions "$t/wait.out")" -eq 0 ]

"$drv" -c "$t/c.conf" --state-dir "$t/s3" --count 1 --wait --method no_such_method --timeout 60 \
	--log "$t/fail.log" > "$t/fail.out"
check "a contract failure is reported as failed, with the error" \
	grep -q 'status=failed .*error={"ActionError":{"index":0,"kind":{"FunctionCallError":{"MethodResolveError":"MethodNotFound"}}}}' "$t/fail.out"
exactly_once 21 "the failed call executed (once)"

# frodo's key is a function-call key: the chain refuses a deposit with it
"$cli" -c "$t/c.conf" tx call mpc.test.near verify_tee '{}' --deposit 1 --wait > "$t/dep2.out" 2> "$t/dep2.err"
rc=$?
check "a transaction the chain refuses is rejected with the node's reason (exit $rc)" \
	grep -q 'status: rejected' "$t/dep2.out"
check "the reason names DepositWithFunctionCall" grep -q 'DepositWithFunctionCall' "$t/dep2.out"
exactly_once 21 "the refused one never executed"
finish
