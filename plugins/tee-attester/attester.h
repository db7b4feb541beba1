/* The tee-attester plugin's state, shared by its lifecycle (plugin.c) and
 * its attestation cycle (cycle.c). */
#ifndef TEE_ATTESTER_H
#define TEE_ATTESTER_H

#include <stddef.h>
#include <stdint.h>

#include <mpc-indexer/plugin.h>

#include "cause.h"

enum tee_mode {
	TEE_MODE_DSTACK = 0,     /* quote from the dstack agent, submitted */
	TEE_MODE_MOCK = 1,       /* {"Mock":"Valid"}, submitted */
	TEE_MODE_DRY_RUN = 2,    /* quote from the agent, arguments printed */
};

struct tee_attempt;

struct tee {
	const struct mpci_host_api *api;
	mpci_plugin *self;

	/* configuration */
	int mode;
	char *dstack_socket;
	char *pccs_url;
	char *pccs_ca_file;
	char *signer;            /* [signer.NAME], NULL = the only one */
	char *account_id;        /* the signer's account, when known */
	char tls_pk_text[64];    /* "ed25519:..." */
	uint8_t tls_pk[32];
	char signer_pk_text[64];
	uint8_t signer_pk[32];
	double refresh_interval;
	double poll_interval;
	double confirm_timeout;
	double backoff_initial, backoff_max;
	double dstack_timeout, pccs_timeout;
	double collateral_max_age;
	char *dry_run_output;    /* "-" = stdout */

	/* metrics */
	mpci_metric *m_last_success;
	mpci_metric *m_expiry;
	mpci_metric *m_failures;
	mpci_metric *m_submissions;
	mpci_metric *m_attested;
	mpci_metric *m_allowed;

	/* what the contract shows */
	int listed;              /* -1 unknown, 0, 1: in get_tee_accounts */
	char *allowed_images;    /* last allowed_docker_image_hashes value */
	char *allowed_launchers; /* last allowed_launcher_compose_hashes value */

	/* the cycle */
	struct tee_attempt *at;  /* the attempt running, or NULL */
	mpci_timer *next;        /* when the next attempt starts */
	const char *next_reason;
	unsigned failures;       /* consecutive failed attempts */
	int stopping;
};

/* cycle.c */
/* Start an attempt after `delay` seconds (replacing any scheduled one). */
void tee_schedule(struct tee *t, double delay, const char *reason);
/* Cancel what is scheduled and what runs (stop()). */
void tee_cycle_stop(struct tee *t);

#endif
