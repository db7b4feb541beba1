/* Test plugin: claims a future major ABI; the host must refuse it. */
#include "mpc-indexer/plugin.h"

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	return MPCI_OK;
}

static const struct mpci_plugin_desc desc = {
	.struct_size = sizeof(struct mpci_plugin_desc),
	.abi_major = MPCI_ABI_MAJOR + 1,
	.abi_minor = 0,
	.fingerprint = MPCI_FINGERPRINT,
	.name = "abi_bad_major",
	.version = "1",
	.init = init,
};
MPCI_PLUGIN(desc)
