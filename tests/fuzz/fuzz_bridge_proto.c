/* libFuzzer target: the mpc-node-bridge as a client sees it.  The real plugin
 * (bridge.c, client.c, proto.c and the rest, unchanged) runs on a minimal host
 * table; the fuzz input is what one client writes to the real Unix socket:
 * newline-delimited requests, batches, oversized lines, bad params for every
 * method.  Views and transactions complete (or fail, or are refused) as the
 * first bytes say, a view answering with the args it was given so that the
 * client controls what the bridge renders back.
 *
 * Input: byte 0 = host flags, byte 1 = limits, then the client's bytes.
 * Oracle: the plugin neither crashes nor leaks, and every line it writes is
 * strict JSON (a Python or Rust client must be able to read it). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mpc-indexer/plugin.h"
#include "fuzz_strict_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const struct mpci_plugin_desc *mpci_plugin_entry(void);

/* ---- the host ---- */

struct fwatch {
	int used, fd, events;
	void (*cb)(int fd, int revents, void *ud);
	void *ud;
};

struct fop {
	int is_tx, used;
	mpci_view_fn vcb;
	mpci_tx_fn tcb;
	void *ud;
	char *args;
	size_t args_len;
	uint64_t id;
};

#define MAX_WATCHES 8
#define MAX_OPS 256

static struct {
	unsigned flags, limits;
	double now;
	char dir[80], sock[108], max_line[16], max_errors[8];
	struct fwatch w[MAX_WATCHES];
	struct fop ops[MAX_OPS];
	const struct mpci_block_handlers *blocks;
	struct mpci_block_handlers bh;
	void *blocks_ud;
	mpci_view_fn state_cb;
	void *state_ud;
	void (*timer_cb)(void *ud);
	void *timer_ud;
	int timer_on;
	uint64_t next_tx;
	uint64_t next_height;
} H;

enum {
	F_TX = 1, F_STATE = 2, F_BLOCKS = 4,
	/* bits 3-4: what becomes of views and transactions */
	F_OPS_SHIFT = 3,
};
enum { OPS_OK, OPS_FAIL, OPS_REFUSE, OPS_NEVER };

static void h_log(mpci_plugin *self, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
}

static const char *h_config_str(mpci_plugin *self, const char *key)
{
	if (!strcmp(key, "socket"))
		return H.sock;
	if (!strcmp(key, "max_line"))
		return H.max_line;
	if (!strcmp(key, "max_errors"))
		return H.max_errors;
	if (!strcmp(key, "socket_mode"))
		return "0600";
	return NULL;
}

static int h_config_int(mpci_plugin *self, const char *key, int64_t *out)
{
	const char *s = h_config_str(self, key);
	if (!s)
		return MPCI_ERR_NOTFOUND;
	*out = strtoll(s, NULL, 10);
	return MPCI_OK;
}

static int h_config_bool(mpci_plugin *self, const char *key, int *out)
{
	if (!strcmp(key, "allow_tx"))
		*out = !!(H.flags & F_TX);
	else
		*out = !strcmp(key, "check_uid");
	return MPCI_OK;
}

static int h_config_double(mpci_plugin *self, const char *key, double *out)
{
	static const struct { const char *k; double v; } defs[] = {
		{ "max_pending", 65536 }, { "ring_bytes", 1 << 20 },
		{ "hello_timeout", 10 }, { "close_timeout", 30 },
	};
	if (!strcmp(key, "max_line")) {
		*out = strtod(H.max_line, NULL);
		return MPCI_OK;
	}
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (!strcmp(key, defs[i].k)) {
			*out = defs[i].v;
			return MPCI_OK;
		}
	return MPCI_ERR_NOTFOUND;
}

static const char *h_config_list(mpci_plugin *self, const char *key, size_t i)
{
	static const char *const methods[] = { "state", "allowed_docker_image_hashes", NULL };
	if (!strcmp(key, "state_methods"))
		return i < 2 ? methods[i] : NULL;
	return NULL;
}

static const char *h_config_where(mpci_plugin *self, const char *key)
{
	return "fuzz.conf:1";
}

static double h_now(mpci_plugin *self)
{
	return H.now;
}

static mpci_timer *h_timer_start(mpci_plugin *self, double after, double repeat,
				 void (*cb)(void *ud), void *ud)
{
	H.timer_cb = cb;
	H.timer_ud = ud;
	H.timer_on = 1;
	return (mpci_timer *)&H.timer_on;
}

static void h_timer_stop(mpci_timer *t)
{
	H.timer_on = 0;
}

static mpci_watch *h_fd_watch(mpci_plugin *self, int fd, int events,
			      void (*cb)(int fd, int revents, void *ud), void *ud)
{
	for (int i = 0; i < MAX_WATCHES; i++)
		if (!H.w[i].used) {
			H.w[i] = (struct fwatch){ 1, fd, events, cb, ud };
			return (mpci_watch *)&H.w[i];
		}
	return NULL;
}

static void h_fd_watch_set(mpci_watch *w, int events)
{
	((struct fwatch *)w)->events = events;
}

static void h_fd_unwatch(mpci_watch *w)
{
	memset(w, 0, sizeof(struct fwatch));
}

static int h_post(mpci_plugin *self, void (*cb)(void *ud), void *ud)
{
	return MPCI_ERR_UNSUPPORTED;
}

static mpci_metric *h_metric(mpci_plugin *self, const char *name, const char *help,
			     const char *const *labels)
{
	return (mpci_metric *)&H;   /* any non-NULL handle */
}

static void h_metric_update(mpci_metric *m, const char *const *values, double v)
{
}

static int h_subscribe_state(mpci_plugin *self, const struct mpci_view_spec *spec,
			     mpci_view_fn cb, void *ud, mpci_free_fn ud_free, mpci_sub **out)
{
	if (!(H.flags & F_STATE))
		return MPCI_ERR_UNSUPPORTED;
	if (!strcmp(spec->method, "state")) {
		H.state_cb = cb;
		H.state_ud = ud;
	}
	*out = (mpci_sub *)&H;
	return MPCI_OK;
}

static int refuse_code(void)
{
	static const int rc[] = { MPCI_ERR, MPCI_ERR_INVAL, MPCI_ERR_NOMEM, MPCI_ERR_UNSUPPORTED,
				  MPCI_ERR_FULL, MPCI_ERR_NOTFOUND, MPCI_ERR_PHASE };
	return rc[(H.limits >> 4) % 7];
}

static struct fop *op_slot(void)
{
	for (int i = 0; i < MAX_OPS; i++)
		if (!H.ops[i].used)
			return &H.ops[i];
	return NULL;
}

static int h_view(mpci_plugin *self, const struct mpci_view_spec *spec, mpci_view_fn cb, void *ud)
{
	struct fop *op;
	if ((H.flags >> F_OPS_SHIFT & 3) == OPS_REFUSE)
		return refuse_code();
	if (!(op = op_slot()))
		return MPCI_ERR_FULL;
	const char *a = spec->args_json ? spec->args_json : "{}";
	if (!(op->args = strdup(a)))
		return MPCI_ERR_NOMEM;
	op->args_len = strlen(a);
	op->used = 1;
	op->is_tx = 0;
	op->vcb = cb;
	op->ud = ud;
	return MPCI_OK;
}

static int h_subscribe_blocks(mpci_plugin *self, const struct mpci_block_sub *sub,
			      const struct mpci_block_handlers *h, void *ud,
			      mpci_free_fn ud_free, mpci_sub **out)
{
	if (!(H.flags & F_BLOCKS))
		return MPCI_ERR_UNSUPPORTED;
	H.bh = *h;
	H.blocks = &H.bh;
	H.blocks_ud = ud;
	*out = (mpci_sub *)&H;
	return MPCI_OK;
}

static void h_unsubscribe(mpci_sub *s)
{
}

static int h_tx_submit(mpci_plugin *self, const struct mpci_tx_request *req, mpci_tx_fn cb,
		       void *ud, uint64_t *id)
{
	struct fop *op;
	if ((H.flags >> F_OPS_SHIFT & 3) == OPS_REFUSE)
		return refuse_code();
	if (!(op = op_slot()))
		return MPCI_ERR_FULL;
	if (!(op->args = malloc(req->args_len + 1)))
		return MPCI_ERR_NOMEM;
	memcpy(op->args, req->args, req->args_len);
	op->args[req->args_len] = 0;
	op->args_len = req->args_len;
	op->used = 1;
	op->is_tx = 1;
	op->tcb = cb;
	op->ud = ud;
	op->id = ++H.next_tx;
	if (id)
		*id = op->id;
	return MPCI_OK;
}

static void h_status(mpci_plugin *self, struct mpci_status *out)
{
	out->chain_id = H.flags & 0x80 ? NULL : "testnet";
	out->contract = H.flags & 0x80 ? NULL : "v1.signer-prod.testnet";
	out->head_height = 1000;
	out->final_height = 998;
	out->processed_height = 990;
	out->lag_seconds = 1.5;
	out->following = 1;
}

static const char *h_state_dir(mpci_plugin *self)
{
	return H.dir;
}

static const struct mpci_host_api api = {
	.struct_size = sizeof(struct mpci_host_api),
	.abi_major = MPCI_ABI_MAJOR, .abi_minor = MPCI_ABI_MINOR,
	.log = h_log, .config_str = h_config_str, .config_int = h_config_int,
	.config_bool = h_config_bool, .config_double = h_config_double,
	.config_list = h_config_list, .config_where = h_config_where,
	.now = h_now, .timer_start = h_timer_start, .timer_stop = h_timer_stop,
	.fd_watch = h_fd_watch, .fd_watch_set = h_fd_watch_set, .fd_unwatch = h_fd_unwatch,
	.post = h_post, .metric_counter = h_metric, .metric_gauge = h_metric,
	.metric_add = h_metric_update, .metric_set = h_metric_update,
	.subscribe_state = h_subscribe_state, .view = h_view,
	.subscribe_blocks = h_subscribe_blocks, .unsubscribe = h_unsubscribe,
	.tx_submit = h_tx_submit, .status = h_status, .state_dir = h_state_dir,
};

/* Finish what is in flight: a view answers with its own args, a transaction
 * with the args as its value. */
static int complete_ops(void)
{
	int mode = H.flags >> F_OPS_SHIFT & 3, n = 0;
	if (mode == OPS_NEVER)
		return 0;
	for (int i = 0; i < MAX_OPS; i++) {
		struct fop op = H.ops[i];
		if (!op.used)
			continue;
		memset(&H.ops[i], 0, sizeof(H.ops[i]));
		n++;
		if (op.is_tx) {
			struct mpci_tx_result r = {
				.struct_size = sizeof(r), .id = op.id,
				.status = mode == OPS_OK ? MPCI_TX_SUCCEEDED : MPCI_TX_FAILED,
				.hash = "8Y5tW2TnnCzxKuNaMNMMxY1CfKqWYq3gPjaLoMhEp2Lv",
				.value = op.args, .value_len = op.args_len,
				.error = mode == OPS_OK ? NULL : op.args, .block_height = 991,
			};
			op.tcb(&r, op.ud);
		} else {
			struct mpci_view_result r = {
				.struct_size = sizeof(r), .method = "m", .ok = mode == OPS_OK,
				.value = op.args, .value_len = op.args_len,
				.error = mode == OPS_OK ? NULL : op.args, .block_height = 990,
				.block_hash = "8Y5tW2TnnCzxKuNaMNMMxY1CfKqWYq3gPjaLoMhEp2Lv",
			};
			op.vcb(&r, op.ud);
		}
		free(op.args);
	}
	return n;
}

static void drop_ops(void)
{
	for (int i = 0; i < MAX_OPS; i++) {
		free(H.ops[i].args);
		memset(&H.ops[i], 0, sizeof(H.ops[i]));
	}
}

/* ---- the client's side ---- */

static char *out;
static size_t out_len, out_cap;

static void check_lines(void)
{
	size_t start = 0;
	for (size_t i = 0; i < out_len; i++) {
		if (out[i] != '\n')
			continue;
		if (!strict_json(out + start, i - start)) {
			fprintf(stderr, "the bridge sent a line that is not strict JSON: '%.*s'\n",
				(int)(i - start), out + start);
			abort();
		}
		start = i + 1;
	}
	memmove(out, out + start, out_len - start);
	out_len -= start;
}

static int drain(int fd)
{
	int got = 0;
	for (;;) {
		if (out_cap - out_len < 65536) {
			char *p = realloc(out, out_cap + 131072);
			if (!p)
				abort();
			out = p;
			out_cap += 131072;
		}
		ssize_t n = recv(fd, out + out_len, out_cap - out_len, MSG_DONTWAIT);
		if (n <= 0)
			break;
		out_len += (size_t)n;
		got = 1;
	}
	check_lines();
	return got;
}

/* One turn of the "loop": every watch whose fd is ready runs. */
static int turn(void)
{
	int ran = 0;
	for (int i = 0; i < MAX_WATCHES; i++) {
		struct fwatch *w = &H.w[i];
		if (!w->used || !w->events)
			continue;
		struct pollfd p = { .fd = w->fd, .events = (short)((w->events & 1 ? POLLIN : 0) |
								  (w->events & 2 ? POLLOUT : 0)) };
		if (poll(&p, 1, 0) <= 0)
			continue;
		int rev = (p.revents & (POLLIN | POLLHUP | POLLERR) ? 1 : 0) |
			  (p.revents & (POLLOUT | POLLERR) ? 2 : 0);
		rev &= w->events | (p.revents & (POLLHUP | POLLERR) ? 1 : 0);
		if (!rev)
			continue;
		w->cb(w->fd, rev, w->ud);
		ran = 1;
	}
	return ran;
}

static void push_blocks(unsigned n)
{
	static const char *const hashes[] = {
		"8Y5tW2TnnCzxKuNaMNMMxY1CfKqWYq3gPjaLoMhEp2Lv",
		"GXJYQV6BqqZUi1sp6kRM8a4ZhBCxcK5RwJ6k2Fiw5nDS",
	};
	struct mpci_request req = {
		.struct_size = sizeof(req), .kind = MPCI_REQ_SIGN,
		.id = hashes[0], .receipt_id = hashes[1], .predecessor_id = "alice.testnet",
		.args = "{\"request\":{\"path\":\"p\"}}", .args_len = 24,
		.request = "{\"path\":\"p\"}", .request_len = 12, .domain_id = 0,
	};
	for (unsigned k = 0; k < n; k++) {
		uint64_t i = H.next_height++;
		struct mpci_block b = {
			.struct_size = sizeof(b), .height = 100 + i, .hash = hashes[i & 1],
			.prev_hash = hashes[!(i & 1)], .last_final_block = hashes[0],
			.timestamp_nanosec = 1700000000000000000ull + i,
			.status = i % 3 == 2 ? MPCI_BLOCK_CANONICAL : MPCI_BLOCK_FINAL,
			.final_height = 100 + i, .head_height = 102 + i,
			.requests = &req, .n_requests = i & 1,
		};
		H.blocks->block(&b, H.blocks_ud);
		if (i % 3 == 2)
			H.blocks->finalized(100 + i, hashes[i & 1], H.blocks_ud);
	}
}

static void remove_dir(void)
{
	rmdir(H.dir);   /* the plugin removed its socket at fini */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mpci_plugin_desc *d = mpci_plugin_entry();
	void *state = NULL;

	if (size < 2)
		return 0;
	if (!H.dir[0]) {
		const char *t = getenv("TMPDIR");
		int n = snprintf(H.dir, sizeof(H.dir), "%s/fuzz-bridge.XXXXXX", t && *t ? t : "/tmp");
		if (n < 0 || (size_t)n >= sizeof(H.dir) || !mkdtemp(H.dir))
			abort();
		snprintf(H.sock, sizeof(H.sock), "%s/b.sock", H.dir);
		atexit(remove_dir);
	}
	memset(H.w, 0, sizeof(H.w));
	H.flags = data[0];
	H.limits = data[1];
	H.now = 1000;
	H.blocks = NULL;
	H.state_cb = NULL;
	H.timer_on = 0;
	H.next_height = 0;
	/* small limits reach the oversized-line and too-many-errors paths */
	snprintf(H.max_line, sizeof(H.max_line), "%u", H.limits & 1 ? 256 : 1 << 20);
	snprintf(H.max_errors, sizeof(H.max_errors), "%u", H.limits & 2 ? 2 : 16);
	data += 2;
	size -= 2;

	if (d->init(&api, (mpci_plugin *)&H, &state) != MPCI_OK)
		abort();
	if (H.blocks)
		push_blocks(H.limits >> 2 & 3 ? (H.limits >> 2 & 3) * 3 : 0);
	if (H.state_cb) {
		struct mpci_view_result r = { .struct_size = sizeof(r), .method = "state", .ok = 1,
					      .value = "{\"Running\":{}}", .value_len = 14,
					      .block_height = 99, .block_hash = "x" };
		H.state_cb(&r, H.state_ud);
	}

	int cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, H.sock, strlen(H.sock) + 1);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	turn();         /* the listener accepts */

	size_t sent = 0;
	int shut = 0, idle = 0;
	for (int round = 0; round < 100000 && idle < 3; round++) {
		int progress = 0;
		if (sent < size) {
			ssize_t n = send(cfd, data + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				sent += (size_t)n;
				progress = 1;
			} else if (n < 0 && errno != EAGAIN) {
				sent = size;  /* the bridge closed on us */
			}
		} else if (!shut) {
			shutdown(cfd, SHUT_WR);
			shut = 1;
			progress = 1;
		}
		progress |= turn();
		progress |= drain(cfd);
		progress |= complete_ops() > 0;
		if (round == 50 && H.timer_on) {
			H.now += 60;    /* the handshake timeout and close deadlines pass */
			H.timer_cb(H.timer_ud);
			progress = 1;
		}
		idle = progress ? 0 : idle + 1;
	}
	if (H.blocks)
		push_blocks(2);
	turn();
	drain(cfd);
	d->stop(state);
	turn();
	drain(cfd);
	close(cfd);
	drop_ops();
	d->fini(state);
	return 0;
}
