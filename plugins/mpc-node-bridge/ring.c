/* The replay ring of block updates. */
#include "ring.h"

#include <stdlib.h>

#include "msg.h"

int ring_init(struct ring *r, size_t cap, size_t max_bytes)
{
	*r = (struct ring){ .cap = cap ? cap : 1, .max_bytes = max_bytes };
	r->v = calloc(r->cap, sizeof(*r->v));
	return r->v ? 0 : -1;
}

void ring_free(struct ring *r)
{
	for (size_t i = 0; r->v && i < r->n; i++)
		bmsg_unref(r->v[(r->head + i) % r->cap]);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static void drop_oldest(struct ring *r)
{
	struct bmsg *m = r->v[r->head];
	r->bytes -= m->len;
	bmsg_unref(m);
	r->v[r->head] = NULL;
	r->head = (r->head + 1) % r->cap;
	r->n--;
}

uint64_t ring_evict_bound(const struct ring *r, size_t len)
{
	size_t n = r->n, bytes = r->bytes, i = 0;
	while (n == r->cap || (n && bytes + len > r->max_bytes)) {
		bytes -= r->v[(r->head + i) % r->cap]->len;
		n--;
		i++;
	}
	return ring_oldest_seq(r) + i;
}

void ring_push(struct ring *r, struct bmsg *m)
{
	m->seq = r->next_seq++;
	m->off = r->total_bytes;
	r->total_bytes += m->len;
	if (m->is_block) {
		if (!r->first_height)
			r->first_height = m->height;
		r->newest_height = m->height;
	}
	while (r->n == r->cap || (r->n && r->bytes + m->len > r->max_bytes))
		drop_oldest(r);
	r->v[(r->head + r->n) % r->cap] = m;
	r->n++;
	r->bytes += m->len;
}

uint64_t ring_oldest_seq(const struct ring *r)
{
	return r->next_seq - r->n;
}

struct bmsg *ring_get(const struct ring *r, uint64_t seq)
{
	uint64_t old = ring_oldest_seq(r);
	if (seq < old || seq >= r->next_seq)
		return NULL;
	return r->v[(r->head + (size_t)(seq - old)) % r->cap];
}

uint64_t ring_oldest_height(const struct ring *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct bmsg *m = r->v[(r->head + i) % r->cap];
		if (m->is_block)
			return m->height;
	}
	return 0;
}

uint64_t ring_seek_height(const struct ring *r, uint64_t h)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct bmsg *m = r->v[(r->head + i) % r->cap];
		if (m->height >= h)
			return m->seq;
	}
	return r->next_seq;
}
