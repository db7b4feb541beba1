/*
 * The block stream: every block of the chain, in height order, each exactly once, with
 * its MPC events, to every subscriber.
 *
 * - Sources: the neardata API ([near] block_urls) first; the RPC-only fallback (the
 *   `rpc` client, may be NULL) after [blocks] fallback_after consecutive failures of the
 *   primary, and back to the primary as soon as a probe of it succeeds.
 * - Catching up, up to [blocks] fetch_ahead heights are fetched concurrently; they are
 *   delivered in order. Each block's prev_hash must be the hash of the block delivered
 *   before it (its prev_height tells which heights were really skipped), so a lagging or
 *   wrong endpoint cannot make the stream skip or repeat a block: a claim that a height is
 *   empty is only believed once the next block links to the last one delivered.
 * - finality = final: every block is final. finality = optimistic: blocks come as soon as
 *   they exist, a fork tracker (tracker.h) says whether each is canonical; a block that
 *   leaves the canonical chain is reported orphaned, and the advance of finality is
 *   reported with the new final block.
 * - The position (last delivered block, last final block) is saved crash-safely in
 *   state_dir every [blocks] cursor_interval and at stop. The start is the cursor, the
 *   head, or a height ([blocks] start). After a crash, blocks delivered since the last save
 *   are delivered again (at most cursor_interval's worth); a consumer that must see each
 *   block once keeps its own last height (mpc-indexer blocks --output does).
 *   In optimistic mode the stream resumes after the last *final* block delivered.
 * - Replay (mpci_block_sub.from_height): honoured for subscriptions made before
 *   blockstream_start: the stream starts at the lowest height asked for (below the
 *   cursor if need be) and each subscriber sees blocks from its own height on. After the
 *   start, a from_height below the next height is refused (the error names that height).
 *
 * Metrics (prefix mpc_indexer_): blocks_received_total{source}, blocks_processed_total,
 * blocks_final_total, blocks_orphaned_total, block_head_height, block_final_height,
 * block_processed_height, block_lag_blocks, block_lag_seconds,
 * block_source_switches_total{to}, block_source_active{source},
 * block_fetch_errors_total{source,class}, mpc_requests_total{kind},
 * mpc_completions_total{kind}, mpc_timeouts_total.
 *
 * Everything runs on the loop thread.
 */
#ifndef MPCI_BLOCKSTREAM_H
#define MPCI_BLOCKSTREAM_H
#include <stddef.h>

#include "mpc-indexer/plugin.h"
#include "provider.h"

struct ev_loop;
struct http_client;
struct rpc;
struct cfg;
struct metrics;
struct blockstream;

/* Reads [near] (block_urls, block_api_key, finality, contract, request_timeout) and
 * [blocks] (both checked). state_dir NULL = no cursor (start from [blocks] start, which
 * must then not be "cursor"... it falls back to the head). NULL and a message on error. */
struct blockstream *blockstream_new(struct ev_loop *loop, struct http_client *http,
				    struct rpc *rpc, const struct cfg *cfg, struct metrics *reg,
				    const char *state_dir, char *err, size_t errsz);

/* Settings for callers without a configuration file (the CLI); zeros = defaults. */
struct blockstream_config {
	const char *const *block_urls;	/* NULL-terminated */
	const char *api_key;
	const char *contract;		/* NULL = no MPC events, filters only */
	int optimistic;
	const char *start;		/* without a cursor: "cursor" (= the head), "head" or a
					   height; NULL = "cursor" */
	int force_start;		/* 1: start as `start` says even when a cursor exists */
	const char *resume_hash;	/* with a height H: the hash of block H-1's successor's
					   parent, i.e. the last block the consumer has; checked */
	unsigned fetch_ahead;		/* 0 = 32 */
	unsigned fallback_after;	/* 0 = 5 */
	double fallback_probe;		/* 0 = 10 s */
	double cursor_interval;		/* 0 = 1 s */
	double head_interval;		/* 0 = 1 s */
	double request_timeout;		/* 0 = 10 s */
	double retry_max;		/* 0 = 5 s */
	size_t max_block_size;		/* 0 = 32 MiB */
	unsigned tracker_window;	/* 0 = 200 */
	double max_lag;			/* 0 = 30 s: "following" within this lag */
};
struct blockstream *blockstream_new_with(struct ev_loop *loop, struct http_client *http,
					 struct rpc *rpc, const struct blockstream_config *bc,
					 struct metrics *reg, const char *state_dir, char *err,
					 size_t errsz);

/* Load the cursor, learn the head and start fetching. 0, or -1 (see the log). */
int blockstream_start(struct blockstream *bs);
/* Persist the cursor and stop: no deliveries after this returns. Idempotent. */
void blockstream_stop(struct blockstream *bs);
void blockstream_free(struct blockstream *bs);

void *blockstream_subscribe(struct blockstream *bs, const struct mpci_block_sub *sub,
			    const struct provider_block_sink *sink, void *ctx, char *err,
			    size_t errsz);
/* No delivery to it after this returns (also from inside its own callback). */
void blockstream_unsubscribe(struct blockstream *bs, void *handle);
void blockstream_status(struct blockstream *bs, struct mpci_status *out);

/* The next height the stream will deliver (for tests and the CLI's progress line). */
uint64_t blockstream_next_height(const struct blockstream *bs);

#endif
