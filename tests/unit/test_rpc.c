/*
 * core/rpc against scripted JSON-RPC servers (libmicrohttpd, in threads of
 * this test): failover on refused connections, 5xx, 408, 429 and timeouts;
 * no retry on validation and handler errors; resting endpoints tried again
 * later; API keys; chain_id checks; lagging endpoints; size caps; metrics.
 */
#include "../tap.h"
#include "http.h"
#include "metrics.h"
#include "rpc.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ev.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- a scripted server ---- */

struct reply {
	int status;
	const char *body;
	int delay_ms;
};

struct server {
	struct MHD_Daemon *d;
	int port;
	pthread_mutex_t lock;
	struct reply script[16];
	int n_script, next;
	int calls;		/* requests other than status and block */
	int status_calls, block_calls;
	uint64_t final_height;
	const char *chain_id;
	char auth[256];
	char last_body[2048];
};

struct conn {
	char *buf;
	size_t len;
};

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version,
			       const char *upload, size_t *upload_size, void **ptr)
{
	struct server *s = cls;
	struct conn *k = *ptr;

	if (!k) {
		*ptr = calloc(1, sizeof(struct conn));
		return MHD_YES;
	}
	if (*upload_size) {
		k->buf = realloc(k->buf, k->len + *upload_size + 1);
		memcpy(k->buf + k->len, upload, *upload_size);
		k->len += *upload_size;
		k->buf[k->len] = 0;
		*upload_size = 0;
		return MHD_YES;
	}
	cJSON *req = k->buf ? cJSON_Parse(k->buf) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "method");
	const char *rm = cJSON_IsString(m) ? m->valuestring : "";
	char body[4096];
	struct reply r = { 200, NULL, 0 };
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	pthread_mutex_lock(&s->lock);
	snprintf(s->auth, sizeof(s->auth), "%s", auth ? auth : "");
	if (!strcmp(rm, "status")) {
		s->status_calls++;
		snprintf(body, sizeof(body),
			 "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"chain_id\":\"%s\"}}",
			 s->chain_id ? s->chain_id : "nearsim");
		r.body = body;
	} else if (!strcmp(rm, "block")) {
		s->block_calls++;
		snprintf(body, sizeof(body),
			 "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"header\":{\"height\":%llu,"
			 "\"hash\":\"H%llu\"}}}", (unsigned long long)s->final_height,
			 (unsigned long long)s->final_height);
		r.body = body;
	} else {
		s->calls++;
		snprintf(s->last_body, sizeof(s->last_body), "%s", k->buf ? k->buf : "");
		if (s->next < s->n_script) {
			r = s->script[s->next++];
		} else {
			snprintf(body, sizeof(body),
				 "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"block_hash\":\"B%llu\","
				 "\"block_height\":%llu,\"logs\":[],\"result\":[49]}}",
				 (unsigned long long)s->final_height, (unsigned long long)s->final_height);
			r.body = body;
		}
	}
	pthread_mutex_unlock(&s->lock);
	cJSON_Delete(req);
	if (r.delay_ms)
		usleep((useconds_t)r.delay_ms * 1000);
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		strlen(r.body), (void *)r.body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)r.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **ptr,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn *k = *ptr;
	if (k) {
		free(k->buf);
		free(k);
	}
	*ptr = NULL;
}

static void server_start(struct server *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->final_height = 100;
	s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
				0, NULL, NULL, handler, s, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
				MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
				MHD_OPTION_SOCK_ADDR, &(struct sockaddr_in){
					.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK) },
				MHD_OPTION_END);
	if (!s->d)
		bail_out("cannot start a test server");
	s->port = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void server_script(struct server *s, const struct reply *r, int n)
{
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < n; i++)
		s->script[i] = r[i];
	s->n_script = n;
	s->next = 0;
	s->calls = 0;
	pthread_mutex_unlock(&s->lock);
}

static int server_calls(struct server *s)
{
	pthread_mutex_lock(&s->lock);
	int n = s->calls;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* A port nobody listens on. */
static int dead_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- the client side ---- */

static struct ev_loop *loop;
static struct http_client *http;
static struct metrics *reg;
static struct server s1, s2;

struct got {
	int done;
	int ok;
	enum rpc_error_class cls;
	char message[600];
	char endpoint[128];
	char cause[64];
	unsigned attempts;
	int http_status;
	char value[64];
	uint64_t height;
};

static int in_call;	/* set around rpc_call: a callback must never see it */
static int reentered;

static void on_done(const struct rpc_result *r, void *ud)
{
	struct got *g = ud;
	reentered |= in_call;
	g->done++;
	g->ok = r->ok;
	g->cls = r->cls;
	g->attempts = r->attempts;
	g->http_status = r->http_status;
	snprintf(g->message, sizeof(g->message), "%s", r->message);
	snprintf(g->endpoint, sizeof(g->endpoint), "%s", r->endpoint);
	snprintf(g->cause, sizeof(g->cause), "%s", r->cause_name ? r->cause_name : "");
}

static void on_view(const struct rpc_view_result *r, void *ud)
{
	struct got *g = ud;
	reentered |= in_call;
	g->done++;
	g->ok = r->ok;
	g->cls = r->cls;
	g->height = r->block_height;
	snprintf(g->message, sizeof(g->message), "%s", r->message);
	snprintf(g->value, sizeof(g->value), "%.*s", (int)(r->value_len < 63 ? r->value_len : 63),
		 r->value ? r->value : "");
	snprintf(g->endpoint, sizeof(g->endpoint), "%s", r->rpc ? r->rpc->endpoint : "");
}

static void on_timeout(struct ev_loop *l, ev_timer *w, int revents)
{
	*(int *)w->data = 1;
}

/* Run the loop until *flag, at most `limit` seconds (a hang, not a timing check). */
static int run_until(int *flag, double limit)
{
	int expired = 0;
	ev_timer t;
	ev_timer_init(&t, on_timeout, limit, 0);
	t.data = &expired;
	ev_timer_start(loop, &t);
	while (!*flag && !expired)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &t);
	return *flag;
}

/* Let the loop run for a while (to wait out a rest; nothing is measured). */
static void run_for(double s)
{
	int expired = 0;
	run_until(&expired, s);
}

static char url1[64], url2[64], name1[32], name2[32];

static struct rpc *client(const char *u1, const char *u2, struct rpc_config *extra)
{
	struct rpc_config rc = extra ? *extra : (struct rpc_config){ 0 };
	const char *urls[] = { u1, u2, NULL };
	char err[256];
	rc.urls = urls;
	if (!rc.timeout)
		rc.timeout = 2;
	if (!rc.probe_interval)
		rc.probe_interval = -1;
	if (!rc.cooldown_initial)
		rc.cooldown_initial = 30; /* long: rests must not end during a case */
	struct rpc *r = rpc_new_with(loop, http, reg, &rc, err, sizeof(err));
	if (!r)
		bail_out("rpc_new_with: %s", err);
	return r;
}

static double requests(const char *ep, const char *method, const char *outcome)
{
	char err[200];
	static const char *const l3[] = { "endpoint", "method", "outcome", NULL };
	struct metric *m = metrics_counter(reg, "mpc_indexer_rpc_requests_total", "x", l3, err,
					   sizeof(err));
	const char *lv[] = { ep, method, outcome, NULL };
	return m ? metric_value(m, lv) : -1;
}

static uint64_t latency_count(const char *ep, const char *method)
{
	char err[200];
	static const char *const l2[] = { "endpoint", "method", NULL };
	static const double b[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };
	struct metric *m = metrics_histogram(reg, "mpc_indexer_rpc_request_duration_seconds", "x",
					     l2, b, sizeof(b) / sizeof(b[0]), err, sizeof(err));
	const char *lv[] = { ep, method, NULL };
	return m ? metric_count(m, lv) : 0;
}

static void call(struct rpc *r, const char *method, struct got *g)
{
	memset(g, 0, sizeof(*g));
	in_call = 1;
	struct rpc_call *c = rpc_call(r, method, "{}", NULL, on_done, g);
	in_call = 0;
	if (!c)
		bail_out("rpc_call returned NULL");
	if (!run_until(&g->done, 20))
		diag("no answer to %s", method);
}

/* The first endpoint answers `bad`; the second is used, the first rests. */
static void failover_case(const char *what, struct reply bad, const char *outcome)
{
	struct rpc *r = client(url1, url2, NULL);
	struct got g;
	double before1 = requests(name1, "ping", outcome), before2 = requests(name2, "ping", "ok");

	server_script(&s1, &bad, 1);
	server_script(&s2, NULL, 0);
	call(r, "ping", &g);
	ok(g.ok && !strcmp(g.endpoint, name2), "%s: answered by the second endpoint (%s)", what,
	   g.endpoint);
	is_int(g.attempts, 2, "%s: two attempts", what);
	is_int(server_calls(&s1), 1, "%s: first endpoint asked once", what);
	is_int(requests(name1, "ping", outcome) - before1, 1, "%s: metric outcome=%s on the first",
	       what, outcome);
	is_int(requests(name2, "ping", "ok") - before2, 1, "%s: metric outcome=ok on the second", what);
	ok(!rpc_endpoint_healthy(r, 0) && rpc_endpoint_healthy(r, 1), "%s: the first rests", what);

	/* while it rests the first is skipped */
	call(r, "ping", &g);
	ok(g.ok && !strcmp(g.endpoint, name2) && server_calls(&s1) == 1,
	   "%s: the next call goes straight to the second", what);
	rpc_free(r);
}

static void failover(void)
{
	char dead[64];
	struct got g;

	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", dead_port());
	{
		struct rpc *r = client(dead, url2, NULL);
		server_script(&s2, NULL, 0);
		call(r, "ping", &g);
		ok(g.ok && !strcmp(g.endpoint, name2), "connection refused: the second endpoint answers");
		char dn[32];
		snprintf(dn, sizeof(dn), "127.0.0.1:%s", strrchr(dead, ':') + 1);
		is_int(requests(dn, "ping", "transport"), 1, "connection refused: outcome=transport");
		rpc_free(r);
	}
	failover_case("HTTP 500", (struct reply){ 500, "{\"jsonrpc\":\"2.0\",\"error\":{\"name\":"
			"\"INTERNAL_ERROR\",\"cause\":{\"name\":\"INTERNAL_ERROR\",\"info\":{\"error_message\":\"db\"}}}}", 0 },
		      "http_5xx");
	failover_case("HTTP 503 page", (struct reply){ 503, "<html>busy</html>", 0 }, "http_5xx");
	failover_case("HTTP 429", (struct reply){ 429, "Too Many Requests", 0 }, "rate_limited");
	failover_case("HTTP 408", (struct reply){ 408, "{\"jsonrpc\":\"2.0\",\"error\":{\"name\":\"HANDLER_ERROR\","
			"\"cause\":{\"name\":\"TIMEOUT_ERROR\"},\"data\":\"Timeout\"}}", 0 }, "timeout");
	{
		/* our own per-request timeout: 0.3 s against a 1.5 s answer */
		struct rpc_config rc = { .timeout = 0.3 };
		struct rpc *r = client(url1, url2, &rc);
		struct reply slow = { 200, "{\"result\":{}}", 1500 };
		double before = requests(name1, "ping", "timeout");
		server_script(&s1, &slow, 1);
		server_script(&s2, NULL, 0);
		call(r, "ping", &g);
		ok(g.ok && !strcmp(g.endpoint, name2), "timeout: the second endpoint answers");
		is_int(requests(name1, "ping", "timeout") - before, 1, "timeout: outcome=timeout");
		ok(latency_count(name1, "ping") > 0 && latency_count(name2, "ping") > 0,
		   "latency histograms have observations for both endpoints");
		rpc_free(r);
	}
}

static void no_retry(void)
{
	struct got g;
	struct rpc *r = client(url1, url2, NULL);
	struct reply v = { 400, "{\"jsonrpc\":\"2.0\",\"error\":{\"name\":\"REQUEST_VALIDATION_ERROR\","
			   "\"cause\":{\"info\":{\"method_name\":\"nomethod\"},\"name\":\"METHOD_NOT_FOUND\"},"
			   "\"code\":-32601,\"message\":\"Method not found\",\"data\":\"nomethod\"}}", 0 };
	server_script(&s1, &v, 1);
	server_script(&s2, NULL, 0);
	call(r, "nomethod", &g);
	ok(!g.ok && g.cls == RPC_ERR_VALIDATION, "validation error delivered as validation");
	is_str(g.message, "METHOD_NOT_FOUND: nomethod", "with the cause and the data");
	is_int(server_calls(&s2), 0, "validation error: the second endpoint is never asked");
	is_int(g.attempts, 1, "validation error: one attempt");
	is_int(requests(name1, "nomethod", "validation"), 1, "metric outcome=validation");
	ok(rpc_endpoint_healthy(r, 0), "a validation error does not make the endpoint rest");

	struct reply h = { 200, "{\"jsonrpc\":\"2.0\",\"error\":{\"name\":\"HANDLER_ERROR\",\"cause\":{\"info\":"
			   "{\"requested_account_id\":\"nobody.near\"},\"name\":\"UNKNOWN_ACCOUNT\"},"
			   "\"data\":\"account nobody.near does not exist while viewing\"}}", 0 };
	server_script(&s1, &h, 1);
	server_script(&s2, NULL, 0);
	call(r, "query", &g);
	ok(!g.ok && g.cls == RPC_ERR_HANDLER && !strcmp(g.cause, "UNKNOWN_ACCOUNT"),
	   "handler error UNKNOWN_ACCOUNT delivered");
	is_int(server_calls(&s2), 0, "handler error: not retried elsewhere");

	struct reply bad = { 200, "{\"jsonrpc\":\"2.0\",\"result\":{\"a\":", 0 };
	server_script(&s1, &bad, 1);
	server_script(&s2, NULL, 0);
	call(r, "ping", &g);
	ok(!g.ok && g.cls == RPC_ERR_MALFORMED && strstr(g.message, "truncated"),
	   "truncated body: malformed, clear message (%s)", g.message);
	ok(!reentered, "no callback ran inside rpc_call");
	rpc_free(r);

	/* a body over the cap: too_large, not retried */
	struct rpc_config rc = { .max_response = 100 };
	r = client(url1, url2, &rc);
	static char big[1000];
	memset(big, ' ', sizeof(big) - 1);
	memcpy(big, "{\"result\":1}", 12);
	struct reply large = { 200, big, 0 };
	server_script(&s1, &large, 1);
	server_script(&s2, NULL, 0);
	call(r, "ping", &g);
	ok(!g.ok && g.cls == RPC_ERR_TOO_LARGE, "oversized body: too_large (%s)", g.message);
	is_int(server_calls(&s2), 0, "oversized body: not retried");
	rpc_free(r);
}

static void exhausted_and_recovery(void)
{
	struct got g;
	struct rpc_config rc = { .max_attempts = 4, .backoff_initial = 0.05, .backoff_max = 0.1,
				 .cooldown_initial = 0.4 };
	struct rpc *r = client(url1, url2, &rc);
	struct reply e = { 503, "down", 0 };
	struct reply e4[] = { e, e, e, e };

	server_script(&s1, e4, 4);
	server_script(&s2, e4, 4);
	call(r, "ping", &g);
	ok(!g.ok && g.cls == RPC_ERR_HTTP_5XX, "both down: the last failure is delivered");
	is_int(g.attempts, 4, "both down: max_attempts attempts");
	is_int(server_calls(&s1) + server_calls(&s2), 4, "both down: four requests in all");
	is_str(g.message, "HTTP 503: down", "message of the last attempt");

	/* both rest now; once the first's rest is over it is preferred again */
	server_script(&s1, NULL, 0);
	server_script(&s2, NULL, 0);
	run_for(1.0);
	call(r, "ping", &g);
	ok(g.ok && !strcmp(g.endpoint, name1), "after its rest the first endpoint is used again (%s)",
	   g.endpoint);
	ok(rpc_endpoint_healthy(r, 0), "and counts as healthy");
	rpc_free(r);
}

static void keys_and_chain(void)
{
	struct got g;
	char u1[96];
	snprintf(u1, sizeof(u1), "%s|secret-one", url1);
	struct rpc_config rc = { .api_key = "default-key" };
	struct rpc *r = client(u1, url2, &rc);
	server_script(&s1, NULL, 0);
	call(r, "ping", &g);
	is_str(s1.auth, "Bearer secret-one", "the endpoint's own key is sent as a Bearer token");
	is_str(rpc_endpoint_name(r, 0), name1, "the endpoint label is host:port, no key");
	rpc_free(r);

	struct reply down = { 502, "bad gateway", 0 };
	r = client(u1, url2, &rc);
	server_script(&s1, &down, 1);
	server_script(&s2, NULL, 0);
	call(r, "ping", &g);
	is_str(s2.auth, "Bearer default-key", "an endpoint without its own key gets rpc_api_key");
	rpc_free(r);

	/* chain check: the first serves another chain and is never used */
	rc = (struct rpc_config){ .chain_id = "nearsim" };
	s1.chain_id = "testnet";
	r = client(url1, url2, &rc);
	server_script(&s1, NULL, 0);
	server_script(&s2, NULL, 0);
	call(r, "ping", &g);
	ok(g.ok && !strcmp(g.endpoint, name2), "wrong chain_id: the other endpoint answers");
	is_int(server_calls(&s1), 0, "wrong chain_id: the endpoint gets nothing but status");
	call(r, "ping", &g);
	is_int(server_calls(&s1), 0, "... also later");
	ok(!rpc_endpoint_healthy(r, 0), "... and is reported unhealthy");
	rpc_free(r);

	/* chain checks that never get an answer still end the call */
	char d1[64], d2[64];
	snprintf(d1, sizeof(d1), "http://127.0.0.1:%d", dead_port());
	snprintf(d2, sizeof(d2), "http://127.0.0.1:%d", dead_port());
	struct rpc_config fast = { .chain_id = "nearsim", .backoff_initial = 0.01,
				   .backoff_max = 0.02, .cooldown_initial = 0.01 };
	r = client(d1, d2, &fast);
	call(r, "ping", &g);
	ok(g.done && !g.ok && g.cls == RPC_ERR_TRANSPORT && g.attempts == 4,
	   "both endpoints dead before their chain check: the call ends after its attempts (%u)",
	   g.attempts);
	rpc_free(r);

	s2.chain_id = "testnet";
	r = client(url1, url2, &rc);
	call(r, "ping", &g);
	ok(!g.ok && g.cls == RPC_ERR_NO_ENDPOINT && strstr(g.message, "not 'nearsim'"),
	   "all on another chain: no_endpoint (%s)", g.message);
	rpc_free(r);
	s1.chain_id = s2.chain_id = NULL;
}

static void lagging(void)
{
	struct got g;
	struct rpc_config rc = { .probe_interval = 0.1, .max_lag_blocks = 5 };
	s1.final_height = 100;
	s2.final_height = 200;
	struct rpc *r = client(url1, url2, &rc);
	server_script(&s1, NULL, 0);
	server_script(&s2, NULL, 0);
	run_for(0.5);	/* a few probe rounds */
	is_int(rpc_endpoint_final_height(r, 0), 100, "probe: first endpoint's final height");
	is_int(rpc_endpoint_final_height(r, 1), 200, "probe: second endpoint's final height");
	ok(!rpc_endpoint_healthy(r, 0), "100 blocks behind: the first counts as lagging");
	memset(&g, 0, sizeof(g));
	rpc_view_call(r, "mpc.test.near", "state", NULL, NULL, NULL, on_view, &g);
	run_until(&g.done, 10);
	ok(g.ok && !strcmp(g.endpoint, name2) && g.height == 200,
	   "a lagging endpoint is not preferred: the view came from the second at 200");

	s1.final_height = 201;
	run_for(0.5);
	ok(rpc_endpoint_healthy(r, 0), "caught up: the first is healthy again");
	memset(&g, 0, sizeof(g));
	rpc_view_call(r, "mpc.test.near", "state", NULL, NULL, NULL, on_view, &g);
	run_until(&g.done, 10);
	ok(g.ok && !strcmp(g.endpoint, name1), "and preferred again");
	ok(rpc_best_final_height(r) >= 201, "best final height known");
	rpc_free(r);
	s1.final_height = s2.final_height = 100;
}

static void view_calls(void)
{
	struct got g;
	struct rpc *r = client(url1, url2, NULL);
	server_script(&s1, NULL, 0);
	memset(&g, 0, sizeof(g));
	in_call = 1;
	rpc_view_call(r, "mpc.test.near", "state", NULL, NULL, NULL, on_view, &g);
	in_call = 0;
	run_until(&g.done, 10);
	ok(g.ok && !strcmp(g.value, "1") && g.height == 100, "view: bytes and height");
	ok(strstr(s1.last_body, "\"args_base64\":\"e30=\"") && strstr(s1.last_body, "\"finality\":\"final\"") &&
	   strstr(s1.last_body, "\"request_type\":\"call_function\""), "view: query call_function, {} as e30=, final");

	struct reply quirk = { 200, "{\"jsonrpc\":\"2.0\",\"result\":{\"block_hash\":\"FSx\",\"block_height\":101,"
			       "\"error\":\"wasm execution failed with error: FunctionCallError(MethodResolveError("
			       "MethodNotFound))\",\"logs\":[]},\"id\":1}", 0 };
	server_script(&s1, &quirk, 1);
	server_script(&s2, NULL, 0);
	memset(&g, 0, sizeof(g));
	rpc_view_call(r, "mpc.test.near", "nope", "{}", "final", NULL, on_view, &g);
	run_until(&g.done, 10);
	ok(!g.ok && g.cls == RPC_ERR_CONTRACT, "HTTP-200 result.error: a contract failure");
	is_str(g.message, "CONTRACT_EXECUTION_ERROR: wasm execution failed with error: "
	       "FunctionCallError(MethodResolveError(MethodNotFound))", "message as the RPC gave it");
	is_int(g.height, 101, "with the height");
	is_int(server_calls(&s2), 0, "a contract failure is not retried");
	is_int(requests(name1, "query", "contract"), 1, "metric outcome=contract");

	/* cancel: no callback, no leak */
	memset(&g, 0, sizeof(g));
	struct rpc_call *c = rpc_view_call(r, "mpc.test.near", "state", NULL, NULL, NULL, on_view, &g);
	rpc_cancel(c);
	run_for(0.2);
	is_int(g.done, 0, "a cancelled call never calls back");
	ok(rpc_view_call(r, "mpc.test.near", "state", NULL, "soonish", NULL, on_view, &g) == NULL,
	   "bad finality refused");
	ok(rpc_call(r, "x", "{not json", NULL, on_done, &g) == NULL, "params that are not JSON refused");

	/* free with calls in flight: no callbacks */
	memset(&g, 0, sizeof(g));
	rpc_view_call(r, "mpc.test.near", "state", NULL, NULL, NULL, on_view, &g);
	rpc_free(r);
	run_for(0.2);
	is_int(g.done, 0, "rpc_free cancels calls in flight");
}

static void config_errors(void)
{
	char err[256];
	const char *bad[] = { "ftp://x.example", NULL };
	struct rpc_config rc = { .urls = bad };
	ok(!rpc_new_with(loop, http, NULL, &rc, err, sizeof(err)) && strstr(err, "not an http(s) URL"),
	   "ftp URL refused: %s", err);
	const char *none[] = { NULL };
	rc.urls = none;
	ok(!rpc_new_with(loop, http, NULL, &rc, err, sizeof(err)) && strstr(err, "rpc_urls"),
	   "no endpoint refused: %s", err);
	const char *leak[] = { "notaurl|supersecret", NULL };
	rc.urls = leak;
	ok(!rpc_new_with(loop, http, NULL, &rc, err, sizeof(err)) && !strstr(err, "supersecret"),
	   "a bad item's key is not echoed: %s", err);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	loop = ev_default_loop(0);
	http = http_client_new(loop);
	reg = metrics_new();
	server_start(&s1);
	server_start(&s2);
	snprintf(url1, sizeof(url1), "http://127.0.0.1:%d", s1.port);
	snprintf(url2, sizeof(url2), "http://127.0.0.1:%d/", s2.port);
	snprintf(name1, sizeof(name1), "127.0.0.1:%d", s1.port);
	snprintf(name2, sizeof(name2), "127.0.0.1:%d", s2.port);

	failover();
	no_retry();
	exhausted_and_recovery();
	keys_and_chain();
	lagging();
	view_calls();
	config_errors();

	http_client_free(http);
	MHD_stop_daemon(s1.d);
	MHD_stop_daemon(s2.d);
	metrics_free(reg);
	ev_loop_destroy(loop);
	curl_global_cleanup();
	return done_testing();
}
