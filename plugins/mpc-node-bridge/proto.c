/* The bridge protocol: JSON-RPC 2.0 shaped requests, one per line, checked
 * and dispatched; results and errors; views and transactions in flight. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "jbuf.h"
#include "msg.h"
#include "render.h"

#define MAX_ID_LEN 256
#define MAX_NAME_LEN 256
#define MAX_SAFE_INT 9007199254740991.0   /* 2^53 - 1 */

/* ---- replies ---- */

static void reply_head(struct jbuf *j, const char *id_json)
{
	jb_str(j, "{\"jsonrpc\":\"2.0\",\"id\":");
	jb_str(j, id_json ? id_json : "null");
}

void proto_result(struct bclient *c, const char *id_json, const char *result, size_t len)
{
	struct jbuf j;
	jb_init(&j);
	reply_head(&j, id_json);
	jb_str(&j, ",\"result\":");
	jb_put(&j, result, len);
	jb_put(&j, "}", 1);
	struct bmsg *m = bmsg_from(&j);
	if (!m) {
		client_close(c, "internal", "out of memory");
		return;
	}
	client_send(c, m);
	bmsg_unref(m);
}

void proto_error(struct bclient *c, const char *id_json, int code, const char *message,
		 const char *data_json)
{
	struct jbuf j;
	jb_init(&j);
	reply_head(&j, id_json);
	jb_str(&j, ",\"error\":{\"code\":");
	jb_i64(&j, code);
	jb_key(&j, "message", 0);
	jb_qstr(&j, message);
	if (data_json) {
		jb_key(&j, "data", 0);
		jb_str(&j, data_json);
	}
	jb_str(&j, "}}");
	struct bmsg *m = bmsg_from(&j);
	if (!m) {
		client_close(c, "internal", "out of memory");
		return;
	}
	client_send(c, m);
	bmsg_unref(m);
}

/* A request-level mistake: counts toward max_errors. */
static void bad(struct bclient *c, const char *id_json, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void bad(struct bclient *c, const char *id_json, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->errors++;
	proto_error(c, id_json, code, msg, NULL);
}

static void result_jb(struct bclient *c, const char *id_json, struct jbuf *j)
{
	if (j->oom) {
		jb_free(j);
		proto_error(c, id_json, BE_INTERNAL, "out of memory", NULL);
		return;
	}
	proto_result(c, id_json, j->p ? j->p : "null", j->len);
	jb_free(j);
}

/* ---- parameter helpers ---- */

/* 1 found, 0 absent, -1 wrong (an error was sent). */
static int get_u64(struct bclient *c, const char *id, const cJSON *params,
		   const char *key, uint64_t *out)
{
	const cJSON *v = params ? cJSON_GetObjectItemCaseSensitive(params, key) : NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > MAX_SAFE_INT ||
	    v->valuedouble != floor(v->valuedouble)) {
		bad(c, id, BE_INVALID_PARAMS,
		    "params.%s must be a non-negative integer below 2^53", key);
		return -1;
	}
	*out = (uint64_t)v->valuedouble;
	return 1;
}

static int get_str(struct bclient *c, const char *id, const cJSON *params,
		   const char *key, const char **out, size_t max)
{
	const cJSON *v = params ? cJSON_GetObjectItemCaseSensitive(params, key) : NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > max) {
		bad(c, id, BE_INVALID_PARAMS, "params.%s must be a non-empty string of at most %zu bytes",
		    key, max);
		return -1;
	}
	*out = v->valuestring;
	return 1;
}

/* args: an object or array (sent as its JSON), or a string (sent as is). */
static int get_args(struct bclient *c, const char *id, const cJSON *params, char **out,
		    size_t *len)
{
	const cJSON *v = params ? cJSON_GetObjectItemCaseSensitive(params, "args") : NULL;
	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		*out = strdup("{}");
	} else if (cJSON_IsString(v)) {
		*out = strdup(v->valuestring);
	} else if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		*out = cJSON_PrintUnformatted(v);
	} else {
		bad(c, id, BE_INVALID_PARAMS, "params.args must be an object, an array or a string");
		return -1;
	}
	if (!*out) {
		proto_error(c, id, BE_INTERNAL, "out of memory", NULL);
		return -1;
	}
	*len = strlen(*out);
	return 0;
}

static void ring_info(struct jbuf *j, const struct bridge *br)
{
	jb_put(j, "{", 1);
	jb_key(j, "updates", 1);
	jb_u64(j, br->ring.n);
	jb_key(j, "bytes", 0);
	jb_u64(j, br->ring.bytes);
	jb_key(j, "oldest_seq", 0);
	jb_u64(j, ring_oldest_seq(&br->ring));
	jb_key(j, "next_seq", 0);
	jb_u64(j, br->ring.next_seq);
	jb_key(j, "oldest_height", 0);
	uint64_t oh = ring_oldest_height(&br->ring);
	if (oh)
		jb_u64(j, oh);
	else
		jb_str(j, "null");
	jb_key(j, "newest_height", 0);
	if (br->ring.newest_height)
		jb_u64(j, br->ring.newest_height);
	else
		jb_str(j, "null");
	jb_put(j, "}", 1);
}

/* ---- in-flight operations ---- */

static struct bop *op_new(struct bclient *c, const char *id_json, int is_tx)
{
	struct bridge *br = c->br;
	struct bop *op = calloc(1, sizeof(*op));
	if (!op)
		return NULL;
	op->id_json = strdup(id_json ? id_json : "null");
	if (!op->id_json) {
		free(op);
		return NULL;
	}
	op->br = br;
	op->c = c;
	op->is_tx = is_tx;
	op->next = br->ops.next;
	op->prev = &br->ops;
	br->ops.next->prev = op;
	br->ops.next = op;
	c->inflight++;
	return op;
}

static void op_free(struct bop *op)
{
	if (op->c)
		op->c->inflight--;
	op->prev->next = op->next;
	op->next->prev = op->prev;
	free(op->id_json);
	free(op);
}

void proto_client_gone(struct bclient *c)
{
	for (struct bop *op = c->br->ops.next; op != &c->br->ops; op = op->next)
		if (op->c == c) {
			op->c = NULL;
			c->inflight--;
		}
}

static void on_view(const struct mpci_view_result *r, void *ud)
{
	struct bop *op = ud;
	struct bclient *c = op->c;
	if (c) {
		struct jbuf j;
		jb_init(&j);
		render_view_body(&j, r);
		if (r->ok) {
			result_jb(c, op->id_json, &j);
		} else {
			proto_error(c, op->id_json, BE_VIEW_FAILED,
				    r->error ? r->error : "view failed", jb_cstr(&j));
			jb_free(&j);
		}
	}
	op_free(op);
	if (c)
		client_flush(c);
}

static void on_tx(const struct mpci_tx_result *r, void *ud)
{
	struct bop *op = ud;
	struct bclient *c = op->c;
	if (c) {
		struct jbuf j;
		jb_init(&j);
		render_tx_body(&j, r);
		result_jb(c, op->id_json, &j);
	}
	op_free(op);
	if (c)
		client_flush(c);
}

/* ---- methods ---- */

static void m_hello(struct bclient *c, const char *id, const cJSON *params)
{
	struct bridge *br = c->br;
	uint64_t v = 0;
	int rc = get_u64(c, id, params, "version", &v);
	if (rc < 0)
		return;
	if (rc == 0) {
		bad(c, id, BE_INVALID_PARAMS, "params.version is required");
		return;
	}
	if (c->phase == CLIENT_READY) {
		bad(c, id, BE_INVALID_REQUEST, "hello was already accepted on this connection");
		return;
	}
	if (v != BRIDGE_PROTOCOL_VERSION) {
		proto_error(c, id, BE_UNSUPPORTED_VERSION,
			    "unsupported protocol version", "{\"supported\":[1]}");
		return;
	}
	c->phase = CLIENT_READY;

	struct mpci_status st = { .struct_size = sizeof(st) };
	br->api->status(br->self, &st);
	struct jbuf j;
	jb_init(&j);
	jb_put(&j, "{", 1);
	jb_key(&j, "version", 1);
	jb_u64(&j, BRIDGE_PROTOCOL_VERSION);
	jb_key(&j, "server", 0);
	jb_qstr(&j, "mpc-node-bridge/" BRIDGE_VERSION);
	jb_key(&j, "run_id", 0);
	jb_qstr(&j, br->run_id);
	jb_key(&j, "client_id", 0);
	jb_u64(&j, c->id);
	jb_key(&j, "chain_id", 0);
	jb_qstr(&j, st.chain_id);
	jb_key(&j, "contract", 0);
	jb_qstr(&j, st.contract);
	jb_key(&j, "endpoints", 0);
	jb_put(&j, "[", 1);
	for (size_t i = 0; i < br->n_endpoints; i++) {
		if (i)
			jb_put(&j, ",", 1);
		jb_qstr(&j, br->endpoints[i].method);
	}
	jb_put(&j, "]", 1);
	jb_key(&j, "features", 0);
	jb_str(&j, "{\"blocks\":");
	jb_str(&j, br->have_blocks ? "true" : "false");
	jb_str(&j, ",\"state\":");
	jb_str(&j, br->have_state ? "true" : "false");
	jb_str(&j, ",\"tx\":");
	jb_str(&j, br->cfg.allow_tx ? "true" : "false");
	jb_put(&j, "}", 1);
	jb_key(&j, "limits", 0);
	jb_str(&j, "{\"max_line\":");
	jb_u64(&j, br->cfg.max_line);
	jb_str(&j, ",\"max_pending\":");
	jb_u64(&j, br->cfg.max_pending);
	jb_str(&j, ",\"max_inflight\":");
	jb_u64(&j, br->cfg.max_inflight);
	jb_str(&j, ",\"ring_size\":");
	jb_u64(&j, br->cfg.ring_size);
	jb_put(&j, "}", 1);
	jb_key(&j, "ring", 0);
	ring_info(&j, br);
	jb_put(&j, "}", 1);
	result_jb(c, id, &j);
}

static void m_ping(struct bclient *c, const char *id, const cJSON *params)
{
	proto_result(c, id, "\"pong\"", 6);
}

static void m_status(struct bclient *c, const char *id, const cJSON *params)
{
	struct bridge *br = c->br;
	struct mpci_status st = { .struct_size = sizeof(st) };
	br->api->status(br->self, &st);
	struct jbuf j;
	jb_init(&j);
	jb_put(&j, "{", 1);
	jb_key(&j, "chain_id", 1);
	jb_qstr(&j, st.chain_id);
	jb_key(&j, "contract", 0);
	jb_qstr(&j, st.contract);
	jb_key(&j, "head_height", 0);
	jb_u64(&j, st.head_height);
	jb_key(&j, "final_height", 0);
	jb_u64(&j, st.final_height);
	jb_key(&j, "processed_height", 0);
	jb_u64(&j, st.processed_height);
	jb_key(&j, "lag_blocks", 0);
	jb_u64(&j, st.head_height > st.processed_height ? st.head_height - st.processed_height : 0);
	jb_key(&j, "lag_seconds", 0);
	jb_double(&j, st.lag_seconds);
	jb_key(&j, "following", 0);
	jb_str(&j, st.following ? "true" : "false");
	jb_key(&j, "tx_queue_length", 0);
	jb_u64(&j, st.tx_queue_length);
	jb_key(&j, "clients", 0);
	jb_u64(&j, br->n_clients);
	size_t queued = 0;
	for (const struct bclient *o = br->clients; o; o = o->next)
		queued += o->oq.bytes;
	jb_key(&j, "queued_bytes", 0);
	jb_u64(&j, queued);
	jb_key(&j, "run_id", 0);
	jb_qstr(&j, br->run_id);
	jb_key(&j, "ring", 0);
	ring_info(&j, br);
	jb_put(&j, "}", 1);
	result_jb(c, id, &j);
}

static struct endpoint *find_endpoint(struct bridge *br, const char *method, size_t *idx)
{
	for (size_t i = 0; i < br->n_endpoints; i++)
		if (strcmp(br->endpoints[i].method, method) == 0) {
			*idx = i;
			return &br->endpoints[i];
		}
	return NULL;
}

static void endpoints_data(struct jbuf *j, const struct bridge *br)
{
	jb_str(j, "{\"endpoints\":[");
	for (size_t i = 0; i < br->n_endpoints; i++) {
		if (i)
			jb_put(j, ",", 1);
		jb_qstr(j, br->endpoints[i].method);
	}
	jb_str(j, "]}");
}

static void m_subscribe_state(struct bclient *c, const char *id, const cJSON *params)
{
	struct bridge *br = c->br;
	const char *method = NULL;
	size_t idx;
	int rc = get_str(c, id, params, "method", &method, MAX_NAME_LEN);
	if (rc < 0)
		return;
	if (rc == 0) {
		bad(c, id, BE_INVALID_PARAMS, "params.method is required");
		return;
	}
	if (!br->have_state) {
		proto_error(c, id, BE_UNAVAILABLE, "this indexer has no state viewer", NULL);
		return;
	}
	struct endpoint *ep = find_endpoint(br, method, &idx);
	if (!ep) {
		struct jbuf j;
		char msg[400];
		jb_init(&j);
		endpoints_data(&j, br);
		snprintf(msg, sizeof(msg), "'%s' is not a followed endpoint (see state_methods; "
			 "use view for one-shot calls)", method);
		proto_error(c, id, BE_UNKNOWN_ENDPOINT, msg, jb_cstr(&j));
		jb_free(&j);
		return;
	}
	if (c->state_on[idx]) {
		proto_error(c, id, BE_ALREADY_SUBSCRIBED, "already subscribed to this endpoint", NULL);
		return;
	}
	struct jbuf j;
	jb_init(&j);
	char sub[300];
	snprintf(sub, sizeof(sub), "state:%s", ep->method);
	jb_str(&j, "{\"subscription\":");
	jb_qstr(&j, sub);
	jb_put(&j, "}", 1);
	result_jb(c, id, &j);
	c->state_on[idx] = 1;
	if (ep->current)
		client_send(c, ep->current);
}

static void unavailable(struct bclient *c, const char *id, const char *why)
{
	struct bridge *br = c->br;
	struct jbuf j;
	jb_init(&j);
	jb_str(&j, "{\"oldest_height\":");
	uint64_t oh = ring_oldest_height(&br->ring);
	if (oh)
		jb_u64(&j, oh);
	else
		jb_str(&j, "null");
	jb_str(&j, ",\"newest_height\":");
	if (br->ring.newest_height)
		jb_u64(&j, br->ring.newest_height);
	else
		jb_str(&j, "null");
	jb_str(&j, ",\"oldest_seq\":");
	jb_u64(&j, ring_oldest_seq(&br->ring));
	jb_str(&j, ",\"run_id\":");
	jb_qstr(&j, br->run_id);
	jb_put(&j, "}", 1);
	proto_error(c, id, BE_HEIGHT_UNAVAILABLE, why, jb_cstr(&j));
	jb_free(&j);
}

/* Is this seq still held (or the next one to come)? */
static int within_window(const struct bridge *br, uint64_t seq)
{
	return seq >= ring_oldest_seq(&br->ring) && seq <= br->ring.next_seq;
}

static void m_subscribe_blocks(struct bclient *c, const char *id, const cJSON *params)
{
	struct bridge *br = c->br;
	uint64_t from = 0, after = 0;
	const char *run_id = NULL;
	int has_from = get_u64(c, id, params, "from_height", &from);
	if (has_from < 0)
		return;
	int has_after = get_u64(c, id, params, "after_seq", &after);
	if (has_after < 0)
		return;
	if (get_str(c, id, params, "run_id", &run_id, 64) < 0)
		return;
	if (has_from && has_after) {
		bad(c, id, BE_INVALID_PARAMS, "give from_height or after_seq, not both");
		return;
	}
	if (has_after && !run_id) {
		bad(c, id, BE_INVALID_PARAMS, "after_seq needs the run_id it came from");
		return;
	}
	if (!br->have_blocks) {
		proto_error(c, id, BE_UNAVAILABLE, "this indexer has no block stream", NULL);
		return;
	}
	if (c->blocks_on) {
		proto_error(c, id, BE_ALREADY_SUBSCRIBED, "already subscribed to blocks", NULL);
		return;
	}
	uint64_t cursor = br->ring.next_seq, min_height = 0;
	if (has_after) {
		if (strcmp(run_id, br->run_id) != 0) {
			unavailable(c, id, "after_seq is from another run of the indexer; "
					   "resume with from_height");
			return;
		}
		if (after >= br->ring.next_seq) {
			bad(c, id, BE_INVALID_PARAMS, "after_seq is beyond the newest update");
			return;
		}
		cursor = after + 1;
		if (!within_window(br, cursor)) {
			unavailable(c, id, "the updates after after_seq are no longer held");
			return;
		}
	} else if (has_from) {
		if (!br->ring.first_height) {
			proto_error(c, id, BE_NOT_READY,
				    "no block has reached the bridge yet; retry shortly",
				    "{\"retry_after\":1}");
			return;
		}
		min_height = from;
		if (from <= br->ring.newest_height) {
			uint64_t oldest = ring_oldest_height(&br->ring);
			cursor = ring_seek_height(&br->ring, from);
			if (!oldest || from < oldest || !within_window(br, cursor)) {
				unavailable(c, id, "from_height is older than the updates held");
				return;
			}
		}
	}
	struct jbuf j;
	jb_init(&j);
	jb_str(&j, "{\"subscription\":\"blocks\",\"start_seq\":");
	jb_u64(&j, cursor);
	jb_str(&j, ",\"run_id\":");
	jb_qstr(&j, br->run_id);
	jb_str(&j, ",\"ring\":");
	ring_info(&j, br);
	jb_put(&j, "}", 1);
	result_jb(c, id, &j);
	c->blocks_on = 1;
	c->cursor = cursor;
	c->catching_up = cursor < br->ring.next_seq;
	c->min_height = min_height;
}

static void m_unsubscribe(struct bclient *c, const char *id, const cJSON *params)
{
	struct bridge *br = c->br;
	const char *sub = NULL;
	size_t idx;
	int rc = get_str(c, id, params, "subscription", &sub, MAX_NAME_LEN + 8);
	if (rc < 0)
		return;
	if (rc == 0) {
		bad(c, id, BE_INVALID_PARAMS, "params.subscription is required");
		return;
	}
	if (strcmp(sub, "blocks") == 0 && c->blocks_on) {
		c->blocks_on = 0;
	} else if (strncmp(sub, "state:", 6) == 0 && find_endpoint(br, sub + 6, &idx) &&
		   c->state_on[idx]) {
		c->state_on[idx] = 0;
	} else {
		proto_error(c, id, BE_NOT_SUBSCRIBED, "no such subscription on this connection", NULL);
		return;
	}
	proto_result(c, id, "true", 4);
}

static int room_for_op(struct bclient *c, const char *id)
{
	if (c->br->stopping) {
		proto_error(c, id, BE_SHUTTING_DOWN, "the indexer is shutting down", NULL);
		return 0;
	}
	if (c->inflight >= c->br->cfg.max_inflight) {
		proto_error(c, id, BE_BUSY, "too many requests in flight on this connection", NULL);
		return 0;
	}
	return 1;
}

static void host_refused(struct bclient *c, const char *id, int rc, const char *what)
{
	char msg[200];
	switch (rc) {
	case MPCI_ERR_UNSUPPORTED:
		snprintf(msg, sizeof(msg), "this indexer cannot %s", what);
		proto_error(c, id, BE_UNAVAILABLE, msg, NULL);
		break;
	case MPCI_ERR_FULL:
		proto_error(c, id, BE_BUSY, "the indexer's queue is full; retry later", NULL);
		break;
	case MPCI_ERR_NOTFOUND:
		proto_error(c, id, BE_INVALID_PARAMS, "unknown signer", NULL);
		break;
	case MPCI_ERR_INVAL:
		proto_error(c, id, BE_INVALID_PARAMS, "the indexer refused the arguments", NULL);
		break;
	case MPCI_ERR_NOMEM:
		proto_error(c, id, BE_INTERNAL, "out of memory", NULL);
		break;
	default:
		snprintf(msg, sizeof(msg), "the indexer could not %s (see its log)", what);
		proto_error(c, id, BE_TX_REJECTED, msg, NULL);
	}
}

static void m_view(struct bclient *c, const char *id, const cJSON *params)
{
	struct bridge *br = c->br;
	const char *method = NULL, *contract = NULL;
	char *args;
	size_t args_len;
	int rc = get_str(c, id, params, "method", &method, MAX_NAME_LEN);
	if (rc < 0)
		return;
	if (rc == 0) {
		bad(c, id, BE_INVALID_PARAMS, "params.method is required");
		return;
	}
	if (get_str(c, id, params, "contract", &contract, 64) < 0 ||
	    get_args(c, id, params, &args, &args_len) < 0)
		return;
	if (!room_for_op(c, id)) {
		free(args);
		return;
	}
	struct bop *op = op_new(c, id, 0);
	if (!op) {
		free(args);
		proto_error(c, id, BE_INTERNAL, "out of memory", NULL);
		return;
	}
	struct mpci_view_spec spec = { .struct_size = sizeof(spec), .contract = contract,
				       .method = method, .args_json = args };
	rc = br->api->view(br->self, &spec, on_view, op);
	free(args);
	if (rc != MPCI_OK) {
		op_free(op);
		if (rc == MPCI_ERR_INVAL)
			rc = MPCI_ERR;  /* not the client's fault as far as we know */
		host_refused(c, id, rc, "run views");
	}
}

static int digits_only(const char *s)
{
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static void m_send(struct bclient *c, const char *id, const cJSON *params, int wait)
{
	struct bridge *br = c->br;
	const char *method = NULL, *receiver = NULL, *signer = NULL, *deposit = NULL;
	uint64_t gas = 0;
	char *args;
	size_t args_len;
	double deadline = 0;

	if (!br->cfg.allow_tx) {
		proto_error(c, id, BE_FORBIDDEN, "transactions are disabled (allow_tx = no)", NULL);
		return;
	}
	int rc = get_str(c, id, params, "method", &method, MAX_NAME_LEN);
	if (rc < 0)
		return;
	if (rc == 0) {
		bad(c, id, BE_INVALID_PARAMS, "params.method is required");
		return;
	}
	if (get_str(c, id, params, "receiver", &receiver, 64) < 0 ||
	    get_str(c, id, params, "signer", &signer, MAX_NAME_LEN) < 0 ||
	    get_str(c, id, params, "deposit", &deposit, 39) < 0 ||
	    get_u64(c, id, params, "gas", &gas) < 0)
		return;
	if (deposit && !digits_only(deposit)) {
		bad(c, id, BE_INVALID_PARAMS, "params.deposit must be a decimal string of yoctoNEAR");
		return;
	}
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(params, "deadline");
	if (d && !cJSON_IsNull(d)) {
		if (!cJSON_IsNumber(d) || !(d->valuedouble > 0 && d->valuedouble <= 86400)) {
			bad(c, id, BE_INVALID_PARAMS, "params.deadline must be seconds in (0, 86400]");
			return;
		}
		deadline = d->valuedouble;
	}
	if (get_args(c, id, params, &args, &args_len) < 0)
		return;
	if (!room_for_op(c, id)) {
		free(args);
		return;
	}
	struct bop *op = op_new(c, id, 1);
	if (!op) {
		free(args);
		proto_error(c, id, BE_INTERNAL, "out of memory", NULL);
		return;
	}
	struct mpci_tx_request req = {
		.struct_size = sizeof(req), .signer = signer, .receiver = receiver,
		.method = method, .args = args, .args_len = args_len, .gas = gas,
		.deposit = deposit, .wait = wait ? MPCI_TX_WAIT : MPCI_TX_SEND,
		.deadline = deadline,
	};
	uint64_t tx_id = 0;
	rc = br->api->tx_submit(br->self, &req, on_tx, op, &tx_id);
	free(args);
	if (rc != MPCI_OK) {
		op_free(op);
		host_refused(c, id, rc, "send transactions");
	}
}

static void m_send_nowait(struct bclient *c, const char *id, const cJSON *params)
{
	m_send(c, id, params, 0);
}

static void m_send_and_wait(struct bclient *c, const char *id, const cJSON *params)
{
	m_send(c, id, params, 1);
}

static const struct {
	const char *name;
	void (*fn)(struct bclient *c, const char *id, const cJSON *params);
} methods[] = {
	{ "hello", m_hello },
	{ "ping", m_ping },
	{ "status", m_status },
	{ "subscribe_state", m_subscribe_state },
	{ "subscribe_blocks", m_subscribe_blocks },
	{ "unsubscribe", m_unsubscribe },
	{ "view", m_view },
	{ "send", m_send_nowait },
	{ "send_and_wait", m_send_and_wait },
};

static void count_request(struct bridge *br, const char *method)
{
	const char *v[] = { method, NULL };
	br->api->metric_add(br->m_requests, v, 1);
}

void proto_handle_line(struct bclient *c, char *line, size_t len)
{
	struct bridge *br = c->br;
	const char *end = NULL;
	cJSON *req = cJSON_ParseWithLengthOpts(line, len, &end, 0);
	if (!req) {
		size_t at = end && end >= line ? (size_t)(end - line) : 0;
		bad(c, NULL, BE_PARSE, "malformed JSON near byte %zu", at);
		return;
	}
	for (; end && end < line + len; end++)
		if (*end != ' ' && *end != '\t') {
			bad(c, NULL, BE_PARSE, "trailing bytes after the JSON value at byte %zu",
			    (size_t)(end - line));
			cJSON_Delete(req);
			return;
		}
	char *id = NULL;
	const cJSON *idv = cJSON_GetObjectItemCaseSensitive(req, "id");
	if (!cJSON_IsObject(req)) {
		bad(c, NULL, BE_INVALID_REQUEST, cJSON_IsArray(req) ?
		    "batch requests are not supported" : "a request must be a JSON object");
		goto out;
	}
	if (idv) {
		if (!cJSON_IsNull(idv) && !cJSON_IsString(idv) &&
		    !(cJSON_IsNumber(idv) && fabs(idv->valuedouble) <= MAX_SAFE_INT)) {
			bad(c, NULL, BE_INVALID_REQUEST, "id must be a string, a number or null");
			goto out;
		}
		if (cJSON_IsString(idv)) {
			/* as JSON again, its bytes made valid UTF-8 (cJSON's
			 * printer copies them as they came) */
			struct jbuf j;
			jb_init(&j);
			jb_qstr(&j, idv->valuestring);
			id = jb_take(&j, NULL);
		} else {
			id = cJSON_PrintUnformatted(idv);
		}
		if (!id) {
			proto_error(c, NULL, BE_INTERNAL, "out of memory", NULL);
			goto out;
		}
		if (strlen(id) > MAX_ID_LEN) {
			free(id);
			id = NULL;
			bad(c, NULL, BE_INVALID_REQUEST, "id is longer than %d bytes", MAX_ID_LEN);
			goto out;
		}
	}
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(req, "jsonrpc");
	if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0") != 0) {
		bad(c, id ? id : "null", BE_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
		goto out;
	}
	const cJSON *mv = cJSON_GetObjectItemCaseSensitive(req, "method");
	if (!cJSON_IsString(mv)) {
		bad(c, id ? id : "null", BE_INVALID_REQUEST, "method must be a string");
		goto out;
	}
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
	if (params && !cJSON_IsObject(params) && !cJSON_IsNull(params)) {
		bad(c, id ? id : "null", BE_INVALID_PARAMS, "params must be an object");
		goto out;
	}
	if (params && cJSON_IsNull(params))
		params = NULL;
	size_t k;
	for (k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
		if (strcmp(methods[k].name, mv->valuestring) == 0)
			break;
	if (k == sizeof(methods) / sizeof(methods[0])) {
		count_request(br, "unknown");
		bad(c, id ? id : "null", BE_METHOD_NOT_FOUND, "unknown method '%.64s'",
		    mv->valuestring);
		goto out;
	}
	count_request(br, methods[k].name);
	if (c->phase == CLIENT_HELLO && methods[k].fn != m_hello) {
		proto_error(c, id ? id : "null", BE_HANDSHAKE_REQUIRED,
			    "send hello first", "{\"supported\":[1]}");
		goto out;
	}
	/* No id: answered with "id": null (the bridge has no client notifications). */
	methods[k].fn(c, id ? id : "null", params);
out:
	free(id);
	cJSON_Delete(req);
}
