/* The plugin host: loading, ABI refusals, init failures, and dispatch of
 * state, block and transaction events from a scripted source to a plugin. */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tap.h"
#include "host.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

static char tmpdir[] = "/tmp/mpci-test-host-XXXXXX";
static char logpath[300];
static const char *plugindir;

/* ---- a scripted event source ---- */

struct script {
	struct ev_loop *loop;
	provider_view_fn state_deliver;
	void *state_ctx;
	const struct provider_block_sink *sink;
	void *block_ctx;
	provider_view_fn view_deliver;
	void *view_ctx;
	provider_tx_fn tx_done;
	void *tx_ctx;
	int unsubscribed;
	ev_timer fire;
	int step;
};

static struct script S;

static void *src_state_subscribe(void *src, const struct mpci_view_spec *spec,
				 provider_view_fn deliver, void *ctx, char *err, size_t n)
{
	S.state_deliver = deliver;
	S.state_ctx = ctx;
	return &S.state_deliver;
}

static void *src_blocks_subscribe(void *src, const struct mpci_block_sub *sub,
				  const struct provider_block_sink *sink, void *ctx,
				  char *err, size_t n)
{
	S.sink = sink;
	S.block_ctx = ctx;
	return &S.sink;
}

static void src_unsubscribe(void *src, void *handle)
{
	S.unsubscribed++;
}

static int src_view(void *src, const struct mpci_view_spec *spec,
		    provider_view_fn deliver, void *ctx)
{
	S.view_deliver = deliver;
	S.view_ctx = ctx;
	return MPCI_OK;
}

static int src_tx(void *src, const struct mpci_tx_request *req, provider_tx_fn done,
		  void *ctx, uint64_t *id, char *err, size_t n)
{
	S.tx_done = done;
	S.tx_ctx = ctx;
	if (id)
		*id = 7;
	return MPCI_OK;
}

static const struct provider_ops script_ops = {
	.state_subscribe = src_state_subscribe,
	.state_unsubscribe = src_unsubscribe,
	.view = src_view,
	.blocks_subscribe = src_blocks_subscribe,
	.blocks_unsubscribe = src_unsubscribe,
	.tx_submit = src_tx,
};

/* Every 20 ms, one more event; then stop the loop. */
static void fire(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mpci_view_result vr = { .struct_size = sizeof(vr), .method = "state",
				       .ok = 1, .value = "\"Running\"", .value_len = 9,
				       .block_height = 10 };
	struct mpci_request reqs[2] = { { .struct_size = sizeof(reqs[0]), .id = "a" },
					{ .struct_size = sizeof(reqs[0]), .id = "b" } };
	struct mpci_completion done = { .struct_size = sizeof(done), .id = "a", .success = 1 };
	struct mpci_block b = { .struct_size = sizeof(b), .height = 11, .hash = "h11",
				.requests = reqs, .n_requests = 2,
				.completions = &done, .n_completions = 1 };
	struct mpci_tx_result tr = { .struct_size = sizeof(tr), .id = 7,
				     .status = MPCI_TX_SUCCEEDED, .hash = "x" };

	switch (S.step++) {
	case 0:
		S.state_deliver(S.state_ctx, &vr);
		break;
	case 1:
		S.sink->block(S.block_ctx, &b);
		break;
	case 2:
		S.sink->orphaned(S.block_ctx, 11, "h11");
		S.sink->finalized(S.block_ctx, 10, "h10");
		break;
	case 3:
		if (S.tx_done)
			S.tx_done(S.tx_ctx, &tr);
		if (S.view_deliver)
			S.view_deliver(S.view_ctx, &vr);
		break;
	default:
		ev_timer_stop(loop, w);
		ev_break(loop, EVBREAK_ALL);
	}
}

/* ---- helpers ---- */

static struct cfg *config(const char *text)
{
	char path[400];
	struct cfg *c;
	struct cfg_error err;
	snprintf(path, sizeof(path), "%s/test.conf", tmpdir);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	if (cfg_load(&c, path, &err) < 0) {
		char m[600];
		bail_out("config: %s", cfg_format_error(&err, m, sizeof(m)));
	}
	return c;
}

static int log_has(const char *needle)
{
	char buf[65536];
	FILE *f = fopen(logpath, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

static double events(struct metrics *reg, const char *kind)
{
	char err[200];
	static const char *const l[] = { "kind", NULL };
	struct metric *m = metrics_counter(reg, "test_recorder_events_total", "",
					   l, err, sizeof(err));
	const char *v[] = { kind, NULL };
	return m ? metric_value(m, v) : -1;
}

struct world {
	struct ev_loop *loop;
	struct metrics *reg;
	struct http_client *http;
	struct cfg *cfg;
	struct host *host;
};

static void world_up(struct world *w, const char *plugins_text)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s", plugins_text);
	w->loop = ev_loop_new(EVFLAG_AUTO);
	w->reg = metrics_new();
	w->http = http_client_new(w->loop);
	w->cfg = config(text);
	struct host_opts o = { .loop = w->loop, .cfg = w->cfg, .metrics = w->reg,
			       .http = w->http, .state_dir = tmpdir,
			       .plugin_dir = plugindir, .slow_callback = 1 };
	o.provider.ops = &script_ops;
	w->host = host_new(&o);
}

static void world_down(struct world *w)
{
	host_free(w->host);
	http_client_free(w->http);
	metrics_free(w->reg);
	cfg_free(w->cfg);
	ev_loop_destroy(w->loop);
}

static enum host_rc load(struct world *w, struct cfg_error *err)
{
	memset(err, 0, sizeof(*err));
	return host_load_all(w->host, err);
}

/* ---- tests ---- */

static void test_refusals(void)
{
	struct world w;
	struct cfg_error err;

	world_up(&w, "[plugin.abi_bad_major]\n[plugin.abi_newer_minor]\n");
	is_int(load(&w, &err), HOST_OK, "optional plugins with a wrong ABI are skipped");
	is_int(host_plugin_count(w.host), 0, "neither of them is loaded");
	char want[200];
	snprintf(want, sizeof(want), "built for plugin ABI 2.0 but this host speaks 1.%d",
		 MPCI_ABI_MINOR);
	ok(log_has(want), "major mismatch: the message names both versions");
	snprintf(want, sizeof(want), "needs plugin ABI 1.%d but this host offers only 1.%d",
		 MPCI_ABI_MINOR + 1, MPCI_ABI_MINOR);
	ok(log_has(want), "newer minor: the message names both versions");
	world_down(&w);

	world_up(&w, "[plugin.abi_older_minor]\nrequired = yes\n");
	is_int(load(&w, &err), HOST_OK, "a plugin built for an older minor ABI loads");
	is_int(host_start_all(w.host), HOST_OK, "and starts");
	snprintf(want, sizeof(want), "an ABI 1.%d plugin runs", MPCI_ABI_MINOR - 1);
	ok(log_has(want), "its init ran");
	host_stop_all(w.host);
	world_down(&w);

	world_up(&w, "[plugin.abi_bad_major]\nrequired = yes\n");
	is_int(load(&w, &err), HOST_FATAL, "a required plugin with a wrong ABI is fatal");
	world_down(&w);

	world_up(&w, "[plugin.nosuch]\n");
	is_int(load(&w, &err), HOST_OK, "a missing optional plugin is skipped");
	ok(log_has("nosuch") && log_has("cannot open it"), "and the log says it cannot be opened");
	world_down(&w);

	world_up(&w, "[plugin.recorder]\ntick = 10ms\nbogus = 1\n");
	is_int(load(&w, &err), HOST_CONFIG, "an unknown key in a plugin section is a config error");
	is_int(err.line, 3, "the error names the line");
	is_str(err.key, "bogus", "and the key");
	world_down(&w);

	world_up(&w, "[plugin.recorder]\ntick = soon\n");
	is_int(load(&w, &err), HOST_CONFIG, "a bad value of a declared key is a config error");
	is_int(err.line, 2, "the error names its line");
	world_down(&w);
}

static void test_init_failure(void)
{
	struct world w;
	struct cfg_error err;

	world_up(&w, "[plugin.init_fails]\n[plugin.recorder]\n");
	is_int(load(&w, &err), HOST_OK, "both plugins load");
	is_int(host_plugin_count(w.host), 2, "two plugins loaded");
	is_int(host_start_all(w.host), HOST_OK, "an optional plugin failing init is not fatal");
	is_int(host_plugin_count(w.host), 1, "it was unloaded");
	is_str(host_plugin_name(w.host, 0), "recorder", "the other one runs");
	ok(log_has("plugin init_fails: init failed"), "the log says which plugin failed");
	host_stop_all(w.host);
	world_down(&w);

	world_up(&w, "[plugin.init_fails]\nrequired = true\n");
	is_int(load(&w, &err), HOST_OK, "a required plugin loads");
	is_int(host_start_all(w.host), HOST_FATAL, "and its failing init is fatal");
	ok(log_has("required plugin init_fails: init failed"), "the log says so");
	world_down(&w);
}

static void test_dispatch(void)
{
	struct world w;
	struct cfg_error err;

	memset(&S, 0, sizeof(S));
	world_up(&w, "[plugin.recorder]\ntick = 5ms\nlabel = x\n");
	is_int(load(&w, &err), HOST_OK, "recorder loads");
	is_int(host_start_all(w.host), HOST_OK, "recorder starts");
	ok(S.state_deliver && S.sink, "its subscriptions reached the source");
	ev_timer_init(&S.fire, fire, 0.02, 0.02);
	ev_timer_start(w.loop, &S.fire);
	ev_run(w.loop, 0);

	is_int(events(w.reg, "state"), 1, "the state change was delivered once");
	is_int(events(w.reg, "block"), 1, "the block was delivered");
	is_int(events(w.reg, "request"), 2, "with its two requests");
	is_int(events(w.reg, "completion"), 1, "and its completion");
	is_int(events(w.reg, "orphaned"), 1, "orphaned was delivered");
	is_int(events(w.reg, "finalized"), 1, "finalized was delivered");
	is_int(events(w.reg, "tx_ok"), 1, "the transaction outcome reached the plugin");
	is_int(events(w.reg, "view"), 1, "the one-shot view answered");
	is_int(events(w.reg, "post"), 1, "a post from the plugin's thread ran on the loop");
	ok(events(w.reg, "timer") >= 1, "its timer fired");
	is_int(events(w.reg, "self_stop"), 1, "a timer stopped from its own callback fires once, safely");
	is_int(events(w.reg, "fd"), 1, "an fd watch removed from its own callback fires once, safely");

	char e[100];
	static const double b[] = { 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1 };
	static const char *const l[] = { "plugin", "callback", NULL };
	struct metric *cbs = metrics_histogram(w.reg, "mpc_indexer_plugin_callback_seconds",
					       "", l, b, 11, e, sizeof(e));
	const char *v[] = { "recorder", "block", NULL };
	is_int(metric_count(cbs, v), 1, "the block callback was timed");

	host_stop_all(w.host);
	is_int(events(w.reg, "stop"), 1, "stop ran");
	struct metrics *reg = w.reg;
	w.reg = NULL;
	host_free(w.host);
	w.host = NULL;
	is_int(events(reg, "ud_free"), 2, "each subscription's user data was freed once");
	is_int(S.unsubscribed, 2, "both subscriptions were ended at the source, one from its own callback");
	metrics_free(reg);
	world_down(&w);
}

/* ---- HTTP response headers reach plugins (ABI 1.1) ---- */

struct one_shot {
	int fd;
	pthread_t thread;
};

/* Answers one request on a loopback port, as a PCCS sends an issuer chain. */
static void *one_shot_serve(void *arg)
{
	struct one_shot *o = arg;
	char buf[4096];
	size_t have = 0;
	int c = accept(o->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	while (have < sizeof(buf) - 1) {
		ssize_t r = recv(c, buf + have, sizeof(buf) - 1 - have, 0);
		if (r <= 0)
			break;
		have += (size_t)r;
		buf[have] = 0;
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	const char *res = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
			  "SGX-PCK-CRL-Issuer-Chain: -----BEGIN%20CERTIFICATE-----%0A\r\n"
			  "X-Twice: one\r\nx-twice: two\r\n\r\nok";
	if (send(c, res, strlen(res), MSG_NOSIGNAL) < 0)
		diag("one-shot server: send failed");
	close(c);
	return NULL;
}

static int one_shot_start(struct one_shot *o)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	o->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (o->fd < 0 || bind(o->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(o->fd, 4) < 0 || getsockname(o->fd, (struct sockaddr *)&a, &alen) < 0 ||
	    pthread_create(&o->thread, NULL, one_shot_serve, o) != 0)
		bail_out("one-shot server: %s", strerror(errno));
	return ntohs(a.sin_port);
}

static void logged_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	static int ticks;	/* a hang guard of 60 s, not a speed assertion */
	if (log_has("http_headers: response ") || ++ticks > 6000)
		ev_break(loop, EVBREAK_ALL);
}

static void test_http_headers(void)
{
	struct world w;
	struct cfg_error err;
	struct one_shot srv;
	char conf[200];
	int port = one_shot_start(&srv);

	snprintf(conf, sizeof(conf), "[plugin.http_headers]\nurl = http://127.0.0.1:%d/x\n", port);
	world_up(&w, conf);
	is_int(load(&w, &err), HOST_OK, "http_headers loads");
	is_int(host_start_all(w.host), HOST_OK, "and starts its request");
	ev_timer poll;
	ev_timer_init(&poll, logged_cb, 0.01, 0.01);
	ev_timer_start(w.loop, &poll);
	ev_run(w.loop, 0);
	ev_timer_stop(w.loop, &poll);
	ok(log_has("response 200: 5 headers [Content-Length=2|Connection=close|"
		   "SGX-PCK-CRL-Issuer-Chain=-----BEGIN%20CERTIFICATE-----%0A|X-Twice=one|"
		   "x-twice=two]"), "the plugin sees the response headers, names as sent, in order");
	ok(log_has("chain=-----BEGIN%20CERTIFICATE-----%0A "),
	   "mpci_http_response_header finds a name in another case");
	ok(log_has("twice=one ") && log_has("absent=(null)"),
	   "the first of a repeated header; NULL for an absent one");
	host_stop_all(w.host);
	world_down(&w);
	pthread_join(srv.thread, NULL);
	close(srv.fd);
}

int main(void)
{
	plugindir = getenv("MPCI_TEST_PLUGINDIR");
	if (!plugindir)
		bail_out("MPCI_TEST_PLUGINDIR is not set (run through make check)");
	if (!mkdtemp(tmpdir))
		bail_out("mkdtemp");
	snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
	log_open(logpath, LOG_LVL_DEBUG);
	test_refusals();
	test_init_failure();
	test_dispatch();
	test_http_headers();
	log_close();
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
