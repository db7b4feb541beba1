/* MPC traffic measured from the chain: requests and completions by kind,
 * joined by request id into a request-to-completion latency in blocks,
 * pending requests, timeouts.  Events count once their block is final:
 * optimistic (canonical) blocks are held until finality reaches them and
 * dropped when they are orphaned. */
#ifndef PROM_TRAFFIC_H
#define PROM_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include "mpc-indexer/plugin.h"

struct traffic;

struct traffic_opts {
	size_t max_pending;      /* requests tracked for the join; 0 = 20000 */
	uint64_t expiry_blocks;  /* forget a request after this; 0 = 1000 */
	size_t max_held;         /* optimistic blocks awaiting finality; 0 = 512 */
	/* Families the host already maintains (its block stream counts requests,
	 * completions and timeouts): those are left to it, never counted twice. */
	int (*host_has)(const char *family, void *ud);
	void *host_has_ud;
};

/* Registers the mpc_indexer_mpc_* families.  NULL when out of memory. */
struct traffic *traffic_new(const struct mpci_host_api *api, mpci_plugin *self,
			    const struct traffic_opts *o);
void traffic_free(struct traffic *t);

void traffic_block(struct traffic *t, const struct mpci_block *b);
void traffic_finalized(struct traffic *t, uint64_t height, const char *hash);
void traffic_orphaned(struct traffic *t, uint64_t height, const char *hash);

/* Requests waiting for their completion (all kinds); blocks held. */
size_t traffic_pending(const struct traffic *t);
size_t traffic_held(const struct traffic *t);
/* Slots of the pending table (it grows with what is pending). */
size_t traffic_capacity(const struct traffic *t);

#endif
