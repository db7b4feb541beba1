/* Attestation expiry per participant: get_attestation is a view with an
 * argument (the participant's TLS key) over a changing participant set, so
 * it is polled with one-shot views on a timer rather than subscribed. */
#ifndef PROM_ATTEST_H
#define PROM_ATTEST_H

#include "contract_metrics.h"
#include "mpc-indexer/plugin.h"

struct attest;

/* interval: seconds between rounds (> 0).  One round at a time. */
struct attest *attest_new(const struct mpci_host_api *api, mpci_plugin *self,
			  struct cmetrics *cm, double interval);
/* No new rounds (answers still in flight are still used). */
void attest_stop(struct attest *a);
void attest_free(struct attest *a);

#endif
