/* Decode a SignedTransaction V0 (any action of tags 0..7) from untrusted bytes. */
#include "near/tx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tx_dec {
	struct borsh_rd r;
	char *err;
	size_t errsz;
	int have_err;
};

static __attribute__((format(printf, 2, 3))) int dec_fail(struct tx_dec *d, const char *fmt, ...)
{
	va_list ap;

	d->r.failed = 1;
	if (d->have_err || !d->err || d->errsz == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(d->err, d->errsz, fmt, ap);
	va_end(ap);
	d->have_err = 1;
	return -1;
}

/* After a group of reads: name the field when the input ran out. */
static int dec_check(struct tx_dec *d, const char *what, size_t idx)
{
	if (!d->r.failed)
		return 0;
	if (idx == (size_t)-1)
		return dec_fail(d, "truncated: %s at byte %zu runs past the end of the %zu-byte input",
				what, d->r.off, d->r.len);
	return dec_fail(d, "truncated: actions[%zu].%s at byte %zu runs past the end of the "
			"%zu-byte input", idx, what, d->r.off, d->r.len);
}

#define NO_ACTION ((size_t)-1)

/* A Borsh String; copied out NUL-terminated when out is not NULL, else skipped. */
static int dec_string(struct tx_dec *d, char **out, const char *what, size_t idx)
{
	size_t start = d->r.off, n;
	const uint8_t *p = borsh_get_bytes(&d->r, &n);

	if (!p)
		return dec_check(d, what, idx);
	if (!borsh_utf8_valid(p, n) || memchr(p, 0, n)) {
		const char *why = memchr(p, 0, n) ? "contains a NUL byte" : "is not valid UTF-8";

		if (idx == NO_ACTION)
			return dec_fail(d, "%s at byte %zu %s", what, start, why);
		return dec_fail(d, "actions[%zu].%s at byte %zu %s", idx, what, start, why);
	}
	if (!out)
		return 0;
	*out = malloc(n + 1);
	if (!*out)
		return dec_fail(d, "out of memory");
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	return 0;
}

/* PublicKey inside an action: any key type nearcore knows, so the bytes are skipped right. */
static int dec_action_pubkey(struct tx_dec *d, size_t idx)
{
	size_t start = d->r.off, len;
	uint8_t type = borsh_get_u8(&d->r);

	if (dec_check(d, "public_key", idx))
		return -1;
	switch (type) {
	case 0: len = 32; break;	/* ED25519 */
	case 1: len = 64; break;	/* SECP256K1 */
	case 2: len = 1952; break;	/* ML-DSA-65 */
	default:
		return dec_fail(d, "actions[%zu].public_key at byte %zu has unknown key type %u",
				idx, start, type);
	}
	borsh_get_fixed(&d->r, len);
	return dec_check(d, "public_key", idx);
}

static int dec_access_key(struct tx_dec *d, size_t idx)
{
	size_t start, i;
	uint32_t n;
	uint8_t perm, opt;

	borsh_get_u64(&d->r);		/* access_key.nonce */
	start = d->r.off;
	perm = borsh_get_u8(&d->r);
	if (dec_check(d, "access_key", idx))
		return -1;
	if (perm == 1)			/* FullAccess */
		return 0;
	if (perm != 0)
		return dec_fail(d, "actions[%zu].access_key.permission at byte %zu: unknown variant %u",
				idx, start, perm);
	start = d->r.off;
	opt = borsh_get_u8(&d->r);
	if (dec_check(d, "access_key.allowance", idx))
		return -1;
	if (opt > 1)
		return dec_fail(d, "actions[%zu].access_key.allowance at byte %zu: Option tag %u",
				idx, start, opt);
	if (opt)
		borsh_get_u128(&d->r);
	if (dec_check(d, "access_key.allowance", idx) ||
	    dec_string(d, NULL, "access_key.receiver_id", idx))
		return -1;
	start = d->r.off;
	n = borsh_get_u32(&d->r);
	if (dec_check(d, "access_key.method_names", idx))
		return -1;
	if (n > borsh_rd_remaining(&d->r) / 4)
		return dec_fail(d, "truncated: actions[%zu].access_key.method_names at byte %zu "
				"claims %u names", idx, start, n);
	for (i = 0; i < n; i++)
		if (dec_string(d, NULL, "access_key.method_names", idx))
			return -1;
	return 0;
}

static int dec_action(struct tx_dec *d, struct near_action_view *a, size_t idx)
{
	size_t start = d->r.off, n;
	uint8_t tag = borsh_get_u8(&d->r);

	if (dec_check(d, "tag", idx))
		return -1;
	a->tag = tag;
	a->payload = d->r.p + d->r.off;
	switch (tag) {
	case NEAR_ACTION_CREATE_ACCOUNT:
		break;
	case NEAR_ACTION_DEPLOY_CONTRACT:
		borsh_get_bytes(&d->r, &n);
		if (dec_check(d, "code", idx))
			return -1;
		break;
	case NEAR_ACTION_FUNCTION_CALL:
		if (dec_string(d, &a->method, "method_name", idx))
			return -1;
		a->args = borsh_get_bytes(&d->r, &a->args_len);
		if (dec_check(d, "args", idx))
			return -1;
		a->gas = borsh_get_u64(&d->r);
		if (dec_check(d, "gas", idx))
			return -1;
		a->deposit = borsh_get_u128(&d->r);
		if (dec_check(d, "deposit", idx))
			return -1;
		break;
	case NEAR_ACTION_TRANSFER:
		a->deposit = borsh_get_u128(&d->r);
		if (dec_check(d, "deposit", idx))
			return -1;
		break;
	case NEAR_ACTION_STAKE:
		a->deposit = borsh_get_u128(&d->r);
		if (dec_check(d, "stake", idx) || dec_action_pubkey(d, idx))
			return -1;
		break;
	case NEAR_ACTION_ADD_KEY:
		if (dec_action_pubkey(d, idx) || dec_access_key(d, idx))
			return -1;
		break;
	case NEAR_ACTION_DELETE_KEY:
		if (dec_action_pubkey(d, idx))
			return -1;
		break;
	case NEAR_ACTION_DELETE_ACCOUNT:
		if (dec_string(d, NULL, "beneficiary_id", idx))
			return -1;
		break;
	default:
		return dec_fail(d, "actions[%zu] at byte %zu: action tag %u (%s) is not supported",
				idx, start, tag, near_action_name(tag));
	}
	a->payload_len = (size_t)(d->r.p + d->r.off - a->payload);
	return 0;
}

static int dec_signed_tx(struct tx_dec *d, struct near_tx_view *v)
{
	const uint8_t *p;
	size_t start, i;
	uint32_t count;
	uint8_t type;

	if (dec_string(d, &v->signer_id, "signer_id", NO_ACTION))
		return -1;
	start = d->r.off;
	type = borsh_get_u8(&d->r);
	if (dec_check(d, "public_key", NO_ACTION))
		return -1;
	if (type != NEAR_KEY_ED25519)
		return dec_fail(d, "public_key at byte %zu: key type %u is not supported "
				"(only ed25519)", start, type);
	v->public_key.type = type;
	p = borsh_get_fixed(&d->r, sizeof(v->public_key.data));
	if (dec_check(d, "public_key", NO_ACTION))
		return -1;
	memcpy(v->public_key.data, p, sizeof(v->public_key.data));
	v->nonce = borsh_get_u64(&d->r);
	if (dec_check(d, "nonce", NO_ACTION) ||
	    dec_string(d, &v->receiver_id, "receiver_id", NO_ACTION))
		return -1;
	p = borsh_get_fixed(&d->r, NEAR_HASH_LEN);
	if (dec_check(d, "block_hash", NO_ACTION))
		return -1;
	memcpy(v->block_hash, p, NEAR_HASH_LEN);
	start = d->r.off;
	count = borsh_get_u32(&d->r);
	if (dec_check(d, "actions", NO_ACTION))
		return -1;
	/* Every action takes at least its tag byte: a count beyond that is truncation,
	 * and checking first keeps a forged count from driving the allocation. */
	if (count > borsh_rd_remaining(&d->r))
		return dec_fail(d, "truncated: actions at byte %zu claims %u actions but only "
				"%zu bytes follow", start, count, borsh_rd_remaining(&d->r));
	if (count) {
		v->actions = calloc(count, sizeof(*v->actions));
		if (!v->actions)
			return dec_fail(d, "out of memory");
	}
	for (i = 0; i < count; i++) {
		if (dec_action(d, &v->actions[i], i)) {
			v->n_actions = i + 1;	/* so free sees a partly filled method */
			return -1;
		}
	}
	v->n_actions = count;
	v->tx_len = d->r.off;

	start = d->r.off;
	type = borsh_get_u8(&d->r);
	if (dec_check(d, "signature", NO_ACTION))
		return -1;
	if (type != NEAR_KEY_ED25519)
		return dec_fail(d, "signature at byte %zu: type %u is not supported (only ed25519)",
				start, type);
	p = borsh_get_fixed(&d->r, NEAR_SIG_LEN);
	if (dec_check(d, "signature", NO_ACTION))
		return -1;
	memcpy(v->signature, p, NEAR_SIG_LEN);
	if (borsh_rd_remaining(&d->r))
		return dec_fail(d, "%zu trailing byte(s) after the signature at byte %zu",
				borsh_rd_remaining(&d->r), d->r.off);
	return 0;
}

int near_tx_decode(struct near_tx_view *out, const uint8_t *signed_bytes, size_t n,
		   char *err, size_t errsz)
{
	struct tx_dec d = { .err = err, .errsz = errsz };

	memset(out, 0, sizeof(*out));
	if (err && errsz)
		err[0] = '\0';
	if (!signed_bytes || n == 0) {
		dec_fail(&d, "empty transaction");
		return -1;
	}
	/* V0 starts with signer_id's u32 length (<= 64, so bytes 1..3 are zero); V1 with 0x01. */
	if (n >= 4 && signed_bytes[0] == 1 && (signed_bytes[1] | signed_bytes[2] | signed_bytes[3])) {
		dec_fail(&d, "Transaction V1 (leading tag 0x01) is not supported; only V0");
		return -1;
	}
	out->raw = malloc(n);
	if (!out->raw) {
		dec_fail(&d, "out of memory");
		return -1;
	}
	memcpy(out->raw, signed_bytes, n);
	out->raw_len = n;
	borsh_rd_init(&d.r, out->raw, n);
	if (dec_signed_tx(&d, out) != 0) {
		near_tx_view_free(out);
		return -1;
	}
	near_sha256(out->hash, out->raw, out->tx_len);
	near_hash_to_b58(out->hash_b58, out->hash);
	return 0;
}

int near_tx_view_verify(const struct near_tx_view *v)
{
	return near_verify(v->signature, &v->public_key, v->hash, NEAR_HASH_LEN);
}

void near_tx_view_free(struct near_tx_view *v)
{
	size_t i;

	for (i = 0; i < v->n_actions; i++)
		free(v->actions[i].method);
	free(v->actions);
	free(v->signer_id);
	free(v->receiver_id);
	free(v->raw);
	memset(v, 0, sizeof(*v));
}
