/* Test plugin: at start, submit `count` function calls through the host's
 * transaction sender (send_and_wait) and append every outcome the callback
 * gets to the file `out`, one line each. */
#include <stdio.h>
#include <stdlib.h>

#include "mpc-indexer/plugin.h"

struct burst {
	const struct mpci_host_api *api;
	mpci_plugin *self;
	int64_t count;
	const char *out, *method;
};

static const char *const status_names[] = { "accepted", "succeeded", "failed", "unknown",
					     "rejected" };

static void on_done(const struct mpci_tx_result *r, void *ud)
{
	struct burst *b = ud;
	FILE *f = fopen(b->out, "a");
	if (f) {
		fprintf(f, "done id=%llu status=%s hash=%s error=%s\n", (unsigned long long)r->id,
			r->status >= 0 && r->status <= 4 ? status_names[r->status] : "?",
			r->hash ? r->hash : "-", r->error ? r->error : "-");
		fclose(f);
	}
}

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	struct burst *b = calloc(1, sizeof(*b));
	if (!b)
		return MPCI_ERR_NOMEM;
	b->api = api;
	b->self = self;
	b->out = api->config_str(self, "out");
	b->method = api->config_str(self, "method");
	if (api->config_int(self, "count", &b->count) != MPCI_OK || !b->out) {
		free(b);
		return MPCI_ERR_INVAL;
	}
	*state = b;
	return MPCI_OK;
}

static int start(void *state)
{
	struct burst *b = state;
	char args[32];
	for (int64_t i = 0; i < b->count; i++) {
		int n = snprintf(args, sizeof(args), "{\"i\":%lld}", (long long)i);
		struct mpci_tx_request req = {
			.struct_size = sizeof(req), .method = b->method, .args = args,
			.args_len = (size_t)n, .wait = MPCI_TX_WAIT,
		};
		int rc = b->api->tx_submit(b->self, &req, on_done, b, NULL);
		if (rc != MPCI_OK)
			return rc;
	}
	b->api->log(b->self, MPCI_LOG_INFO, "submitted %lld transactions", (long long)b->count);
	return MPCI_OK;
}

static void fini(void *state)
{
	free(state);
}

static const struct mpci_config_key keys[] = {
	{ "count", MPCI_CFG_INT, "0", "transactions to submit at start" },
	{ "method", MPCI_CFG_STR, "verify_tee", "the contract method to call" },
	{ "out", MPCI_CFG_PATH, NULL, "append each outcome here" },
	{ NULL, 0, NULL, NULL },
};

static const struct mpci_plugin_desc desc = {
	MPCI_DESC_HEADER,
	.name = "tx_burst",
	.version = "1",
	.description = "submits a burst of transactions and records their outcomes",
	.config = keys,
	.init = init,
	.start = start,
	.fini = fini,
};

MPCI_PLUGIN(desc)
