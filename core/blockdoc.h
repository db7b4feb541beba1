/*
 * A block document (a neardata / NEAR Lake StreamerMessage: {"block":BlockView,
 * "shards":[IndexerShard...]}) read into a compact form: the header fields the stream
 * needs and, per executed receipt, the slices the event matcher looks at. Everything
 * else (chunks, transactions, state changes, proofs, gas profiles) is validated as JSON
 * and skipped. The slices point into the caller's buffer: they live as long as it does.
 */
#ifndef MPCI_BLOCKDOC_H
#define MPCI_BLOCKDOC_H
#include <stddef.h>
#include <stdint.h>

#include "json_scan.h"
#include "near/hash.h"

enum bd_status {
	BD_ST_UNKNOWN = 0,	/* "Unknown" or absent */
	BD_ST_VALUE,		/* {"SuccessValue": base64} */
	BD_ST_RECEIPT,		/* {"SuccessReceiptId": hash} */
	BD_ST_FAILURE,		/* {"Failure": ...} */
};

/* One entry of shards[].receipt_execution_outcomes[] (or an RPC-built equivalent). */
struct bd_outcome {
	struct jstr receipt_id;		/* receipt.receipt_id (else execution_outcome.id) */
	struct jstr predecessor;	/* receipt.predecessor_id */
	struct jstr receiver;		/* receipt.receiver_id */
	struct jstr signer;		/* receipt.receipt.Action.signer_id */
	struct jstr executor;		/* execution_outcome.outcome.executor_id */
	struct jstr status_json;	/* the status value, raw */
	struct jstr next_receipt_id;	/* SuccessReceiptId value */
	struct jstr logs;		/* the logs array, raw ("" when absent) */
	struct jstr method;		/* the single FunctionCall's method_name */
	struct jstr args;		/* its args, base64 */
	struct jstr tx_hash;		/* neardata tx_hash ("" when null or absent) */
	uint32_t n_actions;		/* 0 for a Data receipt */
	uint8_t status;			/* enum bd_status */
	uint8_t single_fc;		/* exactly one action and it is a FunctionCall */
	uint16_t shard;			/* index in shards[] */
};

struct blockdoc {
	uint64_t height;
	uint64_t prev_height;		/* 0 when the document has none */
	char hash[NEAR_HASH_B58_MAX];
	char prev_hash[NEAR_HASH_B58_MAX];
	char last_final_block[NEAR_HASH_B58_MAX];
	uint8_t hash_bin[32], prev_hash_bin[32], last_final_bin[32];
	uint8_t random_value[32];
	uint64_t timestamp_nanosec;
	size_t n_shards;
	struct bd_outcome *outs;	/* n_outs entries; owned, reused across parses */
	size_t n_outs, cap_outs;
};

enum bd_result {
	BD_OK = 0,
	BD_NULL = 1,	/* the document is JSON null: the height has no block */
	BD_ERROR = -1,
};

/* Reads a whole document. The doc's previous outcomes are dropped (their storage is
 * reused). BD_ERROR leaves a message naming the field and byte offset in err. */
int blockdoc_parse(struct blockdoc *d, const char *json, size_t n, char *err, size_t errsz);
/* Reads only a BlockView ({"author","header","chunks"}: an RPC `block` result or a
 * Lake block.json) into the header fields; no outcomes. */
int blockdoc_parse_header(struct blockdoc *d, const char *json, size_t n, char *err,
			  size_t errsz);
/* Reads one IndexerShard object and appends its outcomes (shard index `shard`). */
int blockdoc_parse_shard(struct blockdoc *d, const char *json, size_t n, unsigned shard,
			 char *err, size_t errsz);
/* Appends one outcome (e.g. built from an RPC transaction status). NULL on no memory. */
struct bd_outcome *blockdoc_add_outcome(struct blockdoc *d);
void blockdoc_reset(struct blockdoc *d);
void blockdoc_free(struct blockdoc *d);

#endif
