/*
 * core/viewer with a scripted backend on a manual clock: first delivery,
 * change detection, heights, shared polls, FailFast, Fixed and Exponential
 * backoff measured on the viewer's clock, standing polls from the config,
 * and callbacks that unsubscribe or free the viewer.
 */
#include "../tap.h"
#include "config.h"
#include "metrics.h"
#include "settings.h"
#include "viewer.h"

#include <ev.h>
#include <fcntl.h>
#include <math.h>
#include <unistd.h>

/* ---- a scripted backend ---- */

struct fcall {
	char contract[64], method[64], args[128];
	rpc_view_fn cb;
	void *ud;
	int active;
	double at;		/* the clock when it started */
};

static struct fcall calls[4096];
static int n_calls, in_viewer;
static double fake_now;
static struct ev_loop *loop;
static struct metrics *reg;

static void *fake_call(void *ctx, const char *contract, const char *method, const char *args,
		       rpc_view_fn cb, void *ud)
{
	if (n_calls >= 4096)
		return NULL;
	struct fcall *c = &calls[n_calls++];
	snprintf(c->contract, sizeof(c->contract), "%s", contract);
	snprintf(c->method, sizeof(c->method), "%s", method);
	snprintf(c->args, sizeof(c->args), "%s", args);
	c->cb = cb;
	c->ud = ud;
	c->active = 1;
	c->at = fake_now;
	return c;
}

static void fake_cancel(void *ctx, void *call)
{
	((struct fcall *)call)->active = 0;
}

static double clock_now(void *ud)
{
	return fake_now;
}

/* Answer call i: ok with `value`, or an error (value = "CAUSE: message"). */
static void answer(int i, int ok, const char *value, uint64_t height)
{
	struct fcall *c = &calls[i];
	if (!c->active) {
		diag("call %d is not active", i);
		return;
	}
	c->active = 0;
	struct rpc_view_result r = {
		.ok = ok,
		.value = ok ? value : NULL,
		.value_len = ok ? strlen(value) : 0,
		.block_height = height,
		.block_hash = height ? "HASH" : "",
		.cls = ok ? RPC_OK : RPC_ERR_HANDLER,
		.message = ok ? "" : value,
	};
	c->cb(&r, c->ud);
}

/* The call in flight for `method`. */
static int active(const char *method)
{
	for (int i = n_calls - 1; i >= 0; i--)
		if (calls[i].active && !strcmp(calls[i].method, method))
			return i;
	bail_out("no call of %s in flight", method);
}

/* ---- recording subscribers ---- */

struct got {
	int n;
	int ok[64], final[64];
	char text[64][128];
	uint64_t height[64];
	int unsubscribe_in_cb, free_in_cb;
	void *handle;
	struct viewer *v;
};

static void record(void *ctx, const struct mpci_view_result *r)
{
	struct got *g = ctx;
	if (in_viewer)
		diag("a delivery ran inside a viewer call");
	if (g->n < 64) {
		g->ok[g->n] = r->ok;
		g->final[g->n] = r->final;
		g->height[g->n] = r->block_height;
		snprintf(g->text[g->n], sizeof(g->text[0]), "%.*s",
			 (int)(r->ok ? (r->value_len < 127 ? r->value_len : 127) : 127),
			 r->ok ? r->value : r->error);
	}
	g->n++;
	if (g->unsubscribe_in_cb)
		viewer_unsubscribe(g->v, g->handle);
	if (g->free_in_cb) {
		viewer_free(g->v);
		g->v = NULL;
	}
}

static void flush(void)
{
	for (int i = 0; i < 3; i++)
		ev_run(loop, EVRUN_NOWAIT);
}

static struct viewer *mk(const struct viewer_config *vc_in)
{
	struct viewer_config vc = vc_in ? *vc_in : (struct viewer_config){ 0 };
	char err[256];
	if (!vc.contract)
		vc.contract = "mpc.test.near";
	if (!vc.jitter)
		vc.jitter = -1;
	struct viewer *v = viewer_new_with(loop, NULL, &vc, reg, err, sizeof(err));
	if (!v)
		bail_out("viewer_new_with: %s", err);
	viewer_set_backend(v, &(struct viewer_backend){ fake_call, fake_cancel, NULL });
	viewer_set_clock(v, clock_now, NULL);
	viewer_set_seed(v, 42);
	return v;
}

static void *sub(struct viewer *v, const char *method, const char *args,
		 const struct mpci_poll_policy *boot, const struct mpci_poll_policy *upd,
		 struct got *g)
{
	struct mpci_view_spec spec = { sizeof(spec), NULL, method, args, boot, upd };
	char err[256];
	in_viewer = 1;
	void *h = viewer_subscribe(v, &spec, record, g, err, sizeof(err));
	in_viewer = 0;
	if (!h)
		diag("subscribe: %s", err);
	g->handle = h;
	g->v = v;
	return h;
}

/* Advance the clock to the next due poll and start it; the new call's index. */
static int next_call(struct viewer *v)
{
	double t = viewer_next_due(v);
	if (t < 0)
		return -1;
	if (t > fake_now)
		fake_now = t;
	int before = n_calls;
	viewer_run_due(v);
	return n_calls > before ? before : -1;
}

static void reset(void)
{
	n_calls = 0;
	fake_now = 1000;
}

/* ---- cases ---- */

static void changes(void)
{
	struct got g = { 0 }, g2 = { 0 };
	reset();
	struct viewer *v = mk(NULL);
	sub(v, "state", NULL, NULL, NULL, &g);
	flush();
	is_int(g.n, 0, "nothing is delivered before the first answer");
	int c = next_call(v);
	ok(c == 0 && !strcmp(calls[0].method, "state") && !strcmp(calls[0].args, "{}") &&
	   !strcmp(calls[0].contract, "mpc.test.near"), "first poll at once: state {} of the contract");
	ok(calls[0].at == 1000, "the first poll is immediate");
	answer(c, 1, "\"A\"", 100);
	ok(g.n == 1 && g.ok[0] && !strcmp(g.text[0], "\"A\"") && g.height[0] == 100,
	   "first value delivered with its height");

	c = next_call(v);
	ok(calls[c].at == 1001, "next poll one interval (1 s) after the previous finished");
	answer(c, 1, "\"A\"", 101);
	is_int(g.n, 1, "unchanged bytes: nothing delivered");
	c = next_call(v);
	answer(c, 1, "\"B\"", 102);
	ok(g.n == 2 && !strcmp(g.text[1], "\"B\"") && g.height[1] == 102, "changed bytes: delivered once at 102");
	c = next_call(v);
	answer(c, 1, "\"OLD\"", 90);
	is_int(g.n, 2, "an answer older than what was seen (lagging endpoint) is dropped");

	/* a new subscriber gets the latest value at once, from the loop, without a call */
	int calls_before = n_calls;
	sub(v, "state", NULL, NULL, NULL, &g2);
	is_int(g2.n, 0, "nothing inside viewer_subscribe");
	flush();
	ok(g2.n == 1 && !strcmp(g2.text[0], "\"B\"") && g2.height[0] == 102,
	   "a new subscriber gets the latest value and its height");
	is_int(n_calls, calls_before, "... without a new call");

	c = next_call(v);
	answer(c, 0, "UNKNOWN_ACCOUNT: gone", 0);
	ok(g.n == 3 && !g.ok[2] && !strcmp(g.text[2], "UNKNOWN_ACCOUNT: gone") && g.height[2] == 102,
	   "starts failing: error delivered, height not going back (%llu)",
	   (unsigned long long)g.height[2]);
	ok(!g.final[2], "a Retry subscriber is not ended by a failure");
	c = next_call(v);
	answer(c, 0, "UNKNOWN_ACCOUNT: gone", 0);
	is_int(g.n, 3, "the same failure again: nothing");
	c = next_call(v);
	answer(c, 0, "INTERNAL_ERROR: other", 0);
	ok(g.n == 4 && !strcmp(g.text[3], "INTERNAL_ERROR: other"), "fails differently: delivered");
	c = next_call(v);
	answer(c, 1, "\"B\"", 110);
	ok(g.n == 5 && g.ok[4] && g.height[4] == 110, "stops failing: delivered even with the old bytes");
	ok(g2.n == 4 && !strcmp(g2.text[3], g.text[4]) && g2.height[3] == g.height[4],
	   "the second subscriber saw the same changes since it joined");
	int mono = 1;
	for (int i = 1; i < g.n; i++)
		mono &= g.height[i] >= g.height[i - 1];
	ok(mono, "heights never went back");

	viewer_unsubscribe(v, g.handle);
	viewer_unsubscribe(v, g2.handle);
	is_int(viewer_poll_count(v), 0, "last subscriber gone: the poll stops");
	is_int(next_call(v), -1, "... and nothing is due");
	viewer_free(v);
}

static void sharing(void)
{
	struct got g[10] = { 0 }, other = { 0 };
	reset();
	struct viewer *v = mk(NULL);
	for (int i = 0; i < 10; i++)
		sub(v, "state", NULL, NULL, NULL, &g[i]);
	sub(v, "state", "{\"x\":1}", NULL, NULL, &other);
	is_int(viewer_poll_count(v), 2, "ten subscribers of state share one poll; other args get their own");
	int state_calls = 0;
	for (int k = 0; k < 10; k++) {
		fake_now += 1;
		int before = n_calls;
		viewer_run_due(v);
		for (int i = before; i < n_calls; i++) {
			state_calls += !strcmp(calls[i].args, "{}");
			answer(i, 1, k < 5 ? "1" : "2", 100 + (uint64_t)k);
		}
	}
	is_int(state_calls, 10, "ten intervals: ten polls of state, not a hundred");
	int all = 1;
	for (int i = 0; i < 10; i++)
		all &= g[i].n == 2 && !strcmp(g[i].text[1], "2") && g[i].height[1] == 105;
	ok(all, "each of the ten got the value and the one change");
	viewer_free(v);
}

static void fail_fast(void)
{
	struct mpci_poll_policy ff = { .retry = MPCI_RETRY_FAIL_FAST };
	struct got a = { 0 }, b = { 0 }, c = { 0 };
	reset();
	struct viewer *v = mk(NULL);
	sub(v, "state", NULL, &ff, NULL, &a);		/* bootstrap FailFast */
	sub(v, "state", NULL, NULL, NULL, &b);		/* default: Retry */
	int i = next_call(v);
	answer(i, 0, "CONTRACT_EXECUTION_ERROR: panicked", 5);
	ok(a.n == 1 && a.final[0] && !strcmp(a.text[0], "CONTRACT_EXECUTION_ERROR: panicked"),
	   "FailFast: the error is delivered with final = 1");
	ok(b.n == 1 && !b.final[0], "the Retry subscriber of the same poll goes on");
	i = next_call(v);
	answer(i, 1, "\"ok\"", 6);
	is_int(a.n, 1, "nothing after the end");
	is_int(b.n, 2, "the Retry subscriber gets the recovery");
	viewer_unsubscribe(v, a.handle);	/* ended: the handle is still valid, once */

	/* FailFast in the update phase */
	sub(v, "state", NULL, NULL, &ff, &c);
	flush();
	ok(c.n == 1 && c.ok[0] && !c.final[0], "update-FailFast subscriber gets the value");
	i = next_call(v);
	answer(i, 0, "UNKNOWN_ACCOUNT: gone", 0);
	ok(c.n == 2 && c.final[1], "update-FailFast: ended by the first failure after a value");
	viewer_unsubscribe(v, c.handle);
	viewer_unsubscribe(v, b.handle);
	viewer_free(v);

	/* joining while the poll holds an error */
	struct got d = { 0 }, e = { 0 };
	reset();
	v = mk(NULL);
	sub(v, "state", NULL, NULL, NULL, &d);
	i = next_call(v);
	answer(i, 0, "X: y", 0);
	sub(v, "state", NULL, &ff, NULL, &e);
	flush();
	ok(e.n == 1 && e.final[0] && !strcmp(e.text[0], "X: y"),
	   "a FailFast subscriber joining a failing view ends with that error");
	viewer_free(v);	/* with an ended handle never unsubscribed: no leak */
}

static void backoff(void)
{
	struct mpci_poll_policy expo = { .retry = MPCI_RETRY_EXPONENTIAL, .backoff_initial = 1,
					 .backoff_max = 8 };
	struct got g = { 0 };
	double want[] = { 0, 1, 3, 7, 15, 23, 31 };
	reset();
	struct viewer *v = mk(NULL);
	sub(v, "state", NULL, &expo, NULL, &g);
	int good = 1;
	for (int k = 0; k < 7; k++) {
		int i = next_call(v);
		if (i < 0 || fabs(calls[i].at - 1000 - want[k]) > 1e-9) {
			good = 0;
			diag("attempt %d at %+g, want %+g", k, i < 0 ? -1 : calls[i].at - 1000, want[k]);
		}
		if (i >= 0)
			answer(i, 0, "NO_SYNCED_BLOCKS: syncing", 0);
	}
	ok(good, "Exponential 1 s..8 s: attempts at +0 +1 +3 +7 +15 +23 +31 on the viewer's clock");
	is_int(g.n, 1, "a repeated failure is delivered once");
	int i = next_call(v);
	answer(i, 1, "v", 50);
	i = next_call(v);
	ok(i >= 0 && fabs(calls[i].at - calls[i - 1].at - 1) < 1e-9, "after a success: back to the 1 s interval");
	answer(i, 0, "E: again", 0);
	i = next_call(v);
	ok(i >= 0 && fabs(calls[i].at - calls[i - 1].at - 1) < 1e-9,
	   "a new failure starts the backoff from backoff_initial again");
	viewer_free(v);

	struct mpci_poll_policy fixed = { .retry = MPCI_RETRY_FIXED, .backoff_initial = 2.5 };
	struct got f = { 0 };
	reset();
	v = mk(NULL);
	sub(v, "state", NULL, &fixed, NULL, &f);
	good = 1;
	for (int k = 0; k < 5; k++) {
		i = next_call(v);
		if (i < 0 || fabs(calls[i].at - 1000 - 2.5 * k) > 1e-9)
			good = 0;
		if (i >= 0)
			answer(i, 0, "E: x", 0);
	}
	ok(good, "Fixed 2.5 s: attempts at +0 +2.5 +5 +7.5 +10");
	viewer_free(v);

	/* jitter: each delay in [d, d + jitter) */
	struct viewer_config vc = { .jitter = 0.5 };
	struct got j = { 0 };
	reset();
	v = mk(&vc);
	sub(v, "state", NULL, &expo, NULL, &j);
	good = 1;
	int spread = 0;
	double prev = -1;
	for (int k = 0; k < 7; k++) {
		i = next_call(v);
		if (i < 0)
			break;
		if (k) {
			double d = calls[i].at - prev, base = want[k] - want[k - 1];
			good &= d >= base && d < base + 0.5;
			spread |= d > base;
		}
		prev = calls[i].at;
		answer(i, 0, "E: x", 0);
	}
	ok(good && spread, "jitter 0.5 s: every retry delay in [d, d + 0.5)");
	viewer_free(v);

	/* the most eager subscriber sets the pace of a shared poll */
	struct mpci_poll_policy slow = { .interval = 10 }, fast = { .interval = 2 };
	struct got s1 = { 0 }, s2 = { 0 };
	reset();
	v = mk(NULL);
	sub(v, "state", NULL, NULL, &slow, &s1);
	i = next_call(v);
	answer(i, 1, "v", 1);
	ok(viewer_next_due(v) == 1010, "alone, the slow subscriber polls every 10 s");
	sub(v, "state", NULL, NULL, &fast, &s2);
	ok(viewer_next_due(v) == 1002, "a 2 s subscriber pulls the next poll in");
	viewer_unsubscribe(v, s2.handle);
	viewer_free(v);
}

static void callbacks(void)
{
	struct got a = { 0 }, b = { 0 };
	reset();
	struct viewer *v = mk(NULL);
	sub(v, "state", NULL, NULL, NULL, &a);
	sub(v, "state", NULL, NULL, NULL, &b);
	a.unsubscribe_in_cb = 1;
	int i = next_call(v);
	answer(i, 1, "1", 1);
	ok(a.n == 1 && b.n == 1, "a subscriber that unsubscribes in its callback; the other still served");
	i = next_call(v);
	answer(i, 1, "2", 2);
	ok(a.n == 1 && b.n == 2, "... and hears nothing more");

	b.free_in_cb = 1;
	i = next_call(v);
	answer(i, 1, "3", 3);
	ok(b.n == 3 && b.v == NULL, "viewer_free from inside a delivery (ASan checks the rest)");

	/* one-shot views */
	struct got o = { 0 };
	reset();
	v = mk(NULL);
	struct mpci_view_spec spec = { sizeof(spec), "other.near", "version", NULL, NULL, NULL };
	in_viewer = 1;
	is_int(viewer_view(v, &spec, record, &o), MPCI_OK, "viewer_view accepted");
	in_viewer = 0;
	ok(n_calls == 1 && !strcmp(calls[0].contract, "other.near") && !strcmp(calls[0].method, "version"),
	   "one-shot: one call to the given contract");
	answer(0, 1, "\"3.14.0\"", 77);
	ok(o.n == 1 && o.final[0] && o.ok[0] && o.height[0] == 77 && !strcmp(o.text[0], "\"3.14.0\""),
	   "one-shot: delivered once, final, with the height");
	struct got o2 = { 0 };
	viewer_view(v, &spec, record, &o2);
	viewer_free(v);	/* in flight: cancelled, never delivered */
	is_int(o2.n, 0, "viewer_free drops a one-shot in flight");

	/* bad specs */
	char err[256];
	v = mk(NULL);
	struct mpci_view_spec bad = { sizeof(bad), "Not An Account", "state", NULL, NULL, NULL };
	ok(!viewer_subscribe(v, &bad, record, &o, err, sizeof(err)) && strstr(err, "account id"),
	   "bad contract refused: %s", err);
	bad = (struct mpci_view_spec){ sizeof(bad), NULL, "state", "{nope", NULL, NULL };
	ok(!viewer_subscribe(v, &bad, record, &o, err, sizeof(err)) && strstr(err, "not valid JSON"),
	   "bad args refused: %s", err);
	bad = (struct mpci_view_spec){ sizeof(bad), NULL, "", NULL, NULL, NULL };
	ok(!viewer_subscribe(v, &bad, record, &o, err, sizeof(err)), "empty method refused: %s", err);
	struct mpci_poll_policy neg = { .interval = -1 };
	bad = (struct mpci_view_spec){ sizeof(bad), NULL, "state", NULL, NULL, &neg };
	ok(!viewer_subscribe(v, &bad, record, &o, err, sizeof(err)) && strstr(err, "update policy"),
	   "negative interval refused: %s", err);
	is_int(viewer_view(v, &bad, record, &o), MPCI_ERR_INVAL, "viewer_view: MPCI_ERR_INVAL");
	viewer_free(v);

	struct viewer_config nc = { .contract = NULL, .jitter = -1 };
	char e2[256];
	struct viewer *nv = viewer_new_with(loop, NULL, &nc, NULL, e2, sizeof(e2));
	struct mpci_view_spec ns = { sizeof(ns), NULL, "state", NULL, NULL, NULL };
	ok(nv && !viewer_subscribe(nv, &ns, record, &o, err, sizeof(err)) && strstr(err, "no contract"),
	   "no contract anywhere: refused with a reason (%s)", err);
	viewer_free(nv);
}

static void standing(void)
{
	char path[] = "/tmp/test_viewer_XXXXXX";
	int fd = mkstemp(path);
	const char *text =
		"[near]\ncontract = mpc.test.near\nrpc_urls = http://127.0.0.1:1\n"
		"[view]\nendpoints = state, get_tee_accounts, allowed_foreign_chain_providers/300s\n"
		"retry = fixed\nbackoff_initial = 3s\njitter = 0\n";
	if (write(fd, text, strlen(text)) < 0)
		bail_out("write");
	close(fd);
	struct cfg *cfg;
	struct cfg_error ce;
	char err[512];
	if (cfg_load(&cfg, path, &ce) < 0 || settings_check(cfg, &ce) < 0)
		bail_out("config: %s", cfg_format_error(&ce, err, sizeof(err)));
	reset();
	struct viewer *v = viewer_new(loop, NULL, cfg, reg, err, sizeof(err));
	ok(v != NULL, "viewer from the config");
	viewer_set_backend(v, &(struct viewer_backend){ fake_call, fake_cancel, NULL });
	viewer_set_clock(v, clock_now, NULL);
	is_int(viewer_poll_count(v), 3, "three standing polls from [view] endpoints, no subscriber");
	viewer_run_due(v);
	is_int(n_calls, 3, "all three polled at once");
	for (int i = 0; i < 3; i++)
		answer(i, 1, "x", 10);
	fake_now += 1;
	viewer_run_due(v);
	is_int(n_calls, 5, "after 1 s: state and get_tee_accounts again, not the 300 s one");
	answer(active("state"), 0, "E: x", 0);
	answer(active("get_tee_accounts"), 1, "x", 11);
	struct mpci_poll_policy p0, p1;
	viewer_policy(v, NULL, &p0, &p1);
	ok(p1.retry == MPCI_RETRY_FIXED && p1.backoff_initial == 3 && p1.interval == 1,
	   "defaults from [view]: fixed, 3 s, interval 1 s");
	int i = next_call(v);
	ok(i >= 0 && calls[i].at - fake_now == 0 && !strcmp(calls[i].method, "get_tee_accounts"),
	   "the healthy one is next");
	answer(i, 1, "x", 12);
	int st = -1;
	while (st < 0 && (i = next_call(v)) >= 0)
		for (int k = i; k < n_calls; k++)
			if (!strcmp(calls[k].method, "state"))
				st = k;
			else
				answer(k, 1, "x", 12);
	i = st;
	ok(i >= 0 && fabs(calls[i].at - 1004) < 1e-9,
	   "the failed standing poll retries after the fixed 3 s");
	answer(i, 1, "x", 13);

	/* a subscriber to a standing view gets its value at once */
	struct got g = { 0 };
	sub(v, "state", NULL, NULL, NULL, &g);
	flush();
	ok(g.n == 1 && g.height[0] == 13, "subscriber of a standing view: value at once, with its height (13)");
	viewer_unsubscribe(v, g.handle);
	is_int(viewer_poll_count(v), 3, "standing polls stay without subscribers");
	viewer_free(v);
	cfg_free(cfg);

	fd = open(path, O_WRONLY | O_TRUNC);
	const char *bad = "[near]\ncontract = mpc.test.near\n[view]\nretry = sometimes\n";
	if (write(fd, bad, strlen(bad)) < 0)
		bail_out("write");
	close(fd);
	if (cfg_load(&cfg, path, &ce) < 0 || settings_check(cfg, &ce) < 0)
		bail_out("config: %s", cfg_format_error(&ce, err, sizeof(err)));
	ok(!viewer_new(loop, NULL, cfg, reg, err, sizeof(err)) && strstr(err, ":4: retry:") &&
	   strstr(err, "fail_fast, fixed or exponential"), "bad retry named with file:line: %s", err);
	cfg_free(cfg);

	fd = open(path, O_WRONLY | O_TRUNC);
	const char *bad2 = "[near]\ncontract = mpc.test.near\n"
			   "rpc_urls = http://127.0.0.1:1, ftp://x.example|secret-key\n"
			   "[view]\nendpoints = state, version/soon\n";
	if (write(fd, bad2, strlen(bad2)) < 0)
		bail_out("write");
	close(fd);
	if (cfg_load(&cfg, path, &ce) < 0 || settings_check(cfg, &ce) < 0)
		bail_out("config: %s", cfg_format_error(&ce, err, sizeof(err)));
	ok(viewer_check_config(cfg, err, sizeof(err)) < 0 && strstr(err, ":5: endpoints: 'version/soon'"),
	   "check-config: a bad endpoints item, with file:line: %s", err);
	ok(rpc_check_config(cfg, err, sizeof(err)) < 0 && strstr(err, ":3: rpc_urls: item 2 is not") &&
	   !strstr(err, "secret-key"), "check-config: a bad RPC URL, with file:line, key not shown: %s", err);
	cfg_free(cfg);
	unlink(path);
}

static void metrics_seen(void)
{
	char err[200];
	static const char *const l2[] = { "method", "outcome", NULL };
	struct metric *m = metrics_counter(reg, "mpc_indexer_view_polls_total", "x", l2, err, sizeof(err));
	const char *stale[] = { "state", "stale", NULL }, *okv[] = { "state", "ok", NULL };
	ok(metric_value(m, stale) >= 1 && metric_value(m, okv) >= 10,
	   "mpc_indexer_view_polls_total counts ok and stale polls");
}

int main(void)
{
	loop = ev_default_loop(0);
	reg = metrics_new();
	changes();
	sharing();
	fail_fast();
	backoff();
	callbacks();
	standing();
	metrics_seen();
	metrics_free(reg);
	ev_loop_destroy(loop);
	return done_testing();
}
