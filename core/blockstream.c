/* The block stream: fetch-ahead window, in-order delivery with continuity checks, fork
 * tracking, failover between sources, the cursor. See blockstream.h. */
#include "blockstream.h"

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block_source.h"
#include "config.h"
#include "cursor.h"
#include "log.h"
#include "metrics.h"
#include "mpc_events.h"
#include "source_neardata.h"
#include "source_rpc.h"
#include "tracker.h"

#define LOG "blocks"
#define MAX_ANCESTORS 64
#define LONG_POLL_AHEAD 2	/* requests beyond the known head, held by the server */

enum slot_state { SL_EMPTY, SL_INFLIGHT, SL_BLOCK, SL_NULL, SL_WAIT };

struct bs_sub {
	struct bs_sub *next;
	size_t id;
	uint64_t from;		/* as asked; 0 = from the cursor */
	uint64_t eff_from;	/* first height it gets */
	struct provider_block_sink sink;
	void *ctx;
	int dead;
};

struct fctx {
	struct blockstream *bs;
	uint64_t height;
	int src;
	void *req;
};

struct slot {
	int state;
	struct mpc_block *blk;
	struct fctx *f;
	double retry_at;
	unsigned attempts;
};

struct source {
	const struct bsrc_ops *ops;
	void *src;
	unsigned fails;		/* consecutive failed fetches */
};

struct orphan {
	uint64_t height;
	uint8_t hash[32];
};

struct blockstream {
	struct ev_loop *loop;
	struct http_client *http;
	struct metrics *reg;
	char *state_dir;
	char *start;
	char resume_hash[NEAR_HASH_B58_MAX];
	int force_start;
	int optimistic;
	unsigned fetch_ahead, fallback_after, tracker_window;
	double probe, cursor_interval, head_interval, retry_max, max_lag;
	struct mpc_matcher *matcher;
	char *contract;

	struct source srcs[2];
	int n_srcs, active;

	struct slot *slots;
	size_t cap;
	uint64_t next;
	int have_tip;
	uint64_t tip_height, tip_ts;
	uint8_t tip_bin[32];
	char tip_hash[NEAR_HASH_B58_MAX];
	uint64_t head, final_height;
	uint8_t final_bin[32];
	int head_known, start_at_head, started, stopped;
	void *head_req;
	int head_req_src, probe_inflight;
	void *probe_req;

	ev_timer head_timer, retry_timer, cursor_timer, probe_timer;

	struct bs_sub *subs;
	size_t next_sub_id;
	int delivering;

	struct tracker *trk;
	struct orphan *orphans;
	size_t n_orphans, cap_orphans;
	int final_moved;

	/* optimistic: a block whose parent is not tracked waits for its ancestors */
	struct mpc_block *anc[MAX_ANCESTORS];
	size_t n_anc;
	uint64_t anc_for;	/* the window height that waits */
	uint8_t anc_want[32];	/* the hash the next ancestor must have */
	struct fctx *anc_f;

	struct cursor_pos saved;
	int cursor_dirty;
	struct warn_rate {	/* one per error class, so a rare class is not hidden by a loud one */
		char cls[24];	/* "" = free */
		double last;
		unsigned suppressed;
	} warn[8];

	struct metric *m_received, *m_processed, *m_final, *m_orphaned, *m_head, *m_finalh,
		*m_processedh, *m_lag_blocks, *m_lag_seconds, *m_switches, *m_active, *m_errors,
		*m_requests, *m_completions, *m_timeouts;
};

/* ---- small helpers ---------------------------------------------------------------- */

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void madd(struct metric *m, const char *l1, const char *l2, double v)
{
	const char *vals[3] = { l1, l2, NULL };

	if (m)
		metric_add(m, vals, v);
}

static void mset(struct metric *m, const char *l1, double v)
{
	const char *vals[2] = { l1, NULL };

	if (m)
		metric_set(m, vals, v);
}

static struct slot *slot_of(struct blockstream *bs, uint64_t h)
{
	return &bs->slots[h % bs->cap];
}

static const char *src_name(const struct blockstream *bs, int i)
{
	return bs->srcs[i].ops->name;
}

/* Warnings about a failing source, at most one a second per error class (the rest are
 * counted and the count is logged with the next one of that class).  fmt takes up to two
 * %s; arguments it does not use are ignored. */
static void warn_limited(struct blockstream *bs, const char *cls, const char *fmt, const char *a,
			 const char *b)
{
	const size_t n = sizeof(bs->warn) / sizeof(bs->warn[0]);
	double now = ev_now(bs->loop);
	struct warn_rate *w = &bs->warn[n - 1];	/* the last slot takes any overflow */

	for (size_t i = 0; i < n; i++) {
		if (!bs->warn[i].cls[0] || strncmp(bs->warn[i].cls, cls, sizeof(w->cls) - 1) == 0) {
			w = &bs->warn[i];
			break;
		}
	}
	if (!w->cls[0]) {
		snprintf(w->cls, sizeof(w->cls), "%s", cls[0] ? cls : "error");
		w->last = -1e9;
	}
	if (now - w->last < 1.0) {
		w->suppressed++;
		return;
	}
	if (w->suppressed)
		log_warn(LOG, "(%u similar %s messages suppressed)", w->suppressed, w->cls);
	w->suppressed = 0;
	w->last = now;
	log_warn(LOG, fmt, a, b);
}

static void register_metrics(struct blockstream *bs)
{
	static const char *src[] = { "source", NULL }, *to[] = { "to", NULL },
			  *err[] = { "source", "class", NULL }, *kind[] = { "kind", NULL };
	struct metrics *r = bs->reg;
	char e[200];

	if (!r)
		return;
	bs->m_received = metrics_counter(r, "mpc_indexer_blocks_received_total",
		"Block documents received, by source", src, e, sizeof(e));
	bs->m_processed = metrics_counter(r, "mpc_indexer_blocks_processed_total",
		"Blocks delivered to subscribers", NULL, e, sizeof(e));
	bs->m_final = metrics_counter(r, "mpc_indexer_blocks_final_total",
		"Blocks delivered or confirmed as final", NULL, e, sizeof(e));
	bs->m_orphaned = metrics_counter(r, "mpc_indexer_blocks_orphaned_total",
		"Delivered blocks that left the canonical chain", NULL, e, sizeof(e));
	bs->m_head = metrics_gauge(r, "mpc_indexer_block_head_height",
		"Newest block height the sources report", NULL, e, sizeof(e));
	bs->m_finalh = metrics_gauge(r, "mpc_indexer_block_final_height",
		"Newest final block height known", NULL, e, sizeof(e));
	bs->m_processedh = metrics_gauge(r, "mpc_indexer_block_processed_height",
		"Height of the last block delivered", NULL, e, sizeof(e));
	bs->m_lag_blocks = metrics_gauge(r, "mpc_indexer_block_lag_blocks",
		"Head height minus the last delivered height", NULL, e, sizeof(e));
	bs->m_lag_seconds = metrics_gauge(r, "mpc_indexer_block_lag_seconds",
		"Now minus the timestamp of the last delivered block", NULL, e, sizeof(e));
	bs->m_switches = metrics_counter(r, "mpc_indexer_block_source_switches_total",
		"Failovers between block sources, by the source switched to", to, e, sizeof(e));
	bs->m_active = metrics_gauge(r, "mpc_indexer_block_source_active",
		"1 for the block source in use", src, e, sizeof(e));
	bs->m_errors = metrics_counter(r, "mpc_indexer_block_fetch_errors_total",
		"Failed block fetches by source and class", err, e, sizeof(e));
	bs->m_requests = metrics_counter(r, "mpc_indexer_mpc_requests_total",
		"MPC requests seen on chain, by kind", kind, e, sizeof(e));
	bs->m_completions = metrics_counter(r, "mpc_indexer_mpc_completions_total",
		"MPC request completions (responses and timeouts) seen on chain, by kind", kind, e,
		sizeof(e));
	bs->m_timeouts = metrics_counter(r, "mpc_indexer_mpc_timeouts_total",
		"fail_on_timeout receipts of the MPC contract", NULL, e, sizeof(e));
}

/* ---- cursor ----------------------------------------------------------------------- */

static void cursor_fill(struct blockstream *bs, struct cursor_pos *p)
{
	memset(p, 0, sizeof(*p));
	p->height = bs->tip_height;
	snprintf(p->hash, sizeof(p->hash), "%s", bs->tip_hash);
	if (bs->optimistic) {
		uint8_t h[32];
		uint64_t fh = bs->trk ? tracker_final_head(bs->trk, h) : 0;
		if (fh) {
			p->final_height = fh;
			near_hash_to_b58(p->final_hash, h);
		} else {
			p->final_height = bs->saved.final_height;
			snprintf(p->final_hash, sizeof(p->final_hash), "%s", bs->saved.final_hash);
		}
	} else {
		p->final_height = p->height;
		snprintf(p->final_hash, sizeof(p->final_hash), "%s", p->hash);
	}
}

static void cursor_persist(struct blockstream *bs)
{
	struct cursor_pos p;
	char err[512];

	if (!bs->state_dir || !bs->have_tip || !bs->cursor_dirty)
		return;
	cursor_fill(bs, &p);
	if (!p.final_hash[0])
		return;	/* optimistic and nothing final delivered yet */
	if (cursor_save(bs->state_dir, &p, err, sizeof(err)) < 0) {
		log_error(LOG, "cannot save the cursor: %s", err);
		return;
	}
	bs->saved = p;
	bs->cursor_dirty = 0;
}

static void cursor_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct blockstream *bs = w->data;

	(void)loop;
	(void)revents;
	cursor_persist(bs);
}

/* ---- delivery --------------------------------------------------------------------- */

static void count_events(struct blockstream *bs, const struct mpc_block *b)
{
	for (size_t i = 0; i < b->n_requests; i++)
		madd(bs->m_requests, mpc_kind_name(b->requests[i].kind), NULL, 1);
	for (size_t i = 0; i < b->n_completions; i++)
		madd(bs->m_completions, mpc_kind_name(b->completions[i].kind), NULL, 1);
	if (b->n_timeouts)
		madd(bs->m_timeouts, NULL, NULL, b->n_timeouts);
}

static void reap_subs(struct blockstream *bs)
{
	struct bs_sub **pp = &bs->subs;

	if (bs->delivering)
		return;
	while (*pp) {
		struct bs_sub *s = *pp;
		if (s->dead) {
			*pp = s->next;
			mpc_matcher_remove(bs->matcher, s->id);
			free(s);
		} else {
			pp = &s->next;
		}
	}
}

static void deliver(struct blockstream *bs, const struct mpc_block *b, int status)
{
	struct mpci_block pb;

	memset(&pb, 0, sizeof(pb));
	pb.struct_size = sizeof(pb);
	pb.height = b->height;
	pb.hash = b->hash;
	pb.prev_hash = b->prev_hash;
	pb.last_final_block = b->last_final_block;
	memcpy(pb.entropy, b->entropy, 32);
	pb.timestamp_nanosec = b->timestamp_nanosec;
	pb.status = status;
	pb.final_height = bs->final_height;
	pb.head_height = bs->head > b->height ? bs->head : b->height;
	pb.requests = b->requests;
	pb.n_requests = b->n_requests;
	pb.completions = b->completions;
	pb.n_completions = b->n_completions;
	pb.n_timeouts = b->n_timeouts;
	bs->delivering++;
	for (struct bs_sub *s = bs->subs; s && !bs->stopped; s = s->next) {
		if (s->dead || b->height < s->eff_from || !s->sink.block)
			continue;
		pb.matches = NULL;
		pb.n_matches = 0;
		for (size_t g = 0; g < b->n_groups; g++)
			if (b->groups[g].sub == s->id) {
				pb.matches = b->matches + b->groups[g].start;
				pb.n_matches = b->groups[g].n;
			}
		s->sink.block(s->ctx, &pb);
	}
	bs->delivering--;
	reap_subs(bs);
	for (int i = 0; i < bs->n_srcs; i++)
		if (bs->srcs[i].ops->observe)
			bs->srcs[i].ops->observe(bs->srcs[i].src, b);
	madd(bs->m_processed, NULL, NULL, 1);
	if (status == MPCI_BLOCK_FINAL)
		madd(bs->m_final, NULL, NULL, 1);
	count_events(bs, b);
}

static void notify(struct blockstream *bs, int finalized, uint64_t height, const uint8_t hash[32])
{
	char hs[NEAR_HASH_B58_MAX];

	near_hash_to_b58(hs, hash);
	bs->delivering++;
	for (struct bs_sub *s = bs->subs; s && !bs->stopped; s = s->next) {
		if (s->dead || height < s->eff_from)
			continue;
		if (finalized && s->sink.finalized)
			s->sink.finalized(s->ctx, height, hs);
		else if (!finalized && s->sink.orphaned)
			s->sink.orphaned(s->ctx, height, hs);
	}
	bs->delivering--;
	reap_subs(bs);
	for (int i = 0; i < bs->n_srcs; i++)
		if (bs->srcs[i].ops->chain)
			bs->srcs[i].ops->chain(bs->srcs[i].src, finalized, height, hs);
}

static void set_tip(struct blockstream *bs, const struct mpc_block *b)
{
	if (bs->have_tip && b->height < bs->tip_height)
		return;
	bs->have_tip = 1;
	bs->tip_height = b->height;
	bs->tip_ts = b->timestamp_nanosec;
	memcpy(bs->tip_bin, b->hash_bin, 32);
	memcpy(bs->tip_hash, b->hash, sizeof(bs->tip_hash));
	bs->cursor_dirty = 1;
	if (bs->head < b->height)
		bs->head = b->height;
	mset(bs->m_processedh, NULL, (double)b->height);
	mset(bs->m_head, NULL, (double)bs->head);
	mset(bs->m_lag_blocks, NULL, (double)(bs->head - b->height));
	mset(bs->m_lag_seconds, NULL, wall_now() - (double)b->timestamp_nanosec / 1e9);
}

static void on_tracker(void *ud, int ev, const struct tracker_block *b, int old, int st)
{
	struct blockstream *bs = ud;

	if ((ev == TRK_EV_STATUS && old == TRK_CANONICAL && st == TRK_FORK) ||
	    (ev == TRK_EV_PRUNED && st == TRK_CANONICAL)) {
		if (bs->n_orphans == bs->cap_orphans) {
			size_t cap = bs->cap_orphans ? bs->cap_orphans * 2 : 8;
			struct orphan *n = realloc(bs->orphans, cap * sizeof(*n));
			if (!n)
				return;
			bs->orphans = n;
			bs->cap_orphans = cap;
		}
		bs->orphans[bs->n_orphans].height = b->height;
		memcpy(bs->orphans[bs->n_orphans].hash, b->hash, 32);
		bs->n_orphans++;
	}
	if (ev == TRK_EV_STATUS && st == TRK_FINAL)
		bs->final_moved = 1;
}

static int mpci_status_of(int trk)
{
	return trk == TRK_FINAL ? MPCI_BLOCK_FINAL : trk == TRK_CANONICAL ? MPCI_BLOCK_CANONICAL
									  : MPCI_BLOCK_FORK;
}

/* Optimistic mode: add blocks (oldest first) to the tracker, then tell subscribers what
 * left the canonical chain, the blocks with their status, and how far finality got. */
static void opt_commit(struct blockstream *bs, struct mpc_block **blocks, size_t n)
{
	struct tracker_block tb;
	size_t i;

	bs->n_orphans = 0;
	bs->final_moved = 0;
	for (i = 0; i < n; i++) {
		memset(&tb, 0, sizeof(tb));
		tb.height = blocks[i]->height;
		memcpy(tb.hash, blocks[i]->hash_bin, 32);
		memcpy(tb.prev_hash, blocks[i]->prev_hash_bin, 32);
		memcpy(tb.last_final, blocks[i]->last_final_bin, 32);
		if (tracker_add(bs->trk, &tb) < 0)
			log_error(LOG, "out of memory in the fork tracker");
	}
	uint8_t fh[32];
	uint64_t fheight = tracker_final_head(bs->trk, fh);
	if (fheight > bs->final_height) {
		bs->final_height = fheight;
		memcpy(bs->final_bin, fh, 32);
		mset(bs->m_finalh, NULL, (double)fheight);
	}
	for (i = 0; i < bs->n_orphans; i++) {
		madd(bs->m_orphaned, NULL, NULL, 1);
		notify(bs, 0, bs->orphans[i].height, bs->orphans[i].hash);
	}
	for (i = 0; i < n && !bs->stopped; i++) {
		int st = tracker_status(bs->trk, blocks[i]->hash_bin);
		deliver(bs, blocks[i], st == TRK_UNKNOWN ? MPCI_BLOCK_FORK : mpci_status_of(st));
		set_tip(bs, blocks[i]);
		if (bs->have_tip && blocks[i]->height == bs->tip_height)
			memcpy(bs->tip_bin, blocks[i]->hash_bin, 32),
			memcpy(bs->tip_hash, blocks[i]->hash, sizeof(bs->tip_hash));
	}
	if (bs->final_moved && fheight && !bs->stopped) {
		madd(bs->m_final, NULL, NULL, 1);
		notify(bs, 1, fheight, fh);
	}
}

/* ---- fetching --------------------------------------------------------------------- */

static void pump(struct blockstream *bs);
static void process(struct blockstream *bs);
static void fetch_done(void *ud, struct bsrc_result *r);

static void slot_cancel(struct blockstream *bs, struct slot *s)
{
	if (s->f) {
		bs->srcs[s->f->src].ops->cancel(bs->srcs[s->f->src].src, s->f->req);
		free(s->f);
		s->f = NULL;
	}
}

static void slot_clear(struct blockstream *bs, struct slot *s)
{
	slot_cancel(bs, s);
	mpc_block_free(s->blk);
	memset(s, 0, sizeof(*s));
}

static double backoff(const struct blockstream *bs, unsigned attempts)
{
	double d = 0.05;

	for (unsigned i = 0; i < attempts && d < bs->retry_max; i++)
		d *= 2;
	return d < bs->retry_max ? d : bs->retry_max;
}

static void anc_cancel(struct blockstream *bs)
{
	if (bs->anc_f) {
		bs->srcs[bs->anc_f->src].ops->cancel(bs->srcs[bs->anc_f->src].src, bs->anc_f->req);
		free(bs->anc_f);
		bs->anc_f = NULL;
	}
	for (size_t i = 0; i < bs->n_anc; i++)
		mpc_block_free(bs->anc[i]);
	bs->n_anc = 0;
}

static void switch_to(struct blockstream *bs, int to, const char *why)
{
	if (to == bs->active || to >= bs->n_srcs)
		return;
	log_warn(LOG, "switching block source from %s to %s: %s", src_name(bs, bs->active),
		 src_name(bs, to), why);
	for (size_t i = 0; i < bs->cap; i++) {
		struct slot *s = &bs->slots[i];
		/* a one-at-a-time source must see every block itself, in order */
		if (s->state == SL_INFLIGHT || bs->srcs[to].ops->sequential)
			slot_clear(bs, s);
	}
	anc_cancel(bs);
	if (bs->head_req) {
		bs->srcs[bs->head_req_src].ops->cancel_head(bs->srcs[bs->head_req_src].src, bs->head_req);
		bs->head_req = NULL;
	}
	mset(bs->m_active, src_name(bs, bs->active), 0);
	bs->active = to;
	bs->srcs[to].fails = 0;
	mset(bs->m_active, src_name(bs, to), 1);
	madd(bs->m_switches, src_name(bs, to), NULL, 1);
	if (to != 0 && !ev_is_active(&bs->probe_timer)) {
		ev_timer_set(&bs->probe_timer, bs->probe, bs->probe);
		ev_timer_start(bs->loop, &bs->probe_timer);
	} else if (to == 0) {
		ev_timer_stop(bs->loop, &bs->probe_timer);
	}
}

static void source_failed(struct blockstream *bs, int src, const struct bsrc_result *r)
{
	madd(bs->m_errors, src_name(bs, src), r->err_class ? r->err_class : "unknown", 1);
	warn_limited(bs, r->err_class ? r->err_class : "error", "%s (%s)",
		     r->error ? r->error : "fetch failed",
		     r->err_class ? r->err_class : "error");
	if (src != bs->active)
		return;
	bs->srcs[src].fails++;
	if (src == 0 && bs->n_srcs > 1 && bs->srcs[src].fails >= bs->fallback_after) {
		char why[64];
		snprintf(why, sizeof(why), "%u consecutive failures", bs->srcs[src].fails);
		switch_to(bs, 1, why);
	}
}

static struct fctx *start_fetch(struct blockstream *bs, uint64_t h)
{
	struct fctx *f = calloc(1, sizeof(*f));
	struct source *src = &bs->srcs[bs->active];

	if (!f)
		return NULL;
	f->bs = bs;
	f->height = h;
	f->src = bs->active;
	f->req = src->ops->fetch(src->src, h, bs->optimistic, h > bs->head, fetch_done, f);
	if (!f->req) {
		free(f);
		return NULL;
	}
	return f;
}

static void arm_retry(struct blockstream *bs, double at)
{
	double now = ev_now(bs->loop), in = at - now;

	if (in < 0.001)
		in = 0.001;
	if (ev_is_active(&bs->retry_timer)) {
		double left = ev_timer_remaining(bs->loop, &bs->retry_timer);
		if (left <= in)
			return;
		ev_timer_stop(bs->loop, &bs->retry_timer);
	}
	ev_timer_set(&bs->retry_timer, in, 0);
	ev_timer_start(bs->loop, &bs->retry_timer);
}

static void pump(struct blockstream *bs)
{
	double now, soonest = 0;

	if (bs->stopped || !bs->head_known || !bs->started)
		return;
	now = ev_now(bs->loop);
	int sequential = bs->srcs[bs->active].ops->sequential;
	for (uint64_t h = bs->next; h < bs->next + bs->cap; h++) {
		struct slot *s = slot_of(bs, h);
		if (h > bs->head + LONG_POLL_AHEAD)
			break;
		if (sequential && s->state == SL_INFLIGHT)
			break;
		if (sequential && s->state != SL_EMPTY && s->state != SL_WAIT)
			continue;
		if (s->state == SL_WAIT && s->retry_at > now) {
			if (!soonest || s->retry_at < soonest)
				soonest = s->retry_at;
			continue;
		}
		if (s->state != SL_EMPTY && s->state != SL_WAIT)
			continue;
		if (!(s->f = start_fetch(bs, h))) {
			s->state = SL_WAIT;
			s->retry_at = now + backoff(bs, ++s->attempts);
			if (!soonest || s->retry_at < soonest)
				soonest = s->retry_at;
			continue;
		}
		s->state = SL_INFLIGHT;
		if (sequential)
			break;
	}
	if (soonest)
		arm_retry(bs, soonest);
}

static void fetch_done(void *ud, struct bsrc_result *r)
{
	struct fctx *f = ud;
	struct blockstream *bs = f->bs;
	struct slot *s = slot_of(bs, f->height);
	double now = ev_now(bs->loop);

	if (s->f != f)
		return;	/* cannot happen: cancelled requests never call back */
	s->f = NULL;
	if (r->status != BSRC_ERROR && f->src == bs->active)
		bs->srcs[f->src].fails = 0;
	switch (r->status) {
	case BSRC_BLOCK:
		s->state = SL_BLOCK;
		s->blk = r->block;
		r->block = NULL;
		s->attempts = 0;
		madd(bs->m_received, src_name(bs, f->src), NULL, 1);
		if (s->blk->height > bs->head) {
			bs->head = s->blk->height;
			mset(bs->m_head, NULL, (double)bs->head);
		}
		break;
	case BSRC_SKIPPED:
		if (!bs->optimistic && bs->head_known && f->height == bs->head) {
			/* the final head has a block by definition: this null is wrong, and
			 * taken as skipped it would wait for the next block to be disproved */
			char why[200];
			struct bsrc_result e = { .status = BSRC_ERROR, .err_class = "invalid",
						 .error = why, .endpoint = r->endpoint };
			snprintf(why, sizeof(why), "block %llu from %s: reported skipped, but it is "
				 "the final head", (unsigned long long)f->height,
				 r->endpoint ? r->endpoint : src_name(bs, f->src));
			s->state = SL_WAIT;
			s->retry_at = now + backoff(bs, ++s->attempts);
			source_failed(bs, f->src, &e);
			break;
		}
		s->state = SL_NULL;
		s->attempts = 0;
		break;
	case BSRC_NOT_YET:
		s->state = SL_WAIT;
		s->retry_at = now + (f->height > bs->head ? 0.05 : 0.25);
		break;
	default:
		s->state = SL_WAIT;
		s->retry_at = now + backoff(bs, ++s->attempts);
		source_failed(bs, f->src, r);
		break;
	}
	free(f);
	process(bs);
	pump(bs);
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	pump(w->data);
}

/* ---- in-order processing ---------------------------------------------------------- */

/* Start over from height h (a block before the window turned out to be missing). */
static void rewind_to(struct blockstream *bs, uint64_t h)
{
	for (size_t i = 0; i < bs->cap; i++)
		slot_clear(bs, &bs->slots[i]);
	anc_cancel(bs);
	bs->next = h;
}

static void refetch(struct blockstream *bs, uint64_t h, double delay)
{
	struct slot *s = slot_of(bs, h);

	if (h < bs->next || h >= bs->next + bs->cap) {
		rewind_to(bs, h);
		return;
	}
	slot_clear(bs, s);
	s->state = SL_WAIT;
	s->attempts = 1;
	s->retry_at = ev_now(bs->loop) + delay;
}

static void anc_fetch_done(void *ud, struct bsrc_result *r);

static void anc_start(struct blockstream *bs, uint64_t height)
{
	struct fctx *f = calloc(1, sizeof(*f));
	struct source *src = &bs->srcs[bs->active];

	if (!f)
		return;
	f->bs = bs;
	f->height = height;
	f->src = bs->active;
	f->req = src->ops->fetch(src->src, height, 1, 0, anc_fetch_done, f);
	if (!f->req) {
		free(f);
		return;
	}
	bs->anc_f = f;
}

/* The chain of ancestors is complete (or given up on): commit it and the waiting block. */
static void anc_finish(struct blockstream *bs)
{
	struct mpc_block *list[MAX_ANCESTORS + 1];
	struct slot *s = slot_of(bs, bs->anc_for);
	size_t n = 0;

	for (size_t i = bs->n_anc; i-- > 0;)
		list[n++] = bs->anc[i];
	bs->n_anc = 0;
	if (s->state == SL_BLOCK && s->blk)
		list[n++] = s->blk;
	s->blk = NULL;
	opt_commit(bs, list, n);
	for (size_t i = 0; i < n; i++)
		mpc_block_free(list[i]);
	for (uint64_t h = bs->next; h <= bs->anc_for; h++)
		slot_clear(bs, slot_of(bs, h));
	bs->next = bs->anc_for + 1;
}

static void anc_fetch_done(void *ud, struct bsrc_result *r)
{
	struct fctx *f = ud;
	struct blockstream *bs = f->bs;
	struct mpc_block *a;

	bs->anc_f = NULL;
	if (r->status != BSRC_BLOCK) {
		if (r->status == BSRC_ERROR)
			source_failed(bs, f->src, r);
		/* the fork moved on (or the source failed): fetch the waiting block again */
		anc_cancel(bs);
		refetch(bs, bs->anc_for, 0.1);
		free(f);
		pump(bs);
		return;
	}
	a = r->block;
	r->block = NULL;
	free(f);
	if (memcmp(a->hash_bin, bs->anc_want, 32) != 0) {
		log_info(LOG, "block %llu changed while its ancestors were fetched; fetching it again",
			 (unsigned long long)bs->anc_for);
		mpc_block_free(a);
		anc_cancel(bs);
		refetch(bs, bs->anc_for, 0.05);
		pump(bs);
		return;
	}
	bs->anc[bs->n_anc++] = a;
	if (tracker_status(bs->trk, a->prev_hash_bin) != TRK_UNKNOWN || bs->n_anc == MAX_ANCESTORS) {
		if (bs->n_anc == MAX_ANCESTORS)
			log_error(LOG, "block %llu: no tracked ancestor within %d blocks; continuing from it",
				  (unsigned long long)bs->anc_for, MAX_ANCESTORS);
		anc_finish(bs);
		process(bs);
		pump(bs);
		return;
	}
	memcpy(bs->anc_want, a->prev_hash_bin, 32);
	anc_start(bs, a->prev_height ? a->prev_height : a->height - 1);
}

/* A window full of empty heights: believe it after a second opinion, then move on. */
static void all_null(struct blockstream *bs)
{
	struct slot *s = slot_of(bs, bs->next);

	if (s->attempts < 2) {
		for (uint64_t h = bs->next; h < bs->next + bs->cap; h++) {
			struct slot *x = slot_of(bs, h);
			x->state = SL_EMPTY;
			x->attempts++;
		}
		return;
	}
	log_warn(LOG, "heights %llu..%llu are all empty; continuing after them",
		 (unsigned long long)bs->next, (unsigned long long)(bs->next + bs->cap - 2));
	for (uint64_t h = bs->next; h < bs->next + bs->cap - 1; h++)
		slot_clear(bs, slot_of(bs, h));
	bs->next += bs->cap - 1;
}

static void process(struct blockstream *bs)
{
	while (!bs->stopped && !bs->anc_f && !bs->n_anc) {
		uint64_t h = bs->next;
		struct slot *s = NULL;

		for (; h < bs->next + bs->cap; h++) {
			s = slot_of(bs, h);
			if (s->state != SL_NULL)
				break;
		}
		if (h == bs->next + bs->cap) {
			all_null(bs);
			return;
		}
		if (s->state != SL_BLOCK)
			return;
		struct mpc_block *b = s->blk;
		int linked;
		if (bs->optimistic)
			linked = tracker_count(bs->trk) == 0 ||
				 tracker_status(bs->trk, b->prev_hash_bin) != TRK_UNKNOWN;
		else
			linked = !bs->have_tip || !memcmp(b->prev_hash_bin, bs->tip_bin, 32);
		if (linked && h > bs->next && b->prev_height >= bs->next && b->prev_height < h &&
		    (bs->optimistic ? tracker_count(bs->trk) == 0 : !bs->have_tip)) {
			/* nothing delivered yet to link to: the block itself says its parent
			 * height was not empty */
			log_warn(LOG, "block %llu names block %llu as its parent, which was reported empty; "
				 "fetching it again", (unsigned long long)h, (unsigned long long)b->prev_height);
			refetch(bs, b->prev_height, 0.05);
			return;
		}
		if (linked) {
			s->blk = NULL;
			for (uint64_t x = bs->next; x <= h; x++)
				slot_clear(bs, slot_of(bs, x));
			bs->next = h + 1;
			if (bs->optimistic) {
				opt_commit(bs, &b, 1);
			} else {
				if (b->height > bs->final_height) {
					bs->final_height = b->height;
					mset(bs->m_finalh, NULL, (double)b->height);
				}
				set_tip(bs, b);
				deliver(bs, b, MPCI_BLOCK_FINAL);
			}
			mpc_block_free(b);
			continue;
		}
		/* b does not follow what was delivered */
		madd(bs->m_errors, src_name(bs, bs->active), "continuity", 1);
		if (b->prev_height && bs->have_tip && b->prev_height > bs->tip_height && b->prev_height < h) {
			log_warn(LOG, "block %llu names block %llu as its parent, which was reported empty; "
				 "fetching it again", (unsigned long long)h, (unsigned long long)b->prev_height);
			refetch(bs, b->prev_height, 0.05);
			return;
		}
		if (bs->optimistic && b->prev_height && b->prev_height < h) {
			/* a fork: the parent is another version of a block we have */
			bs->anc_for = h;
			memcpy(bs->anc_want, b->prev_hash_bin, 32);
			anc_start(bs, b->prev_height);
			if (!bs->anc_f)
				refetch(bs, h, 0.2);
			return;
		}
		warn_limited(bs, "continuity", "block %s does not follow the last delivered block %s; fetching it again",
			     b->hash, bs->tip_hash);
		for (uint64_t x = bs->next; x < h; x++)
			if (slot_of(bs, x)->state == SL_NULL)
				slot_of(bs, x)->state = SL_EMPTY;
		refetch(bs, h, backoff(bs, ++s->attempts));
		return;
	}
}

/* ---- head, probe ------------------------------------------------------------------ */

static void head_done(void *ud, int ok, uint64_t height, const char *error)
{
	struct blockstream *bs = ud;
	int src = bs->head_req_src;

	bs->head_req = NULL;
	if (!ok) {
		struct bsrc_result r = { .status = BSRC_ERROR, .err_class = "head", .error = error };
		source_failed(bs, src, &r);
		return;
	}
	if (height > bs->head || !bs->head_known) {
		bs->head = height > bs->head ? height : bs->head;
		mset(bs->m_head, NULL, (double)bs->head);
	}
	if (!bs->optimistic && bs->head >= bs->next && bs->head < bs->next + bs->cap &&
	    slot_of(bs, bs->head)->state == SL_NULL) {
		/* reported skipped before the head reached it: a final head is never skipped */
		char hs[24];
		snprintf(hs, sizeof(hs), "%llu", (unsigned long long)bs->head);
		warn_limited(bs, "null_head", "block %s was reported skipped, but it is the final head; "
			     "fetching it again", hs, NULL);
		refetch(bs, bs->head, 0);
	}
	if (bs->have_tip)
		mset(bs->m_lag_blocks, NULL, bs->head > bs->tip_height ? (double)(bs->head - bs->tip_height) : 0);
	if (!bs->head_known) {
		bs->head_known = 1;
		if (bs->start_at_head) {
			bs->next = height;
			log_info(LOG, "starting at the head, height %llu", (unsigned long long)height);
			for (struct bs_sub *s = bs->subs; s; s = s->next)
				if (!s->from)
					s->eff_from = height;
		}
	}
	pump(bs);
}

static void head_poll(struct blockstream *bs)
{
	struct source *s = &bs->srcs[bs->active];

	if (bs->head_req || bs->stopped)
		return;
	bs->head_req_src = bs->active;
	bs->head_req = s->ops->head(s->src, bs->optimistic, head_done, bs);
}

static void head_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct blockstream *bs = w->data;

	(void)loop;
	(void)revents;
	head_poll(bs);
	if (bs->have_tip)
		mset(bs->m_lag_seconds, NULL, wall_now() - (double)bs->tip_ts / 1e9);
}

/* The primary is healthy again when it serves the last delivered block, as delivered. */
static void probe_done(void *ud, struct bsrc_result *r)
{
	struct blockstream *bs = ud;
	int good = r->status == BSRC_BLOCK && bs->have_tip &&
		   !memcmp(r->block->hash_bin, bs->tip_bin, 32);

	bs->probe_req = NULL;
	if (good && bs->active != 0)
		switch_to(bs, 0, "the primary serves blocks again");
	pump(bs);
}

static void probe_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct blockstream *bs = w->data;

	(void)loop;
	(void)revents;
	if (bs->active == 0 || bs->probe_req || bs->stopped || !bs->have_tip)
		return;
	bs->probe_req = bs->srcs[0].ops->fetch(bs->srcs[0].src, bs->tip_height, 0, 0, probe_done, bs);
}

/* ---- life cycle ------------------------------------------------------------------- */

struct blockstream *blockstream_new_with(struct ev_loop *loop, struct http_client *http,
					 struct rpc *rpc, const struct blockstream_config *bc,
					 struct metrics *reg, const char *state_dir, char *err,
					 size_t errsz)
{
	struct blockstream *bs = calloc(1, sizeof(*bs));
	struct nd_config nc = { 0 };

	if (!bs) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	bs->loop = loop;
	bs->http = http;
	bs->reg = reg;
	bs->optimistic = bc->optimistic;
	bs->fetch_ahead = bc->fetch_ahead ? bc->fetch_ahead : 32;
	if (bs->fetch_ahead > 1024)
		bs->fetch_ahead = 1024;
	bs->fallback_after = bc->fallback_after ? bc->fallback_after : 5;
	bs->probe = bc->fallback_probe > 0 ? bc->fallback_probe : 10;
	bs->cursor_interval = bc->cursor_interval > 0 ? bc->cursor_interval : 1;
	bs->head_interval = bc->head_interval > 0 ? bc->head_interval : 1;
	bs->retry_max = bc->retry_max > 0 ? bc->retry_max : 5;
	bs->tracker_window = bc->tracker_window ? bc->tracker_window : 200;
	bs->max_lag = bc->max_lag > 0 ? bc->max_lag : 30;
	bs->cap = bs->fetch_ahead;
	if (!(bs->slots = calloc(bs->cap, sizeof(*bs->slots))) ||
	    !(bs->start = strdup(bc->start ? bc->start : "cursor")) ||
	    (state_dir && !(bs->state_dir = strdup(state_dir))) ||
	    !(bs->matcher = mpc_matcher_new(bc->contract)) ||
	    (bc->contract && !(bs->contract = strdup(bc->contract)))) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	bs->force_start = bc->force_start;
	if (bc->resume_hash)
		snprintf(bs->resume_hash, sizeof(bs->resume_hash), "%s", bc->resume_hash);
	if (strcmp(bs->start, "cursor") && strcmp(bs->start, "head")) {
		char *end;
		errno = 0;
		unsigned long long h = strtoull(bs->start, &end, 10);
		if (errno || *end || !*bs->start || bs->start[0] == '-' || !h) {
			snprintf(err, errsz, "start '%.40s': want cursor, head or a block height", bs->start);
			goto fail;
		}
	}
	nc.urls = bc->block_urls;
	nc.api_key = bc->api_key;
	nc.timeout = bc->request_timeout;
	nc.max_size = bc->max_block_size;
	if (bc->block_urls && bc->block_urls[0]) {
		if (!(bs->srcs[bs->n_srcs].src = nd_new(loop, http, &nc, bs->matcher, err, errsz)))
			goto fail;
		bs->srcs[bs->n_srcs++].ops = &nd_ops;
	}
	if (rpc) {
		struct rpcsrc_config rc = { .optimistic = bc->optimistic };
		if (!(bs->srcs[bs->n_srcs].src = rpcsrc_new(loop, rpc, &rc, bs->matcher, err, errsz)))
			goto fail;
		bs->srcs[bs->n_srcs++].ops = &rpcsrc_ops;
	}
	if (!bs->n_srcs) {
		snprintf(err, errsz, "no block source: set [near] block_urls (and rpc_urls for the fallback)");
		goto fail;
	}
	if (bs->optimistic && !(bs->trk = tracker_new(bs->tracker_window, on_tracker, bs))) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	ev_timer_init(&bs->head_timer, head_cb, bs->head_interval, bs->head_interval);
	ev_timer_init(&bs->retry_timer, retry_cb, 1, 0);
	ev_timer_init(&bs->cursor_timer, cursor_cb, bs->cursor_interval, bs->cursor_interval);
	ev_timer_init(&bs->probe_timer, probe_cb, bs->probe, bs->probe);
	bs->head_timer.data = bs->retry_timer.data = bs->cursor_timer.data = bs->probe_timer.data = bs;
	register_metrics(bs);
	mset(bs->m_active, src_name(bs, 0), 1);
	return bs;
fail:
	blockstream_free(bs);
	return NULL;
}

struct blockstream *blockstream_new(struct ev_loop *loop, struct http_client *http,
				    struct rpc *rpc, const struct cfg *cfg, struct metrics *reg,
				    const char *state_dir, char *err, size_t errsz)
{
	struct blockstream_config bc = { 0 };
	char **urls = NULL;
	uint64_t u;
	double d;
	struct blockstream *bs;

	cfg_get_list(cfg, "near", "block_urls", &urls);
	bc.block_urls = (const char *const *)urls;
	bc.api_key = cfg_get(cfg, "near", "block_api_key");
	bc.contract = cfg_get(cfg, "near", "contract");
	bc.optimistic = cfg_get(cfg, "near", "finality") &&
			!strcmp(cfg_get(cfg, "near", "finality"), "optimistic");
	bc.start = cfg_get(cfg, "blocks", "start");
	if (cfg_get_uint(cfg, "blocks", "fetch_ahead", &u) == 0)
		bc.fetch_ahead = (unsigned)(u > 1024 ? 1024 : u);
	if (cfg_get_uint(cfg, "blocks", "fallback_after", &u) == 0)
		bc.fallback_after = (unsigned)(u > 1000000 ? 1000000 : u);
	if (cfg_get_uint(cfg, "blocks", "tracker_window", &u) == 0)
		bc.tracker_window = (unsigned)(u > 100000 ? 100000 : u);
	if (cfg_get_duration(cfg, "blocks", "fallback_probe", &d) == 0)
		bc.fallback_probe = d;
	if (cfg_get_duration(cfg, "blocks", "cursor_interval", &d) == 0)
		bc.cursor_interval = d;
	if (cfg_get_duration(cfg, "blocks", "head_interval", &d) == 0)
		bc.head_interval = d;
	if (cfg_get_duration(cfg, "blocks", "retry_max", &d) == 0)
		bc.retry_max = d;
	if (cfg_get_duration(cfg, "near", "request_timeout", &d) == 0)
		bc.request_timeout = d;
	if (cfg_get_duration(cfg, "indexer", "max_lag", &d) == 0)
		bc.max_lag = d;
	if (cfg_get_size(cfg, "blocks", "max_block_size", &u) == 0)
		bc.max_block_size = (size_t)u;
	bs = blockstream_new_with(loop, http, rpc, &bc, reg, state_dir, err, errsz);
	cfg_list_free(urls);
	return bs;
}

uint64_t blockstream_next_height(const struct blockstream *bs)
{
	return bs->next;
}

int blockstream_start(struct blockstream *bs)
{
	struct cursor_pos c;
	char err[600];
	int rc = 1;
	uint64_t lowest = 0;

	if (bs->started)
		return 0;
	if (bs->state_dir && (rc = cursor_load(bs->state_dir, &c, err, sizeof(err))) < 0) {
		log_error(LOG, "%s", err);
		return -1;
	}
	if (rc == 0 && !bs->force_start) {
		const char *hs = bs->optimistic ? c.final_hash : c.hash;
		uint64_t hh = bs->optimistic ? c.final_height : c.height;
		bs->next = hh + 1;
		bs->have_tip = 1;
		bs->tip_height = hh;
		snprintf(bs->tip_hash, sizeof(bs->tip_hash), "%s", hs);
		near_hash_from_b58(bs->tip_bin, hs);
		bs->saved = c;
		if (bs->trk) {
			struct tracker_block tb = { .height = hh };
			memcpy(tb.hash, bs->tip_bin, 32);
			tracker_add(bs->trk, &tb);
		}
		log_info(LOG, "resuming after block %llu (%s) from the cursor in %s",
			 (unsigned long long)hh, hs, bs->state_dir);
	} else if (!strcmp(bs->start, "cursor") || !strcmp(bs->start, "head") ||
		   (rc == 0 && bs->force_start && !strcmp(bs->start, "cursor"))) {
		bs->start_at_head = 1;
		if (!strcmp(bs->start, "cursor"))
			log_info(LOG, "no cursor%s%s; starting at the head", bs->state_dir ? " in " : "",
				 bs->state_dir ? bs->state_dir : "");
	} else {
		bs->next = strtoull(bs->start, NULL, 10);
		if (bs->resume_hash[0] && near_hash_from_b58(bs->tip_bin, bs->resume_hash) == 0) {
			/* the consumer has block next-1 (somewhere below: heights may be empty) */
			bs->have_tip = 1;
			bs->tip_height = bs->next - 1;
			snprintf(bs->tip_hash, sizeof(bs->tip_hash), "%s", bs->resume_hash);
			if (bs->trk) {
				struct tracker_block tb = { .height = bs->tip_height };
				memcpy(tb.hash, bs->tip_bin, 32);
				tracker_add(bs->trk, &tb);
			}
		}
	}
	for (struct bs_sub *s = bs->subs; s; s = s->next) {
		s->eff_from = s->from ? s->from : bs->next;
		if (s->from && (!lowest || s->from < lowest))
			lowest = s->from;
	}
	if (lowest && (bs->start_at_head || lowest < bs->next)) {
		bs->start_at_head = 0;
		if (bs->have_tip && lowest <= bs->tip_height) {
			bs->have_tip = 0;	/* replaying below the cursor: no anchor */
			if (bs->trk) {
				tracker_free(bs->trk);
				bs->trk = tracker_new(bs->tracker_window, on_tracker, bs);
			}
		}
		for (struct bs_sub *s = bs->subs; s; s = s->next)
			if (!s->from)
				s->eff_from = bs->next ? bs->next : lowest;
		bs->next = lowest;
	}
	bs->started = 1;
	ev_timer_start(bs->loop, &bs->head_timer);
	ev_timer_start(bs->loop, &bs->cursor_timer);
	head_poll(bs);
	return 0;
}

void blockstream_stop(struct blockstream *bs)
{
	if (!bs || bs->stopped)
		return;
	bs->stopped = 1;
	cursor_persist(bs);
	for (size_t i = 0; i < bs->cap; i++)
		slot_cancel(bs, &bs->slots[i]);
	anc_cancel(bs);
	if (bs->head_req) {
		bs->srcs[bs->head_req_src].ops->cancel_head(bs->srcs[bs->head_req_src].src, bs->head_req);
		bs->head_req = NULL;
	}
	if (bs->probe_req) {
		bs->srcs[0].ops->cancel(bs->srcs[0].src, bs->probe_req);
		bs->probe_req = NULL;
	}
	ev_timer_stop(bs->loop, &bs->head_timer);
	ev_timer_stop(bs->loop, &bs->retry_timer);
	ev_timer_stop(bs->loop, &bs->cursor_timer);
	ev_timer_stop(bs->loop, &bs->probe_timer);
}

void blockstream_free(struct blockstream *bs)
{
	if (!bs)
		return;
	if (bs->started)
		blockstream_stop(bs);
	for (size_t i = 0; bs->slots && i < bs->cap; i++)
		slot_clear(bs, &bs->slots[i]);
	anc_cancel(bs);
	for (int i = 0; i < bs->n_srcs; i++)
		bs->srcs[i].ops->free(bs->srcs[i].src);
	while (bs->subs) {
		struct bs_sub *n = bs->subs->next;
		free(bs->subs);
		bs->subs = n;
	}
	tracker_free(bs->trk);
	mpc_matcher_free(bs->matcher);
	free(bs->orphans);
	free(bs->slots);
	free(bs->start);
	free(bs->state_dir);
	free(bs->contract);
	free(bs);
}

void *blockstream_subscribe(struct blockstream *bs, const struct mpci_block_sub *sub,
			    const struct provider_block_sink *sink, void *ctx, char *err,
			    size_t errsz)
{
	struct bs_sub *s, **pp;
	uint64_t from = sub && sub->struct_size >= offsetof(struct mpci_block_sub, from_height) + 8
				? sub->from_height : 0;

	if (bs->started && from && from < bs->next) {
		snprintf(err, errsz, "from_height %llu is behind the stream (next height %llu); replay "
			 "is only possible for subscriptions made before the start",
			 (unsigned long long)from, (unsigned long long)bs->next);
		return NULL;
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	s->id = ++bs->next_sub_id;
	s->from = from;
	s->eff_from = from ? from : bs->started ? bs->next : 0;
	s->sink = *sink;
	s->ctx = ctx;
	if (sub && sub->n_filters &&
	    mpc_matcher_add(bs->matcher, s->id, sub->filters, sub->n_filters, err, errsz) < 0) {
		mpc_matcher_remove(bs->matcher, s->id);
		free(s);
		return NULL;
	}
	for (pp = &bs->subs; *pp; pp = &(*pp)->next)
		;
	*pp = s;
	/* blocks already fetched were matched without this subscriber's filters */
	if (bs->started && sub && sub->n_filters)
		for (size_t i = 0; i < bs->cap; i++)
			if (bs->slots[i].state == SL_BLOCK) {
				slot_clear(bs, &bs->slots[i]);
				bs->slots[i].state = SL_EMPTY;
			}
	pump(bs);
	return s;
}

void blockstream_unsubscribe(struct blockstream *bs, void *handle)
{
	struct bs_sub *s = handle;

	if (!s)
		return;
	s->dead = 1;
	reap_subs(bs);
}

void blockstream_status(struct blockstream *bs, struct mpci_status *out)
{
	struct mpci_status st;
	size_t n = out->struct_size < sizeof(st) ? out->struct_size : sizeof(st);

	memset(&st, 0, sizeof(st));
	st.struct_size = out->struct_size;
	st.contract = bs->contract;
	st.head_height = bs->head;
	st.final_height = bs->final_height;
	st.processed_height = bs->have_tip ? bs->tip_height : 0;
	st.lag_seconds = bs->have_tip ? wall_now() - (double)bs->tip_ts / 1e9 : 0;
	st.following = bs->have_tip && st.lag_seconds <= bs->max_lag;
	memcpy(out, &st, n);
}
