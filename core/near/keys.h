/* ed25519 keys and signatures in NEAR's "ed25519:<base58>" form. */
#ifndef MPCI_NEAR_KEYS_H
#define MPCI_NEAR_KEYS_H
#include <stddef.h>
#include <stdint.h>

#define NEAR_KEY_ED25519 0	/* PublicKey / Signature enum tag in Borsh */
#define NEAR_SIG_LEN 64
/* "ed25519:" + base58(32) (<= 44) + NUL */
#define NEAR_PUBKEY_STR_MAX 56
/* "ed25519:" + base58(64) (<= 88) + NUL */
#define NEAR_SECRET_STR_MAX 100
#define NEAR_SIGNATURE_STR_MAX 100

/* Error codes of the *_parse functions (near_key_strerror names them). */
enum near_key_err {
	NEAR_KEY_OK = 0,
	NEAR_KEY_ERR_FORMAT = -1,	/* NULL, empty, or not "<type>:<base58>" */
	NEAR_KEY_ERR_TYPE = -2,		/* a key type other than ed25519 (e.g. secp256k1:) */
	NEAR_KEY_ERR_BASE58 = -3,	/* a character outside the base58 alphabet */
	NEAR_KEY_ERR_LENGTH = -4,	/* decodes to the wrong number of bytes */
	NEAR_KEY_ERR_MISMATCH = -5,	/* secret key: bytes 32..64 are not the seed's public key */
};
const char *near_key_strerror(int err);

struct near_pubkey {
	uint8_t type;		/* always NEAR_KEY_ED25519 */
	uint8_t data[32];
};

/* Secret key = 32-byte seed || 32-byte public key (libsodium's and NEAR's layout).
 * Never log it; wipe with near_secret_wipe when done. */
struct near_secret {
	uint8_t sk[64];
};

/* "ed25519:<base58 of 32 bytes>" or bare base58; returns 0 or an enum near_key_err. */
int near_pubkey_parse(struct near_pubkey *out, const char *s);
void near_pubkey_format(char out[NEAR_PUBKEY_STR_MAX], const struct near_pubkey *pk);
int near_pubkey_equal(const struct near_pubkey *a, const struct near_pubkey *b);

/* "ed25519:<base58 of 64 bytes>"; checks the public half against the seed.
 * Returns 0 or an enum near_key_err; out is wiped on failure. */
int near_secret_parse(struct near_secret *out, const char *s);
/* The only function that turns secret material into text. */
void near_secret_format(char out[NEAR_SECRET_STR_MAX], const struct near_secret *sk);
/* Deterministic key from a 32-byte seed (nearcore test keys: name padded with spaces). */
void near_secret_from_seed(struct near_secret *out, const uint8_t seed[32]);
/* Fresh random key; returns 0, or -1 if libsodium cannot initialise. */
int near_secret_generate(struct near_secret *out);
void near_secret_pubkey(struct near_pubkey *out, const struct near_secret *sk);
void near_secret_wipe(struct near_secret *sk);

/* Ed25519 over msg as given (for transactions pass the 32-byte SHA-256, see tx.h).
 * Both return 0 on success; near_verify returns -1 for a bad signature. */
int near_sign(uint8_t sig[NEAR_SIG_LEN], const struct near_secret *sk,
	      const uint8_t *msg, size_t n);
int near_verify(const uint8_t sig[NEAR_SIG_LEN], const struct near_pubkey *pk,
		const uint8_t *msg, size_t n);

/* "ed25519:<base58 of 64 bytes>" */
void near_signature_format(char out[NEAR_SIGNATURE_STR_MAX], const uint8_t sig[NEAR_SIG_LEN]);
int near_signature_parse(uint8_t sig[NEAR_SIG_LEN], const char *s);

#endif
