/* Test plugin: built for the previous minor ABI (1.0); the host loads it. */
#include "mpc-indexer/plugin.h"

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	api->log(self, MPCI_LOG_INFO, "an ABI %d.%d plugin runs", MPCI_ABI_MAJOR,
		 MPCI_ABI_MINOR - 1);
	return MPCI_OK;
}

static const struct mpci_plugin_desc desc = {
	.struct_size = sizeof(struct mpci_plugin_desc),
	.abi_major = MPCI_ABI_MAJOR,
	.abi_minor = MPCI_ABI_MINOR - 1,
	.fingerprint = MPCI_FINGERPRINT,
	.name = "abi_older_minor",
	.version = "1",
	.init = init,
};
MPCI_PLUGIN(desc)
