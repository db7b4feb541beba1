/* Zero-copy validating JSON reader: see json_scan.h. Strings are scanned with a byte
 * class table, so skipping the bulk of a block document (base64 args, logs, hashes) costs
 * little more than reading it once. */
#include "json_scan.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* 1: a byte that ends the fast path inside a string ('"', '\\', controls). */
static const unsigned char str_stop[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
	[0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
	[0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
	[0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
	[0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
	[0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

void jscan_init(struct jscan *j, const char *p, size_t n)
{
	j->base = j->p = p;
	j->end = p + n;
	j->err = NULL;
	j->err_off = 0;
}

int jscan_fail(struct jscan *j, const char *msg)
{
	if (!j->err) {
		j->err = msg;
		j->err_off = (size_t)(j->p - j->base);
		j->p = j->end;
	}
	return -1;
}

const char *jscan_error(const struct jscan *j, size_t *offset)
{
	if (offset)
		*offset = j->err_off;
	return j->err;
}

static inline void ws(struct jscan *j)
{
	const char *p = j->p, *e = j->end;

	while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	j->p = p;
}

static inline int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* j->p at the opening quote. */
static int scan_string(struct jscan *j, struct jstr *out)
{
	const char *s = j->p + 1, *p = s, *e = j->end;
	int esc = 0;

	for (;;) {
#ifdef __SSE2__
		/* 16 bytes at a time: stop at '"', '\\' or a control byte */
		const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1f);
		while (p + 16 <= e) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
						   _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
			int mask = _mm_movemask_epi8(hit);
			if (mask) {
				p += __builtin_ctz((unsigned)mask);
				break;
			}
			p += 16;
		}
#endif
		while (p + 4 <= e && !str_stop[(unsigned char)p[0]] &&
		       !str_stop[(unsigned char)p[1]] && !str_stop[(unsigned char)p[2]] &&
		       !str_stop[(unsigned char)p[3]])
			p += 4;
		while (p < e && !str_stop[(unsigned char)*p])
			p++;
		if (p >= e) {
			j->p = s - 1;
			return jscan_fail(j, "unterminated string");
		}
		if (*p == '"')
			break;
		if (*p != '\\') {
			j->p = p;
			return jscan_fail(j, "control character in a string");
		}
		esc = 1;
		if (p + 1 >= e) {
			j->p = p;
			return jscan_fail(j, "unterminated string");
		}
		switch (p[1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			p += 2;
			break;
		case 'u':
			if (p + 6 > e || hexval(p[2]) < 0 || hexval(p[3]) < 0 ||
			    hexval(p[4]) < 0 || hexval(p[5]) < 0) {
				j->p = p;
				return jscan_fail(j, "bad \\u escape");
			}
			p += 6;
			break;
		default:
			j->p = p;
			return jscan_fail(j, "bad escape in a string");
		}
	}
	if (out) {
		out->p = s;
		out->n = (size_t)(p - s);
		out->esc = esc;
	}
	j->p = p + 1;
	return 0;
}

static int scan_number(struct jscan *j)
{
	const char *p = j->p, *e = j->end;

	if (p < e && *p == '-')
		p++;
	if (p >= e || *p < '0' || *p > '9')
		return jscan_fail(j, "bad number");
	if (*p == '0')
		p++;
	else
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	if (p < e && *p == '.') {
		p++;
		if (p >= e || *p < '0' || *p > '9') {
			j->p = p;
			return jscan_fail(j, "bad number");
		}
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9') {
			j->p = p;
			return jscan_fail(j, "bad number");
		}
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	j->p = p;
	return 0;
}

static int scan_literal(struct jscan *j, const char *lit, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return jscan_fail(j, "bad literal");
	j->p += n;
	return 0;
}

int jscan_peek(struct jscan *j)
{
	if (j->err)
		return JSCAN_ERR;
	ws(j);
	if (j->p >= j->end)
		return JSCAN_END;
	switch (*j->p) {
	case '{': return JSCAN_OBJ;
	case '[': return JSCAN_ARR;
	case '"': return JSCAN_STR;
	case 't': return JSCAN_TRUE;
	case 'f': return JSCAN_FALSE;
	case 'n': return JSCAN_NULL;
	case '}': case ']': return JSCAN_END;
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return JSCAN_NUM;
		return JSCAN_ERR;
	}
}

/* The position right after an opening bracket: the first member needs no comma. */
static int open_container(struct jscan *j, char c, const char *msg)
{
	if (j->err)
		return -1;
	ws(j);
	if (j->p >= j->end || *j->p != c)
		return jscan_fail(j, msg);
	j->p++;
	ws(j);
	return 0;
}

int jscan_obj(struct jscan *j)
{
	return open_container(j, '{', "expected an object");
}

int jscan_arr(struct jscan *j)
{
	return open_container(j, '[', "expected an array");
}

/* After '{' / '[' the previous byte (ignoring whitespace) is the bracket itself. */
static int just_opened(const struct jscan *j, char c)
{
	const char *p = j->p;

	while (p > j->base && (p[-1] == ' ' || p[-1] == '\n' || p[-1] == '\r' || p[-1] == '\t'))
		p--;
	return p > j->base && p[-1] == c;
}

int jscan_key(struct jscan *j, struct jstr *key)
{
	if (j->err)
		return -1;
	ws(j);
	if (j->p >= j->end)
		return jscan_fail(j, "unterminated object");
	if (*j->p == '}') {
		j->p++;
		return 0;
	}
	if (!just_opened(j, '{')) {
		if (*j->p != ',')
			return jscan_fail(j, "expected ',' or '}' in an object");
		j->p++;
		ws(j);
	}
	if (j->p >= j->end || *j->p != '"')
		return jscan_fail(j, "expected a member name");
	if (scan_string(j, key) < 0)
		return -1;
	ws(j);
	if (j->p >= j->end || *j->p != ':')
		return jscan_fail(j, "expected ':' after a member name");
	j->p++;
	return 1;
}

int jscan_more(struct jscan *j)
{
	if (j->err)
		return -1;
	ws(j);
	if (j->p >= j->end)
		return jscan_fail(j, "unterminated array");
	if (*j->p == ']') {
		j->p++;
		return 0;
	}
	if (!just_opened(j, '[')) {
		if (*j->p != ',')
			return jscan_fail(j, "expected ',' or ']' in an array");
		j->p++;
	}
	return 1;
}

int jscan_str(struct jscan *j, struct jstr *out)
{
	if (jscan_peek(j) != JSCAN_STR)
		return jscan_fail(j, "expected a string");
	return scan_string(j, out);
}

int jscan_u64(struct jscan *j, uint64_t *out)
{
	const char *p;
	uint64_t v = 0;

	if (jscan_peek(j) != JSCAN_NUM)
		return jscan_fail(j, "expected a number");
	p = j->p;
	if (*p == '-')
		return jscan_fail(j, "expected a non-negative integer");
	if (*p == '0' && p + 1 < j->end && p[1] >= '0' && p[1] <= '9')
		return jscan_fail(j, "bad number");
	while (p < j->end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return jscan_fail(j, "integer out of range");
		v = v * 10 + d;
		p++;
	}
	if (p < j->end && (*p == '.' || *p == 'e' || *p == 'E'))
		return jscan_fail(j, "expected an integer");
	j->p = p;
	*out = v;
	return 0;
}

int jscan_null(struct jscan *j)
{
	if (jscan_peek(j) != JSCAN_NULL)
		return 0;
	return scan_literal(j, "null", 4) == 0;
}

int jscan_skip(struct jscan *j, struct jstr *raw)
{
	char stack[JSCAN_MAX_DEPTH];
	int d = 0;
	const char *start;

	if (j->err)
		return -1;
	ws(j);
	start = j->p;
value:
	ws(j);
	if (j->p >= j->end)
		return jscan_fail(j, "expected a value");
	switch (*j->p) {
	case '{':
	case '[':
		if (d >= JSCAN_MAX_DEPTH)
			return jscan_fail(j, "nested too deeply");
		stack[d++] = *j->p == '{' ? '}' : ']';
		j->p++;
		ws(j);
		if (j->p < j->end && *j->p == stack[d - 1]) {
			j->p++;
			d--;
			goto after;
		}
		if (stack[d - 1] == ']')
			goto value;
		goto key;
	case '"':
		if (scan_string(j, NULL) < 0)
			return -1;
		goto after;
	case 't':
		if (scan_literal(j, "true", 4) < 0)
			return -1;
		goto after;
	case 'f':
		if (scan_literal(j, "false", 5) < 0)
			return -1;
		goto after;
	case 'n':
		if (scan_literal(j, "null", 4) < 0)
			return -1;
		goto after;
	default:
		if (scan_number(j) < 0)
			return -1;
		goto after;
	}
key:
	ws(j);
	if (j->p >= j->end || *j->p != '"')
		return jscan_fail(j, "expected a member name");
	if (scan_string(j, NULL) < 0)
		return -1;
	ws(j);
	if (j->p >= j->end || *j->p != ':')
		return jscan_fail(j, "expected ':' after a member name");
	j->p++;
	goto value;
after:
	if (d > 0) {
		ws(j);
		if (j->p >= j->end)
			return jscan_fail(j, d && stack[d - 1] == '}' ? "unterminated object" :
					  "unterminated array");
		if (*j->p == ',') {
			j->p++;
			if (stack[d - 1] == '}')
				goto key;
			goto value;
		}
		if (*j->p != stack[d - 1])
			return jscan_fail(j, stack[d - 1] == '}' ? "expected ',' or '}' in an object" :
					  "expected ',' or ']' in an array");
		j->p++;
		d--;
		goto after;
	}
	if (raw) {
		raw->p = start;
		raw->n = (size_t)(j->p - start);
		raw->esc = 0;
	}
	return 0;
}

int jscan_end(struct jscan *j)
{
	if (j->err)
		return -1;
	ws(j);
	if (j->p != j->end)
		return jscan_fail(j, "trailing bytes after the document");
	return 0;
}

static size_t put_utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static long hex4(const char *p)
{
	return (long)((hexval(p[0]) << 12) | (hexval(p[1]) << 8) | (hexval(p[2]) << 4) |
		      hexval(p[3]));
}

long jstr_decode(const struct jstr *a, char *out, size_t outsz)
{
	const char *p = a->p, *e = a->p + a->n;
	size_t o = 0;

	if (!outsz)
		return -1;
	if (!a->esc) {
		if (a->n >= outsz)
			return -1;
		memcpy(out, a->p, a->n);
		out[a->n] = '\0';
		return (long)a->n;
	}
	while (p < e) {
		char tmp[4];
		size_t n = 1;
		if (*p != '\\') {
			tmp[0] = *p++;
		} else {
			if (p + 1 >= e)
				return -1;
			switch (p[1]) {
			case '"': tmp[0] = '"'; break;
			case '\\': tmp[0] = '\\'; break;
			case '/': tmp[0] = '/'; break;
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case 'n': tmp[0] = '\n'; break;
			case 'r': tmp[0] = '\r'; break;
			case 't': tmp[0] = '\t'; break;
			case 'u': {
				unsigned long cp;
				if (p + 6 > e || hexval(p[2]) < 0 || hexval(p[3]) < 0 ||
				    hexval(p[4]) < 0 || hexval(p[5]) < 0)
					return -1;
				cp = (unsigned long)hex4(p + 2);
				if (cp >= 0xd800 && cp < 0xdc00 && p + 12 <= e && p[6] == '\\' &&
				    p[7] == 'u' && hexval(p[8]) >= 0 && hexval(p[9]) >= 0 &&
				    hexval(p[10]) >= 0 && hexval(p[11]) >= 0) {
					unsigned long lo = (unsigned long)hex4(p + 8);
					if (lo >= 0xdc00 && lo < 0xe000) {
						cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
						p += 6;
					}
				}
				n = put_utf8(tmp, cp);
				p += 4;
				break;
			}
			default:
				return -1;
			}
			p += 2;
		}
		if (o + n >= outsz)
			return -1;
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
	return (long)o;
}

char *jstr_dup(const struct jstr *a, size_t *len)
{
	char *s = malloc(a->n + 1);
	long n;

	if (!s)
		return NULL;
	if ((n = jstr_decode(a, s, a->n + 1)) < 0) {
		free(s);
		return NULL;
	}
	if (len)
		*len = (size_t)n;
	return s;
}

int jstr_eq_escaped(const struct jstr *a, const char *s, size_t n)
{
	char buf[256];
	long m;

	if (!a->esc)
		return a->n == n && memcmp(a->p, s, n) == 0;
	if (a->n > sizeof(buf) * 6 || n >= sizeof(buf))
		return 0;
	m = jstr_decode(a, buf, sizeof(buf));
	return m >= 0 && (size_t)m == n && memcmp(buf, s, n) == 0;
}

int jstr_same(const struct jstr *a, const struct jstr *b)
{
	char x[256], y[256];
	long n, m;

	if (!a->esc && !b->esc)
		return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
	n = jstr_decode(a, x, sizeof(x));
	m = jstr_decode(b, y, sizeof(y));
	return n >= 0 && n == m && memcmp(x, y, (size_t)n) == 0;
}
