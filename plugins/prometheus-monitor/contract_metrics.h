/* The contract's facts as mpc_indexer_contract_* series: each view answer
 * updates its families, and series of things that went away (a participant
 * that left, a finished key event) are removed, not left stale. */
#ifndef PROM_CONTRACT_METRICS_H
#define PROM_CONTRACT_METRICS_H

#include "contract.h"
#include "mpc-indexer/plugin.h"

struct cmetrics;

/* The views the monitor subscribes to, in this order. */
extern const char *const cmetrics_views[];
#define CMETRICS_N_VIEWS 6

struct cmetrics *cmetrics_new(const struct mpci_host_api *api, mpci_plugin *self);
void cmetrics_free(struct cmetrics *cm);

/* A state subscription delivered a value or an error for one of cmetrics_views. */
void cmetrics_view(struct cmetrics *cm, const struct mpci_view_result *r);
/* A get_attestation answer for a participant's account. */
void cmetrics_attestation(struct cmetrics *cm, const char *account,
			  const struct mpci_view_result *r);

/* The newest parsed state (phase -1 when none yet). */
const struct contract_state *cmetrics_state(const struct cmetrics *cm);

#endif
