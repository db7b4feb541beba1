/* Base58 (Bitcoin alphabet, no checksum) as NEAR prints hashes, keys and signatures. */
#ifndef MPCI_NEAR_BASE58_H
#define MPCI_NEAR_BASE58_H
#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes, including the NUL (a safe upper bound). */
#define B58_ENCODED_MAX(n) ((n) * 138 / 100 + 2)

/*
 * Encode n bytes into out (NUL-terminated). Each leading 0x00 byte becomes one '1'.
 * Returns the string length, or 0 if outsz is too small (out is then "" when outsz > 0).
 * Encoding zero bytes gives "" and returns 0.
 */
size_t b58_encode(char *out, size_t outsz, const uint8_t *in, size_t n);

/*
 * Decode inlen characters of in (no NUL needed) into out. Each leading '1' becomes one
 * 0x00 byte. Returns 0 and sets *outlen; -1 if a character is outside the alphabet
 * (including whitespace and NUL); -2 if the value does not fit in outsz bytes.
 */
int b58_decode(uint8_t *out, size_t outsz, const char *in, size_t inlen, size_t *outlen);

#endif
