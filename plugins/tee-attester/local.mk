# plugins/tee-attester: TDX attestation from the dstack agent, submitted to
# the MPC contract and kept fresh.  The plugin sees only the public header.
tee_cppflags = -I$(top_srcdir)/include -D_GNU_SOURCE
tee_cflags = $(AM_CFLAGS) $(CJSON_CFLAGS) $(CRYPTO_CFLAGS)

# Everything but the lifecycle, in a convenience library the unit tests link.
noinst_LTLIBRARIES += plugins/tee-attester/libteeattest.la
plugins_tee_attester_libteeattest_la_SOURCES = \
	plugins/tee-attester/cause.c plugins/tee-attester/cause.h \
	plugins/tee-attester/codec.c plugins/tee-attester/codec.h \
	plugins/tee-attester/report_data.c plugins/tee-attester/report_data.h \
	plugins/tee-attester/quote.c plugins/tee-attester/quote.h \
	plugins/tee-attester/pck.c plugins/tee-attester/pck.h \
	plugins/tee-attester/json_span.c plugins/tee-attester/json_span.h \
	plugins/tee-attester/dstack.c plugins/tee-attester/dstack.h \
	plugins/tee-attester/collateral.c plugins/tee-attester/collateral.h \
	plugins/tee-attester/measurements.c plugins/tee-attester/measurements.h \
	plugins/tee-attester/stored.c plugins/tee-attester/stored.h \
	plugins/tee-attester/args.c plugins/tee-attester/args.h \
	plugins/tee-attester/outfile.c plugins/tee-attester/outfile.h
plugins_tee_attester_libteeattest_la_CPPFLAGS = $(tee_cppflags)
plugins_tee_attester_libteeattest_la_CFLAGS = $(tee_cflags)
plugins_tee_attester_libteeattest_la_LIBADD = $(CJSON_LIBS) $(CRYPTO_LIBS)

plugin_LTLIBRARIES += plugins/tee-attester/tee-attester.la
plugins_tee_attester_tee_attester_la_SOURCES = plugins/tee-attester/plugin.c \
	plugins/tee-attester/cycle.c plugins/tee-attester/attester.h
plugins_tee_attester_tee_attester_la_CPPFLAGS = $(tee_cppflags)
plugins_tee_attester_tee_attester_la_CFLAGS = $(tee_cflags)
plugins_tee_attester_tee_attester_la_LDFLAGS = $(plugin_link_flags)
plugins_tee_attester_tee_attester_la_LIBADD = plugins/tee-attester/libteeattest.la

EXTRA_DIST += plugins/tee-attester/README.md

# Unit tests of the parts, against the real fixtures (tests/fixtures/tee/).
tee_unit_tests = tests/unit/test_tee_report_data tests/unit/test_tee_quote \
	tests/unit/test_tee_dstack tests/unit/test_tee_collateral tests/unit/test_tee_args
check_PROGRAMS += $(tee_unit_tests)
TESTS += $(tee_unit_tests)
tee_test_cppflags = $(tee_cppflags) -I$(top_srcdir)/plugins/tee-attester
tee_test_ldadd = plugins/tee-attester/libteeattest.la $(CJSON_LIBS) $(CRYPTO_LIBS)
tests_unit_test_tee_report_data_SOURCES = tests/unit/test_tee_report_data.c tests/unit/test_tee_util.h
tests_unit_test_tee_report_data_CPPFLAGS = $(tee_test_cppflags)
tests_unit_test_tee_report_data_CFLAGS = $(tee_cflags)
tests_unit_test_tee_report_data_LDADD = $(tee_test_ldadd)
tests_unit_test_tee_quote_SOURCES = tests/unit/test_tee_quote.c tests/unit/test_tee_util.h
tests_unit_test_tee_quote_CPPFLAGS = $(tee_test_cppflags)
tests_unit_test_tee_quote_CFLAGS = $(tee_cflags)
tests_unit_test_tee_quote_LDADD = $(tee_test_ldadd)
tests_unit_test_tee_dstack_SOURCES = tests/unit/test_tee_dstack.c tests/unit/test_tee_util.h
tests_unit_test_tee_dstack_CPPFLAGS = $(tee_test_cppflags)
tests_unit_test_tee_dstack_CFLAGS = $(tee_cflags)
tests_unit_test_tee_dstack_LDADD = $(tee_test_ldadd)
tests_unit_test_tee_collateral_SOURCES = tests/unit/test_tee_collateral.c tests/unit/test_tee_util.h
tests_unit_test_tee_collateral_CPPFLAGS = $(tee_test_cppflags)
tests_unit_test_tee_collateral_CFLAGS = $(tee_cflags)
tests_unit_test_tee_collateral_LDADD = $(tee_test_ldadd)
tests_unit_test_tee_args_SOURCES = tests/unit/test_tee_args.c tests/unit/test_tee_util.h
tests_unit_test_tee_args_CPPFLAGS = $(tee_test_cppflags)
tests_unit_test_tee_args_CFLAGS = $(tee_cflags)
tests_unit_test_tee_args_LDADD = $(tee_test_ldadd)
# The plugin itself, loaded by a host on a manual clock.
check_PROGRAMS += tests/unit/test_tee_cycle
TESTS += tests/unit/test_tee_cycle
tests_unit_test_tee_cycle_SOURCES = tests/unit/test_tee_cycle.c tests/unit/test_tee_host.c \
	tests/unit/test_tee_host.h tests/unit/test_tee_util.h
tests_unit_test_tee_cycle_CPPFLAGS = $(tee_test_cppflags)
tests_unit_test_tee_cycle_CFLAGS = $(tee_cflags)
tests_unit_test_tee_cycle_LDADD = $(CJSON_LIBS) $(DL_LIBS) -lm
EXTRA_tests_unit_test_tee_cycle_DEPENDENCIES = plugins/tee-attester/tee-attester.la

# The daemon with the plugin against the fake dstack agent and PCCS
# (tests/fakes/, real fixture data) and against nearsim.
tee_integration_tests = tests/integration/tee_agent_pccs.py tests/integration/tee_nearsim.py
TESTS += $(tee_integration_tests)
dist_check_SCRIPTS += $(tee_integration_tests) tests/fakes/dstack_agent.py tests/fakes/pccs_server.py
dist_check_DATA += tests/integration/tee_util.py

# libFuzzer targets for every reader of untrusted input (needs clang).
TESTS += tests/fuzz/run-tee.sh
EXTRA_DIST += tests/fuzz/run-tee.sh tests/fuzz/fuzz_tee_quote.c tests/fuzz/fuzz_tee_answers.c

tee_fixtures = tests/fixtures/tee/quote.json tests/fixtures/tee/collateral.json \
	tests/fixtures/tee/tcb_info.json tests/fixtures/tee/near_p2p_public_key.pub \
	tests/fixtures/tee/near_account_public_key.pub tests/fixtures/tee/near_account_secret_key \
	tests/fixtures/tee/report_data_v1_vector.json \
	tests/fixtures/tee/submit_participant_info_args.dstack.json \
	tests/fixtures/tee/submit_participant_info_args.mock_valid.json
dist_check_DATA += $(tee_fixtures)
