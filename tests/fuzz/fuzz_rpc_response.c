/* libFuzzer: the JSON-RPC response classifier and the view/block decoders on
 * arbitrary bodies.  The first byte picks the HTTP status (or a transport
 * error); the rest is the body.  Whatever the input: a class in range, ok
 * exactly when the class is RPC_OK, a NUL-terminated message that fits. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int statuses[] = { 200, 200, 200, 200, 400, 401, 403, 408, 422, 429, 500, 502, 503, 0 };
#define N_STATUS (sizeof(statuses) / sizeof(statuses[0]))

static void check_msg(const char *m, size_t cap)
{
	if (!m || strnlen(m, cap) >= cap)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_result res;
	char msg[256], vmsg[128];
	cJSON *doc = NULL;

	if (!size)
		return 0;
	int status = statuses[data[0] % N_STATUS];
	int terr = status == 0 ? (data[0] & 1 ? 28 : 18) : 0;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;

	rpc_parse_response(status, terr, terr ? "transport text" : NULL, body, len, &doc, &res,
			   msg, sizeof(msg));
	if ((unsigned)res.cls >= RPC_ERR__COUNT || (res.ok != 0) != (res.cls == RPC_OK))
		abort();
	if (res.ok && !res.result)
		abort();
	check_msg(res.message, sizeof(msg));
	if (strcmp(rpc_class_name(res.cls), "unknown") == 0)
		abort();

	if (res.ok) {
		char *value = NULL;
		size_t vlen = 0;
		uint64_t h = 0;
		const char *hash = NULL;
		int rc = rpc_parse_view_result(res.result, &value, &vlen, &h, &hash, vmsg, sizeof(vmsg));
		if (rc == 0 && (!value || value[vlen] != '\0' || vlen > len))
			abort();
		if (rc != 0 && (value || rc < -2))
			abort();
		if (rc != 0)
			check_msg(vmsg, sizeof(vmsg));
		free(value);
		if (rpc_parse_final_block(res.result, &h, &hash, vmsg, sizeof(vmsg)) == 0 &&
		    (!hash || !*hash || h > (1ull << 53)))
			abort();
	} else if (res.error && cJSON_IsObject(res.error)) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(res.error, "cause");
		uint64_t h = 0;
		const char *hash = NULL;
		if (cJSON_IsObject(c))
			rpc_parse_view_where(cJSON_GetObjectItemCaseSensitive(c, "info"), &h, &hash);
	}
	cJSON_Delete(doc);
	return 0;
}
