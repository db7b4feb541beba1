/* libFuzzer target: response header lines (core/http_headers.c) from arbitrary bytes,
 * one line per '\n'.  Checks what a plugin relies on: at most HTTP_MAX_HEADERS entries,
 * names non-empty tokens, values without CR, LF or surrounding whitespace. */
#include <stdlib.h>
#include <string.h>

#include "http_headers.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int token(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct http_hdrs h = { 0 };
	struct http_header out[HTTP_MAX_HEADERS];
	const char *p = (const char *)data, *end = p + size;
	enum http_hdr_rc rc = HTTP_HDR_OK;

	while (p < end && rc == HTTP_HDR_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		rc = http_hdrs_line(&h, p, n);
		p += n;
	}
	if (rc == HTTP_HDR_OK) {
		size_t n = http_hdrs_export(&h, out);

		if (n > HTTP_MAX_HEADERS || h.bytes > HTTP_MAX_HEADER_BYTES)
			abort();
		for (size_t i = 0; i < n; i++) {
			const char *v = out[i].value;
			size_t vl = strlen(v);

			if (!token(out[i].name) || strpbrk(v, "\r\n") ||
			    (vl && (v[0] == ' ' || v[0] == '\t' || v[vl - 1] == ' ' ||
				    v[vl - 1] == '\t')))
				abort();
		}
	}
	http_hdrs_free(&h);
	return 0;
}
