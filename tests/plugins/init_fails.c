/* Test plugin: registers a timer and a metric, then fails init(). */
#include "mpc-indexer/plugin.h"

static void tick(void *ud)
{
}

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	api->timer_start(self, 0.01, 0.01, tick, NULL);
	api->log(self, MPCI_LOG_ERROR, "refusing to start, as tests want");
	return MPCI_ERR;
}

static const struct mpci_plugin_desc desc = {
	MPCI_DESC_HEADER,
	.name = "init_fails",
	.version = "1",
	.init = init,
};
MPCI_PLUGIN(desc)
