/* PCCS answers into the contract's Collateral (dcap-qvl's field set).  The
 * TCB info and QE identity are kept as the exact text the PCCS sent, since
 * their signatures cover those bytes. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "codec.h"
#include "collateral.h"
#include "json_span.h"

#define FUTURE_SKEW 300 /* seconds a date may lie ahead of our clock */

static const char *const names[TEE_PCCS_ITEMS] = {
	"PCK CRL", "TCB info", "QE identity", "root CA CRL",
};

const char *tee_pccs_item_name(enum tee_pccs_item item)
{
	return item < TEE_PCCS_ITEMS ? names[item] : "?";
}

const char *const *tee_pccs_chain_headers(enum tee_pccs_item item)
{
	static const char *const pck[] = { "SGX-PCK-CRL-Issuer-Chain", NULL };
	static const char *const tcb[] = { "SGX-TCB-Info-Issuer-Chain",
					   "TCB-Info-Issuer-Chain", NULL };
	static const char *const qe[] = { "SGX-Enclave-Identity-Issuer-Chain", NULL };
	static const char *const none[] = { NULL };
	switch (item) {
	case TEE_PCCS_PCK_CRL: return pck;
	case TEE_PCCS_TCB_INFO: return tcb;
	case TEE_PCCS_QE_IDENTITY: return qe;
	default: return none;
	}
}

char *tee_pccs_url(const char *base, enum tee_pccs_item item, const struct tee_pck *pck)
{
	static const char *const suffixes[] = { "/sgx/certification/v4", "/tdx/certification/v4" };
	size_t n = strlen(base);
	char *url;

	while (n > 0 && base[n - 1] == '/')
		n--;
	for (size_t i = 0; i < 2; i++) {
		size_t k = strlen(suffixes[i]);
		if (n >= k && strncmp(base + n - k, suffixes[i], k) == 0) {
			n -= k;
			break;
		}
	}
	int rc = -1;
	switch (item) {
	case TEE_PCCS_PCK_CRL:
		rc = asprintf(&url, "%.*s/sgx/certification/v4/pckcrl?ca=%s&encoding=der",
			      (int)n, base, pck->ca);
		break;
	case TEE_PCCS_TCB_INFO:
		rc = asprintf(&url, "%.*s/tdx/certification/v4/tcb?fmspc=%s", (int)n, base,
			      pck->fmspc);
		break;
	case TEE_PCCS_QE_IDENTITY:
		rc = asprintf(&url, "%.*s/tdx/certification/v4/qe/identity?update=standard",
			      (int)n, base);
		break;
	case TEE_PCCS_ROOT_CA_CRL:
		rc = asprintf(&url, "%.*s/sgx/certification/v4/rootcacrl", (int)n, base);
		break;
	default:
		break;
	}
	return rc < 0 ? NULL : url;
}

/* "2026-08-13T10:45:38Z" (fractions allowed) as unix seconds; -1 if not. */
static time_t iso_time(const char *s)
{
	struct tm tm = { 0 };
	int used = 0;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
			 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
		return -1;
	s += used;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	if (strcmp(s, "Z") != 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

/* A CRL's DER bytes, from DER or PEM; its thisUpdate.  The caller frees
 * *der.  0 or -1. */
static int crl_read(const uint8_t *in, size_t len, uint8_t **der, size_t *der_len,
		    time_t *this_update)
{
	const unsigned char *p = in;
	X509_CRL *crl = NULL;
	struct tm tm;
	int rc = -1;

	*der = NULL;
	if (len > TEE_PCCS_BODY_MAX)
		return -1;
	if (len > 10 && memcmp(in, "-----BEGIN", 10) == 0) {
		BIO *bio = BIO_new_mem_buf(in, (int)len);
		crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		unsigned char *out = NULL;
		int n = crl ? i2d_X509_CRL(crl, &out) : -1;
		if (n <= 0)
			goto done;
		*der = out;
		*der_len = (size_t)n;
	} else {
		crl = d2i_X509_CRL(NULL, &p, (long)len);
		if (!crl || p != in + len || !(*der = OPENSSL_malloc(len)))
			goto done;
		memcpy(*der, in, len);
		*der_len = len;
	}
	const ASN1_TIME *t = X509_CRL_get0_lastUpdate(crl);
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		goto done;
	*this_update = timegm(&tm);
	rc = 0;
done:
	if (rc < 0) {
		OPENSSL_free(*der);
		*der = NULL;
	}
	X509_CRL_free(crl);
	ERR_clear_error();
	return rc;
}

struct build {
	const struct tee_pccs_answer *ans;
	enum tee_cause *cause;
	char *err;
	size_t errsz;
};

static int fail(struct build *b, enum tee_cause cause, enum tee_pccs_item item,
		const char *fmt, const char *detail)
{
	char what[256];
	snprintf(what, sizeof(what), fmt, detail ? detail : "");
	snprintf(b->err, b->errsz, "PCCS %s: %s", names[item], what);
	*b->cause = cause;
	return -1;
}

static int check_answer(struct build *b, enum tee_pccs_item item)
{
	const struct tee_pccs_answer *a = &b->ans[item];
	char code[16];

	if (a->status == 0)
		return fail(b, TEE_PCCS_UNREACHABLE, item, "no answer (%s)",
			    a->error ? a->error : "transport error");
	if (a->status != 200) {
		snprintf(code, sizeof(code), "%d", a->status);
		return fail(b, TEE_PCCS_HTTP, item, "HTTP status %s", code);
	}
	if (!a->body || a->body_len == 0 || a->body_len > TEE_PCCS_BODY_MAX)
		return fail(b, TEE_PCCS_MALFORMED, item, "empty body, or over 1 MiB%s", NULL);
	return 0;
}

/* {"<member>":{...},"signature":"<hex>"}: the member's exact text and the
 * signature; also its issueDate.  For TCB info, the FMSPC must be ours. */
static int signed_json(struct build *b, enum tee_pccs_item item, const char *member,
		       const char *fmspc, char **text, const char **sig_out,
		       cJSON **doc_out, time_t *issued)
{
	const struct tee_pccs_answer *a = &b->ans[item];
	cJSON *doc = cJSON_ParseWithLength(a->body, a->body_len);
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(doc, member);
	const cJSON *sig = cJSON_GetObjectItemCaseSensitive(doc, "signature");
	size_t start, len;

	*doc_out = doc;
	if (!cJSON_IsObject(obj))
		return fail(b, TEE_PCCS_MALFORMED, item, "the body is not JSON with an object %s",
			    member);
	if (!cJSON_IsString(sig) || !tee_hex_valid(sig->valuestring, 128, 128))
		return fail(b, TEE_PCCS_MALFORMED, item,
			    "signature is not 64 bytes of hex%s", NULL);
	const cJSON *date = cJSON_GetObjectItemCaseSensitive(obj, "issueDate");
	if ((*issued = iso_time(cJSON_IsString(date) ? date->valuestring : NULL)) < 0)
		return fail(b, TEE_PCCS_MALFORMED, item, "no ISO 8601 issueDate%s", NULL);
	if (fmspc) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, "fmspc");
		if (!cJSON_IsString(f) || strcasecmp(f->valuestring, fmspc) != 0)
			return fail(b, TEE_PCCS_MALFORMED, item,
				    "the answer is for another FMSPC than %s", fmspc);
	}
	if (tee_json_span(a->body, a->body_len, member, &start, &len) < 0 ||
	    !(*text = strndup(a->body + start, len)))
		return fail(b, TEE_PCCS_MALFORMED, item, "cannot locate %s in the body", member);
	*sig_out = sig->valuestring;
	return 0;
}

/* The root CA CRL: hex text (PCCS) or DER. */
static int root_crl(struct build *b, char **hex, time_t *this_update)
{
	const struct tee_pccs_answer *a = &b->ans[TEE_PCCS_ROOT_CA_CRL];
	size_t n = a->body_len;
	uint8_t *raw = NULL, *der = NULL;
	size_t der_len = 0;
	int rc = -1;

	while (n > 0 && isspace((unsigned char)a->body[n - 1]))
		n--;
	if (n % 2 == 0 && (raw = malloc(n / 2 + 1)) && tee_hex_decode(a->body, n, raw) == 0) {
		rc = crl_read(raw, n / 2, &der, &der_len, this_update);
	} else {
		rc = crl_read((const uint8_t *)a->body, a->body_len, &der, &der_len, this_update);
	}
	free(raw);
	if (rc < 0)
		return fail(b, TEE_PCCS_MALFORMED, TEE_PCCS_ROOT_CA_CRL,
			    "the body is neither hex of a DER CRL nor a CRL%s", NULL);
	*hex = tee_hex_dup(der, der_len);
	OPENSSL_free(der);
	return *hex ? 0 : fail(b, TEE_PCCS_MALFORMED, TEE_PCCS_ROOT_CA_CRL, "out of memory%s", NULL);
}

static int fresh(struct build *b, enum tee_pccs_item item, const char *what, time_t t,
		 time_t now, double max_age)
{
	char msg[160], day[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((double)now - (double)t > max_age) {
		snprintf(msg, sizeof(msg), "%s %s is %.1f days old, more than the %.1f allowed",
			 what, day, ((double)now - (double)t) / 86400, max_age / 86400);
		return fail(b, TEE_COLLATERAL_STALE, item, "stale: %s", msg);
	}
	if ((double)t - (double)now > FUTURE_SKEW) {
		snprintf(msg, sizeof(msg), "%s %s lies in the future", what, day);
		return fail(b, TEE_COLLATERAL_STALE, item, "%s (check the clock)", msg);
	}
	return 0;
}

/* The issuer chain of an item: URL-decoded PEM. */
static char *issuer_chain(struct build *b, enum tee_pccs_item item)
{
	const struct tee_pccs_answer *a = &b->ans[item];
	char *pem = a->issuer_chain ? tee_url_decode(a->issuer_chain, strlen(a->issuer_chain))
				    : NULL;
	if (!pem || !strstr(pem, "-----BEGIN CERTIFICATE-----")) {
		free(pem);
		fail(b, TEE_PCCS_ISSUER_CHAIN, item, "%s", a->issuer_chain ?
		     "the issuer-chain header is not URL-encoded PEM" :
		     "no issuer-chain header in the answer");
		return NULL;
	}
	return pem;
}

cJSON *tee_collateral_build(const struct tee_pccs_answer ans[TEE_PCCS_ITEMS],
			    const struct tee_pck *pck, const char *pck_chain,
			    size_t pck_chain_len, time_t now, double max_age,
			    struct tee_collateral_dates *dates,
			    enum tee_cause *cause, char *err, size_t errsz)
{
	struct build b = { ans, cause, err, errsz };
	cJSON *tcb_doc = NULL, *qe_doc = NULL, *out = NULL;
	char *tcb = NULL, *qe = NULL, *root_hex = NULL, *pck_crl_hex = NULL;
	char *chains[TEE_PCCS_ITEMS] = { NULL };
	const char *tcb_sig, *qe_sig;
	uint8_t *crl_der = NULL;
	size_t crl_len = 0;

	*cause = TEE_OK;
	memset(dates, 0, sizeof(*dates));
	for (int i = 0; i < TEE_PCCS_ITEMS; i++)
		if (check_answer(&b, i) < 0)
			return NULL;
	if (crl_read((const uint8_t *)ans[TEE_PCCS_PCK_CRL].body, ans[TEE_PCCS_PCK_CRL].body_len,
		     &crl_der, &crl_len, &dates->pck_crl_this_update) < 0) {
		fail(&b, TEE_PCCS_MALFORMED, TEE_PCCS_PCK_CRL, "the body is not a CRL (DER or PEM)%s",
		     NULL);
		goto done;
	}
	if (signed_json(&b, TEE_PCCS_TCB_INFO, "tcbInfo", pck->fmspc, &tcb, &tcb_sig, &tcb_doc,
			&dates->tcb_info_issued) < 0 ||
	    signed_json(&b, TEE_PCCS_QE_IDENTITY, "enclaveIdentity", NULL, &qe, &qe_sig, &qe_doc,
			&dates->qe_identity_issued) < 0)
		goto done;
	time_t root_update;
	if (root_crl(&b, &root_hex, &root_update) < 0)
		goto done;
	if (fresh(&b, TEE_PCCS_TCB_INFO, "issueDate", dates->tcb_info_issued, now, max_age) < 0 ||
	    fresh(&b, TEE_PCCS_QE_IDENTITY, "issueDate", dates->qe_identity_issued, now,
		  max_age) < 0 ||
	    fresh(&b, TEE_PCCS_PCK_CRL, "thisUpdate", dates->pck_crl_this_update, now, max_age) < 0)
		goto done;
	for (int i = 0; i < TEE_PCCS_ROOT_CA_CRL; i++)
		if (!(chains[i] = issuer_chain(&b, i)))
			goto done;
	char *chain = strndup(pck_chain, pck_chain_len);
	pck_crl_hex = tee_hex_dup(crl_der, crl_len);
	out = cJSON_CreateObject();
	if (!chain || !pck_crl_hex || !out ||
	    !cJSON_AddStringToObject(out, "pck_crl_issuer_chain", chains[TEE_PCCS_PCK_CRL]) ||
	    !cJSON_AddStringToObject(out, "root_ca_crl", root_hex) ||
	    !cJSON_AddStringToObject(out, "pck_crl", pck_crl_hex) ||
	    !cJSON_AddStringToObject(out, "tcb_info_issuer_chain", chains[TEE_PCCS_TCB_INFO]) ||
	    !cJSON_AddStringToObject(out, "tcb_info", tcb) ||
	    !cJSON_AddStringToObject(out, "tcb_info_signature", tcb_sig) ||
	    !cJSON_AddStringToObject(out, "qe_identity_issuer_chain",
				     chains[TEE_PCCS_QE_IDENTITY]) ||
	    !cJSON_AddStringToObject(out, "qe_identity", qe) ||
	    !cJSON_AddStringToObject(out, "qe_identity_signature", qe_sig) ||
	    !cJSON_AddStringToObject(out, "pck_certificate_chain", chain)) {
		cJSON_Delete(out);
		out = NULL;
		snprintf(err, errsz, "out of memory assembling the collateral");
		*cause = TEE_PCCS_MALFORMED;
	}
	free(chain);
done:
	for (int i = 0; i < TEE_PCCS_ITEMS; i++)
		free(chains[i]);
	OPENSSL_free(crl_der);
	free(pck_crl_hex);
	free(root_hex);
	free(tcb);
	free(qe);
	cJSON_Delete(tcb_doc);
	cJSON_Delete(qe_doc);
	return out;
}
