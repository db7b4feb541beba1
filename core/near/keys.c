/* ed25519 keys and signatures (libsodium) in NEAR's "ed25519:<base58>" text form. */
#include "near/keys.h"

#include <string.h>
#include <sodium.h>

#include "near/base58.h"

static const char ed25519_prefix[] = "ed25519:";
#define ED25519_PREFIX_LEN (sizeof(ed25519_prefix) - 1)

const char *near_key_strerror(int err)
{
	switch (err) {
	case NEAR_KEY_OK:
		return "ok";
	case NEAR_KEY_ERR_FORMAT:
		return "not a key string (expected \"ed25519:<base58>\")";
	case NEAR_KEY_ERR_TYPE:
		return "unsupported key type (only ed25519 is supported)";
	case NEAR_KEY_ERR_BASE58:
		return "invalid base58 character";
	case NEAR_KEY_ERR_LENGTH:
		return "wrong length after base58 decoding";
	case NEAR_KEY_ERR_MISMATCH:
		return "secret key's public half does not match its seed";
	}
	return "unknown key error";
}

/*
 * Split "<type>:<data>" (or bare "<data>" when bare_ok) and decode the base58 data, which
 * must be exactly want bytes. Returns 0 or an enum near_key_err; buf holds the bytes.
 */
static int key_decode(uint8_t *buf, size_t want, const char *s, int bare_ok)
{
	const char *colon, *data;
	uint8_t tmp[2 * NEAR_SIG_LEN];	/* room to tell "too long" from other errors */
	size_t len;
	int rc;

	if (!s || !*s)
		return NEAR_KEY_ERR_FORMAT;
	colon = strchr(s, ':');
	if (colon) {
		if (colon == s)
			return NEAR_KEY_ERR_FORMAT;
		if ((size_t)(colon - s) != ED25519_PREFIX_LEN - 1 ||
		    memcmp(s, ed25519_prefix, ED25519_PREFIX_LEN - 1) != 0)
			return NEAR_KEY_ERR_TYPE;
		data = colon + 1;
	} else {
		if (!bare_ok)
			return NEAR_KEY_ERR_FORMAT;
		data = s;
	}
	if (!*data)
		return NEAR_KEY_ERR_FORMAT;
	rc = b58_decode(tmp, sizeof(tmp), data, strlen(data), &len);
	if (rc == -1) {
		sodium_memzero(tmp, sizeof(tmp));
		return NEAR_KEY_ERR_BASE58;
	}
	if (rc != 0 || len != want) {
		sodium_memzero(tmp, sizeof(tmp));
		return NEAR_KEY_ERR_LENGTH;
	}
	memcpy(buf, tmp, want);
	sodium_memzero(tmp, sizeof(tmp));
	return NEAR_KEY_OK;
}

static void key_format(char *out, size_t outsz, const uint8_t *p, size_t n)
{
	memcpy(out, ed25519_prefix, ED25519_PREFIX_LEN);
	b58_encode(out + ED25519_PREFIX_LEN, outsz - ED25519_PREFIX_LEN, p, n);
}

int near_pubkey_parse(struct near_pubkey *out, const char *s)
{
	int rc = key_decode(out->data, sizeof(out->data), s, 1);

	out->type = NEAR_KEY_ED25519;
	if (rc != 0)
		memset(out->data, 0, sizeof(out->data));
	return rc;
}

void near_pubkey_format(char out[NEAR_PUBKEY_STR_MAX], const struct near_pubkey *pk)
{
	key_format(out, NEAR_PUBKEY_STR_MAX, pk->data, sizeof(pk->data));
}

int near_pubkey_equal(const struct near_pubkey *a, const struct near_pubkey *b)
{
	return a->type == b->type && memcmp(a->data, b->data, sizeof(a->data)) == 0;
}

int near_secret_parse(struct near_secret *out, const char *s)
{
	struct near_secret derived;
	int rc = key_decode(out->sk, sizeof(out->sk), s, 0);

	if (rc != 0) {
		near_secret_wipe(out);
		return rc;
	}
	near_secret_from_seed(&derived, out->sk);
	if (sodium_memcmp(derived.sk + 32, out->sk + 32, 32) != 0)
		rc = NEAR_KEY_ERR_MISMATCH;
	near_secret_wipe(&derived);
	if (rc != 0)
		near_secret_wipe(out);
	return rc;
}

void near_secret_format(char out[NEAR_SECRET_STR_MAX], const struct near_secret *sk)
{
	key_format(out, NEAR_SECRET_STR_MAX, sk->sk, sizeof(sk->sk));
}

void near_secret_from_seed(struct near_secret *out, const uint8_t seed[32])
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];

	crypto_sign_seed_keypair(pk, out->sk, seed);
}

int near_secret_generate(struct near_secret *out)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];

	if (sodium_init() < 0)
		return -1;
	crypto_sign_keypair(pk, out->sk);
	return 0;
}

void near_secret_pubkey(struct near_pubkey *out, const struct near_secret *sk)
{
	out->type = NEAR_KEY_ED25519;
	memcpy(out->data, sk->sk + 32, 32);
}

void near_secret_wipe(struct near_secret *sk)
{
	sodium_memzero(sk->sk, sizeof(sk->sk));
}

int near_sign(uint8_t sig[NEAR_SIG_LEN], const struct near_secret *sk,
	      const uint8_t *msg, size_t n)
{
	return crypto_sign_detached(sig, NULL, msg, n, sk->sk) == 0 ? 0 : -1;
}

int near_verify(const uint8_t sig[NEAR_SIG_LEN], const struct near_pubkey *pk,
		const uint8_t *msg, size_t n)
{
	if (pk->type != NEAR_KEY_ED25519)
		return -1;
	return crypto_sign_verify_detached(sig, msg, n, pk->data) == 0 ? 0 : -1;
}

void near_signature_format(char out[NEAR_SIGNATURE_STR_MAX], const uint8_t sig[NEAR_SIG_LEN])
{
	key_format(out, NEAR_SIGNATURE_STR_MAX, sig, NEAR_SIG_LEN);
}

int near_signature_parse(uint8_t sig[NEAR_SIG_LEN], const char *s)
{
	int rc = key_decode(sig, NEAR_SIG_LEN, s, 0);

	if (rc != 0)
		memset(sig, 0, NEAR_SIG_LEN);
	return rc;
}
