/* SHA-256 from libsodium; SHA3 from OpenSSL (libsodium has no Keccak). */
#include "near/hash.h"

#include <string.h>
#include <sodium.h>
#include <openssl/evp.h>

#include "near/base58.h"

void near_sha256(uint8_t out[NEAR_HASH_LEN], const void *p, size_t n)
{
	crypto_hash_sha256(out, p, n);
}

static int evp_digest(const EVP_MD *md, uint8_t *out, size_t outlen, const void *p, size_t n)
{
	unsigned int len = 0;

	if (md && EVP_Digest(p, n, out, &len, md, NULL) == 1 && len == outlen)
		return 0;
	memset(out, 0, outlen);
	return -1;
}

int near_sha3_256(uint8_t out[32], const void *p, size_t n)
{
	return evp_digest(EVP_sha3_256(), out, 32, p, n);
}

int near_sha3_384(uint8_t out[48], const void *p, size_t n)
{
	return evp_digest(EVP_sha3_384(), out, 48, p, n);
}

int near_hash_from_b58(uint8_t out[NEAR_HASH_LEN], const char *s)
{
	uint8_t buf[NEAR_HASH_LEN];
	size_t len;

	if (!s || b58_decode(buf, sizeof(buf), s, strlen(s), &len) != 0 || len != NEAR_HASH_LEN)
		return -1;
	memcpy(out, buf, NEAR_HASH_LEN);
	return 0;
}

void near_hash_to_b58(char out[NEAR_HASH_B58_MAX], const uint8_t h[NEAR_HASH_LEN])
{
	b58_encode(out, NEAR_HASH_B58_MAX, h, NEAR_HASH_LEN);
}
