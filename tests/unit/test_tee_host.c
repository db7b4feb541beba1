/* The manual-clock host of test_tee_host.h. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_tee_host.h"

struct mpci_timer {
	double due, repeat;
	void (*cb)(void *);
	void *ud;
	int active, firing, stopped;
	struct mpci_timer *next;
};

struct mpci_http {
	int idx;
	mpci_http_fn cb;
	void *ud;
	int cancelled;
	struct mpci_http *next;
};

struct pending_view {
	char *method, *args;
	mpci_view_fn cb;
	void *ud;
	struct pending_view *next;
};

struct pending_tx {
	int idx;
	mpci_tx_fn cb;
	void *ud;
	struct pending_tx *next;
};

struct mpci_sub {
	char *method;
	double interval;
	mpci_view_fn cb;
	void *ud;
	mpci_free_fn ud_free;
	int ended;
	struct mpci_sub *next;
};

struct series {
	char *label;
	double value;
	struct series *next;
};

struct mpci_metric {
	char *name;
	struct series *series;
	struct mpci_metric *next;
};

static struct {
	struct fh *h;
	void *dl;
	const struct mpci_plugin_desc *desc;
	void *state;
	int inited;
	struct mpci_timer *timers;
	struct mpci_http *http;       /* pending, FIFO */
	struct pending_view *views;
	struct pending_tx *txs;
	struct mpci_sub *subs;
	struct mpci_metric *metrics;
	uint64_t height;
} F;

static mpci_plugin *const SELF = (mpci_plugin *)&F;

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ---- log, config ---- */

static void api_log(mpci_plugin *self, int level, const char *fmt, ...)
{
	static const char *const lv[] = { "error", "warn", "info", "debug" };
	char line[2048];
	va_list ap;
	int n = snprintf(line, sizeof(line), "[%s] ", level >= 0 && level < 4 ? lv[level] : "?");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (getenv("FH_VERBOSE"))
		printf("# t=%.3f %s\n", F.h->now, line);
	if (F.h->n_logs < (int)(sizeof(F.h->logs) / sizeof(F.h->logs[0])))
		F.h->logs[F.h->n_logs++] = strdup(line);
}

static const struct mpci_config_key *declared(const char *key)
{
	for (const struct mpci_config_key *k = F.desc->config; k && k->name; k++)
		if (strcmp(k->name, key) == 0)
			return k;
	return NULL;
}

static const char *api_config_str(mpci_plugin *self, const char *key)
{
	for (const struct fh_config *c = F.h->config; c && c->key; c++)
		if (strcmp(c->key, key) == 0)
			return c->value;
	const struct mpci_config_key *k = declared(key);
	return k ? k->def : NULL;
}

static int parse_duration(const char *s, double *out)
{
	static const struct { const char *unit; double mult; } units[] = {
		{ "ms", 1e-3 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
	};
	char *end;
	double v = strtod(s, &end);
	if (end == s)
		return MPCI_ERR_INVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0) {
			*out = v * units[i].mult;
			return MPCI_OK;
		}
	return MPCI_ERR_INVAL;
}

static int api_config_double(mpci_plugin *self, const char *key, double *out)
{
	const char *v = api_config_str(self, key);
	const struct mpci_config_key *k = declared(key);
	if (!v)
		return MPCI_ERR_NOTFOUND;
	if (k && k->type == MPCI_CFG_DURATION)
		return parse_duration(v, out);
	char *end;
	*out = strtod(v, &end);
	return *end ? MPCI_ERR_INVAL : MPCI_OK;
}

static int api_config_int(mpci_plugin *self, const char *key, int64_t *out)
{
	const char *v = api_config_str(self, key);
	char *end;
	if (!v)
		return MPCI_ERR_NOTFOUND;
	*out = strtoll(v, &end, 10);
	return *end ? MPCI_ERR_INVAL : MPCI_OK;
}

static int api_config_bool(mpci_plugin *self, const char *key, int *out)
{
	const char *v = api_config_str(self, key);
	if (!v)
		return MPCI_ERR_NOTFOUND;
	*out = strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
	return MPCI_OK;
}

static const char *api_config_list(mpci_plugin *self, const char *key, size_t i)
{
	return i == 0 ? api_config_str(self, key) : NULL;
}

static const char *api_config_where(mpci_plugin *self, const char *key)
{
	return "test.conf";
}

/* ---- loop ---- */

static double api_now(mpci_plugin *self)
{
	return F.h->now;
}

static mpci_timer *api_timer_start(mpci_plugin *self, double after, double repeat,
				   void (*cb)(void *ud), void *ud)
{
	struct mpci_timer *t = calloc(1, sizeof(*t));
	t->due = F.h->now + after;
	t->repeat = repeat;
	t->cb = cb;
	t->ud = ud;
	t->active = 1;
	t->next = F.timers;
	F.timers = t;
	return t;
}

static void timer_unlink(struct mpci_timer *t)
{
	for (struct mpci_timer **p = &F.timers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	free(t);
}

static void api_timer_stop(mpci_timer *t)
{
	if (!t)
		return;
	if (t->firing)
		t->stopped = 1;	/* freed once its callback returns */
	else
		timer_unlink(t);
}

static mpci_watch *api_fd_watch(mpci_plugin *self, int fd, int events,
				void (*cb)(int, int, void *), void *ud)
{
	return NULL;
}

static void api_fd_watch_set(mpci_watch *w, int events)
{
}

static void api_fd_unwatch(mpci_watch *w)
{
}

static int api_post(mpci_plugin *self, void (*cb)(void *ud), void *ud)
{
	return MPCI_ERR_UNSUPPORTED;
}

/* ---- HTTP ---- */

static mpci_http *api_http_request(mpci_plugin *self, const struct mpci_http_request *req,
				   mpci_http_fn cb, void *ud)
{
	struct fh *h = F.h;
	if (!req || !req->url || !cb || h->n_http >= (int)(sizeof(h->http) / sizeof(h->http[0])))
		return NULL;
	struct fh_http *r = &h->http[h->n_http];
	r->method = strdup(req->method ? req->method : "GET");
	r->url = strdup(req->url);
	r->unix_socket = dup_or_null(req->unix_socket);
	r->body = malloc(req->body_len + 1);
	memcpy(r->body, req->body ? req->body : "", req->body_len);
	r->body[req->body_len] = 0;
	r->body_len = req->body_len;
	r->at = h->now;
	struct mpci_http *x = calloc(1, sizeof(*x));
	x->idx = h->n_http++;
	x->cb = cb;
	x->ud = ud;
	struct mpci_http **p = &F.http;
	while (*p)
		p = &(*p)->next;
	*p = x;
	return x;
}

static void api_http_cancel(mpci_http *x)
{
	if (x)
		x->cancelled = 1;
}

/* ---- metrics ---- */

static mpci_metric *metric_get(const char *name)
{
	for (struct mpci_metric *m = F.metrics; m; m = m->next)
		if (strcmp(m->name, name) == 0)
			return m;
	struct mpci_metric *m = calloc(1, sizeof(*m));
	m->name = strdup(name);
	m->next = F.metrics;
	F.metrics = m;
	return m;
}

static mpci_metric *api_metric_new(mpci_plugin *self, const char *name, const char *help,
				   const char *const *labels)
{
	return metric_get(name);
}

static mpci_metric *api_metric_histogram(mpci_plugin *self, const char *name, const char *help,
					 const char *const *labels, const double *b, size_t n)
{
	return metric_get(name);
}

static struct series *series_get(mpci_metric *m, const char *const *values)
{
	const char *label = values && values[0] ? values[0] : "";
	for (struct series *s = m->series; s; s = s->next)
		if (strcmp(s->label, label) == 0)
			return s;
	struct series *s = calloc(1, sizeof(*s));
	s->label = strdup(label);
	s->next = m->series;
	m->series = s;
	return s;
}

static void api_metric_add(mpci_metric *m, const char *const *values, double v)
{
	series_get(m, values)->value += v;
}

static void api_metric_set(mpci_metric *m, const char *const *values, double v)
{
	series_get(m, values)->value = v;
}

static void api_metric_remove(mpci_metric *m, const char *const *values)
{
	series_get(m, values)->value = 0;
}

static void api_metrics_collect(mpci_plugin *self, mpci_metric_visit_fn fn, void *ud)
{
}

/* ---- views, transactions ---- */

static int api_subscribe_state(mpci_plugin *self, const struct mpci_view_spec *spec,
			       mpci_view_fn cb, void *ud, mpci_free_fn ud_free, mpci_sub **out)
{
	if (F.h->no_sources) {
		if (ud_free)
			ud_free(ud);
		return MPCI_ERR_UNSUPPORTED;
	}
	struct mpci_sub *s = calloc(1, sizeof(*s));
	s->method = strdup(spec->method);
	s->interval = spec->update ? spec->update->interval : 0;
	s->cb = cb;
	s->ud = ud;
	s->ud_free = ud_free;
	s->next = F.subs;
	F.subs = s;
	if (out)
		*out = s;
	return MPCI_OK;
}

static int api_view(mpci_plugin *self, const struct mpci_view_spec *spec, mpci_view_fn cb,
		    void *ud)
{
	if (F.h->no_sources)
		return MPCI_ERR_UNSUPPORTED;
	struct pending_view *v = calloc(1, sizeof(*v));
	v->method = strdup(spec->method);
	v->args = strdup(spec->args_json ? spec->args_json : "{}");
	v->cb = cb;
	v->ud = ud;
	struct pending_view **p = &F.views;
	while (*p)
		p = &(*p)->next;
	*p = v;
	F.h->n_views++;
	return MPCI_OK;
}

static int api_subscribe_blocks(mpci_plugin *self, const struct mpci_block_sub *sub,
				const struct mpci_block_handlers *h, void *ud,
				mpci_free_fn ud_free, mpci_sub **out)
{
	if (ud_free)
		ud_free(ud);
	return MPCI_ERR_UNSUPPORTED;
}

static void api_unsubscribe(mpci_sub *s)
{
	if (s && !s->ended) {
		s->ended = 1;
		if (s->ud_free)
			s->ud_free(s->ud);
	}
}

static int api_tx_submit(mpci_plugin *self, const struct mpci_tx_request *req, mpci_tx_fn cb,
			 void *ud, uint64_t *id)
{
	struct fh *h = F.h;
	if (h->no_sources)
		return MPCI_ERR_UNSUPPORTED;
	if (!req->method || h->n_tx >= (int)(sizeof(h->tx) / sizeof(h->tx[0])))
		return MPCI_ERR_FULL;
	struct fh_tx *t = &h->tx[h->n_tx];
	t->signer = dup_or_null(req->signer);
	t->method = strdup(req->method);
	t->args = malloc(req->args_len + 1);
	memcpy(t->args, req->args, req->args_len);
	t->args[req->args_len] = 0;
	t->deposit = dup_or_null(req->deposit);
	t->gas = req->gas;
	t->wait = req->wait;
	t->at = h->now;
	if (id)
		*id = (uint64_t)h->n_tx + 1;
	struct pending_tx *p = calloc(1, sizeof(*p));
	p->idx = h->n_tx++;
	p->cb = cb;
	p->ud = ud;
	struct pending_tx **q = &F.txs;
	while (*q)
		q = &(*q)->next;
	*q = p;
	return MPCI_OK;
}

static int api_signer_info(mpci_plugin *self, const char *name, struct mpci_signer_info *out)
{
	struct fh *h = F.h;
	if (h->no_sources)
		return MPCI_ERR_UNSUPPORTED;
	if (h->signer_rc != MPCI_OK)
		return h->signer_rc;
	out->name = name ? name : "node";
	out->account_id = h->signer_account;
	out->public_key = h->signer_pk;
	out->full_access = 0;
	return MPCI_OK;
}

static void api_status(mpci_plugin *self, struct mpci_status *out)
{
}

static const char *api_state_dir(mpci_plugin *self)
{
	return "/tmp";
}

static const struct mpci_host_api API = {
	.struct_size = sizeof(struct mpci_host_api),
	.abi_major = MPCI_ABI_MAJOR,
	.abi_minor = MPCI_ABI_MINOR,
	.log = api_log,
	.config_str = api_config_str,
	.config_int = api_config_int,
	.config_bool = api_config_bool,
	.config_double = api_config_double,
	.config_list = api_config_list,
	.config_where = api_config_where,
	.now = api_now,
	.timer_start = api_timer_start,
	.timer_stop = api_timer_stop,
	.fd_watch = api_fd_watch,
	.fd_watch_set = api_fd_watch_set,
	.fd_unwatch = api_fd_unwatch,
	.post = api_post,
	.http_request = api_http_request,
	.http_cancel = api_http_cancel,
	.metric_counter = api_metric_new,
	.metric_gauge = api_metric_new,
	.metric_histogram = api_metric_histogram,
	.metric_add = api_metric_add,
	.metric_set = api_metric_set,
	.metric_observe = api_metric_add,
	.metric_remove = api_metric_remove,
	.metrics_collect = api_metrics_collect,
	.subscribe_state = api_subscribe_state,
	.view = api_view,
	.subscribe_blocks = api_subscribe_blocks,
	.unsubscribe = api_unsubscribe,
	.tx_submit = api_tx_submit,
	.signer_info = api_signer_info,
	.status = api_status,
	.state_dir = api_state_dir,
};

/* ---- driving ---- */

static int step(void)
{
	struct fh *h = F.h;
	if (F.http) {
		struct mpci_http *x = F.http;
		F.http = x->next;
		if (!x->cancelled) {
			struct fh_reply rep = { 0, "no responder", "", 0 };
			if (h->http_respond)
				h->http_respond(h, &h->http[x->idx], &rep);
			char *body = malloc(rep.body_len + 1);
			memcpy(body, rep.body ? rep.body : "", rep.body_len);
			body[rep.body_len] = 0;
			struct mpci_http_response res = {
				.struct_size = sizeof(res), .status = rep.status,
				.error = rep.status ? NULL : rep.error, .body = body,
				.body_len = rep.body_len, .content_type = "application/json",
				.headers = rep.headers, .n_headers = rep.n_headers,
			};
			if (h->abi10_responses) {	/* and garbage past the end */
				res.struct_size = offsetof(struct mpci_http_response, headers);
				res.headers = (const struct mpci_http_header *)(uintptr_t)1;
				res.n_headers = 1000;
			}
			x->cb(&res, x->ud);
			free(body);
		}
		free(x);
		return 1;
	}
	if (F.views) {
		struct pending_view *v = F.views;
		F.views = v->next;
		struct fh_view_reply rep = { 0, "no responder" };
		if (h->view_respond)
			h->view_respond(h, v->method, v->args, &rep);
		struct mpci_view_result r = {
			.struct_size = sizeof(r), .method = v->method, .ok = rep.ok,
			.value = rep.ok ? rep.value : NULL,
			.value_len = rep.ok ? strlen(rep.value) : 0,
			.error = rep.ok ? NULL : rep.value, .block_height = ++F.height,
			.block_hash = "HASH",
		};
		v->cb(&r, v->ud);
		free(v->method);
		free(v->args);
		free(v);
		return 1;
	}
	if (F.txs) {
		struct pending_tx *p = F.txs;
		F.txs = p->next;
		struct fh_tx_reply rep = { MPCI_TX_SUCCEEDED, NULL };
		if (h->tx_respond)
			h->tx_respond(h, &h->tx[p->idx], &rep);
		struct mpci_tx_result r = {
			.struct_size = sizeof(r), .id = (uint64_t)p->idx + 1, .status = rep.status,
			.hash = "TXHASH", .value = "", .error = rep.error,
			.block_height = ++F.height,
		};
		p->cb(&r, p->ud);
		free(p);
		return 1;
	}
	return 0;
}

static struct mpci_timer *due_timer(double by)
{
	struct mpci_timer *best = NULL;
	for (struct mpci_timer *t = F.timers; t; t = t->next)
		if (t->active && !t->stopped && t->due <= by && (!best || t->due < best->due))
			best = t;
	return best;
}

static void fire(struct mpci_timer *t)
{
	t->firing = 1;
	t->cb(t->ud);
	t->firing = 0;
	if (t->stopped)
		timer_unlink(t);
	else if (t->repeat > 0)
		t->due += t->repeat;
	else
		t->active = 0;
}

void fh_run(struct fh *h)
{
	struct mpci_timer *t;
	for (;;) {
		while (step())
			;
		if (!(t = due_timer(h->now)))
			break;
		fire(t);
	}
}

void fh_advance(struct fh *h, double seconds)
{
	double target = h->now + seconds;
	struct mpci_timer *t;
	fh_run(h);
	while ((t = due_timer(target))) {
		if (t->due > h->now)
			h->now = t->due;
		fire(t);
		fh_run(h);
	}
	h->now = target;
	fh_run(h);
}

void fh_publish(struct fh *h, const char *method, int ok, const char *value)
{
	for (struct mpci_sub *s = F.subs; s; s = s->next) {
		if (s->ended || strcmp(s->method, method) != 0)
			continue;
		struct mpci_view_result r = {
			.struct_size = sizeof(r), .method = method, .ok = ok,
			.value = ok ? value : NULL, .value_len = ok ? strlen(value) : 0,
			.error = ok ? NULL : value, .block_height = ++F.height, .block_hash = "HASH",
		};
		s->cb(&r, s->ud);
	}
}

double fh_sub_interval(struct fh *h, const char *method)
{
	for (struct mpci_sub *s = F.subs; s; s = s->next)
		if (!s->ended && strcmp(s->method, method) == 0)
			return s->interval;
	return -1;
}

int fh_load(struct fh *h, const char *so_path)
{
	memset(&F, 0, sizeof(F));
	F.h = h;
	F.dl = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
	if (!F.dl) {
		printf("Bail out! dlopen %s: %s\n", so_path, dlerror());
		exit(99);
	}
	mpci_plugin_entry_fn entry = (mpci_plugin_entry_fn)dlsym(F.dl, MPCI_PLUGIN_ENTRY_NAME);
	F.desc = entry();
	int rc = F.desc->init(&API, SELF, &F.state);
	if (rc != MPCI_OK)
		return rc;
	F.inited = 1;
	if (F.desc->start)
		F.desc->start(F.state);
	return MPCI_OK;
}

double fh_metric(struct fh *h, const char *name, const char *label_value)
{
	for (struct mpci_metric *m = F.metrics; m; m = m->next) {
		if (strcmp(m->name, name) != 0)
			continue;
		for (struct series *s = m->series; s; s = s->next)
			if (strcmp(s->label, label_value ? label_value : "") == 0)
				return s->value;
	}
	return 0;
}

int fh_logged(struct fh *h, const char *needle)
{
	for (int i = 0; i < h->n_logs; i++)
		if (strstr(h->logs[i], needle))
			return 1;
	return 0;
}

int fh_unload(struct fh *h)
{
	int left = 0;
	if (F.inited) {
		if (F.desc->stop)
			F.desc->stop(F.state);
		for (struct mpci_timer *t = F.timers; t; t = t->next)
			left++;
		/* what the plugin still waits for is answered at shutdown, as the host does */
		while (F.txs) {
			struct pending_tx *p = F.txs;
			F.txs = p->next;
			struct mpci_tx_result r = { .struct_size = sizeof(r), .id = (uint64_t)p->idx + 1,
						    .status = MPCI_TX_REJECTED, .error = "shutdown" };
			p->cb(&r, p->ud);
			free(p);
		}
		for (struct mpci_sub *s = F.subs; s; s = s->next)
			api_unsubscribe(s);
		F.desc->fini(F.state);
	}
	while (F.timers)
		timer_unlink(F.timers);
	while (F.http) {
		struct mpci_http *x = F.http;
		F.http = x->next;
		free(x);
	}
	while (F.views) {
		struct pending_view *v = F.views;
		F.views = v->next;
		free(v->method);
		free(v->args);
		free(v);
	}
	while (F.subs) {
		struct mpci_sub *s = F.subs;
		F.subs = s->next;
		free(s->method);
		free(s);
	}
	while (F.metrics) {
		struct mpci_metric *m = F.metrics;
		F.metrics = m->next;
		while (m->series) {
			struct series *s = m->series;
			m->series = s->next;
			free(s->label);
			free(s);
		}
		free(m->name);
		free(m);
	}
	for (int i = 0; i < h->n_http; i++) {
		free(h->http[i].method);
		free(h->http[i].url);
		free(h->http[i].unix_socket);
		free(h->http[i].body);
	}
	for (int i = 0; i < h->n_tx; i++) {
		free(h->tx[i].signer);
		free(h->tx[i].method);
		free(h->tx[i].args);
		free(h->tx[i].deposit);
	}
	for (int i = 0; i < h->n_logs; i++)
		free(h->logs[i]);
	h->n_http = h->n_tx = h->n_logs = h->n_views = 0;
	dlclose(F.dl);
	memset(&F, 0, sizeof(F));
	return left;
}
