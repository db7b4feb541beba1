/* In-process harness for the mpc-node-bridge tests: host + scripted source +
 * socket clients on one loop. */
#include "test_bridge_harness.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "host.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

struct bh_src BH;

/* ---- scripted source ---- */

static void *src_state_subscribe(void *src, const struct mpci_view_spec *spec,
				 provider_view_fn deliver, void *ctx, char *err, size_t n)
{
	if (BH.n_state == 8) {
		snprintf(err, n, "harness: too many state subscriptions");
		return NULL;
	}
	int i = BH.n_state++;
	snprintf(BH.state[i].method, sizeof(BH.state[i].method), "%s", spec->method);
	BH.state[i].deliver = deliver;
	BH.state[i].ctx = ctx;
	return &BH.state[i];
}

static void src_unsubscribe(void *src, void *handle)
{
	if (handle == &BH.sink)
		BH.sink = NULL;
}

static void *src_blocks_subscribe(void *src, const struct mpci_block_sub *sub,
				  const struct provider_block_sink *sink, void *ctx,
				  char *err, size_t n)
{
	BH.sink = sink;
	BH.block_ctx = ctx;
	BH.block_sub = *sub;
	return &BH.sink;
}

static int src_view(void *src, const struct mpci_view_spec *spec, provider_view_fn deliver,
		    void *ctx)
{
	if (BH.n_views == BH_MAX)
		return MPCI_ERR_FULL;
	struct bh_view *v = &BH.views[BH.n_views++];
	v->deliver = deliver;
	v->ctx = ctx;
	snprintf(v->method, sizeof(v->method), "%s", spec->method);
	snprintf(v->args, sizeof(v->args), "%s", spec->args_json ? spec->args_json : "");
	return MPCI_OK;
}

static int src_tx(void *src, const struct mpci_tx_request *req, provider_tx_fn done,
		  void *ctx, uint64_t *id, char *err, size_t n)
{
	if (BH.tx_refuse) {
		snprintf(err, n, "harness refuses");
		return BH.tx_refuse;
	}
	if (BH.n_txs == BH_MAX)
		return MPCI_ERR_FULL;
	struct bh_tx *t = &BH.txs[BH.n_txs++];
	t->done = done;
	t->ctx = ctx;
	t->id = 100 + (uint64_t)BH.n_txs;
	t->wait = req->wait;
	snprintf(t->method, sizeof(t->method), "%s", req->method);
	snprintf(t->args, sizeof(t->args), "%.*s", (int)req->args_len, req->args);
	if (id)
		*id = t->id;
	return MPCI_OK;
}

static void src_status(void *src, struct mpci_status *out)
{
	out->chain_id = "nearsim";
	out->contract = "mpc.test.near";
	out->head_height = BH.head;
	out->final_height = BH.final;
	out->processed_height = BH.head;
	out->following = 1;
}

static const struct provider_ops script_ops = {
	.state_subscribe = src_state_subscribe,
	.state_unsubscribe = src_unsubscribe,
	.view = src_view,
	.blocks_subscribe = src_blocks_subscribe,
	.blocks_unsubscribe = src_unsubscribe,
	.tx_submit = src_tx,
	.status = src_status,
};

static const struct provider_ops status_only_ops = { .status = src_status };

void bh_emit_block(uint64_t height, int n_requests, int n_completions, size_t pad)
{
	struct mpci_request reqs[8];
	struct mpci_completion done[8];
	char ids[16][48], hash[48], prev[48];
	char *args = malloc(pad + 64);
	int alen = snprintf(args, pad + 64, "{\"request\":{\"path\":\"p\",\"pad\":\"%0*d\"}}",
			    (int)pad, 0);
	memset(reqs, 0, sizeof(reqs));
	memset(done, 0, sizeof(done));
	for (int i = 0; i < n_requests && i < 8; i++) {
		snprintf(ids[i], sizeof(ids[i]), "req-%llu-%d", (unsigned long long)height, i);
		reqs[i] = (struct mpci_request){ .struct_size = sizeof(reqs[i]), .kind = i % 3,
						 .id = ids[i], .receipt_id = "user-receipt",
						 .predecessor_id = "user0.test.near",
						 .args = args, .args_len = (size_t)alen,
						 .request = "{\"path\":\"p\"}", .request_len = 12,
						 .domain_id = (uint32_t)i };
		reqs[i].derived[0] = 0xab;
	}
	for (int i = 0; i < n_completions && i < 8; i++) {
		snprintf(ids[8 + i], sizeof(ids[8 + i]), "req-%llu-%d",
			 (unsigned long long)(height - 1), i);
		done[i] = (struct mpci_completion){ .struct_size = sizeof(done[i]), .kind = i % 3,
						    .id = ids[8 + i], .success = 1 };
	}
	snprintf(hash, sizeof(hash), "hash-%llu", (unsigned long long)height);
	snprintf(prev, sizeof(prev), "hash-%llu", (unsigned long long)height - 1);
	if (height > BH.head)
		BH.head = height;
	BH.final = BH.head > 2 ? BH.head - 2 : 0;
	struct mpci_block b = {
		.struct_size = sizeof(b), .height = height, .hash = hash, .prev_hash = prev,
		.last_final_block = prev, .timestamp_nanosec = 1700000000000000000ull + height,
		.status = MPCI_BLOCK_FINAL, .final_height = BH.final, .head_height = BH.head,
		.requests = reqs, .n_requests = (size_t)(n_requests < 8 ? n_requests : 8),
		.completions = done, .n_completions = (size_t)(n_completions < 8 ? n_completions : 8),
	};
	b.entropy[31] = 7;
	if (BH.sink)
		BH.sink->block(BH.block_ctx, &b);
	free(args);
}

void bh_emit_orphaned(uint64_t height)
{
	char hash[48];
	snprintf(hash, sizeof(hash), "hash-%llu", (unsigned long long)height);
	if (BH.sink)
		BH.sink->orphaned(BH.block_ctx, height, hash);
}

void bh_emit_finalized(uint64_t height)
{
	char hash[48];
	snprintf(hash, sizeof(hash), "hash-%llu", (unsigned long long)height);
	if (BH.sink)
		BH.sink->finalized(BH.block_ctx, height, hash);
}

void bh_emit_state(const char *method, const char *value, uint64_t height)
{
	for (int i = 0; i < BH.n_state; i++) {
		if (strcmp(BH.state[i].method, method) != 0)
			continue;
		struct mpci_view_result r = { .struct_size = sizeof(r), .method = method,
					      .ok = 1, .value = value,
					      .value_len = strlen(value), .block_height = height,
					      .block_hash = "state-hash" };
		BH.state[i].deliver(BH.state[i].ctx, &r);
	}
}

/* ---- world ---- */

static const char *plugin_dir(void)
{
	static char dir[512];
	const char *b = getenv("top_builddir");
	snprintf(dir, sizeof(dir), "%s/plugins/mpc-node-bridge/.libs", b ? b : ".");
	return dir;
}

int bh_up(struct bh_world *w, const char *keys)
{
	char path[256], text[8192];
	struct cfg_error err;
	int no_sources = BH.no_sources;

	memset(w, 0, sizeof(*w));
	memset(&BH, 0, sizeof(BH));
	BH.no_sources = no_sources;
	snprintf(w->dir, sizeof(w->dir), "/tmp/mpci-bridge-XXXXXX");
	if (!mkdtemp(w->dir))
		return -100;
	snprintf(w->sock, sizeof(w->sock), "%s/bridge.sock", w->dir);
	snprintf(w->log, sizeof(w->log), "%s/log", w->dir);
	log_open(w->log, LOG_LVL_DEBUG);
	keys = keys ? keys : "";
	if (strncmp(keys, "socket = ", 9) == 0)
		snprintf(text, sizeof(text), "[plugin.mpc-node-bridge]\n%s", keys);
	else
		snprintf(text, sizeof(text), "[plugin.mpc-node-bridge]\nsocket = %s\n%s",
			 w->sock, keys);
	snprintf(path, sizeof(path), "%s/test.conf", w->dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -101;
	fputs(text, f);
	fclose(f);
	if (cfg_load(&w->cfg, path, &err) < 0)
		return -102;
	w->loop = ev_loop_new(EVFLAG_AUTO);
	w->reg = metrics_new();
	w->http = http_client_new(w->loop);
	struct host_opts o = { .loop = w->loop, .cfg = w->cfg, .metrics = w->reg,
			       .http = w->http, .state_dir = w->dir,
			       .plugin_dir = plugin_dir(), .slow_callback = 1 };
	o.provider.ops = no_sources ? &status_only_ops : &script_ops;
	w->host = host_new(&o);
	memset(&err, 0, sizeof(err));
	if (host_load_all(w->host, &err) != HOST_OK)
		return -103;
	int rc = host_start_all(w->host);
	w->started = rc == HOST_OK && host_plugin_count(w->host) == 1;
	return w->started ? 0 : -104;
}

void bh_down(struct bh_world *w)
{
	if (w->host) {
		host_stop_all(w->host);
		for (int i = 0; i < 50; i++)
			ev_run(w->loop, EVRUN_NOWAIT);
		host_free(w->host);
	}
	if (w->http)
		http_client_free(w->http);
	if (w->reg)
		metrics_free(w->reg);
	if (w->cfg)
		cfg_free(w->cfg);
	if (w->loop)
		ev_loop_destroy(w->loop);
	log_close();
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", w->dir);
	if (w->dir[0] && system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", w->dir);
	memset(w, 0, sizeof(*w));
}

int bh_log_has(struct bh_world *w, const char *needle)
{
	static char buf[1 << 20];
	FILE *f = fopen(w->log, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

void bh_pump(struct bh_world *w)
{
	for (int i = 0; i < 4; i++)
		ev_run(w->loop, EVRUN_NOWAIT);
}

/* ---- clients ---- */

int bh_connect(struct bh_client *c, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	c->cap = 1 << 16;
	c->buf = malloc(c->cap);
	return c->buf ? 0 : -1;
}

void bh_close(struct bh_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int bh_send(struct bh_client *c, const char *line)
{
	size_t n = strlen(line), off = 0;
	int spins = 0;
	while (off < n) {
		ssize_t k = send(c->fd, line + off, n - off, MSG_NOSIGNAL);
		if (k < 0 && errno == EAGAIN && spins++ < 1000) {
			struct pollfd p = { .fd = c->fd, .events = POLLOUT };
			poll(&p, 1, 1);
			continue;
		}
		if (k < 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static cJSON *take_line(struct bh_client *c)
{
	char *nl = memchr(c->buf, '\n', c->len);
	if (!nl)
		return NULL;
	*nl = 0;
	cJSON *j = cJSON_Parse(c->buf);
	if (!j)
		j = cJSON_CreateString(c->buf);   /* keep the bytes for the test to see */
	size_t used = (size_t)(nl - c->buf) + 1;
	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
	return j;
}

cJSON *bh_recv(struct bh_world *w, struct bh_client *c, double max_wait)
{
	double until = mono() + max_wait;
	for (;;) {
		cJSON *j = take_line(c);
		if (j)
			return j;
		if (c->eof)
			return NULL;
		ev_run(w->loop, EVRUN_NOWAIT);
		if (c->len == c->cap) {
			char *p = realloc(c->buf, c->cap * 2);
			if (!p)
				return NULL;
			c->buf = p;
			c->cap *= 2;
		}
		ssize_t k = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (k > 0) {
			c->len += (size_t)k;
			continue;
		}
		if (k == 0 || (k < 0 && errno != EAGAIN)) {
			c->eof = 1;
			continue;
		}
		if (mono() > until)
			return NULL;
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		poll(&p, 1, 1);
	}
}

cJSON *bh_call(struct bh_world *w, struct bh_client *c, const char *method, const char *params)
{
	static int id;
	char line[65536];
	snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":%s}\n",
		 ++id, method, params ? params : "{}");
	if (bh_send(c, line) < 0)
		return NULL;
	return bh_recv(w, c, 5);
}

int bh_hello(struct bh_world *w, struct bh_client *c)
{
	cJSON *r = bh_call(w, c, "hello", "{\"version\":1,\"client\":\"test\"}");
	int ok = r && bh_num(r, "result.version") == 1;
	cJSON_Delete(r);
	return ok;
}

int bh_wait_eof(struct bh_world *w, struct bh_client *c, double max_wait)
{
	cJSON *j;
	while ((j = bh_recv(w, c, max_wait)))
		cJSON_Delete(j);
	return c->eof;
}

static const cJSON *walk(const cJSON *o, const char *path)
{
	char key[64];
	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = 0;
		o = cJSON_GetObjectItemCaseSensitive(o, key);
		path += n + (dot ? 1 : 0);
	}
	return o;
}

int bh_err_code(const cJSON *r)
{
	const cJSON *c = walk(r, "error.code");
	return cJSON_IsNumber(c) ? c->valueint : 0;
}

const char *bh_method(const cJSON *m)
{
	const cJSON *v = walk(m, "method");
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double bh_num(const cJSON *o, const char *path)
{
	const cJSON *v = walk(o, path);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

const char *bh_str(const cJSON *o, const char *path)
{
	const cJSON *v = walk(o, path);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}
