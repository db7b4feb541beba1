/* The header lines of one HTTP response, as a client receives them, collected into a
 * bounded list of name/value pairs.  No I/O: http.c feeds it curl's header lines. */
#ifndef MPCI_CORE_HTTP_HEADERS_H
#define MPCI_CORE_HTTP_HEADERS_H
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS	100		/* header lines of one response */
#define HTTP_MAX_HEADER_BYTES	(64 * 1024)	/* their bytes as received, status line included */

struct http_header {
	const char *name;	/* as received, without the colon */
	const char *value;	/* without surrounding whitespace; folded lines joined by a space */
};

enum http_hdr_rc {
	HTTP_HDR_OK = 0,
	HTTP_HDR_TOO_MANY,	/* over HTTP_MAX_HEADERS */
	HTTP_HDR_TOO_LARGE,	/* over HTTP_MAX_HEADER_BYTES */
	HTTP_HDR_MALFORMED,	/* no colon, a name that is not a token, NUL/CR/LF inside, ... */
	HTTP_HDR_NOMEM,
};

/* Zero-initialised is empty. */
struct http_hdrs {
	char *buf;		/* "name\0value\0" pairs */
	size_t len, cap, bytes, n;
	uint32_t off[HTTP_MAX_HEADERS];	/* where each pair starts */
	int ended;		/* the blank line came: what follows are trailers */
};

/* One line as received, line ending included.  A status line ("HTTP/...") starts a new
 * response and forgets the headers so far, so only the final response's remain (after
 * redirects and 1xx); trailers after the blank line are counted, not kept.  Anything but
 * HTTP_HDR_OK means the response must be refused; the list is then unspecified. */
enum http_hdr_rc http_hdrs_line(struct http_hdrs *h, const char *line, size_t n);
/* Fills out[0..n) with pointers into h (valid until the next call on h); returns n. */
size_t http_hdrs_export(const struct http_hdrs *h, struct http_header out[HTTP_MAX_HEADERS]);
void http_hdrs_free(struct http_hdrs *h);

#endif
