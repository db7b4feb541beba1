/* Hashes NEAR uses: SHA-256 (CryptoHash) and SHA3-256/384 (MPC key derivation, TEE). */
#ifndef MPCI_NEAR_HASH_H
#define MPCI_NEAR_HASH_H
#include <stddef.h>
#include <stdint.h>

#define NEAR_HASH_LEN 32
/* 32 bytes encode to at most 44 base58 characters, plus the NUL. */
#define NEAR_HASH_B58_MAX 45

void near_sha256(uint8_t out[NEAR_HASH_LEN], const void *p, size_t n);
/* OpenSSL EVP; return 0, or -1 if the digest is unavailable (out is then zeroed). */
int near_sha3_256(uint8_t out[32], const void *p, size_t n);
int near_sha3_384(uint8_t out[48], const void *p, size_t n);

/* Parse a base58 CryptoHash (NUL-terminated); -1 unless it decodes to exactly 32 bytes. */
int near_hash_from_b58(uint8_t out[NEAR_HASH_LEN], const char *s);
void near_hash_to_b58(char out[NEAR_HASH_B58_MAX], const uint8_t h[NEAR_HASH_LEN]);

#endif
