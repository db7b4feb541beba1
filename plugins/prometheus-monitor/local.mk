# plugins/prometheus-monitor: /metrics (Prometheus text 0.0.4) and /healthz.
# Built against the public header only (no core include path).
plugin_LTLIBRARIES += plugins/prometheus-monitor/prometheus-monitor.la
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
