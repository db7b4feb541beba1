# plugins/mpc-node-bridge: the indexer API over a local socket (issue 8).
# Public header only: no core include path here.
plugin_LTLIBRARIES += plugins/mpc-node-bridge/mpc-node-bridge.la
plugins_mpc_node_bridge_mpc_node_bridge_la_SOURCES = \
	plugins/mpc-node-bridge/bridge.c plugins/mpc-node-bridge/bridge.h \
	plugins/mpc-node-bridge/client.c plugins/mpc-node-bridge/proto.c \
	plugins/mpc-node-bridge/render.c plugins/mpc-node-bridge/render.h \
	plugins/mpc-node-bridge/ring.c plugins/mpc-node-bridge/ring.h \
	plugins/mpc-node-bridge/msg.c plugins/mpc-node-bridge/msg.h \
	plugins/mpc-node-bridge/jbuf.c plugins/mpc-node-bridge/jbuf.h \
	plugins/mpc-node-bridge/listen.c plugins/mpc-node-bridge/listen.h
plugins_mpc_node_bridge_mpc_node_bridge_la_CPPFLAGS = -I$(top_srcdir)/include -D_GNU_SOURCE
plugins_mpc_node_bridge_mpc_node_bridge_la_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS)
plugins_mpc_node_bridge_mpc_node_bridge_la_LDFLAGS = $(plugin_link_flags)
plugins_mpc_node_bridge_mpc_node_bridge_la_LIBADD = $(CJSON_LIBS) -lm

# Tests: in-process (real host, scripted source), then against the daemon.
bridge_test_cflags = $(AM_CFLAGS) $(LIBEV_CFLAGS) $(CURL_CFLAGS) $(CJSON_CFLAGS) $(INIH_CFLAGS)
bridge_test_ldadd = core/libmpci.la $(CJSON_LIBS) $(LIBEV_LIBS) $(CURL_LIBS) $(PTHREAD_LIBS)
bridge_harness = tests/unit/test_bridge_harness.c tests/unit/test_bridge_harness.h
check_PROGRAMS += tests/unit/test_bridge_proto tests/unit/test_bridge_lagged
TESTS += tests/unit/test_bridge_proto tests/unit/test_bridge_lagged
tests_unit_test_bridge_proto_SOURCES = tests/unit/test_bridge_proto.c $(bridge_harness)
tests_unit_test_bridge_proto_CFLAGS = $(bridge_test_cflags)
tests_unit_test_bridge_proto_LDADD = $(bridge_test_ldadd)
tests_unit_test_bridge_lagged_SOURCES = tests/unit/test_bridge_lagged.c $(bridge_harness)
tests_unit_test_bridge_lagged_CFLAGS = $(bridge_test_cflags)
tests_unit_test_bridge_lagged_LDADD = $(bridge_test_ldadd)

# Against the daemon following nearsim, with the Python client from contrib/clients.
dist_check_SCRIPTS += tests/integration/bridge_nearsim.py tests/integration/bridge_lagged.py \
	tests/integration/bridge_uid.py tests/integration/bridge_refused.py
dist_check_DATA += tests/integration/bridge_util.py
TESTS += tests/integration/bridge_nearsim.py tests/integration/bridge_lagged.py \
	tests/integration/bridge_uid.py tests/integration/bridge_refused.py
EXTRA_DIST += contrib/clients/mpc_bridge.py doc/bridge-protocol.md \
	plugins/mpc-node-bridge/README.md

# make bench: fan-out to 16 clients and callback-to-client latency.
check_PROGRAMS += tests/bench/bridge_fanout
tests_bench_bridge_fanout_SOURCES = tests/bench/bridge_fanout.c $(bridge_harness)
tests_bench_bridge_fanout_CFLAGS = $(bridge_test_cflags) $(PTHREAD_CFLAGS)
tests_bench_bridge_fanout_LDADD = $(bridge_test_ldadd)
BENCHES += tests/bench/bridge_fanout.sh

# The C client example builds warning-free with the rest (and is used by bridge_c_client.sh).
check_PROGRAMS += contrib/clients/bridge_client
contrib_clients_bridge_client_SOURCES = contrib/clients/bridge_client.c
contrib_clients_bridge_client_CPPFLAGS = -D_GNU_SOURCE

# The JSON writers on bytes the bridge did not make (found by tests/fuzz/fuzz_bridge_proto.c).
check_PROGRAMS += tests/unit/test_bridge_jbuf
TESTS += tests/unit/test_bridge_jbuf
tests_unit_test_bridge_jbuf_SOURCES = tests/unit/test_bridge_jbuf.c plugins/mpc-node-bridge/jbuf.c
tests_unit_test_bridge_jbuf_CPPFLAGS = -I$(top_srcdir)/plugins/mpc-node-bridge -D_GNU_SOURCE
tests_unit_test_bridge_jbuf_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS)
tests_unit_test_bridge_jbuf_LDADD = $(CJSON_LIBS) -lm

# libFuzzer: a client's bytes on the real socket of the real plugin (built with
# $(CLANG) by the script; skips without clang).
TESTS += tests/fuzz/run-bridge.sh
EXTRA_DIST += tests/fuzz/run-bridge.sh tests/fuzz/fuzz_bridge_proto.c tests/fuzz/fuzz_strict_json.h
dist_check_DATA += tests/fixtures/bridge/fuzz_bridge_proto.dict \
	tests/fixtures/bridge/corpus/fuzz_bridge_proto/batch_and_bad \
	tests/fixtures/bridge/corpus/fuzz_bridge_proto/hello_ping_status \
	tests/fixtures/bridge/corpus/fuzz_bridge_proto/invalid_utf8_echoed \
	tests/fixtures/bridge/corpus/fuzz_bridge_proto/oversized_line \
	tests/fixtures/bridge/corpus/fuzz_bridge_proto/send \
	tests/fixtures/bridge/corpus/fuzz_bridge_proto/subscribe_after_seq \
	tests/fixtures/bridge/corpus/fuzz_bridge_proto/subscribe_blocks \
	tests/fixtures/bridge/corpus/fuzz_bridge_proto/subscribe_state \
	tests/fixtures/bridge/corpus/fuzz_bridge_proto/view \
	tests/fixtures/bridge/corpus/fuzz_bridge_proto/view_failed \
	tests/fixtures/bridge/corpus/fuzz_bridge_proto/view_leading_zero \
	tests/fixtures/bridge/corpus/fuzz_bridge_proto/view_lenient_json
