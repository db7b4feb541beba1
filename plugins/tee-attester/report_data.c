/* report_data v1 (mpc-attestation ReportDataV1): version 1 as u16 big-endian,
 * then SHA3-384 (not SHA-384) of the two keys, zero padded to 64 bytes. */
#include <string.h>

#include <openssl/evp.h>

#include "report_data.h"

int tee_report_data_v1(const uint8_t tls_pk[32], const uint8_t signer_pk[32],
		       uint8_t out[TEE_REPORT_DATA_LEN])
{
	uint8_t keys[64];
	unsigned int n = 0;
	int rc = -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memcpy(keys, tls_pk, 32);
	memcpy(keys + 32, signer_pk, 32);
	memset(out, 0, TEE_REPORT_DATA_LEN);
	out[0] = 0x00;
	out[1] = 0x01;
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha3_384(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, keys, sizeof(keys)) == 1 &&
	    EVP_DigestFinal_ex(ctx, out + 2, &n) == 1 && n == 48)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	if (rc < 0)
		memset(out, 0, TEE_REPORT_DATA_LEN);
	return rc;
}
