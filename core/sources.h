/* The daemon's event sources: the RPC client, the state viewer, the block
 * stream and the transaction sender, offered to the plugin host as one
 * provider.  A source whose endpoints are not configured is simply absent,
 * and plugins asking for it get MPCI_ERR_UNSUPPORTED. */
#ifndef MPCI_SOURCES_H
#define MPCI_SOURCES_H

#include "config.h"
#include "provider.h"

struct ev_loop;
struct http_client;
struct metrics;
struct sources;

/* -1 and a message naming file:line when [near], [view] or [tx] holds a value
 * the sources would refuse at start (check-config and run both ask first). */
int sources_check_config(const struct cfg *cfg, char *err, size_t errsz);
/* NULL and a message when a configured source cannot be set up. */
struct sources *sources_new(struct ev_loop *loop, struct http_client *http,
			    struct metrics *reg, const struct cfg *cfg,
			    const char *state_dir, char *err, size_t errsz);
struct provider sources_provider(struct sources *s);
/* After the plugins have subscribed: replay the journal, start streaming. */
int sources_start(struct sources *s);
/* Shutdown begins: persist the cursor, take no new transactions. */
void sources_stop(struct sources *s);
/* After the host is gone: pending transaction callbacks are rejected. */
void sources_free(struct sources *s);

#endif
