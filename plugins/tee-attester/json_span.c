/* A scanner over already-validated JSON: it only needs to find where values
 * begin and end, so it tracks strings (with escapes) and nesting depth. */
#include <string.h>

#include "json_span.h"

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* i at an opening quote; returns the index after the closing quote. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return n;
}

/* i at the first character of a value; returns the index after it. */
static size_t skip_value(const char *s, size_t n, size_t i)
{
	int depth = 0;

	if (i < n && s[i] == '"')
		return skip_string(s, n, i);
	for (; i < n; i++) {
		char c = s[i];
		if (c == '"') {
			i = skip_string(s, n, i) - 1;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' ||
					  c == '\n' || c == '\r')) {
			return i;
		}
	}
	return n;
}

int tee_json_span(const char *json, size_t n, const char *key, size_t *start,
		  size_t *len)
{
	size_t klen = strlen(key), i = skip_ws(json, n, 0);

	if (i >= n || json[i] != '{')
		return -1;
	i = skip_ws(json, n, i + 1);
	while (i < n && json[i] == '"') {
		size_t kend = skip_string(json, n, i);
		int match = kend - i == klen + 2 && memcmp(json + i + 1, key, klen) == 0;
		i = skip_ws(json, n, kend);
		if (i >= n || json[i] != ':')
			return -1;
		i = skip_ws(json, n, i + 1);
		size_t vend = skip_value(json, n, i);
		if (vend <= i)
			return -1;
		if (match) {
			*start = i;
			*len = vend - i;
			return 0;
		}
		i = skip_ws(json, n, vend);
		if (i < n && json[i] == ',')
			i = skip_ws(json, n, i + 1);
	}
	return -1;
}
