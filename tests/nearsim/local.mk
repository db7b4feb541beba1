# nearsim: the chain simulator (installed: plugin authors run it too).
EXTRA_DIST += tests/nearsim/README.md
bin_PROGRAMS += nearsim
nearsim_SOURCES = tests/nearsim/main.c tests/nearsim/nearsim.h tests/nearsim/server.c \
	tests/nearsim/server.h tests/nearsim/chain.c tests/nearsim/doc.c tests/nearsim/rpc.c \
	tests/nearsim/neardata.c tests/nearsim/admin.c tests/nearsim/accounts.c \
	tests/nearsim/txexec.c tests/nearsim/contract.c tests/nearsim/traffic.c \
	tests/nearsim/faults.c tests/nearsim/jw.c tests/nearsim/jw.h tests/nearsim/map.c \
	tests/nearsim/map.h tests/nearsim/prim.c tests/nearsim/prim.h
nearsim_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(CJSON_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS)
nearsim_LDADD = core/near/libnear.la $(MHD_LIBS) $(CJSON_LIBS) $(SODIUM_LIBS) $(CRYPTO_LIBS) $(PTHREAD_LIBS)

# Tests: shapes against the recorded fixtures, transactions, the contract scenario, faults.
nearsim_fixtures = \
	tests/fixtures/rpc/status_testnet.response.json \
	tests/fixtures/rpc/chunk_by_id_testnet.response.json \
	tests/fixtures/rpc/call_function_get_greeting.response.json \
	tests/fixtures/rpc/query_call_function_panic.response.json \
	tests/fixtures/rpc/view_access_key.response.json \
	tests/fixtures/rpc/gas_price.response.json \
	tests/fixtures/rpc/send_tx_wait_none.response.json \
	tests/fixtures/rpc/broadcast_tx_async.response.json \
	tests/fixtures/rpc/broadcast_tx_commit.response.json \
	tests/fixtures/rpc/EXPERIMENTAL_tx_status.response.json \
	tests/fixtures/rpc/EXPERIMENTAL_receipt.response.json \
	tests/fixtures/rpc/error_invalid_nonce.sandbox.response.json \
	tests/fixtures/rpc/error_expired.sandbox.response.json \
	tests/fixtures/nearsim/lake_localnet_879765_block.json \
	tests/fixtures/nearsim/lake_localnet_879765_shard_0.json \
	tests/fixtures/nearsim/register_backup_service.json \
	tests/fixtures/nearsim/respond_ckd.json \
	tests/fixtures/nearsim/respond_ecdsa.json \
	tests/fixtures/nearsim/start_node_migration.json \
	tests/fixtures/nearsim/state_resharing.json \
	tests/fixtures/nearsim/state_running_current_format.json \
	tests/fixtures/nearsim/submit_participant_info_dstack_real_localnet_tdx_data.json \
	tests/fixtures/nearsim/submit_participant_info_mock.json
dist_check_DATA += $(nearsim_fixtures) tests/integration/nearsim_util.py
nearsim_py_tests = tests/integration/nearsim_shapes.py tests/integration/nearsim_contract.py \
	tests/integration/nearsim_faults.py tests/integration/nearsim_misc.py
dist_check_SCRIPTS += $(nearsim_py_tests)
TESTS += $(nearsim_py_tests)

check_PROGRAMS += tests/integration/nearsim_tx
TESTS += tests/integration/nearsim_tx
tests_integration_nearsim_tx_SOURCES = tests/integration/nearsim_tx.c
tests_integration_nearsim_tx_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(CJSON_CFLAGS) $(SODIUM_CFLAGS)
tests_integration_nearsim_tx_LDADD = core/near/libnear.la $(CURL_LIBS) $(CJSON_LIBS) $(SODIUM_LIBS) $(CRYPTO_LIBS)

# make bench: nearsim's block throughput (tests/bench/nearsim_blocks.sh drives the client).
check_PROGRAMS += tests/bench/nearsim_bench_client
tests_bench_nearsim_bench_client_SOURCES = tests/bench/nearsim_bench_client.c
tests_bench_nearsim_bench_client_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
tests_bench_nearsim_bench_client_LDADD = $(CURL_LIBS) $(PTHREAD_LIBS)
BENCHES += tests/bench/nearsim_blocks.sh

# near-api-js (npm, installed at test time; skips without node/npm/registry).
dist_check_SCRIPTS += tests/integration/nearsim_nearapijs.sh
dist_check_DATA += tests/integration/nearsim_nearapijs.mjs
TESTS += tests/integration/nearsim_nearapijs.sh
