/*
 * The state viewer: contract view methods polled at final finality for
 * subscribers, with the subscriber policy of the reference node.
 *
 * One poll serves every subscriber of the same (contract, method, args bytes).
 * A subscriber is told the current value (or error) first, asynchronously, and
 * after that only when the raw bytes change, or the call starts failing, stops
 * failing or fails differently (another "CAUSE: message"); each time with the
 * block height the value was first observed at.  Heights never go backwards:
 * an answer from a lagging endpoint (older than what was seen) is dropped.  A
 * failure without a block (transport) carries the newest height known.
 *
 * Policy (struct mpci_poll_policy; zero fields take the [view] defaults):
 *  - bootstrap, until the subscriber has seen a success: its retry and
 *    backoff apply to failures; its interval is unused (the first poll is
 *    immediate);
 *  - update, afterwards: the next poll starts `interval` after the previous
 *    one finished; failures follow retry and backoff.
 *  - FailFast: the first failure is delivered with final = 1 and ends the
 *    subscription.  Fixed: retry after backoff_initial.  Exponential: retry
 *    after backoff_initial x 2^(failures-1), at most backoff_max.  A random
 *    [0, jitter) is added to every retry delay.
 * A poll shared by several subscribers runs at the most eager of their
 * schedules; FailFast subscribers drop out while the others go on.
 *
 * Standing polls: the views named in [view] endpoints are polled from the
 * start, subscribed or not, so that a subscriber gets a value at once and
 * monitoring always has one; their failures are retried, never fatal.  Any
 * other view is polled only while it has a subscriber.
 *
 * Loop thread only.  Deliveries run on the loop, never from inside a viewer_*
 * call; a delivery callback may subscribe, unsubscribe or free the viewer.
 */
#ifndef MPCI_CORE_VIEWER_H
#define MPCI_CORE_VIEWER_H

#include <stddef.h>
#include <stdint.h>

#include "provider.h"
#include "rpc.h"

struct ev_loop;
struct cfg;
struct metrics;
struct viewer;

/* The [view] section (the MPC contract comes from [near] contract).  Reads
 * [view] interval, retry, backoff_initial, backoff_max, jitter,
 * bootstrap_retry, bootstrap_backoff_initial, bootstrap_backoff_max and
 * endpoints; both sections must have been checked.  `reg` may be NULL. */
struct viewer *viewer_new(struct ev_loop *loop, struct rpc *rpc,
			  const struct cfg *cfg, struct metrics *reg, char *err,
			  size_t errsz);

/* Check the [view] section (retry names, intervals, endpoints items) without
 * creating anything: for check-config.  0, or -1 and "file:line: key: why". */
int viewer_check_config(const struct cfg *cfg, char *err, size_t errsz);

/* The same without a config file.  Zero fields take the built-in defaults:
 * interval 1 s, Exponential from 1 s to 60 s, jitter 1 s (jitter < 0: none). */
struct viewer_config {
	const char *contract;		/* default contract; NULL = none */
	struct mpci_poll_policy bootstrap;
	struct mpci_poll_policy update;
	double jitter;
	/* standing polls, NULL-terminated: "METHOD" or "METHOD/INTERVAL"
	 * (e.g. "allowed_foreign_chain_providers/300s"); NULL = none */
	const char *const *endpoints;
};
struct viewer *viewer_new_with(struct ev_loop *loop, struct rpc *rpc,
			       const struct viewer_config *vc,
			       struct metrics *reg, char *err, size_t errsz);

/* Stops every poll and one-shot view; nothing is delivered after it. */
void viewer_free(struct viewer *v);

/* A handle, or NULL and a message (bad spec, no contract, out of memory). */
void *viewer_subscribe(struct viewer *v, const struct mpci_view_spec *spec,
		       provider_view_fn deliver, void *ctx, char *err,
		       size_t errsz);
/* Nothing is delivered to the handle after this.  NULL is fine; a handle
 * that FailFast already ended may still be passed (once). */
void viewer_unsubscribe(struct viewer *v, void *handle);

/* One fresh call (not a cached value); `deliver` runs once with final = 1.
 * MPCI_OK, MPCI_ERR_INVAL (bad spec, no contract) or MPCI_ERR_NOMEM. */
int viewer_view(struct viewer *v, const struct mpci_view_spec *spec,
		provider_view_fn deliver, void *ctx);

/* The policy a spec resolves to, after defaults (for the CLI and tests). */
void viewer_policy(const struct viewer *v, const struct mpci_view_spec *spec,
		   struct mpci_poll_policy *bootstrap,
		   struct mpci_poll_policy *update);

/* "fail_fast", "fixed", "exponential" <-> enum mpci_retry.  0 or -1. */
int viewer_parse_retry(const char *s, int *out);
const char *viewer_retry_name(int retry);

/* Polls running now (standing or subscribed), and view calls made so far. */
size_t viewer_poll_count(const struct viewer *v);
uint64_t viewer_calls(const struct viewer *v);

/* ---- for tests --------------------------------------------------------------- */

/* Replace the RPC client: call() starts a view at final finality and later
 * (never from inside call) runs cb once, unless cancel() came first. */
struct viewer_backend {
	void *(*call)(void *ctx, const char *contract, const char *method,
		      const char *args_json, rpc_view_fn cb, void *ud);
	void (*cancel)(void *ctx, void *call);
	void *ctx;
};
void viewer_set_backend(struct viewer *v, const struct viewer_backend *b);

/* A manual clock: polls are no longer started by loop timers but by
 * viewer_run_due(), when now() has reached their time.  Set it before the
 * first subscription. */
void viewer_set_clock(struct viewer *v, double (*now)(void *ud), void *ud);
/* Start every poll that is due; returns how many started. */
int viewer_run_due(struct viewer *v);
/* When the next poll is due on the viewer's clock; -1 when none is waiting. */
double viewer_next_due(const struct viewer *v);
/* Seed of the jitter. */
void viewer_set_seed(struct viewer *v, uint64_t seed);

#endif
