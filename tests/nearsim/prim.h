/* prim: the NEAR encodings and hashes nearsim needs (base58, base64, SHA-256, SHA3-256,
 * ed25519, u128 decimal), as thin wrappers over the project's core/near library (base58
 * encoding has its own faster loop with the same output). */
#ifndef NEARSIM_PRIM_H
#define NEARSIM_PRIM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef unsigned __int128 u128;

/* base58 (Bitcoin alphabet). enc returns the length written (no NUL), 0 if out is too small. */
size_t b58_enc(char *out, size_t cap, const uint8_t *in, size_t n);
/* Decode exactly `want` bytes; returns 0 on success, -1 on bad input or length. */
int b58_dec_exact(uint8_t *out, size_t want, const char *s, size_t n);

size_t b64_enc_len(size_t n);
size_t b64_enc(char *out, size_t cap, const uint8_t *in, size_t n);
/* Standard alphabet, padding required; returns decoded length or -1. */
long b64_dec(uint8_t *out, size_t cap, const char *s, size_t n);

void sha256(uint8_t out[32], const void *d, size_t n);
void sha3_256(uint8_t out[32], const void *d, size_t n);

/* ed25519 key from a 32-byte seed: pk 32, sk 64 (seed || pk). */
void ed_keypair(uint8_t pk[32], uint8_t sk[64], const uint8_t seed[32]);
/* nearcore test-key convention: the seed string padded with spaces to 32 bytes. */
void ed_keypair_from_name(uint8_t pk[32], uint8_t sk[64], const char *name);
void ed_sign(uint8_t sig[64], const uint8_t *msg, size_t n, const uint8_t sk[64]);
bool ed_verify(const uint8_t sig[64], const uint8_t *msg, size_t n, const uint8_t pk[32]);

/* "ed25519:<b58>" parse (bare base58 accepted); 0 on success. */
int pk_parse(uint8_t pk[32], const char *s);
/* write "ed25519:<b58>" (NUL-terminated) into out (>= 60 bytes). */
void pk_format(char *out, size_t cap, const uint8_t pk[32]);
void sk_format(char *out, size_t cap, const uint8_t sk[64]);
void hash_format(char *out, size_t cap, const uint8_t h[32]);

int u128_parse(u128 *out, const char *s);
void u128_format(char *out, size_t cap, u128 v);

void hex_enc(char *out, const uint8_t *d, size_t n); /* out gets 2n+1 bytes */
int hex_dec(uint8_t *out, size_t cap, const char *s, size_t n); /* returns bytes or -1 */

/* splitmix64: the deterministic PRNG every random choice in nearsim draws from. */
uint64_t rng_next(uint64_t *state);
double rng_unit(uint64_t *state);
#endif
