/* Bench and test plugin: fills the metrics registry so that /metrics shows
 * `series` time series (sample lines, as Prometheus counts them): 30%
 * counters, 30% gauges with fractional values, 40% histogram lines (11
 * buckets, +Inf, _sum and _count: 14 lines each).  Bulk to render, and to
 * send to a slow client. */
#include <stdio.h>
#include <stdlib.h>

#include "mpc-indexer/plugin.h"

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	static const char *const l2[] = { "shard", "kind", NULL };
	static const char *const l1[] = { "shard", NULL };
	static const double bounds[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
					 1, 2.5, 5 };
	int64_t n = 10000;
	api->config_int(self, "series", &n);
	if (n < 0 || n > 1000000)
		return MPCI_ERR_INVAL;
	mpci_metric *c = api->metric_counter(self, "bench_bulk_events_total",
					     "Events by shard and kind (bench filler).", l2);
	mpci_metric *g = api->metric_gauge(self, "bench_bulk_level",
					   "Level by shard and kind (bench filler).", l2);
	mpci_metric *h = api->metric_histogram(self, "bench_bulk_latency_seconds",
					       "Latency by shard (bench filler).", l1, bounds,
					       sizeof(bounds) / sizeof(bounds[0]));
	if (!c || !g || !h)
		return MPCI_ERR;
	int64_t nh = n * 4 / 10 / 14, nc = n * 3 / 10, ng = n - nc - nh * 14;
	for (int64_t i = 0; i < nc + ng; i++) {
		char shard[32], kind[32];
		snprintf(shard, sizeof(shard), "shard-%lld", (long long)(i / 8));
		snprintf(kind, sizeof(kind), "kind-%lld", (long long)(i % 8));
		const char *v[] = { shard, kind, NULL };
		if (i < nc)
			api->metric_add(c, v, (double)(i * 37 % 100003));
		else
			api->metric_set(g, v, (double)i / 7.0);
	}
	for (int64_t i = 0; i < nh; i++) {
		char shard[32];
		snprintf(shard, sizeof(shard), "shard-%lld", (long long)i);
		const char *v[] = { shard, NULL };
		for (int k = 0; k < 5; k++)
			api->metric_observe(h, v, 0.0007 * (double)((i + k) % 20));
	}
	*state = NULL;
	return MPCI_OK;
}

static const struct mpci_config_key keys[] = {
	{ "series", MPCI_CFG_UINT, "10000", "time series (sample lines) to expose" },
	{ NULL, 0, NULL, NULL },
};

static const struct mpci_plugin_desc desc = {
	MPCI_DESC_HEADER,
	.name = "prom_bulk",
	.version = "1.0",
	.description = "bench filler: many metric series",
	.config = keys,
	.init = init,
};

MPCI_PLUGIN(desc)
