# Plugin ABI tests, test plugins and whole-daemon tests.

# Test-only plugins: built by make check, never installed.
test_plugin_flags = $(plugin_link_flags) -rpath /nowhere
check_LTLIBRARIES += tests/plugins/abi_bad_major.la tests/plugins/abi_newer_minor.la \
	tests/plugins/init_fails.la tests/plugins/recorder.la \
	tests/plugins/abi_older_minor.la tests/plugins/http_headers.la
tests_plugins_abi_older_minor_la_SOURCES = tests/plugins/abi_older_minor.c
tests_plugins_abi_older_minor_la_LDFLAGS = $(test_plugin_flags)
tests_plugins_http_headers_la_SOURCES = tests/plugins/http_headers.c
tests_plugins_http_headers_la_LDFLAGS = $(test_plugin_flags)
tests_plugins_abi_bad_major_la_SOURCES = tests/plugins/abi_bad_major.c
tests_plugins_abi_bad_major_la_LDFLAGS = $(test_plugin_flags)
tests_plugins_abi_newer_minor_la_SOURCES = tests/plugins/abi_newer_minor.c
tests_plugins_abi_newer_minor_la_LDFLAGS = $(test_plugin_flags)
tests_plugins_init_fails_la_SOURCES = tests/plugins/init_fails.c
tests_plugins_init_fails_la_LDFLAGS = $(test_plugin_flags)
tests_plugins_recorder_la_SOURCES = tests/plugins/recorder.c
tests_plugins_recorder_la_LDFLAGS = $(test_plugin_flags)
tests_plugins_recorder_la_LIBADD = $(PTHREAD_LIBS)

core_test_cflags = $(AM_CFLAGS) $(LIBEV_CFLAGS) $(CURL_CFLAGS) $(CJSON_CFLAGS) $(INIH_CFLAGS)
core_test_ldadd = core/libmpci.la $(LIBEV_LIBS) $(CURL_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_host tests/unit/test_metrics tests/unit/test_header
TESTS += tests/unit/test_host tests/unit/test_metrics tests/unit/test_header
tests_unit_test_host_SOURCES = tests/unit/test_host.c
tests_unit_test_host_CFLAGS = $(core_test_cflags)
tests_unit_test_host_LDADD = $(core_test_ldadd)
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c
tests_unit_test_metrics_CFLAGS = $(core_test_cflags)
tests_unit_test_metrics_LDADD = $(core_test_ldadd)
# The public header compiles on its own, with strict warnings, and its frozen offsets hold.
tests_unit_test_header_SOURCES = tests/unit/test_header.c
tests_unit_test_header_CFLAGS = $(AM_CFLAGS) -Wpedantic -Werror

dist_check_SCRIPTS += tests/integration/daemon_cli.sh tests/integration/example_plugin.sh
TESTS += tests/integration/daemon_cli.sh tests/integration/example_plugin.sh

# What every tests/fuzz/run-*.sh sources: skip, build, run, report.
dist_check_DATA += tests/fuzz/fuzz_lib.sh

# The configuration parser under libFuzzer (runs briefly when clang is present).
dist_check_SCRIPTS += tests/fuzz/run-config.sh
EXTRA_DIST += tests/fuzz/fuzz_config.c
TESTS += tests/fuzz/run-config.sh

# The main job: tools/run-demo against this build (--no-build), as a user reads its status.
dist_check_SCRIPTS += tests/integration/demo_smoke.sh
TESTS += tests/integration/demo_smoke.sh
