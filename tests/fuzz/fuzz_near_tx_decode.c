/* libFuzzer: SignedTransaction decoder. Accepted FunctionCall-only txs must re-encode
 * to the same bytes; everything else must fail cleanly with a message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "near/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct near_tx_view v;
	char err[256];
	size_t i;
	int only_fc = 1;

	err[0] = '\0';
	if (near_tx_decode(&v, data, size, err, sizeof(err)) != 0) {
		if (!err[0] || v.raw || v.actions)
			abort();	/* a rejection must explain itself and own nothing */
		return 0;
	}
	if (v.tx_len + 1 + NEAR_SIG_LEN != size || memcmp(v.raw, data, size) != 0)
		abort();
	for (i = 0; i < v.n_actions; i++) {
		const struct near_action_view *a = &v.actions[i];

		if (a->payload < v.raw || a->payload + a->payload_len > v.raw + v.tx_len)
			abort();
		if (a->tag != NEAR_ACTION_FUNCTION_CALL)
			only_fc = 0;
	}
	if (only_fc) {
		struct near_fc_action *acts = calloc(v.n_actions ? v.n_actions : 1, sizeof(*acts));
		struct borsh_buf b = BORSH_BUF_INIT;

		if (!acts)
			abort();
		for (i = 0; i < v.n_actions; i++) {
			acts[i].method = v.actions[i].method;
			acts[i].args = v.actions[i].args;
			acts[i].args_len = v.actions[i].args_len;
			acts[i].gas = v.actions[i].gas;
			acts[i].deposit = v.actions[i].deposit;
		}
		if (near_tx_encode(&b, v.signer_id, &v.public_key, v.nonce, v.receiver_id,
				   v.block_hash, acts, v.n_actions) != 0 ||
		    b.len != v.tx_len || memcmp(b.data, data, b.len) != 0)
			abort();
		borsh_buf_free(&b);
		free(acts);
	}
	(void)near_tx_view_verify(&v);
	near_tx_view_free(&v);
	return 0;
}
