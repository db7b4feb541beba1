/* The event sources behind the plugin API: the state viewer, the block stream
 * and the transaction sender implement these operations; the host routes
 * plugin calls to them and their events back to plugins.  Tests plug in a
 * scripted source instead. */
#ifndef MPCI_PROVIDER_H
#define MPCI_PROVIDER_H

#include <stddef.h>
#include "mpc-indexer/plugin.h"

typedef void (*provider_view_fn)(void *ctx, const struct mpci_view_result *r);
typedef void (*provider_tx_fn)(void *ctx, const struct mpci_tx_result *r);

/* Where a block subscription's events go. */
struct provider_block_sink {
	void (*block)(void *ctx, const struct mpci_block *b);
	void (*orphaned)(void *ctx, uint64_t height, const char *hash);
	void (*finalized)(void *ctx, uint64_t height, const char *hash);
};

/* Every operation may be NULL: the plugin then gets MPCI_ERR_UNSUPPORTED.
 * Subscribe calls return a handle (NULL and a message on failure); the
 * source delivers until unsubscribe and never after it. */
struct provider_ops {
	void *(*state_subscribe)(void *src, const struct mpci_view_spec *spec,
				 provider_view_fn deliver, void *ctx,
				 char *err, size_t errsz);
	void (*state_unsubscribe)(void *src, void *handle);
	int (*view)(void *src, const struct mpci_view_spec *spec,
		    provider_view_fn deliver, void *ctx);
	void *(*blocks_subscribe)(void *src, const struct mpci_block_sub *sub,
				  const struct provider_block_sink *sink,
				  void *ctx, char *err, size_t errsz);
	void (*blocks_unsubscribe)(void *src, void *handle);
	/* done runs exactly once, never from inside tx_submit */
	int (*tx_submit)(void *src, const struct mpci_tx_request *req,
			 provider_tx_fn done, void *ctx, uint64_t *id,
			 char *err, size_t errsz);
	int (*signer_info)(void *src, const char *name,
			   struct mpci_signer_info *out);
	void (*status)(void *src, struct mpci_status *out);
};

struct provider {
	const struct provider_ops *ops;
	void *src;
};

#endif
