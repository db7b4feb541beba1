# The state viewer: the JSON-RPC client with failover, subscriptions, `mpc-indexer view`.
core_viewer_sources = core/rpc.c core/rpc.h core/rpc_parse.c core/viewer.c core/viewer.h \
	core/cmd_view.c

# Unit tests (TAP).
viewer_test_cflags = $(AM_CFLAGS) $(LIBEV_CFLAGS) $(CURL_CFLAGS) $(CJSON_CFLAGS) $(INIH_CFLAGS)
viewer_test_ldadd = core/libmpci.la $(LIBEV_LIBS) $(CURL_LIBS) $(CJSON_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_rpc_parse
TESTS += tests/unit/test_rpc_parse
tests_unit_test_rpc_parse_SOURCES = tests/unit/test_rpc_parse.c
tests_unit_test_rpc_parse_CFLAGS = $(viewer_test_cflags)
tests_unit_test_rpc_parse_LDADD = $(viewer_test_ldadd)

check_PROGRAMS += tests/unit/test_rpc
TESTS += tests/unit/test_rpc
tests_unit_test_rpc_SOURCES = tests/unit/test_rpc.c
tests_unit_test_rpc_CFLAGS = $(viewer_test_cflags) $(MHD_CFLAGS)
tests_unit_test_rpc_LDADD = $(viewer_test_ldadd) $(MHD_LIBS)

check_PROGRAMS += tests/unit/test_viewer
TESTS += tests/unit/test_viewer
tests_unit_test_viewer_SOURCES = tests/unit/test_viewer.c
tests_unit_test_viewer_CFLAGS = $(viewer_test_cflags)
tests_unit_test_viewer_LDADD = $(viewer_test_ldadd)

# Integration: the client, the viewer and plugins against nearsim.
check_LTLIBRARIES += tests/plugins/state_counter.la
tests_plugins_state_counter_la_SOURCES = tests/plugins/state_counter.c
tests_plugins_state_counter_la_LDFLAGS = $(test_plugin_flags)

check_PROGRAMS += tests/integration/viewer_nearsim
TESTS += tests/integration/viewer_nearsim
tests_integration_viewer_nearsim_SOURCES = tests/integration/viewer_nearsim.c
tests_integration_viewer_nearsim_CFLAGS = $(viewer_test_cflags)
tests_integration_viewer_nearsim_LDADD = $(viewer_test_ldadd)

# libFuzzer target for the response parser, built with $(CLANG) and run briefly (skips without clang).
TESTS += tests/fuzz/run-rpc.sh
EXTRA_DIST += tests/fuzz/run-rpc.sh tests/fuzz/fuzz_rpc_response.c
dist_check_DATA += tests/fixtures/viewer/corpus/fuzz_rpc_response/block_final.json \
	tests/fixtures/viewer/corpus/fuzz_rpc_response/invalid_json.txt \
	tests/fixtures/viewer/corpus/fuzz_rpc_response/rate_limited_429.txt \
	tests/fixtures/viewer/corpus/fuzz_rpc_response/unknown_account.json \
	tests/fixtures/viewer/corpus/fuzz_rpc_response/validation_400.json \
	tests/fixtures/viewer/corpus/fuzz_rpc_response/view_ok.json \
	tests/fixtures/viewer/corpus/fuzz_rpc_response/view_quirk.json

dist_check_SCRIPTS += tests/integration/viewer_cli.sh
TESTS += tests/integration/viewer_cli.sh
