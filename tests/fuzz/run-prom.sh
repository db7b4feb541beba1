#!/bin/sh
# Builds the fuzzer of prometheus-monitor's contract view decoders (contract.c,
# contract_metrics.c, through the core's registry and the plugin's /metrics
# renderer) with clang (ASan+UBSan) and runs it briefly, seeded with the state
# fixtures and every view's example answer (tests/fixtures/prom).  FUZZ_RUNS=N
# runs longer.
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init prom libcjson
libs="-lm -lpthread"
pm="$top_srcdir/plugins/prometheus-monitor"
fix="$top_srcdir/tests/fixtures/prom"
fuzz_seeds fuzz_prom_contract "$fix/corpus/fuzz_prom_contract"
for f in "$fix"/state_*.json "$fix"/mainnet_state_*.json; do
	{ printf '\000'; cat "$f"; } >"$fuzz_corpus/$(basename "$f")"
done
fuzz_build fuzz_prom_contract -I"$top_srcdir/include" -I"$top_srcdir/core" -I"$pm" \
	"$pm/contract.c" "$pm/contract_metrics.c" "$pm/expo.c" "$pm/pbuf.c" \
	"$top_srcdir/core/metrics.c" &&
	fuzz_one fuzz_prom_contract 20000 16384
finish
