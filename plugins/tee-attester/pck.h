/* What the PCCS requests need from the quote's PCK certificate. */
#ifndef TEE_PCK_H
#define TEE_PCK_H

#include <stddef.h>

struct tee_pck {
	char fmspc[13];   /* 6 bytes as upper-case hex, e.g. "B0C06F000000" */
	char ca[10];      /* "processor" or "platform" */
};

/* Reads the leaf (first certificate) of a PEM chain.  0, or -1 with a
 * message. */
int tee_pck_read(const char *pem, size_t len, struct tee_pck *out, char *err,
		 size_t errsz);

#endif
