/* rpc_parse: every class of JSON-RPC answer, the view-result quirk, and
 * broken bodies (invalid JSON, wrong types, truncated, oversized). */
#include "../tap.h"
#include "rpc.h"

#include <cjson/cJSON.h>

static struct rpc_result res;
static char msg[600];
static cJSON *doc;

static void parse(int status, int terr, const char *ttext, const char *body)
{
	cJSON_Delete(doc);
	rpc_parse_response(status, terr, ttext, body, body ? strlen(body) : 0, &doc, &res,
			   msg, sizeof(msg));
}

static void classes(void)
{
	parse(200, 0, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":1}}");
	ok(res.ok && res.cls == RPC_OK && cJSON_IsObject(res.result), "success: ok, result object");
	parse(200, 0, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}");
	ok(res.ok && cJSON_IsNull(res.result), "result null (health) is a success");

	parse(200, 0, NULL,
	      "{\"jsonrpc\":\"2.0\",\"error\":{\"name\":\"HANDLER_ERROR\",\"cause\":{\"info\":{\"block_height\":101,"
	      "\"requested_account_id\":\"nobody.near\"},\"name\":\"UNKNOWN_ACCOUNT\"},\"code\":-32000,"
	      "\"message\":\"Server error\",\"data\":\"account nobody.near does not exist while viewing\"},\"id\":1}");
	ok(!res.ok && res.cls == RPC_ERR_HANDLER, "HANDLER_ERROR -> handler");
	is_str(res.error_name, "HANDLER_ERROR", "error_name");
	is_str(res.cause_name, "UNKNOWN_ACCOUNT", "cause_name");
	is_str(res.message, "UNKNOWN_ACCOUNT: account nobody.near does not exist while viewing",
	       "message is CAUSE: data");
	ok(!rpc_class_retryable(res.cls), "a handler error is not retried");

	parse(200, 0, NULL,
	      "{\"jsonrpc\":\"2.0\",\"error\":{\"name\":\"HANDLER_ERROR\",\"cause\":{\"info\":{},\"name\":\"INVALID_TRANSACTION\"},"
	      "\"code\":-32000,\"message\":\"Server error\",\"data\":{\"TxExecutionError\":{\"InvalidTxError\":"
	      "{\"InvalidNonce\":{\"ak_nonce\":20000001,\"tx_nonce\":20000001}}}}},\"id\":1}");
	is_str(res.cause_name, "INVALID_TRANSACTION", "INVALID_TRANSACTION cause");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(res.error, "data");
	ok(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(data, "TxExecutionError")),
	   "the error object carries data.TxExecutionError");
	ok(strstr(res.message, "InvalidNonce") != NULL, "message shows the data object: %s", res.message);

	parse(408, 0, NULL,
	      "{\"jsonrpc\":\"2.0\",\"error\":{\"name\":\"HANDLER_ERROR\",\"cause\":{\"name\":\"TIMEOUT_ERROR\"},"
	      "\"data\":\"Timeout\"},\"id\":1}");
	ok(res.cls == RPC_ERR_TIMEOUT && rpc_class_retryable(res.cls), "408 TIMEOUT_ERROR -> timeout, retried");
	is_str(res.cause_name, "TIMEOUT_ERROR", "408 keeps the cause name");

	parse(400, 0, NULL,
	      "{\"jsonrpc\":\"2.0\",\"error\":{\"name\":\"REQUEST_VALIDATION_ERROR\",\"cause\":{\"info\":"
	      "{\"method_name\":\"nomethod\"},\"name\":\"METHOD_NOT_FOUND\"},\"code\":-32601,"
	      "\"message\":\"Method not found\",\"data\":\"nomethod\"},\"id\":1}");
	ok(res.cls == RPC_ERR_VALIDATION && !rpc_class_retryable(res.cls), "400 validation -> validation, not retried");
	is_str(res.message, "METHOD_NOT_FOUND: nomethod", "validation message");

	parse(400, 0, NULL,
	      "{\"error\":{\"name\":\"REQUEST_VALIDATION_ERROR\",\"cause\":{\"info\":{\"error_message\":"
	      "\"missing field `account_id`\"},\"name\":\"PARSE_ERROR\"}}}");
	is_str(res.message, "PARSE_ERROR: missing field `account_id`", "info.error_message preferred");

	parse(500, 0, NULL,
	      "{\"error\":{\"name\":\"INTERNAL_ERROR\",\"cause\":{\"name\":\"INTERNAL_ERROR\",\"info\":"
	      "{\"error_message\":\"boom\"}}}}");
	ok(res.cls == RPC_ERR_HTTP_5XX && rpc_class_retryable(res.cls), "500 INTERNAL_ERROR -> http_5xx, retried");
	is_str(res.message, "HTTP 500: INTERNAL_ERROR: boom", "5xx message keeps the cause");
	parse(200, 0, NULL, "{\"error\":{\"name\":\"INTERNAL_ERROR\",\"cause\":{\"name\":\"INTERNAL_ERROR\"}}}");
	ok(res.cls == RPC_ERR_INTERNAL && !rpc_class_retryable(res.cls), "INTERNAL_ERROR at 200 -> internal");

	parse(429, 0, NULL, "project plan exceeded");
	ok(res.cls == RPC_ERR_RATE_LIMITED && rpc_class_retryable(res.cls), "429 -> rate_limited, retried");
	is_str(res.message, "HTTP 429: project plan exceeded", "429 message shows the edge's text");
	parse(503, 0, NULL, "<html>\n<body>Service Unavailable</body></html>");
	ok(res.cls == RPC_ERR_HTTP_5XX, "503 HTML -> http_5xx");
	ok(!strchr(res.message, '\n'), "no line break in the message");
	parse(401, 0, NULL, "{\"error\":\"invalid api key\"}");
	ok(res.cls == RPC_ERR_HTTP_STATUS && !rpc_class_retryable(res.cls),
	   "401 with {\"error\":\"...\"}: http_status, not retried");
	is_str(res.message, "HTTP 401: invalid api key", "401 message");
	parse(403, 0, NULL, "");
	ok(res.cls == RPC_ERR_HTTP_STATUS && !rpc_class_retryable(res.cls), "403 empty -> http_status");
	is_str(res.message, "HTTP 403", "bare status message");

	parse(0, 7, "Couldn't connect to server", "");
	ok(res.cls == RPC_ERR_TRANSPORT && rpc_class_retryable(res.cls), "connection refused -> transport, retried");
	is_str(res.message, "transport: Couldn't connect to server", "transport message");
	parse(0, 28, "no answer within 1 s", "");
	ok(res.cls == RPC_ERR_TIMEOUT && rpc_class_retryable(res.cls), "curl timeout -> timeout");
	parse(0, 63, "response larger than 100 bytes", "");
	ok(res.cls == RPC_ERR_TOO_LARGE && !rpc_class_retryable(res.cls), "oversized body -> too_large, not retried");
	is_str(res.message, "too_large: response larger than 100 bytes", "too_large message");
	parse(0, 18, "Transferred a partial file", "");
	ok(res.cls == RPC_ERR_TRANSPORT, "truncated transfer (curl 18) -> transport");

	parse(200, 0, NULL, "{\"error\":{\"code\":-32601,\"message\":\"Method not found\"}}");
	ok(res.cls == RPC_ERR_VALIDATION, "legacy error without a name: code -32601 -> validation");
}

static void broken(void)
{
	parse(200, 0, NULL, "{\"jsonrpc\":\"2.0\",\"result\":{\"a\":[1,2");
	ok(res.cls == RPC_ERR_MALFORMED && !res.ok, "truncated JSON -> malformed");
	ok(strstr(res.message, "truncated") != NULL, "says truncated: %s", res.message);
	parse(200, 0, NULL, "{\"jsonrpc\":\"2.0\",]");
	ok(res.cls == RPC_ERR_MALFORMED && strstr(res.message, "not JSON (error at byte"),
	   "invalid JSON names the byte: %s", res.message);
	parse(200, 0, NULL, "");
	is_str(res.message, "malformed response: empty body", "empty body");
	parse(200, 0, NULL, "[1,2,3]");
	is_str(res.message, "malformed response: not a JSON object", "array body");
	parse(200, 0, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1}");
	is_str(res.message, "malformed response: neither \"result\" nor \"error\"", "no result");
	parse(200, 0, NULL, "{\"error\":{\"name\":5}}");
	is_str(res.message, "malformed response: error.name is not a string", "error.name wrong type");
	parse(200, 0, NULL, "{\"error\":{\"name\":\"HANDLER_ERROR\",\"cause\":\"x\"}}");
	is_str(res.message, "malformed response: error.cause is not an object", "error.cause wrong type");
	parse(200, 0, NULL, "{\"error\":{\"name\":\"HANDLER_ERROR\",\"cause\":{\"name\":[]}}}");
	is_str(res.message, "malformed response: error.cause.name is not a string", "cause.name wrong type");
	parse(200, 0, NULL, "{\"error\":17}");
	ok(res.cls == RPC_ERR_MALFORMED, "error is a number -> malformed");

	/* a body with NUL bytes and control characters stays one printable line */
	static const char nul_body[] = "HTTP\0\x01\x02 oops";
	cJSON_Delete(doc);
	rpc_parse_response(502, 0, NULL, nul_body, sizeof(nul_body) - 1, &doc, &res, msg, sizeof(msg));
	ok(res.cls == RPC_ERR_HTTP_5XX && strlen(res.message) > 8, "binary 502 body: %s", res.message);

	/* a huge error message is cut, not overflowed */
	size_t n = 100000;
	char *big = malloc(n + 64);
	int off = sprintf(big, "{\"error\":{\"name\":\"HANDLER_ERROR\",\"data\":\"");
	memset(big + off, 'x', n);
	strcpy(big + off + n, "\"}}");
	char small[64];
	cJSON_Delete(doc);
	rpc_parse_response(200, 0, NULL, big, strlen(big), &doc, &res, small, sizeof(small));
	ok(strlen(res.message) == sizeof(small) - 1 && strcmp(res.message + sizeof(small) - 4, "...") == 0,
	   "long message cut to the buffer with '...'");
	free(big);
}

static void view_results(void)
{
	char *value;
	size_t len;
	uint64_t h;
	const char *hash;
	cJSON *j;
	int rc;

#define VIEW(text) do { \
	j = cJSON_Parse(text); value = NULL; h = 0; hash = NULL; \
	rc = rpc_parse_view_result(j, &value, &len, &h, &hash, msg, sizeof(msg)); \
	} while (0)
#define DONE() do { free(value); cJSON_Delete(j); } while (0)

	VIEW("{\"block_hash\":\"FSxfyZGzjEVT3ftaeNg5PE6Xb9DNVFkcbNbEcx4PPpNF\",\"block_height\":101,"
	     "\"logs\":[],\"result\":[34,104,105,34]}");
	ok(rc == 0 && len == 4 && !memcmp(value, "\"hi\"", 4), "bytes decoded");
	is_int(h, 101, "height");
	is_str(hash, "FSxfyZGzjEVT3ftaeNg5PE6Xb9DNVFkcbNbEcx4PPpNF", "hash");
	DONE();
	VIEW("{\"block_hash\":\"x\",\"block_height\":7,\"logs\":[],\"result\":[]}");
	ok(rc == 0 && len == 0 && value && value[0] == 0, "empty result: zero bytes, NUL-terminated");
	DONE();
	VIEW("{\"block_hash\":\"FSx\",\"block_height\":101,\"error\":\"wasm execution failed with error: "
	     "FunctionCallError(MethodResolveError(MethodNotFound))\",\"logs\":[]}");
	is_int(rc, -2, "result.error quirk -> contract failure");
	is_str(msg, "CONTRACT_EXECUTION_ERROR: wasm execution failed with error: "
	       "FunctionCallError(MethodResolveError(MethodNotFound))", "quirk message as the RPC gave it");
	is_int(h, 101, "quirk keeps the height");
	DONE();
	VIEW("{\"block_hash\":\"x\",\"block_height\":1,\"result\":[1,256]}");
	ok(rc == -1 && strstr(msg, "result[1] is not a byte"), "256 is not a byte: %s", msg);
	DONE();
	VIEW("{\"block_hash\":\"x\",\"block_height\":1,\"result\":[-1]}");
	ok(rc == -1, "negative byte refused");
	DONE();
	VIEW("{\"block_hash\":\"x\",\"block_height\":1,\"result\":[1.5]}");
	ok(rc == -1, "fractional byte refused");
	DONE();
	VIEW("{\"block_hash\":\"x\",\"block_height\":1,\"result\":\"aGk=\"}");
	ok(rc == -1 && strstr(msg, "not an array"), "result as a string refused: %s", msg);
	DONE();
	VIEW("{\"block_hash\":\"x\",\"result\":[1]}");
	ok(rc == -1 && strstr(msg, "no block_height"), "missing block_height refused");
	DONE();
	VIEW("{\"block_hash\":\"x\",\"block_height\":1e300,\"result\":[1]}");
	ok(rc == -1 && strstr(msg, "block_height"), "huge block_height refused");
	DONE();
	VIEW("{\"block_hash\":5,\"block_height\":1,\"result\":[1]}");
	ok(rc == -1 && strstr(msg, "block_hash"), "numeric block_hash refused");
	DONE();
	VIEW("{\"block_hash\":\"x\",\"block_height\":1,\"result\":[1],\"logs\":{}}");
	ok(rc == -1 && strstr(msg, "logs"), "logs not an array refused");
	DONE();
	VIEW("[1,2]");
	ok(rc == -1 && strstr(msg, "not an object"), "view result not an object");
	DONE();

	j = cJSON_Parse("{\"header\":{\"height\":104,\"hash\":\"98sZhnWpTLSzr9oVVhZFwzc9RjUsS7YJmhN81X49qDfg\"}}");
	ok(rpc_parse_final_block(j, &h, &hash, msg, sizeof(msg)) == 0 && h == 104 &&
	   !strcmp(hash, "98sZhnWpTLSzr9oVVhZFwzc9RjUsS7YJmhN81X49qDfg"), "final block: height and hash");
	cJSON_Delete(j);
	j = cJSON_Parse("{\"header\":{\"height\":\"104\",\"hash\":\"x\"}}");
	ok(rpc_parse_final_block(j, &h, &hash, msg, sizeof(msg)) < 0 && strstr(msg, "height"),
	   "final block: height as a string refused");
	cJSON_Delete(j);
}

int main(void)
{
	classes();
	broken();
	view_results();
	cJSON_Delete(doc);
	for (int c = 0; c < RPC_ERR__COUNT; c++)
		ok(strcmp(rpc_class_name(c), "unknown") != 0, "class %d has a name: %s", c, rpc_class_name(c));
	return done_testing();
}
