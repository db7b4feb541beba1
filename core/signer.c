/* Signers from [signer.NAME] sections, key files and the environment. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "keyfile.h"
#include "near/account_id.h"
#include "signer.h"

void signer_free(struct signer *s)
{
	if (!s)
		return;
	if (s->sk)
		sodium_free(s->sk); /* wipes, unlocks and unmaps */
	free(s->name);
	free(s->account_id);
	free(s->key_id);
	free(s);
}

int signer_load(struct signer **out, const char *name, const char *account_id,
		const char *key_file, const char *key_env, char *err, size_t errsz)
{
	char file_account[NEAR_ACCOUNT_ID_MAX + 2] = "";
	struct signer *s;
	int rc;

	*out = NULL;
	if (!name || !*name) {
		snprintf(err, errsz, "a signer needs a name");
		return -1;
	}
	if (!key_file == !key_env) {
		snprintf(err, errsz, "signer %s: set exactly one of a key file and a key environment variable", name);
		return -1;
	}
	if (sodium_init() < 0) {
		snprintf(err, errsz, "signer %s: libsodium cannot initialise", name);
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name))) {
		free(s);
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	s->full_access = -1;
	/* Guarded, mlock()ed pages: the key is never swapped out. */
	s->sk = sodium_malloc(sizeof(*s->sk));
	if (!s->sk) {
		snprintf(err, errsz, "signer %s: cannot allocate locked memory for the key", name);
		signer_free(s);
		return -1;
	}
	if (key_file)
		rc = keyfile_load(key_file, s->sk, file_account, sizeof(file_account),
				  err, errsz);
	else
		rc = keyfile_from_env(key_env, s->sk, err, errsz);
	if (rc < 0) {
		signer_free(s);
		return -1;
	}
	if (!account_id || !*account_id) {
		if (!file_account[0]) {
			snprintf(err, errsz, "signer %s: no account id given and the key file names none", name);
			signer_free(s);
			return -1;
		}
		account_id = file_account;
	}
	if (!near_account_id_valid(account_id, strlen(account_id))) {
		snprintf(err, errsz, "signer %s: '%.80s' is not a valid NEAR account id", name, account_id);
		signer_free(s);
		return -1;
	}
	near_secret_pubkey(&s->pk, s->sk);
	near_pubkey_format(s->pk_str, &s->pk);
	size_t n = strlen(account_id) + 1 + strlen(s->pk_str) + 1;
	if (!(s->account_id = strdup(account_id)) || !(s->key_id = malloc(n))) {
		snprintf(err, errsz, "out of memory");
		signer_free(s);
		return -1;
	}
	snprintf(s->key_id, n, "%s:%s", account_id, s->pk_str);
	*out = s;
	return 0;
}

int signer_sign_call(const struct signer *s, struct near_signed_tx *out,
		     uint64_t nonce, const char *receiver_id,
		     const uint8_t block_hash[NEAR_HASH_LEN],
		     const struct near_fc_action *act)
{
	return near_tx_sign(out, s->account_id, &s->pk, nonce, receiver_id,
			    block_hash, act, 1, s->sk);
}

int signer_set_load(struct signer_set *set, const struct cfg *cfg, char *err,
		    size_t errsz)
{
	memset(set, 0, sizeof(*set));
	for (size_t i = 0; i < cfg_section_count(cfg); i++) {
		const char *sec = cfg_section_name(cfg, i);
		if (strncmp(sec, "signer.", 7) != 0 || !sec[7])
			continue;
		struct signer *s, **v;
		if (signer_load(&s, sec + 7, cfg_get(cfg, sec, "account_id"),
				cfg_get(cfg, sec, "key_file"),
				cfg_get(cfg, sec, "key_env"), err, errsz) < 0) {
			signer_set_free(set);
			return -1;
		}
		v = realloc(set->v, (set->n + 1) * sizeof(*v));
		if (!v) {
			signer_free(s);
			signer_set_free(set);
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		set->v = v;
		set->v[set->n++] = s;
	}
	return 0;
}

void signer_set_free(struct signer_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		signer_free(set->v[i]);
	free(set->v);
	memset(set, 0, sizeof(*set));
}

struct signer *signer_set_find(const struct signer_set *set, const char *name)
{
	if (!name)
		return set->n == 1 ? set->v[0] : NULL;
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i]->name, name) == 0)
			return set->v[i];
	return NULL;
}
