# The transaction sender: signers, nonces, the journal, request checks, the
# queue with submission and status following, and `mpc-indexer tx`.
core_tx_sources = core/signer.c core/signer.h core/nonce.c core/nonce.h \
	core/txjournal.c core/txjournal.h core/txcheck.c core/txcheck.h \
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
