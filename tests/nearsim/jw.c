/* jw: JSON writer. Appends into one buffer; commas are tracked per nesting level. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jw.h"
#include "prim.h"

void jw_init(struct jw *w, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->cap = cap ? cap : 256;
	w->buf = malloc(w->cap);
	if (!w->buf) {
		w->oom = true;
		w->cap = 0;
	}
}

void jw_free(struct jw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void jw_reset(struct jw *w)
{
	w->len = 0;
	w->depth = 0;
	w->pending_key = false;
	w->need_comma[0] = 0;
}

char *jw_take(struct jw *w, size_t *len)
{
	char *b;

	jw_append(w, "", 1);
	if (w->oom) {
		jw_free(w);
		return NULL;
	}
	b = w->buf;
	if (len)
		*len = w->len - 1;
	memset(w, 0, sizeof(*w));
	return b;
}

static int grow(struct jw *w, size_t need)
{
	size_t cap;
	char *nb;

	if (w->oom)
		return -1;
	if (w->len + need <= w->cap)
		return 0;
	cap = w->cap ? w->cap : 256;
	while (cap < w->len + need)
		cap *= 2;
	nb = realloc(w->buf, cap);
	if (!nb) {
		w->oom = true;
		return -1;
	}
	w->buf = nb;
	w->cap = cap;
	return 0;
}

void jw_append(struct jw *w, const char *s, size_t n)
{
	if (grow(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static inline void putc1(struct jw *w, char c)
{
	if (w->len < w->cap || !grow(w, 1))
		w->buf[w->len++] = c;
}

static void prefix(struct jw *w)
{
	if (w->pending_key) {
		w->pending_key = false;
		return;
	}
	if (w->need_comma[w->depth])
		putc1(w, ',');
	w->need_comma[w->depth] = 1;
}

static void open_c(struct jw *w, char c)
{
	prefix(w);
	putc1(w, c);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->need_comma[w->depth] = 0;
}

void jw_obj(struct jw *w) { open_c(w, '{'); }
void jw_arr(struct jw *w) { open_c(w, '['); }

void jw_end_obj(struct jw *w)
{
	putc1(w, '}');
	if (w->depth > 0)
		w->depth--;
}

void jw_end_arr(struct jw *w)
{
	putc1(w, ']');
	if (w->depth > 0)
		w->depth--;
}

static void put_escaped(struct jw *w, const char *s, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i, run = 0;

	putc1(w, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jw_append(w, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': jw_append(w, "\\\"", 2); break;
		case '\\': jw_append(w, "\\\\", 2); break;
		case '\n': jw_append(w, "\\n", 2); break;
		case '\r': jw_append(w, "\\r", 2); break;
		case '\t': jw_append(w, "\\t", 2); break;
		default: {
			char e[6] = { '\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15] };
			jw_append(w, e, 6);
		}
		}
	}
	jw_append(w, s + run, n - run);
	putc1(w, '"');
}

void jw_key(struct jw *w, const char *k)
{
	prefix(w);
	put_escaped(w, k, strlen(k));
	putc1(w, ':');
	w->pending_key = true;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	prefix(w);
	put_escaped(w, s, n);
}

void jw_str(struct jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	jw_strn(w, s, strlen(s));
}

static size_t fmt_u64(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

void jw_u64(struct jw *w, uint64_t v)
{
	char b[24];
	size_t n = fmt_u64(b, v);

	prefix(w);
	jw_append(w, b, n);
}

void jw_i64(struct jw *w, int64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%lld", (long long)v);

	prefix(w);
	jw_append(w, b, (size_t)n);
}

void jw_u64_str(struct jw *w, uint64_t v)
{
	char b[26];
	size_t n = fmt_u64(b + 1, v);

	b[0] = '"';
	b[n + 1] = '"';
	prefix(w);
	jw_append(w, b, n + 2);
}

void jw_u128_str(struct jw *w, unsigned __int128 v)
{
	char tmp[48], b[50];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	b[0] = '"';
	for (i = 0; i < n; i++)
		b[i + 1] = tmp[n - 1 - i];
	b[n + 1] = '"';
	prefix(w);
	jw_append(w, b, n + 2);
}

void jw_double(struct jw *w, double v)
{
	char b[40];
	int n = snprintf(b, sizeof(b), "%.17g", v);

	prefix(w);
	jw_append(w, b, (size_t)n);
}

void jw_bool(struct jw *w, bool v)
{
	prefix(w);
	if (v)
		jw_append(w, "true", 4);
	else
		jw_append(w, "false", 5);
}

void jw_null(struct jw *w)
{
	prefix(w);
	jw_append(w, "null", 4);
}

void jw_raw(struct jw *w, const char *json, size_t n)
{
	prefix(w);
	jw_append(w, json, n);
}

void jw_hash(struct jw *w, const uint8_t h[32])
{
	char b[64];
	size_t n = b58_enc(b + 1, sizeof(b) - 2, h, 32);

	b[0] = '"';
	b[n + 1] = '"';
	prefix(w);
	jw_append(w, b, n + 2);
}

static void prefixed_b58(struct jw *w, const uint8_t *d, size_t len)
{
	char b[120];
	size_t n;

	memcpy(b, "\"ed25519:", 9);
	n = b58_enc(b + 9, sizeof(b) - 10, d, len);
	b[9 + n] = '"';
	prefix(w);
	jw_append(w, b, n + 10);
}

void jw_pk(struct jw *w, const uint8_t pk[32]) { prefixed_b58(w, pk, 32); }
void jw_sig(struct jw *w, const uint8_t sig[64]) { prefixed_b58(w, sig, 64); }

void jw_b64(struct jw *w, const uint8_t *d, size_t n)
{
	size_t cap = b64_enc_len(n) + 2;
	char stackb[256], *b = cap <= sizeof(stackb) ? stackb : malloc(cap);
	size_t m;

	if (!b) {
		w->oom = true;
		return;
	}
	m = b64_enc(b + 1, cap - 1, d, n);
	b[0] = '"';
	b[m + 1] = '"';
	prefix(w);
	jw_append(w, b, m + 2);
	if (b != stackb)
		free(b);
}

void jw_bytes_arr(struct jw *w, const uint8_t *d, size_t n)
{
	size_t i;
	char b[8];

	prefix(w);
	putc1(w, '[');
	for (i = 0; i < n; i++) {
		size_t k = 0;
		if (i)
			b[k++] = ',';
		k += fmt_u64(b + k, d[i]);
		jw_append(w, b, k);
	}
	putc1(w, ']');
}

void jw_hex(struct jw *w, const uint8_t *d, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i;

	prefix(w);
	putc1(w, '"');
	for (i = 0; i < n; i++) {
		putc1(w, hexd[d[i] >> 4]);
		putc1(w, hexd[d[i] & 15]);
	}
	putc1(w, '"');
}

void jw_kstr(struct jw *w, const char *k, const char *s) { jw_key(w, k); jw_str(w, s); }
void jw_ku64(struct jw *w, const char *k, uint64_t v) { jw_key(w, k); jw_u64(w, v); }
void jw_ku64s(struct jw *w, const char *k, uint64_t v) { jw_key(w, k); jw_u64_str(w, v); }
void jw_ku128(struct jw *w, const char *k, unsigned __int128 v) { jw_key(w, k); jw_u128_str(w, v); }
void jw_kbool(struct jw *w, const char *k, bool v) { jw_key(w, k); jw_bool(w, v); }
void jw_knull(struct jw *w, const char *k) { jw_key(w, k); jw_null(w); }
void jw_khash(struct jw *w, const char *k, const uint8_t h[32]) { jw_key(w, k); jw_hash(w, h); }
void jw_kpk(struct jw *w, const char *k, const uint8_t pk[32]) { jw_key(w, k); jw_pk(w, pk); }
void jw_kraw(struct jw *w, const char *k, const char *json, size_t n) { jw_key(w, k); jw_raw(w, json, n); }
void jw_kempty_arr(struct jw *w, const char *k) { jw_key(w, k); jw_raw(w, "[]", 2); }
