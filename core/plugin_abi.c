/* Version negotiation: major must match, minor must not be newer (Varnish's
 * rule), and the plugin's compiler must agree with ours on the basic sizes. */
#include <stdio.h>
#include <string.h>

#include "plugin_abi.h"

static int name_ok(const char *s)
{
	size_t n = 0;
	if (!s || !*s)
		return 0;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
		      s[n] == '-' || s[n] == '_'))
			return 0;
	return n <= 64;
}

int plugin_abi_check(const struct mpci_plugin_desc *d, char *why, size_t n)
{
	if (!d) {
		snprintf(why, n, "its entry function returned no descriptor");
		return -1;
	}
	if (d->abi_major != MPCI_ABI_MAJOR) {
		snprintf(why, n,
			 "it was built for plugin ABI %u.%u but this host speaks %d.%d; "
			 "the major versions differ, so rebuild it against plugin.h %d.x",
			 d->abi_major, d->abi_minor, MPCI_ABI_MAJOR, MPCI_ABI_MINOR,
			 MPCI_ABI_MAJOR);
		return -1;
	}
	if (d->abi_minor > MPCI_ABI_MINOR) {
		snprintf(why, n,
			 "it needs plugin ABI %u.%u but this host offers only %d.%d; "
			 "upgrade mpc-indexer or use a plugin built for %d.%d",
			 d->abi_major, d->abi_minor, MPCI_ABI_MAJOR, MPCI_ABI_MINOR,
			 MPCI_ABI_MAJOR, MPCI_ABI_MINOR);
		return -1;
	}
	if (d->struct_size < PLUGIN_DESC_MIN_SIZE) {
		snprintf(why, n, "its descriptor is %u bytes, smaller than any ABI %d.x descriptor (%zu)",
			 d->struct_size, MPCI_ABI_MAJOR, (size_t)PLUGIN_DESC_MIN_SIZE);
		return -1;
	}
	if (d->fingerprint != MPCI_FINGERPRINT) {
		snprintf(why, n,
			 "it was compiled for another platform (type-size fingerprint %#x, host %#x)",
			 d->fingerprint, (unsigned)MPCI_FINGERPRINT);
		return -1;
	}
	if (!name_ok(d->name)) {
		snprintf(why, n, "its name is missing or not [a-z0-9_-]{1,64}");
		return -1;
	}
	if (!d->version || !*d->version) {
		snprintf(why, n, "it declares no version");
		return -1;
	}
	if (!d->init) {
		snprintf(why, n, "it has no init function");
		return -1;
	}
	return 0;
}
