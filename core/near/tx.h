/* NEAR transactions: build and sign V0 FunctionCall transactions; decode any V0
 * SignedTransaction (action tags 0..7) for the chain simulator. */
#ifndef MPCI_NEAR_TX_H
#define MPCI_NEAR_TX_H
#include <stddef.h>
#include <stdint.h>
#include "near/borsh.h"
#include "near/hash.h"
#include "near/keys.h"
#include "near/u128.h"

/* Action enum tags (Borsh u8), reference §3.3. */
enum near_action_tag {
	NEAR_ACTION_CREATE_ACCOUNT = 0,
	NEAR_ACTION_DEPLOY_CONTRACT = 1,
	NEAR_ACTION_FUNCTION_CALL = 2,
	NEAR_ACTION_TRANSFER = 3,
	NEAR_ACTION_STAKE = 4,
	NEAR_ACTION_ADD_KEY = 5,
	NEAR_ACTION_DELETE_KEY = 6,
	NEAR_ACTION_DELETE_ACCOUNT = 7,
};
const char *near_action_name(unsigned tag);	/* "FunctionCall", ...; "unknown" */

/* Protocol limits the checker applies (base parameters.yaml, protocol 83 gas). */
#define NEAR_MAX_METHOD_NAME_LEN 256
#define NEAR_MAX_ARGS_LEN (4u << 20)
#define NEAR_MAX_ACTIONS 100

struct near_fc_action {
	const char *method;
	const uint8_t *args;
	size_t args_len;
	uint64_t gas;
	near_u128 deposit;
};

/*
 * Append borsh(Transaction V0) with FunctionCall actions to out. Checks only what Borsh
 * needs (non-NULL inputs, ed25519 key, lengths that fit a u32), so tests can build txs the
 * chain would refuse; run near_tx_check first for the protocol rules.
 * Returns 0, or -1 (out->failed set on allocation failure).
 */
int near_tx_encode(struct borsh_buf *out, const char *signer_id, const struct near_pubkey *pk,
		   uint64_t nonce, const char *receiver_id, const uint8_t block_hash[NEAR_HASH_LEN],
		   const struct near_fc_action *acts, size_t n);

/*
 * Protocol rules a node would enforce on these inputs: valid account ids, 1..100 actions,
 * method name 1..256 bytes, args <= 4 MiB, gas > 0 and total gas <= NEAR_MAX_GAS.
 * Returns 0, or -1 with a message naming the problem in err.
 */
int near_tx_check(const char *signer_id, const char *receiver_id,
		  const struct near_fc_action *acts, size_t n, char *err, size_t errsz);

/* A signed transaction, ready for send_tx. Owns bytes and base64. */
struct near_signed_tx {
	uint8_t *bytes;			/* tx || 0x00 || signature */
	size_t len;
	size_t tx_len;			/* length of the unsigned Transaction prefix */
	char *base64;			/* signed_tx_base64 */
	uint8_t hash[NEAR_HASH_LEN];	/* sha256(tx) = the transaction id */
	char hash_b58[NEAR_HASH_B58_MAX];
	uint8_t signature[NEAR_SIG_LEN];
};

/*
 * Encode, hash, sign (ed25519 over the 32-byte hash) and base64 in one go.
 * pk must be sk's public key. Returns 0, or -1 (out zeroed, nothing to free).
 */
int near_tx_sign(struct near_signed_tx *out, const char *signer_id, const struct near_pubkey *pk,
		 uint64_t nonce, const char *receiver_id, const uint8_t block_hash[NEAR_HASH_LEN],
		 const struct near_fc_action *acts, size_t n, const struct near_secret *sk);
/* Sign already-encoded Transaction bytes (any actions); same result shape. */
int near_tx_sign_bytes(struct near_signed_tx *out, const uint8_t *tx, size_t tx_len,
		       const struct near_secret *sk);
void near_signed_tx_free(struct near_signed_tx *tx);

/* One decoded action. payload/args point into the owning near_tx_view's raw copy. */
struct near_action_view {
	uint8_t tag;			/* enum near_action_tag */
	const uint8_t *payload;		/* the Borsh bytes after the tag */
	size_t payload_len;
	/* FunctionCall (2) */
	char *method;			/* NUL-terminated, owned by the view */
	const uint8_t *args;
	size_t args_len;
	uint64_t gas;
	near_u128 deposit;		/* FunctionCall and Transfer deposit, Stake amount */
};

struct near_tx_view {
	uint8_t *raw;			/* owned copy of the signed bytes */
	size_t raw_len;
	size_t tx_len;			/* unsigned Transaction prefix of raw */
	char *signer_id;		/* NUL-terminated; syntax NOT checked (see account_id.h) */
	struct near_pubkey public_key;
	uint64_t nonce;
	char *receiver_id;
	uint8_t block_hash[NEAR_HASH_LEN];
	struct near_action_view *actions;
	size_t n_actions;
	uint8_t signature[NEAR_SIG_LEN];
	uint8_t hash[NEAR_HASH_LEN];	/* sha256 of the Transaction bytes */
	char hash_b58[NEAR_HASH_B58_MAX];
};

/*
 * Decode a SignedTransaction V0 (ed25519 key and signature; action tags 0..7).
 * Rejects Transaction V1, unknown tags, invalid UTF-8 strings, truncation and trailing
 * bytes, with a message in err naming the field and byte offset. Does not verify the
 * signature (near_tx_view_verify does). Returns 0, or -1 (out zeroed, nothing to free).
 */
int near_tx_decode(struct near_tx_view *out, const uint8_t *signed_bytes, size_t n,
		   char *err, size_t errsz);
/* 0 if the signature is valid for sha256(tx) under the tx's public key, else -1. */
int near_tx_view_verify(const struct near_tx_view *v);
void near_tx_view_free(struct near_tx_view *v);

#endif
