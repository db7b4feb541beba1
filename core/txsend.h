/*
 * The transaction sender: function-call transactions from plugins (and the
 * CLI) signed by the configured signers, sent, and followed to an outcome.
 *
 * Per access key there is one FIFO queue (bounded per signer by [tx]
 * queue_max) and a pipeline of at most in_flight_max signed transactions.
 * A transaction is signed only when the pipeline has room, with the newest
 * final block hash and the next nonce (nonce.h); its SIGNED record is synced
 * to the journal before it is first sent, so that a restart sends the same
 * bytes again instead of a second transaction.  send_tx goes out in nonce
 * order (submit_parallel at a time per key; 1, the default, keeps that order
 * on arrival too: a higher nonce that lands in a block before a lower one
 * arrives makes the lower one invalid), then `tx` follows the hash to the
 * level the caller asked for.  Failures:
 *   - transport, 5xx, 429, timeouts: rpc.c fails over; when it gives up, the
 *     hash is followed (and the same bytes re-sent) - never re-signed while
 *     the first may still land;
 *   - InvalidNonce: the access key is read again and the transaction re-signed
 *     with a new nonce - at once when it had never been sent before, else only
 *     after `tx` confirms the old hash is unknown;
 *   - Expired / InvalidChain: the same, with a fresh block hash; and a sent
 *     transaction the nodes do not know once its block hash is older than
 *     validity_blocks can no longer land: it is signed again too;
 *   - ShardCongested / ShardStuck: the same bytes again after a pause;
 *   - any other invalid transaction: MPCI_TX_REJECTED with the node's reason.
 * Outcomes come from the whole FinalExecutionOutcomeView: success only when
 * the transaction and every receipt succeeded; the value is the transaction's
 * SuccessValue.  Each outcome is written to the journal (DONE, synced) before
 * it is reported, so it is reported once, also across a crash: a transaction
 * replayed after a restart has no callback, and its outcome goes to the log
 * and the metrics.
 *
 * Metrics (mpc_indexer_ prefix):
 *   tx_total{method,outcome}          outcomes: accepted, succeeded, failed,
 *                                     unknown, rejected
 *   tx_submissions_total{kind}        send_tx calls: first, again
 *   tx_retries_total{cause}           timeout, transport, http_5xx,
 *                                     rate_limited, malformed, invalid_nonce,
 *                                     expired, congested, restart, unknown_tx
 *   tx_nonce_errors_total{signer}     InvalidNonce / NonceTooLarge answers
 *   tx_queue_length{signer}           accepted and not yet reported
 *   tx_in_flight{signer}              signed and not yet reported
 *   tx_duration_seconds{method}       submit to outcome
 */
#ifndef MPCI_TXSEND_H
#define MPCI_TXSEND_H

#include <stddef.h>
#include <stdint.h>
#include "mpc-indexer/plugin.h"
#include "provider.h"

struct ev_loop;
struct rpc;
struct cfg;
struct metrics;
struct txsend;
struct signer;

/* Reads the checked [tx] section, [near] contract and every [signer.NAME]
 * (keys are loaded here: a key file readable by others is refused).  Opens
 * and locks state_dir/tx.journal.  NULL and a message on failure. */
struct txsend *txsend_new(struct ev_loop *loop, struct rpc *rpc,
			  const struct cfg *cfg, struct metrics *reg,
			  const char *state_dir, char *err, size_t errsz);

/* Check the [tx] section's values (check-config); 0, or -1 and
 * "file:line: [tx] key: why". */
int txsend_check_config(const struct cfg *cfg, char *err, size_t errsz);

/* The same without a configuration file (the CLI): one signer, whose
 * ownership passes to the sender, and the [tx] defaults. */
struct txsend_opts {
	const char *contract;		/* default receiver; may be NULL */
	unsigned queue_max;		/* 0 = 10000 */
	unsigned in_flight_max;		/* 0 = 256 */
	unsigned submit_parallel;	/* 0 = 1 */
	double wait_deadline;		/* 0 = 120 s */
	uint64_t default_gas;		/* 0 = 300 Tgas */
	const char *wait_until;		/* NULL = "EXECUTED" */
	const char *accept_level;	/* NULL = "INCLUDED" */
	double block_refresh;		/* 0 = 10 s */
	double retry_interval;		/* 0 = 1 s */
	double sweep_interval;		/* 0 = 1 s */
	double status_timeout;		/* 0 = 20 s */
	uint64_t compact_bytes;		/* 0 = 8 MiB */
	uint64_t validity_blocks;	/* 0 = 86400 (transaction_validity_period) */
};
struct txsend *txsend_new_with(struct ev_loop *loop, struct rpc *rpc,
			       struct signer *signer,
			       const struct txsend_opts *o,
			       struct metrics *reg, const char *state_dir,
			       char *err, size_t errsz);

/* Replays the journal: what was pending is sent again (the same signed
 * bytes while they are valid) and followed.  0, or -1 (logged). */
int txsend_start(struct txsend *ts);
/* Take no new requests and sign nothing new; what is signed is still
 * followed.  Syncs and compacts the journal. */
void txsend_stop(struct txsend *ts);
/* Cancels everything.  Callbacks still pending run now with
 * MPCI_TX_REJECTED "shutdown"; the journal keeps those transactions for the
 * next start. */
void txsend_free(struct txsend *ts);

/* Check and queue one request.  MPCI_OK (and *id), or MPCI_ERR_INVAL (bad
 * argument: nothing is signed), MPCI_ERR_NOTFOUND (no such signer),
 * MPCI_ERR_FULL (queue_max reached), MPCI_ERR_PHASE (stopped), MPCI_ERR
 * (the journal failed), with a message in err.  done (may be NULL) runs
 * exactly once, on the loop, never from inside txsend_submit. */
int txsend_submit(struct txsend *ts, const struct mpci_tx_request *req,
		  provider_tx_fn done, void *ctx, uint64_t *id, char *err,
		  size_t errsz);

/* Describe a signer (name NULL = the only one).  MPCI_OK or
 * MPCI_ERR_NOTFOUND.  Strings stay valid until txsend_free. */
int txsend_signer_info(struct txsend *ts, const char *name,
		       struct mpci_signer_info *out);

/* Transactions accepted and not yet reported, over every signer. */
size_t txsend_queue_length(struct txsend *ts);

/* Counters for tests and the benchmark. */
struct txsend_stats {
	uint64_t signed_txs;		/* signatures made (re-signs included) */
	uint64_t submissions;		/* send_tx calls */
	uint64_t resubmissions;		/* of which with bytes sent before */
	uint64_t resigns;		/* after InvalidNonce / Expired ... */
	uint64_t nonce_errors;
	uint64_t reported;		/* outcomes reported */
	uint64_t replayed;		/* taken over from the journal at start */
};
void txsend_get_stats(struct txsend *ts, struct txsend_stats *out);

#endif
