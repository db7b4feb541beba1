/* The /healthz verdict (see health.h).  The stall check comes before the
 * lag checks: when the chain (or the indexer's view of it) stops, the
 * head stops too and the lag looks like zero. */
#include <stdio.h>

#include "health.h"

int health_check(const struct health_cfg *c, const struct health_in *in,
		 char *reason, size_t n)
{
	if (!in->have_stream) {
		snprintf(reason, n, "not following: this host delivers no block stream");
		return 0;
	}
	if (in->blocks == 0) {
		snprintf(reason, n, "not following yet: no block received in %.0f s since start",
			 in->now - in->started);
		return 0;
	}
	double quiet = in->now - in->last_block_at;
	if (c->stall_timeout > 0 && quiet > c->stall_timeout) {
		snprintf(reason, n, "stalled: no new block for %.1f s (limit %.0f s), last height %llu",
			 quiet, c->stall_timeout, (unsigned long long)in->processed);
		return 0;
	}
	if (c->max_lag > 0 && in->lag_seconds > c->max_lag) {
		snprintf(reason, n, "behind: %.1f s behind the chain head (limit %.0f s)",
			 in->lag_seconds, c->max_lag);
		return 0;
	}
	uint64_t lag_blocks = in->head > in->processed ? in->head - in->processed : 0;
	if (c->max_lag_blocks > 0 && lag_blocks > c->max_lag_blocks) {
		snprintf(reason, n, "behind: %llu blocks behind the chain head %llu (limit %llu)",
			 (unsigned long long)lag_blocks, (unsigned long long)in->head,
			 (unsigned long long)c->max_lag_blocks);
		return 0;
	}
	if (in->status_following == 0) {
		snprintf(reason, n, "behind: the indexer reports it is not following (height %llu, head %llu)",
			 (unsigned long long)in->processed, (unsigned long long)in->head);
		return 0;
	}
	snprintf(reason, n, "ok: following at height %llu, %llu blocks and %.1f s behind the head",
		 (unsigned long long)in->processed, (unsigned long long)lag_blocks,
		 in->lag_seconds);
	return 1;
}
