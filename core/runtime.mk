# The daemon's runtime: logging, the HTTP client, configuration.
core_runtime_sources = core/log.c core/log.h core/http.c core/http.h \
	core/http_headers.c core/http_headers.h core/config.c core/config.h

# Unit tests for the runtime (TAP). Each links the daemon's convenience library.
runtime_test_cflags = $(AM_CFLAGS) $(LIBEV_CFLAGS) $(CURL_CFLAGS) $(INIH_CFLAGS)
runtime_test_ldadd = core/libmpci.la $(LIBEV_LIBS) $(CURL_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_log tests/unit/test_http tests/unit/test_config
TESTS += tests/unit/test_log tests/unit/test_http tests/unit/test_config

tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_CFLAGS = $(runtime_test_cflags)
tests_unit_test_log_LDADD = $(runtime_test_ldadd)

tests_unit_test_http_SOURCES = tests/unit/test_http.c
tests_unit_test_http_CFLAGS = $(runtime_test_cflags)
tests_unit_test_http_LDADD = $(runtime_test_ldadd)

tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(runtime_test_cflags)
tests_unit_test_config_LDADD = $(runtime_test_ldadd)

# The response-header parser under libFuzzer (runs briefly when clang is present).
TESTS += tests/fuzz/run-http.sh
dist_check_SCRIPTS += tests/fuzz/run-http.sh
EXTRA_DIST += tests/fuzz/fuzz_http_headers.c
