/* An RFC 8259 checker for the fuzz targets' oracles: what the daemon sends to
 * other programs must parse in strict parsers too (Python's json, serde), so
 * no raw control characters in strings, valid UTF-8, one value per text.
 * cJSON is more lenient than that, so it cannot be the judge. */
#ifndef FUZZ_STRICT_JSON_H
#define FUZZ_STRICT_JSON_H

#include <stddef.h>

struct sj {
	const unsigned char *p, *end;
	int depth;
};

static void sj_ws(struct sj *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int sj_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One UTF-8 sequence at s->p (not ASCII); 0 when invalid. */
static int sj_utf8(struct sj *s)
{
	unsigned char c = *s->p;
	unsigned long cp, min;
	int k;
	if (c >= 0xc2 && c <= 0xdf) {
		k = 1; cp = c & 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		k = 2; cp = c & 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 3; cp = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (s->end - s->p <= k)
		return 0;
	for (int i = 1; i <= k; i++) {
		if ((s->p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s->p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	s->p += k + 1;
	return 1;
}

static int sj_string(struct sj *s)
{
	s->p++;                                 /* the opening quote */
	while (s->p < s->end) {
		unsigned char c = *s->p;
		if (c == '"') {
			s->p++;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (s->end - s->p < 2)
				return 0;
			c = s->p[1];
			if (c == 'u') {
				if (s->end - s->p < 6 || !sj_hex(s->p[2]) || !sj_hex(s->p[3]) ||
				    !sj_hex(s->p[4]) || !sj_hex(s->p[5]))
					return 0;
				s->p += 6;
			} else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' ||
				   c == 'n' || c == 'r' || c == 't') {
				s->p += 2;
			} else {
				return 0;
			}
		} else if (c < 0x80) {
			s->p++;
		} else if (!sj_utf8(s)) {
			return 0;
		}
	}
	return 0;
}

static int sj_digits(struct sj *s)
{
	const unsigned char *at = s->p;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > at;
}

static int sj_number(struct sj *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (!sj_digits(s))
		return 0;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!sj_digits(s))
			return 0;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!sj_digits(s))
			return 0;
	}
	return 1;
}

static int sj_word(struct sj *s, const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s->p + i >= s->end || s->p[i] != (unsigned char)w[i])
			return 0;
	s->p += n;
	return 1;
}

static int sj_value(struct sj *s)
{
	sj_ws(s);
	if (s->p >= s->end || ++s->depth > 512)
		return 0;
	int ok = 0;
	switch (*s->p) {
	case '{':
		s->p++;
		sj_ws(s);
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			ok = 1;
			break;
		}
		for (;;) {
			sj_ws(s);
			if (s->p >= s->end || *s->p != '"' || !sj_string(s))
				break;
			sj_ws(s);
			if (s->p >= s->end || *s->p++ != ':' || !sj_value(s))
				break;
			sj_ws(s);
			if (s->p < s->end && *s->p == ',') {
				s->p++;
				continue;
			}
			if (s->p < s->end && *s->p == '}') {
				s->p++;
				ok = 1;
			}
			break;
		}
		break;
	case '[':
		s->p++;
		sj_ws(s);
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			ok = 1;
			break;
		}
		for (;;) {
			if (!sj_value(s))
				break;
			sj_ws(s);
			if (s->p < s->end && *s->p == ',') {
				s->p++;
				continue;
			}
			if (s->p < s->end && *s->p == ']') {
				s->p++;
				ok = 1;
			}
			break;
		}
		break;
	case '"':
		ok = sj_string(s);
		break;
	case 't':
		ok = sj_word(s, "true", 4);
		break;
	case 'f':
		ok = sj_word(s, "false", 5);
		break;
	case 'n':
		ok = sj_word(s, "null", 4);
		break;
	default:
		ok = (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) && sj_number(s);
	}
	s->depth--;
	return ok;
}

/* 1 when p[0..n) is exactly one JSON value (whitespace around it allowed). */
static inline int strict_json(const char *p, size_t n)
{
	struct sj s = { (const unsigned char *)p, (const unsigned char *)p + n, 0 };
	if (!sj_value(&s))
		return 0;
	sj_ws(&s);
	return s.p == s.end;
}

#endif
