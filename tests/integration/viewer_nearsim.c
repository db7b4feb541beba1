/*
 * The RPC client, the state viewer and plugins against two nearsim chains
 * (same seed, same blocks: one network seen through two endpoints).
 *  1. failover: the first endpoint refuses, answers 5xx, 429, 408, hangs past
 *     our timeout or resets; the second answers; the first is used again
 *     after its rest; a validation error is not retried; metrics per outcome.
 *  2. a resharing reaches a subscriber once, at the first final height that
 *     shows it; unchanged polls deliver nothing; FailFast ends with the error;
 *     exponential backoff spacing on the viewer's clock with real answers.
 *  3. ten plugins subscribed to state: one poll per interval.
 *  4. invalid JSON and truncated bodies: a clear error, no crash.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <ev.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../tap.h"
#include "config.h"
#include "host.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "rpc.h"
#include "viewer.h"

#define CONTRACT "mpc.test.near"
#define REST 1.5	/* how long a failed endpoint rests in the failover cases */

struct sim {
	pid_t pid;
	int port;
	char url[64], name[32];
};

static struct sim A, B;
static struct ev_loop *loop;
static struct http_client *http;
static struct metrics *reg;

/* ---- nearsim ---- */

static int sim_start(struct sim *s)
{
	char port_file[] = "/tmp/viewer-nearsim-XXXXXX", bin[1024];
	const char *bd = getenv("top_builddir") ? getenv("top_builddir") : ".";
	int fd = mkstemp(port_file);
	if (fd < 0)
		return -1;
	close(fd);
	unlink(port_file);
	snprintf(bin, sizeof(bin), "%s/nearsim", bd);
	if (!(s->pid = fork())) {
		execl(bin, bin, "--manual", "--port", "0", "--port-file", port_file, "--quiet",
		      "--seed", "7", "--bg-tx", "0", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 400; i++) {
		FILE *f = fopen(port_file, "r");
		if (f) {
			int ok = fscanf(f, "%d", &s->port) == 1 && s->port > 0;
			fclose(f);
			if (ok) {
				unlink(port_file);
				snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
				snprintf(s->name, sizeof(s->name), "127.0.0.1:%d", s->port);
				return 0;
			}
		}
		usleep(50000);
	}
	return -1;
}

static void sim_stop(struct sim *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

static size_t sink(char *d, size_t sz, size_t n, void *ud)
{
	return sz * n;
}

/* POST an admin command (blocking: the test's own control channel). */
static int admin(struct sim *s, const char *path, const char *body)
{
	char url[256];
	long status = 0;
	CURL *h = curl_easy_init();
	snprintf(url, sizeof(url), "%s%s", s->url, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	return (int)status;
}

static void produce(int n)
{
	char path[64];
	snprintf(path, sizeof(path), "/admin/produce?n=%d", n);
	admin(&A, path, "{}");
	admin(&B, path, "{}");
}

static void fault(struct sim *s, const char *json)
{
	if (admin(s, "/admin/faults", json) != 200)
		diag("setting faults %s failed", json);
}

/* ---- the loop ---- */

static void on_expire(struct ev_loop *l, ev_timer *w, int revents)
{
	*(int *)w->data = 1;
}

static int run_until(const int *flag, double limit)
{
	int expired = 0;
	ev_timer t;
	ev_timer_init(&t, on_expire, limit, 0);
	t.data = &expired;
	ev_timer_start(loop, &t);
	while (!*flag && !expired)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &t);
	return *flag;
}

static void run_for(double s)
{
	int never = 0;
	run_until(&never, s);
}

/* Run the loop until cond(arg) holds, at most `limit` seconds (a hang guard). */
static int run_while_not(int (*cond)(void *), void *arg, double limit)
{
	int expired = 0;
	ev_timer t;
	ev_timer_init(&t, on_expire, limit, 0);
	t.data = &expired;
	ev_timer_start(loop, &t);
	while (!cond(arg) && !expired)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &t);
	return cond(arg);
}

static double outcome(const char *ep, const char *method, const char *out)
{
	char err[200];
	static const char *const l3[] = { "endpoint", "method", "outcome", NULL };
	struct metric *m = metrics_counter(reg, "mpc_indexer_rpc_requests_total", "x", l3, err,
					   sizeof(err));
	const char *lv[] = { ep, method, out, NULL };
	return metric_value(m, lv);
}

/* ---- 1. failover ---- */

struct answer {
	int done, ok;
	enum rpc_error_class cls;
	char endpoint[64], message[600], value[256];
	uint64_t height;
	size_t len;
};

static void on_view(const struct rpc_view_result *r, void *ud)
{
	struct answer *a = ud;
	a->done = 1;
	a->ok = r->ok;
	a->cls = r->cls;
	a->height = r->block_height;
	a->len = r->value_len;
	snprintf(a->endpoint, sizeof(a->endpoint), "%s", r->rpc ? r->rpc->endpoint : "");
	snprintf(a->message, sizeof(a->message), "%s", r->message);
	snprintf(a->value, sizeof(a->value), "%.*s", (int)(r->value_len < 255 ? r->value_len : 255),
		 r->value ? r->value : "");
}

static void on_rpc(const struct rpc_result *r, void *ud)
{
	struct answer *a = ud;
	a->done = 1;
	a->ok = r->ok;
	a->cls = r->cls;
	snprintf(a->endpoint, sizeof(a->endpoint), "%s", r->endpoint);
	snprintf(a->message, sizeof(a->message), "%s", r->message);
}

static struct answer view(struct rpc *r, const char *method)
{
	struct answer a = { 0 };
	if (!rpc_view_call(r, CONTRACT, method, NULL, NULL, NULL, on_view, &a))
		bail_out("rpc_view_call");
	if (!run_until(&a.done, 30))
		diag("no answer to %s", method);
	return a;
}

static int both_heights(void *r)
{
	return rpc_endpoint_final_height(r, 0) && rpc_endpoint_final_height(r, 1);
}

static int first_healthy(void *r)
{
	return rpc_endpoint_healthy(r, 0);
}

static struct rpc *two_endpoints(const char *first, double timeout)
{
	const char *urls[] = { first, B.url, NULL };
	struct rpc_config rc = { .urls = urls, .timeout = timeout, .cooldown_initial = REST,
				 .cooldown_max = REST, .probe_interval = -1, .chain_id = "nearsim" };
	char err[256];
	struct rpc *r = rpc_new_with(loop, http, reg, &rc, err, sizeof(err));
	if (!r)
		bail_out("rpc: %s", err);
	return r;
}

static void failover_one(const char *what, const char *faults, const char *out, double timeout)
{
	struct rpc *r = two_endpoints(A.url, timeout);
	double before = outcome(A.name, "query", out);
	struct answer a = view(r, "state");	/* chain checks done, both healthy */

	fault(&A, faults);
	a = view(r, "state");
	ok(a.ok && !strcmp(a.endpoint, B.name), "%s on the first endpoint: the second answers", what);
	ok(outcome(A.name, "query", out) - before >= 1, "%s: counted as outcome=%s for the first", what, out);
	fault(&A, "{\"kind\":\"rpc\",\"clear\":true}");
	a = view(r, "state");
	ok(a.ok && !strcmp(a.endpoint, B.name), "%s: while the first rests the second is used", what);
	run_for(REST + 0.2);
	a = view(r, "state");
	ok(a.ok && !strcmp(a.endpoint, A.name), "%s: after its rest the first is tried again and used", what);
	rpc_free(r);
}

static void failover(void)
{
	failover_one("HTTP 5xx", "{\"kind\":\"rpc\",\"5xx\":1}", "http_5xx", 5);
	failover_one("HTTP 429", "{\"kind\":\"rpc\",\"429\":1}", "rate_limited", 5);
	failover_one("408 TIMEOUT_ERROR", "{\"kind\":\"rpc\",\"timeout\":1}", "timeout", 5);
	failover_one("no answer within the timeout", "{\"kind\":\"rpc\",\"latency_ms\":6000}", "timeout", 2);
	failover_one("connection reset", "{\"kind\":\"rpc\",\"reset\":1}", "transport", 5);
	failover_one("truncated body", "{\"kind\":\"rpc\",\"truncate\":1}", "transport", 5);

	/* connection refused: nothing listens on the first */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	close(fd);
	char dead[64], dead_name[32];
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", ntohs(sa.sin_port));
	snprintf(dead_name, sizeof(dead_name), "127.0.0.1:%d", ntohs(sa.sin_port));
	struct rpc *r = two_endpoints(dead, 5);
	struct answer a = view(r, "state");
	ok(a.ok && !strcmp(a.endpoint, B.name), "connection refused: the second answers");
	ok(outcome(dead_name, "status", "transport") >= 1,
	   "connection refused: counted as outcome=transport (at the chain check)");
	rpc_free(r);

	/* validation errors are answers, not endpoint failures */
	r = two_endpoints(A.url, 5);
	a = view(r, "state");
	double b_before = outcome(B.name, "nomethod", "validation") + outcome(B.name, "nomethod", "ok");
	a = (struct answer){ 0 };
	rpc_call(r, "nomethod", "{}", NULL, on_rpc, &a);
	run_until(&a.done, 30);
	ok(!a.ok && a.cls == RPC_ERR_VALIDATION && strstr(a.message, "METHOD_NOT_FOUND"),
	   "unknown method: validation error delivered (%s)", a.message);
	is_int(outcome(B.name, "nomethod", "validation") + outcome(B.name, "nomethod", "ok") - b_before, 0,
	       "validation error: not retried on the second endpoint");
	ok(outcome(A.name, "nomethod", "validation") == 1, "counted as outcome=validation");

	/* acceptance 4 on the wire: garbage gives a clear error, nothing else */
	fault(&A, "{\"kind\":\"rpc\",\"invalid_json\":1}");
	a = view(r, "state");
	ok(!a.ok && a.cls == RPC_ERR_MALFORMED && strstr(a.message, "malformed response: not JSON"),
	   "invalid JSON body: %s", a.message);
	fault(&A, "{\"kind\":\"rpc\",\"clear\":true}");

	rpc_free(r);

	/* a lagging endpoint (older final height) is used last, and again once it caught up */
	produce(30);
	const char *urls[] = { A.url, B.url, NULL };
	struct rpc_config lc = { .urls = urls, .probe_interval = 0.1, .max_lag_blocks = 5,
				 .chain_id = "nearsim" };
	char err[256];
	fault(&A, "{\"kind\":\"rpc\",\"lag_blocks\":20}");
	r = rpc_new_with(loop, http, reg, &lc, err, sizeof(err));
	run_while_not(both_heights, r, 30);
	ok(rpc_endpoint_final_height(r, 0) + 20 == rpc_endpoint_final_height(r, 1),
	   "probes: the first is 20 final blocks behind (%llu vs %llu)",
	   (unsigned long long)rpc_endpoint_final_height(r, 0),
	   (unsigned long long)rpc_endpoint_final_height(r, 1));
	ok(!rpc_endpoint_healthy(r, 0) && rpc_endpoint_healthy(r, 1), "the first counts as lagging");
	a = view(r, "state");
	ok(a.ok && !strcmp(a.endpoint, B.name), "a lagging endpoint is not preferred: the second answers");
	fault(&A, "{\"kind\":\"rpc\",\"clear\":true}");
	run_while_not(first_healthy, r, 30);
	a = view(r, "state");
	ok(a.ok && !strcmp(a.endpoint, A.name) && rpc_endpoint_healthy(r, 0),
	   "caught up: the first is preferred again");
	rpc_free(r);
	r = two_endpoints(A.url, 5);

	diag("outcomes for %s: ok=%g http_5xx=%g rate_limited=%g timeout=%g transport=%g "
	     "validation=%g malformed=%g", A.name, outcome(A.name, "query", "ok"),
	     outcome(A.name, "query", "http_5xx"), outcome(A.name, "query", "rate_limited"),
	     outcome(A.name, "query", "timeout"), outcome(A.name, "query", "transport"),
	     outcome(A.name, "nomethod", "validation"), outcome(A.name, "query", "malformed"));
	rpc_free(r);
}

/* ---- 2. subscriptions ---- */

struct seen {
	int n, final;
	int ok[32];
	uint64_t height[32];
	char value[32][200];
	size_t len[32];
	char *full[32];
};

static void record(void *ctx, const struct mpci_view_result *r)
{
	struct seen *s = ctx;
	if (s->n < 32) {
		s->ok[s->n] = r->ok;
		s->height[s->n] = r->block_height;
		s->len[s->n] = r->ok ? r->value_len : 0;
		snprintf(s->value[s->n], sizeof(s->value[0]), "%.*s",
			 (int)(r->ok ? (r->value_len < 199 ? r->value_len : 199) : 199),
			 r->ok ? r->value : r->error);
		s->full[s->n] = r->ok ? strndup(r->value, r->value_len) : NULL;
	}
	s->n++;
	s->final |= r->final;
}

static void seen_free(struct seen *s)
{
	for (int i = 0; i < 32 && i < s->n; i++)
		free(s->full[i]);
}

struct box {
	int done;
	char *v;
};

static void on_state_at(const struct rpc_result *res, void *ud)
{
	struct box *box = ud;
	char msg[200];
	size_t len;
	uint64_t h;
	const char *hash;
	box->done = 1;
	if (!res->ok || rpc_parse_view_result(res->result, &box->v, &len, &h, &hash, msg,
					      sizeof(msg)) != 0)
		box->v = NULL;
}

/* The raw state bytes at a given height. */
static char *state_at(struct rpc *r, uint64_t h)
{
	char params[256];
	struct box box = { 0 };
	snprintf(params, sizeof(params),
		 "{\"request_type\":\"call_function\",\"block_id\":%llu,\"account_id\":\"" CONTRACT
		 "\",\"method_name\":\"state\",\"args_base64\":\"e30=\"}", (unsigned long long)h);
	rpc_call(r, "query", params, NULL, on_state_at, &box);
	run_until(&box.done, 30);
	return box.v;
}

static double clock_fn(void *ud)
{
	return *(double *)ud;
}

struct calls_at_least {
	struct viewer *v;
	uint64_t n;
};

static int calls_reached(void *arg)
{
	struct calls_at_least *w = arg;
	return viewer_calls(w->v) >= w->n;
}

static void subscriptions(void)
{
	const char *urls[] = { A.url, NULL };
	struct rpc_config rc = { .urls = urls, .probe_interval = -1 };
	char err[256];
	struct rpc *r = rpc_new_with(loop, http, reg, &rc, err, sizeof(err));
	struct viewer_config vc = { .contract = CONTRACT, .jitter = -1,
				    .update = { .interval = 0.05 } };
	struct viewer *v = viewer_new_with(loop, r, &vc, reg, err, sizeof(err));
	if (!r || !v)
		bail_out("setup: %s", err);

	struct seen s = { 0 };
	struct mpci_view_spec spec = { sizeof(spec), NULL, "state", NULL, NULL, NULL };
	void *h = viewer_subscribe(v, &spec, record, &s, err, sizeof(err));
	run_until(&s.n, 30);
	ok(s.n == 1 && s.ok[0] && strstr(s.value[0], "\"Running\""), "first delivery: the Running state");
	uint64_t calls0 = viewer_calls(v);
	struct calls_at_least w = { v, calls0 + 3 };
	run_while_not(calls_reached, &w, 30);
	produce(3);
	w.n = viewer_calls(v) + 3;
	run_while_not(calls_reached, &w, 30);
	ok(viewer_calls(v) >= calls0 + 4, "polls went on (%llu more)",
	   (unsigned long long)(viewer_calls(v) - calls0));
	is_int(s.n, 1, "unchanged state, new blocks: nothing delivered");

	/* a resharing: one block at a time, a few polls after each */
	is_int(admin(&A, "/admin/reshare", "{}"), 200, "resharing started on the chain");
	admin(&B, "/admin/reshare", "{}");
	for (int i = 0; i < 6 && s.n < 2; i++) {
		produce(1);
		uint64_t c = viewer_calls(v);
		while (viewer_calls(v) < c + 3)
			ev_run(loop, EVRUN_ONCE);
	}
	ok(s.n == 2 && s.ok[1] && strstr(s.value[1], "\"Resharing\""),
	   "the resharing reached the subscriber once");
	if (s.n >= 2) {
		char *at = state_at(r, s.height[1]), *before = state_at(r, s.height[1] - 1);
		ok(at && !strcmp(at, s.full[1]), "the value is the state at the delivered height %llu",
		   (unsigned long long)s.height[1]);
		ok(before && strcmp(before, s.full[1]) != 0 && strstr(before, "\"Running\""),
		   "one block earlier it was still Running: the height is the first that shows it");
		ok(s.height[1] > s.height[0], "heights went up");
		free(at);
		free(before);
	}
	int n = s.n;
	run_for(0.3);
	is_int(s.n, n, "no repeat while it stays the same");

	/* FailFast: a method the contract does not have */
	struct seen f = { 0 };
	struct mpci_poll_policy ff = { .retry = MPCI_RETRY_FAIL_FAST };
	struct mpci_view_spec fs = { sizeof(fs), NULL, "no_such_view", NULL, &ff, NULL };
	void *fh = viewer_subscribe(v, &fs, record, &f, err, sizeof(err));
	run_until(&f.n, 30);
	ok(f.n == 1 && !f.ok[0] && f.final, "FailFast: the error is delivered and ends the subscription");
	ok(strstr(f.value[0], "CONTRACT_EXECUTION_ERROR: wasm execution failed") != NULL,
	   "... as the contract gave it: %s", f.value[0]);
	uint64_t c = viewer_calls(v);
	run_for(0.3);
	is_int(f.n, 1, "nothing after the end");
	is_int(viewer_poll_count(v), 1, "only the state poll is left");
	ok(viewer_calls(v) - c <= 8, "and only it polls");
	viewer_unsubscribe(v, fh);
	viewer_unsubscribe(v, h);
	viewer_free(v);
	seen_free(&s);
	seen_free(&f);

	/* Exponential 0.2 s .. 0.8 s on the viewer's clock, real failing answers */
	static double fake;
	v = viewer_new_with(loop, r, &vc, reg, err, sizeof(err));
	viewer_set_clock(v, clock_fn, &fake);
	fake = 100;
	struct seen e = { 0 };
	struct mpci_poll_policy expo = { .retry = MPCI_RETRY_EXPONENTIAL, .backoff_initial = 0.2,
					 .backoff_max = 0.8 };
	struct mpci_view_spec es = { sizeof(es), NULL, "no_such_view", NULL, &expo, NULL };
	viewer_subscribe(v, &es, record, &e, err, sizeof(err));
	double at[8], want[] = { 0, 0.2, 0.6, 1.4, 2.2, 3.0 };
	int good = 1;
	for (int k = 0; k < 6; k++) {
		double t = viewer_next_due(v);
		if (t < 0) {
			good = 0;
			break;
		}
		fake = t;
		at[k] = t;
		uint64_t before = viewer_calls(v);
		viewer_run_due(v);
		if (viewer_calls(v) != before + 1)
			good = 0;
		/* the loop runs until the real answer is in */
		while (viewer_next_due(v) < 0)
			ev_run(loop, EVRUN_ONCE);
		good &= fabs(at[k] - 100 - want[k]) < 1e-9;
		if (fabs(at[k] - 100 - want[k]) >= 1e-9)
			diag("attempt %d at +%g, want +%g", k, at[k] - 100, want[k]);
	}
	ok(good, "Retry Exponential 0.2..0.8 s: attempts at +0 +0.2 +0.6 +1.4 +2.2 +3.0 on the clock");
	ok(e.n == 1 && !e.final, "the repeated failure was delivered once, the subscription lives");
	viewer_free(v);
	seen_free(&e);
	rpc_free(r);
}

/* ---- 3. ten plugins ---- */

static void *op_sub(void *src, const struct mpci_view_spec *spec, provider_view_fn d, void *ctx,
		    char *err, size_t n)
{
	return viewer_subscribe(src, spec, d, ctx, err, n);
}

static void op_unsub(void *src, void *h)
{
	viewer_unsubscribe(src, h);
}

static int op_view(void *src, const struct mpci_view_spec *spec, provider_view_fn d, void *ctx)
{
	return viewer_view(src, spec, d, ctx);
}

static const struct provider_ops vops = { .state_subscribe = op_sub,
					  .state_unsubscribe = op_unsub, .view = op_view };

static double plugin_deliveries(const char *inst, double *height)
{
	char err[200];
	static const char *const l[] = { "instance", NULL };
	struct metric *m = metrics_counter(reg, "test_state_deliveries_total", "", l, err, sizeof(err));
	struct metric *g = metrics_gauge(reg, "test_state_height", "", l, err, sizeof(err));
	const char *lv[] = { inst, NULL };
	if (height)
		*height = metric_value(g, lv);
	return metric_value(m, lv);
}

static void ten_plugins(void)
{
	char dir[] = "/tmp/viewer-plugins-XXXXXX", path[300], text[8192], err[512];
	const char *pd = getenv("MPCI_TEST_PLUGINDIR");
	if (!pd || !mkdtemp(dir)) {
		ok(0, "ten plugins: MPCI_TEST_PLUGINDIR is not set");
		return;
	}
	int off = snprintf(text, sizeof(text), "[near]\ncontract = " CONTRACT "\nrpc_urls = %s\n", A.url);
	for (int i = 0; i < 10; i++)
		off += snprintf(text + off, sizeof(text) - (size_t)off,
				"[plugin.w%d]\npath = %s/state_counter.so\ninstance = w%d\ninterval = 1\n",
				i, pd, i);
	snprintf(path, sizeof(path), "%s/test.conf", dir);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	struct cfg *cfg;
	struct cfg_error ce;
	if (cfg_load(&cfg, path, &ce) < 0)
		bail_out("config: %s", cfg_format_error(&ce, err, sizeof(err)));

	const char *urls[] = { A.url, NULL };
	struct rpc_config rc = { .urls = urls, .probe_interval = -1 };
	struct rpc *r = rpc_new_with(loop, http, reg, &rc, err, sizeof(err));
	struct viewer_config vc = { .contract = CONTRACT, .jitter = -1 };
	struct viewer *v = viewer_new_with(loop, r, &vc, reg, err, sizeof(err));
	static double fake = 500;
	viewer_set_clock(v, clock_fn, &fake);
	struct host_opts ho = { .loop = loop, .cfg = cfg, .metrics = reg, .http = http,
				.state_dir = dir, .plugin_dir = pd, .slow_callback = 1,
				.provider = { &vops, v } };
	struct host *host = host_new(&ho);
	is_int(host_load_all(host, &ce), HOST_OK, "ten state_counter plugins load");
	is_int(host_plugin_count(host), 10, "ten of them");
	is_int(host_start_all(host), HOST_OK, "and start (each subscribes to state)");
	is_int(viewer_poll_count(v), 1, "one poll for the ten subscriptions");

	double q0 = outcome(A.name, "query", "ok");
	for (int k = 0; k < 5; k++) {
		double before = outcome(A.name, "query", "ok");
		if (k)
			fake += 1;
		viewer_run_due(v);
		while (viewer_next_due(v) < 0)
			ev_run(loop, EVRUN_ONCE);
		ev_run(loop, EVRUN_NOWAIT);
		if (outcome(A.name, "query", "ok") != before + 1)
			diag("interval %d: %g queries", k, outcome(A.name, "query", "ok") - before);
	}
	is_int(outcome(A.name, "query", "ok") - q0, 5, "five intervals: five state queries, not fifty");
	int all = 1;
	for (int i = 0; i < 10; i++) {
		char inst[8];
		snprintf(inst, sizeof(inst), "w%d", i);
		all &= plugin_deliveries(inst, NULL) == 1;
	}
	ok(all, "each plugin got the state once");

	/* a change: one more query, ten deliveries */
	admin(&A, "/admin/produce?n=12", "{}");	/* the resharing above ends: Running again */
	fake += 1;
	viewer_run_due(v);
	while (viewer_next_due(v) < 0)
		ev_run(loop, EVRUN_ONCE);
	ev_run(loop, EVRUN_NOWAIT);
	all = 1;
	double h0 = 0, h;
	for (int i = 0; i < 10; i++) {
		char inst[8];
		snprintf(inst, sizeof(inst), "w%d", i);
		all &= plugin_deliveries(inst, &h) == 2;
		if (!i)
			h0 = h;
		all &= h == h0 && h > 0;
	}
	ok(all, "after a state change every plugin got it once, all at the same height %g", h0);
	is_int(outcome(A.name, "query", "ok") - q0, 6, "still one query per interval");

	host_stop_all(host);
	host_free(host);
	viewer_free(v);
	rpc_free(r);
	cfg_free(cfg);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_LVL_ERROR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (sim_start(&A) < 0 || sim_start(&B) < 0) {
		sim_stop(&A);
		bail_out("cannot start nearsim");
	}
	loop = ev_default_loop(0);
	http = http_client_new(loop);
	reg = metrics_new();

	failover();
	subscriptions();
	ten_plugins();

	http_client_free(http);
	metrics_free(reg);
	ev_loop_destroy(loop);
	sim_stop(&A);
	sim_stop(&B);
	curl_global_cleanup();
	return done_testing();
}
