/* Hex, base58 (NEAR public keys) and percent-decoding. */
#include <stdlib.h>
#include <string.h>

#include "codec.h"

static const char hexdigits[] = "0123456789abcdef";

void tee_hex_encode(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 15];
	}
	out[2 * n] = 0;
}

char *tee_hex_dup(const uint8_t *in, size_t n)
{
	if (n > (SIZE_MAX - 1) / 2)
		return NULL;
	char *s = malloc(2 * n + 1);
	if (s)
		tee_hex_encode(in, n, s);
	return s;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tee_hex_decode(const char *hex, size_t len, uint8_t *out)
{
	if (len % 2)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int tee_hex_valid(const char *s, size_t min_len, size_t max_len)
{
	size_t n = 0;
	while (s[n] && n <= max_len) {
		if (nibble(s[n]) < 0)
			return 0;
		n++;
	}
	return n % 2 == 0 && n >= min_len && n <= max_len;
}

static const char b58alphabet[] =
	"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Exactly 32 bytes from base58 text: leading '1's are zero bytes. */
static int b58_decode32(const char *s, uint8_t out[32])
{
	uint8_t acc[32] = { 0 };
	size_t len = strlen(s), zeros = 0;

	if (len == 0 || len > 64)
		return -1;
	while (zeros < len && s[zeros] == '1')
		zeros++;
	for (size_t i = 0; i < len; i++) {
		const char *p = memchr(b58alphabet, s[i], sizeof(b58alphabet) - 1);
		if (!p || !s[i])
			return -1;
		unsigned carry = (unsigned)(p - b58alphabet);
		for (int k = 31; k >= 0; k--) {
			carry += 58u * acc[k];
			acc[k] = (uint8_t)carry;
			carry >>= 8;
		}
		if (carry)
			return -1; /* more than 32 bytes */
	}
	/* the value's own leading zero bytes must match the leading '1's */
	size_t lead = 0;
	while (lead < 32 && acc[lead] == 0)
		lead++;
	if (lead != zeros && !(lead == 32 && zeros == len))
		return -1;
	memcpy(out, acc, 32);
	return 0;
}

int tee_ed25519_parse(const char *text, uint8_t out[32])
{
	if (!text || strncmp(text, "ed25519:", 8) != 0)
		return -1;
	return b58_decode32(text + 8, out);
}

char *tee_url_decode(const char *in, size_t len)
{
	char *out = malloc(len + 1);
	size_t n = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '%') {
			int hi = i + 2 < len ? nibble(in[i + 1]) : -1;
			int lo = hi >= 0 ? nibble(in[i + 2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			out[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (in[i] == 0) {
			free(out);
			return NULL;
		} else {
			out[n++] = in[i];
		}
	}
	out[n] = 0;
	return out;
}
