/* Growable byte buffer (see pbuf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbuf.h"

void pbuf_init(struct pbuf *b, size_t hint)
{
	memset(b, 0, sizeof(*b));
	if (pbuf_reserve(b, hint ? hint : 256) == 0)
		b->p[0] = 0;
}

void pbuf_free(struct pbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int pbuf_reserve(struct pbuf *b, size_t n)
{
	if (b->oom)
		return -1;
	if (b->cap - b->len > n)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len <= n) {
		if (cap > ((size_t)-1) / 2) {
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

void pbuf_put(struct pbuf *b, const char *s, size_t n)
{
	if (pbuf_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

void pbuf_puts(struct pbuf *b, const char *s)
{
	pbuf_put(b, s, strlen(s));
}

void pbuf_putc(struct pbuf *b, char c)
{
	if (pbuf_reserve(b, 1) < 0)
		return;
	b->p[b->len++] = c;
	b->p[b->len] = 0;
}

void pbuf_printf(struct pbuf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		pbuf_put(b, small, (size_t)n);
		return;
	}
	if (pbuf_reserve(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *pbuf_take(struct pbuf *b, size_t *len)
{
	if (b->oom || pbuf_reserve(b, 0) < 0) {
		pbuf_free(b);
		return NULL;
	}
	char *p = b->p;
	p[b->len] = 0;
	*len = b->len;
	memset(b, 0, sizeof(*b));
	return p;
}
