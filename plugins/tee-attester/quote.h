/* A TDX DCAP quote (version 4 or 5), read without trusting it: every length
 * is checked against the buffer. */
#ifndef TEE_QUOTE_H
#define TEE_QUOTE_H

#include <stddef.h>
#include <stdint.h>

#define TEE_QUOTE_MAX (64 * 1024) /* the fixture's quote is 5006 bytes */

/* Pointers into the caller's buffer. */
struct tee_quote {
	unsigned version;
	uint32_t tee_type;                 /* 0x81: TDX */
	const uint8_t *mrtd;               /* 48 bytes */
	const uint8_t *rtmr[4];            /* 48 bytes each */
	const uint8_t *report_data;        /* 64 bytes */
	const char *pck_chain;             /* PEM, trailing NULs stripped */
	size_t pck_chain_len;
};

/* 0, or -1 with a message naming what is wrong and at which offset. */
int tee_quote_parse(const uint8_t *q, size_t len, struct tee_quote *out,
		    char *err, size_t errsz);

#endif
