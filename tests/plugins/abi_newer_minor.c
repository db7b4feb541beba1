/* Test plugin: needs a newer minor ABI than the host has; must be refused. */
#include "mpc-indexer/plugin.h"

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	return MPCI_OK;
}

static const struct mpci_plugin_desc desc = {
	.struct_size = sizeof(struct mpci_plugin_desc),
	.abi_major = MPCI_ABI_MAJOR,
	.abi_minor = MPCI_ABI_MINOR + 1,
	.fingerprint = MPCI_FINGERPRINT,
	.name = "abi_newer_minor",
	.version = "1",
	.init = init,
};
MPCI_PLUGIN(desc)
