/* A host for the tee-attester plugin on a manual clock: the real plugin
 * (dlopen'ed) gets a function table whose timers fire only when the
 * test advances the clock, and whose HTTP, views and transactions are
 * answered by the test's responders.  Everything is recorded for asserts. */
#ifndef TEST_TEE_HOST_H
#define TEST_TEE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "mpc-indexer/plugin.h"

/* A request as the plugin made it (strings copied). */
struct fh_http {
	char *method, *url, *unix_socket, *body;
	size_t body_len;
	double at;                  /* the clock when it was made */
};
struct fh_reply {
	int status;
	const char *error;          /* status 0 */
	const char *body;
	size_t body_len;
	const struct mpci_http_header *headers;  /* ABI 1.1 response headers */
	size_t n_headers;
};
struct fh_tx {
	char *signer, *method, *args, *deposit;
	uint64_t gas;
	int wait;
	double at;
};
struct fh_tx_reply {
	int status;                 /* enum mpci_tx_status */
	const char *error;
};
struct fh_view_reply {
	int ok;
	const char *value;          /* or the error when !ok */
};

struct fh_config {
	const char *key, *value;
};

struct fh {
	/* set by the test before fh_load */
	const struct fh_config *config;       /* {NULL} terminated */
	int signer_rc;                        /* signer_info result */
	const char *signer_account, *signer_pk;
	int no_sources;                       /* views, tx, subscribe: UNSUPPORTED */
	int abi10_responses;                  /* HTTP responses end where 1.0's did */
	void (*http_respond)(struct fh *h, const struct fh_http *req, struct fh_reply *out);
	void (*view_respond)(struct fh *h, const char *method, const char *args,
			     struct fh_view_reply *out);
	void (*tx_respond)(struct fh *h, const struct fh_tx *tx, struct fh_tx_reply *out);
	void *test;                           /* the test's own data */

	/* recorded */
	double now;
	struct fh_http http[256];
	int n_http;
	struct fh_tx tx[64];
	int n_tx;
	int n_views;
	char *logs[512];
	int n_logs;
};

/* Open the plugin, init() and start() it.  Returns init's result. */
int fh_load(struct fh *h, const char *so_path);
/* Deliver everything pending and every timer due now. */
void fh_run(struct fh *h);
/* Move the clock forward, firing timers at their due times. */
void fh_advance(struct fh *h, double seconds);
/* Push a value (or error) to the plugin's subscribers of `method` (the
 * loop does not run: fh_run). */
void fh_publish(struct fh *h, const char *method, int ok, const char *value);
/* The update poll interval the plugin asked for `method` (-1: none). */
double fh_sub_interval(struct fh *h, const char *method);
/* stop(), fini(), dlclose and free what was recorded.  Returns the timers
 * the plugin still held after stop() (a clean stop leaves none). */
int fh_unload(struct fh *h);

/* A metric's value (0 when unset); label_value NULL for unlabelled. */
double fh_metric(struct fh *h, const char *name, const char *label_value);
/* Did any log line contain needle? */
int fh_logged(struct fh *h, const char *needle);

#endif
