/* example: an out-of-tree mpc-indexer plugin, built against the installed
 * header only.  doc/writing-plugins.md walks through it.
 *
 * It logs the contract's state whenever it changes, counts the blocks and the
 * MPC requests the indexer delivers (metric example_mpc_requests_total) and,
 * when verify_tee_interval is set, calls the contract's verify_tee as the
 * node's signer, as MPC nodes do.
 * Build:  make            (uses pkg-config mpc-indexer-plugin)
 * Use:    [plugin.example]
 *         path = /path/to/example.so
 *         greeting = hello
 */
#include <inttypes.h>
#include <stdlib.h>

#include <mpc-indexer/plugin.h>

struct example {
	const struct mpci_host_api *api;
	mpci_plugin *self;
	mpci_metric *requests;  /* example_mpc_requests_total{kind} */
	unsigned long blocks;
	const char *signer;     /* [signer.NAME] for verify_tee; NULL: the only one */
	mpci_timer *verify;     /* set when verify_tee_interval is */
	int verifying;          /* a verify_tee transaction is in flight */
};

static const struct mpci_config_key keys[] = {
	{ "greeting", MPCI_CFG_STR, "example plugin ready", "logged at start" },
	{ "verify_tee_interval", MPCI_CFG_DURATION, "0",
	  "call the contract's verify_tee this often (0: never); needs a participant's signer" },
	{ "signer", MPCI_CFG_STR, NULL, "the [signer.NAME] that calls verify_tee (default: the only one)" },
	{ NULL, 0, NULL, NULL },
};

static void on_state(const struct mpci_view_result *r, void *ud)
{
	struct example *ex = ud;
	if (r->ok)
		ex->api->log(ex->self, MPCI_LOG_INFO, "contract state at height %" PRIu64 ": %.*s",
			     r->block_height, (int)(r->value_len < 80 ? r->value_len : 80), r->value);
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

static void on_verified(const struct mpci_tx_result *r, void *ud)
{
	static const char *const outcome[] = { "accepted", "succeeded", "failed", "unknown", "rejected" };
	struct example *ex = ud;
	ex->verifying = 0;
	ex->api->log(ex->self, r->status == MPCI_TX_SUCCEEDED ? MPCI_LOG_INFO : MPCI_LOG_WARN,
		     "verify_tee %s (tx %s): %.*s",
		     r->status >= 0 && r->status <= 4 ? outcome[r->status] : "?",
		     r->hash ? r->hash : "-",
		     r->error ? 200 : (int)r->value_len, r->error ? r->error : r->value ? r->value : "");
}

static void verify_tee(void *ud)
{
	struct example *ex = ud;
	struct mpci_tx_request req = {
		.struct_size = sizeof(req),
		.signer = ex->signer,
		.method = "verify_tee",     /* to the MPC contract: receiver NULL */
		.args = "{}",
		.args_len = 2,
		.wait = MPCI_TX_WAIT,
	};
	if (ex->verifying)
		return; /* the last one has not finished */
	int rc = ex->api->tx_submit(ex->self, &req, on_verified, ex, NULL);
	if (rc == MPCI_OK)
		ex->verifying = 1;
	else
		ex->api->log(ex->self, MPCI_LOG_WARN, "verify_tee not submitted (%d)", rc);
}

/* Check the signer once, at start, then call every `every` seconds. */
static int start_verifying(struct example *ex, double every)
{
	struct mpci_signer_info info = { .struct_size = sizeof(info) };
	int rc = ex->api->signer_info(ex->self, ex->signer, &info);
	if (rc == MPCI_ERR_UNSUPPORTED) {
		ex->api->log(ex->self, MPCI_LOG_WARN, "this host cannot send transactions; no verify_tee");
		return 0;
	}
	if (rc != MPCI_OK) {
		ex->api->log(ex->self, MPCI_LOG_ERROR, "%s: no signer for verify_tee (%d)",
			     ex->api->config_where(ex->self, "signer"), rc);
		return -1;
	}
	ex->api->log(ex->self, MPCI_LOG_INFO, "calling verify_tee every %g s as %s (%s)",
		     every, info.account_id, info.public_key);
	ex->verify = ex->api->timer_start(ex->self, 1, every, verify_tee, ex);
	return ex->verify ? 0 : -1;
}

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	static const char *const labels[] = { "kind", NULL };
	struct mpci_view_spec spec = { .struct_size = sizeof(spec), .method = "state" };
	struct mpci_block_handlers h = { .struct_size = sizeof(h), .block = on_block };
	struct example *ex = calloc(1, sizeof(*ex));
	double every = 0;

	if (!ex)
		return MPCI_ERR_NOMEM;
	ex->api = api;
	ex->self = self;
	ex->requests = api->metric_counter(self, "example_mpc_requests_total",
					   "MPC requests seen by the example plugin.", labels);
	if (!ex->requests) {
		free(ex);
		return MPCI_ERR; /* the name is taken with another type or labels */
	}
	if (api->subscribe_state(self, &spec, on_state, ex, NULL, NULL) == MPCI_ERR_UNSUPPORTED)
		api->log(self, MPCI_LOG_WARN, "no state views on this host");
	if (api->subscribe_blocks(self, NULL, &h, ex, NULL, NULL) == MPCI_ERR_UNSUPPORTED)
		api->log(self, MPCI_LOG_WARN, "no block stream on this host");
	ex->signer = api->config_str(self, "signer");
	api->config_double(self, "verify_tee_interval", &every);
	if (every > 0 && start_verifying(ex, every) < 0) {
		free(ex);
		return MPCI_ERR_INVAL;
	}
	api->log(self, MPCI_LOG_INFO, "%s", api->config_str(self, "greeting"));
	*state = ex;
	return MPCI_OK;
}

static void stop(void *state)
{
	struct example *ex = state;
	if (ex->verify)
		ex->api->timer_stop(ex->verify);
	ex->verify = NULL;
	ex->api->log(ex->self, MPCI_LOG_INFO, "saw %lu blocks", ex->blocks);
}

static void fini(void *state)
{
	free(state);
}

static const struct mpci_plugin_desc desc = {
	MPCI_DESC_HEADER,
	.name = "example",
	.version = "1.0.0",
	.description = "counts blocks and MPC requests; logs state changes; can call verify_tee",
	.config = keys,
	.init = init,
	.stop = stop,
	.fini = fini,
};

MPCI_PLUGIN(desc)
