/* Growable buffer and JSON writers for the bridge's outgoing messages. */
#include "jbuf.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jb_init(struct jbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void jb_free(struct jbuf *b)
{
	free(b->p);
	jb_init(b);
}

char *jb_take(struct jbuf *b, size_t *len)
{
	char *p = NULL;
	if (!b->oom) {
		jb_put(b, "", 0);       /* make sure there is room for the NUL */
		if (!b->oom) {
			p = b->p;
			p[b->len] = 0;
			if (len)
				*len = b->len;
			b->p = NULL;
		}
	}
	jb_free(b);
	return p;
}

static int grow(struct jbuf *b, size_t more)
{
	if (b->oom)
		return -1;
	if (b->len + more + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1) {
		if (cap > SIZE_MAX / 2) {
			b->oom = 1;
			return -1;
		}
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

const char *jb_cstr(struct jbuf *b)
{
	if (grow(b, 0) < 0)
		return NULL;
	b->p[b->len] = 0;
	return b->p;
}

void jb_put(struct jbuf *b, const void *s, size_t n)
{
	if (grow(b, n) < 0)
		return;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
}

void jb_str(struct jbuf *b, const char *s)
{
	jb_put(b, s, strlen(s));
}

void jb_u64(struct jbuf *b, uint64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof(t), "%" PRIu64, v);
	jb_put(b, t, (size_t)n);
}

void jb_i64(struct jbuf *b, int64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof(t), "%" PRId64, v);
	jb_put(b, t, (size_t)n);
}

void jb_double(struct jbuf *b, double v)
{
	char t[40];
	if (!isfinite(v)) {
		jb_str(b, "null");
		return;
	}
	int n = snprintf(t, sizeof(t), "%.6g", v);
	jb_put(b, t, (size_t)n);
}

/* Length of the valid multi-byte UTF-8 sequence at s (s[0] >= 0x80), or 0
 * (no overlongs, surrogates or code points past U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0], min;
	size_t k;
	if ((c & 0xe0) == 0xc0) { k = 1; min = 0x80; c &= 0x1f; }
	else if ((c & 0xf0) == 0xe0) { k = 2; min = 0x800; c &= 0x0f; }
	else if ((c & 0xf8) == 0xf0) { k = 3; min = 0x10000; c &= 0x07; }
	else
		return 0;
	if (n <= k)
		return 0;
	for (size_t j = 1; j <= k; j++) {
		if ((s[j] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[j] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return k + 1;
}

/* Invalid UTF-8 (a client's bytes echoed, an RPC's error text) becomes
 * U+FFFD: JSON is UTF-8, and strict readers refuse anything else. */
void jb_qstrn(struct jbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (!s) {
		jb_str(b, "null");
		return;
	}
	if (grow(b, n + 2) < 0)
		return;
	b->p[b->len++] = '"';
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			size_t k = utf8_seq((const unsigned char *)s + i, n - i);
			if (k) {
				i += k - 1;
				continue;
			}
			jb_put(b, s + run, i - run);
			run = i + 1;
			jb_put(b, "\xef\xbf\xbd", 3);
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jb_put(b, s + run, i - run);
		run = i + 1;
		char e[6] = { '\\', 0 };
		size_t el = 2;
		switch (c) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		default:
			e[1] = 'u'; e[2] = '0'; e[3] = '0';
			e[4] = hex[c >> 4]; e[5] = hex[c & 15];
			el = 6;
		}
		jb_put(b, e, el);
	}
	jb_put(b, s + run, n - run);
	jb_put(b, "\"", 1);
}

void jb_qstr(struct jbuf *b, const char *s)
{
	jb_qstrn(b, s, s ? strlen(s) : 0);
}

void jb_key(struct jbuf *b, const char *key, int first)
{
	if (!first)
		jb_put(b, ",", 1);
	jb_qstr(b, key);
	jb_put(b, ":", 1);
}

void jb_hex(struct jbuf *b, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (grow(b, 2 * n + 2) < 0)
		return;
	b->p[b->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		b->p[b->len++] = hex[p[i] >> 4];
		b->p[b->len++] = hex[p[i] & 15];
	}
	b->p[b->len++] = '"';
}

void jb_base64(struct jbuf *b, const void *data, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *p = data;
	if (n > (SIZE_MAX - 3) / 4 * 3 || grow(b, (n + 2) / 3 * 4 + 2) < 0)
		return;
	char *o = b->p + b->len;
	*o++ = '"';
	size_t i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t k = s[i] < 0x80 ? 1 : utf8_seq(s + i, n - i);
		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

static int digits(const unsigned char *s, size_t n, size_t *i)
{
	size_t at = *i;
	while (*i < n && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	return *i > at;
}

/* cJSON is more lenient than strict readers (Python's json, serde): any byte
 * up to 0x20 is whitespace to it, raw control characters pass inside strings,
 * numbers are what strtod takes (01, 1., -.5), a BOM may lead.  On text cJSON
 * accepted, these token checks leave exactly RFC 8259. */
static int strict_tokens(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] < 0x20)
					return 0;
				if (s[i] == '\\')
					i++;
			}
			i++;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			if (c == '-')
				i++;
			if (i < n && s[i] == '0')
				i++;
			else if (!digits(s, n, &i))
				return 0;
			if (i < n && s[i] == '.' && (++i, !digits(s, n, &i)))
				return 0;
			if (i < n && (s[i] == 'e' || s[i] == 'E')) {
				i++;
				if (i < n && (s[i] == '+' || s[i] == '-'))
					i++;
				if (!digits(s, n, &i))
					return 0;
			}
			if (i < n && s[i] >= '0' && s[i] <= '9')
				return 0;       /* a leading zero */
		} else if ((c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r') ||
			   c >= 0x80) {
			return 0;               /* odd whitespace; a BOM */
		} else {
			i++;
		}
	}
	return 1;
}

int jb_is_json(const char *s, size_t n)
{
	const char *end = NULL;
	if (!s || n == 0 || !utf8_valid((const unsigned char *)s, n) ||
	    !strict_tokens((const unsigned char *)s, n))
		return 0;
	cJSON *j = cJSON_ParseWithLengthOpts(s, n, &end, 0);
	if (!j)
		return 0;
	cJSON_Delete(j);
	for (const char *e = s + n; end && end < e; end++)
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r' && *end != 0)
			return 0;
	/* cJSON stops at a NUL inside the length: refuse embedded NULs */
	return memchr(s, 0, n) == NULL;
}

void jb_kv_json(struct jbuf *b, const char *key, const char *s, size_t n, int first)
{
	if (!s) {
		jb_key(b, key, first);
		jb_str(b, "null");
		return;
	}
	if (!jb_is_json(s, n)) {
		char k[64];
		snprintf(k, sizeof(k), "%s_base64", key);
		jb_key(b, k, first);
		jb_base64(b, s, n);
		return;
	}
	jb_key(b, key, first);
	/* Valid JSON has CR/LF only as whitespace: blank them to keep one line. */
	size_t at = b->len;
	jb_put(b, s, n);
	if (b->oom)
		return;
	for (size_t i = at; i < b->len; i++)
		if (b->p[i] == '\n' || b->p[i] == '\r')
			b->p[i] = ' ';
}
