/* The daemon's lifecycle.  SIGTERM/SIGINT stop the plugins (in reverse order),
 * give work in flight shutdown_timeout to finish, then free everything;
 * SIGHUP reopens the log file. */
#include <curl/curl.h>
#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon.h"
#include "heap.h"
#include "host.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "settings.h"
#include "sources.h"

#define D_LOG "daemon"
#define HEAP_INTERVAL 10.0	/* seconds between heap accounting and trims */

struct daemon {
	struct ev_loop *loop;
	struct host *host;
	struct sources *sources;
	struct http_client *http;
	struct heap *heap;
	ev_signal sigterm, sigint, sighup;
	ev_timer drain_deadline;
	ev_prepare drain_check;
	double shutdown_timeout;
	int stopping;
};

static void drain_done(struct daemon *d)
{
	ev_prepare_stop(d->loop, &d->drain_check);
	ev_timer_stop(d->loop, &d->drain_deadline);
	ev_break(d->loop, EVBREAK_ALL);
}

static void drain_poll(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct daemon *d = w->data;
	if (http_inflight(d->http) == 0)
		drain_done(d);
}

static void drain_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;
	log_warn(D_LOG, "shutdown: %zu requests still in flight after %.1f s; abandoning them",
		 http_inflight(d->http), d->shutdown_timeout);
	drain_done(d);
}

static void on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;
	if (d->stopping) {
		log_warn(D_LOG, "second signal %d: exiting now", w->signum);
		drain_done(d);
		return;
	}
	d->stopping = 1;
	log_info(D_LOG, "signal %d: shutting down", w->signum);
	host_stop_all(d->host);
	if (d->sources)
		sources_stop(d->sources);
	ev_timer_init(&d->drain_deadline, drain_timeout, d->shutdown_timeout, 0);
	d->drain_deadline.data = d;
	ev_timer_start(loop, &d->drain_deadline);
	ev_prepare_init(&d->drain_check, drain_poll);
	d->drain_check.data = d;
	ev_prepare_start(loop, &d->drain_check);
}

static void on_sighup(struct ev_loop *loop, ev_signal *w, int revents)
{
	if (log_reopen() == 0)
		log_info(D_LOG, "SIGHUP: log reopened");
}

static int ensure_dir(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			log_error(D_LOG, "state_dir %s exists and is not a directory", path);
			return -1;
		}
		return 0;
	}
	if (mkdir(path, 0700) < 0) {
		log_error(D_LOG, "state_dir %s: cannot create it: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int setup_log(struct cfg *cfg)
{
	enum log_level lvl;
	const char *s = cfg_get(cfg, "indexer", "log_level");
	if (log_level_parse(s, &lvl) < 0) {
		char where[300] = "";
		cfg_where(cfg, "indexer", "log_level", where, sizeof(where));
		fprintf(stderr, "%s: log_level: '%s' is not one of error, warn, info, debug\n",
			where, s);
		return -1;
	}
	int rc = log_open(cfg_get(cfg, "indexer", "log_file"), lvl);
	if (rc < 0) {
		fprintf(stderr, "cannot open log file %s: %s\n",
			cfg_get(cfg, "indexer", "log_file"), strerror(-rc));
		return -1;
	}
	return 0;
}

static void start_signals(struct daemon *d)
{
	signal(SIGPIPE, SIG_IGN);
	ev_signal_init(&d->sigterm, on_stop_signal, SIGTERM);
	ev_signal_init(&d->sigint, on_stop_signal, SIGINT);
	ev_signal_init(&d->sighup, on_sighup, SIGHUP);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	ev_signal_start(d->loop, &d->sigterm);
	ev_signal_start(d->loop, &d->sigint);
	ev_signal_start(d->loop, &d->sighup);
}

static void stop_signals(struct daemon *d)
{
	ev_signal_stop(d->loop, &d->sigterm);
	ev_signal_stop(d->loop, &d->sigint);
	ev_signal_stop(d->loop, &d->sighup);
}

int daemon_run(struct cfg *cfg, int check_only)
{
	struct daemon d = { 0 };
	struct cfg_error err;
	char msg[1024];
	double slow;
	int rc = EXIT_OK;

	if (settings_check(cfg, &err) < 0) {
		fprintf(stderr, "%s\n", cfg_format_error(&err, msg, sizeof(msg)));
		return EXIT_CONFIG;
	}
	if (sources_check_config(cfg, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "%s\n", msg);
		return EXIT_CONFIG;
	}
	if (setup_log(cfg) < 0)
		return EXIT_CONFIG;
	cfg_get_duration(cfg, "indexer", "slow_callback", &slow);
	cfg_get_duration(cfg, "indexer", "shutdown_timeout", &d.shutdown_timeout);
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_error(D_LOG, "cannot initialise libsodium or libcurl");
		log_close();
		return EXIT_RUNTIME;
	}
	d.loop = ev_default_loop(EVFLAG_AUTO);
	struct metrics *reg = metrics_new();
	d.http = http_client_new(d.loop);
	struct host_opts ho = {
		.loop = d.loop,
		.cfg = cfg,
		.metrics = reg,
		.http = d.http,
		.state_dir = cfg_get(cfg, "indexer", "state_dir"),
		.plugin_dir = cfg_get(cfg, "indexer", "plugin_dir"),
		.slow_callback = slow,
	};
	d.host = reg && d.http ? host_new(&ho) : NULL;
	if (!d.host) {
		log_error(D_LOG, "out of memory");
		rc = EXIT_RUNTIME;
		goto out;
	}
	switch (host_load_all(d.host, &err)) {
	case HOST_CONFIG:
		fprintf(stderr, "%s\n", cfg_format_error(&err, msg, sizeof(msg)));
		rc = EXIT_CONFIG;
		goto out;
	case HOST_FATAL:
		rc = EXIT_PLUGIN;
		goto out;
	case HOST_OK:
		break;
	}
	if (check_only) {
		printf("%s: configuration OK, %zu plugin(s) would load\n",
		       cfg_path(cfg), host_plugin_count(d.host));
		goto out;
	}
	if (ensure_dir(ho.state_dir) < 0) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	d.sources = sources_new(d.loop, d.http, reg, cfg, ho.state_dir, msg, sizeof(msg));
	if (!d.sources) {
		log_error(D_LOG, "%s", msg);
		rc = EXIT_RUNTIME;
		goto out;
	}
	host_set_provider(d.host, sources_provider(d.sources));
	start_signals(&d);
	if (host_start_all(d.host) != HOST_OK) {
		host_stop_all(d.host);
		rc = EXIT_PLUGIN;
	} else if (sources_start(d.sources) < 0) {
		host_stop_all(d.host);
		rc = EXIT_RUNTIME;
	} else {
		log_info(D_LOG, "running with %zu plugin(s)", host_plugin_count(d.host));
		d.heap = heap_new(d.loop, reg, HEAP_INTERVAL);
		ev_run(d.loop, 0);
		if (!d.stopping) {
			host_stop_all(d.host);
			sources_stop(d.sources);
		}
		log_info(D_LOG, "stopped");
	}
	stop_signals(&d);
out:
	/* plugins first: their subscriptions end at sources that still exist */
	heap_free(d.heap);
	host_free(d.host);
	sources_free(d.sources);
	http_client_free(d.http);
	metrics_free(reg);
	ev_loop_destroy(d.loop);
	curl_global_cleanup();
	log_close();
	return rc;
}
