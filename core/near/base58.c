/* Base58 with the Bitcoin alphabet: plain big-endian base conversion, no checksum. */
#include "near/base58.h"

#include <string.h>

static const char b58_alphabet[] =
	"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* ASCII -> digit, -1 outside the alphabet (0, O, I, l, punctuation); bytes >= 0x80 too. */
static const signed char b58_digits[128] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1,  0,  1,  2,  3,  4,  5,  6,  7,  8, -1, -1, -1, -1, -1, -1,
	-1,  9, 10, 11, 12, 13, 14, 15, 16, -1, 17, 18, 19, 20, 21, -1,
	22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, -1, -1, -1, -1, -1,
	-1, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, -1, 44, 45, 46,
	47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, -1, -1, -1, -1, -1,
};

static int b58_digit(unsigned char c)
{
	return c < 128 ? b58_digits[c] : -1;
}

size_t b58_encode(char *out, size_t outsz, const uint8_t *in, size_t n)
{
	size_t zeros = 0, i, len, digits = 0, need;
	unsigned char *buf;	/* base58 digits, least significant first, in out's space */

	if (outsz == 0)
		return 0;
	out[0] = '\0';
	while (zeros < n && in[zeros] == 0)
		zeros++;
	/*
	 * Digits are accumulated in out itself (it must hold them anyway): each input byte
	 * multiplies the number by 256 and adds the byte.
	 */
	buf = (unsigned char *)out;
	for (i = zeros; i < n; i++) {
		unsigned carry = in[i];
		size_t j;

		for (j = 0; j < digits; j++) {
			carry += (unsigned)buf[j] << 8;
			buf[j] = (unsigned char)(carry % 58);
			carry /= 58;
		}
		while (carry) {
			if (digits + zeros + 1 >= outsz) {
				out[0] = '\0';
				return 0;
			}
			buf[digits++] = (unsigned char)(carry % 58);
			carry /= 58;
		}
	}
	need = zeros + digits;
	if (need + 1 > outsz) {
		out[0] = '\0';
		return 0;
	}
	/* Move digits to their final place (reversed, after the '1's) and map them. */
	for (i = 0; i < digits / 2; i++) {
		unsigned char t = buf[i];

		buf[i] = buf[digits - 1 - i];
		buf[digits - 1 - i] = t;
	}
	memmove(out + zeros, buf, digits);
	for (i = 0; i < digits; i++)
		out[zeros + i] = b58_alphabet[(unsigned char)out[zeros + i]];
	memset(out, '1', zeros);
	len = need;
	out[len] = '\0';
	return len;
}

int b58_decode(uint8_t *out, size_t outsz, const char *in, size_t inlen, size_t *outlen)
{
	size_t ones = 0, i, bytes = 0;

	*outlen = 0;
	/* A bad character is reported as such even when the value is also too long. */
	for (i = 0; i < inlen; i++)
		if (b58_digit((unsigned char)in[i]) < 0)
			return -1;
	while (ones < inlen && in[ones] == '1')
		ones++;
	if (ones > outsz)
		return -2;
	/* The value accumulates in out, least significant byte first. */
	for (i = ones; i < inlen; i++) {
		unsigned carry = (unsigned)b58_digit((unsigned char)in[i]);
		size_t j;

		for (j = 0; j < bytes; j++) {
			carry += (unsigned)out[j] * 58;
			out[j] = (uint8_t)carry;
			carry >>= 8;
		}
		while (carry) {
			if (ones + bytes + 1 > outsz)
				return -2;
			out[bytes++] = (uint8_t)carry;
			carry >>= 8;
		}
	}
	/* Reverse to big-endian and put the leading zero bytes in front. */
	for (i = 0; i < bytes / 2; i++) {
		uint8_t t = out[i];

		out[i] = out[bytes - 1 - i];
		out[bytes - 1 - i] = t;
	}
	memmove(out + ones, out, bytes);
	memset(out, 0, ones);
	*outlen = ones + bytes;
	return 0;
}
