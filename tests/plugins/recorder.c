/* Test plugin: uses every part of the host table and counts what reaches it
 * in metrics, so tests can check the dispatch from outside. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpc-indexer/plugin.h"

struct rec {
	const struct mpci_host_api *api;
	mpci_plugin *self;
	mpci_metric *events;
	mpci_metric *last_height;
	mpci_timer *timer;
	mpci_timer *self_stop;
	mpci_watch *watch;
	mpci_sub *state_sub;
	int pipefd[2];
	pthread_t thread;
	int thread_started;
	int ticks;
};

static void count(struct rec *r, const char *kind)
{
	const char *v[] = { kind, NULL };
	r->api->metric_add(r->events, v, 1);
}

static void on_state(const struct mpci_view_result *res, void *ud)
{
	struct rec *r = ud;
	count(r, res->ok ? "state" : "state_error");
	r->api->metric_set(r->last_height, NULL, (double)res->block_height);
	/* ending a subscription from inside its own callback must be safe */
	r->api->unsubscribe(r->state_sub);
	r->state_sub = NULL;
}

static void stop_myself(void *ud)
{
	struct rec *r = ud;
	count(r, "self_stop");
	r->api->timer_stop(r->self_stop);
	r->self_stop = NULL;
}

static void readable(int fd, int revents, void *ud)
{
	struct rec *r = ud;
	char b;
	if (read(fd, &b, 1) == 1)
		count(r, "fd");
	r->api->fd_unwatch(r->watch);
	r->watch = NULL;
}

static void on_block(const struct mpci_block *b, void *ud)
{
	struct rec *r = ud;
	count(r, "block");
	for (size_t i = 0; i < b->n_requests; i++)
		count(r, "request");
	for (size_t i = 0; i < b->n_completions; i++)
		count(r, "completion");
	r->api->metric_set(r->last_height, NULL, (double)b->height);
}

static void on_orphaned(uint64_t h, const char *hash, void *ud)
{
	count(ud, "orphaned");
}

static void on_finalized(uint64_t h, const char *hash, void *ud)
{
	count(ud, "finalized");
}

static void on_tx(const struct mpci_tx_result *res, void *ud)
{
	struct rec *r = ud;
	count(r, res->status == MPCI_TX_SUCCEEDED ? "tx_ok" : "tx_other");
}

static void on_view(const struct mpci_view_result *res, void *ud)
{
	count(ud, "view");
}

static void ud_freed(void *ud)
{
	struct rec *r = ud;
	count(r, "ud_free");
}

/* User data that outlives the plugin's state: the host frees it after fini(). */
struct tag {
	const struct mpci_host_api *api;
	mpci_metric *events;
};

static void tag_freed(void *ud)
{
	struct tag *t = ud;
	const char *v[] = { "ud_free", NULL };
	t->api->metric_add(t->events, v, 1);
	free(t);
}

static void on_block_tagged(const struct mpci_block *b, void *ud);

static void posted(void *ud)
{
	count(ud, "post");
}

static void *worker(void *ud)
{
	struct rec *r = ud;
	r->api->log(r->self, MPCI_LOG_INFO, "worker thread posting");
	r->api->post(r->self, posted, r);
	return NULL;
}

static void tick(void *ud)
{
	struct rec *r = ud;
	count(r, "timer");
	if (++r->ticks == 1) {
		struct mpci_tx_request tx = {
			.struct_size = sizeof(tx), .method = "respond",
			.args = "{}", .args_len = 2, .wait = MPCI_TX_WAIT,
		};
		struct mpci_view_spec spec = { .struct_size = sizeof(spec), .method = "version" };
		r->api->tx_submit(r->self, &tx, on_tx, r, NULL);
		r->api->view(r->self, &spec, on_view, r);
	}
}

/* The block handlers reach the state through this, not through their ud. */
static struct rec *block_owner;

static void on_block_tagged(const struct mpci_block *b, void *ud)
{
	on_block(b, block_owner);
}

static void on_orphaned_tagged(uint64_t h, const char *hash, void *ud)
{
	on_orphaned(h, hash, block_owner);
}

static void on_finalized_tagged(uint64_t h, const char *hash, void *ud)
{
	on_finalized(h, hash, block_owner);
}

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	static const char *const kind[] = { "kind", NULL };
	struct rec *r = calloc(1, sizeof(*r));
	double every = 0.01;
	if (!r)
		return MPCI_ERR_NOMEM;
	r->api = api;
	r->self = self;
	r->events = api->metric_counter(self, "test_recorder_events_total",
					"Events seen by the recorder plugin.", kind);
	r->last_height = api->metric_gauge(self, "test_recorder_height",
					   "Last height seen.", NULL);
	api->config_double(self, "tick", &every);
	struct mpci_view_spec spec = { .struct_size = sizeof(spec), .method = "state" };
	struct mpci_block_handlers h = { sizeof(h), on_block_tagged, on_orphaned_tagged,
					 on_finalized_tagged };
	/* A host without event sources answers UNSUPPORTED: go on without them. */
	int rs = api->subscribe_state(self, &spec, on_state, r, ud_freed, &r->state_sub);
	struct tag *tag = malloc(sizeof(*tag));
	if (!tag) {
		free(r);
		return MPCI_ERR_NOMEM;
	}
	*tag = (struct tag){ api, r->events };
	block_owner = r;
	int rb = api->subscribe_blocks(self, NULL, &h, tag, tag_freed, NULL);
	if ((rs != MPCI_OK && rs != MPCI_ERR_UNSUPPORTED) ||
	    (rb != MPCI_OK && rb != MPCI_ERR_UNSUPPORTED)) {
		free(r);
		return MPCI_ERR;
	}
	if (rs == MPCI_ERR_UNSUPPORTED || rb == MPCI_ERR_UNSUPPORTED)
		api->log(self, MPCI_LOG_WARN, "this host has no event sources; only timers run");
	r->timer = api->timer_start(self, every, every, tick, r);
	r->self_stop = api->timer_start(self, every, every, stop_myself, r);
	if (pipe(r->pipefd) == 0 && write(r->pipefd[1], "x", 1) == 1)
		r->watch = api->fd_watch(self, r->pipefd[0], 1, readable, r);
	*state = r;
	return MPCI_OK;
}

static int start(void *state)
{
	struct rec *r = state;
	r->thread_started = pthread_create(&r->thread, NULL, worker, r) == 0;
	return MPCI_OK;
}

static void stop(void *state)
{
	struct rec *r = state;
	if (r->thread_started)
		pthread_join(r->thread, NULL);
	r->thread_started = 0;
	count(r, "stop");
}

static void fini(void *state)
{
	struct rec *r = state;
	/* closing its own handles in fini() is allowed */
	if (r->timer)
		r->api->timer_stop(r->timer);
	if (r->state_sub) /* its user data is this state: end it while alive */
		r->api->unsubscribe(r->state_sub);
	block_owner = NULL;
	if (r->pipefd[0] > 0) {
		close(r->pipefd[0]);
		close(r->pipefd[1]);
	}
	free(r);
}

static const struct mpci_config_key keys[] = {
	{ "tick", MPCI_CFG_DURATION, "10ms", "timer period" },
	{ "label", MPCI_CFG_STR, NULL, "free text" },
	{ NULL, 0, NULL, NULL },
};

static const struct mpci_plugin_desc desc = {
	MPCI_DESC_HEADER,
	.name = "recorder",
	.version = "1.0",
	.description = "test plugin that records what it sees",
	.config = keys,
	.init = init,
	.start = start,
	.stop = stop,
	.fini = fini,
};
MPCI_PLUGIN(desc)
