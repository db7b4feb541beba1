# plugins/prometheus-monitor: /metrics (Prometheus text 0.0.4) and /healthz.
# Built against the public header only (no core include path).
plugin_LTLIBRARIES += plugins/prometheus-monitor/prometheus-monitor.la
EXTRA_DIST += plugins/prometheus-monitor/README.md
prom_sources = plugins/prometheus-monitor/monitor.c \
	plugins/prometheus-monitor/httpd.c plugins/prometheus-monitor/httpd.h \
	plugins/prometheus-monitor/expo.c plugins/prometheus-monitor/expo.h \
	plugins/prometheus-monitor/pbuf.c plugins/prometheus-monitor/pbuf.h \
	plugins/prometheus-monitor/procstat.c plugins/prometheus-monitor/procstat.h \
	plugins/prometheus-monitor/contract.c plugins/prometheus-monitor/contract.h \
	plugins/prometheus-monitor/contract_metrics.c plugins/prometheus-monitor/contract_metrics.h \
	plugins/prometheus-monitor/attest.c plugins/prometheus-monitor/attest.h \
	plugins/prometheus-monitor/traffic.c plugins/prometheus-monitor/traffic.h \
	plugins/prometheus-monitor/health.c plugins/prometheus-monitor/health.h
prom_cppflags = -I$(top_srcdir)/include -D_GNU_SOURCE -DPROM_VERSION='"$(PACKAGE_VERSION)"'
plugins_prometheus_monitor_prometheus_monitor_la_SOURCES = $(prom_sources)
plugins_prometheus_monitor_prometheus_monitor_la_CPPFLAGS = $(prom_cppflags)
plugins_prometheus_monitor_prometheus_monitor_la_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(CJSON_CFLAGS)
plugins_prometheus_monitor_prometheus_monitor_la_LDFLAGS = $(plugin_link_flags)
plugins_prometheus_monitor_prometheus_monitor_la_LIBADD = $(MHD_LIBS) $(CJSON_LIBS) -lm

# Unit tests compile the plugin's modules directly; those that need a metrics
# registry use the core's (tests/unit/test_prom_api.h) through a stub host table.
prom_test_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/prometheus-monitor
check_PROGRAMS += tests/unit/test_prom_expo tests/unit/test_prom_contract \
	tests/unit/test_prom_traffic tests/unit/test_prom_health
TESTS += tests/unit/test_prom_expo tests/unit/test_prom_contract \
	tests/unit/test_prom_traffic tests/unit/test_prom_health
tests_unit_test_prom_expo_SOURCES = tests/unit/test_prom_expo.c \
	plugins/prometheus-monitor/expo.c plugins/prometheus-monitor/pbuf.c
tests_unit_test_prom_expo_CPPFLAGS = $(prom_test_cppflags)
tests_unit_test_prom_expo_LDADD = -lm
tests_unit_test_prom_contract_SOURCES = tests/unit/test_prom_contract.c plugins/prometheus-monitor/contract.c
tests_unit_test_prom_contract_CPPFLAGS = $(prom_test_cppflags)
tests_unit_test_prom_contract_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS)
tests_unit_test_prom_contract_LDADD = $(CJSON_LIBS) -lm
tests_unit_test_prom_traffic_SOURCES = tests/unit/test_prom_traffic.c tests/unit/test_prom_api.h \
	plugins/prometheus-monitor/traffic.c
tests_unit_test_prom_traffic_CPPFLAGS = $(prom_test_cppflags)
tests_unit_test_prom_traffic_LDADD = core/libmpci.la $(LIBEV_LIBS) $(CURL_LIBS) $(PTHREAD_LIBS)
tests_unit_test_prom_health_SOURCES = tests/unit/test_prom_health.c plugins/prometheus-monitor/health.c
tests_unit_test_prom_health_CPPFLAGS = $(prom_test_cppflags)
dist_check_DATA += tests/fixtures/prom/state_running_current_format.json \
	tests/fixtures/prom/mainnet_state_running_epoch4.json \
	tests/fixtures/prom/state_resharing.json tests/fixtures/prom/state_initializing.json \
	tests/fixtures/prom/state_not_initialized.json tests/fixtures/prom/call_and_view_examples.json

# The plugin itself, loaded by the real host and driven by a scripted source.
check_PROGRAMS += tests/unit/test_prom_plugin
TESTS += tests/unit/test_prom_plugin
tests_unit_test_prom_plugin_SOURCES = tests/unit/test_prom_plugin.c
tests_unit_test_prom_plugin_CFLAGS = $(AM_CFLAGS) $(LIBEV_CFLAGS) $(CURL_CFLAGS) $(CJSON_CFLAGS) $(INIH_CFLAGS)
tests_unit_test_prom_plugin_LDADD = core/libmpci.la $(LIBEV_LIBS) $(CURL_LIBS) $(CJSON_LIBS) $(PTHREAD_LIBS)
EXTRA_tests_unit_test_prom_plugin_DEPENDENCIES = plugins/prometheus-monitor/prometheus-monitor.la

# make bench: /metrics with 10,000 series (tests/bench/prom_scrape.sh).
check_LTLIBRARIES += tests/bench/prom_bulk.la
tests_bench_prom_bulk_la_SOURCES = tests/bench/prom_bulk.c
tests_bench_prom_bulk_la_CPPFLAGS = -I$(top_srcdir)/include -D_GNU_SOURCE
tests_bench_prom_bulk_la_LDFLAGS = $(plugin_link_flags) -rpath /nowhere
check_PROGRAMS += tests/bench/prom_scrape
tests_bench_prom_scrape_SOURCES = tests/bench/prom_scrape.c \
	plugins/prometheus-monitor/expo.c plugins/prometheus-monitor/pbuf.c
tests_bench_prom_scrape_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/prometheus-monitor
tests_bench_prom_scrape_CFLAGS = $(AM_CFLAGS) $(LIBEV_CFLAGS) $(CURL_CFLAGS) $(INIH_CFLAGS)
tests_bench_prom_scrape_LDADD = core/libmpci.la $(LIBEV_LIBS) $(CURL_LIBS) $(PTHREAD_LIBS) -lm
EXTRA_tests_bench_prom_scrape_DEPENDENCIES = plugins/prometheus-monitor/prometheus-monitor.la \
	tests/bench/prom_bulk.la
BENCHES += tests/bench/prom_scrape.sh

# Integration: the daemon with the plugin, nearsim, a real Prometheus.
dist_check_SCRIPTS += tests/integration/prom_prometheus.py tests/integration/prom_healthz.py \
	tests/integration/prom_http.py
TESTS += tests/integration/prom_prometheus.py tests/integration/prom_healthz.py \
	tests/integration/prom_http.py
dist_check_DATA += tests/integration/prom_util.py

# contrib/: alert rules and the Grafana dashboard, installed for operators,
# checked by tests/integration/prom_contrib.py.
mpciprometheusdir = $(datadir)/mpc-indexer/prometheus
dist_mpciprometheus_DATA = contrib/prometheus/mpc-indexer.rules.yml
mpcigrafanadir = $(datadir)/mpc-indexer/grafana
dist_mpcigrafana_DATA = contrib/grafana/mpc-indexer.json
dist_check_SCRIPTS += tests/integration/prom_contrib.py
TESTS += tests/integration/prom_contrib.py

# libFuzzer: the contract view decoders into series and /metrics text (built with
# $(CLANG) by the script; skips without clang).
TESTS += tests/fuzz/run-prom.sh
EXTRA_DIST += tests/fuzz/run-prom.sh tests/fuzz/fuzz_prom_contract.c
dist_check_DATA += \
	tests/fixtures/prom/corpus/fuzz_prom_contract/all_views_mainnet_state_running_epoch4 \
	tests/fixtures/prom/corpus/fuzz_prom_contract/all_views_state_initializing \
	tests/fixtures/prom/corpus/fuzz_prom_contract/all_views_state_resharing \
	tests/fixtures/prom/corpus/fuzz_prom_contract/all_views_state_running_current_format
