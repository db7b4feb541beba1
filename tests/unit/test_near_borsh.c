/* Borsh writer/reader: exact bytes, round trips, and a reader that never overruns. */
#include "../tap.h"
#include "test_near_util.h"
#include "near/borsh.h"

int main(void)
{
	struct borsh_buf b = BORSH_BUF_INIT;
	struct borsh_rd r;
	size_t n, want_n, i;
	uint8_t *want, big[1000];
	const uint8_t *p;
	char *s;
	near_u128 one_near = NEAR_ONE_NEAR;

	/* The field encodings quoted in vectors.md V5. */
	borsh_u8(&b, 2);
	borsh_string(&b, "sign");
	borsh_bytes(&b, "{}", 2);
	borsh_u64(&b, 30000000000000ULL);
	borsh_u128(&b, 1);
	borsh_u128(&b, one_near);
	borsh_u32(&b, 0xdeadbeef);
	borsh_fixed(&b, "\x01\x02\x03", 3);
	borsh_u128(&b, NEAR_U128_MAX);
	want = hex_alloc("02" "040000007369676e" "020000007b7d" "00e057eb481b0000"
			 "01000000000000000000000000000000" "000000a1edccce1bc2d3000000000000"
			 "efbeadde" "010203" "ffffffffffffffffffffffffffffffff", &want_n);
	ok(!b.failed && b.len == want_n && memcmp(b.data, want, want_n) == 0,
	   "writer produces the V5 field encodings (30 Tgas, 1 yocto, 1 NEAR)");
	free(want);

	borsh_rd_init(&r, b.data, b.len);
	is_int(borsh_get_u8(&r), 2, "read u8");
	s = borsh_get_string(&r, 256);
	is_str(s, "sign", "read string");
	free(s);
	p = borsh_get_bytes(&r, &n);
	ok(p && n == 2 && memcmp(p, "{}", 2) == 0, "read bytes");
	ok(borsh_get_u64(&r) == 30000000000000ULL, "read u64");
	ok(borsh_get_u128(&r) == 1, "read u128 1");
	ok(borsh_get_u128(&r) == one_near, "read u128 10^24");
	ok(borsh_get_u32(&r) == 0xdeadbeef, "read u32");
	p = borsh_get_fixed(&r, 3);
	ok(p && memcmp(p, "\x01\x02\x03", 3) == 0, "read fixed");
	ok(borsh_get_u128(&r) == NEAR_U128_MAX, "read u128 max");
	ok(!r.failed && borsh_rd_remaining(&r) == 0, "consumed everything, no failure");

	/* Reading past the end fails, leaves off in place and stays failed. */
	ok(borsh_get_u8(&r) == 0 && r.failed && r.off == b.len, "u8 past the end fails");
	ok(borsh_get_u8(&r) == 0 && borsh_rd_remaining(&r) == 0, "failure is sticky");
	borsh_buf_free(&b);
	ok(b.data == NULL && b.len == 0, "borsh_buf_free resets");

	/* Truncated integers and a length prefix claiming more than is there. */
	borsh_rd_init(&r, "\x01\x02\x03", 3);
	ok(borsh_get_u32(&r) == 0 && r.failed && r.off == 0, "truncated u32");
	borsh_rd_init(&r, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", 15);
	ok(borsh_get_u128(&r) == 0 && r.failed && r.off == 0, "truncated u128 (15 bytes)");
	borsh_rd_init(&r, "\x05\x00\x00\x00" "abcd", 8);
	ok(borsh_get_bytes(&r, &n) == NULL && n == 0 && r.failed && r.off == 0,
	   "bytes claiming 5 with 4 present");
	borsh_rd_init(&r, "\xff\xff\xff\xff" "abcd", 8);
	ok(borsh_get_bytes(&r, &n) == NULL && r.failed, "bytes claiming 4 GiB");
	borsh_rd_init(&r, "ab", 2);
	ok(borsh_get_fixed(&r, SIZE_MAX) == NULL && r.failed, "fixed of SIZE_MAX bytes");
	borsh_rd_init(&r, NULL, 0);
	ok(borsh_get_u8(&r) == 0 && r.failed, "empty input");

	/* Strings: NUL bytes, invalid UTF-8 and over-long strings are refused. */
	borsh_rd_init(&r, "\x03\x00\x00\x00" "a\0b", 7);
	ok(borsh_get_string(&r, 10) == NULL && r.failed && r.off == 0, "string with NUL refused");
	borsh_rd_init(&r, "\x02\x00\x00\x00" "\xc3\x28", 6);
	ok(borsh_get_string(&r, 10) == NULL && r.failed, "invalid UTF-8 refused");
	borsh_rd_init(&r, "\x03\x00\x00\x00" "abc", 7);
	ok(borsh_get_string(&r, 2) == NULL && r.failed, "string longer than maxlen refused");
	borsh_rd_init(&r, "\x08\x00\x00\x00" "\xd0\xbd\xd0\xb5\xd0\xb0\xd1\x80", 12);
	s = borsh_get_string(&r, 64);
	is_str(s, "\xd0\xbd\xd0\xb5\xd0\xb0\xd1\x80", "valid UTF-8 (Cyrillic) accepted");
	free(s);
	ok(borsh_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4), "4-byte UTF-8 accepted");
	ok(!borsh_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3), "UTF-16 surrogate refused");
	ok(!borsh_utf8_valid((const uint8_t *)"\xc0\xaf", 2), "overlong '/' refused");
	ok(!borsh_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4), "code point > U+10FFFF refused");
	ok(!borsh_utf8_valid((const uint8_t *)"\xe2\x82", 2), "truncated sequence refused");

	/* The writer grows past its first allocation and keeps every byte. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	for (i = 0; i < 50; i++)
		borsh_bytes(&b, big, sizeof(big));
	ok(!b.failed && b.len == 50 * (4 + sizeof(big)), "writer grew to %zu bytes", b.len);
	borsh_rd_init(&r, b.data, b.len);
	for (i = 0; i < 50; i++) {
		p = borsh_get_bytes(&r, &n);
		if (!p || n != sizeof(big) || memcmp(p, big, n) != 0)
			break;
	}
	ok(i == 50 && borsh_rd_remaining(&r) == 0, "50 large byte vectors read back");
	borsh_buf_free(&b);

	/* A failed writer ignores further appends. */
	b.failed = 1;
	borsh_u64(&b, 7);
	ok(b.len == 0 && b.data == NULL, "appends after failure are no-ops");
	borsh_buf_free(&b);
	return done_testing();
}
