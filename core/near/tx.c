/* Build and sign Transaction V0 with FunctionCall actions (reference §3.2-3.5). */
#include "near/tx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "near/account_id.h"
#include "near/base64.h"

const char *near_action_name(unsigned tag)
{
	static const char *const names[] = {
		"CreateAccount", "DeployContract", "FunctionCall", "Transfer",
		"Stake", "AddKey", "DeleteKey", "DeleteAccount", "Delegate",
		"DeployGlobalContract", "UseGlobalContract", "DeterministicStateInit",
	};

	return tag < sizeof(names) / sizeof(names[0]) ? names[tag] : "unknown";
}

int near_tx_encode(struct borsh_buf *out, const char *signer_id, const struct near_pubkey *pk,
		   uint64_t nonce, const char *receiver_id, const uint8_t block_hash[NEAR_HASH_LEN],
		   const struct near_fc_action *acts, size_t n)
{
	size_t i;

	if (!signer_id || !pk || !receiver_id || !block_hash || (n && !acts) ||
	    pk->type != NEAR_KEY_ED25519 || n > UINT32_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (!acts[i].method || (acts[i].args_len && !acts[i].args))
			return -1;
	borsh_string(out, signer_id);
	borsh_u8(out, pk->type);
	borsh_fixed(out, pk->data, sizeof(pk->data));
	borsh_u64(out, nonce);
	borsh_string(out, receiver_id);
	borsh_fixed(out, block_hash, NEAR_HASH_LEN);
	borsh_u32(out, (uint32_t)n);
	for (i = 0; i < n; i++) {
		borsh_u8(out, NEAR_ACTION_FUNCTION_CALL);
		borsh_string(out, acts[i].method);
		borsh_bytes(out, acts[i].args, acts[i].args_len);
		borsh_u64(out, acts[i].gas);
		borsh_u128(out, acts[i].deposit);
	}
	return out->failed ? -1 : 0;
}

int near_tx_check(const char *signer_id, const char *receiver_id,
		  const struct near_fc_action *acts, size_t n, char *err, size_t errsz)
{
	uint64_t total = 0;
	size_t i;

	if (!signer_id || !near_account_id_valid(signer_id, strlen(signer_id))) {
		snprintf(err, errsz, "signer_id \"%.64s\" is not a valid account id",
			 signer_id ? signer_id : "");
		return -1;
	}
	if (!receiver_id || !near_account_id_valid(receiver_id, strlen(receiver_id))) {
		snprintf(err, errsz, "receiver_id \"%.64s\" is not a valid account id",
			 receiver_id ? receiver_id : "");
		return -1;
	}
	if (n == 0 || n > NEAR_MAX_ACTIONS || !acts) {
		snprintf(err, errsz, "%zu actions (must be 1..%d)", n, NEAR_MAX_ACTIONS);
		return -1;
	}
	for (i = 0; i < n; i++) {
		size_t mlen = acts[i].method ? strlen(acts[i].method) : 0;

		if (mlen == 0 || mlen > NEAR_MAX_METHOD_NAME_LEN) {
			snprintf(err, errsz, "action %zu: method name length %zu (must be 1..%d)",
				 i, mlen, NEAR_MAX_METHOD_NAME_LEN);
			return -1;
		}
		if (!borsh_utf8_valid((const uint8_t *)acts[i].method, mlen)) {
			snprintf(err, errsz, "action %zu: method name is not valid UTF-8", i);
			return -1;
		}
		if (acts[i].args_len > NEAR_MAX_ARGS_LEN || (acts[i].args_len && !acts[i].args)) {
			snprintf(err, errsz, "action %zu: args of %zu bytes (limit %u)",
				 i, acts[i].args_len, NEAR_MAX_ARGS_LEN);
			return -1;
		}
		if (acts[i].gas == 0) {
			snprintf(err, errsz, "action %zu: gas is 0 (FunctionCallZeroAttachedGas)", i);
			return -1;
		}
		if (acts[i].gas > NEAR_MAX_GAS - total) {
			snprintf(err, errsz, "action %zu: total prepaid gas exceeds %llu",
				 i, (unsigned long long)NEAR_MAX_GAS);
			return -1;
		}
		total += acts[i].gas;
	}
	return 0;
}

int near_tx_sign_bytes(struct near_signed_tx *out, const uint8_t *tx, size_t tx_len,
		       const struct near_secret *sk)
{
	memset(out, 0, sizeof(*out));
	if (!tx || tx_len == 0 || tx_len > SIZE_MAX - 1 - NEAR_SIG_LEN)
		return -1;
	near_sha256(out->hash, tx, tx_len);
	if (near_sign(out->signature, sk, out->hash, NEAR_HASH_LEN) != 0)
		goto fail;
	out->len = tx_len + 1 + NEAR_SIG_LEN;
	out->bytes = malloc(out->len);
	if (!out->bytes)
		goto fail;
	memcpy(out->bytes, tx, tx_len);
	out->bytes[tx_len] = NEAR_KEY_ED25519;
	memcpy(out->bytes + tx_len + 1, out->signature, NEAR_SIG_LEN);
	out->tx_len = tx_len;
	out->base64 = b64_encode_alloc(out->bytes, out->len);
	if (!out->base64)
		goto fail;
	near_hash_to_b58(out->hash_b58, out->hash);
	return 0;
fail:
	near_signed_tx_free(out);
	return -1;
}

int near_tx_sign(struct near_signed_tx *out, const char *signer_id, const struct near_pubkey *pk,
		 uint64_t nonce, const char *receiver_id, const uint8_t block_hash[NEAR_HASH_LEN],
		 const struct near_fc_action *acts, size_t n, const struct near_secret *sk)
{
	struct borsh_buf b = BORSH_BUF_INIT;
	struct near_pubkey own;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!pk || !sk)
		return -1;
	/* A key that is not the signer's would only come back as InvalidSignature. */
	near_secret_pubkey(&own, sk);
	if (!near_pubkey_equal(&own, pk))
		return -1;
	if (near_tx_encode(&b, signer_id, pk, nonce, receiver_id, block_hash, acts, n) != 0) {
		borsh_buf_free(&b);
		return -1;
	}
	rc = near_tx_sign_bytes(out, b.data, b.len, sk);
	borsh_buf_free(&b);
	return rc;
}

void near_signed_tx_free(struct near_signed_tx *tx)
{
	free(tx->bytes);
	free(tx->base64);
	memset(tx, 0, sizeof(*tx));
}
