/* What the contract shows of stored attestations: get_attestation and
 * get_tee_accounts values. */
#ifndef TEE_STORED_H
#define TEE_STORED_H

#include <stddef.h>
#include <stdint.h>

struct tee_stored {
	int present;         /* not null */
	double expiry;       /* expiry_timestamp_seconds, or -1 when it has none */
};

/* A get_attestation value: null, {"Dstack":{...}} or {"Mock":...}.
 * 0, or -1 when it is neither. */
int tee_stored_parse(const char *value, size_t len, struct tee_stored *out);

/* Does a get_tee_accounts value list this node: an entry with this TLS key,
 * this account public key and (when account_id is not NULL) this account?
 * 1, 0, or -1 when the value is not an array of such entries. */
int tee_accounts_lists(const char *value, size_t len, const char *account_id,
		       const uint8_t tls_pk[32], const uint8_t account_pk[32]);

#endif
