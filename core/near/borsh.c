/* Borsh writer and bounds-checked reader (little-endian, u32 length prefixes). */
#include "near/borsh.h"

#include <stdlib.h>
#include <string.h>

void borsh_buf_free(struct borsh_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

/* Room for n more bytes; grows geometrically. */
static int borsh_reserve(struct borsh_buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->failed)
		return -1;
	if (n <= b->cap - b->len)
		return 0;
	if (n > SIZE_MAX / 2 - b->len) {
		b->failed = 1;
		return -1;
	}
	cap = b->cap ? b->cap : 64;
	while (cap - b->len < n)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void borsh_fixed(struct borsh_buf *b, const void *p, size_t n)
{
	if (borsh_reserve(b, n) != 0)
		return;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void borsh_le(struct borsh_buf *b, uint64_t v, size_t width)
{
	uint8_t t[8];
	size_t i;

	for (i = 0; i < width; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	borsh_fixed(b, t, width);
}

void borsh_u8(struct borsh_buf *b, uint8_t v)
{
	borsh_fixed(b, &v, 1);
}

void borsh_u32(struct borsh_buf *b, uint32_t v)
{
	borsh_le(b, v, 4);
}

void borsh_u64(struct borsh_buf *b, uint64_t v)
{
	borsh_le(b, v, 8);
}

void borsh_u128(struct borsh_buf *b, near_u128 v)
{
	borsh_le(b, (uint64_t)v, 8);
	borsh_le(b, (uint64_t)(v >> 64), 8);
}

void borsh_bytes(struct borsh_buf *b, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		b->failed = 1;
		return;
	}
	borsh_u32(b, (uint32_t)n);
	borsh_fixed(b, p, n);
}

void borsh_string(struct borsh_buf *b, const char *s)
{
	borsh_bytes(b, s, strlen(s));
}

void borsh_rd_init(struct borsh_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->failed = 0;
}

size_t borsh_rd_remaining(const struct borsh_rd *r)
{
	return r->failed ? 0 : r->len - r->off;
}

const uint8_t *borsh_get_fixed(struct borsh_rd *r, size_t n)
{
	const uint8_t *p;

	if (r->failed || n > r->len - r->off) {
		r->failed = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t borsh_get_le(struct borsh_rd *r, size_t width)
{
	const uint8_t *p = borsh_get_fixed(r, width);
	uint64_t v = 0;
	size_t i;

	if (!p)
		return 0;
	for (i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint8_t borsh_get_u8(struct borsh_rd *r)
{
	return (uint8_t)borsh_get_le(r, 1);
}

uint32_t borsh_get_u32(struct borsh_rd *r)
{
	return (uint32_t)borsh_get_le(r, 4);
}

uint64_t borsh_get_u64(struct borsh_rd *r)
{
	return borsh_get_le(r, 8);
}

near_u128 borsh_get_u128(struct borsh_rd *r)
{
	size_t start = r->off;
	near_u128 lo = borsh_get_le(r, 8);
	near_u128 hi = borsh_get_le(r, 8);

	if (r->failed) {
		r->off = start;
		return 0;
	}
	return lo | hi << 64;
}

const uint8_t *borsh_get_bytes(struct borsh_rd *r, size_t *n)
{
	size_t start = r->off;
	uint32_t len = borsh_get_u32(r);
	const uint8_t *p = borsh_get_fixed(r, len);

	*n = 0;
	if (!p) {
		r->off = start;
		return NULL;
	}
	*n = len;
	return p;
}

/* Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF), as Rust's String. */
int borsh_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k, extra;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			extra = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			extra = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			extra = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (extra > n - i - 1)
			return 0;
		for (k = 1; k <= extra; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		i += extra + 1;
	}
	return 1;
}

char *borsh_get_string(struct borsh_rd *r, size_t maxlen)
{
	size_t start = r->off, n;
	const uint8_t *p = borsh_get_bytes(r, &n);
	char *s;

	if (!p)
		return NULL;
	if (n > maxlen || memchr(p, 0, n) || !borsh_utf8_valid(p, n)) {
		r->off = start;
		r->failed = 1;
		return NULL;
	}
	s = malloc(n + 1);
	if (!s) {
		r->off = start;
		r->failed = 1;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}
