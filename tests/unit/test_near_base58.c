/* base58: known encodings, leading zeros, round trips, rejection of bad input. */
#include "../tap.h"
#include "test_near_util.h"
#include "near/base58.h"

static void check_pair(const char *hex, const char *b58)
{
	size_t n, got_n, len;
	uint8_t *in = hex_alloc(hex, &n), out[256];
	char enc[256];

	len = b58_encode(enc, sizeof(enc), in, n);
	is_str(enc, b58, "encode %s", hex[0] ? hex : "(empty)");
	is_int(len, strlen(b58), "encode length of %s", b58[0] ? b58 : "(empty)");
	ok(b58_decode(out, sizeof(out), b58, strlen(b58), &got_n) == 0 && got_n == n &&
	   memcmp(out, in, n) == 0, "decode %s", b58[0] ? b58 : "(empty)");
	free(in);
}

int main(void)
{
	uint8_t buf[64], big[200], back[200];
	char enc[300];
	size_t n, i, r;
	unsigned seed = 12345;

	/* V8: CryptoHash::default() is 32 '1's. */
	check_pair("0000000000000000000000000000000000000000000000000000000000000000",
		   "11111111111111111111111111111111");
	/* V8: sha256([0,1,2]), and hex of the V2 block hash. */
	check_pair("0fa473fd26901df296be6adc4cc4df34d040efa2435224b6986910e630c2fef6",
		   "244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM");
	check_pair("0f56a5f028dfc089ec7c39c1183b321b4d8f89ba5bec9e1762803cc2491f6ef8",
		   "22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbTV");
	/* Classic Bitcoin-alphabet vectors. */
	check_pair("", "");
	check_pair("00", "1");
	check_pair("0000287fb4cd", "11233QC4");
	check_pair("48656c6c6f20576f726c6421", "2NEpo7TZRRrLZSi2U");
	check_pair("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		   "JEKNVnkbo3jma5nREBBJCDoXFVeKkD56V3xKrvRmWxFG");
	check_pair("61", "2g");
	check_pair("626262", "a3gV");

	/* Decoder rejects characters outside the alphabet. */
	ok(b58_decode(buf, sizeof(buf), "foo-bar-baz", 11, &n) == -1, "reject '-' (V8 foo-bar-baz)");
	ok(b58_decode(buf, sizeof(buf), "0", 1, &n) == -1, "reject '0'");
	ok(b58_decode(buf, sizeof(buf), "O", 1, &n) == -1, "reject 'O'");
	ok(b58_decode(buf, sizeof(buf), "I", 1, &n) == -1, "reject 'I'");
	ok(b58_decode(buf, sizeof(buf), "l", 1, &n) == -1, "reject 'l'");
	ok(b58_decode(buf, sizeof(buf), "2g ", 3, &n) == -1, "reject trailing space");
	ok(b58_decode(buf, sizeof(buf), "2g\0a", 4, &n) == -1, "reject embedded NUL");
	ok(b58_decode(buf, sizeof(buf), "2\xc3\xa9", 3, &n) == -1, "reject non-ASCII byte");
	/* ... and values that do not fit the output. */
	ok(b58_decode(buf, 32, "JEKNVnkbo3jma5nREBBJCDoXFVeKkD56V3xKrvRmWxFGz", 45, &n) == -2,
	   "reject 33-byte value into 32 bytes");
	ok(b58_decode(buf, 3, "1111", 4, &n) == -2, "reject 4 leading zeros into 3 bytes");
	ok(b58_decode(buf, 2, "a3gV", 4, &n) == -2, "reject 3-byte value into 2 bytes");
	ok(b58_decode(buf, 3, "a3gV", 4, &n) == 0 && n == 3, "3-byte value fits exactly");

	/* Encoder refuses a too small buffer instead of truncating. */
	memset(buf, 0xff, 32);
	is_int(b58_encode(enc, 44, buf, 32), 0, "encode 32 x 0xff needs 45 bytes: 44 refused");
	is_str(enc, "", "refused encode leaves an empty string");
	is_int(b58_encode(enc, 45, buf, 32), 44, "encode 32 x 0xff in 45 bytes");
	memset(buf, 0, 4);
	is_int(b58_encode(enc, 4, buf, 4), 0, "4 zero bytes need 5 bytes of output");
	ok(B58_ENCODED_MAX(32) >= 45 && B58_ENCODED_MAX(64) >= 89, "B58_ENCODED_MAX bound");

	/* Round trips of pseudo-random data with 0..3 leading zero bytes. */
	for (r = 0; r < 200; r++) {
		size_t len = r % 100, k;
		int good;

		for (i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			big[i] = (uint8_t)(seed >> 16);
		}
		for (k = 0; k < r % 4 && k < len; k++)
			big[k] = 0;
		good = b58_encode(enc, sizeof(enc), big, len) > 0 || len == 0;
		good = good && b58_decode(back, sizeof(back), enc, strlen(enc), &n) == 0 &&
		       n == len && memcmp(back, big, len) == 0;
		if (!good) {
			ok(0, "round trip %zu (%zu bytes)", r, len);
			break;
		}
	}
	ok(r == 200, "200 random round trips with leading zeros");
	return done_testing();
}
