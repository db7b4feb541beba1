/*
 * The neardata block API as a block source: GET {url}/v0/block/{h} (final) or
 * /v0/block_opt/{h} (optimistic), redirects followed, `null` = a skipped height, a 404
 * BLOCK_DOES_NOT_EXIST = not there yet; the head from the 302 of /v0/last_block/final (or /optimistic).
 * Several endpoints, used round robin; one that fails rests (exponentially longer) while
 * the others serve. The API key goes into the query string (?apiKey=), which survives
 * neardata's redirects, and never into logs or metrics.
 */
#ifndef MPCI_SOURCE_NEARDATA_H
#define MPCI_SOURCE_NEARDATA_H
#include <stddef.h>

#include "block_source.h"

struct ev_loop;
struct http_client;

struct nd_config {
	const char *const *urls;	/* NULL-terminated base URLs */
	const char *api_key;		/* NULL = none */
	double timeout;			/* per request, seconds (0 = 10) */
	double wait_timeout;		/* extra for a request that may wait at the head (0 = 15) */
	size_t max_size;		/* document limit in bytes (0 = 32 MiB) */
};

extern const struct bsrc_ops nd_ops;

/* The matcher is borrowed (the stream owns it). NULL and a message on bad URLs. */
void *nd_new(struct ev_loop *loop, struct http_client *http, const struct nd_config *cfg,
	     const struct mpc_matcher *matcher, char *err, size_t errsz);

#endif
