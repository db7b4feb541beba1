/* libFuzzer target: the block stream's cursor file (state_dir/blocks.cursor)
 * as cursor_load() reads it at start-up.  The input is the file.  Either the
 * load fails with a message naming the file, or it succeeds and then:
 *   - the cursor is what the text says: the first line is the magic, every
 *     other line is exactly a key and a value, and each of the four values is
 *     the one its key's last line gives (nothing cut, nothing past a NUL byte);
 *   - both hashes are block hashes;
 *   - saving it and loading it again gives the same cursor. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cursor.h"
#include "fuzz_scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAGIC "mpc-indexer blocks cursor 1"

/* The next whitespace-separated word of [*p, end), as sscanf's %s sees words. */
static size_t word(const char **p, const char *end, const char **w)
{
	while (*p < end && isspace((unsigned char)**p))
		(*p)++;
	*w = *p;
	while (*p < end && !isspace((unsigned char)**p))
		(*p)++;
	return (size_t)(*p - *w);
}

static void fail(const char *why, const char *what)
{
	fprintf(stderr, "cursor accepted, but %s: %s\n", why, what);
	abort();
}

/* The text, read independently of cursor.c, gives the same four values. */
static void check_text(const char *text, size_t n, const struct cursor_pos *c)
{
	static const char *const keys[4] = { "height", "hash", "final_height", "final_hash" };
	char val[4][256] = { "" };
	const char *end = text + n, *line = text, *w;
	int lineno = 0;

	if (memchr(text, 0, n))
		fail("the text holds a NUL byte", "");
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end, *p = line;
		if (++lineno == 1) {
			size_t m = strlen(MAGIC);
			if ((size_t)(le - line) < m || memcmp(line, MAGIC, m) != 0)
				fail("the first line is not the magic", "");
			for (p = line + m; p < le && isspace((unsigned char)*p); p++)
				;
			if (p != le)
				fail("the magic line goes on", "");
		} else {
			const char *k, *x;
			size_t kn = word(&p, le, &k), vn = word(&p, le, &w);
			if (!kn || !vn || word(&p, le, &x))
				fail("a line is not one key and one value", "");
			for (int i = 0; i < 4; i++)
				if (kn == strlen(keys[i]) && !memcmp(k, keys[i], kn))
					snprintf(val[i], sizeof(val[i]), "%.*s", (int)vn, w);
		}
		line = nl ? nl + 1 : end;
	}
	for (int i = 0; i < 4; i += 2) {
		char *e;
		errno = 0;
		unsigned long long h = strtoull(val[i], &e, 10);
		if (*e || errno || h != (i ? c->final_height : c->height))
			fail("a height differs from the text", val[i]);
	}
	if (strcmp(val[1], c->hash) || strcmp(val[3], c->final_hash))
		fail("a hash differs from the text", c->hash);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor_pos c, again;
	uint8_t h[32];
	char err[512] = "";

	const char *path = fuzz_scratch("cursor", CURSOR_FILE, 0);
	fuzz_scratch_write(data, size);
	int rc = cursor_load(fuzz_dir, &c, err, sizeof(err));
	if (rc < 0) {
		if (!strstr(err, path))
			abort();	/* a refusal names the file */
		return 0;
	}
	if (rc != 0)
		abort();		/* the file is there */
	/* an exact-size copy, so that ASan sees the check read past nothing */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	check_text(text, size, &c);
	free(text);
	if (near_hash_from_b58(h, c.hash) != 0 || near_hash_from_b58(h, c.final_hash) != 0)
		abort();
	if (cursor_save(fuzz_dir, &c, err, sizeof(err)) != 0 ||
	    cursor_load(fuzz_dir, &again, err, sizeof(err)) != 0 ||
	    memcmp(&c, &again, sizeof(c)) != 0)
		abort();
	return 0;
}
