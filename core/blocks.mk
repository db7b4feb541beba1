# The block stream: block documents, MPC events, the fork tracker, the cursor, the
# neardata and RPC sources, ordering and failover, and `mpc-indexer blocks`.
core_blocks_sources = core/json_scan.c core/json_scan.h core/blockdoc.c core/blockdoc.h \
	core/mpc_events.c core/mpc_events.h core/tracker.c core/tracker.h \
	core/cursor.c core/cursor.h core/block_source.h core/source_neardata.c \
	core/source_neardata.h core/source_rpc.c core/source_rpc.h core/blockstream.c \
	core/blockstream.h core/cmd_blocks.c

blocks_test_cflags = $(AM_CFLAGS) $(LIBEV_CFLAGS) $(CURL_CFLAGS) $(CJSON_CFLAGS) $(INIH_CFLAGS)
blocks_test_ldadd = core/libmpci.la $(LIBEV_LIBS) $(CURL_LIBS) $(CJSON_LIBS) $(PTHREAD_LIBS)

blocks_unit_tests = tests/unit/test_tracker tests/unit/test_blockdoc tests/unit/test_mpc_events \
	tests/unit/test_cursor
check_PROGRAMS += $(blocks_unit_tests)
TESTS += $(blocks_unit_tests)
tests_unit_test_tracker_SOURCES = tests/unit/test_tracker.c
tests_unit_test_tracker_CFLAGS = $(blocks_test_cflags)
tests_unit_test_tracker_LDADD = $(blocks_test_ldadd)
tests_unit_test_blockdoc_SOURCES = tests/unit/test_blockdoc.c
tests_unit_test_blockdoc_CFLAGS = $(blocks_test_cflags)
tests_unit_test_blockdoc_LDADD = $(blocks_test_ldadd)
tests_unit_test_mpc_events_SOURCES = tests/unit/test_mpc_events.c
tests_unit_test_mpc_events_CFLAGS = $(blocks_test_cflags)
tests_unit_test_mpc_events_LDADD = $(blocks_test_ldadd)
tests_unit_test_cursor_SOURCES = tests/unit/test_cursor.c
tests_unit_test_cursor_CFLAGS = $(blocks_test_cflags)
tests_unit_test_cursor_LDADD = $(blocks_test_ldadd)

dist_check_DATA += tests/fixtures/blocks/no_forks.snap tests/fixtures/blocks/simple_forks.snap \
	tests/fixtures/blocks/complex_forks.snap \
	tests/fixtures/blocks/prune_old_blocks__should_drop_dead_fork_descendants_of_kept_nodes.snap \
	tests/fixtures/blocks/lake_localnet_879765_block.json \
	tests/fixtures/blocks/lake_localnet_879765_shard_0.json \
	tests/fixtures/blocks/kdf_derive_tweak.snap tests/fixtures/blocks/kdf_derive_app_id.snap

# Integration: nearsim with MPC traffic, faults and kill -9, optimistic forks; the CLI is
# the consumer.
blocks_integration_tests = tests/integration/blocks_mpc.sh tests/integration/blocks_faults.sh \
	tests/integration/blocks_optimistic.sh tests/integration/blocks_null_head.sh
dist_check_SCRIPTS += $(blocks_integration_tests)
TESTS += $(blocks_integration_tests)
dist_check_DATA += tests/integration/blocks_lib.sh tests/integration/blocks_check.py \
	tests/integration/blocks_nullproxy.py

# libFuzzer target for the block-document parser (skips without clang).
TESTS += tests/fuzz/run-blocks.sh
EXTRA_DIST += tests/fuzz/run-blocks.sh tests/fuzz/fuzz_blockdoc.c
dist_check_DATA += tests/fixtures/blocks/corpus/fuzz_blockdoc/lake_localnet_879765.json \
	tests/fixtures/blocks/corpus/fuzz_blockdoc/nearsim_sign_104.json \
	tests/fixtures/blocks/corpus/fuzz_blockdoc/null.json

# libFuzzer target for the cursor file (skips without clang).
TESTS += tests/fuzz/run-cursor.sh
EXTRA_DIST += tests/fuzz/run-cursor.sh tests/fuzz/fuzz_cursor.c
dist_check_DATA += tests/fixtures/blocks/corpus/fuzz_cursor/optimistic_133 \
	tests/fixtures/blocks/corpus/fuzz_cursor/final_2831

# make bench: catch-up blocks/s and peak RSS beside a Node.js baseline; head latency.
BENCHES += tests/bench/blocks_catchup.sh
EXTRA_DIST += tests/bench/blocks_catchup.py tests/bench/blocks_baseline.js

EXTRA_DIST += doc/block-stream.md
