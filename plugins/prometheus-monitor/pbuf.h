/* A growable byte buffer for rendering responses.  An allocation failure is
 * remembered (oom) and makes later appends no-ops, so renderers need not
 * check every call; the caller checks once at the end. */
#ifndef PROM_PBUF_H
#define PROM_PBUF_H

#include <stddef.h>

struct pbuf {
	char *p;
	size_t len, cap;
	int oom;
};

void pbuf_init(struct pbuf *b, size_t hint);
void pbuf_free(struct pbuf *b);
/* Make room for n more bytes; 0 or -1 (oom). */
int pbuf_reserve(struct pbuf *b, size_t n);
void pbuf_put(struct pbuf *b, const char *s, size_t n);
void pbuf_puts(struct pbuf *b, const char *s);
void pbuf_putc(struct pbuf *b, char c);
void pbuf_printf(struct pbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hand the bytes (NUL-terminated) to the caller; NULL after an oom. */
char *pbuf_take(struct pbuf *b, size_t *len);

#endif
