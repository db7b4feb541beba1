/* The JSON arguments of the contract's submit_participant_info. */
#ifndef TEE_ARGS_H
#define TEE_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* {"proposed_participant_attestation":{"Dstack":{"quote":hex,
 *  "collateral":{...},"tcb_info":{...}}},"tls_public_key":"ed25519:..."}
 * malloc'd, compact; collateral and tcb_info are borrowed.  NULL: no memory. */
char *tee_args_dstack(const uint8_t *quote, size_t quote_len, const cJSON *collateral,
		      const cJSON *tcb_info, const char *tls_public_key);

/* {"proposed_participant_attestation":{"Mock":"Valid"},"tls_public_key":...} */
char *tee_args_mock(const char *tls_public_key);

#endif
