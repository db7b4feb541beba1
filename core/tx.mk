# The transaction sender: signers, nonces, the journal, request checks, the
# queue with submission and status following, and `mpc-indexer tx`.
core_tx_sources = core/signer.c core/signer.h core/nonce.c core/nonce.h \
	core/txjournal.c core/txjournal.h core/txcheck.c core/txcheck.h \
	core/txoutcome.c core/txoutcome.h \
	core/txsend.c core/txsend.h core/cmd_tx.c

tx_test_cflags = $(AM_CFLAGS) $(LIBEV_CFLAGS) $(CURL_CFLAGS) $(CJSON_CFLAGS) $(SODIUM_CFLAGS) \
	$(INIH_CFLAGS)
tx_test_ldadd = core/libmpci.la $(LIBEV_LIBS) $(CURL_LIBS) $(CJSON_LIBS) $(SODIUM_LIBS) \
	$(PTHREAD_LIBS)

# The sender on its own against nearsim: integration tests and the benchmark.
check_PROGRAMS += tests/integration/tx_driver
tests_integration_tx_driver_SOURCES = tests/integration/tx_driver.c
tests_integration_tx_driver_CFLAGS = $(tx_test_cflags)
tests_integration_tx_driver_LDADD = $(tx_test_ldadd)

# Unit tests (TAP).
tx_unit_tests = tests/unit/test_txjournal tests/unit/test_nonce tests/unit/test_txcheck \
	tests/unit/test_txoutcome tests/unit/test_signer tests/unit/test_txsend
check_PROGRAMS += $(tx_unit_tests)
TESTS += $(tx_unit_tests)
tests_unit_test_txjournal_SOURCES = tests/unit/test_txjournal.c
tests_unit_test_txjournal_CFLAGS = $(tx_test_cflags)
tests_unit_test_txjournal_LDADD = $(tx_test_ldadd)
tests_unit_test_nonce_SOURCES = tests/unit/test_nonce.c
tests_unit_test_nonce_CFLAGS = $(tx_test_cflags)
tests_unit_test_nonce_LDADD = $(tx_test_ldadd)
tests_unit_test_txcheck_SOURCES = tests/unit/test_txcheck.c
tests_unit_test_txcheck_CFLAGS = $(tx_test_cflags)
tests_unit_test_txcheck_LDADD = $(tx_test_ldadd)
tests_unit_test_txoutcome_SOURCES = tests/unit/test_txoutcome.c
tests_unit_test_txoutcome_CFLAGS = $(tx_test_cflags)
tests_unit_test_txoutcome_LDADD = $(tx_test_ldadd)
tests_unit_test_signer_SOURCES = tests/unit/test_signer.c
tests_unit_test_signer_CFLAGS = $(tx_test_cflags)
tests_unit_test_signer_LDADD = $(tx_test_ldadd)
tests_unit_test_txsend_SOURCES = tests/unit/test_txsend.c
tests_unit_test_txsend_CFLAGS = $(tx_test_cflags)
tests_unit_test_txsend_LDADD = $(tx_test_ldadd)

# Integration tests against nearsim (they start it themselves, on a free port).
tx_integration_tests = tests/integration/tx_send.sh tests/integration/tx_faults.sh \
	tests/integration/tx_crash.sh tests/integration/tx_cli.sh tests/integration/tx_daemon.sh \
	tests/integration/tx_bench.sh
dist_check_SCRIPTS += $(tx_integration_tests)
dist_check_DATA += tests/integration/tx_util.sh
TESTS += $(tx_integration_tests)

# A test plugin that submits a burst of transactions through the host (the
# daemon-level kill -9 test).
check_LTLIBRARIES += tests/plugins/tx_burst.la
tests_plugins_tx_burst_la_SOURCES = tests/plugins/tx_burst.c
tests_plugins_tx_burst_la_LDFLAGS = $(test_plugin_flags)

# make bench: transactions per second against nearsim, and libsodium's ceiling
# (figures and the design in doc/tx-sender.md).
BENCHES += tests/bench/tx_throughput.sh
EXTRA_DIST += doc/tx-sender.md

# libFuzzer targets: the journal as it is read back after a crash, and a
# signer's key file or variable (skip without clang).
TESTS += tests/fuzz/run-txjournal.sh tests/fuzz/run-signer.sh
EXTRA_DIST += tests/fuzz/run-signer.sh tests/fuzz/fuzz_signer_key.c tests/fuzz/fuzz_no_key.h \
	tests/fuzz/fuzz_scratch.h
EXTRA_DIST += tests/fuzz/run-txjournal.sh tests/fuzz/fuzz_txjournal.c
dist_check_DATA += tests/fixtures/tx/corpus/fuzz_txjournal/hwm_only \
	tests/fixtures/tx/corpus/fuzz_txjournal/signed_then_done \
	tests/fixtures/tx/corpus/fuzz_txjournal/three_signed
