/* The bridge's outgoing JSON: block updates and state notifications (rendered
 * once, shared by every client), and the bodies of view, transaction and
 * status results. */
#ifndef BRIDGE_RENDER_H
#define BRIDGE_RENDER_H

#include <stdint.h>

#include "mpc-indexer/plugin.h"

struct jbuf;
struct bmsg;

/* Block updates carry the seq the ring will give them. */
struct bmsg *render_block(const struct mpci_block *b, uint64_t seq);
struct bmsg *render_orphaned(uint64_t seq, uint64_t height, const char *hash);
struct bmsg *render_finalized(uint64_t seq, uint64_t height, const char *hash);
struct bmsg *render_state(const char *method, const struct mpci_view_result *r);
/* {"ok":..,"value":..,"height":..,"hash":..} */
void render_view_body(struct jbuf *b, const struct mpci_view_result *r);
void render_tx_body(struct jbuf *b, const struct mpci_tx_result *r);
const char *render_request_kind(int kind);
const char *render_tx_status(int status);

#endif
