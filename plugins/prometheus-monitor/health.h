/* The /healthz verdict: is the indexer following the chain within the
 * configured lag?  A pure function of what the monitor has observed, so
 * that every reason can be tested without a chain. */
#ifndef PROM_HEALTH_H
#define PROM_HEALTH_H

#include <stddef.h>
#include <stdint.h>

struct health_cfg {
	double max_lag;          /* seconds behind the head; 0 = not checked */
	uint64_t max_lag_blocks; /* blocks behind the head; 0 = not checked */
	double stall_timeout;    /* seconds without a new block; 0 = not checked */
};

struct health_in {
	int have_stream;         /* the block subscription exists */
	double now;              /* loop clock */
	double started;          /* when the monitor started (loop clock) */
	uint64_t blocks;         /* blocks delivered so far */
	double last_block_at;    /* loop clock at the newest block */
	uint64_t processed;      /* newest height delivered */
	/* from the host's status (zero when it reports none) */
	uint64_t head;
	double lag_seconds;
	int status_following;    /* -1 unknown */
};

/* 1 healthy, 0 not; reason says why either way (one line, no newline). */
int health_check(const struct health_cfg *c, const struct health_in *in,
		 char *reason, size_t n);

#endif
