/* What the backup service reads from the MPC contract's `state` and
 * `migration_info` views (reference: backup-and-tee.md §1.3-1.4). */
#ifndef BACKUP_CONTRACT_H
#define BACKUP_CONTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "backup_store.h"
#include "edkey.h"

#define CONTRACT_URL_MAX 512

enum contract_protocol {
	PROTO_UNKNOWN = 0,
	PROTO_NOT_INITIALIZED,
	PROTO_INITIALIZING,
	PROTO_RUNNING,
	PROTO_RESHARING,
};

struct contract_state {
	int protocol;               /* enum contract_protocol */
	/* The keyset the node holds: Running.keyset, or during a resharing
	 * Resharing.previous_running_state.keyset. */
	int has_keyset;
	uint64_t epoch_id;
	size_t n_domains;           /* sorted by domain_id */
	struct backup_domain domains[BACKUP_MAX_DOMAINS];
	char *keyset_json;          /* malloc'd, the keyset object as JSON */
	/* this account's participant entry in the same running state */
	int participant;
	char url[CONTRACT_URL_MAX];
	uint8_t tls_public_key[EDKEY_PUB];
};

struct contract_migration {
	int has_backup;             /* migration_info[account][0] */
	uint8_t backup_public_key[EDKEY_PUB];
	int has_destination;        /* migration_info[account][1] */
	uint8_t destination_tls_key[EDKEY_PUB];
	char destination_url[CONTRACT_URL_MAX];
};

/* Parse the raw `state` result for `account`.  0 or -1 with why. */
int contract_parse_state(const char *json, size_t len, const char *account,
			 struct contract_state *out, char *err, size_t errsz);
void contract_state_clear(struct contract_state *s);
const char *contract_protocol_name(int protocol);

/* Parse the raw `migration_info` result for `account` (absent: all zero). */
int contract_parse_migration(const char *json, size_t len, const char *account,
			     struct contract_migration *out, char *err, size_t errsz);

/* The host of an http(s) URL ("[::1]" comes back as "::1").  0 or -1. */
int contract_url_host(const char *url, char *host, size_t n);

/* Does a stored backup (epoch, domains) cover the state's keyset?  Stored
 * epoch newer, or the same epoch with every keyset domain present. */
int contract_covered(const struct contract_state *s, const struct backup_info *stored);

#endif
