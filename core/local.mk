# The daemon: one convenience library with everything but main(), so that tests,
# benchmarks and the simulator can link the same code.
include $(srcdir)/core/runtime.mk
include $(srcdir)/core/tx.mk
include $(srcdir)/core/blocks.mk
include $(srcdir)/core/viewer.mk

core_host_sources = core/metrics.c core/metrics.h core/provider.h \
	core/plugin_abi.c core/plugin_abi.h core/host.c core/host.h \
	core/host_internal.h core/host_api.c core/settings.c core/settings.h \
	core/keyfile.c core/keyfile.h core/daemon.c core/daemon.h core/heap.c core/heap.h \
	core/cmd_run.c core/cmd_plugins.c core/cli.h \
	core/sources.c core/sources.h

noinst_LTLIBRARIES += core/libmpci.la
core_libmpci_la_SOURCES = $(core_runtime_sources) $(core_host_sources) $(core_tx_sources) $(core_blocks_sources) $(core_viewer_sources)
core_libmpci_la_CFLAGS = $(AM_CFLAGS) $(LIBEV_CFLAGS) $(CURL_CFLAGS) $(CJSON_CFLAGS) \
	$(SODIUM_CFLAGS) $(INIH_CFLAGS)
core_libmpci_la_LIBADD = core/near/libnear.la $(LIBEV_LIBS) $(CURL_LIBS) $(CJSON_LIBS) \
	$(SODIUM_LIBS) $(INIH_LIBS) $(DL_LIBS) $(PTHREAD_LIBS)

bin_PROGRAMS += mpc-indexer
mpc_indexer_SOURCES = core/main.c core/cmd_backup.c \
	plugins/backup-migration/backup_store.c plugins/backup-migration/backup_store.h
mpc_indexer_CFLAGS = $(core_libmpci_la_CFLAGS)
mpc_indexer_LDADD = core/libmpci.la

# libFuzzer: what the transaction sender reads (key files, gas, deposits, request
# checks, RPC outcomes); built with $(CLANG) by the script, skips without clang.
TESTS += tests/fuzz/run-tx.sh
EXTRA_DIST += tests/fuzz/run-tx.sh tests/fuzz/fuzz_tx_inputs.c
dist_check_DATA += tests/fixtures/tx/corpus/fuzz_tx_inputs/gas_digits \
	tests/fixtures/tx/corpus/fuzz_tx_inputs/gas_pgas \
	tests/fixtures/tx/corpus/fuzz_tx_inputs/gas_tgas \
	tests/fixtures/tx/corpus/fuzz_tx_inputs/key_env_bare \
	tests/fixtures/tx/corpus/fuzz_tx_inputs/key_env_json \
	tests/fixtures/tx/corpus/fuzz_tx_inputs/key_file_group_readable \
	tests/fixtures/tx/corpus/fuzz_tx_inputs/key_file_json \
	tests/fixtures/tx/corpus/fuzz_tx_inputs/key_file_private_key \
	tests/fixtures/tx/corpus/fuzz_tx_inputs/request_respond \
	tests/fixtures/tx/corpus/fuzz_tx_inputs/request_vote \
	tests/fixtures/tx/corpus/fuzz_tx_inputs/u128_max \
	tests/fixtures/tx/corpus/fuzz_tx_inputs/u64_nonce
