/* Decimal parse/print for u128 amounts and u64 gas, strict (digits only). */
#include "near/u128.h"

#include <string.h>

int near_u128_parse(const char *s, size_t n, near_u128 *out)
{
	near_u128 v = 0;
	size_t i;

	if (!s || n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9)
			return -1;
		if (v > (NEAR_U128_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

size_t near_u128_format(char out[NEAR_U128_STR_MAX], near_u128 v)
{
	char tmp[NEAR_U128_STR_MAX];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + (unsigned)(v % 10));
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	return n;
}

int near_u64_parse(const char *s, size_t n, uint64_t *out)
{
	near_u128 v;

	if (near_u128_parse(s, n, &v) != 0 || v > UINT64_MAX)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int near_gas_parse(const char *s, uint64_t *out)
{
	if (!s)
		return -1;
	return near_u64_parse(s, strlen(s), out);
}
