/* chain: block production, finality (doomslug rule), skipped heights, optimistic forks,
 * lookups by height and hash, garbage collection of old blocks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nearsim.h"

struct ns_chain g_chain;

struct ns_buf *buf_new(char *data, size_t len)
{
	struct ns_buf *b = malloc(sizeof(*b));

	if (!b) {
		free(data);
		return NULL;
	}
	b->data = data;
	b->len = len;
	b->ref = 1;
	b->parent = NULL;
	return b;
}

struct ns_buf *buf_slice(struct ns_buf *parent, size_t off, size_t len)
{
	struct ns_buf *b;

	if (!parent || off + len > parent->len || !(b = malloc(sizeof(*b))))
		return NULL;
	b->data = parent->data + off;
	b->len = len;
	b->ref = 1;
	b->parent = buf_ref(parent);
	return b;
}

struct ns_buf *buf_ref(struct ns_buf *b)
{
	if (b)
		__atomic_add_fetch(&b->ref, 1, __ATOMIC_RELAXED);
	return b;
}

void buf_unref(struct ns_buf *b)
{
	if (b && __atomic_sub_fetch(&b->ref, 1, __ATOMIC_ACQ_REL) == 0) {
		if (b->parent)
			buf_unref(b->parent);
		else
			free(b->data);
		free(b);
	}
}

int vec_push(struct ns_vec *v, void *p)
{
	if (v->n == v->cap) {
		int cap = v->cap ? v->cap * 2 : 8;
		void **nv = realloc(v->v, (size_t)cap * sizeof(*nv));
		if (!nv)
			return -1;
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = p;
	return 0;
}

void vec_free(struct ns_vec *v)
{
	free(v->v);
	memset(v, 0, sizeof(*v));
}

int chain_shard(const struct ns_chain *c, const char *account)
{
	uint8_t h[32];

	sha256(h, account, strlen(account));
	return (int)(h[0] % (unsigned)c->cfg->shards);
}

void receipt_id_derive(uint8_t out[32], const uint8_t parent[32], uint32_t index)
{
	uint8_t in[40];

	memcpy(in, parent, 32);
	memcpy(in + 32, "rcpt", 4);
	memcpy(in + 36, &index, 4);
	sha256(out, in, sizeof(in));
}

static void chunks_index(struct ns_chain *c, struct ns_block *b);

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct ns_block *chain_at(struct ns_chain *c, uint64_t h)
{
	if (h < c->genesis_height || h < c->gc_below || h - c->genesis_height >= c->nheights)
		return NULL;
	return c->by_height[h - c->genesis_height];
}

struct ns_block *chain_at_or_below(struct ns_chain *c, uint64_t h)
{
	struct ns_block *b;

	if (h > c->head_height)
		h = c->head_height;
	for (;; h--) {
		if (h < c->genesis_height || h < c->gc_below)
			return NULL;
		if ((b = chain_at(c, h)))
			return b;
	}
}

struct ns_block *chain_head(struct ns_chain *c) { return chain_at(c, c->head_height); }
struct ns_block *chain_final(struct ns_chain *c) { return chain_at(c, c->final_height); }

struct ns_block *chain_by_hash(struct ns_chain *c, const uint8_t h[32])
{
	return map_get(&c->blocks, h);
}

bool chain_is_final(struct ns_chain *c, const struct ns_block *b)
{
	return b && b->canonical && b->height <= c->final_height;
}

/* The oldest block still kept (genesis until garbage collection starts). */
static struct ns_block *chain_lowest(struct ns_chain *c)
{
	uint64_t h;

	for (h = c->gc_below > c->genesis_height ? c->gc_below : c->genesis_height; h <= c->head_height; h++)
		if (chain_at(c, h))
			return chain_at(c, h);
	return chain_head(c);
}

struct ns_block *chain_visible_head(struct ns_chain *c, int kind)
{
	uint64_t lag = c->faults.lag_blocks[kind], h = c->head_height;
	struct ns_block *b = chain_at_or_below(c, h > lag ? h - lag : 0);

	return b ? b : chain_lowest(c);
}

struct ns_block *chain_visible_final(struct ns_chain *c, int kind)
{
	uint64_t lag = c->faults.lag_blocks[kind], h = c->final_height;
	struct ns_block *b = chain_at_or_below(c, h > lag ? h - lag : 0);

	return b ? b : chain_lowest(c);
}

void chain_wait(struct ns_chain *c, unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&c->cv, &c->mu, &ts);
}

static void block_hash_derive(struct ns_chain *c, struct ns_block *b)
{
	uint8_t in[8 + 8 + 8 + 4 + 32];

	memcpy(in, "nearsim\0", 8);
	memcpy(in + 8, &c->cfg->seed, 8);
	memcpy(in + 16, &b->height, 8);
	memcpy(in + 24, &b->version, 4);
	memcpy(in + 28, b->prev_hash, 32);
	sha256(b->hash, in, sizeof(in));
	memcpy(in, "random\0\0", 8);
	memcpy(in + 28, b->hash, 32);
	sha256(b->random, in, sizeof(in));
}

static int set_canonical(struct ns_chain *c, uint64_t h, struct ns_block *b)
{
	size_t idx = h - c->genesis_height;

	if (idx >= c->capheights) {
		size_t cap = c->capheights ? c->capheights * 2 : 1024;
		struct ns_block **nb;
		while (cap <= idx)
			cap *= 2;
		nb = realloc(c->by_height, cap * sizeof(*nb));
		if (!nb)
			return -1;
		memset(nb + c->capheights, 0, (cap - c->capheights) * sizeof(*nb));
		c->by_height = nb;
		c->capheights = cap;
	}
	c->by_height[idx] = b;
	if (idx + 1 > c->nheights)
		c->nheights = idx + 1;
	return 0;
}

static void content_free(struct ns_chain *c, struct ns_block *b)
{
	int s, i;

	(void)c;
	if (!b->content)
		return;
	for (s = 0; s < b->nshards; s++) {
		struct ns_chunkc *k = &b->content[s];
		for (i = 0; i < k->txs.n; i++)
			if (((struct ns_tx *)k->txs.v[i])->bg)
				tx_free(k->txs.v[i]);
		for (i = 0; i < k->execd.n; i++)
			if (((struct ns_receipt *)k->execd.v[i])->bg)
				receipt_free(k->execd.v[i]);
		vec_free(&k->txs);
		vec_free(&k->execd);
		vec_free(&k->outgoing);
		vec_free(&k->local);
	}
	free(b->content);
	b->content = NULL;
}

static void block_free(struct ns_chain *c, struct ns_block *b)
{
	int s;

	content_free(c, b);
	buf_unref(b->doc);
	buf_unref(b->view);
	for (s = 0; s < b->nshards; s++) {
		if (b->chunk)
			buf_unref(b->chunk[s]);
		if (b->shard)
			buf_unref(b->shard[s]);
	}
	free(b->chunk);
	free(b->shard);
	free(b->chunk_hash);
	cstate_unref(b->cstate);
	free(b);
}

static struct ns_block *block_alloc(struct ns_chain *c)
{
	struct ns_block *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->nshards = c->cfg->shards;
	b->content = calloc((size_t)b->nshards, sizeof(*b->content));
	b->chunk_hash = calloc((size_t)b->nshards, 32);
	b->chunk = calloc((size_t)b->nshards, sizeof(*b->chunk));
	b->shard = calloc((size_t)b->nshards, sizeof(*b->shard));
	if (!b->content || !b->chunk_hash || !b->chunk || !b->shard) {
		block_free(c, b);
		return NULL;
	}
	return b;
}

static void finality(struct ns_chain *c, struct ns_block *b, struct ns_block *p)
{
	struct ns_block *g = p ? chain_by_hash(c, p->prev_hash) : NULL;

	if (!p)
		return; /* genesis: zero hashes, final by definition */
	if (p->height + 1 == b->height) {
		memcpy(b->last_ds_final, p->hash, 32);
		b->last_ds_final_height = p->height;
	} else {
		memcpy(b->last_ds_final, p->last_ds_final, 32);
		b->last_ds_final_height = p->last_ds_final_height;
	}
	if (g && g->height + 1 == p->height && p->height + 1 == b->height) {
		memcpy(b->last_final, g->hash, 32);
		b->last_final_height = g->height;
	} else {
		memcpy(b->last_final, p->last_final, 32);
		b->last_final_height = p->last_final_height;
	}
}

static uint64_t block_time(struct ns_chain *c, uint64_t h)
{
	if (c->cfg->block_ms && !c->cfg->genesis_time_ns)
		return now_ns();
	return c->genesis_time_ns + (h - c->genesis_height) * 600000000ULL;
}

/* Replace the optimistic head with another block at the same height (a fork). The new
 * version carries the same transactions and receipts; only its hash (and so every
 * hash that names it) changes. */
static int replace_head(struct ns_chain *c)
{
	struct ns_block *a = chain_head(c), *b;

	if (!a || a->height == c->genesis_height || a->height <= c->final_height)
		return -1;
	if (!(b = block_alloc(c)))
		return -1;
	b->height = a->height;
	b->prev_height = a->prev_height;
	memcpy(b->prev_hash, a->prev_hash, 32);
	b->version = a->version + 1;
	b->ordinal = a->ordinal;
	b->ts_ns = a->ts_ns + 1000;
	block_hash_derive(c, b);
	memcpy(b->last_final, a->last_final, 32);
	memcpy(b->last_ds_final, a->last_ds_final, 32);
	b->last_final_height = a->last_final_height;
	b->last_ds_final_height = a->last_ds_final_height;
	doc_ensure(c, a);
	free(b->content);
	b->content = a->content;  /* the content moves; the old version keeps its documents */
	a->content = NULL;
	b->cstate = cstate_ref(a->cstate);
	b->canonical = true;
	a->canonical = false;
	a->replaced_by = b;
	vec_push(&c->orphans, a);
	map_put(&c->blocks, b->hash, b);
	set_canonical(c, b->height, b);
	doc_chunk_hashes(b);
	chunks_index(c, b);
	c->forks++;
	return 0;
}

static void chunks_index(struct ns_chain *c, struct ns_block *b)
{
	int s;

	for (s = 0; s < b->nshards; s++)
		map_put(&c->chunks, b->chunk_hash[s], b);
}

static void unindex(struct ns_chain *c, struct ns_block *b)
{
	int s;

	map_del(&c->blocks, b->hash);
	for (s = 0; s < b->nshards; s++)
		map_del(&c->chunks, b->chunk_hash[s]);
}

/* Forget transactions whose every receipt executed in blocks that are gone already. */
static void gc_txs(struct ns_chain *c)
{
	int i, j, k;

	for (i = 0; i < c->owned_txs.n; i++) {
		struct ns_tx *t = c->owned_txs.v[i];
		/* dropped ones too: forgotten like a real pool's, sending them again is judged afresh */
		bool old = (t->included || t->dropped) && t->height < c->gc_below && !t->outstanding && !t->refunds_pending;
		for (k = 0; old && k < t->ntree; k++)
			old = t->tree[k]->executed && t->tree[k]->exec_height < c->gc_below;
		if (!old)
			continue;
		for (k = 0; k < t->ntree; k++) {
			map_del(&c->receipts, t->tree[k]->id);
			t->tree[k]->tx = NULL;
			t->tree[k]->forgotten = true;
		}
		map_del(&c->txs, t->hash);
		tx_free(t);
		c->owned_txs.v[i] = NULL;
	}
	for (i = j = 0; i < c->owned_txs.n; i++)
		if (c->owned_txs.v[i])
			c->owned_txs.v[j++] = c->owned_txs.v[i];
	c->owned_txs.n = j;
	for (i = j = 0; i < c->owned_receipts.n; i++) {
		struct ns_receipt *r = c->owned_receipts.v[i];
		if (r->forgotten)
			receipt_free(r);
		else
			c->owned_receipts.v[j++] = r;
	}
	c->owned_receipts.n = j;
}

static void gc(struct ns_chain *c)
{
	uint64_t keep = c->cfg->keep_blocks, below;
	int i, j;

	if (!keep || c->head_height - c->genesis_height <= keep)
		return;
	below = c->head_height - keep;
	if (below > c->final_height)
		below = c->final_height;
	for (; c->gc_below < below; c->gc_below++) {
		uint64_t h = c->gc_below;
		struct ns_block *b;
		if (h < c->genesis_height || h - c->genesis_height >= c->nheights)
			continue;
		b = c->by_height[h - c->genesis_height];
		if (!b)
			continue;
		c->by_height[h - c->genesis_height] = NULL;
		unindex(c, b);
		block_free(c, b);
	}
	for (i = j = 0; i < c->orphans.n; i++) {
		struct ns_block *o = c->orphans.v[i];
		if (o->height < c->gc_below) {
			unindex(c, o);
			block_free(c, o);
		} else {
			c->orphans.v[j++] = o;
		}
	}
	c->orphans.n = j;
	if (c->gc_below % 64 == 0)
		gc_txs(c);
}

bool contract_dirty_take(struct ns_chain *c);

/* Steer the background traffic so that block documents approach --bg-target-bytes. */
static void bg_resize(struct ns_chain *c, size_t len)
{
	size_t target = c->cfg->bg_target_bytes;
	long want;

	if (!len)
		return;
	want = (long)((double)(c->bg_tx ? c->bg_tx : 1) * (double)target / (double)len);
	want = (c->bg_tx + want + 1) / 2;
	if (want < 0)
		want = 0;
	if (want > 5000)
		want = 5000;
	c->bg_tx = (int)want;
}

struct pooled {
	struct ns_tx *t;
	int group, seq;
};

static int pooled_cmp(const void *a, const void *b)
{
	const struct pooled *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->t->nonce != y->t->nonce)
		return x->t->nonce < y->t->nonce ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* nearcore's pool order: transactions grouped per access key, each group in nonce order (the
 * earlier arrival first for equal nonces), the groups in the order their first one arrived.
 * So nonce N+1 pooled before N still lets both execute. */
static void pool_order(struct ns_chain *c)
{
	struct pooled *v;
	int *heads, nheads = 0, i, j;

	if (c->pool.n < 2)
		return;
	v = calloc((size_t)c->pool.n, sizeof(*v));
	heads = calloc((size_t)c->pool.n, sizeof(*heads));
	if (!v || !heads) {
		free(v);
		free(heads);
		return;
	}
	for (i = 0; i < c->pool.n; i++) {
		struct ns_tx *t = c->pool.v[i];
		v[i].t = t;
		v[i].seq = i;
		v[i].group = -1;
		/* the previous one's group first: most pools hold one busy key */
		if (i && !strcmp(v[i - 1].t->signer, t->signer) && !memcmp(v[i - 1].t->pk, t->pk, 32))
			v[i].group = v[i - 1].group;
		for (j = 0; v[i].group < 0 && j < nheads; j++)
			if (!strcmp(v[heads[j]].t->signer, t->signer) && !memcmp(v[heads[j]].t->pk, t->pk, 32))
				v[i].group = heads[j];
		if (v[i].group < 0) {
			v[i].group = i; /* the first of its group names it */
			heads[nheads++] = i;
		}
	}
	qsort(v, (size_t)c->pool.n, sizeof(*v), pooled_cmp);
	for (i = 0; i < c->pool.n; i++)
		c->pool.v[i] = v[i].t;
	free(v);
	free(heads);
}

static int produce_one(struct ns_chain *c)
{
	struct ns_block *p = chain_head(c), *b;
	uint64_t h;
	int i;

	if (p && (c->fork_next > 0 || (c->fork_rate > 0 && rng_unit(&c->rng) < c->fork_rate))) {
		if (c->fork_next > 0)
			c->fork_next--;
		if (!replace_head(c))
			return 1;
	}
	if (!(b = block_alloc(c)))
		return -1;
	h = p ? p->height + 1 : c->genesis_height;
	while (p && (c->skip_next > 0 || (c->skip_rate > 0 && rng_unit(&c->rng) < c->skip_rate))) {
		if (c->skip_next > 0)
			c->skip_next--;
		h++;
		c->skipped++;
	}
	b->height = h;
	if (p) {
		b->prev_height = p->height;
		memcpy(b->prev_hash, p->hash, 32);
		b->ordinal = p->ordinal + 1;
	} else {
		b->ordinal = 1;
	}
	b->ts_ns = block_time(c, h);
	if (p && b->ts_ns <= p->ts_ns)
		b->ts_ns = p->ts_ns + 1000000;
	block_hash_derive(c, b);
	if (!p)
		memcpy(c->genesis_hash, b->hash, 32);
	finality(c, b, p);
	b->canonical = true;
	if (set_canonical(c, h, b) || map_put(&c->blocks, b->hash, b)) {
		block_free(c, b);
		return -1;
	}
	c->head_height = h;

	for (i = 0; i < c->outgoing_next.n; i++) {
		struct ns_receipt *r = c->outgoing_next.v[i];
		if (r->from_shard >= 0 && r->from_shard < b->nshards)
			vec_push(&b->content[r->from_shard].outgoing, r);
	}
	c->outgoing_next.n = 0;

	/* Execute: receipts due now, the contract's own schedule, new traffic, then the pool. */
	receipts_execute_due(c, b);
	contract_block(c, b);
	traffic_block(c, b);
	pool_order(c);
	for (i = 0; i < c->pool.n; i++) {
		struct ns_tx *t = c->pool.v[i];
		struct jw err;
		jw_init(&err, 128);
		if (tx_validate(c, t, &err, true) == 0)
			tx_include(c, b, t);
		else {
			t->dropped = true; /* e.g. a second transaction with a nonce already used */
			t->height = b->height;
		}
		jw_free(&err);
	}
	c->pool.n = 0;

	if (p && b->last_final_height > c->final_height)
		c->final_height = b->last_final_height;
	if (contract_dirty_take(c) || !p)
		b->cstate = cstate_clone(c->contract);
	else
		b->cstate = cstate_ref(p->cstate);
	/* Documents are rendered when first asked for (a tx benchmark asks for none), from
	 * what the block holds and the account state noted now. */
	doc_chunk_hashes(b);
	doc_snapshot(c, b);
	chunks_index(c, b);
	if (c->cfg->bg_target_bytes) {
		doc_render_block(c, b); /* its size steers the background traffic */
		if (b->doc && p)
			bg_resize(c, b->doc->len);
	}
	c->produced++;
	gc(c);
	return 1;
}

int chain_produce(struct ns_chain *c, int n)
{
	int i, done = 0;

	for (i = 0; i < n; i++) {
		int r = produce_one(c);
		if (r < 0)
			break;
		done += r;
	}
	pthread_cond_broadcast(&c->cv);
	return done;
}

int chain_init(struct ns_chain *c, const struct ns_config *cfg)
{
	pthread_condattr_t ca;
	char err[256];

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(c->chain_id, sizeof(c->chain_id), "%s", cfg->chain_id);
	snprintf(c->contract_id, sizeof(c->contract_id), "%s", cfg->contract_id);
	c->genesis_height = cfg->genesis_height;
	c->genesis_time_ns = cfg->genesis_time_ns ? cfg->genesis_time_ns
		: (cfg->block_ms ? now_ns() : 1700000000000000000ULL);
	c->rng = cfg->seed ^ 0x6e65617273696dULL;
	c->traffic_rng = cfg->seed ^ 0x747261666669ULL;
	c->skip_rate = cfg->skip_rate;
	c->fork_rate = cfg->fork_rate;
	c->stall = cfg->stall;
	c->bg_tx = cfg->bg_tx;
	c->auto_respond = cfg->auto_respond;
	faults_init(&c->faults, cfg->seed);
	if (cfg->genesis_path) {
		if (genesis_load(c, cfg->genesis_path, err, sizeof(err))) {
			fprintf(stderr, "nearsim: %s: %s\n", cfg->genesis_path, err);
			return -1;
		}
	} else if (genesis_default(c)) {
		fprintf(stderr, "nearsim: cannot build the default genesis\n");
		return -1;
	}
	c->final_height = c->genesis_height;
	if (chain_produce(c, 1) != 1)
		return -1;
	return 0;
}

void chain_free(struct ns_chain *c)
{
	size_t i;
	int k;

	for (i = 0; i < c->nheights; i++)
		if (c->by_height[i])
			block_free(c, c->by_height[i]);
	for (k = 0; k < c->orphans.n; k++)
		block_free(c, c->orphans.v[k]);
	free(c->by_height);
	vec_free(&c->orphans);
	/* background receipts still waiting belong to no block yet; the rest are owned */
	for (k = 0; k < c->sched.n; k++) {
		struct ns_receipt *r = c->sched.v[k];
		if (r->bg && !r->executed)
			receipt_free(r);
	}
	for (k = 0; k < c->owned_txs.n; k++)
		tx_free(c->owned_txs.v[k]);
	for (k = 0; k < c->owned_receipts.n; k++)
		receipt_free(c->owned_receipts.v[k]);
	vec_free(&c->owned_txs);
	vec_free(&c->owned_receipts);
	vec_free(&c->pool);
	vec_free(&c->sched);
	vec_free(&c->outgoing_next);
	map_free(&c->blocks);
	map_free(&c->txs);
	map_free(&c->receipts);
	map_free(&c->chunks);
	cstate_unref(c->contract);
	acct_free_all(c);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
}
