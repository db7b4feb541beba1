/* MPC traffic (see traffic.h).  The pending requests live in an open-
 * addressing table keyed by request id (linear probing, backward-shift
 * deletion) that doubles as it fills, up to twice max_pending: memory follows
 * what is pending and stays bounded, and a full table counts the request as
 * dropped.  (Allocated whole at max_pending it was 4 MiB, paged in at once by
 * the first expiry scan.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traffic.h"

#define ID_MAX 48         /* base58 of 32 bytes is at most 44 characters */
#define HASH_MAX 64
#define N_KINDS 4         /* sign, ckd, foreign_tx, other */
#define EXPIRE_EVERY 64   /* blocks between scans for forgotten requests */
#define CAP_MIN 1024      /* slots to start with */

static const char *const kind_names[N_KINDS] = { "sign", "ckd", "foreign_tx", "other" };

static const double latency_bounds[] = { 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50,
					 75, 100, 150, 200, 250, 300 };

struct slot {
	char id[ID_MAX];
	uint64_t height;
	uint32_t domain;
	uint8_t kind;
	uint8_t used;
};

struct held_req {
	char id[ID_MAX];
	uint32_t domain;
	uint8_t kind;
};

struct held_comp {
	char id[ID_MAX];
	uint8_t kind;
};

/* An optimistic block's events, kept until it is final or orphaned. */
struct held {
	uint64_t height;
	char hash[HASH_MAX];
	struct held_req *reqs;
	size_t n_reqs;
	struct held_comp *comps;
	size_t n_comps;
	uint32_t timeouts;
};

struct traffic {
	const struct mpci_host_api *api;
	struct traffic_opts o;
	struct slot *slots;
	size_t cap;               /* power of two, at most max_cap */
	size_t max_cap;           /* power of two >= 2 * max_pending */
	size_t n_pending;
	size_t pending_by_kind[N_KINDS];
	struct held *held;        /* delivery order */
	size_t n_held;
	uint64_t committed_height;
	uint64_t blocks_since_expire;
	mpci_metric *m_requests, *m_completions, *m_pending, *m_latency,
		*m_timeouts, *m_unmatched, *m_dropped, *m_held;
};

static int kind_index(int kind)
{
	return kind >= MPCI_REQ_SIGN && kind <= MPCI_REQ_FOREIGN_TX ? kind : 3;
}

static void count(struct traffic *t, mpci_metric *m, const char *const *labels)
{
	if (m)
		t->api->metric_add(m, labels, 1);
}

static void publish_pending(struct traffic *t, int k)
{
	const char *l[] = { kind_names[k], NULL };
	if (t->m_pending)
		t->api->metric_set(t->m_pending, l, (double)t->pending_by_kind[k]);
}

static void dropped(struct traffic *t, int k, const char *reason)
{
	const char *l[] = { kind_names[k], reason, NULL };
	count(t, t->m_dropped, l);
}

/* ---- the pending table ---- */

static size_t hash_id(const char *id)
{
	uint64_t h = 1469598103934665603ull;
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ull;
	return (size_t)h;
}

static struct slot *slot_find(struct traffic *t, const char *id)
{
	size_t i = hash_id(id) & (t->cap - 1);
	while (t->slots[i].used) {
		if (strcmp(t->slots[i].id, id) == 0)
			return &t->slots[i];
		i = (i + 1) & (t->cap - 1);
	}
	return NULL;
}

/* The empty slot where id goes (the table always has one). */
static size_t free_slot(const struct slot *slots, size_t cap, const char *id)
{
	size_t i = hash_id(id) & (cap - 1);
	while (slots[i].used)
		i = (i + 1) & (cap - 1);
	return i;
}

/* Twice the slots, every pending request rehashed; -1 when out of memory. */
static int grow(struct traffic *t)
{
	size_t cap = t->cap * 2;
	struct slot *n = calloc(cap, sizeof(*n));

	if (!n)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used)
			n[free_slot(n, cap, t->slots[i].id)] = t->slots[i];
	free(t->slots);
	t->slots = n;
	t->cap = cap;
	return 0;
}

/* Empty slot i and shift the probe chain behind it back. */
static void slot_delete(struct traffic *t, size_t i)
{
	size_t mask = t->cap - 1, j = i;
	t->slots[i].used = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (!t->slots[j].used)
			return;
		size_t home = hash_id(t->slots[j].id) & mask;
		/* j may move to i unless its home lies cyclically in (i, j] */
		int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (stays)
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j].used = 0;
		i = j;
	}
}

static void forget(struct traffic *t, struct slot *s)
{
	int k = s->kind;
	t->pending_by_kind[k]--;
	t->n_pending--;
	slot_delete(t, (size_t)(s - t->slots));
	publish_pending(t, k);
}

static int valid_id(const char *id)
{
	return id && *id && strlen(id) < ID_MAX;
}

/* ---- committing a final block's events ---- */

static void commit_request(struct traffic *t, uint64_t height, const char *id,
			   int k, uint32_t domain)
{
	const char *l[] = { kind_names[k], NULL };
	count(t, t->m_requests, l);
	if (!valid_id(id)) {
		dropped(t, k, "invalid_id");
		return;
	}
	if (slot_find(t, id))
		return; /* delivered twice: already waiting */
	if ((t->n_pending + 1) * 2 > t->cap && t->cap < t->max_cap)
		grow(t);	/* if it fails, the table fills further */
	if (t->n_pending >= t->o.max_pending || t->n_pending + 1 >= t->cap) {
		dropped(t, k, "full");
		return;
	}
	struct slot *s = &t->slots[free_slot(t->slots, t->cap, id)];
	memcpy(s->id, id, strlen(id) + 1);
	s->height = height;
	s->domain = domain;
	s->kind = (uint8_t)k;
	s->used = 1;
	t->n_pending++;
	t->pending_by_kind[k]++;
	publish_pending(t, k);
}

static void commit_completion(struct traffic *t, uint64_t height, const char *id,
			      int k)
{
	const char *l[] = { kind_names[k], NULL };
	count(t, t->m_completions, l);
	struct slot *s = valid_id(id) ? slot_find(t, id) : NULL;
	if (!s) {
		const char *u[] = { kind_names[k], NULL };
		count(t, t->m_unmatched, u);
		return;
	}
	/* the request's kind wins: it is what the user asked for */
	const char *h[] = { kind_names[s->kind], NULL };
	if (t->m_latency)
		t->api->metric_observe(t->m_latency, h,
				       (double)(height >= s->height ? height - s->height : 0));
	forget(t, s);
}

/* Requests whose completion never came (a gap in the stream, or a monitor
 * started between request and answer) are forgotten after expiry_blocks. */
static void expire(struct traffic *t)
{
	if (t->committed_height <= t->o.expiry_blocks)
		return;
	uint64_t cutoff = t->committed_height - t->o.expiry_blocks;
	for (size_t i = 0; i < t->cap; i++) {
		while (t->slots[i].used && t->slots[i].height < cutoff) {
			int k = t->slots[i].kind;
			forget(t, &t->slots[i]);
			dropped(t, k, "expired");
		}
	}
}

static void commit_events(struct traffic *t, uint64_t height,
			  const struct held_req *reqs, size_t n_reqs,
			  const struct held_comp *comps, size_t n_comps,
			  uint32_t timeouts)
{
	for (size_t i = 0; i < n_reqs; i++)
		commit_request(t, height, reqs[i].id, reqs[i].kind, reqs[i].domain);
	for (size_t i = 0; i < n_comps; i++)
		commit_completion(t, height, comps[i].id, comps[i].kind);
	if (timeouts && t->m_timeouts)
		t->api->metric_add(t->m_timeouts, NULL, timeouts);
	if (height > t->committed_height)
		t->committed_height = height;
	if (++t->blocks_since_expire >= EXPIRE_EVERY) {
		t->blocks_since_expire = 0;
		expire(t);
	}
}

/* ---- held optimistic blocks ---- */

static void held_clear(struct held *h)
{
	free(h->reqs);
	free(h->comps);
	memset(h, 0, sizeof(*h));
}

static void held_remove(struct traffic *t, size_t i)
{
	held_clear(&t->held[i]);
	memmove(&t->held[i], &t->held[i + 1], (t->n_held - i - 1) * sizeof(*t->held));
	t->n_held--;
	if (t->m_held)
		t->api->metric_set(t->m_held, NULL, (double)t->n_held);
}

static void held_commit(struct traffic *t, size_t i)
{
	struct held *h = &t->held[i];
	commit_events(t, h->height, h->reqs, h->n_reqs, h->comps, h->n_comps, h->timeouts);
	held_remove(t, i);
}

/* Commit held blocks up to `height`; one at exactly that height with
 * another hash (when hash is known) was a fork and is dropped. */
static void settle(struct traffic *t, uint64_t height, const char *hash)
{
	size_t i = 0;
	while (i < t->n_held) {
		struct held *h = &t->held[i];
		if (h->height > height) {
			i++;
		} else if (hash && h->height == height && strcmp(h->hash, hash) != 0) {
			held_remove(t, i);
		} else {
			held_commit(t, i);
		}
	}
}

static void copy_events(const struct mpci_block *b, struct held_req **reqs,
			struct held_comp **comps, int *oom)
{
	*reqs = calloc(b->n_requests ? b->n_requests : 1, sizeof(**reqs));
	*comps = calloc(b->n_completions ? b->n_completions : 1, sizeof(**comps));
	if (!*reqs || !*comps) {
		*oom = 1;
		return;
	}
	for (size_t i = 0; i < b->n_requests; i++) {
		const struct mpci_request *r = &b->requests[i];
		if (valid_id(r->id))
			memcpy((*reqs)[i].id, r->id, strlen(r->id) + 1);
		(*reqs)[i].kind = (uint8_t)kind_index(r->kind);
		(*reqs)[i].domain = r->domain_id;
	}
	for (size_t i = 0; i < b->n_completions; i++) {
		const struct mpci_completion *c = &b->completions[i];
		if (valid_id(c->id))
			memcpy((*comps)[i].id, c->id, strlen(c->id) + 1);
		(*comps)[i].kind = (uint8_t)kind_index(c->kind);
	}
}

void traffic_block(struct traffic *t, const struct mpci_block *b)
{
	struct held_req *reqs = NULL;
	struct held_comp *comps = NULL;
	int oom = 0;

	if (!b || b->status == MPCI_BLOCK_FORK)
		return; /* not on the canonical chain: its events do not count */
	if ((b->n_requests && !b->requests) || (b->n_completions && !b->completions))
		return;
	copy_events(b, &reqs, &comps, &oom);
	if (oom) {
		free(reqs);
		free(comps);
		return;
	}
	if (b->status == MPCI_BLOCK_FINAL) {
		settle(t, b->height, b->hash);
		commit_events(t, b->height, reqs, b->n_requests, comps,
			      b->n_completions, b->n_timeouts);
		free(reqs);
		free(comps);
		return;
	}
	if (t->n_held == t->o.max_held)
		held_commit(t, 0); /* finality stalled: count the oldest as is */
	struct held *h = &t->held[t->n_held++];
	h->height = b->height;
	snprintf(h->hash, sizeof(h->hash), "%s", b->hash ? b->hash : "");
	h->reqs = reqs;
	h->n_reqs = b->n_requests;
	h->comps = comps;
	h->n_comps = b->n_completions;
	h->timeouts = b->n_timeouts;
	if (t->m_held)
		t->api->metric_set(t->m_held, NULL, (double)t->n_held);
	if (b->final_height)
		settle(t, b->final_height, NULL);
}

void traffic_finalized(struct traffic *t, uint64_t height, const char *hash)
{
	settle(t, height, hash);
}

void traffic_orphaned(struct traffic *t, uint64_t height, const char *hash)
{
	for (size_t i = 0; i < t->n_held; i++)
		if (t->held[i].height == height &&
		    (!hash || strcmp(t->held[i].hash, hash) == 0)) {
			held_remove(t, i);
			return;
		}
}

size_t traffic_pending(const struct traffic *t)
{
	return t->n_pending;
}

size_t traffic_capacity(const struct traffic *t)
{
	return t->cap;
}

size_t traffic_held(const struct traffic *t)
{
	return t->n_held;
}

static int host_has(const struct traffic *t, const char *family)
{
	return t->o.host_has && t->o.host_has(family, t->o.host_has_ud);
}

struct traffic *traffic_new(const struct mpci_host_api *api, mpci_plugin *self,
			    const struct traffic_opts *o)
{
	static const char *const l_kind[] = { "kind", NULL };
	static const char *const l_kind_reason[] = { "kind", "reason", NULL };
	struct traffic *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->api = api;
	if (o)
		t->o = *o;
	if (!t->o.max_pending)
		t->o.max_pending = 20000;
	if (!t->o.expiry_blocks)
		t->o.expiry_blocks = 1000;
	if (!t->o.max_held)
		t->o.max_held = 512;
	t->max_cap = 16;
	while (t->max_cap < t->o.max_pending * 2)
		t->max_cap *= 2;
	t->cap = t->max_cap < CAP_MIN ? t->max_cap : CAP_MIN;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	t->held = calloc(t->o.max_held, sizeof(*t->held));
	if (!t->slots || !t->held) {
		traffic_free(t);
		return NULL;
	}
	/* the same names and labels as the daemon's block stream uses */
	if (!host_has(t, "mpc_indexer_mpc_requests_total"))
		t->m_requests = api->metric_counter(self, "mpc_indexer_mpc_requests_total",
			"MPC requests (sign, ckd, foreign_tx) that reached the contract, from final blocks.",
			l_kind);
	if (!host_has(t, "mpc_indexer_mpc_completions_total"))
		t->m_completions = api->metric_counter(self, "mpc_indexer_mpc_completions_total",
			"MPC request callbacks executed (answered or timed out), from final blocks.",
			l_kind);
	if (!host_has(t, "mpc_indexer_mpc_timeouts_total"))
		t->m_timeouts = api->metric_counter(self, "mpc_indexer_mpc_timeouts_total",
			"fail_on_timeout receipts: requests the MPC network did not answer in time.",
			NULL);
	t->o.host_has = NULL; /* asked during registration only */
	t->o.host_has_ud = NULL;
	t->m_pending = api->metric_gauge(self, "mpc_indexer_mpc_pending_requests",
		"MPC requests seen and not yet completed.", l_kind);
	t->m_latency = api->metric_histogram(self, "mpc_indexer_mpc_request_latency_blocks",
		"Blocks from a request to its completion (joined by request id); timeouts land near 200.",
		l_kind, latency_bounds, sizeof(latency_bounds) / sizeof(latency_bounds[0]));
	t->m_unmatched = api->metric_counter(self, "mpc_indexer_mpc_unmatched_completions_total",
		"Completions whose request the monitor had not seen (it started later, or the table was full).",
		l_kind);
	t->m_dropped = api->metric_counter(self, "mpc_indexer_mpc_dropped_requests_total",
		"Requests not tracked for the latency join: table full, never completed (expired), bad id.",
		l_kind_reason);
	t->m_held = api->metric_gauge(self, "mpc_indexer_mpc_held_blocks",
		"Optimistic blocks whose MPC events wait for finality.", NULL);
	for (int k = 0; k < 3; k++)
		publish_pending(t, k);
	if (t->m_timeouts)
		api->metric_add(t->m_timeouts, NULL, 0);
	if (t->m_held)
		api->metric_set(t->m_held, NULL, 0);
	return t;
}

void traffic_free(struct traffic *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->held && i < t->n_held; i++)
		held_clear(&t->held[i]);
	free(t->held);
	free(t->slots);
	free(t);
}
