/*
 * The RPC-only block source, the fallback when the neardata API keeps failing
 * (reference near-rpc-and-transactions.md §2.2): `block` by height (UNKNOWN_BLOCK at or
 * below the final head = a skipped height), `chunk` for every new chunk, and
 * EXPERIMENTAL_tx_status for the transactions that call the contract or a filter's
 * account, so that their receipts' outcomes are found in the blocks where they executed.
 * Requests seen earlier (from either source, see bsrc_ops.observe) are followed until
 * their completion. It works one height at a time (bsrc_ops.sequential).
 * Limits: receipts that reach the contract from another contract (not from a
 * transaction to it) are not seen, and a yield that outlives ~300 blocks is forgotten.
 */
#ifndef MPCI_SOURCE_RPC_H
#define MPCI_SOURCE_RPC_H
#include <stddef.h>

#include "block_source.h"

struct ev_loop;
struct rpc;

struct rpcsrc_config {
	int optimistic;
};

extern const struct bsrc_ops rpcsrc_ops;

void *rpcsrc_new(struct ev_loop *loop, struct rpc *rpc, const struct rpcsrc_config *cfg,
		 const struct mpc_matcher *matcher, char *err, size_t errsz);

#endif
