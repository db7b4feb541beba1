/* The plugin host: loads the plugins named in the configuration, runs their
 * lifecycle, and connects them to the loop, the HTTP client, the metrics
 * registry and the event sources. */
#ifndef MPCI_HOST_H
#define MPCI_HOST_H

#include <stddef.h>
#include "config.h"
#include "provider.h"

struct ev_loop;
struct metrics;
struct http_client;
struct host;

struct host_opts {
	struct ev_loop *loop;
	struct cfg *cfg;
	struct metrics *metrics;
	struct http_client *http;
	struct provider provider;
	const char *state_dir;
	const char *plugin_dir;
	double slow_callback;       /* warn when a callback takes longer (s) */
};

/* Outcomes of loading and starting. */
enum host_rc {
	HOST_OK = 0,
	HOST_CONFIG = -1,           /* a plugin section is wrong: err is set */
	HOST_FATAL = -2,            /* a required plugin failed: it was logged */
};

struct host *host_new(const struct host_opts *o);
/* fini() every plugin in reverse order and unload it. */
void host_free(struct host *h);

/* The schema of the keys the host itself reads in every [plugin.NAME]. */
extern const struct cfg_key host_plugin_keys[];

/* Load every [plugin.NAME] section: open, check the ABI, validate its keys.
 * A refused optional plugin is logged and skipped. */
enum host_rc host_load_all(struct host *h, struct cfg_error *err);
/* init() then start() each plugin in file order. */
enum host_rc host_start_all(struct host *h);
/* stop() each running plugin in reverse order. */
void host_stop_all(struct host *h);

/* Plugins currently loaded (for status output and tests). */
size_t host_plugin_count(const struct host *h);
const char *host_plugin_name(const struct host *h, size_t i);

/* Swap in the event sources once they exist (before host_start_all). */
void host_set_provider(struct host *h, struct provider p);

/* Inspect one plugin file without a configuration: used by `plugins`.
 * Fills name/version/abi, returns 0 when it would load, else -1 and why. */
struct plugin_probe {
	char name[72];
	char version[64];
	char description[160];
	unsigned abi_major, abi_minor;
};
int host_probe(const char *path, struct plugin_probe *out, char *why, size_t n);

#endif
