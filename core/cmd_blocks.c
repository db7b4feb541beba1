/* `mpc-indexer blocks`: follow the chain and print each block's MPC events (and filter
 * matches) as they come: one line per event, or one JSON object per block (--json), with a
 * progress line on a terminal while catching up. --output FILE appends to FILE and
 * resumes after its last complete line, so FILE gets every block exactly once even across
 * kill -9. --file decodes documents on disk through the same matcher. */
#include <curl/curl.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blockdoc.h"
#include "blockstream.h"
#include "cli.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "mpc_events.h"
#include "rpc.h"
#include "settings.h"

#define MAX_LIST 16

struct out {
	char *p;
	size_t n, cap;
};

struct cli {
	int json, fd, tty, done, rc;
	uint64_t from, to;
	struct mpci_filter filters[MAX_LIST];
	size_t n_filters;
	struct out buf;
	struct blockstream *bs;
	struct ev_loop *loop;
	ev_timer progress;
	uint64_t last_height, prog_height;
	double prog_t;
	int progress_shown;
	uint64_t blocks;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->n + n + 1 > o->cap) {
		size_t cap = (o->n + n + 1) * 2;
		char *p = realloc(o->p, cap);
		if (!p)
			return;
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
	o->p[o->n] = 0;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) putf(struct out *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A JSON string of n bytes (any bytes: control and non-UTF-8 bytes are \u-escaped). */
static void jstr_out(struct out *o, const char *s, size_t n)
{
	put(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[8];
		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			put(o, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(e, sizeof(e), "\\u%04x", c);
			put(o, e, 6);
		} else {
			put(o, (const char *)&c, 1);
		}
	}
	put(o, "\"", 1);
}

static void jkey(struct out *o, const char *k, const char *v)
{
	putf(o, ",\"%s\":", k);
	if (v)
		jstr_out(o, v, strlen(v));
	else
		puts_(o, "null");
}

static const char *status_name(int st)
{
	return st == MPCI_BLOCK_FINAL ? "final" : st == MPCI_BLOCK_CANONICAL ? "canonical" : "fork";
}

static void hex(char out[65], const uint8_t b[32])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void flush_out(struct cli *c)
{
	size_t off = 0;

	while (off < c->buf.n) {
		ssize_t w = write(c->fd, c->buf.p + off, c->buf.n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!c->rc)
				fprintf(stderr, "mpc-indexer blocks: write: %s\n", strerror(errno));
			c->rc = EXIT_RUNTIME;
			c->done = 1;
			break;
		}
		off += (size_t)w;
	}
	c->buf.n = 0;
}

static void clear_progress(struct cli *c)
{
	if (c->progress_shown) {
		fprintf(stderr, "\r\033[K");
		c->progress_shown = 0;
	}
}

static void print_block(struct cli *c, const struct mpci_block *b)
{
	struct out *o = &c->buf;
	char hx[65];

	if (c->json) {
		putf(o, "{\"event\":\"block\",\"height\":%llu", (unsigned long long)b->height);
		jkey(o, "hash", b->hash);
		jkey(o, "prev_hash", b->prev_hash);
		jkey(o, "last_final_block", b->last_final_block);
		hex(hx, b->entropy);
		jkey(o, "entropy", hx);
		putf(o, ",\"timestamp_nanosec\":\"%llu\",\"status\":\"%s\",\"final_height\":%llu,\"requests\":[",
		     (unsigned long long)b->timestamp_nanosec, status_name(b->status),
		     (unsigned long long)b->final_height);
		for (size_t i = 0; i < b->n_requests; i++) {
			const struct mpci_request *q = &b->requests[i];
			putf(o, "%s{\"kind\":\"%s\"", i ? "," : "", mpc_kind_name(q->kind));
			jkey(o, "id", q->id);
			jkey(o, "receipt_id", q->receipt_id);
			jkey(o, "predecessor_id", q->predecessor_id);
			putf(o, ",\"domain_id\":%u", q->domain_id);
			hex(hx, q->derived);
			jkey(o, q->kind == MPCI_REQ_SIGN ? "tweak" : q->kind == MPCI_REQ_CKD ? "app_id" : "derived", hx);
			puts_(o, ",\"request\":");
			put(o, q->request, q->request_len);
			puts_(o, "}");
		}
		puts_(o, "],\"completions\":[");
		for (size_t i = 0; i < b->n_completions; i++) {
			const struct mpci_completion *x = &b->completions[i];
			putf(o, "%s{\"kind\":\"%s\"", i ? "," : "", mpc_kind_name(x->kind));
			jkey(o, "id", x->id);
			putf(o, ",\"success\":%s}", x->success ? "true" : "false");
		}
		putf(o, "],\"timeouts\":%u,\"matches\":[", b->n_timeouts);
		for (size_t i = 0; i < b->n_matches; i++) {
			const struct mpci_match *m = &b->matches[i];
			putf(o, "%s{\"filter\":%zu", i ? "," : "", m->filter);
			jkey(o, "receipt_id", m->receipt_id);
			jkey(o, "predecessor_id", m->predecessor_id);
			jkey(o, "receiver_id", m->receiver_id);
			jkey(o, "method", m->method);
			puts_(o, ",\"args\":");
			jstr_out(o, m->args, m->args_len);
			jkey(o, "next_receipt_id", m->next_receipt_id);
			putf(o, ",\"success\":%s,\"logs\":[", m->success ? "true" : "false");
			for (size_t l = 0; l < m->n_logs; l++) {
				if (l)
					puts_(o, ",");
				jstr_out(o, m->logs[l], strlen(m->logs[l]));
			}
			puts_(o, "]}");
		}
		puts_(o, "]}\n");
		return;
	}
	for (size_t i = 0; i < b->n_requests; i++) {
		const struct mpci_request *q = &b->requests[i];
		hex(hx, q->derived);
		putf(o, "%llu %s request %s receipt=%s predecessor=%s domain=%u",
		     (unsigned long long)b->height, mpc_kind_name(q->kind), q->id, q->receipt_id,
		     q->predecessor_id, q->domain_id);
		if (q->kind != MPCI_REQ_FOREIGN_TX)
			putf(o, " %s=%s", q->kind == MPCI_REQ_SIGN ? "tweak" : "app_id", hx);
		puts_(o, "\n");
	}
	for (size_t i = 0; i < b->n_completions; i++)
		putf(o, "%llu %s completion %s %s\n", (unsigned long long)b->height,
		     mpc_kind_name(b->completions[i].kind), b->completions[i].id,
		     b->completions[i].success ? "ok" : "failed");
	if (b->n_timeouts)
		putf(o, "%llu timeouts %u\n", (unsigned long long)b->height, b->n_timeouts);
	for (size_t i = 0; i < b->n_matches; i++) {
		const struct mpci_match *m = &b->matches[i];
		putf(o, "%llu match[%zu] %s %s -> %s.%s %s\n", (unsigned long long)b->height, m->filter,
		     m->receipt_id, m->predecessor_id, m->receiver_id, m->method, m->success ? "ok" : "failed");
	}
	if (b->status != MPCI_BLOCK_FINAL && (b->n_requests || b->n_completions || b->n_matches))
		putf(o, "%llu (%s block %s)\n", (unsigned long long)b->height, status_name(b->status), b->hash);
}

static void on_block(void *ctx, const struct mpci_block *b)
{
	struct cli *c = ctx;

	if (c->done)
		return;
	if (c->to && b->height > c->to) {
		c->done = 1;
		ev_break(c->loop, EVBREAK_ALL);
		return;
	}
	print_block(c, b);
	if (c->buf.n) {
		if (c->tty)
			clear_progress(c);
		flush_out(c);
	}
	c->last_height = b->height;
	c->blocks++;
	if (c->to && b->height >= c->to) {
		c->done = 1;
		ev_break(c->loop, EVBREAK_ALL);
	}
}

static void on_note(struct cli *c, const char *what, uint64_t height, const char *hash)
{
	if (c->done)
		return;
	if (c->json)
		putf(&c->buf, "{\"event\":\"%s\",\"height\":%llu,\"hash\":\"%s\"}\n", what,
		     (unsigned long long)height, hash);
	else
		putf(&c->buf, "%llu %s %s\n", (unsigned long long)height, what, hash);
	if (c->tty)
		clear_progress(c);
	flush_out(c);
}

static void on_orphaned(void *ctx, uint64_t height, const char *hash)
{
	on_note(ctx, "orphaned", height, hash);
}

static void on_finalized(void *ctx, uint64_t height, const char *hash)
{
	on_note(ctx, "finalized", height, hash);
}

static void progress_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cli *c = w->data;
	struct mpci_status st = { .struct_size = sizeof(st) };
	double now = ev_now(loop), dt = now - c->prog_t;

	(void)revents;
	blockstream_status(c->bs, &st);
	if (dt <= 0 || !st.processed_height)
		return;
	double rate = (double)(st.processed_height - c->prog_height) / dt;
	uint64_t behind = st.head_height > st.processed_height ? st.head_height - st.processed_height : 0;
	c->prog_t = now;
	c->prog_height = st.processed_height;
	if (behind < 3) {
		clear_progress(c);
		return;
	}
	char eta[32] = "?";
	if (rate > 0.5) {
		double s = (double)behind / rate;
		snprintf(eta, sizeof(eta), "%dm%02ds", (int)(s / 60), (int)s % 60);
	}
	fprintf(stderr, "\r\033[Kcatching up: height %llu, %llu behind head %llu, %.0f blocks/s, ETA %s",
		(unsigned long long)st.processed_height, (unsigned long long)behind,
		(unsigned long long)st.head_height, rate, eta);
	c->progress_shown = 1;
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct cli *c = w->data;

	(void)revents;
	c->done = 1;
	ev_break(loop, EVBREAK_ALL);
}

/* KIND:ACCOUNT[:METHOD], KIND = executor (with a promise) or receiver; METHOD * = any. */
static int parse_match(const char *spec, struct mpci_filter *f)
{
	char *s = strdup(spec), *a, *m;

	if (!s)
		return -1;
	if (!(a = strchr(s, ':')))
		goto bad;
	*a++ = 0;
	if ((m = strchr(a, ':')))
		*m++ = 0;
	if (!strcmp(s, "executor"))
		f->kind = MPCI_FILTER_EXECUTOR_PROMISE;
	else if (!strcmp(s, "receiver"))
		f->kind = MPCI_FILTER_RECEIVER;
	else
		goto bad;
	f->account = strdup(a);
	f->method = m && *m && strcmp(m, "*") ? strdup(m) : NULL;
	free(s);
	return f->account ? 0 : -1;
bad:
	free(s);
	return -1;
}

/* --output: the last complete line names where we stopped; a torn last line is cut. */
static int resume_output(const char *path, int *fd, uint64_t *height, char hash[NEAR_HASH_B58_MAX])
{
	struct stat st;
	char buf[65536];
	off_t size, start;
	ssize_t n;

	*height = 0;
	hash[0] = 0;
	if ((*fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0)
		return -1;
	if (fstat(*fd, &st) < 0)
		return -1;
	size = st.st_size;
	if (!size)
		return 0;
	start = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
	if ((n = pread(*fd, buf, (size_t)(size - start), start)) <= 0)
		return -1;
	buf[n] = 0;
	if (buf[n - 1] != '\n') {
		char *nl = strrchr(buf, '\n');
		off_t keep = nl ? start + (nl - buf) + 1 : 0;
		if (ftruncate(*fd, keep) < 0)
			return -1;
		if (!nl)
			return 0;
		nl[1] = 0;
		n = nl - buf + 1;
	}
	/* the last block line */
	for (char *p = buf + n - 1; p >= buf; p--) {
		if (p == buf || p[-1] == '\n') {
			char *h = strstr(p, "{\"event\":\"block\",\"height\":"), *hs;
			if (h == p) {
				*height = strtoull(p + 26, NULL, 10);
				if ((hs = strstr(p, "\"hash\":\"")))
					sscanf(hs + 8, "%44[1-9A-HJ-NP-Za-km-z]", hash);
				return 0;
			}
			if (p == buf)
				break;
		}
	}
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && (s = malloc((size_t)n + 1))) {
		rewind(f);
		if (fread(s, 1, (size_t)n, f) != (size_t)n) {
			free(s);
			s = NULL;
		} else {
			s[n] = 0;
			*len = (size_t)n;
		}
	}
	fclose(f);
	return s;
}

/* --file: a StreamerMessage, or a Lake block.json followed by its shard files. */
static int decode_files(struct cli *c, const char *contract, char **files, size_t n)
{
	struct blockdoc d = { 0 };
	struct mpc_matcher *m = mpc_matcher_new(contract);
	char err[600];
	char *texts[MAX_LIST] = { 0 };
	size_t lens[MAX_LIST];
	int rc = EXIT_OK;

	if (!m || (c->n_filters && mpc_matcher_add(m, 1, c->filters, c->n_filters, err, sizeof(err)) < 0)) {
		fprintf(stderr, "mpc-indexer blocks: %s\n", m ? err : "out of memory");
		mpc_matcher_free(m);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(texts[i] = slurp(files[i], &lens[i]))) {
			fprintf(stderr, "mpc-indexer blocks: %s: %s\n", files[i], strerror(errno));
			rc = EXIT_RUNTIME;
			goto out;
		}
	}
	int r = blockdoc_parse(&d, texts[0], lens[0], err, sizeof(err));
	if (r == BD_ERROR && n >= 1 && blockdoc_parse_header(&d, texts[0], lens[0], err, sizeof(err)) == BD_OK) {
		for (size_t i = 1; i < n; i++)
			if (blockdoc_parse_shard(&d, texts[i], lens[i], (unsigned)(i - 1), err, sizeof(err)) != BD_OK) {
				fprintf(stderr, "mpc-indexer blocks: %s: %s\n", files[i], err);
				rc = EXIT_RUNTIME;
				goto out;
			}
		r = BD_OK;
	} else if (r == BD_OK && n > 1) {
		fprintf(stderr, "mpc-indexer blocks: %s is a whole block document; give it alone\n", files[0]);
		rc = EXIT_USAGE;
		goto out;
	}
	if (r == BD_NULL) {
		fprintf(stderr, "mpc-indexer blocks: %s: null (a skipped height)\n", files[0]);
		goto out;
	}
	if (r != BD_OK) {
		fprintf(stderr, "mpc-indexer blocks: %s: %s\n", files[0], err);
		rc = EXIT_RUNTIME;
		goto out;
	}
	struct mpc_block *b = mpc_events_extract(m, &d);
	if (!b) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	struct mpci_block pb = { .struct_size = sizeof(pb), .height = b->height, .hash = b->hash,
				 .prev_hash = b->prev_hash, .last_final_block = b->last_final_block,
				 .timestamp_nanosec = b->timestamp_nanosec, .status = MPCI_BLOCK_FINAL,
				 .requests = b->requests, .n_requests = b->n_requests,
				 .completions = b->completions, .n_completions = b->n_completions,
				 .matches = b->matches, .n_matches = b->n_matches, .n_timeouts = b->n_timeouts };
	memcpy(pb.entropy, b->entropy, 32);
	print_block(c, &pb);
	flush_out(c);
	if (!c->json)
		fprintf(stderr, "block %llu: %u receipt outcomes, %zu requests, %zu completions, %zu matches\n",
			(unsigned long long)b->height, b->n_outcomes, b->n_requests, b->n_completions,
			b->n_matches);
	mpc_block_free(b);
out:
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	blockdoc_free(&d);
	mpc_matcher_free(m);
	return rc;
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "mpc-indexer blocks: %s%s%s (try --help)\n", msg, arg ? " " : "", arg ? arg : "");
	return EXIT_USAGE;
}

int cmd_blocks(int argc, char **argv, const char *config_path)
{
	struct cli c = { .fd = 1 };
	const char *block_urls[MAX_LIST + 1] = { 0 }, *rpc_urls[MAX_LIST + 1] = { 0 };
	char *files[MAX_LIST] = { 0 };
	size_t n_block = 0, n_rpc = 0, n_files = 0;
	const char *contract = NULL, *output = NULL, *state_dir = NULL, *api_key = NULL;
	int optimistic = -1, have_from = 0;
	unsigned fetch_ahead = 0;
	char err[600], resume_hash[NEAR_HASH_B58_MAX] = "";
	struct cfg *cfg = NULL;
	int rc = EXIT_OK;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
#define NEED() do { if (!v) return usage_error("missing value for", a); i++; } while (0)
		if (!strcmp(a, "--json")) {
			c.json = 1;
		} else if (!strcmp(a, "--optimistic")) {
			optimistic = 1;
		} else if (!strcmp(a, "--final")) {
			optimistic = 0;
		} else if (!strcmp(a, "--from") || !strcmp(a, "--to") || !strcmp(a, "--fetch-ahead")) {
			NEED();
			errno = 0;
			unsigned long long h = strtoull(v, &end, 10);
			if (errno || *end || !*v || *v == '-' || !h)
				return usage_error("not a positive number:", v);
			if (!strcmp(a, "--from"))
				c.from = h, have_from = 1;
			else if (!strcmp(a, "--to"))
				c.to = h;
			else
				fetch_ahead = (unsigned)(h > 1024 ? 1024 : h);
		} else if (!strcmp(a, "--contract")) {
			NEED();
			contract = v;
		} else if (!strcmp(a, "--match")) {
			NEED();
			if (c.n_filters == MAX_LIST || parse_match(v, &c.filters[c.n_filters]) < 0)
				return usage_error("--match wants executor|receiver:ACCOUNT[:METHOD], not", v);
			c.n_filters++;
		} else if (!strcmp(a, "--block-url")) {
			NEED();
			if (n_block == MAX_LIST)
				return usage_error("too many", a);
			block_urls[n_block++] = v;
		} else if (!strcmp(a, "--rpc-url")) {
			NEED();
			if (n_rpc == MAX_LIST)
				return usage_error("too many", a);
			rpc_urls[n_rpc++] = v;
		} else if (!strcmp(a, "--api-key")) {
			NEED();
			api_key = v;
		} else if (!strcmp(a, "--output")) {
			NEED();
			output = v;
		} else if (!strcmp(a, "--state-dir")) {
			NEED();
			state_dir = v;
		} else if (!strcmp(a, "--file")) {
			NEED();
			if (n_files == MAX_LIST)
				return usage_error("too many", a);
			files[n_files++] = (char *)v;
		} else {
			return usage_error("unknown argument", a);
		}
#undef NEED
	}
	if (c.to && c.from && c.to < c.from)
		return usage_error("--to is below --from", NULL);

	/* The configuration file is optional when the endpoints are on the command line. */
	if (!n_block && !n_files) {
		if (!(cfg = cli_load_config(config_path)))
			return EXIT_CONFIG;
	} else if (access(config_path, R_OK) == 0 && !(cfg = cli_load_config(config_path))) {
		return EXIT_CONFIG;
	}
	if (cfg) {
		struct cfg_error ce;
		char msg[1024];
		if (settings_check(cfg, &ce) < 0) {
			fprintf(stderr, "%s\n", cfg_format_error(&ce, msg, sizeof(msg)));
			cfg_free(cfg);
			return EXIT_CONFIG;
		}
		if (!contract)
			contract = cfg_get(cfg, "near", "contract");
		if (!state_dir && !n_block)
			state_dir = cfg_get(cfg, "indexer", "state_dir");
		const char *lvl = cfg_get(cfg, "indexer", "log_level");
		enum log_level l;
		if (lvl && log_level_parse(lvl, &l) == 0)
			log_set_level(l);
	}
	if (n_files) {
		rc = decode_files(&c, contract, files, n_files);
		goto out_early;
	}

	if (output) {
		uint64_t last = 0;
		if (resume_output(output, &c.fd, &last, resume_hash) < 0) {
			fprintf(stderr, "mpc-indexer blocks: %s: %s\n", output, strerror(errno));
			rc = EXIT_RUNTIME;
			goto out_early;
		}
		if (last && (!have_from || c.from <= last)) {
			c.from = last + 1;
			have_from = 1;
			log_info("blocks", "%s ends with block %llu: resuming after it", output,
				 (unsigned long long)last);
		} else {
			resume_hash[0] = 0;
		}
	}
	c.tty = isatty(2) && !getenv("MPC_INDEXER_NO_PROGRESS");
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c.loop = ev_default_loop(0);
	struct http_client *http = http_client_new(c.loop);
	struct metrics *reg = metrics_new();
	struct rpc *rpc = NULL;
	char from_s[32];
	if (n_rpc) {
		struct rpc_config rcfg = { .urls = rpc_urls, .probe_interval = -1 };
		rpc = rpc_new_with(c.loop, http, reg, &rcfg, err, sizeof(err));
	} else if (cfg && cfg_get(cfg, "near", "rpc_urls") && !n_block) {
		rpc = rpc_new(c.loop, http, reg, cfg, err, sizeof(err));
	}
	if ((n_rpc || (cfg && cfg_get(cfg, "near", "rpc_urls") && !n_block)) && !rpc) {
		fprintf(stderr, "mpc-indexer blocks: RPC fallback: %s\n", err);
		rc = EXIT_CONFIG;
		goto out;
	}
	if (n_block) {
		struct blockstream_config bc = { 0 };
		bc.block_urls = block_urls;
		bc.api_key = api_key;
		bc.contract = contract;
		bc.optimistic = optimistic == 1;
		bc.fetch_ahead = fetch_ahead;
		if (have_from) {
			snprintf(from_s, sizeof(from_s), "%llu", (unsigned long long)c.from);
			bc.start = from_s;
			bc.force_start = 1;
		} else {
			bc.start = state_dir ? "cursor" : "head";
		}
		bc.resume_hash = resume_hash[0] ? resume_hash : NULL;
		c.bs = blockstream_new_with(c.loop, http, rpc, &bc, reg, state_dir, err, sizeof(err));
	} else {
		c.bs = blockstream_new(c.loop, http, rpc, cfg, reg, state_dir, err, sizeof(err));
		if (c.bs && (have_from || optimistic >= 0 || fetch_ahead || resume_hash[0])) {
			/* command-line overrides of the configured stream */
			blockstream_free(c.bs);
			struct blockstream_config bc = { 0 };
			char **urls = NULL;
			double d;
			uint64_t u;
			cfg_get_list(cfg, "near", "block_urls", &urls);
			bc.block_urls = (const char *const *)urls;
			bc.api_key = cfg_get(cfg, "near", "block_api_key");
			bc.contract = contract;
			bc.optimistic = optimistic >= 0 ? optimistic
							: !strcmp(cfg_get(cfg, "near", "finality"), "optimistic");
			bc.fetch_ahead = fetch_ahead;
			if (!fetch_ahead && cfg_get_uint(cfg, "blocks", "fetch_ahead", &u) == 0)
				bc.fetch_ahead = (unsigned)u;
			if (cfg_get_duration(cfg, "blocks", "cursor_interval", &d) == 0)
				bc.cursor_interval = d;
			if (cfg_get_duration(cfg, "near", "request_timeout", &d) == 0)
				bc.request_timeout = d;
			if (cfg_get_uint(cfg, "blocks", "fallback_after", &u) == 0)
				bc.fallback_after = (unsigned)u;
			if (cfg_get_duration(cfg, "blocks", "fallback_probe", &d) == 0)
				bc.fallback_probe = d;
			if (have_from) {
				snprintf(from_s, sizeof(from_s), "%llu", (unsigned long long)c.from);
				bc.start = from_s;
				bc.force_start = 1;
			} else {
				bc.start = cfg_get(cfg, "blocks", "start");
			}
			bc.resume_hash = resume_hash[0] ? resume_hash : NULL;
			c.bs = blockstream_new_with(c.loop, http, rpc, &bc, reg, state_dir, err, sizeof(err));
			cfg_list_free(urls);
		}
	}
	if (!c.bs) {
		fprintf(stderr, "mpc-indexer blocks: %s\n", err);
		rc = EXIT_CONFIG;
		goto out;
	}
	struct mpci_block_sub sub = { .struct_size = sizeof(sub), .filters = c.filters,
				      .n_filters = c.n_filters };
	struct provider_block_sink sink = { on_block, on_orphaned, on_finalized };
	if (!blockstream_subscribe(c.bs, &sub, &sink, &c, err, sizeof(err))) {
		fprintf(stderr, "mpc-indexer blocks: %s\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	ev_signal sigint, sigterm;
	ev_signal_init(&sigint, stop_cb, SIGINT);
	ev_signal_init(&sigterm, stop_cb, SIGTERM);
	sigint.data = sigterm.data = &c;
	ev_signal_start(c.loop, &sigint);
	ev_signal_start(c.loop, &sigterm);
	ev_unref(c.loop);
	ev_unref(c.loop);
	if (c.tty) {
		ev_timer_init(&c.progress, progress_cb, 0.5, 0.5);
		c.progress.data = &c;
		c.prog_t = ev_now(c.loop);
		ev_timer_start(c.loop, &c.progress);
	}
	if (blockstream_start(c.bs) < 0) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	ev_run(c.loop, 0);
	blockstream_stop(c.bs);
	if (c.tty) {
		ev_timer_stop(c.loop, &c.progress);
		clear_progress(&c);
	}
	ev_ref(c.loop);
	ev_ref(c.loop);
	ev_signal_stop(c.loop, &sigint);
	ev_signal_stop(c.loop, &sigterm);
	if (c.rc)
		rc = c.rc;
out:
	blockstream_free(c.bs);
	if (rpc)
		rpc_free(rpc);
	http_client_free(http);
	metrics_free(reg);
	curl_global_cleanup();
out_early:
	for (size_t i = 0; i < c.n_filters; i++) {
		free((char *)c.filters[i].account);
		free((char *)c.filters[i].method);
	}
	free(c.buf.p);
	if (c.fd > 2)
		close(c.fd);
	cfg_free(cfg);
	return rc;
}
