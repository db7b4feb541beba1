/* mpc-node-bridge: the indexer API for an MPC node (or any program) in
 * another process, over a local socket.  This file is the plugin: its
 * configuration, lifecycle, listening sockets and the core's callbacks. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "msg.h"
#include "render.h"

/* ---- small helpers ---- */

void bridge_count_disconnect(struct bridge *br, const char *reason)
{
	const char *v[] = { reason, NULL };
	br->api->metric_add(br->m_disconnects, v, 1);
}

static void make_run_id(char out[17])
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() << 32;
	snprintf(out, 17, "%016llx", (unsigned long long)r);
}

static void update_ring_gauges(struct bridge *br)
{
	br->api->metric_set(br->m_ring_updates, NULL, (double)br->ring.n);
	br->api->metric_set(br->m_ring_bytes, NULL, (double)br->ring.bytes);
}

/* ---- the core's callbacks ---- */

/* A block update could not be rendered: the stream has a hole.  Make it
 * loud: drop every block subscriber and start a new run, so that no resume
 * can silently step over the missing update. */
static void stream_broken(struct bridge *br, const char *what, uint64_t height)
{
	br->api->log(br->self, MPCI_LOG_ERROR,
		     "out of memory rendering %s %llu: block subscribers are disconnected "
		     "and the replay ring restarts", what, (unsigned long long)height);
	struct bclient *next;
	for (struct bclient *c = br->clients; c; c = next) {
		next = c->next;
		if (c->blocks_on) {
			client_close(c, "internal", "the bridge lost a block update (out of memory)");
			client_flush(c);
		}
	}
	size_t cap = br->ring.cap, max = br->ring.max_bytes;
	ring_free(&br->ring);
	if (ring_init(&br->ring, cap, max) < 0)
		br->ring.cap = 0;       /* pushes are refused below */
	make_run_id(br->run_id);
}

static void push_update(struct bridge *br, struct bmsg *m, const char *what, uint64_t height)
{
	bridge_reap(br);
	if (!m || !br->ring.v) {
		bmsg_unref(m);
		stream_broken(br, what, height);
		return;
	}
	struct bclient *next;
	uint64_t bound = ring_evict_bound(&br->ring, m->len);
	if (bound > ring_oldest_seq(&br->ring))
		for (struct bclient *c = br->clients; c; c = next) {
			next = c->next;
			client_before_evict(c, bound);
		}
	ring_push(&br->ring, m);
	br->api->metric_add(br->m_block_msgs, NULL, 1);
	for (struct bclient *c = br->clients; c; c = next) {
		next = c->next;
		if (c->blocks_on)
			client_on_update(c);
	}
}

static void on_block(const struct mpci_block *b, void *ud)
{
	struct bridge *br = ud;
	push_update(br, render_block(b, br->ring.next_seq), "block", b->height);
}

static void on_orphaned(uint64_t height, const char *hash, void *ud)
{
	struct bridge *br = ud;
	push_update(br, render_orphaned(br->ring.next_seq, height, hash), "orphaned", height);
}

static void on_finalized(uint64_t height, const char *hash, void *ud)
{
	struct bridge *br = ud;
	push_update(br, render_finalized(br->ring.next_seq, height, hash), "finalized", height);
}

static void on_state(const struct mpci_view_result *r, void *ud)
{
	struct endpoint *ep = ud;
	struct bridge *br = ep->br;
	size_t idx = (size_t)(ep - br->endpoints);
	bridge_reap(br);
	struct bmsg *m = render_state(ep->method, r);
	if (!m) {
		br->api->log(br->self, MPCI_LOG_ERROR,
			     "out of memory rendering state %s: its subscribers are disconnected",
			     ep->method);
	}
	bmsg_unref(ep->current);
	ep->current = m;
	ep->ended = r->final;
	struct bclient *next;
	for (struct bclient *c = br->clients; c; c = next) {
		next = c->next;
		if (!c->state_on || !c->state_on[idx])
			continue;
		if (m)
			client_send(c, m);
		else
			client_close(c, "internal", "the bridge lost a state change (out of memory)");
		client_flush(c);
	}
}

/* ---- listening ---- */

static void on_unix_accept(int fd, int revents, void *ud)
{
	struct bridge *br = ud;
	bridge_reap(br);
	if (client_accept(br, fd, 0) < 0)
		br->api->log(br->self, MPCI_LOG_WARN, "accept: %s", strerror(errno));
}

static void on_tcp_accept(int fd, int revents, void *ud)
{
	struct bridge *br = ud;
	bridge_reap(br);
	if (client_accept(br, fd, 1) < 0)
		br->api->log(br->self, MPCI_LOG_WARN, "accept (tcp): %s", strerror(errno));
}

static void close_listeners(struct bridge *br)
{
	if (br->ul_watch && !br->handles_gone)
		br->api->fd_unwatch(br->ul_watch);
	br->ul_watch = NULL;
	listen_unix_close(&br->ul);
	if (br->tcp_watch && !br->handles_gone)
		br->api->fd_unwatch(br->tcp_watch);
	br->tcp_watch = NULL;
	if (br->tcp_fd >= 0)
		close(br->tcp_fd);
	br->tcp_fd = -1;
}

static void housekeeping(void *ud)
{
	struct bridge *br = ud;
	double now = br->api->now(br->self);
	struct bclient *next;
	bridge_reap(br);
	for (struct bclient *c = br->clients; c; c = next) {
		next = c->next;
		client_housekeeping(c, now);
	}
	update_ring_gauges(br);
}

/* ---- configuration ---- */

static const struct mpci_config_key keys[] = {
	{ "socket", MPCI_CFG_PATH, NULL,
	  "Unix socket path (default STATE_DIR/mpc-node-bridge.sock)" },
	{ "socket_mode", MPCI_CFG_STR, "0600", "permissions of the socket file (octal)" },
	{ "socket_group", MPCI_CFG_STR, NULL, "group of the socket file (name or gid)" },
	{ "tcp_listen", MPCI_CFG_STR, NULL, "also listen on TCP, HOST:PORT on loopback only" },
	{ "port_file", MPCI_CFG_PATH, NULL, "write the bound TCP port here" },
	{ "check_uid", MPCI_CFG_BOOL, "yes",
	  "Unix clients must run as the daemon's uid or one of allowed_uids" },
	{ "allowed_uids", MPCI_CFG_LIST, NULL, "more uids (numbers or user names) for check_uid" },
	{ "max_clients", MPCI_CFG_UINT, "64", "connections at once" },
	{ "max_line", MPCI_CFG_SIZE, "1M", "longest request line" },
	{ "max_pending", MPCI_CFG_SIZE, "4M", "output queued per client" },
	{ "max_inflight", MPCI_CFG_UINT, "64", "views and transactions in flight per client" },
	{ "max_errors", MPCI_CFG_UINT, "16", "invalid requests before a client is dropped" },
	{ "ring_size", MPCI_CFG_UINT, "4096", "block updates kept for replay" },
	{ "ring_bytes", MPCI_CFG_SIZE, "256M", "bytes of block updates kept for replay" },
	{ "hello_timeout", MPCI_CFG_DURATION, "10s", "time to send hello" },
	{ "close_timeout", MPCI_CFG_DURATION, "30s",
	  "a closing client that reads nothing for this long is dropped without its final message" },
	{ "allow_tx", MPCI_CFG_BOOL, "yes", "clients may send transactions" },
	{ "from_height", MPCI_CFG_UINT, "0",
	  "first height of the bridge's block subscription (0 = the daemon's cursor)" },
	{ "state_methods", MPCI_CFG_LIST, "state", "contract view methods clients can subscribe to" },
	{ "filters", MPCI_CFG_LIST, NULL,
	  "receipt filters: receiver:ACCOUNT[:METHOD] or executor_promise:ACCOUNT[:METHOD]" },
	{ NULL, 0, NULL, NULL },
};

static int cfg_uint(struct bridge *br, const char *key, size_t *out, size_t min)
{
	int64_t v;
	int rc = br->api->config_int(br->self, key, &v);
	if (rc == MPCI_ERR_NOTFOUND)
		return 0;
	if (rc != MPCI_OK || v < (int64_t)min) {
		br->api->log(br->self, MPCI_LOG_ERROR, "%s: %s must be an integer >= %zu",
			     br->api->config_where(br->self, key), key, min);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

static int cfg_bytes(struct bridge *br, const char *key, size_t *out, size_t min)
{
	double v;
	if (br->api->config_double(br->self, key, &v) != MPCI_OK || v < (double)min ||
	    v > (double)(SIZE_MAX / 4)) {
		br->api->log(br->self, MPCI_LOG_ERROR, "%s: %s must be a size of at least %zu bytes",
			     br->api->config_where(br->self, key), key, min);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

static int cfg_secs(struct bridge *br, const char *key, double *out)
{
	if (br->api->config_double(br->self, key, out) != MPCI_OK || *out <= 0) {
		br->api->log(br->self, MPCI_LOG_ERROR, "%s: %s must be a positive duration",
			     br->api->config_where(br->self, key), key);
		return -1;
	}
	return 0;
}

static int cfg_flag(struct bridge *br, const char *key, int *out)
{
	if (br->api->config_bool(br->self, key, out) != MPCI_OK) {
		br->api->log(br->self, MPCI_LOG_ERROR, "%s: %s must be yes or no",
			     br->api->config_where(br->self, key), key);
		return -1;
	}
	return 0;
}

static int read_config(struct bridge *br)
{
	const struct mpci_host_api *api = br->api;
	struct bridge_cfg *cfg = &br->cfg;
	const char *s;

	*cfg = (struct bridge_cfg){
		.socket_mode = 0600, .check_uid = 1, .max_clients = 64, .max_line = 1 << 20,
		.max_pending = 4 << 20, .max_inflight = 64, .max_errors = 16,
		.ring_size = 4096, .ring_bytes = (size_t)256 << 20, .hello_timeout = 10,
		.close_timeout = 30, .allow_tx = 1,
	};
	s = api->config_str(br->self, "socket");
	if (s) {
		if (strlen(s) >= sizeof(cfg->socket_path)) {
			api->log(br->self, MPCI_LOG_ERROR, "%s: socket path longer than %zu bytes",
				 api->config_where(br->self, "socket"), sizeof(cfg->socket_path) - 1);
			return -1;
		}
		snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s", s);
	} else {
		const char *dir = api->state_dir(br->self);
		int n = snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s/mpc-node-bridge.sock",
				 dir ? dir : ".");
		if (n < 0 || (size_t)n >= sizeof(cfg->socket_path)) {
			api->log(br->self, MPCI_LOG_ERROR,
				 "the default socket path under the state directory is too long; "
				 "set socket = PATH");
			return -1;
		}
	}
	s = api->config_str(br->self, "socket_mode");
	if (s) {
		char *end;
		unsigned long m = strtoul(s, &end, 8);
		if (!*s || *end || m > 0777) {
			api->log(br->self, MPCI_LOG_ERROR, "%s: socket_mode '%s' is not an octal mode",
				 api->config_where(br->self, "socket_mode"), s);
			return -1;
		}
		cfg->socket_mode = (unsigned)m;
	}
	cfg->socket_group = api->config_str(br->self, "socket_group");
	cfg->tcp_listen = api->config_str(br->self, "tcp_listen");
	cfg->port_file = api->config_str(br->self, "port_file");
	if (cfg_flag(br, "check_uid", &cfg->check_uid) < 0 ||
	    cfg_flag(br, "allow_tx", &cfg->allow_tx) < 0 ||
	    cfg_uint(br, "max_clients", &cfg->max_clients, 1) < 0 ||
	    cfg_bytes(br, "max_line", &cfg->max_line, 256) < 0 ||
	    cfg_bytes(br, "max_pending", &cfg->max_pending, 4096) < 0 ||
	    cfg_uint(br, "max_inflight", &cfg->max_inflight, 1) < 0 ||
	    cfg_uint(br, "max_errors", &cfg->max_errors, 0) < 0 ||
	    cfg_uint(br, "ring_size", &cfg->ring_size, 4) < 0 ||
	    cfg_bytes(br, "ring_bytes", &cfg->ring_bytes, 65536) < 0 ||
	    cfg_secs(br, "hello_timeout", &cfg->hello_timeout) < 0 ||
	    cfg_secs(br, "close_timeout", &cfg->close_timeout) < 0)
		return -1;
	size_t fh = 0;
	if (cfg_uint(br, "from_height", &fh, 0) < 0)
		return -1;
	cfg->from_height = fh;

	for (size_t i = 0; api->config_list(br->self, "allowed_uids", i); i++) {
		const char *u = api->config_list(br->self, "allowed_uids", i);
		uid_t *v = realloc(cfg->allowed_uids, (i + 1) * sizeof(*v));
		if (!v)
			return -1;
		cfg->allowed_uids = v;
		char *end;
		unsigned long n = strtoul(u, &end, 10);
		if (*u && !*end) {
			v[i] = (uid_t)n;
		} else {
			char buf[4096];
			struct passwd pw, *pp = NULL;
			if (getpwnam_r(u, &pw, buf, sizeof(buf), &pp) != 0 || !pp) {
				api->log(br->self, MPCI_LOG_ERROR, "%s: allowed_uids: no user '%s'",
					 api->config_where(br->self, "allowed_uids"), u);
				return -1;
			}
			v[i] = pp->pw_uid;
		}
		cfg->n_allowed_uids = i + 1;
	}
	return 0;
}

static int read_filters(struct bridge *br)
{
	const struct mpci_host_api *api = br->api;
	size_t n = 0;
	while (api->config_list(br->self, "filters", n))
		n++;
	if (!n)
		return 0;
	br->filters = calloc(n, sizeof(*br->filters));
	br->filter_strs = calloc(n, sizeof(*br->filter_strs));
	if (!br->filters || !br->filter_strs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char *s = strdup(api->config_list(br->self, "filters", i));
		if (!s)
			return -1;
		br->filter_strs[i] = s;
		br->n_filters = i + 1;
		char *acct = strchr(s, ':');
		char *method = acct ? strchr(acct + 1, ':') : NULL;
		if (acct)
			*acct++ = 0;
		if (method)
			*method++ = 0;
		int kind = strcmp(s, "receiver") == 0 ? MPCI_FILTER_RECEIVER :
			   strcmp(s, "executor_promise") == 0 ? MPCI_FILTER_EXECUTOR_PROMISE : -1;
		if (kind < 0 || !acct || !*acct || (method && !*method)) {
			api->log(br->self, MPCI_LOG_ERROR,
				 "%s: filter %zu: expected receiver:ACCOUNT[:METHOD] or "
				 "executor_promise:ACCOUNT[:METHOD]",
				 api->config_where(br->self, "filters"), i + 1);
			return -1;
		}
		br->filters[i] = (struct mpci_filter){ .kind = kind, .account = acct,
						       .method = method };
	}
	return 0;
}

/* ---- lifecycle ---- */

static void teardown(struct bridge *br)
{
	while (br->clients)
		client_destroy(br->clients);
	bridge_reap(br);
	while (br->ops.next != &br->ops) {
		struct bop *op = br->ops.next;
		op->prev->next = op->next;
		op->next->prev = op->prev;
		free(op->id_json);
		free(op);
	}
	close_listeners(br);
	if (br->housekeeping && !br->handles_gone)
		br->api->timer_stop(br->housekeeping);
	if (br->blocks_sub && !br->handles_gone)
		br->api->unsubscribe(br->blocks_sub);
	for (size_t i = 0; i < br->n_endpoints; i++) {
		if (br->endpoints[i].sub && !br->handles_gone)
			br->api->unsubscribe(br->endpoints[i].sub);
		bmsg_unref(br->endpoints[i].current);
		free(br->endpoints[i].method);
	}
	free(br->endpoints);
	ring_free(&br->ring);
	for (size_t i = 0; i < br->n_filters; i++)
		free(br->filter_strs[i]);
	free(br->filter_strs);
	free(br->filters);
	free(br->cfg.allowed_uids);
	free(br);
}

static int subscribe_sources(struct bridge *br)
{
	const struct mpci_host_api *api = br->api;
	size_t n = 0;
	while (api->config_list(br->self, "state_methods", n))
		n++;
	if (n) {
		br->endpoints = calloc(n, sizeof(*br->endpoints));
		if (!br->endpoints)
			return -1;
	}
	br->have_state = n > 0;
	for (size_t i = 0; i < n; i++) {
		struct endpoint *ep = &br->endpoints[i];
		const char *m = api->config_list(br->self, "state_methods", i);
		if (strlen(m) > 256 || !(ep->method = strdup(m)))
			return -1;
		ep->br = br;
		br->n_endpoints = i + 1;
		struct mpci_view_spec spec = { .struct_size = sizeof(spec), .method = ep->method };
		int rc = api->subscribe_state(br->self, &spec, on_state, ep, NULL, &ep->sub);
		if (rc == MPCI_ERR_UNSUPPORTED) {
			br->have_state = 0;
			break;
		}
		if (rc != MPCI_OK) {
			api->log(br->self, MPCI_LOG_ERROR, "cannot follow state method '%s' (%d)",
				 ep->method, rc);
			return -1;
		}
	}
	if (!br->have_state && n)
		api->log(br->self, MPCI_LOG_WARN,
			 "this indexer has no state viewer: subscribe_state is unavailable");

	struct mpci_block_sub sub = { .struct_size = sizeof(sub),
				      .from_height = br->cfg.from_height,
				      .filters = br->filters, .n_filters = br->n_filters };
	struct mpci_block_handlers h = { .struct_size = sizeof(h), .block = on_block,
					 .orphaned = on_orphaned, .finalized = on_finalized };
	int rc = api->subscribe_blocks(br->self, &sub, &h, br, NULL, &br->blocks_sub);
	if (rc == MPCI_ERR_UNSUPPORTED) {
		api->log(br->self, MPCI_LOG_WARN,
			 "this indexer has no block stream: subscribe_blocks is unavailable");
	} else if (rc != MPCI_OK) {
		api->log(br->self, MPCI_LOG_ERROR, "cannot subscribe to blocks (%d)", rc);
		return -1;
	} else {
		br->have_blocks = 1;
	}
	return 0;
}

static int open_listeners(struct bridge *br)
{
	const struct mpci_host_api *api = br->api;
	char err[512];
	int stale = 0;
	if (listen_unix(&br->ul, br->cfg.socket_path, br->cfg.socket_mode, br->cfg.socket_group,
			&stale, err, sizeof(err)) < 0) {
		api->log(br->self, MPCI_LOG_ERROR, "%s", err);
		return -1;
	}
	if (stale)
		api->log(br->self, MPCI_LOG_INFO, "removed a stale socket at %s", br->cfg.socket_path);
	br->ul_watch = api->fd_watch(br->self, br->ul.fd, 1, on_unix_accept, br);
	if (!br->ul_watch)
		return -1;
	api->log(br->self, MPCI_LOG_INFO, "listening on %s (mode %04o%s)", br->cfg.socket_path,
		 br->cfg.socket_mode, br->cfg.check_uid ? ", uid checked" : "");
	if (br->cfg.tcp_listen) {
		br->tcp_fd = listen_tcp_loopback(br->cfg.tcp_listen, &br->tcp_port, err, sizeof(err));
		if (br->tcp_fd < 0) {
			api->log(br->self, MPCI_LOG_ERROR, "%s", err);
			return -1;
		}
		br->tcp_watch = api->fd_watch(br->self, br->tcp_fd, 1, on_tcp_accept, br);
		if (!br->tcp_watch)
			return -1;
		api->log(br->self, MPCI_LOG_INFO, "listening on tcp %s (port %d)%s",
			 br->cfg.tcp_listen, br->tcp_port,
			 br->cfg.check_uid ? "; TCP clients cannot be uid-checked" : "");
		if (br->cfg.port_file) {
			FILE *f = fopen(br->cfg.port_file, "w");
			if (!f || fprintf(f, "%d\n", br->tcp_port) < 0 || fclose(f) != 0) {
				api->log(br->self, MPCI_LOG_ERROR, "cannot write port_file %s",
					 br->cfg.port_file);
				return -1;
			}
		}
	}
	return 0;
}

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	static const char *const reason[] = { "reason", NULL };
	static const char *const method[] = { "method", NULL };
	struct bridge *br = calloc(1, sizeof(*br));
	if (!br)
		return MPCI_ERR_NOMEM;
	br->api = api;
	br->self = self;
	br->ul.fd = -1;
	br->tcp_fd = -1;
	br->ops.next = br->ops.prev = &br->ops;
	make_run_id(br->run_id);
	br->m_clients = api->metric_gauge(self, "mpc_indexer_bridge_clients",
					  "Clients connected to the bridge.", NULL);
	br->m_disconnects = api->metric_counter(self, "mpc_indexer_bridge_disconnects_total",
						"Bridge clients dropped or refused, by reason.",
						reason);
	br->m_requests = api->metric_counter(self, "mpc_indexer_bridge_requests_total",
					     "Bridge requests by method.", method);
	br->m_block_msgs = api->metric_counter(self, "mpc_indexer_bridge_block_updates_total",
					       "Block updates rendered for bridge clients.", NULL);
	br->m_ring_updates = api->metric_gauge(self, "mpc_indexer_bridge_ring_updates",
					       "Block updates held for replay.", NULL);
	br->m_ring_bytes = api->metric_gauge(self, "mpc_indexer_bridge_ring_bytes",
					     "Bytes of block updates held for replay.", NULL);
	if (read_config(br) < 0 || read_filters(br) < 0 ||
	    ring_init(&br->ring, br->cfg.ring_size, br->cfg.ring_bytes) < 0 ||
	    subscribe_sources(br) < 0 || open_listeners(br) < 0 ||
	    !(br->housekeeping = api->timer_start(self, 1, 1, housekeeping, br))) {
		teardown(br);
		return MPCI_ERR;
	}
	*state = br;
	return MPCI_OK;
}

static void stop(void *state)
{
	struct bridge *br = state;
	br->stopping = 1;
	close_listeners(br);
	struct bclient *next;
	for (struct bclient *c = br->clients; c; c = next) {
		next = c->next;
		client_close(c, "shutdown", "the indexer is shutting down");
		client_flush(c);
	}
}

/* The host ends every registration (timers, watches, subscriptions, pending
 * views and transactions) before fini: free memory and fds, call nothing. */
static void fini(void *state)
{
	struct bridge *br = state;
	br->handles_gone = 1;
	teardown(br);
}

static const struct mpci_plugin_desc desc = {
	MPCI_DESC_HEADER,
	.name = "mpc-node-bridge",
	.version = BRIDGE_VERSION,
	.description = "the indexer API for an MPC node in another process, over a local socket",
	.config = keys,
	.init = init,
	.stop = stop,
	.fini = fini,
};

MPCI_PLUGIN(desc)
