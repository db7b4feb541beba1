/* FMSPC and CA type from the PCK leaf certificate (OpenSSL X.509): the
 * Intel SGX extension 1.2.840.113741.1.13.1 is a SEQUENCE of
 * SEQUENCE { OID, value }; sub-OID .4 holds the 6-byte FMSPC.  The CA type
 * comes from the issuer's common name. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pck.h"

#define OID_SGX_EXT "1.2.840.113741.1.13.1"
#define OID_FMSPC "1.2.840.113741.1.13.1.4"

/* The FMSPC octet string among the extension's entries. */
static int find_fmspc(const ASN1_OCTET_STRING *ext, struct tee_pck *out)
{
	const unsigned char *p = ASN1_STRING_get0_data(ext);
	ASN1_SEQUENCE_ANY *entries = d2i_ASN1_SEQUENCE_ANY(NULL, &p, ASN1_STRING_length(ext));
	ASN1_OBJECT *want = OBJ_txt2obj(OID_FMSPC, 1);
	int rc = -1;

	for (int i = 0; entries && want && i < sk_ASN1_TYPE_num(entries) && rc < 0; i++) {
		ASN1_TYPE *e = sk_ASN1_TYPE_value(entries, i);
		if (ASN1_TYPE_get(e) != V_ASN1_SEQUENCE)
			continue;
		const unsigned char *q = ASN1_STRING_get0_data(e->value.sequence);
		ASN1_SEQUENCE_ANY *kv = d2i_ASN1_SEQUENCE_ANY(NULL, &q,
				ASN1_STRING_length(e->value.sequence));
		if (kv && sk_ASN1_TYPE_num(kv) == 2 &&
		    ASN1_TYPE_get(sk_ASN1_TYPE_value(kv, 0)) == V_ASN1_OBJECT &&
		    OBJ_cmp(sk_ASN1_TYPE_value(kv, 0)->value.object, want) == 0 &&
		    ASN1_TYPE_get(sk_ASN1_TYPE_value(kv, 1)) == V_ASN1_OCTET_STRING) {
			const ASN1_OCTET_STRING *v = sk_ASN1_TYPE_value(kv, 1)->value.octet_string;
			if (ASN1_STRING_length(v) == 6) {
				const unsigned char *b = ASN1_STRING_get0_data(v);
				for (int k = 0; k < 6; k++)
					snprintf(out->fmspc + 2 * k, 3, "%02X", b[k]);
				rc = 0;
			}
		}
		sk_ASN1_TYPE_pop_free(kv, ASN1_TYPE_free);
	}
	sk_ASN1_TYPE_pop_free(entries, ASN1_TYPE_free);
	ASN1_OBJECT_free(want);
	return rc;
}

static int ca_type(const X509 *leaf, struct tee_pck *out)
{
	char cn[256];
	const X509_NAME *issuer = X509_get_issuer_name(leaf);
	if (X509_NAME_get_text_by_NID((X509_NAME *)issuer, NID_commonName, cn,
				      sizeof(cn)) < 0)
		return -1;
	if (strstr(cn, "Processor"))
		snprintf(out->ca, sizeof(out->ca), "processor");
	else if (strstr(cn, "Platform"))
		snprintf(out->ca, sizeof(out->ca), "platform");
	else
		return -1;
	return 0;
}

int tee_pck_read(const char *pem, size_t len, struct tee_pck *out, char *err,
		 size_t errsz)
{
	BIO *bio = len <= (size_t)INT32_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
	X509 *leaf = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!leaf) {
		snprintf(err, errsz, "PCK chain: the first PEM certificate does not parse");
		goto done;
	}
	ASN1_OBJECT *ext_oid = OBJ_txt2obj(OID_SGX_EXT, 1);
	int idx = ext_oid ? X509_get_ext_by_OBJ(leaf, ext_oid, -1) : -1;
	ASN1_OBJECT_free(ext_oid);
	X509_EXTENSION *ext = idx >= 0 ? X509_get_ext(leaf, idx) : NULL;
	if (!ext) {
		snprintf(err, errsz, "PCK certificate has no Intel SGX extension (%s)",
			 OID_SGX_EXT);
		goto done;
	}
	if (find_fmspc(X509_EXTENSION_get_data(ext), out) < 0) {
		snprintf(err, errsz, "PCK certificate: no 6-byte FMSPC (%s) in the SGX extension",
			 OID_FMSPC);
		goto done;
	}
	if (ca_type(leaf, out) < 0) {
		snprintf(err, errsz,
			 "PCK certificate: issuer CN names neither the Processor nor the Platform CA");
		goto done;
	}
	rc = 0;
done:
	X509_free(leaf);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}
