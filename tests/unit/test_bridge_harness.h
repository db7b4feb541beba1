/* In-process harness for the mpc-node-bridge tests and benchmark: the real
 * plugin host with a scripted event source, and socket clients driven from
 * the same loop. */
#ifndef TEST_BRIDGE_HARNESS_H
#define TEST_BRIDGE_HARNESS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "mpc-indexer/plugin.h"
#include "provider.h"

struct ev_loop;

#define BH_MAX 64

struct bh_view {
	provider_view_fn deliver;
	void *ctx;
	char method[64];
	char args[256];
};

struct bh_tx {
	provider_tx_fn done;
	void *ctx;
	uint64_t id;
	char method[64];
	char args[512];
	int wait;
};

/* What the plugin asked of the scripted source. */
struct bh_src {
	struct {
		char method[64];
		provider_view_fn deliver;
		void *ctx;
	} state[8];
	int n_state;
	const struct provider_block_sink *sink;
	void *block_ctx;
	struct mpci_block_sub block_sub;
	struct bh_view views[BH_MAX];
	int n_views;
	struct bh_tx txs[BH_MAX];
	int n_txs;
	int tx_refuse;              /* tx_submit answers this when nonzero */
	int no_sources;             /* offer nothing: MPCI_ERR_UNSUPPORTED */
	uint64_t head, final;
};
extern struct bh_src BH;

struct bh_world {
	struct ev_loop *loop;
	struct metrics *reg;
	struct http_client *http;
	struct cfg *cfg;
	struct host *host;
	char dir[64];
	char sock[128];
	char log[128];
	int started;
};

/* Write a config with the plugin section plus `keys` ("k = v\n" lines),
 * load and start the host.  Returns host_start_all's code (0 = running). */
int bh_up(struct bh_world *w, const char *keys);
void bh_down(struct bh_world *w);
int bh_log_has(struct bh_world *w, const char *needle);
void bh_pump(struct bh_world *w);

/* Scripted events.  `pad` bytes of args make blocks bigger. */
void bh_emit_block(uint64_t height, int n_requests, int n_completions, size_t pad);
void bh_emit_orphaned(uint64_t height);
void bh_emit_finalized(uint64_t height);
void bh_emit_state(const char *method, const char *value, uint64_t height);

struct bh_client {
	int fd;
	char *buf;
	size_t len, cap;
	int eof;
};

int bh_connect(struct bh_client *c, const char *path);
void bh_close(struct bh_client *c);
int bh_send(struct bh_client *c, const char *line);
/* The next line as JSON (pumping the loop meanwhile); NULL on EOF or after
 * `max_wait` seconds without one. */
cJSON *bh_recv(struct bh_world *w, struct bh_client *c, double max_wait);
/* Send {"jsonrpc":"2.0","id":N,"method":M,"params":P} and return the next
 * line (the caller knows nothing else is due). */
cJSON *bh_call(struct bh_world *w, struct bh_client *c, const char *method,
	       const char *params);
/* hello with version 1; returns 1 when accepted. */
int bh_hello(struct bh_world *w, struct bh_client *c);
/* Is the connection closed by the server (after draining what it sent)? */
int bh_wait_eof(struct bh_world *w, struct bh_client *c, double max_wait);

/* Accessors. */
int bh_err_code(const cJSON *resp);      /* 0 when it is not an error */
const char *bh_method(const cJSON *msg); /* notification method or NULL */
double bh_num(const cJSON *obj, const char *path); /* "a.b.c" */
const char *bh_str(const cJSON *obj, const char *path);

#endif
