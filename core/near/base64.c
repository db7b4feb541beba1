/* Base64 (RFC 4648 standard alphabet, padded) on top of libsodium's constant-time codec. */
#include "near/base64.h"

#include <stdlib.h>
#include <sodium.h>

char *b64_encode_alloc(const uint8_t *in, size_t n)
{
	size_t sz;
	char *out;

	if (n > (SIZE_MAX - 1) / 4 * 3 - 2)
		return NULL;
	sz = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	out = malloc(sz);
	if (!out)
		return NULL;
	sodium_bin2base64(out, sz, in, n, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

int b64_decode(uint8_t *out, size_t outsz, const char *in, size_t inlen, size_t *outlen)
{
	const char *end = NULL;
	size_t len = 0;

	*outlen = 0;
	/* No ignore set: whitespace is an error. end must reach inlen, or the input
	 * stopped at a bad character that libsodium treats as a terminator. */
	if (sodium_base642bin(out, outsz, in, inlen, NULL, &len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	if (end != in + inlen)
		return -1;
	*outlen = len;
	return 0;
}

uint8_t *b64_decode_alloc(const char *in, size_t inlen, size_t *outlen)
{
	size_t cap = inlen / 4 * 3 + 3;
	uint8_t *out = malloc(cap);

	*outlen = 0;
	if (!out)
		return NULL;
	if (b64_decode(out, cap, in, inlen, outlen) != 0) {
		free(out);
		return NULL;
	}
	return out;
}
