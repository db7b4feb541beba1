/* Nonces of one access key (reference near-rpc-and-transactions.md §3.7).
 *
 * A nonce is strictly greater than every nonce this key was handed before
 * (including those of earlier runs: the high-water mark is persisted by the
 * journal), greater than the access key's nonce on chain, and at least
 * final_height x 1e6, so a fresh key or a lost high-water mark still starts
 * above anything the key has used.  The chain accepts a nonce below
 * (height + 1) x 1e6 of the block that validates it, which is above the
 * final height we read, so a nonce from this rule is never too large. */
#ifndef MPCI_NONCE_H
#define MPCI_NONCE_H

#include <stdint.h>

#define NONCE_HEIGHT_MULT 1000000ULL /* ACCESS_KEY_NONCE_RANGE_MULTIPLIER */

struct nonce_state {
	uint64_t last;		/* highest nonce handed out (or persisted) */
	uint64_t ak_nonce;	/* the access key's nonce as last read; 0 unknown */
};

/* Start from a persisted high-water mark (0 = none). */
void nonce_init(struct nonce_state *st, uint64_t hwm);
/* The access key's nonce as read from the chain (never moves backwards). */
void nonce_set_access_key(struct nonce_state *st, uint64_t ak_nonce);
/* The next nonce: max(last + 1, ak_nonce + 1, final_height x 1e6).  0 when
 * that would overflow or final_height is 0 (unknown: do not sign yet). */
uint64_t nonce_next(struct nonce_state *st, uint64_t final_height);
/* InvalidNonce{ak_nonce, tx_nonce}: the key is at least at ak_nonce. */
void nonce_invalid(struct nonce_state *st, uint64_t ak_nonce);
/* NonceTooLarge: our high-water mark cannot be from this chain (a reset
 * test network, a journal from elsewhere).  Start again from the access key's
 * nonce; returns 1 when the mark moved down. */
int nonce_too_large(struct nonce_state *st, uint64_t upper_bound);

#endif
