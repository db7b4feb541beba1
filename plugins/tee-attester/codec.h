/* Text encodings the attester reads and writes: hex, base58 NEAR keys,
 * percent-encoded HTTP header values. */
#ifndef TEE_CODEC_H
#define TEE_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void tee_hex_encode(const uint8_t *in, size_t n, char *out);
/* A malloc'd lower-case hex string, or NULL when out of memory. */
char *tee_hex_dup(const uint8_t *in, size_t n);
/* Decode exactly `len` hex characters (either case) into out (len / 2
 * bytes).  -1 on an odd length or a non-hex character. */
int tee_hex_decode(const char *hex, size_t len, uint8_t *out);

/* Is s hex of min_len..max_len characters (even)? */
int tee_hex_valid(const char *s, size_t min_len, size_t max_len);

/* "ed25519:<base58 of 32 bytes>" into its 32 raw bytes; -1 otherwise. */
int tee_ed25519_parse(const char *text, uint8_t out[32]);

/* Percent-decode (and '+' stays '+') into a malloc'd NUL-terminated string.
 * NULL on a malformed escape, an embedded NUL, or out of memory. */
char *tee_url_decode(const char *in, size_t len);

#endif
