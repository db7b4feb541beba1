/* The recent-blocks tree of an optimistic stream: see tracker.h. The tree is small
 * (the window, a few hundred blocks), so lookups are linear. */
#include "tracker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "near/hash.h"

struct node {
	struct tracker_block b;
	int status;
	int mark;
	struct node *parent;
	struct node **kids;	/* in the order they were added */
	size_t n_kids, cap_kids;
};

struct tracker {
	size_t window;
	tracker_event_fn cb;
	void *ud;
	struct node **all;	/* every tracked block */
	size_t n_all, cap_all;
	struct node **roots;
	size_t n_roots, cap_roots;
	struct node *head, *final;
	uint64_t max_height;
};

struct tracker *tracker_new(size_t window, tracker_event_fn cb, void *ud)
{
	struct tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->window = window ? window : 1;
	t->cb = cb;
	t->ud = ud;
	return t;
}

static void node_free(struct node *n)
{
	free(n->kids);
	free(n);
}

void tracker_free(struct tracker *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_all; i++)
		node_free(t->all[i]);
	free(t->all);
	free(t->roots);
	free(t);
}

static struct node *find(const struct tracker *t, const uint8_t h[32])
{
	for (size_t i = t->n_all; i-- > 0;)
		if (memcmp(t->all[i]->b.hash, h, 32) == 0)
			return t->all[i];
	return NULL;
}

static int grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp;

	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 8;
	while (c < need)
		c *= 2;
	void *n = realloc(*p, c * size);
	if (!n)
		return -1;
	*p = n;
	*cap = c;
	return 0;
}

static void set_status(struct tracker *t, struct node *n, int st)
{
	int old = n->status;

	if (old == st)
		return;
	n->status = st;
	if (t->cb)
		t->cb(t->ud, TRK_EV_STATUS, &n->b, old, st);
}

/* Remove n from its parent's children or from the roots (its slot is taken by `with`,
 * which may be empty). */
static void unlink_node(struct tracker *t, struct node *n)
{
	struct node ***arr;
	size_t *cnt;

	if (n->parent) {
		arr = &n->parent->kids;
		cnt = &n->parent->n_kids;
	} else {
		arr = &t->roots;
		cnt = &t->n_roots;
	}
	for (size_t i = 0; i < *cnt; i++) {
		if ((*arr)[i] == n) {
			memmove(&(*arr)[i], &(*arr)[i + 1], (*cnt - i - 1) * sizeof(**arr));
			(*cnt)--;
			break;
		}
	}
}

static void drop_from_all(struct tracker *t, struct node *n)
{
	for (size_t i = 0; i < t->n_all; i++) {
		if (t->all[i] == n) {
			memmove(&t->all[i], &t->all[i + 1], (t->n_all - i - 1) * sizeof(*t->all));
			t->n_all--;
			return;
		}
	}
}

static void report_prune(struct tracker *t, struct node *n)
{
	if (t->head == n)
		t->head = NULL;
	if (t->final == n)
		t->final = NULL;
	if (t->cb)
		t->cb(t->ud, TRK_EV_PRUNED, &n->b, n->status, n->status);
}

/* Drop n and everything below it. */
static void prune_subtree(struct tracker *t, struct node *n)
{
	while (n->n_kids)
		prune_subtree(t, n->kids[n->n_kids - 1]);
	unlink_node(t, n);
	report_prune(t, n);
	drop_from_all(t, n);
	node_free(n);
}

/* Drop n alone; its children become roots where n was. */
static int prune_one(struct tracker *t, struct node *n)
{
	size_t pos = 0;

	if (n->parent)
		return -1;	/* only roots are dropped alone */
	for (pos = 0; pos < t->n_roots && t->roots[pos] != n; pos++)
		;
	if (grow(&t->roots, &t->cap_roots, t->n_roots + n->n_kids, sizeof(*t->roots)) < 0)
		return -1;
	memmove(&t->roots[pos + n->n_kids], &t->roots[pos + 1],
		(t->n_roots - pos - 1) * sizeof(*t->roots));
	for (size_t i = 0; i < n->n_kids; i++) {
		t->roots[pos + i] = n->kids[i];
		n->kids[i]->parent = NULL;
	}
	t->n_roots = t->n_roots - 1 + n->n_kids;
	n->n_kids = 0;
	report_prune(t, n);
	drop_from_all(t, n);
	node_free(n);
	return 0;
}

static void mark_final(struct tracker *t, struct node *f)
{
	for (struct node *x = f; x && x->status != TRK_FINAL; x = x->parent)
		set_status(t, x, TRK_FINAL);
	if (!t->final || f->b.height > t->final->b.height)
		t->final = f;
}

static void prune_dead_forks(struct tracker *t)
{
	struct node *x;

	if (!t->final)
		return;
	/* siblings of every block on the final chain */
	for (x = t->final; x; x = x->parent) {
		struct node *p = x->parent;
		if (!p)
			break;
		for (size_t i = p->n_kids; i-- > 0;)
			if (p->kids[i] != x)
				prune_subtree(t, p->kids[i]);
	}
	/* non-final roots at or below the final height */
	for (size_t i = t->n_roots; i-- > 0;) {
		struct node *r = t->roots[i];
		if (r->status != TRK_FINAL && r->b.height <= t->final->b.height)
			prune_subtree(t, r);
	}
}

static void move_head(struct tracker *t, struct node *n)
{
	struct node *x;

	for (x = n; x; x = x->parent)
		x->mark = 1;
	for (x = t->head; x && !x->mark; x = x->parent)
		if (x->status == TRK_CANONICAL)
			set_status(t, x, TRK_FORK);
	for (x = n; x; x = x->parent) {
		x->mark = 0;
		if (x->status == TRK_FORK)
			set_status(t, x, TRK_CANONICAL);
	}
	t->head = n;
}

/* The head was pruned: the highest block left takes over (the first added on ties). */
static struct node *highest(const struct tracker *t)
{
	struct node *best = NULL;

	for (size_t i = 0; i < t->n_all; i++)
		if (!best || t->all[i]->b.height > best->b.height)
			best = t->all[i];
	return best;
}

static uint64_t window_low(const struct tracker *t)
{
	return (t->max_height > t->window ? t->max_height - t->window : 0) + 1;
}

static uint64_t gc_limit(const struct tracker *t)
{
	uint64_t lo = window_low(t);

	if (!t->final)
		return 0;
	return lo < t->final->b.height ? lo : t->final->b.height;
}

int tracker_add(struct tracker *t, const struct tracker_block *b)
{
	struct node *n, *p, *f;

	if (find(t, b->hash))
		return 1;
	if (!(n = calloc(1, sizeof(*n))))
		return -1;
	n->b = *b;
	n->status = TRK_FORK;
	if (grow(&t->all, &t->cap_all, t->n_all + 1, sizeof(*t->all)) < 0) {
		node_free(n);
		return -1;
	}
	p = find(t, b->prev_hash);
	if (p) {
		if (grow(&p->kids, &p->cap_kids, p->n_kids + 1, sizeof(*p->kids)) < 0) {
			node_free(n);
			return -1;
		}
		p->kids[p->n_kids++] = n;
		n->parent = p;
	} else {
		if (grow(&t->roots, &t->cap_roots, t->n_roots + 1, sizeof(*t->roots)) < 0) {
			node_free(n);
			return -1;
		}
		t->roots[t->n_roots++] = n;
	}
	t->all[t->n_all++] = n;
	if (b->height > t->max_height)
		t->max_height = b->height;

	if ((f = find(t, b->last_final)))
		mark_final(t, f);
	prune_dead_forks(t);

	if (!t->head && t->n_all)
		move_head(t, highest(t));
	if (find(t, b->hash) && b->height > t->head->b.height)
		move_head(t, n);

	/* the window: roots below the limit go, their children take their place */
	uint64_t lim = gc_limit(t);
	for (size_t i = 0; i < t->n_roots;) {
		if (t->roots[i]->b.height < lim) {
			if (prune_one(t, t->roots[i]) < 0)
				return -1;
			i = 0;
			continue;
		}
		i++;
	}
	return 0;
}

int tracker_status(const struct tracker *t, const uint8_t hash[32])
{
	struct node *n = find(t, hash);

	return n ? n->status : TRK_UNKNOWN;
}

uint64_t tracker_final_head(const struct tracker *t, uint8_t hash[32])
{
	if (!t->final)
		return 0;
	if (hash)
		memcpy(hash, t->final->b.hash, 32);
	return t->final->b.height;
}

uint64_t tracker_canonical_head(const struct tracker *t, uint8_t hash[32])
{
	if (!t->head)
		return 0;
	if (hash)
		memcpy(hash, t->head->b.hash, 32);
	return t->head->b.height;
}

size_t tracker_count(const struct tracker *t)
{
	return t->n_all;
}

struct sbuf {
	char *p;
	size_t n, cap;
	int failed;
};

static void put(struct sbuf *s, const char *str)
{
	size_t l = strlen(str);

	if (s->failed)
		return;
	if (s->n + l + 1 > s->cap) {
		size_t c = (s->n + l + 1) * 2;
		char *np = realloc(s->p, c);
		if (!np) {
			s->failed = 1;
			return;
		}
		s->p = np;
		s->cap = c;
	}
	memcpy(s->p + s->n, str, l + 1);
	s->n += l;
}

static void dump_node(const struct tracker *t, struct sbuf *s, const struct node *n,
		      const char *prefix, const char *conn)
{
	char line[256], hash[NEAR_HASH_B58_MAX], kid_prefix[200];
	const char *mark = n == t->final ? "FH" : n == t->head ? "CH" : "  ";

	near_hash_to_b58(hash, n->b.hash);
	snprintf(line, sizeof(line), "%s %s%s[%llu]%s%s %s \n", mark, prefix, conn,
		 (unsigned long long)n->b.height, n->status >= TRK_CANONICAL ? " C" : "  ",
		 n->status == TRK_FINAL ? " F" : "  ", hash);
	put(s, line);
	snprintf(kid_prefix, sizeof(kid_prefix), "%s%s", prefix,
		 !strcmp(conn, "└─") ? "  " : !strcmp(conn, "├─") ? "│ " : "");
	if (strlen(kid_prefix) > 150)
		return;	/* absurdly deep: stop drawing rather than overflow */
	if (n->n_kids == 1) {
		dump_node(t, s, n->kids[0], kid_prefix, "");
		return;
	}
	for (size_t i = 0; i < n->n_kids; i++)
		dump_node(t, s, n->kids[i], kid_prefix, i + 1 == n->n_kids ? "└─" : "├─");
}

char *tracker_dump(const struct tracker *t)
{
	struct sbuf s = { 0 };
	char head[128];

	snprintf(head, sizeof(head), "   Recent blocks: (Window = %llu to %llu, GC limit %llu)\n",
		 (unsigned long long)window_low(t), (unsigned long long)t->max_height,
		 (unsigned long long)gc_limit(t));
	put(&s, head);
	for (size_t i = 0; i < t->n_roots; i++)
		dump_node(t, &s, t->roots[i], "", i + 1 == t->n_roots ? "└─" : "├─");
	if (s.failed) {
		free(s.p);
		return NULL;
	}
	return s.p;
}
