# plugins/backup-migration: encrypted keyshare backups and node migrations.
plugin_LTLIBRARIES += plugins/backup-migration/backup-migration.la
plugins_backup_migration_backup_migration_la_SOURCES = \
	plugins/backup-migration/backup_migration.c plugins/backup-migration/backup_config.h \
	plugins/backup-migration/backup_store.c plugins/backup-migration/backup_store.h \
	plugins/backup-migration/contract.c plugins/backup-migration/contract.h \
	plugins/backup-migration/edkey.c plugins/backup-migration/edkey.h \
	plugins/backup-migration/mtls.c plugins/backup-migration/mtls.h
plugins_backup_migration_backup_migration_la_CPPFLAGS = -I$(top_srcdir)/include -D_GNU_SOURCE
plugins_backup_migration_backup_migration_la_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) \
	$(CJSON_CFLAGS) $(SSL_CFLAGS) $(CRYPTO_CFLAGS)
plugins_backup_migration_backup_migration_la_LDFLAGS = $(plugin_link_flags)
plugins_backup_migration_backup_migration_la_LIBADD = $(SODIUM_LIBS) $(CJSON_LIBS) \
	$(SSL_LIBS) $(CRYPTO_LIBS) $(PTHREAD_LIBS)
EXTRA_DIST += plugins/backup-migration/README.md

# Tests (TAP): the file format, the certificate, and the plugin's logic with a
# scripted event source and fake MPC nodes; the fake node itself.
backup_test_cppflags = -I$(top_srcdir)/include -I$(top_srcdir)/plugins/backup-migration \
	-I$(top_srcdir)/core -I$(top_builddir) -D_GNU_SOURCE
backup_test_cflags = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(CJSON_CFLAGS) $(SSL_CFLAGS) $(CRYPTO_CFLAGS)
backup_test_libs = $(SODIUM_LIBS) $(CJSON_LIBS) $(SSL_LIBS) $(CRYPTO_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_backup_store tests/unit/test_backup_wire \
	tests/unit/test_backup_plugin tests/fakes/mpcnode_fake
TESTS += tests/unit/test_backup_store tests/unit/test_backup_wire tests/unit/test_backup_plugin
tests_unit_test_backup_store_SOURCES = tests/unit/test_backup_store.c \
	plugins/backup-migration/backup_store.c
tests_unit_test_backup_store_CPPFLAGS = $(backup_test_cppflags)
tests_unit_test_backup_store_CFLAGS = $(backup_test_cflags)
tests_unit_test_backup_store_LDADD = $(backup_test_libs)

tests_unit_test_backup_wire_SOURCES = tests/unit/test_backup_wire.c \
	plugins/backup-migration/contract.c plugins/backup-migration/edkey.c \
	plugins/backup-migration/mtls.c
tests_unit_test_backup_wire_CPPFLAGS = $(backup_test_cppflags)
tests_unit_test_backup_wire_CFLAGS = $(backup_test_cflags)
tests_unit_test_backup_wire_LDADD = $(backup_test_libs)

# the plugin in the real host, with a scripted source and fake nodes
tests_unit_test_backup_plugin_SOURCES = tests/unit/test_backup_plugin.c \
	plugins/backup-migration/backup_store.c plugins/backup-migration/edkey.c
tests_unit_test_backup_plugin_CPPFLAGS = $(backup_test_cppflags)
tests_unit_test_backup_plugin_CFLAGS = $(backup_test_cflags) $(LIBEV_CFLAGS) $(CURL_CFLAGS) \
	$(INIH_CFLAGS)
tests_unit_test_backup_plugin_LDADD = core/libmpci.la $(LIBEV_LIBS) $(CURL_LIBS) $(backup_test_libs)

tests_fakes_mpcnode_fake_SOURCES = tests/fakes/mpcnode_fake.c
tests_fakes_mpcnode_fake_CPPFLAGS = $(backup_test_cppflags)
tests_fakes_mpcnode_fake_CFLAGS = $(backup_test_cflags)
tests_fakes_mpcnode_fake_LDADD = core/near/libnear.la $(backup_test_libs)

# backup_write stores a backup as the plugin does, for the CLI test
check_PROGRAMS += tests/integration/backup_write
tests_integration_backup_write_SOURCES = tests/integration/backup_write.c \
	plugins/backup-migration/backup_store.c
tests_integration_backup_write_CPPFLAGS = $(backup_test_cppflags)
tests_integration_backup_write_CFLAGS = $(backup_test_cflags)
tests_integration_backup_write_LDADD = $(backup_test_libs)

dist_check_SCRIPTS += tests/integration/backup_cli.py tests/integration/backup_nearsim.py
TESTS += tests/integration/backup_cli.py tests/integration/backup_nearsim.py
dist_check_DATA += tests/integration/backup_util.py \
	tests/fixtures/backup/mpc_tls_dummy_root_cert.der \
	tests/fixtures/backup/mpc_tls_dummy_issuer_key_pkcs8v1.pem
dist_check_DATA += tests/fixtures/backup/keyshare_encryption_vectors.json \
	tests/fixtures/backup/mpc_tls_example_peer_cert.der \
	tests/fixtures/backup/mpc_tls_example_peer_key.txt \
	tests/fixtures/backup/migration_info_result_example.json \
	tests/fixtures/backup/get_keyshares_request_body.json \
	tests/fixtures/backup/contract_state.json tests/fixtures/backup/state_resharing.json

# libFuzzer targets for the file format and the JSON the plugin reads (built by the script)
TESTS += tests/fuzz/run-backup.sh
EXTRA_DIST += tests/fuzz/run-backup.sh tests/fuzz/fuzz_backup_file.c tests/fuzz/fuzz_backup_json.c

# The migration peer's HTTP answer, chunked bodies (found by tests/fuzz/fuzz_mtls_http.c).
check_PROGRAMS += tests/unit/test_mtls_http
TESTS += tests/unit/test_mtls_http
tests_unit_test_mtls_http_SOURCES = tests/unit/test_mtls_http.c plugins/backup-migration/edkey.c
tests_unit_test_mtls_http_CPPFLAGS = $(backup_test_cppflags)
tests_unit_test_mtls_http_CFLAGS = $(backup_test_cflags)
tests_unit_test_mtls_http_LDADD = $(backup_test_libs)

# libFuzzer: the HTTP/1.1 response reader of mtls.c (built with $(CLANG) by the script).
TESTS += tests/fuzz/run-backup-mtls.sh
EXTRA_DIST += tests/fuzz/run-backup-mtls.sh tests/fuzz/fuzz_mtls_http.c
dist_check_DATA += tests/fixtures/backup/corpus/fuzz_mtls_http/empty_chunked \
	tests/fixtures/backup/corpus/fuzz_mtls_http/empty_cl \
	tests/fixtures/backup/corpus/fuzz_mtls_http/empty_eof \
	tests/fixtures/backup/corpus/fuzz_mtls_http/keyshares_req_chunked \
	tests/fixtures/backup/corpus/fuzz_mtls_http/keyshares_req_cl \
	tests/fixtures/backup/corpus/fuzz_mtls_http/keyshares_req_eof \
	tests/fixtures/backup/corpus/fuzz_mtls_http/migration_info_chunked \
	tests/fixtures/backup/corpus/fuzz_mtls_http/migration_info_cl \
	tests/fixtures/backup/corpus/fuzz_mtls_http/migration_info_eof
