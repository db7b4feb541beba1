/* The function table handed to plugins.  Each entry checks its arguments,
 * remembers what the plugin registered, and times every call back into it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"
#include "http.h"
#include "log.h"

#define API_LOG "host"

/* Copy a plugin-supplied struct that starts with its size: never read past
 * what the plugin declared, zero what it did not know about. */
static int copy_in(void *dst, size_t dst_size, const void *src)
{
	uint32_t n;
	if (!src)
		return -1;
	memcpy(&n, src, sizeof(n));
	if (n < sizeof(uint32_t))
		return -1;
	memset(dst, 0, dst_size);
	memcpy(dst, src, n < dst_size ? n : dst_size);
	memcpy(dst, &(uint32_t){ (uint32_t)dst_size }, sizeof(uint32_t));
	return 0;
}

/* Fill a plugin's output struct up to the smaller of the two sizes. */
static void copy_out(void *dst, const void *src, size_t src_size)
{
	uint32_t n;
	memcpy(&n, dst, sizeof(n));
	size_t m = n < src_size ? n : src_size;
	if (m > sizeof(uint32_t))
		memcpy((char *)dst + sizeof(uint32_t), (const char *)src + sizeof(uint32_t),
		       m - sizeof(uint32_t));
}

static int registering(mpci_plugin *p, const char *what)
{
	if (p->phase == PHASE_INIT)
		return 1;
	log_error(API_LOG, "plugin %s: %s is only allowed during init()", p->name, what);
	return 0;
}

/* ---- log ---- */

static void api_log(mpci_plugin *self, int level, const char *fmt, ...)
{
	static const enum log_level map[] = { LOG_LVL_ERROR, LOG_LVL_WARN,
					      LOG_LVL_INFO, LOG_LVL_DEBUG };
	enum log_level lvl = level < 0 ? LOG_LVL_ERROR :
			     level > 3 ? LOG_LVL_DEBUG : map[level];
	va_list ap;
	if (!log_enabled(lvl))
		return;
	va_start(ap, fmt);
	log_vmsg(lvl, self ? self->name : "plugin", fmt, ap);
	va_end(ap);
}

/* ---- config ---- */

static const char *api_config_str(mpci_plugin *self, const char *key)
{
	return cfg_get(self->host->o.cfg, self->section, key);
}

static int map_cfg_rc(int rc)
{
	return rc == 0 ? MPCI_OK : rc == -ENOENT ? MPCI_ERR_NOTFOUND :
	       MPCI_ERR_INVAL;
}

static int api_config_int(mpci_plugin *self, const char *key, int64_t *out)
{
	return map_cfg_rc(cfg_get_int(self->host->o.cfg, self->section, key, out));
}

static int api_config_bool(mpci_plugin *self, const char *key, int *out)
{
	return map_cfg_rc(cfg_get_bool(self->host->o.cfg, self->section, key, out));
}

/* Durations and sizes read as double too, in seconds and bytes. */
static int api_config_double(mpci_plugin *self, const char *key, double *out)
{
	for (const struct cfg_key *k = self->schema; k->name; k++) {
		if (strcmp(k->name, key) != 0)
			continue;
		if (k->type == CFG_DURATION)
			return map_cfg_rc(cfg_get_duration(self->host->o.cfg,
							   self->section, key, out));
		if (k->type == CFG_SIZE) {
			uint64_t v;
			int rc = cfg_get_size(self->host->o.cfg, self->section, key, &v);
			*out = (double)v;
			return map_cfg_rc(rc);
		}
		break;
	}
	return map_cfg_rc(cfg_get_double(self->host->o.cfg, self->section, key, out));
}

static const char *api_config_list(mpci_plugin *self, const char *key, size_t i)
{
	size_t k;
	for (k = 0; k < self->n_lists; k++)
		if (strcmp(self->list_keys[k], key) == 0)
			break;
	if (k == self->n_lists) {
		char **vals = NULL;
		char **keys = realloc(self->list_keys, (k + 1) * sizeof(char *));
		if (!keys)
			return NULL;
		self->list_keys = keys;
		char ***lists = realloc(self->list_vals, (k + 1) * sizeof(char **));
		if (!lists)
			return NULL;
		self->list_vals = lists;
		cfg_get_list(self->host->o.cfg, self->section, key, &vals);
		if (!(self->list_keys[k] = strdup(key))) {
			cfg_list_free(vals);
			return NULL;
		}
		self->list_vals[k] = vals;
		self->n_lists++;
	}
	char **vals = self->list_vals[k];
	for (size_t j = 0; vals && vals[j]; j++)
		if (j == i)
			return vals[j];
	return NULL;
}

static const char *api_config_where(mpci_plugin *self, const char *key)
{
	if (cfg_where(self->host->o.cfg, self->section, key, self->where,
		      sizeof(self->where)) < 0)
		snprintf(self->where, sizeof(self->where), "[%s] %s", self->section, key);
	return self->where;
}

/* ---- loop: timers, fd watchers, post ---- */

struct mpci_timer {
	struct reg reg;
	ev_timer w;
	mpci_plugin *p;
	void (*cb)(void *ud);
	void *ud;
};

static double api_now(mpci_plugin *self)
{
	return ev_now(self->host->o.loop);
}

static void timer_fire(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mpci_timer *t = w->data;
	mpci_plugin *p = t->p; /* the callback may stop and free its timer */
	double t0 = host_call_begin();
	t->cb(t->ud);
	host_call_end(p, "timer", t0);
}

static void timer_release(struct reg *r)
{
	struct mpci_timer *t = (struct mpci_timer *)r;
	ev_timer_stop(t->p->host->o.loop, &t->w);
	free(t);
}

static mpci_timer *api_timer_start(mpci_plugin *self, double after, double repeat,
				   void (*cb)(void *ud), void *ud)
{
	if (!cb || after < 0 || repeat < 0)
		return NULL;
	struct mpci_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->p = self;
	t->cb = cb;
	t->ud = ud;
	t->reg.release = timer_release;
	ev_timer_init(&t->w, timer_fire, after, repeat);
	t->w.data = t;
	ev_timer_start(self->host->o.loop, &t->w);
	reg_add(self, &t->reg);
	return t;
}

static void api_timer_stop(mpci_timer *t)
{
	if (!t)
		return;
	reg_del(&t->reg);
	timer_release(&t->reg);
}

struct mpci_watch {
	struct reg reg;
	ev_io w;
	mpci_plugin *p;
	void (*cb)(int fd, int revents, void *ud);
	void *ud;
};

static int to_ev(int events)
{
	return (events & 1 ? EV_READ : 0) | (events & 2 ? EV_WRITE : 0);
}

static void watch_fire(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mpci_watch *x = w->data;
	mpci_plugin *p = x->p; /* the callback may unwatch and free */
	double t0 = host_call_begin();
	x->cb(w->fd, (revents & EV_READ ? 1 : 0) | (revents & EV_WRITE ? 2 : 0), x->ud);
	host_call_end(p, "fd", t0);
}

static void watch_release(struct reg *r)
{
	struct mpci_watch *x = (struct mpci_watch *)r;
	ev_io_stop(x->p->host->o.loop, &x->w);
	free(x);
}

static mpci_watch *api_fd_watch(mpci_plugin *self, int fd, int events,
				void (*cb)(int fd, int revents, void *ud), void *ud)
{
	if (fd < 0 || !cb)
		return NULL;
	struct mpci_watch *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->p = self;
	x->cb = cb;
	x->ud = ud;
	x->reg.release = watch_release;
	ev_io_init(&x->w, watch_fire, fd, to_ev(events));
	x->w.data = x;
	if (events)
		ev_io_start(self->host->o.loop, &x->w);
	reg_add(self, &x->reg);
	return x;
}

static void api_fd_watch_set(mpci_watch *x, int events)
{
	struct ev_loop *loop = x->p->host->o.loop;
	ev_io_stop(loop, &x->w);
	ev_io_set(&x->w, x->w.fd, to_ev(events));
	if (events)
		ev_io_start(loop, &x->w);
}

static void api_fd_unwatch(mpci_watch *x)
{
	if (!x)
		return;
	reg_del(&x->reg);
	watch_release(&x->reg);
}

static int api_post(mpci_plugin *self, void (*cb)(void *ud), void *ud)
{
	struct host *h = self->host;
	struct post_item *pi = calloc(1, sizeof(*pi));
	if (!pi || !cb) {
		free(pi);
		return cb ? MPCI_ERR_NOMEM : MPCI_ERR_INVAL;
	}
	pi->plugin = self;
	pi->cb = cb;
	pi->ud = ud;
	pthread_mutex_lock(&h->post_lock);
	*h->post_tail = pi;
	h->post_tail = &pi->next;
	pthread_mutex_unlock(&h->post_lock);
	ev_async_send(h->o.loop, &h->post_wakeup);
	return MPCI_OK;
}

/* ---- HTTP ---- */

struct mpci_http {
	struct reg reg;
	mpci_plugin *p;
	struct http_req *req;
	int in_callback;            /* http_cancel from the callback: nothing to do */
	mpci_http_fn cb;
	void *ud;
};

static void http_done(const struct http_response *res, void *ud)
{
	struct mpci_http *x = ud;
	struct mpci_http_header hs[HTTP_MAX_HEADERS];
	size_t nh = res->n_headers < HTTP_MAX_HEADERS ? res->n_headers : HTTP_MAX_HEADERS;
	for (size_t i = 0; i < nh; i++)
		hs[i] = (struct mpci_http_header){ res->headers[i].name, res->headers[i].value };
	struct mpci_http_response r = {
		.struct_size = sizeof(r),
		.status = res->status,
		.error = res->error,
		.body = res->body,
		.body_len = res->body_len,
		.content_type = res->content_type,
		.elapsed = res->elapsed,
		.headers = nh ? hs : NULL,
		.n_headers = nh,
	};
	reg_del(&x->reg);
	x->in_callback = 1;
	double t0 = host_call_begin();
	x->cb(&r, x->ud);
	host_call_end(x->p, "http", t0);
	free(x);
}

static void http_release(struct reg *r)
{
	struct mpci_http *x = (struct mpci_http *)r;
	http_cancel(x->req);
	free(x);
}

static mpci_http *api_http_request(mpci_plugin *self,
				   const struct mpci_http_request *req_in,
				   mpci_http_fn cb, void *ud)
{
	struct mpci_http_request req;
	if (!cb || copy_in(&req, sizeof(req), req_in) < 0 || !req.url)
		return NULL;
	struct http_opts o = {
		.method = req.method,
		.url = req.url,
		.headers = req.headers,
		.body = req.body,
		.body_len = req.body_len,
		.timeout = req.timeout,
		.max_response = req.max_response,
		.unix_socket = req.unix_socket,
		.ca_file = req.ca_file,
		.client_cert = req.client_cert,
		.client_key = req.client_key,
		.pinned_pubkey = req.pinned_pubkey,
	};
	struct mpci_http *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->p = self;
	x->cb = cb;
	x->ud = ud;
	x->reg.release = http_release;
	x->req = http_request(self->host->o.http, &o, http_done, x);
	if (!x->req) {
		free(x);
		return NULL;
	}
	reg_add(self, &x->reg);
	return x;
}

static void api_http_cancel(mpci_http *x)
{
	if (!x || x->in_callback)
		return;
	reg_del(&x->reg);
	http_release(&x->reg);
}

/* ---- metrics ---- */

static mpci_metric *api_metric_counter(mpci_plugin *self, const char *name,
				       const char *help, const char *const *labels)
{
	char err[256];
	struct metric *m = metrics_counter(self->host->o.metrics, name, help,
					   labels, err, sizeof(err));
	if (!m)
		log_error(self->name, "%s", err);
	return (mpci_metric *)m;
}

static mpci_metric *api_metric_gauge(mpci_plugin *self, const char *name,
				     const char *help, const char *const *labels)
{
	char err[256];
	struct metric *m = metrics_gauge(self->host->o.metrics, name, help,
					 labels, err, sizeof(err));
	if (!m)
		log_error(self->name, "%s", err);
	return (mpci_metric *)m;
}

static mpci_metric *api_metric_histogram(mpci_plugin *self, const char *name,
					 const char *help,
					 const char *const *labels,
					 const double *bounds, size_t n)
{
	char err[256];
	struct metric *m = metrics_histogram(self->host->o.metrics, name, help,
					     labels, bounds, n, err, sizeof(err));
	if (!m)
		log_error(self->name, "%s", err);
	return (mpci_metric *)m;
}

static void api_metric_add(mpci_metric *m, const char *const *v, double x)
{
	metric_add((struct metric *)m, v, x);
}

static void api_metric_set(mpci_metric *m, const char *const *v, double x)
{
	metric_set((struct metric *)m, v, x);
}

static void api_metric_observe(mpci_metric *m, const char *const *v, double x)
{
	metric_observe((struct metric *)m, v, x);
}

static void api_metric_remove(mpci_metric *m, const char *const *v)
{
	metric_remove((struct metric *)m, v);
}

static void api_metrics_collect(mpci_plugin *self, mpci_metric_visit_fn fn, void *ud)
{
	if (fn)
		metrics_collect(self->host->o.metrics, fn, ud);
}

/* ---- subscriptions ---- */

enum sub_kind { SUB_STATE, SUB_BLOCKS };

struct mpci_sub {
	struct reg reg;
	enum sub_kind kind;
	mpci_plugin *p;
	void *handle;               /* the source's */
	mpci_view_fn state_cb;
	struct mpci_block_handlers bh;
	void *ud;
	mpci_free_fn ud_free;
};

static void sub_release(struct reg *r)
{
	struct mpci_sub *s = (struct mpci_sub *)r;
	const struct provider *pv = &s->p->host->o.provider;
	if (s->handle) {
		if (s->kind == SUB_STATE)
			pv->ops->state_unsubscribe(pv->src, s->handle);
		else
			pv->ops->blocks_unsubscribe(pv->src, s->handle);
	}
	if (s->ud_free)
		s->ud_free(s->ud);
	free(s);
}

static void state_deliver(void *ctx, const struct mpci_view_result *r)
{
	struct mpci_sub *s = ctx;
	mpci_plugin *p = s->p; /* the callback may unsubscribe */
	double t0 = host_call_begin();
	s->state_cb(r, s->ud);
	host_call_end(p, "state", t0);
}

static int api_subscribe_state(mpci_plugin *self, const struct mpci_view_spec *spec_in,
			       mpci_view_fn cb, void *ud, mpci_free_fn ud_free,
			       mpci_sub **out)
{
	const struct provider *pv = &self->host->o.provider;
	struct mpci_view_spec spec;
	char err[256] = "";
	int rc = MPCI_ERR_INVAL;

	if (out)
		*out = NULL;
	if (!registering(self, "subscribe_state")) {
		rc = MPCI_ERR_PHASE;
		goto fail;
	}
	if (!cb || copy_in(&spec, sizeof(spec), spec_in) < 0 || !spec.method)
		goto fail;
	if (!pv->ops || !pv->ops->state_subscribe) {
		rc = MPCI_ERR_UNSUPPORTED;
		goto fail;
	}
	struct mpci_sub *s = calloc(1, sizeof(*s));
	if (!s) {
		rc = MPCI_ERR_NOMEM;
		goto fail;
	}
	s->kind = SUB_STATE;
	s->p = self;
	s->state_cb = cb;
	s->ud = ud;
	s->ud_free = ud_free;
	s->reg.release = sub_release;
	s->handle = pv->ops->state_subscribe(pv->src, &spec, state_deliver, s,
					     err, sizeof(err));
	if (!s->handle) {
		log_error(self->name, "subscribe_state %s: %s", spec.method, err);
		free(s);
		goto fail;
	}
	reg_add(self, &s->reg);
	if (out)
		*out = s;
	return MPCI_OK;
fail:
	if (ud_free)
		ud_free(ud);
	return rc;
}

/* One-shot views outlive nothing: if the plugin goes first, the result is dropped. */
struct pending {
	struct reg reg;
	mpci_plugin *p;             /* NULL once the plugin has gone */
	mpci_view_fn view_cb;
	mpci_tx_fn tx_cb;
	void *ud;
};

static void pending_release(struct reg *r)
{
	((struct pending *)r)->p = NULL; /* freed when the source answers */
}

static void view_deliver(void *ctx, const struct mpci_view_result *r)
{
	struct pending *v = ctx;
	if (v->p) {
		reg_del(&v->reg);
		double t0 = host_call_begin();
		v->view_cb(r, v->ud);
		host_call_end(v->p, "view", t0);
	}
	free(v);
}

static int api_view(mpci_plugin *self, const struct mpci_view_spec *spec_in,
		    mpci_view_fn cb, void *ud)
{
	const struct provider *pv = &self->host->o.provider;
	struct mpci_view_spec spec;
	if (!cb || copy_in(&spec, sizeof(spec), spec_in) < 0 || !spec.method)
		return MPCI_ERR_INVAL;
	if (!pv->ops || !pv->ops->view)
		return MPCI_ERR_UNSUPPORTED;
	struct pending *v = calloc(1, sizeof(*v));
	if (!v)
		return MPCI_ERR_NOMEM;
	v->p = self;
	v->view_cb = cb;
	v->ud = ud;
	v->reg.release = pending_release;
	reg_add(self, &v->reg);
	int rc = pv->ops->view(pv->src, &spec, view_deliver, v);
	if (rc != MPCI_OK) {
		reg_del(&v->reg);
		free(v);
	}
	return rc;
}

static void blocks_block(void *ctx, const struct mpci_block *b)
{
	struct mpci_sub *s = ctx;
	if (!s->bh.block)
		return;
	mpci_plugin *p = s->p; /* the callback may unsubscribe */
	double t0 = host_call_begin();
	s->bh.block(b, s->ud);
	host_call_end(p, "block", t0);
}

static void blocks_orphaned(void *ctx, uint64_t height, const char *hash)
{
	struct mpci_sub *s = ctx;
	if (!s->bh.orphaned)
		return;
	mpci_plugin *p = s->p;
	double t0 = host_call_begin();
	s->bh.orphaned(height, hash, s->ud);
	host_call_end(p, "orphaned", t0);
}

static void blocks_finalized(void *ctx, uint64_t height, const char *hash)
{
	struct mpci_sub *s = ctx;
	if (!s->bh.finalized)
		return;
	mpci_plugin *p = s->p;
	double t0 = host_call_begin();
	s->bh.finalized(height, hash, s->ud);
	host_call_end(p, "finalized", t0);
}

static const struct provider_block_sink block_sink = {
	blocks_block, blocks_orphaned, blocks_finalized,
};

static int api_subscribe_blocks(mpci_plugin *self, const struct mpci_block_sub *sub_in,
				const struct mpci_block_handlers *h, void *ud,
				mpci_free_fn ud_free, mpci_sub **out)
{
	const struct provider *pv = &self->host->o.provider;
	struct mpci_block_sub sub = { .struct_size = sizeof(sub) };
	char err[256] = "";
	int rc = MPCI_ERR_INVAL;

	if (out)
		*out = NULL;
	if (!registering(self, "subscribe_blocks")) {
		rc = MPCI_ERR_PHASE;
		goto fail;
	}
	if (!h || (sub_in && copy_in(&sub, sizeof(sub), sub_in) < 0))
		goto fail;
	for (size_t i = 0; i < sub.n_filters; i++)
		if (!sub.filters || !sub.filters[i].account)
			goto fail;
	if (!pv->ops || !pv->ops->blocks_subscribe) {
		rc = MPCI_ERR_UNSUPPORTED;
		goto fail;
	}
	struct mpci_sub *s = calloc(1, sizeof(*s));
	if (!s) {
		rc = MPCI_ERR_NOMEM;
		goto fail;
	}
	s->kind = SUB_BLOCKS;
	s->p = self;
	copy_in(&s->bh, sizeof(s->bh), h);
	s->ud = ud;
	s->ud_free = ud_free;
	s->reg.release = sub_release;
	s->handle = pv->ops->blocks_subscribe(pv->src, &sub, &block_sink, s,
					      err, sizeof(err));
	if (!s->handle) {
		log_error(self->name, "subscribe_blocks: %s", err);
		free(s);
		goto fail;
	}
	reg_add(self, &s->reg);
	if (out)
		*out = s;
	return MPCI_OK;
fail:
	if (ud_free)
		ud_free(ud);
	return rc;
}

static void api_unsubscribe(mpci_sub *s)
{
	if (!s)
		return;
	reg_del(&s->reg);
	sub_release(&s->reg);
}

/* ---- transactions, signers, status ---- */

static void tx_deliver(void *ctx, const struct mpci_tx_result *r)
{
	struct pending *t = ctx;
	if (t->p) {
		reg_del(&t->reg);
		double t0 = host_call_begin();
		t->tx_cb(r, t->ud);
		host_call_end(t->p, "tx", t0);
	}
	free(t);
}

static int api_tx_submit(mpci_plugin *self, const struct mpci_tx_request *req_in,
			 mpci_tx_fn cb, void *ud, uint64_t *id)
{
	const struct provider *pv = &self->host->o.provider;
	struct mpci_tx_request req;
	char err[256] = "";
	if (copy_in(&req, sizeof(req), req_in) < 0 || !req.method)
		return MPCI_ERR_INVAL;
	if (!pv->ops || !pv->ops->tx_submit)
		return MPCI_ERR_UNSUPPORTED;
	struct pending *t = calloc(1, sizeof(*t));
	if (!t)
		return MPCI_ERR_NOMEM;
	t->p = self;
	t->tx_cb = cb;
	t->ud = ud;
	t->reg.release = pending_release;
	reg_add(self, &t->reg);
	int rc = pv->ops->tx_submit(pv->src, &req, cb ? tx_deliver : NULL,
				    cb ? t : NULL, id, err, sizeof(err));
	if (rc != MPCI_OK || !cb) {
		if (rc != MPCI_OK)
			log_error(self->name, "tx %s: %s", req.method, err);
		reg_del(&t->reg);
		free(t);
	}
	return rc;
}

static int api_signer_info(mpci_plugin *self, const char *name,
			   struct mpci_signer_info *out)
{
	const struct provider *pv = &self->host->o.provider;
	struct mpci_signer_info info = { .struct_size = sizeof(info) };
	if (!out)
		return MPCI_ERR_INVAL;
	if (!pv->ops || !pv->ops->signer_info)
		return MPCI_ERR_UNSUPPORTED;
	int rc = pv->ops->signer_info(pv->src, name, &info);
	if (rc == MPCI_OK)
		copy_out(out, &info, sizeof(info));
	return rc;
}

static void api_status(mpci_plugin *self, struct mpci_status *out)
{
	const struct provider *pv = &self->host->o.provider;
	struct mpci_status st = { .struct_size = sizeof(st) };
	if (!out)
		return;
	if (pv->ops && pv->ops->status)
		pv->ops->status(pv->src, &st);
	copy_out(out, &st, sizeof(st));
}

static const char *api_state_dir(mpci_plugin *self)
{
	return self->host->o.state_dir;
}

static const struct mpci_host_api table = {
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
	.metric_counter = api_metric_counter,
	.metric_gauge = api_metric_gauge,
	.metric_histogram = api_metric_histogram,
	.metric_add = api_metric_add,
	.metric_set = api_metric_set,
	.metric_observe = api_metric_observe,
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

const struct mpci_host_api *host_api_table(void)
{
	return &table;
}
