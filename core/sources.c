/* Gluing the sources to the provider interface the host calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockstream.h"
#include "log.h"
#include "rpc.h"
#include "sources.h"
#include "txsend.h"
#include "viewer.h"

#define S_LOG "sources"

struct sources {
	const struct cfg *cfg;
	struct rpc *rpc;
	struct viewer *viewer;
	struct blockstream *blocks;
	struct txsend *tx;
	double max_lag;
};

static void *op_state_subscribe(void *src, const struct mpci_view_spec *spec,
				provider_view_fn deliver, void *ctx, char *err,
				size_t errsz)
{
	return viewer_subscribe(((struct sources *)src)->viewer, spec, deliver,
				ctx, err, errsz);
}

static void op_state_unsubscribe(void *src, void *handle)
{
	viewer_unsubscribe(((struct sources *)src)->viewer, handle);
}

static int op_view(void *src, const struct mpci_view_spec *spec,
		   provider_view_fn deliver, void *ctx)
{
	return viewer_view(((struct sources *)src)->viewer, spec, deliver, ctx);
}

static void *op_blocks_subscribe(void *src, const struct mpci_block_sub *sub,
				 const struct provider_block_sink *sink, void *ctx,
				 char *err, size_t errsz)
{
	return blockstream_subscribe(((struct sources *)src)->blocks, sub, sink,
				     ctx, err, errsz);
}

static void op_blocks_unsubscribe(void *src, void *handle)
{
	blockstream_unsubscribe(((struct sources *)src)->blocks, handle);
}

static int op_tx_submit(void *src, const struct mpci_tx_request *req,
			provider_tx_fn done, void *ctx, uint64_t *id, char *err,
			size_t errsz)
{
	return txsend_submit(((struct sources *)src)->tx, req, done, ctx, id,
			     err, errsz);
}

static int op_signer_info(void *src, const char *name,
			  struct mpci_signer_info *out)
{
	return txsend_signer_info(((struct sources *)src)->tx, name, out);
}

static void op_status(void *src, struct mpci_status *out)
{
	struct sources *s = src;
	out->chain_id = cfg_get(s->cfg, "near", "chain_id");
	out->contract = cfg_get(s->cfg, "near", "contract");
	if (s->blocks) {
		blockstream_status(s->blocks, out);
		out->following = out->processed_height > 0 &&
				 out->lag_seconds <= s->max_lag;
	} else if (s->rpc) {
		out->final_height = rpc_best_final_height(s->rpc);
	}
	if (s->tx)
		out->tx_queue_length = txsend_queue_length(s->tx);
}


struct provider sources_provider(struct sources *s)
{
	static struct provider_ops ops;
	ops = (struct provider_ops){
		.state_subscribe = s->viewer ? op_state_subscribe : NULL,
		.state_unsubscribe = s->viewer ? op_state_unsubscribe : NULL,
		.view = s->viewer ? op_view : NULL,
		.blocks_subscribe = s->blocks ? op_blocks_subscribe : NULL,
		.blocks_unsubscribe = s->blocks ? op_blocks_unsubscribe : NULL,
		.tx_submit = s->tx ? op_tx_submit : NULL,
		.signer_info = s->tx ? op_signer_info : NULL,
		.status = op_status,
	};
	return (struct provider){ &ops, s };
}

static int has_list(const struct cfg *cfg, const char *key)
{
	char **l = NULL;
	size_t n = cfg_get_list(cfg, "near", key, &l);
	cfg_list_free(l);
	return n > 0;
}

int sources_check_config(const struct cfg *cfg, char *err, size_t errsz)
{
	if (!has_list(cfg, "rpc_urls"))
		return 0;
	return rpc_check_config(cfg, err, errsz) < 0 || viewer_check_config(cfg, err, errsz) < 0 ||
	       txsend_check_config(cfg, err, errsz) < 0 ? -1 : 0;
}

struct sources *sources_new(struct ev_loop *loop, struct http_client *http,
			    struct metrics *reg, const struct cfg *cfg,
			    const char *state_dir, char *err, size_t errsz)
{
	struct sources *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	s->cfg = cfg;
	if (cfg_get_duration(cfg, "indexer", "max_lag", &s->max_lag) < 0)
		s->max_lag = 30;
	if (has_list(cfg, "rpc_urls")) {
		if (!(s->rpc = rpc_new(loop, http, reg, cfg, err, errsz)) ||
		    !(s->viewer = viewer_new(loop, s->rpc, cfg, reg, err, errsz)) ||
		    !(s->tx = txsend_new(loop, s->rpc, cfg, reg, state_dir, err, errsz)))
			goto fail;
	} else {
		log_warn(S_LOG, "[near] rpc_urls is empty: no state views and no transactions");
	}
	if (has_list(cfg, "block_urls") || s->rpc) {
		s->blocks = blockstream_new(loop, http, s->rpc, cfg, reg, state_dir,
					    err, errsz);
		if (!s->blocks)
			goto fail;
	} else {
		log_warn(S_LOG, "[near] block_urls and rpc_urls are empty: no block stream");
	}
	return s;
fail:
	sources_free(s);
	return NULL;
}

int sources_start(struct sources *s)
{
	if (s->tx && txsend_start(s->tx) < 0)
		return -1;
	if (s->blocks && blockstream_start(s->blocks) < 0)
		return -1;
	return 0;
}

void sources_stop(struct sources *s)
{
	if (s->blocks)
		blockstream_stop(s->blocks);
	if (s->tx)
		txsend_stop(s->tx);
}

void sources_free(struct sources *s)
{
	if (!s)
		return;
	if (s->tx)
		txsend_free(s->tx);
	if (s->blocks)
		blockstream_free(s->blocks);
	if (s->viewer)
		viewer_free(s->viewer);
	if (s->rpc)
		rpc_free(s->rpc);
	free(s);
}
