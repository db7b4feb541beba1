/* report_data v1: what the quote must carry to bind the node's keys. */
#ifndef TEE_REPORT_DATA_H
#define TEE_REPORT_DATA_H

#include <stdint.h>

#define TEE_REPORT_DATA_LEN 64

/* 00 01 || SHA3-384(tls_public_key || signer_public_key) || 14 zero bytes,
 * over the raw 32-byte Ed25519 keys.  0, or -1 if libcrypto fails. */
int tee_report_data_v1(const uint8_t tls_pk[32], const uint8_t signer_pk[32],
		       uint8_t out[TEE_REPORT_DATA_LEN]);

#endif
