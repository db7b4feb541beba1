/* An out-of-tree mpc-indexer plugin, built against the installed header only.
 *
 * It counts the blocks and MPC requests the indexer delivers, logs the
 * contract's protocol state whenever it changes, and publishes one metric.
 * Build:  make            (uses pkg-config mpc-indexer-plugin)
 * Use:    [plugin.example]
 *         path = /path/to/example.so
 *         greeting = hello
 */
#include <stdlib.h>
#include <string.h>

#include <mpc-indexer/plugin.h>

struct example {
	const struct mpci_host_api *api;
	mpci_plugin *self;
	mpci_metric *requests;
	unsigned long blocks;
};

static void on_state(const struct mpci_view_result *r, void *ud)
{
	struct example *ex = ud;
	if (r->ok)
		ex->api->log(ex->self, MPCI_LOG_INFO, "contract state at height %llu: %.80s",
			     (unsigned long long)r->block_height, r->value);
	else
		ex->api->log(ex->self, MPCI_LOG_WARN, "state view failing: %s", r->error);
}

static void on_block(const struct mpci_block *b, void *ud)
{
	static const char *const kinds[] = { "sign", "ckd", "foreign_tx" };
	struct example *ex = ud;
	ex->blocks++;
	for (size_t i = 0; i < b->n_requests; i++) {
		int k = b->requests[i].kind;
		const char *v[] = { k >= 0 && k < 3 ? kinds[k] : "other", NULL };
		ex->api->metric_add(ex->requests, v, 1);
	}
}

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	static const char *const labels[] = { "kind", NULL };
	struct example *ex = calloc(1, sizeof(*ex));
	if (!ex)
		return MPCI_ERR_NOMEM;
	ex->api = api;
	ex->self = self;
	ex->requests = api->metric_counter(self, "example_mpc_requests_total",
					   "MPC requests seen by the example plugin.", labels);
	struct mpci_view_spec spec = { .struct_size = sizeof(spec), .method = "state" };
	struct mpci_block_handlers h = { .struct_size = sizeof(h), .block = on_block };
	/* An older or source-less host may not offer these: carry on without. */
	if (api->subscribe_state(self, &spec, on_state, ex, NULL, NULL) == MPCI_ERR_UNSUPPORTED)
		api->log(self, MPCI_LOG_WARN, "no state views on this host");
	if (api->subscribe_blocks(self, NULL, &h, ex, NULL, NULL) == MPCI_ERR_UNSUPPORTED)
		api->log(self, MPCI_LOG_WARN, "no block stream on this host");
	api->log(self, MPCI_LOG_INFO, "%s", api->config_str(self, "greeting"));
	*state = ex;
	return MPCI_OK;
}

static void stop(void *state)
{
	struct example *ex = state;
	ex->api->log(ex->self, MPCI_LOG_INFO, "saw %lu blocks", ex->blocks);
}

static void fini(void *state)
{
	free(state);
}

static const struct mpci_config_key keys[] = {
	{ "greeting", MPCI_CFG_STR, "example plugin ready", "logged at start" },
	{ NULL, 0, NULL, NULL },
};

static const struct mpci_plugin_desc desc = {
	MPCI_DESC_HEADER,
	.name = "example",
	.version = "1.0.0",
	.description = "counts blocks and MPC requests; logs state changes",
	.config = keys,
	.init = init,
	.stop = stop,
	.fini = fini,
};

MPCI_PLUGIN(desc)
