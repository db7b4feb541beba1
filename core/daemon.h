/* Running the daemon: the loop, the plugins, signals and an orderly shutdown. */
#ifndef MPCI_DAEMON_H
#define MPCI_DAEMON_H

#include "config.h"

/* Returns an exit code (settings.h).  With check_only, stop after loading
 * and checking every plugin, before any of them is initialised. */
int daemon_run(struct cfg *cfg, int check_only);

#endif
