/* NEAR's "ed25519:<base58>" keys: public keys from the contract, and the
 * backup service's own secret key from a key file. */
#ifndef BACKUP_EDKEY_H
#define BACKUP_EDKEY_H

#include <stddef.h>
#include <stdint.h>

#define EDKEY_PUB 32
#define EDKEY_SEED 32
#define EDKEY_TEXT 64   /* "ed25519:" + base58 of 32 bytes + NUL fits */

/* Base58 (Bitcoin alphabet).  decode: 0 and *outlen, or -1. */
int edkey_b58_decode(const char *s, size_t slen, uint8_t *out, size_t outsz,
		     size_t *outlen);
/* encode into buf (NUL-terminated); -1 when it does not fit. */
int edkey_b58_encode(const uint8_t *in, size_t n, char *buf, size_t bufsz);

/* "ed25519:<base58 of 32 bytes>" -> 32 bytes.  0 or -1. */
int edkey_parse_public(const char *s, uint8_t pub[EDKEY_PUB]);
/* 32 bytes -> "ed25519:..." */
const char *edkey_format_public(const uint8_t pub[EDKEY_PUB], char buf[EDKEY_TEXT]);

/* A secret key file (mode 0600 or stricter): NEAR's JSON key file
 * ({"private_key"|"secret_key":"ed25519:..."}) or the bare "ed25519:..."
 * string of 64 bytes (seed || public key) or 32 bytes (seed).  Fills the
 * seed and its public key; the key never reaches a message. */
int edkey_load_secret(const char *path, uint8_t seed[EDKEY_SEED],
		      uint8_t pub[EDKEY_PUB], char *err, size_t errsz);

#endif
