/* Response header lines into a bounded name/value list (see http_headers.h). */
#include "http_headers.h"

#include <stdlib.h>
#include <string.h>

/* Appends n bytes (and a NUL when nul); -1 out of memory. */
static int put(struct http_hdrs *h, const char *p, size_t n, int nul)
{
	size_t need = h->len + n + (nul ? 1 : 0);

	if (need > h->cap) {
		size_t cap = h->cap ? h->cap : 1024;
		char *nb;

		while (cap < need)
			cap *= 2;
		if (!(nb = realloc(h->buf, cap)))
			return -1;
		h->buf = nb;
		h->cap = cap;
	}
	memcpy(h->buf + h->len, p, n);
	h->len += n;
	if (nul)
		h->buf[h->len++] = '\0';
	return 0;
}

static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void trim(const char **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

enum http_hdr_rc http_hdrs_line(struct http_hdrs *h, const char *line, size_t n)
{
	int status_line = n >= 5 && memcmp(line, "HTTP/", 5) == 0;
	size_t len = n;

	if (status_line) {
		h->len = h->n = h->bytes = 0;
		h->ended = 0;
	}
	if (n > HTTP_MAX_HEADER_BYTES - h->bytes)
		return HTTP_HDR_TOO_LARGE;
	h->bytes += n;
	if (status_line || h->ended)
		return HTTP_HDR_OK;	/* the status line, or a trailer */
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	if (len == 0) {
		h->ended = 1;
		return HTTP_HDR_OK;
	}
	if (memchr(line, '\0', len) || memchr(line, '\r', len) || memchr(line, '\n', len))
		return HTTP_HDR_MALFORMED;
	if (line[0] == ' ' || line[0] == '\t') {	/* obs-fold: continues the last value */
		if (h->n == 0)
			return HTTP_HDR_MALFORMED;
		trim(&line, &len);
		if (len == 0)
			return HTTP_HDR_OK;
		h->len--;	/* over the last value's NUL */
		int empty = h->buf[h->len - 1] == '\0';	/* the name's NUL precedes it */
		if ((!empty && put(h, " ", 1, 0) < 0) || put(h, line, len, 1) < 0)
			return HTTP_HDR_NOMEM;
		return HTTP_HDR_OK;
	}
	const char *colon = memchr(line, ':', len);
	size_t name_len = colon ? (size_t)(colon - line) : 0;

	if (name_len == 0)
		return HTTP_HDR_MALFORMED;
	for (size_t i = 0; i < name_len; i++)
		if (!is_tchar((unsigned char)line[i]))
			return HTTP_HDR_MALFORMED;
	if (h->n == HTTP_MAX_HEADERS)
		return HTTP_HDR_TOO_MANY;
	const char *val = colon + 1;
	size_t val_len = len - name_len - 1;

	trim(&val, &val_len);
	h->off[h->n] = (uint32_t)h->len;
	if (put(h, line, name_len, 1) < 0 || put(h, val, val_len, 1) < 0)
		return HTTP_HDR_NOMEM;
	h->n++;
	return HTTP_HDR_OK;
}

size_t http_hdrs_export(const struct http_hdrs *h, struct http_header out[HTTP_MAX_HEADERS])
{
	for (size_t i = 0; i < h->n; i++) {
		out[i].name = h->buf + h->off[i];
		out[i].value = out[i].name + strlen(out[i].name) + 1;
	}
	return h->n;
}

void http_hdrs_free(struct http_hdrs *h)
{
	free(h->buf);
	memset(h, 0, sizeof(*h));
}
