/* Reading a signer's secret key: from a file that only its owner can read,
 * or from an environment variable (TEE images).  Key material is wiped from
 * every buffer it passed through and never appears in a message. */
#ifndef MPCI_KEYFILE_H
#define MPCI_KEYFILE_H

#include <stddef.h>
#include "near/keys.h"

/* The file holds either NEAR's JSON key format ({"account_id", "public_key",
 * "secret_key" | "private_key"}) or the bare "ed25519:..." string.  When the
 * JSON names an account it is copied to account (if not NULL). */
int keyfile_load(const char *path, struct near_secret *out, char *account,
		 size_t account_sz, char *err, size_t errsz);
int keyfile_from_env(const char *var, struct near_secret *out, char *err,
		     size_t errsz);

#endif
