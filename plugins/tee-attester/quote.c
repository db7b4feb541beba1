/* TDX quote layout (Intel DCAP v4/v5): 48-byte header; the TD report body
 * (v5: behind a u16 type + u32 size descriptor); u32 signature data length;
 * ECDSA signature (64) and attestation key (64); certification data
 * (u16 type + u32 size).  Type 6 wraps the QE report (384), its signature
 * (64), QE auth data (u16 size) and an inner certification data, type 5:
 * the PCK certificate chain as PEM. */
#include <stdio.h>
#include <string.h>

#include "quote.h"

#define HEADER_LEN 48
#define TD10_LEN 584
#define TD15_LEN 648
#define TEE_TYPE_TDX 0x81
#define CERT_PCK_CHAIN 5
#define CERT_QE_REPORT 6

/* body offsets of the fields we read (TD10; TD15 only appends) */
#define OFF_MRTD 136
#define OFF_RTMR0 328
#define OFF_REPORT_DATA 520

static uint16_t u16le(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

struct cursor {
	const uint8_t *p;
	size_t len, off;
	char *err;
	size_t errsz;
};

static int need(struct cursor *c, size_t n, const char *what)
{
	if (n > c->len - c->off) {
		snprintf(c->err, c->errsz,
			 "quote truncated: %s needs %zu bytes at offset %zu, %zu left",
			 what, n, c->off, c->len - c->off);
		return -1;
	}
	return 0;
}

/* Certification data at the cursor: the PCK chain, directly (type 5) or
 * inside the QE report certification data (type 6). */
static int cert_data(struct cursor *c, struct tee_quote *out, int depth)
{
	if (need(c, 6, "certification data header") < 0)
		return -1;
	unsigned type = u16le(c->p + c->off);
	size_t size = u32le(c->p + c->off + 2);
	c->off += 6;
	if (need(c, size, "certification data") < 0)
		return -1;
	if (type == CERT_PCK_CHAIN) {
		const char *pem = (const char *)c->p + c->off;
		while (size > 0 && pem[size - 1] == 0)
			size--;
		if (size == 0 || memchr(pem, 0, size)) {
			snprintf(c->err, c->errsz,
				 "quote: the PCK certificate chain at offset %zu is empty or holds a NUL",
				 c->off);
			return -1;
		}
		out->pck_chain = pem;
		out->pck_chain_len = size;
		return 0;
	}
	if (type == CERT_QE_REPORT && depth == 0) {
		struct cursor in = { c->p, c->off + size, c->off, c->err, c->errsz };
		if (need(&in, 384 + 64 + 2, "QE report, signature and auth size") < 0)
			return -1;
		in.off += 384 + 64;
		size_t auth = u16le(in.p + in.off);
		in.off += 2;
		if (need(&in, auth, "QE auth data") < 0)
			return -1;
		in.off += auth;
		return cert_data(&in, out, 1);
	}
	snprintf(c->err, c->errsz,
		 "quote: certification data type %u at offset %zu is not supported "
		 "(want 5, the PCK chain, or 6 wrapping it)", type, c->off - 6);
	return -1;
}

int tee_quote_parse(const uint8_t *q, size_t len, struct tee_quote *out,
		    char *err, size_t errsz)
{
	struct cursor c = { q, len, 0, err, errsz };
	size_t body_len = TD10_LEN;

	memset(out, 0, sizeof(*out));
	if (len > TEE_QUOTE_MAX) {
		snprintf(err, errsz, "quote is %zu bytes, more than the %d allowed",
			 len, TEE_QUOTE_MAX);
		return -1;
	}
	if (need(&c, HEADER_LEN, "header") < 0)
		return -1;
	out->version = u16le(q);
	out->tee_type = u32le(q + 4);
	if (out->version != 4 && out->version != 5) {
		snprintf(err, errsz, "quote version %u is not supported (want 4 or 5)",
			 out->version);
		return -1;
	}
	if (out->tee_type != TEE_TYPE_TDX) {
		snprintf(err, errsz, "quote TEE type 0x%x is not TDX (0x81)",
			 (unsigned)out->tee_type);
		return -1;
	}
	c.off = HEADER_LEN;
	if (out->version == 5) {
		if (need(&c, 6, "body descriptor") < 0)
			return -1;
		unsigned type = u16le(q + c.off);
		body_len = u32le(q + c.off + 2);
		if (!((type == 2 && body_len == TD10_LEN) ||
		      (type == 3 && body_len == TD15_LEN))) {
			snprintf(err, errsz,
				 "quote v5 body type %u with %zu bytes is not a TD report",
				 type, body_len);
			return -1;
		}
		c.off += 6;
	}
	if (need(&c, body_len, "TD report body") < 0)
		return -1;
	const uint8_t *body = q + c.off;
	out->mrtd = body + OFF_MRTD;
	for (int i = 0; i < 4; i++)
		out->rtmr[i] = body + OFF_RTMR0 + 48 * i;
	out->report_data = body + OFF_REPORT_DATA;
	c.off += body_len;

	if (need(&c, 4, "signature data length") < 0)
		return -1;
	size_t sig_len = u32le(q + c.off);
	c.off += 4;
	if (need(&c, sig_len, "signature data") < 0)
		return -1;
	struct cursor sig = { q, c.off + sig_len, c.off, err, errsz };
	if (need(&sig, 128, "ECDSA signature and attestation key") < 0)
		return -1;
	sig.off += 128;
	return cert_data(&sig, out, 0);
}
