/* The replay ring: the last N block updates (block, orphaned, finalized), in
 * stream order, numbered by a sequence that only grows.  Bounded by a count
 * and by bytes; the oldest entries go first. */
#ifndef BRIDGE_RING_H
#define BRIDGE_RING_H

#include <stddef.h>
#include <stdint.h>

struct bmsg;

struct ring {
	struct bmsg **v;
	size_t cap;                 /* entries */
	size_t max_bytes;
	size_t n;
	size_t head;                /* index of the oldest entry */
	size_t bytes;               /* bytes held */
	uint64_t next_seq;          /* seq the next pushed entry gets */
	uint64_t total_bytes;       /* bytes ever pushed */
	uint64_t first_height;      /* height of the first block ever pushed, 0 = none yet */
	uint64_t newest_height;     /* height of the newest block pushed */
};

int ring_init(struct ring *r, size_t cap, size_t max_bytes);
void ring_free(struct ring *r);
/* The seq below which entries will be gone once an entry of `len` bytes is pushed. */
uint64_t ring_evict_bound(const struct ring *r, size_t len);
/* Takes the caller's reference; sets m->seq and m->off. */
void ring_push(struct ring *r, struct bmsg *m);
uint64_t ring_oldest_seq(const struct ring *r);
/* The entry with this seq, or NULL when it is not held. */
struct bmsg *ring_get(const struct ring *r, uint64_t seq);
/* Height of the oldest block entry held, 0 if none. */
uint64_t ring_oldest_height(const struct ring *r);
/* The seq of the first entry whose height is >= h (next_seq when none). */
uint64_t ring_seek_height(const struct ring *r, uint64_t h);

#endif
