/* Judging a FinalExecutionOutcomeView (the answer of `tx` / send_tx): is the
 * transaction done at the wanted finality, and did the transaction and every
 * one of its receipts succeed?  Pure, for the sender and its tests. */
#ifndef MPCI_TXOUTCOME_H
#define MPCI_TXOUTCOME_H

#include <stddef.h>

struct cJSON;

/* TxExecutionStatus, in nearcore's order. */
enum tx_level { TXL_NONE, TXL_INCLUDED, TXL_EXECUTED_OPTIMISTIC, TXL_INCLUDED_FINAL,
		TXL_EXECUTED, TXL_FINAL, TXL_COUNT };
/* "NONE" ... "FINAL" -> enum tx_level, or -1. */
int tx_level_parse(const char *s);
const char *tx_level_name(int lv);
/* Does an answer at level `have` satisfy a wait for `want` (nearcore's rule:
 * INCLUDED_FINAL and EXECUTED_OPTIMISTIC are not ordered)? */
int tx_level_meets(int have, int want);

enum txoutcome_kind {
	TXO_PENDING,	/* not at the wanted level, or receipts still running */
	TXO_SUCCEEDED,	/* status SuccessValue and no receipt failed */
	TXO_FAILED,	/* the transaction or one of its receipts failed */
	TXO_INVALID,	/* Failure.InvalidTxError: it never executed */
};

struct txoutcome {
	int kind;		/* enum txoutcome_kind */
	char *value;		/* TXO_SUCCEEDED: the decoded SuccessValue (NUL-terminated) */
	size_t value_len;
	char *error;		/* TXO_FAILED / TXO_INVALID: the Failure as JSON text */
};

/* Judge one `result` object.  0 (out filled; free with txoutcome_free), or
 * -1 when it is not an outcome at all (out->error says what is wrong). */
int txoutcome_judge(const struct cJSON *result, int want, struct txoutcome *out);
void txoutcome_free(struct txoutcome *o);

#endif
