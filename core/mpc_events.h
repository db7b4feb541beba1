/*
 * MPC events in a block: signature, CKD and foreign-tx verification requests, their
 * completions, fail_on_timeout receipts, and the matches of generic filters, recognised
 * exactly as the MPC node does (reference mpc-contract.md §3.2, chain-gateway §3.3):
 *  - a request: executor == contract, status SuccessReceiptId(X), a single FunctionCall
 *    sign / request_app_private_key / verify_foreign_transaction whose args parse;
 *    id = X. Signature requests carry the tweak, CKD requests the app_id (SHA3-256
 *    derivations from the receipt's predecessor and the path).
 *  - a completion: receiver == contract, a single FunctionCall return_*_on_success;
 *    id = that receipt's id (so it equals the request's X); timeouts included.
 * The result is a compact, self-contained copy: the document can be freed at once.
 */
#ifndef MPCI_MPC_EVENTS_H
#define MPCI_MPC_EVENTS_H
#include <stddef.h>
#include <stdint.h>

#include "blockdoc.h"
#include "mpc-indexer/plugin.h"

struct mpc_matcher;
struct mpc_arena;

/* One subscriber's matches are contiguous in mpc_block.matches. */
struct mpc_match_group {
	size_t sub;		/* the id given to mpc_matcher_add */
	size_t start, n;
};

struct mpc_block {
	uint64_t height, prev_height, timestamp_nanosec;
	char hash[NEAR_HASH_B58_MAX], prev_hash[NEAR_HASH_B58_MAX];
	char last_final_block[NEAR_HASH_B58_MAX];
	uint8_t hash_bin[32], prev_hash_bin[32], last_final_bin[32], entropy[32];
	struct mpci_request *requests;
	size_t n_requests;
	const char **request_tx;	/* per request: originating tx hash, or NULL */
	const char **request_signer;	/* per request: the tx signer, or NULL */
	struct mpci_completion *completions;
	size_t n_completions;
	struct mpci_match *matches;
	size_t n_matches;
	struct mpc_match_group *groups;
	size_t n_groups;
	uint32_t n_timeouts;
	uint32_t n_outcomes;		/* receipt outcomes the document held */
	size_t bytes;			/* memory held, for accounting */
	struct mpc_arena *arena;
};

/* contract may be NULL: then only filters are matched. NULL on no memory. */
struct mpc_matcher *mpc_matcher_new(const char *contract);
void mpc_matcher_free(struct mpc_matcher *m);
const char *mpc_matcher_contract(const struct mpc_matcher *m);
/* Register a subscriber's filters (copied). -1 and a message on a bad filter. */
int mpc_matcher_add(struct mpc_matcher *m, size_t sub, const struct mpci_filter *f, size_t n,
		    char *err, size_t errsz);
void mpc_matcher_remove(struct mpc_matcher *m, size_t sub);
/* 1 when receipts to `account` can matter (the contract or a filter's account). */
int mpc_matcher_watches(const struct mpc_matcher *m, const char *account);

/* Events of one parsed document; NULL only when memory ran out. Requests whose args do
 * not parse are dropped with a warning in the log (as the node does). */
struct mpc_block *mpc_events_extract(const struct mpc_matcher *m, const struct blockdoc *d);
void mpc_block_free(struct mpc_block *b);

/* The derivations, exposed for tests: SHA3-256(prefix || predecessor || "," || path). */
int mpc_derive_tweak(uint8_t out[32], const char *predecessor, const char *path);
int mpc_derive_app_id(uint8_t out[32], const char *predecessor, const char *path);

const char *mpc_kind_name(int kind);	/* "sign", "ckd", "foreign_tx" */

#endif
