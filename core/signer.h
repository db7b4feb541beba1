/* Transaction signers: a named account with its ed25519 key.  The secret lives
 * in locked, guarded memory (sodium_malloc), is wiped when the signer is freed
 * and never leaves this module except as a signature. */
#ifndef MPCI_SIGNER_H
#define MPCI_SIGNER_H

#include <stddef.h>
#include <stdint.h>
#include "near/keys.h"
#include "near/tx.h"

struct cfg;

struct signer {
	char *name;			/* [signer.NAME] */
	char *account_id;
	struct near_pubkey pk;
	char pk_str[NEAR_PUBKEY_STR_MAX];	/* "ed25519:..." */
	char *key_id;			/* "account_id:ed25519:..." (one access key) */
	int full_access;		/* -1 unknown, 0 function-call key, 1 full */
	struct near_secret *sk;		/* locked memory; private to signer.c */
};

/* A signer from a key file or an environment variable (exactly one of them).
 * account_id NULL: take it from the JSON key file.  The file must not be
 * readable by group or others.  Returns 0, or -1 with a message in err that
 * never contains key material. */
int signer_load(struct signer **out, const char *name, const char *account_id,
		const char *key_file, const char *key_env, char *err, size_t errsz);
void signer_free(struct signer *s);

/* Encode, hash and sign one FunctionCall transaction with the signer's key. */
int signer_sign_call(const struct signer *s, struct near_signed_tx *out,
		     uint64_t nonce, const char *receiver_id,
		     const uint8_t block_hash[NEAR_HASH_LEN],
		     const struct near_fc_action *act);

/* Every [signer.NAME] section of a checked configuration. */
struct signer_set {
	struct signer **v;
	size_t n;
};

int signer_set_load(struct signer_set *set, const struct cfg *cfg, char *err,
		    size_t errsz);
void signer_set_free(struct signer_set *set);
/* name NULL: the only signer (NULL when there are several or none). */
struct signer *signer_set_find(const struct signer_set *set, const char *name);

#endif
