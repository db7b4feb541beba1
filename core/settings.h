/* The daemon's own configuration sections and the check of a whole file. */
#ifndef MPCI_SETTINGS_H
#define MPCI_SETTINGS_H

#include "config.h"

extern const struct cfg_key settings_indexer_keys[];
extern const struct cfg_key settings_near_keys[];
extern const struct cfg_key settings_signer_keys[];
extern const struct cfg_key settings_view_keys[];   /* the state viewer */
extern const struct cfg_key settings_blocks_keys[]; /* the block stream */
extern const struct cfg_key settings_tx_keys[];     /* the transaction sender */

/* Check every section the core owns ([indexer], [near], [signer.*]) and
 * refuse unknown sections; [plugin.*] sections are left to the host. */
int settings_check(struct cfg *c, struct cfg_error *err);

/* Exit codes of the mpc-indexer command (documented in mpc-indexer(8)). */
enum exit_code {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,   /* failed while running */
	EXIT_USAGE = 2,     /* bad command line */
	EXIT_CONFIG = 3,    /* the configuration is wrong */
	EXIT_PLUGIN = 4,    /* a required plugin failed to load, init or start */
};

#endif
