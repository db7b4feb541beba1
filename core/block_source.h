/*
 * What the block stream asks of an event source (the neardata API, or the RPC-only
 * fallback): one block by height, and the chain head. A fetched block arrives already
 * reduced to its MPC events and filter matches (struct mpc_block).
 */
#ifndef MPCI_BLOCK_SOURCE_H
#define MPCI_BLOCK_SOURCE_H
#include <stdint.h>

#include "mpc_events.h"

enum bsrc_status {
	BSRC_BLOCK = 0,		/* .block is set; the callee owns it */
	BSRC_SKIPPED,		/* the source says the height has no block */
	BSRC_NOT_YET,		/* the height is not there yet (ahead of the source) */
	BSRC_ERROR,		/* .err_class and .error say why */
};

struct bsrc_result {
	int status;
	const char *err_class;	/* transport, timeout, http_5xx, http_429, http_status,
				   too_large, invalid, wrong_height */
	const char *error;	/* one line naming the height and the endpoint */
	const char *endpoint;	/* host:port (never a key) */
	struct mpc_block *block;
};

typedef void (*bsrc_done_fn)(void *ud, struct bsrc_result *r);
typedef void (*bsrc_head_fn)(void *ud, int ok, uint64_t height, const char *error);

struct bsrc_ops {
	const char *name;	/* "neardata", "rpc": the metrics' source label */
	/* optimistic: the newest version of the block (may be replaced); wait: the height
	 * is beyond the known head, the source may hold the request until it exists.
	 * NULL when the request could not even start (cb never runs). */
	void *(*fetch)(void *src, uint64_t height, int optimistic, int wait, bsrc_done_fn cb,
		       void *ud);
	void (*cancel)(void *src, void *req);
	void *(*head)(void *src, int optimistic, bsrc_head_fn cb, void *ud);
	void (*cancel_head)(void *src, void *req);
	void (*free)(void *src);
	/* Optional: every delivered block, whatever source fetched it (so a fallback can
	 * follow requests the primary saw). */
	void (*observe)(void *src, const struct mpc_block *b);
	/* Optional: a delivered block left the canonical chain (finalized 0, hash is its
	 * base58 hash), or finality reached height (finalized 1, hash is the final head's). */
	void (*chain)(void *src, int finalized, uint64_t height, const char *hash);
	/* 1: fetch one height at a time, in order. */
	int sequential;
};

#endif
