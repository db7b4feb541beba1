/* For fuzz targets that read signer keys: a message must never quote one. */
#ifndef FUZZ_NO_KEY_H
#define FUZZ_NO_KEY_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Abort when err holds 12 characters of the base58 right after the first
 * "ed25519:" of text. */
static void fuzz_no_key_in(const char *err, const char *text, size_t n)
{
	const char *k = memmem(text, n, "ed25519:", 8);
	if (!k || (size_t)(text + n - k) < 8 + 12)
		return;
	if (memmem(err, strlen(err), k + 8, 12)) {
		fprintf(stderr, "key material in an error: %s\n", err);
		abort();
	}
}

#endif
