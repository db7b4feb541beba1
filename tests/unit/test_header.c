/* The public header stands alone and its frozen prefixes never move. */
#include "mpc-indexer/plugin.h"
#include "../tap.h"

_Static_assert(offsetof(struct mpci_plugin_desc, struct_size) == 0, "desc size first");
_Static_assert(offsetof(struct mpci_plugin_desc, abi_major) == 4, "desc major");
_Static_assert(offsetof(struct mpci_plugin_desc, abi_minor) == 6, "desc minor");
_Static_assert(offsetof(struct mpci_plugin_desc, fingerprint) == 8, "desc fingerprint");
_Static_assert(offsetof(struct mpci_host_api, struct_size) == 0, "api size first");
_Static_assert(offsetof(struct mpci_host_api, log) == 8, "api log first");

int main(void)
{
	struct mpci_host_api api = { .struct_size = offsetof(struct mpci_host_api, now) };
	api.log = NULL;
	ok(!MPCI_API_HAS(&api, now), "an older table does not claim newer functions");
	api.struct_size = sizeof(api);
	ok(!MPCI_API_HAS(&api, now), "a NULL entry is not offered");
	is_int(MPCI_ABI_MAJOR, 1, "ABI major is 1");
	ok(MPCI_FINGERPRINT != 0, "the fingerprint is non-zero");
	return done_testing();
}
