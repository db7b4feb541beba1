/* What the monitor reads from the MPC contract's view methods: the
 * protocol state (`state`) and the lists around it (allowed hashes, TEE
 * accounts, migrations, attestations, version).  Parsers only: the caller
 * turns the facts into metrics.  Unknown keys are ignored, known optional
 * ones may be absent; anything else malformed is an error naming the path. */
#ifndef PROM_CONTRACT_H
#define PROM_CONTRACT_H

#include <stddef.h>
#include <stdint.h>

enum contract_phase {
	CONTRACT_NOT_INITIALIZED = 0,
	CONTRACT_INITIALIZING = 1,
	CONTRACT_RUNNING = 2,
	CONTRACT_RESHARING = 3,
	CONTRACT_N_PHASES
};

/* "NotInitialized", "Initializing", "Running", "Resharing" */
extern const char *const contract_phase_names[CONTRACT_N_PHASES];

#define CONTRACT_MAX_ACCOUNT 64
#define CONTRACT_MAX_URL 512
#define CONTRACT_MAX_KEY 128
#define CONTRACT_MAX_NAME 40

struct contract_participant {
	char account[CONTRACT_MAX_ACCOUNT + 1];
	uint32_t id;
	char url[CONTRACT_MAX_URL + 1];         /* truncated when longer */
	char tls_key[CONTRACT_MAX_KEY + 1];
};

struct contract_domain {
	uint64_t id;
	char protocol[CONTRACT_MAX_NAME + 1];   /* "" when absent (old shapes) */
	char purpose[CONTRACT_MAX_NAME + 1];
	uint64_t reconstruction_threshold;
	int has_threshold;
	int has_key;                            /* in the keyset in use */
	uint64_t attempt;                       /* the key's attempt */
};

struct contract_state {
	int phase;                              /* enum contract_phase */
	/* The keyset and parameters in use: Running's own; Resharing's
	 * previous running state; Initializing's epoch and generating set. */
	uint64_t epoch;
	uint64_t threshold;
	struct contract_participant *participants;
	size_t n_participants;
	struct contract_domain *domains;
	size_t n_domains;
	/* The key event of Initializing (key generation) or Resharing. */
	int has_key_event;
	uint64_t ke_epoch;
	uint64_t ke_domain;
	uint64_t ke_attempt;                    /* running instance, else next */
	int ke_started;                         /* instance running at the height */
	uint64_t ke_threshold;
	size_t ke_participants;
	size_t ke_keys_done;                    /* generated_keys / reshared_keys */
	/* open votes */
	size_t votes_parameters, votes_add_domains, votes_cancel;
};

/* Parse `state`.  `height` is where it was observed (decides whether a key
 * event instance is still running).  0, or -1 and err names the place.
 * Free with contract_state_free (also after a failure). */
int contract_parse_state(const char *json, size_t len, uint64_t height,
			 struct contract_state *out, char *err, size_t errsz);
void contract_state_free(struct contract_state *s);

/* allowed_docker_image_hashes (objects with expiry >= 3.14, plain strings
 * before) and allowed_launcher_compose_hashes.  *min_expiry / *max_expiry
 * are 0 when no entry has one. */
int contract_parse_hashes(const char *json, size_t len, size_t *count,
			  double *min_expiry, double *max_expiry, char *err,
			  size_t errsz);

/* get_tee_accounts: the account ids (NUL-separated, malloc'd in *accounts). */
int contract_parse_tee_accounts(const char *json, size_t len, size_t *count,
				char **accounts, char *err, size_t errsz);

/* migration_info: registered backup services and ongoing migrations. */
int contract_parse_migrations(const char *json, size_t len, size_t *backups,
			      size_t *migrations, char *err, size_t errsz);

/* get_attestation: *present 0 for null; *expiry 0 when it has none (Mock). */
int contract_parse_attestation(const char *json, size_t len, int *present,
			       double *expiry, char *err, size_t errsz);

/* version: a JSON string, copied into out. */
int contract_parse_version(const char *json, size_t len, char *out,
			   size_t outsz, char *err, size_t errsz);

#endif
