/* Helpers shared by the tests/unit/test_near_*.c programs. */
#ifndef MPCI_TESTS_NEAR_UTIL_H
#define MPCI_TESTS_NEAR_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hex string -> malloc'd bytes; bails out of the test on bad hex (a typo in the test). */
static inline uint8_t *hex_alloc(const char *hex, size_t *n)
{
	size_t len = strlen(hex), i;
	uint8_t *out;

	if (len % 2) {
		printf("Bail out! odd hex length in test data\n");
		exit(99);
	}
	out = malloc(len / 2 + 1);
	if (!out)
		exit(99);
	for (i = 0; i < len / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			printf("Bail out! bad hex in test data\n");
			exit(99);
		}
		out[i] = (uint8_t)v;
	}
	*n = len / 2;
	return out;
}

static inline void hex_fixed(uint8_t *out, size_t n, const char *hex)
{
	size_t got;
	uint8_t *p = hex_alloc(hex, &got);

	if (got != n) {
		printf("Bail out! hex of %zu bytes where %zu expected\n", got, n);
		exit(99);
	}
	memcpy(out, p, n);
	free(p);
}

/* Reads a whole file under $top_srcdir (malloc'd, NUL-terminated) or bails out. */
static inline char *read_srcdir_file(const char *rel, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	FILE *f;
	char *buf;
	long sz;

	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", rel);
	f = fopen(path, "rb");
	if (!f) {
		printf("Bail out! cannot open %s\n", path);
		exit(99);
	}
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)sz + 1);
	if (!buf || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		printf("Bail out! cannot read %s\n", path);
		exit(99);
	}
	fclose(f);
	buf[sz] = '\0';
	if (len)
		*len = (size_t)sz;
	return buf;
}
#endif
