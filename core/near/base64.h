/* Base64, standard alphabet with '=' padding (what NEAR RPC uses for args and signed txs). */
#ifndef MPCI_NEAR_BASE64_H
#define MPCI_NEAR_BASE64_H
#include <stddef.h>
#include <stdint.h>

/* Encoded length of n bytes, including the NUL. */
#define B64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4 + 1)

/* Encode n bytes; returns a malloc'd NUL-terminated string (caller frees) or NULL. */
char *b64_encode_alloc(const uint8_t *in, size_t n);

/*
 * Decode inlen characters (padding required, no whitespace) into out.
 * Returns 0 and sets *outlen, or -1 on a bad character, bad padding or too small out.
 */
int b64_decode(uint8_t *out, size_t outsz, const char *in, size_t inlen, size_t *outlen);

/* As b64_decode into a malloc'd buffer (caller frees; never NULL on success, even for
 * empty input). Returns NULL on invalid input or allocation failure. */
uint8_t *b64_decode_alloc(const char *in, size_t inlen, size_t *outlen);

#endif
