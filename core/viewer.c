/* The state viewer: shared polls, change detection, subscriber policies.
 * See viewer.h for the rules. */
#include <ev.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "near/account_id.h"
#include "viewer.h"

#define V_LOG "viewer"
#define V_MAX_ARGS (64 * 1024)
#define V_MAX_METHOD 256
#define V_MIN_INTERVAL 0.01

struct sub;

struct poll {
	struct viewer *v;
	struct poll *next;
	char *contract, *method, *args;
	int standing;
	double standing_interval;	/* 0 = the update default */
	struct sub *subs;
	void *inflight;
	ev_timer timer;
	double due;			/* when the next call starts; < 0: not scheduled */
	double last_done;		/* when the last call finished; < 0: never */
	unsigned fails;			/* consecutive failures */
	int standing_ok;		/* the standing poll has seen a success */

	/* the current observation */
	int have, ok;
	char *value;
	size_t value_len;
	char *error;
	uint64_t height;		/* where it was first observed */
	char hash[72];
	uint64_t max_height;		/* newest height any answer carried */
	int dead;
};

struct sub {
	struct poll *p;
	struct sub *next;
	struct mpci_poll_policy boot, upd;
	provider_view_fn deliver;
	void *ctx;
	int bootstrapped;		/* has been given a success */
	int primed;			/* has been given its first value */
	int ended;			/* FailFast ended it; kept until unsubscribed */
	int dead;			/* unsubscribed */
};

#define LIVE(s) (!(s)->dead && !(s)->ended)

/* A one-shot view in flight. */
struct oneshot {
	struct viewer *v;
	struct oneshot *prev, *next;
	char *contract, *method;
	void *call;
	provider_view_fn deliver;
	void *ctx;
};

struct viewer {
	struct ev_loop *loop;
	struct rpc *rpc;
	struct viewer_backend be;
	char *contract;
	struct mpci_poll_policy boot, upd;
	double jitter;
	struct poll *polls;
	struct sub *ended;		/* ended subscriptions, off their polls */
	struct oneshot shots;		/* list head */
	ev_timer prime;			/* first deliveries, from the loop */
	double (*clock)(void *ud);
	void *clock_ud;
	uint64_t rng;
	uint64_t calls;
	int busy;			/* delivery depth: reaping waits for 0 */
	int closing;
	struct metric *m_polls, *m_changes, *m_subs, *m_height;
};

static void poll_start(struct poll *p);
static void reap(struct viewer *v);
static void viewer_really_free(struct viewer *v);

/* ---- small things --------------------------------------------------------- */

static double vnow(const struct viewer *v)
{
	return v->clock ? v->clock(v->clock_ud) : ev_now(v->loop);
}

static double rnd01(struct viewer *v)
{
	v->rng ^= v->rng << 13;
	v->rng ^= v->rng >> 7;
	v->rng ^= v->rng << 17;
	return (double)(v->rng >> 11) / 9007199254740992.0;
}

int viewer_parse_retry(const char *s, int *out)
{
	if (!s)
		return -1;
	if (!strcmp(s, "fail_fast") || !strcmp(s, "failfast"))
		*out = MPCI_RETRY_FAIL_FAST;
	else if (!strcmp(s, "fixed"))
		*out = MPCI_RETRY_FIXED;
	else if (!strcmp(s, "exponential"))
		*out = MPCI_RETRY_EXPONENTIAL;
	else
		return -1;
	return 0;
}

const char *viewer_retry_name(int retry)
{
	switch (retry) {
	case MPCI_RETRY_FAIL_FAST: return "fail_fast";
	case MPCI_RETRY_FIXED: return "fixed";
	case MPCI_RETRY_EXPONENTIAL: return "exponential";
	default: return "default";
	}
}

static void fill_policy(struct mpci_poll_policy *out, const struct mpci_poll_policy *in,
			const struct mpci_poll_policy *def)
{
	*out = *def;
	if (!in)
		return;
	if (in->interval > 0)
		out->interval = in->interval;
	if (in->retry)
		out->retry = in->retry;
	if (in->backoff_initial > 0)
		out->backoff_initial = in->backoff_initial;
	if (in->backoff_max > 0)
		out->backoff_max = in->backoff_max;
	if (out->backoff_max < out->backoff_initial)
		out->backoff_max = out->backoff_initial;
}

static int policy_ok(const struct mpci_poll_policy *p, const char *which, char *err, size_t n)
{
	if (!p)
		return 0;
	if (!isfinite(p->interval) || p->interval < 0 || !isfinite(p->backoff_initial) ||
	    p->backoff_initial < 0 || !isfinite(p->backoff_max) || p->backoff_max < 0) {
		snprintf(err, n, "%s policy: times must be finite and not negative", which);
		return -1;
	}
	if (p->interval > 0 && p->interval < V_MIN_INTERVAL) {
		snprintf(err, n, "%s policy: interval %g s is below %g s", which, p->interval,
			 V_MIN_INTERVAL);
		return -1;
	}
	if (p->retry < MPCI_RETRY_DEFAULT || p->retry > MPCI_RETRY_EXPONENTIAL) {
		snprintf(err, n, "%s policy: unknown retry %d", which, p->retry);
		return -1;
	}
	return 0;
}

void viewer_policy(const struct viewer *v, const struct mpci_view_spec *spec,
		   struct mpci_poll_policy *bootstrap, struct mpci_poll_policy *update)
{
	fill_policy(bootstrap, spec ? spec->bootstrap : NULL, &v->boot);
	fill_policy(update, spec ? spec->update : NULL, &v->upd);
}

/* Delay before the next retry after `fails` consecutive failures; -1 = FailFast. */
static double retry_delay(const struct mpci_poll_policy *p, unsigned fails)
{
	if (p->retry == MPCI_RETRY_FAIL_FAST)
		return -1;
	if (p->retry == MPCI_RETRY_FIXED)
		return p->backoff_initial;
	double d = p->backoff_initial;
	for (unsigned i = 1; i < fails && d < p->backoff_max; i++)
		d *= 2;
	return d < p->backoff_max ? d : p->backoff_max;
}

/* ---- metrics -------------------------------------------------------------- */

static int make_metrics(struct viewer *v, struct metrics *reg, char *err, size_t n)
{
	static const char *const l2[] = { "method", "outcome", NULL };
	static const char *const l1[] = { "method", NULL };
	if (!reg)
		return 0;
	v->m_polls = metrics_counter(reg, "mpc_indexer_view_polls_total",
				     "contract view polls by method and outcome (ok, stale or the error class)",
				     l2, err, n);
	v->m_changes = metrics_counter(reg, "mpc_indexer_view_changes_total",
				       "changes of a view's value or error delivered to subscribers",
				       l1, err, n);
	v->m_subs = metrics_gauge(reg, "mpc_indexer_view_subscribers",
				  "subscribers of a polled view", l1, err, n);
	v->m_height = metrics_gauge(reg, "mpc_indexer_view_observed_height",
				    "block height of a view's current value", l1, err, n);
	return v->m_polls && v->m_changes && v->m_subs && v->m_height ? 0 : -1;
}

static void count_subs(struct poll *p)
{
	double n = 0;
	for (struct poll *q = p->v->polls; q; q = q->next)
		if (!q->dead && !strcmp(q->method, p->method))
			for (struct sub *s = q->subs; s; s = s->next)
				n += LIVE(s);
	const char *lv[] = { p->method, NULL };
	metric_set(p->v->m_subs, lv, n);
}

/* ---- backends ------------------------------------------------------------- */

static void *rpc_backend_call(void *ctx, const char *contract, const char *method,
			      const char *args, rpc_view_fn cb, void *ud)
{
	return rpc_view_call(ctx, contract, method, args, "final", NULL, cb, ud);
}

static void rpc_backend_cancel(void *ctx, void *call)
{
	rpc_cancel(call);
}

void viewer_set_backend(struct viewer *v, const struct viewer_backend *b)
{
	v->be = *b;
}

void viewer_set_clock(struct viewer *v, double (*now)(void *ud), void *ud)
{
	v->clock = now;
	v->clock_ud = ud;
	/* polls waiting on the loop's clock start at once on the new one */
	for (struct poll *p = v->polls; p; p = p->next) {
		ev_timer_stop(v->loop, &p->timer);
		if (p->due >= 0)
			p->due = vnow(v);
	}
}

void viewer_set_seed(struct viewer *v, uint64_t seed)
{
	v->rng = seed ? seed : 1;
}

/* ---- delivery ------------------------------------------------------------- */

static void deliver(struct sub *s, int final)
{
	struct poll *p = s->p;
	struct mpci_view_result r = {
		.struct_size = sizeof(r),
		.contract = p->contract,
		.method = p->method,
		.ok = p->ok,
		.value = p->ok ? p->value : NULL,
		.value_len = p->ok ? p->value_len : 0,
		.error = p->ok ? NULL : p->error,
		.block_height = p->height,
		.block_hash = p->hash,
		.final = final,
	};
	s->primed = 1;
	if (p->ok)
		s->bootstrapped = 1;
	if (final)
		s->ended = 1;
	s->deliver(s->ctx, &r);
}

/* FailFast subscribers end with the first failure they are given. */
static int ends_here(const struct poll *p, const struct sub *s)
{
	const struct mpci_poll_policy *pol = s->bootstrapped ? &s->upd : &s->boot;
	return !p->ok && pol->retry == MPCI_RETRY_FAIL_FAST;
}

/* Callers hold v->busy. */
static void deliver_all(struct poll *p)
{
	struct viewer *v = p->v;
	for (struct sub *s = p->subs; s && !v->closing; s = s->next)
		if (LIVE(s))
			deliver(s, ends_here(p, s));
}

/* Leave a delivery: 1 when the viewer was freed meanwhile (touch nothing). */
static int leave(struct viewer *v)
{
	if (--v->busy)
		return 0;
	if (v->closing) {
		viewer_really_free(v);
		return 1;
	}
	reap(v);
	return 0;
}

static void on_prime(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct viewer *v = w->data;
	v->busy++;
	for (struct poll *p = v->polls; p && !v->closing; p = p->next) {
		if (p->dead || !p->have)
			continue;
		for (struct sub *s = p->subs; s && !v->closing; s = s->next)
			if (LIVE(s) && !s->primed)
				deliver(s, ends_here(p, s));
	}
	leave(v);
}

static void prime_soon(struct viewer *v)
{
	if (!ev_is_active(&v->prime)) {
		ev_timer_set(&v->prime, 0, 0);
		ev_timer_start(v->loop, &v->prime);
	}
}

/* ---- polls ---------------------------------------------------------------- */

static int has_live_subs(const struct poll *p)
{
	for (const struct sub *s = p->subs; s; s = s->next)
		if (LIVE(s))
			return 1;
	return 0;
}

static void poll_free(struct poll *p)
{
	if (p->inflight)
		p->v->be.cancel(p->v->be.ctx, p->inflight);
	ev_timer_stop(p->v->loop, &p->timer);
	while (p->subs) {
		struct sub *s = p->subs;
		p->subs = s->next;
		free(s);
	}
	free(p->contract);
	free(p->method);
	free(p->args);
	free(p->value);
	free(p->error);
	free(p);
}

/* Free unsubscribed subscribers, park ended ones, drop unwanted polls; only
 * when no delivery is running. */
static void reap(struct viewer *v)
{
	if (v->busy)
		return;
	for (struct poll **pp = &v->polls; *pp;) {
		struct poll *p = *pp;
		for (struct sub **sp = &p->subs; *sp;) {
			struct sub *s = *sp;
			if (s->dead || s->ended) {
				*sp = s->next;
				if (s->dead) {
					free(s);
				} else {
					s->p = NULL;
					s->next = v->ended;
					v->ended = s;
				}
			} else {
				sp = &s->next;
			}
		}
		if (!p->standing && !has_live_subs(p))
			p->dead = 1;
		if (p->dead) {
			*pp = p->next;
			const char *lv[] = { p->method, NULL };
			metric_set(v->m_subs, lv, 0);
			poll_free(p);
		} else {
			pp = &p->next;
			count_subs(p);
		}
	}
}

/* The delay until the next call, from the subscribers' policies. */
static double next_delay(struct poll *p)
{
	struct viewer *v = p->v;
	double d = INFINITY;
	int retrying = p->fails > 0;

	if (p->standing) {
		const struct mpci_poll_policy *pol = p->standing_ok ? &v->upd : &v->boot;
		if (!retrying) {
			d = p->standing_interval > 0 ? p->standing_interval : v->upd.interval;
		} else {
			struct mpci_poll_policy never_fatal = *pol;
			if (never_fatal.retry == MPCI_RETRY_FAIL_FAST)
				never_fatal.retry = MPCI_RETRY_FIXED;
			d = retry_delay(&never_fatal, p->fails);
		}
	}
	for (struct sub *s = p->subs; s; s = s->next) {
		if (!LIVE(s))
			continue;
		double sd;
		if (!retrying)
			sd = s->upd.interval;
		else
			sd = retry_delay(s->bootstrapped ? &s->upd : &s->boot, p->fails);
		if (sd >= 0 && sd < d)
			d = sd;
	}
	if (!isfinite(d))
		return -1;
	if (retrying && v->jitter > 0)
		d += v->jitter * rnd01(v);
	return d;
}

static void poll_schedule_at(struct poll *p, double due)
{
	struct viewer *v = p->v;
	double t = vnow(v);
	if (due < t)
		due = t;
	p->due = due;
	if (!v->clock) {
		ev_timer_stop(v->loop, &p->timer);
		ev_timer_set(&p->timer, due - t, 0);
		ev_timer_start(v->loop, &p->timer);
	}
}

/* After a call finished, or the subscribers changed: when is the next one? */
static void poll_reschedule(struct poll *p)
{
	if (p->inflight || p->dead)
		return;
	if (p->last_done < 0) {
		poll_schedule_at(p, vnow(p->v));
		return;
	}
	double d = next_delay(p);
	if (d < 0) {
		p->due = -1;
		ev_timer_stop(p->v->loop, &p->timer);
		return;
	}
	poll_schedule_at(p, p->last_done + d);
}

static void on_poll_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	poll_start(w->data);
}

static int same_error(const struct poll *p, const char *msg)
{
	return !p->ok && p->error && !strcmp(p->error, msg);
}

/* Take in one answer; deliver it if it is news.  Callers hold v->busy. */
static void poll_update(struct poll *p, const struct rpc_view_result *res)
{
	struct viewer *v = p->v;
	uint64_t h = res->block_height;
	const char *lv[] = { p->method, NULL, NULL };

	if (h && h < p->max_height) {
		/* a lagging endpoint: older than what subscribers have seen */
		lv[1] = "stale";
		metric_add(v->m_polls, lv, 1);
		return;
	}
	lv[1] = res->ok ? "ok" : rpc_class_name(res->cls);
	metric_add(v->m_polls, lv, 1);
	lv[1] = NULL;
	if (h > p->max_height)
		p->max_height = h;

	int changed;
	if (res->ok) {
		p->fails = 0;
		p->standing_ok = 1;
		changed = !p->have || !p->ok || p->value_len != res->value_len ||
			  memcmp(p->value, res->value, res->value_len) != 0;
	} else {
		p->fails++;
		changed = !p->have || !same_error(p, res->message);
		if (p->fails == 1 || changed)
			log_warn(V_LOG, "%s.%s: %s", p->contract, p->method, res->message);
	}
	if (!changed) {
		/* nothing new, but a FailFast subscriber still ends at a failure */
		for (struct sub *s = p->subs; s && !res->ok && !v->closing; s = s->next)
			if (LIVE(s) && ends_here(p, s))
				deliver(s, 1);
		return;
	}
	char *nv = NULL, *ne = NULL;
	if (res->ok ? !(nv = malloc(res->value_len + 1)) : !(ne = strdup(res->message))) {
		log_error(V_LOG, "%s: out of memory; dropping an update", p->method);
		return;
	}
	if (nv) {
		memcpy(nv, res->value, res->value_len);
		nv[res->value_len] = '\0';
	}
	free(p->value);
	free(p->error);
	p->value = nv;
	p->value_len = res->ok ? res->value_len : 0;
	p->error = ne;
	p->ok = res->ok;
	p->have = 1;
	p->height = h ? h : p->max_height;
	snprintf(p->hash, sizeof(p->hash), "%s", h && res->block_hash ? res->block_hash : "");
	metric_add(v->m_changes, lv, 1);
	if (p->height)
		metric_set(v->m_height, lv, (double)p->height);
	if (p->ok)
		log_debug(V_LOG, "%s.%s changed at %llu (%zu bytes)", p->contract, p->method,
			  (unsigned long long)p->height, p->value_len);
	deliver_all(p);
}

static void poll_done(const struct rpc_view_result *res, void *ud)
{
	struct poll *p = ud;
	struct viewer *v = p->v;

	p->inflight = NULL;
	p->last_done = vnow(v);
	v->busy++;
	poll_update(p, res);
	if (!v->closing && !p->dead && (p->standing || has_live_subs(p)))
		poll_reschedule(p);
	leave(v);
}

static void poll_start(struct poll *p)
{
	struct viewer *v = p->v;
	if (p->inflight || p->dead)
		return;
	p->due = -1;
	v->calls++;
	p->inflight = v->be.call(v->be.ctx, p->contract, p->method, p->args, poll_done, p);
	if (!p->inflight) {
		/* only out of memory: try again as after a failure */
		log_error(V_LOG, "%s: cannot start a view call", p->method);
		p->fails++;
		p->last_done = vnow(v);
		poll_reschedule(p);
	}
}

static struct poll *poll_find(struct viewer *v, const char *contract, const char *method,
			      const char *args)
{
	for (struct poll *p = v->polls; p; p = p->next)
		if (!p->dead && !strcmp(p->contract, contract) && !strcmp(p->method, method) &&
		    !strcmp(p->args, args))
			return p;
	return NULL;
}

static struct poll *poll_new(struct viewer *v, const char *contract, const char *method,
			     const char *args)
{
	struct poll *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->v = v;
	p->contract = strdup(contract);
	p->method = strdup(method);
	p->args = strdup(args);
	if (!p->contract || !p->method || !p->args) {
		free(p->contract);
		free(p->method);
		free(p->args);
		free(p);
		return NULL;
	}
	p->due = -1;
	p->last_done = -1;
	ev_timer_init(&p->timer, on_poll_timer, 0, 0);
	p->timer.data = p;
	p->next = v->polls;
	v->polls = p;
	return p;
}

/* ---- checking specs ------------------------------------------------------- */

static int check_spec(const struct viewer *v, const struct mpci_view_spec *spec,
		      const char **contract, const char **args, char *err, size_t n)
{
	if (!spec || spec->struct_size < offsetof(struct mpci_view_spec, bootstrap)) {
		snprintf(err, n, "no view spec, or its struct_size is too small");
		return -1;
	}
	*contract = spec->contract ? spec->contract : v->contract;
	*args = spec->args_json ? spec->args_json : "{}";
	if (!*contract) {
		snprintf(err, n, "no contract: give one or set [near] contract");
		return -1;
	}
	if (!near_account_id_valid(*contract, strlen(*contract))) {
		snprintf(err, n, "contract '%.80s' is not a valid NEAR account id", *contract);
		return -1;
	}
	if (!spec->method || !*spec->method || strlen(spec->method) > V_MAX_METHOD) {
		snprintf(err, n, "method must be 1..%d characters", V_MAX_METHOD);
		return -1;
	}
	for (const char *c = spec->method; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			snprintf(err, n, "method '%.80s' has a space or control character", spec->method);
			return -1;
		}
	size_t alen = strlen(*args);
	if (alen > V_MAX_ARGS) {
		snprintf(err, n, "args_json is %zu bytes; at most %d", alen, V_MAX_ARGS);
		return -1;
	}
	cJSON *j = cJSON_ParseWithLength(*args, alen);
	if (!j) {
		snprintf(err, n, "args_json is not valid JSON");
		return -1;
	}
	cJSON_Delete(j);
	if (spec->struct_size >= offsetof(struct mpci_view_spec, update) + sizeof(spec->update) &&
	    (policy_ok(spec->bootstrap, "bootstrap", err, n) < 0 ||
	     policy_ok(spec->update, "update", err, n) < 0))
		return -1;
	return 0;
}

/* ---- subscriptions -------------------------------------------------------- */

void *viewer_subscribe(struct viewer *v, const struct mpci_view_spec *spec,
		       provider_view_fn fn, void *ctx, char *err, size_t errsz)
{
	const char *contract, *args;
	struct sub *s;
	struct poll *p;

	if (v->closing) {
		snprintf(err, errsz, "the viewer is shutting down");
		return NULL;
	}
	if (!fn) {
		snprintf(err, errsz, "no delivery function");
		return NULL;
	}
	if (check_spec(v, spec, &contract, &args, err, errsz) < 0)
		return NULL;
	if (!(s = calloc(1, sizeof(*s)))) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	int full = spec->struct_size >= offsetof(struct mpci_view_spec, update) + sizeof(spec->update);
	fill_policy(&s->boot, full ? spec->bootstrap : NULL, &v->boot);
	fill_policy(&s->upd, full ? spec->update : NULL, &v->upd);
	s->deliver = fn;
	s->ctx = ctx;
	if (!(p = poll_find(v, contract, spec->method, args)) &&
	    !(p = poll_new(v, contract, spec->method, args))) {
		free(s);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	s->p = p;
	/* append: deliveries go out in subscription order */
	struct sub **sp = &p->subs;
	while (*sp)
		sp = &(*sp)->next;
	*sp = s;
	if (p->have)
		prime_soon(v);
	if (!p->inflight) {
		double due = p->due;
		poll_reschedule(p);
		/* a new eager subscriber may pull the next call in, never push it out */
		if (due >= 0 && (p->due < 0 || due < p->due))
			poll_schedule_at(p, due);
	}
	count_subs(p);
	return s;
}

void viewer_unsubscribe(struct viewer *v, void *handle)
{
	struct sub *s = handle;
	if (!s || v->closing)
		return;
	if (!s->p) {
		/* ended by FailFast and parked */
		for (struct sub **sp = &v->ended; *sp; sp = &(*sp)->next)
			if (*sp == s) {
				*sp = s->next;
				free(s);
				return;
			}
		return;
	}
	s->dead = 1;
	count_subs(s->p);
	reap(v);
}

/* ---- one-shot views --------------------------------------------------------- */

static void oneshot_unlink_free(struct oneshot *o)
{
	o->prev->next = o->next;
	o->next->prev = o->prev;
	free(o->contract);
	free(o->method);
	free(o);
}

static void oneshot_done(const struct rpc_view_result *res, void *ud)
{
	struct oneshot *o = ud;
	struct viewer *v = o->v;
	struct mpci_view_result r = {
		.struct_size = sizeof(r),
		.contract = o->contract,
		.method = o->method,
		.ok = res->ok,
		.value = res->ok ? res->value : NULL,
		.value_len = res->ok ? res->value_len : 0,
		.error = res->ok ? NULL : res->message,
		.block_height = res->block_height,
		.block_hash = res->block_hash ? res->block_hash : "",
		.final = 1,
	};
	const char *lv[] = { o->method, res->ok ? "ok" : rpc_class_name(res->cls), NULL };

	metric_add(v->m_polls, lv, 1);
	o->call = NULL;
	/* unlinked first: the callback may free the viewer */
	o->prev->next = o->next;
	o->next->prev = o->prev;
	v->busy++;
	o->deliver(o->ctx, &r);
	free(o->contract);
	free(o->method);
	free(o);
	leave(v);
}

int viewer_view(struct viewer *v, const struct mpci_view_spec *spec,
		provider_view_fn fn, void *ctx)
{
	const char *contract, *args;
	char err[200];
	struct oneshot *o;

	if (v->closing || !fn)
		return MPCI_ERR_INVAL;
	if (check_spec(v, spec, &contract, &args, err, sizeof(err)) < 0) {
		log_warn(V_LOG, "view refused: %s", err);
		return MPCI_ERR_INVAL;
	}
	if (!(o = calloc(1, sizeof(*o))) || !(o->contract = strdup(contract)) ||
	    !(o->method = strdup(spec->method))) {
		if (o) {
			free(o->contract);
			free(o);
		}
		return MPCI_ERR_NOMEM;
	}
	o->v = v;
	o->deliver = fn;
	o->ctx = ctx;
	o->next = &v->shots;
	o->prev = v->shots.prev;
	o->prev->next = o;
	v->shots.prev = o;
	v->calls++;
	o->call = v->be.call(v->be.ctx, contract, spec->method, args, oneshot_done, o);
	if (!o->call) {
		oneshot_unlink_free(o);
		return MPCI_ERR_NOMEM;
	}
	return MPCI_OK;
}

/* ---- life ----------------------------------------------------------------- */

size_t viewer_poll_count(const struct viewer *v)
{
	size_t n = 0;
	for (const struct poll *p = v->polls; p; p = p->next)
		n += !p->dead;
	return n;
}

uint64_t viewer_calls(const struct viewer *v)
{
	return v->calls;
}

int viewer_run_due(struct viewer *v)
{
	int n = 0;
	double t = vnow(v);
	for (struct poll *p = v->polls; p; p = p->next)
		if (!p->dead && !p->inflight && p->due >= 0 && p->due <= t) {
			poll_start(p);
			n++;
		}
	return n;
}

double viewer_next_due(const struct viewer *v)
{
	double best = -1;
	for (const struct poll *p = v->polls; p; p = p->next)
		if (!p->dead && !p->inflight && p->due >= 0 && (best < 0 || p->due < best))
			best = p->due;
	return best;
}

/* "METHOD" or "METHOD/INTERVAL": method into `method`, interval (0 = default). */
static int parse_standing(const char *item, char *method, double *iv, char *err, size_t n)
{
	const char *slash = strchr(item, '/');
	size_t mlen = slash ? (size_t)(slash - item) : strlen(item);

	*iv = 0;
	if (!mlen || mlen > V_MAX_METHOD) {
		snprintf(err, n, "endpoints: '%.80s' is not a method name", item);
		return -1;
	}
	memcpy(method, item, mlen);
	method[mlen] = '\0';
	for (char *c = method; *c; c++)
		if ((unsigned char)*c <= ' ') {
			snprintf(err, n, "endpoints: '%.80s' is not a method name", item);
			return -1;
		}
	if (slash && (cfg_parse_duration(slash + 1, iv) < 0 || *iv < V_MIN_INTERVAL)) {
		snprintf(err, n, "endpoints: '%.80s': the interval after '/' must be a duration of at least %g s",
			 item, V_MIN_INTERVAL);
		return -1;
	}
	return 0;
}

static int add_standing(struct viewer *v, const char *item, char *err, size_t n)
{
	char method[V_MAX_METHOD + 1];
	double iv;

	if (parse_standing(item, method, &iv, err, n) < 0)
		return -1;
	if (!v->contract) {
		log_warn(V_LOG, "no [near] contract: not polling %s", method);
		return 0;
	}
	struct poll *p = poll_find(v, v->contract, method, "{}");
	if (!p && !(p = poll_new(v, v->contract, method, "{}"))) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	p->standing = 1;
	p->standing_interval = iv;
	poll_reschedule(p);
	return 0;
}

struct viewer *viewer_new_with(struct ev_loop *loop, struct rpc *rpc,
			       const struct viewer_config *vc, struct metrics *reg,
			       char *err, size_t errsz)
{
	static const struct mpci_poll_policy builtin = {
		.interval = 1, .retry = MPCI_RETRY_EXPONENTIAL,
		.backoff_initial = 1, .backoff_max = 60,
	};
	struct viewer *v = calloc(1, sizeof(*v));

	if (!v) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	v->loop = loop;
	v->rpc = rpc;
	v->be = (struct viewer_backend){ rpc_backend_call, rpc_backend_cancel, rpc };
	v->shots.next = v->shots.prev = &v->shots;
	v->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ 0x5eed;
	ev_timer_init(&v->prime, on_prime, 0, 0);
	v->prime.data = v;
	v->jitter = vc->jitter < 0 ? 0 : vc->jitter > 0 ? vc->jitter : 1;
	if (policy_ok(&vc->bootstrap, "bootstrap", err, errsz) < 0 ||
	    policy_ok(&vc->update, "update", err, errsz) < 0)
		goto fail;
	fill_policy(&v->boot, &vc->bootstrap, &builtin);
	fill_policy(&v->upd, &vc->update, &builtin);
	if (vc->contract) {
		if (!near_account_id_valid(vc->contract, strlen(vc->contract))) {
			snprintf(err, errsz, "contract '%.80s' is not a valid NEAR account id",
				 vc->contract);
			goto fail;
		}
		if (!(v->contract = strdup(vc->contract))) {
			snprintf(err, errsz, "out of memory");
			goto fail;
		}
	}
	if (make_metrics(v, reg, err, errsz) < 0)
		goto fail;
	for (size_t i = 0; vc->endpoints && vc->endpoints[i]; i++)
		if (add_standing(v, vc->endpoints[i], err, errsz) < 0)
			goto fail;
	return v;
fail:
	viewer_free(v);
	return NULL;
}

static int cfg_policy(const struct cfg *cfg, const char *prefix, struct mpci_poll_policy *p,
		      char *err, size_t n)
{
	char key[64];
	const char *s;

	snprintf(key, sizeof(key), "%sretry", prefix);
	if ((s = cfg_get(cfg, "view", key)) && viewer_parse_retry(s, &p->retry) < 0) {
		char where[300] = "";
		cfg_where(cfg, "view", key, where, sizeof(where));
		snprintf(err, n, "%s: %s: '%.40s' is not fail_fast, fixed or exponential",
			 where, key, s);
		return -1;
	}
	snprintf(key, sizeof(key), "%sbackoff_initial", prefix);
	cfg_get_duration(cfg, "view", key, &p->backoff_initial);
	snprintf(key, sizeof(key), "%sbackoff_max", prefix);
	cfg_get_duration(cfg, "view", key, &p->backoff_max);
	return 0;
}

int viewer_check_config(const struct cfg *cfg, char *err, size_t errsz)
{
	struct mpci_poll_policy upd = { 0 }, boot = { 0 };
	char where[300] = "", method[V_MAX_METHOD + 1], msg[300];
	char **eps = NULL;
	double iv;
	int rc = 0;

	if (cfg_policy(cfg, "", &upd, err, errsz) < 0 ||
	    cfg_policy(cfg, "bootstrap_", &boot, err, errsz) < 0)
		return -1;
	if (cfg_get_duration(cfg, "view", "interval", &iv) == 0 && iv < V_MIN_INTERVAL) {
		cfg_where(cfg, "view", "interval", where, sizeof(where));
		snprintf(err, errsz, "%s: interval: %g s is below %g s", where, iv, V_MIN_INTERVAL);
		return -1;
	}
	cfg_get_list(cfg, "view", "endpoints", &eps);
	for (size_t i = 0; eps && eps[i] && !rc; i++)
		if ((rc = parse_standing(eps[i], method, &iv, msg, sizeof(msg))) < 0) {
			cfg_where(cfg, "view", "endpoints", where, sizeof(where));
			snprintf(err, errsz, "%s: %s", where, msg);
		}
	cfg_list_free(eps);
	return rc;
}

struct viewer *viewer_new(struct ev_loop *loop, struct rpc *rpc, const struct cfg *cfg,
			  struct metrics *reg, char *err, size_t errsz)
{
	struct viewer_config vc = { 0 };
	char **eps = NULL;
	double j = 1;

	if (viewer_check_config(cfg, err, errsz) < 0)
		return NULL;
	vc.contract = cfg_get(cfg, "near", "contract");
	cfg_get_duration(cfg, "view", "interval", &vc.update.interval);
	if (cfg_policy(cfg, "", &vc.update, err, errsz) < 0 ||
	    cfg_policy(cfg, "bootstrap_", &vc.bootstrap, err, errsz) < 0)
		return NULL;
	if (cfg_get_duration(cfg, "view", "jitter", &j) == 0)
		vc.jitter = j > 0 ? j : -1;
	cfg_get_list(cfg, "view", "endpoints", &eps);
	vc.endpoints = (const char *const *)eps;
	struct viewer *v = viewer_new_with(loop, rpc, &vc, reg, err, errsz);
	cfg_list_free(eps);
	return v;
}

static void viewer_really_free(struct viewer *v)
{
	while (v->polls) {
		struct poll *p = v->polls;
		v->polls = p->next;
		poll_free(p);
	}
	while (v->ended) {
		struct sub *s = v->ended;
		v->ended = s->next;
		free(s);
	}
	while (v->shots.next != &v->shots) {
		struct oneshot *o = v->shots.next;
		if (o->call)
			v->be.cancel(v->be.ctx, o->call);
		oneshot_unlink_free(o);
	}
	ev_timer_stop(v->loop, &v->prime);
	free(v->contract);
	free(v);
}

void viewer_free(struct viewer *v)
{
	if (!v)
		return;
	if (!v->busy) {
		viewer_really_free(v);
		return;
	}
	/* inside a delivery: stop everything now, free when it returns */
	v->closing = 1;
	for (struct poll *p = v->polls; p; p = p->next) {
		ev_timer_stop(v->loop, &p->timer);
		if (p->inflight)
			v->be.cancel(v->be.ctx, p->inflight);
		p->inflight = NULL;
	}
	for (struct oneshot *o = v->shots.next; o != &v->shots; o = o->next) {
		if (o->call)
			v->be.cancel(v->be.ctx, o->call);
		o->call = NULL;
	}
	ev_timer_stop(v->loop, &v->prime);
}
