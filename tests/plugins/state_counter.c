/* Test plugin: one state subscription, counted.  Loaded many times under
 * different [plugin.NAME] sections to show that subscribers share a poll. */
#include <stdlib.h>

#include "mpc-indexer/plugin.h"

struct counter {
	const struct mpci_host_api *api;
	mpci_plugin *self;
	mpci_metric *deliveries, *height;
	const char *instance;
	struct mpci_poll_policy update;
};

static void on_state(const struct mpci_view_result *res, void *ud)
{
	struct counter *c = ud;
	const char *v[] = { c->instance, NULL };
	c->api->metric_add(c->deliveries, v, 1);
	c->api->metric_set(c->height, v, (double)res->block_height);
}

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	static const char *const labels[] = { "instance", NULL };
	struct counter *c = calloc(1, sizeof(*c));
	if (!c)
		return MPCI_ERR_NOMEM;
	c->api = api;
	c->self = self;
	c->instance = api->config_str(self, "instance");
	c->deliveries = api->metric_counter(self, "test_state_deliveries_total",
					    "State deliveries per plugin instance.", labels);
	c->height = api->metric_gauge(self, "test_state_height",
				      "Height of the last state delivery.", labels);
	api->config_double(self, "interval", &c->update.interval);
	struct mpci_view_spec spec = { .struct_size = sizeof(spec),
				       .method = api->config_str(self, "method"),
				       .update = &c->update };
	int rc = api->subscribe_state(self, &spec, on_state, c, NULL, NULL);
	if (rc != MPCI_OK) {
		free(c);
		return rc;
	}
	*state = c;
	return MPCI_OK;
}

static void fini(void *state)
{
	free(state);
}

static const struct mpci_config_key keys[] = {
	{ "instance", MPCI_CFG_STR, "x", "label value of this instance's metrics" },
	{ "method", MPCI_CFG_STR, "state", "the view to subscribe to" },
	{ "interval", MPCI_CFG_DOUBLE, "1", "update poll interval, seconds" },
	{ NULL, 0, NULL, NULL },
};

static const struct mpci_plugin_desc desc = {
	MPCI_DESC_HEADER,
	.name = "state_counter",
	.version = "1",
	.description = "counts state deliveries",
	.config = keys,
	.init = init,
	.fini = fini,
};

MPCI_PLUGIN(desc)
