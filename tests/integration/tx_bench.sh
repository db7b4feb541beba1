# The transaction benchmark (make bench) runs and reports what acceptance
# point 5 asks for: confirmed function-call transactions per second with one
# signer, the nonce errors, and libsodium's raw signing rate as the ceiling.
# A small count, and no figure is judged here: speed belongs to make bench.
. "$top_srcdir/tests/tap.sh"
command -v awk >/dev/null 2>&1 || skip_all "awk is not installed"

out=$(TX_BENCH_COUNT=300 top_builddir="$top_builddir" sh "$top_srcdir/tests/bench/tx_throughput.sh" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
check "the benchmark finishes with every transaction confirmed (exit $rc)" [ $rc -eq 0 ]
check "it reports libsodium's raw signing rate" \
	[ "$(echo "$out" | sed -n 's/^sign_rate libsodium_ed25519_per_s=\([0-9]*\)$/\1/p')" -gt 0 ]
check "it reports confirmed transactions per second, with no nonce errors" \
	[ "$(echo "$out" | sed -n 's/^bench txs=300 .*confirmed_per_s=\([0-9]*\) nonce_errors=0 .*/\1/p')" -gt 0 ]
check "and the ratio to the signing ceiling and the verdict against 2000/s" \
	[ "$(echo "$out" | grep -c -E '^(ratio: confirmed / raw signing = [0-9.]+|OK: [0-9]+ confirmed/s|BELOW TARGET: [0-9]+ confirmed/s.*)$')" -eq 2 ]
check "with the CPU time of the sender and of nearsim" \
	[ "$(echo "$out" | grep -c '^cpu sender_s=[0-9.]* nearsim_s=[0-9.]* .*both_tx_per_cpu_s=[0-9]*$')" -eq 1 ]
finish
