/* The NEAR JSON-RPC client: request envelopes, endpoint choice, failover,
 * retry with backoff, chain and lag checks, metrics.  See rpc.h. */
#include <curl/curl.h>
#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "near/base64.h"
#include "rpc.h"

#define RPC_LOG "rpc"
#define RPC_MAX_ENDPOINTS 32
#define RPC_DEFAULT_MAX_RESPONSE (16u << 20)

struct rpc_endpoint {
	char *url;
	char name[128];		/* host:port, the metrics label */
	char *auth;		/* "Authorization: Bearer KEY" or NULL */
	double cool_until;	/* loop time until which it rests */
	double cooldown;	/* the current rest, doubled per failure */
	unsigned fails;		/* consecutive retryable failures */
	uint64_t final_height;
	double height_at;	/* loop time final_height was learnt */
	int chain;		/* 0 unchecked, 1 the configured chain, -1 another */
	char chain_msg[200];
	struct rpc_call *probe;
};

enum call_kind { CALL_PLAIN, CALL_VIEW, CALL_BLOCK };

struct rpc_call {
	struct rpc *rpc;
	struct rpc_call *prev, *next;
	enum call_kind kind;
	char *method;
	char *body;
	size_t body_len;
	double timeout;
	unsigned max_attempts;
	int no_retry;
	size_t max_response;
	int pinned;		/* endpoint index or -1 */
	int view_final;		/* a view at final finality: its height is the endpoint's */
	union {
		rpc_done_fn done;
		rpc_view_fn view;
		rpc_block_fn block;
	} cb;
	void *ud;

	unsigned attempts;
	unsigned passes;
	uint8_t tried[RPC_MAX_ENDPOINTS];
	int cur;		/* endpoint of the request in flight, -1 */
	int checking;		/* the request in flight is cur's chain check */
	struct http_req *req;
	ev_timer timer;		/* backoff between passes, or a deferred failure */
	int fail_pending;	/* the timer delivers `last` */
	int in_cb;

	/* the latest failure, reported when the attempts run out */
	enum rpc_error_class last_cls;
	int last_status;
	int last_ep;
	char last_msg[512];
};

struct rpc {
	struct ev_loop *loop;
	struct http_client *http;
	struct rpc_endpoint ep[RPC_MAX_ENDPOINTS];
	size_t n;
	char *chain_id;
	double timeout, backoff_initial, backoff_max, cooldown_initial, cooldown_max;
	double probe_interval;
	unsigned max_attempts;
	size_t max_response;
	uint64_t max_lag;
	struct rpc_call calls;	/* list head */
	ev_timer probe_timer;
	struct metric *m_req, *m_dur, *m_height, *m_healthy;
	uint64_t rng;
	unsigned long next_id;
};

static const char *const status_body =
	"{\"jsonrpc\":\"2.0\",\"id\":\"mpci-chain-check\",\"method\":\"status\",\"params\":[]}";

static void start_attempt(struct rpc_call *c);

static double now(const struct rpc *r)
{
	return ev_now(r->loop);
}

static double rnd01(struct rpc *r)
{
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return (double)(r->rng >> 11) / 9007199254740992.0;
}

/* ---- endpoints ------------------------------------------------------------ */

static int fresh(const struct rpc *r, const struct rpc_endpoint *e)
{
	if (!e->final_height)
		return 0;
	return r->probe_interval <= 0 || now(r) - e->height_at <= 3 * r->probe_interval;
}

uint64_t rpc_best_final_height(const struct rpc *r)
{
	uint64_t best = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->ep[i].chain >= 0 && r->ep[i].final_height > best)
			best = r->ep[i].final_height;
	return best;
}

static int lagging(const struct rpc *r, const struct rpc_endpoint *e)
{
	uint64_t best = 0;
	if (!fresh(r, e))
		return 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->ep[i].chain >= 0 && fresh(r, &r->ep[i]) && r->ep[i].final_height > best)
			best = r->ep[i].final_height;
	return e->final_height + r->max_lag < best;
}

int rpc_endpoint_healthy(const struct rpc *r, size_t i)
{
	if (i >= r->n)
		return 0;
	const struct rpc_endpoint *e = &r->ep[i];
	return e->chain >= 0 && e->cool_until <= now(r) && !lagging(r, e);
}

size_t rpc_endpoint_count(const struct rpc *r)
{
	return r->n;
}

const char *rpc_endpoint_name(const struct rpc *r, size_t i)
{
	return i < r->n ? r->ep[i].name : NULL;
}

uint64_t rpc_endpoint_final_height(const struct rpc *r, size_t i)
{
	return i < r->n ? r->ep[i].final_height : 0;
}

static void update_gauges(struct rpc *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const char *lv[] = { r->ep[i].name, NULL };
		metric_set(r->m_healthy, lv, rpc_endpoint_healthy(r, i));
		if (r->ep[i].final_height)
			metric_set(r->m_height, lv, (double)r->ep[i].final_height);
	}
}

static void saw_final_height(struct rpc *r, struct rpc_endpoint *e, uint64_t h)
{
	if (h >= e->final_height) {
		e->final_height = h;
		e->height_at = now(r);
	}
}

static void endpoint_ok(struct rpc_endpoint *e)
{
	e->fails = 0;
	e->cooldown = 0;
	e->cool_until = 0;
}

static void endpoint_failed(struct rpc *r, struct rpc_endpoint *e, const char *why)
{
	e->fails++;
	e->cooldown = e->fails == 1 ? r->cooldown_initial : e->cooldown * 2;
	if (e->cooldown > r->cooldown_max)
		e->cooldown = r->cooldown_max;
	e->cool_until = now(r) + e->cooldown;
	if (e->fails == 1 || log_enabled(LOG_LVL_DEBUG))
		log_msg(e->fails == 1 ? LOG_LVL_WARN : LOG_LVL_DEBUG, RPC_LOG,
			"%s: %s; resting it %.1f s", e->name, why, e->cooldown);
}

/* Healthy endpoints in configured order, then lagging ones, then resting
 * ones by when their rest ends.  -1 when this pass has tried them all. */
static int choose(const struct rpc_call *c)
{
	const struct rpc *r = c->rpc;
	int best = -1, best_rank = 3;
	double best_key = 0;

	for (size_t i = 0; i < r->n; i++) {
		const struct rpc_endpoint *e = &r->ep[i];
		if (c->tried[i] || e->chain < 0 || (c->pinned >= 0 && (int)i != c->pinned))
			continue;
		int rank = e->cool_until > now(r) ? 2 : lagging(r, e) ? 1 : 0;
		double key = rank == 2 ? e->cool_until : (double)i;
		if (rank < best_rank || (rank == best_rank && key < best_key)) {
			best = (int)i;
			best_rank = rank;
			best_key = key;
		}
	}
	return best;
}

/* ---- metrics -------------------------------------------------------------- */

static void count(struct rpc *r, int ep, const char *method,
		  enum rpc_error_class cls, double elapsed)
{
	const char *lv[] = { r->ep[ep].name, method, rpc_class_name(cls), NULL };
	metric_add(r->m_req, lv, 1);
	metric_observe(r->m_dur, lv, elapsed);
}

static int make_metrics(struct rpc *r, struct metrics *reg, char *err, size_t errsz)
{
	static const char *const l3[] = { "endpoint", "method", "outcome", NULL };
	static const char *const l2[] = { "endpoint", "method", NULL };
	static const char *const l1[] = { "endpoint", NULL };
	static const double bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
					 0.5, 1, 2.5, 5, 10, 30 };

	if (!reg)
		return 0;
	r->m_req = metrics_counter(reg, "mpc_indexer_rpc_requests_total",
				   "JSON-RPC requests by endpoint, method and outcome",
				   l3, err, errsz);
	r->m_dur = metrics_histogram(reg, "mpc_indexer_rpc_request_duration_seconds",
				     "JSON-RPC request latency by endpoint and method",
				     l2, bounds, sizeof(bounds) / sizeof(bounds[0]),
				     err, errsz);
	r->m_height = metrics_gauge(reg, "mpc_indexer_rpc_endpoint_final_height",
				    "newest final block height an RPC endpoint reported",
				    l1, err, errsz);
	r->m_healthy = metrics_gauge(reg, "mpc_indexer_rpc_endpoint_healthy",
				     "1 when an RPC endpoint is neither resting, lagging nor on another chain",
				     l1, err, errsz);
	return r->m_req && r->m_dur && r->m_height && r->m_healthy ? 0 : -1;
}

/* ---- calls ---------------------------------------------------------------- */

static void call_free(struct rpc_call *c)
{
	if (c->req)
		http_cancel(c->req);
	ev_timer_stop(c->rpc->loop, &c->timer);
	if (c->prev) {
		c->prev->next = c->next;
		c->next->prev = c->prev;
		c->prev = c->next = NULL;
	}
	free(c->method);
	free(c->body);
	free(c);
}

static void unlink_call(struct rpc_call *c)
{
	ev_timer_stop(c->rpc->loop, &c->timer);
	if (c->prev) {
		c->prev->next = c->next;
		c->next->prev = c->prev;
		c->prev = c->next = NULL;
	}
}

/* Hand the result to the caller through the call's kind, then free it.  The
 * call is unlinked first, so the callback may free the client. */
static void finish(struct rpc_call *c, const struct rpc_result *res)
{
	char msg[600];

	unlink_call(c);
	c->in_cb = 1;
	if (c->kind == CALL_PLAIN) {
		c->cb.done(res, c->ud);
	} else if (c->kind == CALL_VIEW) {
		struct rpc_view_result v = { .rpc = res, .block_hash = "",
					     .cls = res->cls, .message = res->message };
		char *value = NULL;
		if (!res->ok) {
			const cJSON *cause = res->error && cJSON_IsObject(res->error) ?
				cJSON_GetObjectItemCaseSensitive(res->error, "cause") : NULL;
			const cJSON *info = cJSON_IsObject(cause) ?
				cJSON_GetObjectItemCaseSensitive(cause, "info") : NULL;
			rpc_parse_view_where(info, &v.block_height, &v.block_hash);
		} else {
			int rc = rpc_parse_view_result(res->result, &value, &v.value_len,
						       &v.block_height, &v.block_hash,
						       msg, sizeof(msg));
			v.ok = rc == 0;
			v.cls = rc == 0 ? RPC_OK : rc == -2 ? RPC_ERR_CONTRACT : RPC_ERR_MALFORMED;
			v.message = rc == 0 ? "" : msg;
			v.value = value;
			if (rc == 0) {
				const cJSON *logs = cJSON_GetObjectItemCaseSensitive(res->result, "logs");
				v.logs = cJSON_IsArray(logs) ? logs : NULL;
			}
		}
		c->cb.view(&v, c->ud);
		free(value);
	} else {
		struct rpc_block_ref b = { .rpc = res, .hash = "" };
		struct rpc_result bad;
		if (res->ok) {
			if (rpc_parse_final_block(res->result, &b.height, &b.hash, msg,
						  sizeof(msg)) == 0) {
				b.ok = 1;
			} else {
				/* the caller reads why in b.rpc->message */
				bad = *res;
				bad.ok = 0;
				bad.cls = RPC_ERR_MALFORMED;
				bad.message = msg;
				b.rpc = &bad;
				b.hash = "";
				b.height = 0;
			}
		}
		c->cb.block(&b, c->ud);
	}
	free(c->method);
	free(c->body);
	free(c);
}

static void finish_last_failure(struct rpc_call *c)
{
	struct rpc_result res = {
		.ok = 0,
		.raw = "",
		.cls = c->last_cls,
		.message = c->last_msg,
		.endpoint = c->last_ep >= 0 ? c->rpc->ep[c->last_ep].name : "",
		.http_status = c->last_status,
		.attempts = c->attempts,
	};
	finish(c, &res);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rpc_call *c = w->data;
	if (c->fail_pending) {
		finish_last_failure(c);
		return;
	}
	memset(c->tried, 0, sizeof(c->tried));
	start_attempt(c);
}

/* Report the latest failure from the loop, never from inside rpc_call(). */
static void finish_later(struct rpc_call *c)
{
	c->fail_pending = 1;
	ev_timer_stop(c->rpc->loop, &c->timer);
	ev_timer_set(&c->timer, 0, 0);
	ev_timer_start(c->rpc->loop, &c->timer);
}

static void fail_later(struct rpc_call *c, enum rpc_error_class cls, const char *msg)
{
	c->last_cls = cls;
	snprintf(c->last_msg, sizeof(c->last_msg), "%s", msg);
	c->fail_pending = 1;
	ev_timer_stop(c->rpc->loop, &c->timer);
	ev_timer_set(&c->timer, 0, 0);
	ev_timer_start(c->rpc->loop, &c->timer);
}

static void on_http(const struct http_response *hr, void *ud);

static int send_to(struct rpc_call *c, int ep)
{
	struct rpc *r = c->rpc;
	struct rpc_endpoint *e = &r->ep[ep];
	const char *headers[] = { "Content-Type: application/json", e->auth, NULL };
	c->checking = r->chain_id && e->chain == 0;
	struct http_opts o = {
		.method = "POST",
		.url = e->url,
		.headers = headers,
		.body = c->checking ? status_body : c->body,
		.body_len = c->checking ? strlen(status_body) : c->body_len,
		.timeout = c->timeout,
		.connect_timeout = c->timeout < 10 ? c->timeout : 10,
		.max_response = c->max_response,
	};
	c->cur = ep;
	c->req = http_request(r->http, &o, on_http, c);
	if (!c->req) {
		char msg[160];
		snprintf(msg, sizeof(msg), "cannot start a request to %s: %s", e->name,
			 strerror(errno));
		c->last_ep = ep;
		fail_later(c, RPC_ERR_TRANSPORT, msg);
		return -1;
	}
	c->attempts++;	/* chain checks count too: a dead endpoint must end the call */
	return 0;
}

static void start_attempt(struct rpc_call *c)
{
	struct rpc *r = c->rpc;
	int ep = choose(c);

	if (ep >= 0) {
		send_to(c, ep);
		return;
	}
	int usable = 0;
	for (size_t i = 0; i < r->n; i++)
		usable |= r->ep[i].chain >= 0;
	if (!usable) {
		char msg[300];
		snprintf(msg, sizeof(msg), "no usable RPC endpoint%s%s",
			 r->n ? ": " : " configured", r->n ? r->ep[0].chain_msg : "");
		fail_later(c, RPC_ERR_NO_ENDPOINT, msg);
		return;
	}
	if (c->last_cls == RPC_OK) {
		/* nothing was tried: the pinned endpoint is on another chain */
		fail_later(c, RPC_ERR_NO_ENDPOINT, c->pinned >= 0 ?
			   r->ep[c->pinned].chain_msg : "no usable RPC endpoint");
		return;
	}
	if (c->no_retry || c->attempts >= c->max_attempts) {
		finish_later(c);
		return;
	}
	/* every endpoint failed once in this pass: wait, then go round again */
	double d = r->backoff_initial;
	for (unsigned i = 1; i < c->passes && d < r->backoff_max; i++)
		d *= 2;
	if (d > r->backoff_max)
		d = r->backoff_max;
	d *= 1 + 0.25 * rnd01(r);
	c->passes++;
	ev_timer_set(&c->timer, d, 0);
	ev_timer_start(r->loop, &c->timer);
}

/* The answer to an endpoint's status: is it on our chain? */
static int chain_checked(struct rpc_call *c, struct rpc_endpoint *e,
			 const struct rpc_result *res)
{
	struct rpc *r = c->rpc;
	const char *id = NULL;

	if (!res->ok) {
		if (rpc_class_retryable(res->cls))
			return -1;	/* try it again later */
		/* a provider without `status`: trust it, say so */
		log_warn(RPC_LOG, "%s: cannot check chain_id (%s); using it anyway",
			 e->name, res->message);
		e->chain = 1;
		return 0;
	}
	if (cJSON_IsObject(res->result)) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(res->result, "chain_id");
		id = cJSON_IsString(v) ? v->valuestring : NULL;
	}
	if (id && strcmp(id, r->chain_id) == 0) {
		e->chain = 1;
		return 0;
	}
	char m[sizeof(e->chain_msg)];
	e->chain = -1;
	snprintf(m, sizeof(m), "%s serves chain '%.60s', not '%.60s'",
		 e->name, id ? id : "(none)", r->chain_id);
	memcpy(e->chain_msg, m, sizeof(m));
	log_error(RPC_LOG, "%s; never using it", e->chain_msg);
	return 1;
}

static void on_http(const struct http_response *hr, void *ud)
{
	struct rpc_call *c = ud;
	struct rpc *r = c->rpc;
	int ep = c->cur;
	struct rpc_endpoint *e = &r->ep[ep];
	struct rpc_result res;
	cJSON *doc = NULL;
	char msg[600];
	const char *ttext = NULL;
	char tbuf[160];

	c->req = NULL;
	if (hr->transport_error == CURLE_OPERATION_TIMEDOUT) {
		snprintf(tbuf, sizeof(tbuf), "no answer within %g s", c->timeout);
		ttext = tbuf;
	} else if (hr->transport_error == CURLE_FILESIZE_EXCEEDED) {
		snprintf(tbuf, sizeof(tbuf), "response larger than %zu bytes", c->max_response);
		ttext = tbuf;
	} else if (hr->transport_error) {
		/* curl's short text, not its detailed buffer: equal failures read equal */
		ttext = curl_easy_strerror((CURLcode)hr->transport_error);
	}
	rpc_parse_response(hr->status, hr->transport_error, ttext, hr->body,
			   hr->body_len, &doc, &res, msg, sizeof(msg));
	res.endpoint = e->name;

	if (c->checking) {
		count(r, ep, "status", res.cls, hr->elapsed);
		int rc = chain_checked(c, e, &res);
		if (rc == 0) {
			cJSON_Delete(doc);
			send_to(c, ep);	/* the real request, same endpoint */
			return;
		}
		if (rc < 0)
			endpoint_failed(r, e, res.message);
		c->last_cls = rc < 0 ? res.cls : RPC_ERR_NO_ENDPOINT;
		c->last_status = res.http_status;
		c->last_ep = ep;
		snprintf(c->last_msg, sizeof(c->last_msg), "%s",
			 rc < 0 ? res.message : e->chain_msg);
		cJSON_Delete(doc);
		c->tried[ep] = 1;
		update_gauges(r);
		start_attempt(c);
		return;
	}

	enum rpc_error_class outcome = res.cls;
	if (res.ok && c->kind == CALL_VIEW && cJSON_IsObject(res.result) &&
	    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(res.result, "error")))
		outcome = RPC_ERR_CONTRACT;
	count(r, ep, c->method, outcome, hr->elapsed);
	res.attempts = c->attempts;

	if (!rpc_class_retryable(res.cls)) {
		uint64_t h = 0;
		const char *hash = NULL;
		/* the answer is final for this call; a garbled or refused one
		 * (bad key) still says little for the endpoint's health */
		if (res.cls == RPC_ERR_MALFORMED || res.cls == RPC_ERR_HTTP_STATUS)
			endpoint_failed(r, e, res.message);
		else
			endpoint_ok(e);
		if (res.ok && c->kind == CALL_BLOCK &&
		    rpc_parse_final_block(res.result, &h, &hash, msg + 300, 300) == 0)
			saw_final_height(r, e, h);
		else if (res.ok && c->view_final && rpc_parse_view_where(res.result, &h, &hash) == 0 && h)
			saw_final_height(r, e, h);
		update_gauges(r);
		finish(c, &res);
		cJSON_Delete(doc);
		return;
	}
	endpoint_failed(r, e, res.message);
	update_gauges(r);
	c->last_cls = res.cls;
	c->last_status = res.http_status;
	c->last_ep = ep;
	snprintf(c->last_msg, sizeof(c->last_msg), "%s", res.message);
	cJSON_Delete(doc);
	c->tried[ep] = 1;
	if (c->pinned >= 0 || c->no_retry || c->attempts >= c->max_attempts) {
		finish_last_failure(c);
		return;
	}
	start_attempt(c);
}

static struct rpc_call *call_new(struct rpc *r, enum call_kind kind,
				 const char *method, const char *params_json,
				 const struct rpc_call_opts *opts, void *ud)
{
	cJSON *env = NULL, *params = NULL;
	struct rpc_call *c;
	char id[32];

	if (!method || !*method)
		return NULL;
	params = cJSON_Parse(params_json ? params_json : "[]");
	if (!params || !(cJSON_IsObject(params) || cJSON_IsArray(params))) {
		cJSON_Delete(params);
		errno = EINVAL;
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c))) || !(env = cJSON_CreateObject())) {
		cJSON_Delete(params);
		free(c);
		return NULL;
	}
	snprintf(id, sizeof(id), "mpci-%lu", ++r->next_id);
	cJSON_AddStringToObject(env, "jsonrpc", "2.0");
	cJSON_AddStringToObject(env, "id", id);
	cJSON_AddStringToObject(env, "method", method);
	cJSON_AddItemToObject(env, "params", params);
	c->body = cJSON_PrintUnformatted(env);
	cJSON_Delete(env);
	c->method = strdup(method);
	if (!c->body || !c->method) {
		free(c->body);
		free(c->method);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->body_len = strlen(c->body);
	c->rpc = r;
	c->kind = kind;
	c->ud = ud;
	c->cur = -1;
	c->last_ep = -1;
	c->pinned = -1;
	c->timeout = r->timeout;
	c->max_attempts = r->max_attempts;
	c->max_response = r->max_response;
	c->passes = 1;
	snprintf(c->last_msg, sizeof(c->last_msg), "no attempt made");
	if (opts) {
		if (opts->timeout > 0)
			c->timeout = opts->timeout;
		if (opts->max_attempts)
			c->max_attempts = opts->max_attempts;
		if (opts->max_response)
			c->max_response = opts->max_response;
		c->no_retry = opts->no_retry;
		if (opts->endpoint >= 1 && (size_t)opts->endpoint <= r->n)
			c->pinned = opts->endpoint - 1;
	}
	ev_timer_init(&c->timer, on_timer, 0, 0);
	c->timer.data = c;
	c->next = &r->calls;
	c->prev = r->calls.prev;
	c->prev->next = c;
	r->calls.prev = c;
	if (opts && opts->endpoint && c->pinned < 0) {
		fail_later(c, RPC_ERR_NO_ENDPOINT, "no such endpoint");
		return c;
	}
	start_attempt(c);
	return c;
}

struct rpc_call *rpc_call(struct rpc *r, const char *method, const char *params_json,
			  const struct rpc_call_opts *opts, rpc_done_fn cb, void *ud)
{
	struct rpc_call *c = call_new(r, CALL_PLAIN, method, params_json, opts, ud);
	if (c)
		c->cb.done = cb;
	return c;
}

/* call_new may have queued a deferred failure, never a callback: setting the
 * callback after it returns is safe. */
struct rpc_call *rpc_view_call(struct rpc *r, const char *contract,
			       const char *method, const char *args_json,
			       const char *finality, const struct rpc_call_opts *opts,
			       rpc_view_fn cb, void *ud)
{
	const char *args = args_json ? args_json : "{}";
	char *b64, *params;
	struct rpc_call *c;

	if (!finality)
		finality = "final";
	if (!contract || !method || (strcmp(finality, "final") && strcmp(finality, "near-final") &&
				     strcmp(finality, "optimistic"))) {
		errno = EINVAL;
		return NULL;
	}
	if (!(b64 = b64_encode_alloc((const uint8_t *)args, strlen(args))))
		return NULL;
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "request_type", "call_function");
	cJSON_AddStringToObject(p, "finality", finality);
	cJSON_AddStringToObject(p, "account_id", contract);
	cJSON_AddStringToObject(p, "method_name", method);
	cJSON_AddStringToObject(p, "args_base64", b64);
	params = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	free(b64);
	if (!params)
		return NULL;
	c = call_new(r, CALL_VIEW, "query", params, opts, ud);
	free(params);
	if (c) {
		c->cb.view = cb;
		c->view_final = strcmp(finality, "final") == 0;
	}
	return c;
}

struct rpc_call *rpc_final_block(struct rpc *r, const struct rpc_call_opts *opts,
				 rpc_block_fn cb, void *ud)
{
	struct rpc_call *c = call_new(r, CALL_BLOCK, "block", "{\"finality\":\"final\"}",
				      opts, ud);
	if (c)
		c->cb.block = cb;
	return c;
}

void rpc_cancel(struct rpc_call *c)
{
	if (!c || c->in_cb)
		return;
	call_free(c);
}

/* ---- lag probes ----------------------------------------------------------- */

static void probe_done(const struct rpc_block_ref *b, void *ud)
{
	struct rpc_endpoint *e = ud;
	e->probe = NULL;	/* the height itself was recorded in on_http */
	if (!b->ok)
		log_debug(RPC_LOG, "%s: lag probe: %s", e->name, b->rpc->message);
}

static void on_probe_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rpc *r = w->data;
	for (size_t i = 0; i < r->n; i++) {
		struct rpc_endpoint *e = &r->ep[i];
		if (e->chain < 0 || e->probe || e->cool_until > now(r) ||
		    (e->final_height && now(r) - e->height_at < 0.9 * r->probe_interval))
			continue;
		struct rpc_call_opts o = { .endpoint = (int)i + 1, .no_retry = 1 };
		e->probe = rpc_final_block(r, &o, probe_done, e);
	}
	update_gauges(r);
}

/* ---- construction --------------------------------------------------------- */

static int add_endpoint(struct rpc *r, const char *spec, const char *def_key,
			char *err, size_t errsz)
{
	struct rpc_endpoint *e = &r->ep[r->n];
	const char *bar = strchr(spec, '|');
	size_t ulen = bar ? (size_t)(bar - spec) : strlen(spec);
	const char *key = bar ? bar + 1 : def_key;
	char *host = NULL, *port = NULL, *scheme = NULL;
	CURLU *u;

	if (r->n >= RPC_MAX_ENDPOINTS) {
		snprintf(err, errsz, "at most %d RPC endpoints", RPC_MAX_ENDPOINTS);
		return -1;
	}
	while (ulen && spec[ulen - 1] == ' ')
		ulen--;
	if (key)
		while (*key == ' ')
			key++;
	if (!(e->url = strndup(spec, ulen)))
		goto nomem;
	if (!(u = curl_url()))
		goto nomem;
	int bad = curl_url_set(u, CURLUPART_URL, e->url, 0) != CURLUE_OK ||
		  curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		  (strcmp(scheme, "http") && strcmp(scheme, "https")) ||
		  curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
		  curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK;
	if (!bad)
		snprintf(e->name, sizeof(e->name), "%s:%s", host, port);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	if (bad) {
		/* never echo the whole item: a key may follow the URL */
		snprintf(err, errsz, "item %zu is not an http(s) URL", r->n + 1);
		free(e->url);
		e->url = NULL;
		return -1;
	}
	if (key && *key) {
		if (strpbrk(key, "\r\n")) {
			snprintf(err, errsz, "the API key of rpc_urls item %zu has a line break", r->n + 1);
			free(e->url);
			e->url = NULL;
			return -1;
		}
		size_t n = strlen(key) + 32;
		if (!(e->auth = malloc(n)))
			goto nomem;
		snprintf(e->auth, n, "Authorization: Bearer %s", key);
	}
	r->n++;
	return 0;
nomem:
	free(e->url);
	e->url = NULL;
	snprintf(err, errsz, "out of memory");
	return -1;
}

struct rpc *rpc_new_with(struct ev_loop *loop, struct http_client *http,
			 struct metrics *reg, const struct rpc_config *rc,
			 char *err, size_t errsz)
{
	struct rpc *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	r->loop = loop;
	r->http = http;
	r->calls.next = r->calls.prev = &r->calls;
	r->timeout = rc->timeout > 0 ? rc->timeout : 10;
	r->max_response = rc->max_response ? rc->max_response : RPC_DEFAULT_MAX_RESPONSE;
	r->backoff_initial = rc->backoff_initial > 0 ? rc->backoff_initial : 0.25;
	r->backoff_max = rc->backoff_max > 0 ? rc->backoff_max : 5;
	r->cooldown_initial = rc->cooldown_initial > 0 ? rc->cooldown_initial : 1;
	r->cooldown_max = rc->cooldown_max > 0 ? rc->cooldown_max : 60;
	r->max_lag = rc->max_lag_blocks ? rc->max_lag_blocks : 10;
	r->probe_interval = rc->probe_interval == 0 ? 10 : rc->probe_interval;
	r->rng = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid() ^ 1;
	ev_timer_init(&r->probe_timer, on_probe_timer, 0, 0);
	r->probe_timer.data = r;
	if (rc->chain_id && *rc->chain_id && !(r->chain_id = strdup(rc->chain_id))) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	for (size_t i = 0; rc->urls && rc->urls[i]; i++)
		if (add_endpoint(r, rc->urls[i], rc->api_key, err, errsz) < 0)
			goto fail;
	if (!r->n) {
		snprintf(err, errsz, "no RPC endpoint: set [near] rpc_urls");
		goto fail;
	}
	r->max_attempts = rc->max_attempts ? rc->max_attempts :
			  (unsigned)(2 * r->n > 3 ? 2 * r->n : 3);
	if (make_metrics(r, reg, err, errsz) < 0)
		goto fail;
	if (r->n > 1 && r->probe_interval > 0) {
		/* first round soon: learn every endpoint's height early */
		ev_timer_set(&r->probe_timer, 0.05, r->probe_interval);
		ev_timer_start(loop, &r->probe_timer);
	}
	return r;
fail:
	rpc_free(r);
	return NULL;
}

struct rpc *rpc_new(struct ev_loop *loop, struct http_client *http,
		    struct metrics *reg, const struct cfg *cfg, char *err,
		    size_t errsz)
{
	struct rpc_config rc = { 0 };
	char **urls = NULL;
	uint64_t u;
	double d;

	cfg_get_list(cfg, "near", "rpc_urls", &urls);
	rc.urls = (const char *const *)urls;
	rc.api_key = cfg_get(cfg, "near", "rpc_api_key");
	rc.chain_id = cfg_get(cfg, "near", "chain_id");
	if (cfg_get_duration(cfg, "near", "request_timeout", &d) == 0)
		rc.timeout = d;
	if (cfg_get_uint(cfg, "near", "rpc_max_attempts", &u) == 0)
		rc.max_attempts = u > 1000 ? 1000 : (unsigned)u;
	if (cfg_get_size(cfg, "near", "rpc_max_response", &u) == 0)
		rc.max_response = (size_t)u;
	if (cfg_get_uint(cfg, "near", "rpc_max_lag_blocks", &u) == 0)
		rc.max_lag_blocks = u;
	if (cfg_get_duration(cfg, "near", "rpc_probe_interval", &d) == 0)
		rc.probe_interval = d > 0 ? d : -1;
	if (cfg_get_duration(cfg, "near", "rpc_cooldown_max", &d) == 0)
		rc.cooldown_max = d;
	struct rpc *r = rpc_new_with(loop, http, reg, &rc, err, errsz);
	cfg_list_free(urls);
	if (!r) {
		char where[300] = "", msg[300];
		cfg_where(cfg, "near", "rpc_urls", where, sizeof(where));
		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errsz, "%s: rpc_urls: %s", where, msg);
	}
	return r;
}

int rpc_check_config(const struct cfg *cfg, char *err, size_t errsz)
{
	struct rpc *r = calloc(1, sizeof(*r));
	char **urls = NULL, msg[300], where[300] = "";
	int rc = 0;

	if (!r) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	cfg_get_list(cfg, "near", "rpc_urls", &urls);
	for (size_t i = 0; urls && urls[i] && !rc; i++)
		rc = add_endpoint(r, urls[i], cfg_get(cfg, "near", "rpc_api_key"), msg, sizeof(msg));
	if (rc < 0) {
		cfg_where(cfg, "near", "rpc_urls", where, sizeof(where));
		snprintf(err, errsz, "%s: rpc_urls: %s", where, msg);
	}
	for (size_t i = 0; i < r->n; i++) {
		free(r->ep[i].url);
		free(r->ep[i].auth);
	}
	cfg_list_free(urls);
	free(r);
	return rc;
}

void rpc_free(struct rpc *r)
{
	if (!r)
		return;
	while (r->calls.next != &r->calls)
		call_free(r->calls.next);
	ev_timer_stop(r->loop, &r->probe_timer);
	for (size_t i = 0; i < r->n; i++) {
		free(r->ep[i].url);
		free(r->ep[i].auth);
	}
	free(r->chain_id);
	free(r);
}
