/*
 * A zero-copy, validating JSON pull reader for large documents (block documents of
 * hundreds of KB): walk objects and arrays, read the few values wanted as slices of the
 * input, and skip everything else at memory speed. Strict RFC 8259 grammar (strings,
 * escapes, numbers, literals); nesting is limited to JSCAN_MAX_DEPTH. The input need not
 * be NUL-terminated. On the first error every call fails and jscan_error() says what and
 * at which byte offset.
 */
#ifndef MPCI_JSON_SCAN_H
#define MPCI_JSON_SCAN_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JSCAN_MAX_DEPTH 96

enum jscan_type {
	JSCAN_ERR = 0,
	JSCAN_OBJ,
	JSCAN_ARR,
	JSCAN_STR,
	JSCAN_NUM,
	JSCAN_TRUE,
	JSCAN_FALSE,
	JSCAN_NULL,
	JSCAN_END,	/* no value: end of input, or a closing bracket/brace */
};

/* A string as it appears between the quotes (escapes not yet decoded). */
struct jstr {
	const char *p;
	size_t n;
	int esc;	/* 1 when it holds a backslash escape */
};

struct jscan {
	const char *base, *p, *end;
	const char *err;	/* NULL, or a static message */
	size_t err_off;
};

void jscan_init(struct jscan *j, const char *p, size_t n);
/* Type of the next value (after whitespace); JSCAN_ERR after an error. */
int jscan_peek(struct jscan *j);

/* Objects: jscan_obj(j) consumes '{'; then while ((r = jscan_key(j, &k)) > 0) read or
 * skip the value for key k. 0 = the closing '}' was consumed; -1 = error. */
int jscan_obj(struct jscan *j);
int jscan_key(struct jscan *j, struct jstr *key);
/* Arrays: jscan_arr(j) consumes '['; jscan_more(j) is 1 before each element, 0 after
 * consuming ']', -1 on error. */
int jscan_arr(struct jscan *j);
int jscan_more(struct jscan *j);

/* Read one value of the named kind (0, or -1 and an error naming the expectation). */
int jscan_str(struct jscan *j, struct jstr *out);
int jscan_u64(struct jscan *j, uint64_t *out);	/* a non-negative integer literal */
/* 1 and consume when the next value is null, else 0 (nothing consumed). */
int jscan_null(struct jscan *j);
/* Validate and skip any value; *raw (optional) gets its exact text. */
int jscan_skip(struct jscan *j, struct jstr *raw);
/* After the top-level value: only whitespace may follow. 0 or -1. */
int jscan_end(struct jscan *j);

/* Fail with a message of the caller's (kept by pointer: pass a literal). */
int jscan_fail(struct jscan *j, const char *msg);
const char *jscan_error(const struct jscan *j, size_t *offset);

/* 1 when the escaped string a equals the n bytes at s (jstr_eq's slow path). */
int jstr_eq_escaped(const struct jstr *a, const char *s, size_t n);
/* 1 when the (possibly escaped) string equals the NUL-terminated s. Inline: member names
 * are compared against literals many times per document, and the length decides most. */
static inline int jstr_eq(const struct jstr *a, const char *s)
{
	size_t n = strlen(s);

	if (!a->esc)
		return a->n == n && memcmp(a->p, s, n) == 0;
	return jstr_eq_escaped(a, s, n);
}
/* 1 when two strings are equal after decoding. */
int jstr_same(const struct jstr *a, const struct jstr *b);
/* Decode escapes into out (NUL-terminated); returns the length, or -1 when it does not
 * fit in outsz-1 bytes or an escape is bad. UTF-16 surrogate pairs become UTF-8. */
long jstr_decode(const struct jstr *a, char *out, size_t outsz);
/* Decode into a fresh malloc'd string; NULL on failure. *len optional. */
char *jstr_dup(const struct jstr *a, size_t *len);

#endif
