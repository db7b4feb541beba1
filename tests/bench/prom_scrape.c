/* make bench: the cost of /metrics with many series.
 *
 * 1. Render, in process: the registry snapshot (metrics_collect, the core's
 *    part) and the text rendering the plugin does, timed separately; the
 *    snapshot is the peer the rendering is compared with.
 * 2. Scrape cost on the loop: the real host runs prometheus-monitor and the
 *    prom_bulk filler plugin; a client thread scrapes over keep-alive; the
 *    host's own timing of the plugin's callbacks (fd events and timers) is
 *    divided by the number of scrapes, and the render time the plugin
 *    reports for each scrape is collected.
 * Exit status 1 when the median scrape cost on the loop is 5 ms or more. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <ev.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "expo.h"
#include "host.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

#define TARGET_MS 5.0

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), cmp_double);
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

/* ---- 1. render in process ---- */

static size_t n_families;

static void noop(const struct mpci_metric_family *f, void *ud)
{
	(*(size_t *)ud) += f->n_samples;
	n_families += f->n_samples > 0;
}

static void render(const struct mpci_metric_family *f, void *ud)
{
	expo_family(ud, f);
}

/* ---- 2. scrapes through the host ---- */

struct client {
	unsigned port;
	int scrapes;
	double *latency;        /* seconds per scrape, client side */
	double *render;         /* what the plugin reported for the previous scrape */
	size_t bytes;
	int failed;
	struct ev_loop *loop;
	ev_async done;
};

static double find_value(const char *body, const char *name)
{
	const char *p = strstr(body, name);
	while (p && p != body && p[-1] != '\n')
		p = strstr(p + 1, name);
	return p ? strtod(p + strlen(name) + 1, NULL) : -1;
}

/* One GET on a keep-alive socket; the body into *buf.  0 or -1. */
static int get(int fd, char **buf, size_t *cap, size_t *len)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n";
	if (send(fd, req, sizeof(req) - 1, 0) != (ssize_t)(sizeof(req) - 1))
		return -1;
	size_t have = 0, head = 0, body = 0;
	for (;;) {
		if (have + 65536 > *cap) {
			*cap = (have + 65536) * 2;
			*buf = realloc(*buf, *cap);
		}
		ssize_t n = recv(fd, *buf + have, *cap - have - 1, 0);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		(*buf)[have] = 0;
		if (!head) {
			char *e = strstr(*buf, "\r\n\r\n");
			if (!e)
				continue;
			head = (size_t)(e - *buf) + 4;
			char *cl = strcasestr(*buf, "\r\nContent-Length:");
			if (!cl || cl > e)
				return -1;
			body = strtoul(cl + 17, NULL, 10);
		}
		if (have >= head + body) {
			memmove(*buf, *buf + head, body);
			(*buf)[body] = 0;
			*len = body;
			return 0;
		}
	}
}

static void *client_main(void *ud)
{
	struct client *c = ud;
	char *buf = NULL;
	size_t cap = 0, len = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)c->port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		c->failed = 1;
		goto out;
	}
	for (int i = 0; i <= c->scrapes; i++) {
		double t0 = now_s();
		if (get(fd, &buf, &cap, &len) < 0) {
			c->failed = 1;
			break;
		}
		if (i > 0) { /* the first scrape warms up; each reports the previous */
			c->latency[i - 1] = now_s() - t0;
			c->render[i - 1] =
				find_value(buf, "mpc_indexer_monitor_scrape_duration_seconds");
		}
		c->bytes = len;
	}
	close(fd);
out:
	free(buf);
	ev_async_send(c->loop, &c->done);
	return NULL;
}

static void client_done(struct ev_loop *loop, ev_async *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

struct cb_sum {
	double sum;
	uint64_t count;
};

static void callback_time(const struct mpci_metric_family *f, void *ud)
{
	struct cb_sum *s = ud;
	if (strcmp(f->name, "mpc_indexer_plugin_callback_seconds") != 0)
		return;
	for (size_t i = 0; i < f->n_samples; i++) {
		const char *const *v = f->samples[i].label_values;
		if (strcmp(v[0], "prometheus-monitor") == 0 &&
		    (strcmp(v[1], "fd") == 0 || strcmp(v[1], "timer") == 0)) {
			s->sum += f->samples[i].sum;
			s->count += f->samples[i].count;
		}
	}
}

int main(int argc, char **argv)
{
	long series = argc > 1 ? atol(argv[1]) : 10000;
	int scrapes = argc > 2 ? atoi(argv[2]) : 200;
	const char *builddir = getenv("top_builddir");
	char tmp[] = "/tmp/mpci-prom-bench-XXXXXX", path[600], text[2048];
	struct cfg_error err;
	if (!builddir || !mkdtemp(tmp)) {
		fprintf(stderr, "prom_scrape: set top_builddir\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/log", tmp);
	log_open(path, LOG_LVL_WARN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct http_client *http = http_client_new(loop);
	struct metrics *reg = metrics_new();
	struct cfg *cfg;
	snprintf(path, sizeof(path), "%s/bench.conf", tmp);
	snprintf(text, sizeof(text),
		 "[plugin.prom_bulk]\npath = %s/tests/bench/.libs/prom_bulk.so\nseries = %ld\n"
		 "[plugin.prometheus-monitor]\npath = %s/plugins/prometheus-monitor/.libs/prometheus-monitor.so\n"
		 "listen = 127.0.0.1:0\nport_file = %s/port\n",
		 builddir, series, builddir, tmp);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	if (cfg_load(&cfg, path, &err) < 0)
		return 2;
	struct host_opts o = { .loop = loop, .cfg = cfg, .metrics = reg, .http = http,
			       .state_dir = tmp, .plugin_dir = tmp, .slow_callback = 1 };
	struct host *host = host_new(&o);
	memset(&err, 0, sizeof(err));
	if (host_load_all(host, &err) != HOST_OK || host_start_all(host) != HOST_OK) {
		fprintf(stderr, "prom_scrape: the plugins do not start (%s); see %s/log\n", err.msg, tmp);
		return 2;
	}

	/* 1. render in process */
	int rounds = 50;
	double *t_collect = calloc((size_t)rounds, sizeof(double));
	double *t_render = calloc((size_t)rounds, sizeof(double));
	size_t n_series = 0, bytes = 0, lines = 0;
	for (int i = 0; i < rounds; i++) {
		size_t n = 0;
		n_families = 0;
		double t0 = now_s();
		metrics_collect(reg, noop, &n);
		t_collect[i] = now_s() - t0;
		n_series = n;
		struct pbuf b;
		pbuf_init(&b, bytes + 4096);
		t0 = now_s();
		metrics_collect(reg, render, &b);
		t_render[i] = now_s() - t0;
		bytes = b.len;
		if (i == 0)
			for (size_t k = 0; k < b.len; k++)
				lines += b.p[k] == '\n';
		pbuf_free(&b);
	}
	double collect_ms = pct(t_collect, (size_t)rounds, 0.5) * 1e3;
	double render_ms = pct(t_render, (size_t)rounds, 0.5) * 1e3;

	/* 2. scrapes through the host's loop */
	struct client c = { .scrapes = scrapes, .loop = loop };
	c.latency = calloc((size_t)scrapes, sizeof(double));
	c.render = calloc((size_t)scrapes, sizeof(double));
	snprintf(path, sizeof(path), "%s/port", tmp);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%u", &c.port) != 1)
		return 2;
	fclose(f);
	ev_async_init(&c.done, client_done);
	ev_async_start(loop, &c.done);
	struct cb_sum before = { 0 }, after = { 0 };
	metrics_collect(reg, callback_time, &before);
	pthread_t th;
	pthread_create(&th, NULL, client_main, &c);
	ev_run(loop, 0);
	pthread_join(th, NULL);
	metrics_collect(reg, callback_time, &after);
	if (c.failed) {
		fprintf(stderr, "prom_scrape: a scrape failed\n");
		return 1;
	}
	double loop_ms = (after.sum - before.sum) / scrapes * 1e3;
	double plugin_render_ms = pct(c.render, (size_t)scrapes, 0.5) * 1e3;
	double plugin_render_p90 = pct(c.render, (size_t)scrapes, 0.9) * 1e3;
	double lat_ms = pct(c.latency, (size_t)scrapes, 0.5) * 1e3;
	double lat_p90 = pct(c.latency, (size_t)scrapes, 0.9) * 1e3;

	printf("exposed series (sample lines)=%zu registry series=%zu bytes=%zu scrapes=%d\n",
	       lines - 2 * n_families, n_series, bytes, scrapes);
	printf("render in process: median %.3f ms = registry snapshot %.3f ms (peer) + text %.3f ms;"
	       " render/snapshot ratio %.2f\n",
	       render_ms, collect_ms, render_ms - collect_ms, render_ms / collect_ms);
	printf("scrape on the loop: %.3f ms per scrape (host-timed plugin callbacks, %llu calls);"
	       " render reported by the plugin: median %.3f ms, p90 %.3f ms\n",
	       loop_ms, (unsigned long long)(after.count - before.count), plugin_render_ms,
	       plugin_render_p90);
	printf("client latency (keep-alive, %zu bytes): median %.3f ms, p90 %.3f ms\n", c.bytes,
	       lat_ms, lat_p90);
	int pass = loop_ms < TARGET_MS && plugin_render_ms < TARGET_MS;
	printf("target: under %.0f ms on the loop: %s\n", TARGET_MS, pass ? "PASS" : "FAIL");

	host_stop_all(host);
	host_free(host);
	metrics_free(reg);
	cfg_free(cfg);
	http_client_free(http);
	ev_loop_destroy(loop);
	curl_global_cleanup();
	log_close();
	free(t_collect);
	free(t_render);
	free(c.latency);
	free(c.render);
	snprintf(path, sizeof(path), "rm -rf %s", tmp);
	if (system(path) != 0)
		fprintf(stderr, "prom_scrape: could not remove %s\n", tmp);
	return pass ? 0 : 1;
}
