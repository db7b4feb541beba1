/* Test plugin: fetches its `url` at start and logs what the response
 * headers look like through the 1.1 fields and mpci_http_response_header(). */
#include <stdio.h>
#include <string.h>

#include "mpc-indexer/plugin.h"

struct st {
	const struct mpci_host_api *api;
	mpci_plugin *self;
	mpci_http *req;
};

static struct st st;

static void done(const struct mpci_http_response *res, void *ud)
{
	struct st *s = ud;
	const char *chain = mpci_http_response_header(res, "sgx-pck-crl-issuer-chain");
	const char *twice = mpci_http_response_header(res, "X-TWICE");
	const char *none = mpci_http_response_header(res, "X-Absent");
	char all[512] = "";

	s->req = NULL;
	if (MPCI_HTTP_RESPONSE_HAS(res, n_headers))
		for (size_t i = 0; i < res->n_headers; i++)
			snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s=%s",
				 i ? "|" : "", res->headers[i].name, res->headers[i].value);
	s->api->log(s->self, MPCI_LOG_INFO,
		    "response %d: %zu headers [%s] chain=%s twice=%s absent=%s",
		    res->status, MPCI_HTTP_RESPONSE_HAS(res, n_headers) ? res->n_headers : 0,
		    all, chain ? chain : "(null)", twice ? twice : "(null)",
		    none ? none : "(null)");
}

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	st.api = api;
	st.self = self;
	*state = &st;
	return MPCI_OK;
}

static int start(void *state)
{
	struct st *s = state;
	struct mpci_http_request req = { .struct_size = sizeof(req),
					 .url = s->api->config_str(s->self, "url") };
	s->req = s->api->http_request(s->self, &req, done, s);
	return s->req ? MPCI_OK : MPCI_ERR;
}

static const struct mpci_config_key keys[] = {
	{ "url", MPCI_CFG_STR, NULL, "what to fetch" },
	{ NULL, 0, NULL, NULL },
};

static const struct mpci_plugin_desc desc = {
	MPCI_DESC_HEADER,
	.name = "http_headers",
	.version = "1",
	.config = keys,
	.init = init,
	.start = start,
};
MPCI_PLUGIN(desc)
