/* Is a plugin's descriptor one this host can use?  Kept apart from loading so
 * that the exact refusal messages can be tested without shared objects. */
#ifndef MPCI_PLUGIN_ABI_H
#define MPCI_PLUGIN_ABI_H

#include <stddef.h>
#include "mpc-indexer/plugin.h"

/* The smallest descriptor any released ABI 1.x plugin can have. */
#define PLUGIN_DESC_MIN_SIZE \
	(offsetof(struct mpci_plugin_desc, fini) + sizeof(void (*)(void *)))

/* 0 when usable; otherwise -1 and one sentence in why. */
int plugin_abi_check(const struct mpci_plugin_desc *d, char *why, size_t n);

#endif
