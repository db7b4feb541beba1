/* Classifying JSON-RPC answers and decoding view results: pure functions on
 * untrusted bytes, shared by the client, the tests and the fuzzer. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rpc.h"

static const char *const class_names[RPC_ERR__COUNT] = {
	[RPC_OK] = "ok",
	[RPC_ERR_TRANSPORT] = "transport",
	[RPC_ERR_TIMEOUT] = "timeout",
	[RPC_ERR_HTTP_5XX] = "http_5xx",
	[RPC_ERR_RATE_LIMITED] = "rate_limited",
	[RPC_ERR_HTTP_STATUS] = "http_status",
	[RPC_ERR_TOO_LARGE] = "too_large",
	[RPC_ERR_MALFORMED] = "malformed",
	[RPC_ERR_VALIDATION] = "validation",
	[RPC_ERR_HANDLER] = "handler",
	[RPC_ERR_INTERNAL] = "internal",
	[RPC_ERR_CONTRACT] = "contract",
	[RPC_ERR_NO_ENDPOINT] = "no_endpoint",
};

const char *rpc_class_name(enum rpc_error_class cls)
{
	if ((unsigned)cls >= RPC_ERR__COUNT)
		return "unknown";
	return class_names[cls];
}

int rpc_class_retryable(enum rpc_error_class cls)
{
	return cls == RPC_ERR_TRANSPORT || cls == RPC_ERR_TIMEOUT ||
	       cls == RPC_ERR_HTTP_5XX || cls == RPC_ERR_RATE_LIMITED;
}

int rpc_json_u64(const cJSON *j, uint64_t *out)
{
	if (!cJSON_IsNumber(j))
		return -1;
	double d = j->valuedouble;
	/* exact integers only: cJSON keeps numbers as doubles */
	if (!(d >= 0 && d <= 9007199254740992.0) || floor(d) != d)
		return -1;
	*out = (uint64_t)d;
	return 0;
}

static const char *jstr(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Append printable text, control bytes as '?', cut at the buffer's end. */
static void put_text(char *buf, size_t n, const char *s, size_t len)
{
	size_t at = strlen(buf);
	for (size_t i = 0; i < len && at + 1 < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		buf[at++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	buf[at < n ? at : n - 1] = '\0';
	if (n > 4 && at + 1 >= n && len > 0)
		memcpy(buf + n - 4, "...", 4);
}

static void set_msg(char *msg, size_t n, const char *prefix, const char *text)
{
	if (!n)
		return;
	msg[0] = '\0';
	if (prefix) {
		put_text(msg, n, prefix, strlen(prefix));
		if (text)
			put_text(msg, n, ": ", 2);
	}
	if (text)
		put_text(msg, n, text, strlen(text));
}

/* "CAUSE: detail" for a JSON-RPC error object. */
static void error_message(const cJSON *err, const char *name, const char *cause,
			  char *msg, size_t n)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(err, "cause");
	const cJSON *info = cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, "info") : NULL;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(err, "data");
	const char *detail = cJSON_IsObject(info) ? jstr(info, "error_message") : NULL;
	char *printed = NULL;

	if (!detail && cJSON_IsString(data))
		detail = data->valuestring;
	if (!detail && data && !cJSON_IsNull(data))
		detail = printed = cJSON_PrintUnformatted(data);
	if (!detail && cJSON_IsObject(info) && info->child)
		detail = printed = cJSON_PrintUnformatted(info);
	if (!detail)
		detail = jstr(err, "message");
	set_msg(msg, n, cause ? cause : name ? name : "ERROR", detail);
	free(printed);
}

static enum rpc_error_class jsonrpc_class(const char *name, const char *cause,
					  const cJSON *err)
{
	if (!name) {
		/* legacy error without a name: the JSON-RPC 2.0 codes */
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
		double d = cJSON_IsNumber(code) ? code->valuedouble : 0;
		if (d == -32700 || d == -32600 || d == -32601 || d == -32602)
			return RPC_ERR_VALIDATION;
		if (d == -32603)
			return RPC_ERR_INTERNAL;
		return RPC_ERR_HANDLER;
	}
	if (!strcmp(name, "REQUEST_VALIDATION_ERROR"))
		return RPC_ERR_VALIDATION;
	if (!strcmp(name, "INTERNAL_ERROR"))
		return RPC_ERR_INTERNAL;
	if (cause && !strcmp(cause, "TIMEOUT_ERROR"))
		return RPC_ERR_TIMEOUT;
	if (cause && !strcmp(cause, "CONTRACT_EXECUTION_ERROR"))
		return RPC_ERR_CONTRACT;
	return RPC_ERR_HANDLER;
}

/* Does the text stop inside a string or an open bracket, brackets matching
 * so far?  Then it was cut, rather than garbled. */
static int json_cut_short(const char *s, size_t n)
{
	char want[64];		/* closers expected, for the first 64 levels */
	size_t depth = 0;
	int in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (depth < sizeof(want))
				want[depth] = c == '{' ? '}' : ']';
			depth++;
		} else if (c == '}' || c == ']') {
			if (!depth || (--depth < sizeof(want) && want[depth] != c))
				return 0;
		}
	}
	return in_str || depth > 0;
}

static void http_message(int status, const char *body, size_t len, char *msg, size_t n)
{
	char head[32];
	snprintf(head, sizeof(head), "HTTP %d", status);
	set_msg(msg, n, head, NULL);
	/* a short edge page says why ("project plan exceeded"); keep its start */
	while (len && isspace((unsigned char)*body))
		body++, len--;
	if (len) {
		put_text(msg, n, ": ", 2);
		put_text(msg, n, body, len < 120 ? len : 120);
	}
}

void rpc_parse_response(int http_status, int transport_error,
			const char *transport_text, const char *body,
			size_t body_len, cJSON **doc, struct rpc_result *out,
			char *msg, size_t msgsz)
{
	const char *end = NULL;
	cJSON *root = NULL;
	const cJSON *err = NULL;

	memset(out, 0, sizeof(*out));
	*doc = NULL;
	if (!body)
		body = "", body_len = 0;
	out->raw = body;
	out->raw_len = body_len;
	out->http_status = http_status;
	out->message = msg;
	if (msgsz)
		msg[0] = '\0';

	if (transport_error) {
		/* 28 = CURLE_OPERATION_TIMEDOUT, 63 = CURLE_FILESIZE_EXCEEDED */
		out->cls = transport_error == 28 ? RPC_ERR_TIMEOUT :
			   transport_error == 63 ? RPC_ERR_TOO_LARGE : RPC_ERR_TRANSPORT;
		set_msg(msg, msgsz, rpc_class_name(out->cls),
			transport_text ? transport_text : "transfer failed");
		return;
	}

	if (body_len)
		root = cJSON_ParseWithLengthOpts(body, body_len, &end, 0);
	if (root && cJSON_IsObject(root)) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
		if (e && !cJSON_IsNull(e))
			err = e;
	}
	*doc = root;

	if (err) {
		out->error = err;
		if (!cJSON_IsObject(err)) {
			/* some gateways answer {"error":"origin_not_allowed"} */
			out->error_name = cJSON_IsString(err) ? err->valuestring : NULL;
		} else {
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(err, "cause");
			out->error_name = jstr(err, "name");
			out->cause_name = cJSON_IsObject(c) ? jstr(c, "name") : NULL;
		}
	}

	/* HTTP-level classes first: they decide retrying whatever the body says */
	int rpcerr = err && cJSON_IsObject(err);
	if (http_status == 429 || http_status == 408 || http_status >= 500 ||
	    (http_status && (http_status < 200 || http_status > 299) && !rpcerr)) {
		out->cls = http_status == 429 ? RPC_ERR_RATE_LIMITED :
			   http_status == 408 ? RPC_ERR_TIMEOUT :
			   http_status >= 500 ? RPC_ERR_HTTP_5XX : RPC_ERR_HTTP_STATUS;
		char head[32];
		snprintf(head, sizeof(head), "HTTP %d", http_status);
		if (rpcerr) {
			char detail[512];
			error_message(err, out->error_name, out->cause_name, detail,
				      sizeof(detail));
			set_msg(msg, msgsz, head, detail);
		} else if (err && cJSON_IsString(err)) {
			/* a gateway's {"error":"origin_not_allowed"} */
			set_msg(msg, msgsz, head, err->valuestring);
		} else {
			http_message(http_status, body, body_len, msg, msgsz);
		}
		return;
	}

	if (err && !rpcerr) {
		out->cls = RPC_ERR_MALFORMED;
		set_msg(msg, msgsz, "malformed response", "\"error\" is not an object");
		return;
	}
	if (err) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(err, "name");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(err, "cause");
		if ((name && !cJSON_IsString(name)) || (c && !cJSON_IsObject(c)) ||
		    (cJSON_IsObject(c) && cJSON_GetObjectItemCaseSensitive(c, "name") &&
		     !out->cause_name)) {
			out->cls = RPC_ERR_MALFORMED;
			set_msg(msg, msgsz, "malformed response",
				name && !cJSON_IsString(name) ? "error.name is not a string" :
				c && !cJSON_IsObject(c) ? "error.cause is not an object" :
				"error.cause.name is not a string");
			return;
		}
		out->cls = jsonrpc_class(out->error_name, out->cause_name, err);
		error_message(err, out->error_name, out->cause_name, msg, msgsz);
		return;
	}

	if (!root) {
		char detail[128];
		out->cls = RPC_ERR_MALFORMED;
		if (!body_len)
			snprintf(detail, sizeof(detail), "empty body");
		else if (end && (size_t)(end - body) + 1 >= body_len && json_cut_short(body, body_len))
			snprintf(detail, sizeof(detail), "body ends early (truncated at %zu bytes)",
				 body_len);
		else
			snprintf(detail, sizeof(detail), "not JSON (error at byte %zu of %zu)",
				 end ? (size_t)(end - body) : (size_t)0, body_len);
		set_msg(msg, msgsz, "malformed response", detail);
		return;
	}
	if (!cJSON_IsObject(root)) {
		out->cls = RPC_ERR_MALFORMED;
		set_msg(msg, msgsz, "malformed response", "not a JSON object");
		return;
	}
	const cJSON *result = cJSON_GetObjectItemCaseSensitive(root, "result");
	if (!result) {
		out->cls = RPC_ERR_MALFORMED;
		set_msg(msg, msgsz, "malformed response", "neither \"result\" nor \"error\"");
		return;
	}
	out->ok = 1;
	out->cls = RPC_OK;
	out->result = result;
}

/* block_height and block_hash of a view answer or an error's cause.info. */
static int read_where(const cJSON *obj, uint64_t *height, const char **hash,
		      char *msg, size_t n)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(obj, "block_height");
	const cJSON *bh = cJSON_GetObjectItemCaseSensitive(obj, "block_hash");
	if (h && rpc_json_u64(h, height) < 0) {
		set_msg(msg, n, "malformed response", "block_height is not a whole number in 0..2^53");
		return -1;
	}
	if (bh) {
		if (!cJSON_IsString(bh) || strlen(bh->valuestring) > 64) {
			set_msg(msg, n, "malformed response", "block_hash is not a base58 string");
			return -1;
		}
		*hash = bh->valuestring;
	}
	return 0;
}

int rpc_parse_view_where(const cJSON *obj, uint64_t *height, const char **hash)
{
	char tmp[8];
	if (!cJSON_IsObject(obj))
		return -1;
	return read_where(obj, height, hash, tmp, sizeof(tmp));
}

int rpc_parse_view_result(const cJSON *res, char **value, size_t *len,
			  uint64_t *height, const char **hash, char *msg,
			  size_t msgsz)
{
	const cJSON *bytes, *it;
	char *buf;
	size_t i = 0, n;

	*value = NULL;
	*len = 0;
	if (!cJSON_IsObject(res)) {
		set_msg(msg, msgsz, "malformed response", "view result is not an object");
		return -1;
	}
	if (read_where(res, height, hash, msg, msgsz) < 0)
		return -1;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(res, "error");
	if (cJSON_IsString(e)) {
		/* nearcore's legacy in-band failure: HTTP 200, result.error */
		set_msg(msg, msgsz, "CONTRACT_EXECUTION_ERROR", e->valuestring);
		return -2;
	}
	if (!cJSON_GetObjectItemCaseSensitive(res, "block_height")) {
		set_msg(msg, msgsz, "malformed response", "view result has no block_height");
		return -1;
	}
	bytes = cJSON_GetObjectItemCaseSensitive(res, "result");
	if (!cJSON_IsArray(bytes)) {
		set_msg(msg, msgsz, "malformed response",
			bytes ? "view result.result is not an array" : "view result has no result");
		return -1;
	}
	n = (size_t)cJSON_GetArraySize(bytes);
	if (!(buf = malloc(n + 1))) {
		set_msg(msg, msgsz, "out of memory", NULL);
		return -1;
	}
	cJSON_ArrayForEach(it, bytes) {
		uint64_t b;
		if (rpc_json_u64(it, &b) < 0 || b > 255) {
			char detail[96];
			snprintf(detail, sizeof(detail),
				 "view result.result[%zu] is not a byte (0..255)", i);
			set_msg(msg, msgsz, "malformed response", detail);
			free(buf);
			return -1;
		}
		buf[i++] = (char)b;
	}
	buf[i] = '\0';
	const cJSON *logs = cJSON_GetObjectItemCaseSensitive(res, "logs");
	if (logs && !cJSON_IsArray(logs)) {
		set_msg(msg, msgsz, "malformed response", "view result.logs is not an array");
		free(buf);
		return -1;
	}
	*value = buf;
	*len = i;
	if (msgsz)
		msg[0] = '\0';
	return 0;
}

int rpc_parse_final_block(const cJSON *res, uint64_t *height, const char **hash,
			  char *msg, size_t msgsz)
{
	const cJSON *hdr = cJSON_IsObject(res) ? cJSON_GetObjectItemCaseSensitive(res, "header") : NULL;
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(hdr, "height");
	const cJSON *bh = cJSON_GetObjectItemCaseSensitive(hdr, "hash");
	if (!cJSON_IsObject(hdr)) {
		set_msg(msg, msgsz, "malformed response", "block result has no header object");
		return -1;
	}
	if (rpc_json_u64(h, height) < 0) {
		set_msg(msg, msgsz, "malformed response", "block header.height is not a whole number in 0..2^53");
		return -1;
	}
	if (!cJSON_IsString(bh) || !bh->valuestring[0] || strlen(bh->valuestring) > 64) {
		set_msg(msg, msgsz, "malformed response", "block header.hash is not a base58 string");
		return -1;
	}
	*hash = bh->valuestring;
	return 0;
}
