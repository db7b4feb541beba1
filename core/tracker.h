/*
 * Recent blocks of an optimistic stream: which are canonical and which final, as the MPC
 * node's RecentBlocksTracker decides it (reference mpc-contract.md §4.3):
 *  1. a duplicate hash is refused;
 *  2. the parent is found by prev_hash if tracked, else the block is a root;
 *  3. last_final_block, if tracked, and its ancestors become final;
 *  4. siblings of the final chain are pruned, and non-final roots at or below the final
 *     height;
 *  5. the canonical head moves to the new block when it is strictly higher (ties keep
 *     the first seen): its path becomes canonical, the old branch not;
 *  6. blocks below min(max_height - window + 1, final height) are pruned.
 * A final block never becomes non-final. Status changes and prunes are reported through
 * a callback so the stream can tell subscribers about orphaned and finalised blocks.
 */
#ifndef MPCI_TRACKER_H
#define MPCI_TRACKER_H
#include <stddef.h>
#include <stdint.h>

enum tracker_status {
	TRK_FORK = 0,		/* optimistic, not canonical */
	TRK_CANONICAL = 1,
	TRK_FINAL = 2,
	TRK_UNKNOWN = -1,	/* not tracked (never added, or pruned) */
};

enum tracker_event {
	TRK_EV_STATUS,		/* status changed from `old` to `status` */
	TRK_EV_PRUNED,		/* dropped while in `status` */
};

struct tracker_block {
	uint64_t height;
	uint8_t hash[32];
	uint8_t prev_hash[32];
	uint8_t last_final[32];
};

typedef void (*tracker_event_fn)(void *ud, int event, const struct tracker_block *b, int old,
				 int status);

struct tracker;

struct tracker *tracker_new(size_t window, tracker_event_fn cb, void *ud);
void tracker_free(struct tracker *t);

/* 0, 1 for a duplicate (nothing changes), -1 when memory ran out. Events for this add
 * are reported before it returns. */
int tracker_add(struct tracker *t, const struct tracker_block *b);
int tracker_status(const struct tracker *t, const uint8_t hash[32]);
/* Height and hash of the final / canonical head; 0 when there is none. */
uint64_t tracker_final_head(const struct tracker *t, uint8_t hash[32]);
uint64_t tracker_canonical_head(const struct tracker *t, uint8_t hash[32]);
size_t tracker_count(const struct tracker *t);

/* The tree as the reference's snapshots print it ("   Recent blocks: (Window = A to B,
 * GC limit C)" then one line per block). malloc'd; NULL on no memory. */
char *tracker_dump(const struct tracker *t);

#endif
