/* prometheus-monitor: the indexer as the best-informed monitor of an MPC
 * deployment.  It exposes, on a small HTTP server on the host loop,
 *   /metrics  every family of the host registry (core and plugins), its own
 *             pipeline, contract and MPC traffic series, process_* and
 *             build info, in the Prometheus text format 0.0.4;
 *   /healthz  200 while the indexer follows the chain within the configured
 *             lag, 503 and the reason otherwise;
 *   /families every registered family, with or without samples;
 *   /         a short index.
 * Only the public plugin header is used. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attest.h"
#include "contract_metrics.h"
#include "expo.h"
#include "health.h"
#include "httpd.h"
#include "mpc-indexer/plugin.h"
#include "pbuf.h"
#include "procstat.h"
#include "traffic.h"

#ifndef PROM_VERSION
#define PROM_VERSION "0.0.0"
#endif

struct view_sub {
	struct mon *m;
	int which;
};

struct mon {
	const struct mpci_host_api *api;
	mpci_plugin *self;
	struct httpd *http;
	struct procstat ps;
	struct traffic *traffic;
	struct cmetrics *cm;
	struct attest *attest;
	struct health_cfg hc;
	struct view_sub views[CMETRICS_N_VIEWS];
	int have_blocks, process_metrics;
	double started, last_block_at;
	uint64_t blocks, processed;
	size_t last_size;
	char listen[200];
	/* pipeline: the block stream's families, kept here only when the host
	 * does not (NULL when it does) */
	mpci_metric *m_processed_total, *m_final_total, *m_orphaned, *m_processed,
		*m_head, *m_final, *m_lag_blocks, *m_lag_seconds;
	/* the monitor's own */
	mpci_metric *m_following, *m_healthy, *m_build, *m_scrape, *m_conns;
};

/* Names of the families in the registry before the monitor registers its own. */
struct names {
	char **v;
	size_t n, cap;
	int oom;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void gset(struct mon *m, mpci_metric *g, const char *const *l, double v)
{
	if (g)
		m->api->metric_set(g, l, v);
}

/* ---- events ---- */

static void on_view(const struct mpci_view_result *r, void *ud)
{
	struct view_sub *vs = ud;
	cmetrics_view(vs->m->cm, r);
}

static void gadd(struct mon *m, mpci_metric *c, double v)
{
	if (c)
		m->api->metric_add(c, NULL, v);
}

static void on_block(const struct mpci_block *b, void *ud)
{
	struct mon *m = ud;
	m->blocks++;
	m->last_block_at = m->api->now(m->self);
	gadd(m, m->m_processed_total, 1);
	if (b->status == MPCI_BLOCK_FINAL)
		gadd(m, m->m_final_total, 1);
	if (b->status != MPCI_BLOCK_FORK && b->height >= m->processed) {
		m->processed = b->height;
		gset(m, m->m_processed, NULL, (double)b->height);
	}
	traffic_block(m->traffic, b);
}

static void on_orphaned(uint64_t height, const char *hash, void *ud)
{
	struct mon *m = ud;
	gadd(m, m->m_orphaned, 1);
	traffic_orphaned(m->traffic, height, hash);
}

static void on_finalized(uint64_t height, const char *hash, void *ud)
{
	struct mon *m = ud;
	gadd(m, m->m_final_total, 1);
	traffic_finalized(m->traffic, height, hash);
}

/* ---- scrape-time values ---- */

static int healthy(struct mon *m, struct mpci_status *st, char *reason, size_t n)
{
	struct health_in in = {
		.have_stream = m->have_blocks,
		.now = m->api->now(m->self),
		.started = m->started,
		.blocks = m->blocks,
		.last_block_at = m->last_block_at,
		.processed = m->processed,
		.status_following = -1,
	};
	memset(st, 0, sizeof(*st));
	st->struct_size = sizeof(*st);
	m->api->status(m->self, st);
	if (st->head_height) {
		in.head = st->head_height;
		in.lag_seconds = st->lag_seconds;
		in.status_following = st->following;
		if (st->processed_height > in.processed)
			in.processed = st->processed_height;
	}
	int ok = health_check(&m->hc, &in, reason, n);
	gset(m, m->m_healthy, NULL, ok);
	return ok;
}

/* Status values are read when scraped; absent ones are omitted, not zero. */
static void refresh_status(struct mon *m)
{
	struct mpci_status st;
	char reason[300];
	healthy(m, &st, reason, sizeof(reason));
	if (st.head_height) {
		uint64_t done = st.processed_height > m->processed ? st.processed_height :
				m->processed;
		gset(m, m->m_following, NULL, st.following);
		gset(m, m->m_head, NULL, (double)st.head_height);
		gset(m, m->m_lag_blocks, NULL,
		     st.head_height > done ? (double)(st.head_height - done) : 0);
		gset(m, m->m_lag_seconds, NULL, st.lag_seconds);
		if (st.final_height)
			gset(m, m->m_final, NULL, (double)st.final_height);
	}
	if (m->http)
		gset(m, m->m_conns, NULL, httpd_connections(m->http));
}

/* ---- /metrics ---- */

struct render {
	struct pbuf *b;
	unsigned process_seen;   /* bit i: process family i is in the registry */
};

static const char *const process_names[] = {
	"process_cpu_seconds_total", "process_start_time_seconds",
	"process_virtual_memory_bytes", "process_resident_memory_bytes",
	"process_threads", "process_open_fds", "process_max_fds",
	"process_virtual_memory_max_bytes",
};
#define N_PROCESS (sizeof(process_names) / sizeof(process_names[0]))

static void visit(const struct mpci_metric_family *f, void *ud)
{
	struct render *r = ud;
	if (strncmp(f->name, "process_", 8) == 0)
		for (size_t i = 0; i < N_PROCESS; i++)
			if (strcmp(f->name, process_names[i]) == 0)
				r->process_seen |= 1u << i;
	expo_family(r->b, f);
}

static int process_skip(const char *name, void *ud)
{
	const struct render *r = ud;
	for (size_t i = 0; i < N_PROCESS; i++)
		if (strcmp(name, process_names[i]) == 0)
			return (r->process_seen >> i) & 1;
	return 0;
}

static void serve_metrics(struct mon *m, struct httpd_reply *out)
{
	double t0 = mono();
	struct pbuf b;
	refresh_status(m);
	pbuf_init(&b, m->last_size + m->last_size / 8 + 4096);
	struct render r = { &b, 0 };
	m->api->metrics_collect(m->self, visit, &r);
	if (m->process_metrics)
		procstat_render(&m->ps, &b, process_skip, &r);
	out->body = pbuf_take(&b, &out->len);
	out->status = 200;
	out->content_type = EXPO_CONTENT_TYPE;
	if (out->body)
		m->last_size = out->len;
	gset(m, m->m_scrape, NULL, mono() - t0);
}

/* /families: every registered family, also those without samples yet
 * (which /metrics leaves out): for operators, dashboards and their tests. */
static void family_line(const struct mpci_metric_family *f, void *ud)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	struct pbuf *b = ud;
	pbuf_printf(b, "%s %s %zu ", f->name,
		    f->type >= 0 && f->type <= 2 ? types[f->type] : "unknown", f->n_samples);
	expo_escape(b, f->help ? f->help : "", 0);
	pbuf_putc(b, '\n');
}

static void serve(void *ud, const char *path, struct httpd_reply *out)
{
	struct mon *m = ud;
	struct pbuf b;
	pbuf_init(&b, 1024);
	out->content_type = "text/plain; charset=utf-8";
	if (strcmp(path, "/metrics") == 0) {
		pbuf_free(&b);
		serve_metrics(m, out);
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		struct mpci_status st;
		char reason[300];
		out->status = healthy(m, &st, reason, sizeof(reason)) ? 200 : 503;
		pbuf_printf(&b, "%s\n", reason);
	} else if (strcmp(path, "/families") == 0) {
		out->status = 200;
		m->api->metrics_collect(m->self, family_line, &b);
	} else if (strcmp(path, "/") == 0) {
		out->status = 200;
		out->content_type = "text/html; charset=utf-8";
		pbuf_printf(&b, "<!DOCTYPE html>\n<html><head><title>mpc-indexer monitor</title></head>\n"
			    "<body><h1>mpc-indexer: prometheus-monitor %s</h1>\n<ul>\n"
			    "<li><a href=\"/metrics\">/metrics</a>: Prometheus metrics (text format 0.0.4)</li>\n"
			    "<li><a href=\"/healthz\">/healthz</a>: 200 while the indexer follows the chain, 503 and why otherwise</li>\n"
			    "<li><a href=\"/families\">/families</a>: every registered metric family (name, type, series, help)</li>\n"
			    "</ul></body></html>\n", PROM_VERSION);
	} else {
		out->status = 404;
		pbuf_printf(&b, "not found; try /metrics, /healthz, /families or /\n");
	}
	out->body = pbuf_take(&b, &out->len);
}

/* ---- lifecycle ---- */

static void name_add(const struct mpci_metric_family *f, void *ud)
{
	struct names *n = ud;
	if (n->n == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 64;
		char **v = realloc(n->v, cap * sizeof(*v));
		if (!v) {
			n->oom = 1;
			return;
		}
		n->v = v;
		n->cap = cap;
	}
	if (!(n->v[n->n] = strdup(f->name)))
		n->oom = 1;
	else
		n->n++;
}

static int name_known(const char *family, void *ud)
{
	const struct names *n = ud;
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->v[i], family) == 0)
			return 1;
	return 0;
}

static void names_free(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
}

static mpci_metric *own_counter(struct mon *m, const struct names *host, const char *name,
				const char *help)
{
	return name_known(name, (void *)host) ? NULL :
	       m->api->metric_counter(m->self, name, help, NULL);
}

static mpci_metric *own_gauge(struct mon *m, const struct names *host, const char *name,
			      const char *help)
{
	return name_known(name, (void *)host) ? NULL :
	       m->api->metric_gauge(m->self, name, help, NULL);
}

static void register_pipeline(struct mon *m, const struct names *host)
{
	static const char *const l_build[] = { "version", "abi", NULL };
	const struct mpci_host_api *api = m->api;
	mpci_plugin *s = m->self;
	/* The daemon's block stream keeps these; a host without one gets them
	 * from the monitor, under the same names. */
	m->m_processed_total = own_counter(m, host, "mpc_indexer_blocks_processed_total",
		"Blocks delivered to subscribers.");
	m->m_final_total = own_counter(m, host, "mpc_indexer_blocks_final_total",
		"Blocks delivered or confirmed as final.");
	m->m_orphaned = own_counter(m, host, "mpc_indexer_blocks_orphaned_total",
		"Delivered blocks that left the canonical chain.");
	m->m_processed = own_gauge(m, host, "mpc_indexer_block_processed_height",
		"Height of the last block delivered.");
	m->m_head = own_gauge(m, host, "mpc_indexer_block_head_height",
		"Newest block height the sources report.");
	m->m_final = own_gauge(m, host, "mpc_indexer_block_final_height",
		"Newest final block height known.");
	m->m_lag_blocks = own_gauge(m, host, "mpc_indexer_block_lag_blocks",
		"Head height minus the last delivered height.");
	m->m_lag_seconds = own_gauge(m, host, "mpc_indexer_block_lag_seconds",
		"Chain time between the head and the last delivered block.");
	m->m_following = api->metric_gauge(s, "mpc_indexer_following",
		"1 when the indexer reports it follows the chain within its configured lag.", NULL);
	m->m_healthy = api->metric_gauge(s, "mpc_indexer_healthy",
		"1 when /healthz answers 200 (following the chain, not stalled), else 0.", NULL);
	m->m_build = api->metric_gauge(s, "mpc_indexer_build_info",
		"Version of mpc-indexer (as built with this plugin) and the host's plugin ABI; value 1.",
		l_build);
	m->m_scrape = api->metric_gauge(s, "mpc_indexer_monitor_scrape_duration_seconds",
		"Time the previous /metrics took to render on the loop thread.", NULL);
	m->m_conns = api->metric_gauge(s, "mpc_indexer_monitor_http_connections",
		"Open connections to the monitor's HTTP server.", NULL);
	char abi[24];
	snprintf(abi, sizeof(abi), "%u.%u", (unsigned)api->abi_major, (unsigned)api->abi_minor);
	gset(m, m->m_build, (const char *const[]){ PROM_VERSION, abi, NULL }, 1);
	gset(m, m->m_healthy, NULL, 0);
	gadd(m, m->m_processed_total, 0);
	gadd(m, m->m_final_total, 0);
	gadd(m, m->m_orphaned, 0);
}

static int cfg_num(struct mon *m, const char *key, double *out)
{
	int rc = m->api->config_double(m->self, key, out);
	if (rc == MPCI_ERR_NOTFOUND)
		return 0;
	if (rc != MPCI_OK || *out < 0) {
		m->api->log(m->self, MPCI_LOG_ERROR, "%s: %s must be a non-negative number",
			    m->api->config_where(m->self, key), key);
		return -1;
	}
	return 0;
}

static int write_port_file(struct mon *m, const char *path, unsigned port)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) < 0) {
		m->api->log(m->self, MPCI_LOG_ERROR, "port_file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void subscribe(struct mon *m, int contract_views)
{
	const struct mpci_host_api *api = m->api;
	struct mpci_block_handlers h = { .struct_size = sizeof(h), .block = on_block,
					 .orphaned = on_orphaned, .finalized = on_finalized };
	int rc = api->subscribe_blocks(m->self, NULL, &h, m, NULL, NULL);
	m->have_blocks = rc == MPCI_OK;
	if (rc == MPCI_ERR_UNSUPPORTED)
		api->log(m->self, MPCI_LOG_WARN, "this host delivers no block stream: "
			 "pipeline, process and plugin metrics only; /healthz answers 503");
	else if (rc != MPCI_OK)
		api->log(m->self, MPCI_LOG_ERROR, "subscribe_blocks failed (%d)", rc);
	for (int i = 0; contract_views && i < CMETRICS_N_VIEWS; i++) {
		struct mpci_view_spec spec = { .struct_size = sizeof(spec),
					       .method = cmetrics_views[i] };
		m->views[i].m = m;
		m->views[i].which = i;
		rc = api->subscribe_state(m->self, &spec, on_view, &m->views[i], NULL, NULL);
		if (rc == MPCI_ERR_UNSUPPORTED) {
			api->log(m->self, MPCI_LOG_WARN,
				 "this host offers no state views: no contract metrics");
			break;
		}
		if (rc != MPCI_OK)
			api->log(m->self, MPCI_LOG_WARN, "subscribe_state %s failed (%d)",
				 cmetrics_views[i], rc);
	}
}

static void stop(void *state);
static void fini(void *state);

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	double timeout = 10, mem = 32768, conns = 64, attest_every = 300, v;
	int contract_views = 1, process = 1;
	char err[300];
	struct mon *m = calloc(1, sizeof(*m));
	if (!m)
		return MPCI_ERR_NOMEM;
	m->api = api;
	m->self = self;
	m->started = api->now(self);
	m->hc.max_lag = 30;
	m->hc.stall_timeout = 60;
	m->hc.max_lag_blocks = 60;
	const char *listen = api->config_str(self, "listen");
	snprintf(m->listen, sizeof(m->listen), "%s", listen ? listen : "127.0.0.1:9464");
	struct traffic_opts to = { 0 };
	v = 0;
	if (cfg_num(m, "connection_timeout", &timeout) < 0 ||
	    cfg_num(m, "max_request_size", &mem) < 0 ||
	    cfg_num(m, "max_connections", &conns) < 0 ||
	    cfg_num(m, "max_lag", &m->hc.max_lag) < 0 ||
	    cfg_num(m, "stall_timeout", &m->hc.stall_timeout) < 0 ||
	    cfg_num(m, "attestation_interval", &attest_every) < 0 ||
	    cfg_num(m, "max_lag_blocks", &v) < 0)
		goto fail;
	m->hc.max_lag_blocks = (uint64_t)v;
	v = 0;
	if (cfg_num(m, "max_pending_requests", &v) < 0)
		goto fail;
	to.max_pending = (size_t)v;
	api->config_bool(self, "contract_views", &contract_views);
	api->config_bool(self, "process_metrics", &process);
	m->process_metrics = process;
	if (conns < 1 || conns > 4096 || timeout < 1 || mem < 4096) {
		api->log(self, MPCI_LOG_ERROR,
			 "max_connections must be 1..4096, connection_timeout >= 1s, max_request_size >= 4k");
		goto fail;
	}
	procstat_init(&m->ps, NULL);
	struct names host = { 0 };
	api->metrics_collect(self, name_add, &host);
	register_pipeline(m, &host);
	to.host_has = name_known;
	to.host_has_ud = &host;
	m->traffic = traffic_new(api, self, &to);
	names_free(&host);
	m->cm = cmetrics_new(api, self);
	if (!m->traffic || !m->cm)
		goto fail;
	subscribe(m, contract_views);
	if (contract_views && attest_every > 0 &&
	    !(m->attest = attest_new(api, self, m->cm, attest_every)))
		goto fail;
	struct httpd_opts ho = { .listen = m->listen, .max_connections = (unsigned)conns,
				 .timeout = (unsigned)(timeout + 0.5), .memory_limit = (size_t)mem };
	m->http = httpd_start(api, self, &ho, serve, m, err, sizeof(err));
	if (!m->http) {
		api->log(self, MPCI_LOG_ERROR, "%s: %s", api->config_where(self, "listen"), err);
		goto fail;
	}
	unsigned port = httpd_port(m->http);
	api->log(self, MPCI_LOG_INFO, "serving /metrics and /healthz on %s (port %u)%s",
		 m->listen, port, httpd_is_loopback(m->http) ? "" :
		 "; not a loopback address: anyone who can reach it reads the metrics");
	const char *pf = api->config_str(self, "port_file");
	if (pf && *pf && write_port_file(m, pf, port) < 0)
		goto fail;
	*state = m;
	return MPCI_OK;
fail:
	stop(m);
	fini(m);
	return MPCI_ERR;
}

static void stop(void *state)
{
	struct mon *m = state;
	attest_stop(m->attest);
	httpd_stop(m->http);
	m->http = NULL;
}

/* Handles are still valid here (also when stop() never ran). */
static void fini(void *state)
{
	struct mon *m = state;
	if (!m)
		return;
	httpd_stop(m->http);
	attest_free(m->attest);
	traffic_free(m->traffic);
	cmetrics_free(m->cm);
	free(m);
}

static const struct mpci_config_key keys[] = {
	{ "listen", MPCI_CFG_STR, "127.0.0.1:9464",
	  "ADDRESS:PORT of the HTTP server (numeric; [::1]:PORT for IPv6; port 0: any free port)" },
	{ "max_connections", MPCI_CFG_UINT, "64", "open HTTP connections at most" },
	{ "connection_timeout", MPCI_CFG_DURATION, "10s", "close a connection idle this long" },
	{ "max_request_size", MPCI_CFG_SIZE, "32k", "memory per connection for the request head" },
	{ "max_lag", MPCI_CFG_DURATION, "30s", "/healthz: most seconds behind the chain head (0: off)" },
	{ "max_lag_blocks", MPCI_CFG_UINT, "60", "/healthz: most blocks behind the chain head (0: off)" },
	{ "stall_timeout", MPCI_CFG_DURATION, "60s",
	  "/healthz: longest time without a new block (0: off)" },
	{ "contract_views", MPCI_CFG_BOOL, "yes",
	  "subscribe to the contract's views (state, hashes, TEE accounts, migrations, version)" },
	{ "attestation_interval", MPCI_CFG_DURATION, "5m",
	  "poll get_attestation per participant this often (0: off)" },
	{ "max_pending_requests", MPCI_CFG_UINT, "20000",
	  "MPC requests tracked for the request-to-completion latency" },
	{ "process_metrics", MPCI_CFG_BOOL, "yes", "expose process_* metrics" },
	{ "port_file", MPCI_CFG_PATH, NULL, "write the bound port here (with listen port 0)" },
	{ NULL, 0, NULL, NULL },
};

static const struct mpci_plugin_desc desc = {
	MPCI_DESC_HEADER,
	.name = "prometheus-monitor",
	.version = PROM_VERSION,
	.description = "Prometheus /metrics and /healthz: pipeline, contract and MPC traffic",
	.config = keys,
	.init = init,
	.stop = stop,
	.fini = fini,
};

MPCI_PLUGIN(desc)
