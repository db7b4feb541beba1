/* Decimal amounts and gas: exact limits, strict syntax. */
#include "../tap.h"
#include "near/u128.h"

static int parses(const char *s, near_u128 *v)
{
	return near_u128_parse(s, strlen(s), v) == 0;
}

int main(void)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1_000", "0x10", "1e24", "1.0", "abc", "１",
		"340282366920938463463374607431768211456",	/* 2^128 */
		"999999999999999999999999999999999999999",
		"3402823669209384634633746074317682114550",
	};
	char buf[NEAR_U128_STR_MAX];
	near_u128 v = 0, w;
	uint64_t g = 0;
	size_t i;

	ok(parses("340282366920938463463374607431768211455", &v) && v == NEAR_U128_MAX,
	   "2^128-1 parses");
	is_int(near_u128_format(buf, v), 39, "2^128-1 formats to 39 digits");
	is_str(buf, "340282366920938463463374607431768211455", "2^128-1 formats");
	ok(parses("1000000000000000000000000", &v) && v == NEAR_ONE_NEAR, "1 NEAR = 10^24 yocto");
	near_u128_format(buf, NEAR_ONE_NEAR);
	is_str(buf, "1000000000000000000000000", "10^24 formats");
	ok(parses("0", &v) && v == 0, "0 parses");
	is_int(near_u128_format(buf, 0), 1, "0 formats to one digit");
	is_str(buf, "0", "0 formats");
	ok(parses("000123", &v) && v == 123, "leading zeros accepted");
	ok(parses("18446744073709551616", &v) && v == (near_u128)UINT64_MAX + 1, "2^64 parses");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		ok(!parses(bad[i], &v) && v == 42, "reject \"%s\"", bad[i]);
	}
	ok(near_u128_parse(NULL, 0, &v) == -1, "reject NULL");
	ok(near_u128_parse("123456", 3, &v) == 0 && v == 123, "parses exactly n characters");
	ok(near_u128_parse("12\0" "3", 4, &v) == -1, "embedded NUL rejected");

	/* Round trips over many magnitudes. */
	for (i = 0, w = 1; i < 128; i++, w = w * 3 + 1) {
		near_u128 back;

		near_u128_format(buf, w);
		if (!parses(buf, &back) || back != w)
			break;
	}
	ok(i == 128, "format/parse round trip over 128 magnitudes");

	ok(near_gas_parse("30000000000000", &g) == 0 && g == 30 * NEAR_TGAS, "30 Tgas");
	ok(near_gas_parse("18446744073709551615", &g) == 0 && g == UINT64_MAX, "u64 max gas");
	ok(near_gas_parse("18446744073709551616", &g) == -1, "gas 2^64 rejected");
	ok(near_gas_parse("-5", &g) == -1, "negative gas rejected");
	ok(near_gas_parse("", &g) == -1, "empty gas rejected");
	ok(near_gas_parse(NULL, &g) == -1, "NULL gas rejected");
	ok(NEAR_MAX_GAS == 1000 * NEAR_TGAS, "NEAR_MAX_GAS is 1 PGas");
	return done_testing();
}
