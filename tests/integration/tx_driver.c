/*
 * tx_driver: the transaction sender on its own, as the daemon will run it:
 * configuration, RPC client with failover, sender with its journal.  The
 * integration tests and the benchmark drive it against nearsim.
 *
 *   tx_driver -c CONF --state-dir DIR [--count N] [--wait] [--method M]
 *             [--receiver R] [--args JSON] [--signer NAME] [--deadline S]
 *             [--log FILE] [--log-level L] [--timeout S] [--bench]
 *             [--then N --when FILE]
 *   tx_driver --sign-rate    (libsodium's raw ed25519 signing rate, and ours)
 *
 * It submits N transactions (args {"i":K} unless --args), prints "queued N"
 * once they are in the journal, one "done id=.. status=.. hash=.." line per
 * callback, and a "stats ..." line when nothing is pending any more (also
 * after a restart with --count 0: then the outcomes of the replayed
 * transactions go to the log only).  With --then N --when FILE, once the
 * first batch is done it prints "waiting", and when FILE exists it submits N
 * more (the test changes the chain in between).
 */
#include <curl/curl.h>
#include <ev.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "near/tx.h"
#include "rpc.h"
#include "settings.h"
#include "txsend.h"

static const char *const status_names[] = { "accepted", "succeeded", "failed", "unknown",
					     "rejected" };

struct driver {
	struct ev_loop *loop;
	struct txsend *ts;
	unsigned count, done, then;
	const char *when, *signer, *receiver, *method, *args;
	int wait, waiting;
	double deadline;
	ev_timer when_w;
	int bench;
	double t0, t_signed, t_sent, t_done;
	ev_timer poll, announce, give_up;
	unsigned by_status[5];
};

static double mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void on_done(void *ctx, const struct mpci_tx_result *r)
{
	struct driver *d = ctx;
	d->done++;
	if (r->status >= 0 && r->status <= 4)
		d->by_status[r->status]++;
	if (!d->bench)
		printf("done id=%" PRIu64 " status=%s hash=%s value=%.*s error=%s\n", r->id,
		       status_names[r->status], r->hash ? r->hash : "-",
		       (int)(r->value ? r->value_len : 0), r->value ? r->value : "",
		       r->error ? r->error : "-");
	fflush(stdout);
}

static void finish_line(struct driver *d)
{
	struct txsend_stats s;
	txsend_get_stats(d->ts, &s);
	printf("stats signed=%" PRIu64 " submissions=%" PRIu64 " resubmissions=%" PRIu64
	       " resigns=%" PRIu64 " nonce_errors=%" PRIu64 " reported=%" PRIu64
	       " replayed=%" PRIu64 " callbacks=%u succeeded=%u failed=%u unknown=%u"
	       " rejected=%u accepted=%u\n", s.signed_txs, s.submissions, s.resubmissions,
	       s.resigns, s.nonce_errors, s.reported, s.replayed, d->done,
	       d->by_status[MPCI_TX_SUCCEEDED], d->by_status[MPCI_TX_FAILED],
	       d->by_status[MPCI_TX_UNKNOWN], d->by_status[MPCI_TX_REJECTED],
	       d->by_status[MPCI_TX_ACCEPTED]);
	if (d->bench && d->count) {
		double n = d->count;
		struct rusage ru;
		double cpu = 0;
		/* every thread of the process: the loop and the journal's writer */
		if (getrusage(RUSAGE_SELF, &ru) == 0)
			cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
		printf("bench txs=%u signed_per_s=%.0f submitted_per_s=%.0f confirmed_per_s=%.0f "
		       "nonce_errors=%" PRIu64 " resigns=%" PRIu64 " wall_s=%.2f cpu_s=%.2f "
		       "per_cpu_s=%.0f\n", d->count,
		       n / (d->t_signed - d->t0), n / (d->t_sent - d->t0),
		       n / (d->t_done - d->t0), s.nonce_errors, s.resigns, d->t_done - d->t0,
		       cpu, cpu > 0 ? n / cpu : 0);
	}
	fflush(stdout);
}

/* Submit transactions [from, to); 0, or 4 when one was refused. */
static int submit_range(struct driver *d, unsigned from, unsigned to)
{
	char abuf[64], err[512];
	for (unsigned i = from; i < to; i++) {
		if (!d->args)
			snprintf(abuf, sizeof(abuf), "{\"i\":%u}", i);
		const char *a = d->args ? d->args : abuf;
		struct mpci_tx_request req = {
			.struct_size = sizeof(req), .signer = d->signer, .receiver = d->receiver,
			.method = d->method, .args = a, .args_len = strlen(a),
			.wait = d->wait ? MPCI_TX_WAIT : MPCI_TX_SEND, .deadline = d->deadline,
		};
		uint64_t id;
		int r = txsend_submit(d->ts, &req, on_done, d, &id, err, sizeof(err));
		if (r != MPCI_OK) {
			printf("refused rc=%d error=%s\n", r, err);
			fflush(stdout);
			return 4;
		}
	}
	return 0;
}

static void when_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct driver *d = w->data;
	if (access(d->when, F_OK) != 0)
		return;
	ev_timer_stop(loop, w);
	unsigned from = d->count;
	d->count += d->then;
	d->then = 0;
	d->waiting = 0;
	if (submit_range(d, from, d->count) != 0)
		ev_break(loop, EVBREAK_ALL);
	printf("queued %u\n", d->count - from);
	fflush(stdout);
}

static void poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct driver *d = w->data;
	struct txsend_stats s;
	txsend_get_stats(d->ts, &s);
	double now = mono();
	if (!d->t_signed && s.signed_txs >= d->count)
		d->t_signed = now;
	if (!d->t_sent && s.submissions >= d->count)
		d->t_sent = now;
	if (txsend_queue_length(d->ts) == 0 && d->done >= d->count && d->then && !d->waiting) {
		d->waiting = 1;
		printf("waiting\n");
		fflush(stdout);
		ev_timer_init(&d->when_w, when_cb, 0.05, 0.05);
		d->when_w.data = d;
		ev_timer_start(loop, &d->when_w);
	}
	if (txsend_queue_length(d->ts) == 0 && d->done >= d->count && !d->then) {
		d->t_done = now;
		if (!d->t_signed)
			d->t_signed = now;
		if (!d->t_sent)
			d->t_sent = now;
		ev_break(loop, EVBREAK_ALL);
	}
}

static void announce_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct driver *d = w->data;
	printf("queued %u\n", d->count);
	fflush(stdout);
}

static void give_up_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	fprintf(stderr, "tx_driver: timeout with %zu transactions pending\n",
		txsend_queue_length(((struct driver *)w->data)->ts));
	ev_break(loop, EVBREAK_ALL);
}

/* Mean RPC latency per method (from the rpc client's histogram). */
static void print_latency(const struct mpci_metric_family *f, void *ud)
{
	if (strcmp(f->name, "mpc_indexer_rpc_request_duration_seconds") != 0)
		return;
	for (size_t i = 0; i < f->n_samples; i++) {
		const struct mpci_metric_sample *s = &f->samples[i];
		if (s->count)
			printf("latency method=%s calls=%" PRIu64 " mean_ms=%.2f\n",
			       s->label_values[1], s->count, 1000 * s->sum / (double)s->count);
	}
}

static int sign_rate(void)
{
	struct near_secret sk;
	struct near_pubkey pk;
	uint8_t msg[32] = { 1 }, sig[64], bh[32] = { 2 };
	const char *args = "{\"request\":{\"tweak\":[1,2,3],\"payload\":{\"Ecdsa\":\"0102\"},\"domain_id\":0}}";
	struct near_fc_action act = { "respond", (const uint8_t *)args, strlen(args),
				      300000000000000ULL, 0 };
	unsigned n = 0;
	double t0, t;

	if (sodium_init() < 0 || near_secret_generate(&sk) < 0)
		return 1;
	near_secret_pubkey(&pk, &sk);
	t0 = mono();
	do {
		for (int i = 0; i < 1000; i++, n++) {
			msg[0] = (uint8_t)n;
			crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk.sk);
		}
	} while ((t = mono()) - t0 < 1.0);
	printf("sign_rate libsodium_ed25519_per_s=%.0f\n", n / (t - t0));
	n = 0;
	t0 = mono();
	do {
		for (int i = 0; i < 1000; i++, n++) {
			struct near_signed_tx st;
			if (near_tx_sign(&st, "node.test.near", &pk, 1000000 + n, "mpc.test.near",
					 bh, &act, 1, &sk) < 0)
				return 1;
			near_signed_tx_free(&st);
		}
	} while ((t = mono()) - t0 < 1.0);
	printf("sign_rate near_tx_sign_per_s=%.0f\n", n / (t - t0));
	near_secret_wipe(&sk);
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf = NULL, *state = NULL, *logf = NULL, *level = "info";
	double timeout = 120;
	struct driver d = { .method = "verify_tee" };

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--sign-rate"))
			return sign_rate();
		if (!strcmp(a, "--wait")) { d.wait = 1; continue; }
		if (!strcmp(a, "--bench")) { d.bench = 1; continue; }
		if (!v) {
			fprintf(stderr, "tx_driver: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "-c")) conf = v;
		else if (!strcmp(a, "--state-dir")) state = v;
		else if (!strcmp(a, "--count")) d.count = (unsigned)atoi(v);
		else if (!strcmp(a, "--method")) d.method = v;
		else if (!strcmp(a, "--receiver")) d.receiver = v;
		else if (!strcmp(a, "--args")) d.args = v;
		else if (!strcmp(a, "--signer")) d.signer = v;
		else if (!strcmp(a, "--deadline")) d.deadline = atof(v);
		else if (!strcmp(a, "--then")) d.then = (unsigned)atoi(v);
		else if (!strcmp(a, "--when")) d.when = v;
		else if (!strcmp(a, "--log")) logf = v;
		else if (!strcmp(a, "--log-level")) level = v;
		else if (!strcmp(a, "--timeout")) timeout = atof(v);
		else {
			fprintf(stderr, "tx_driver: unknown option %s\n", a);
			return 2;
		}
	}
	if (!conf || !state) {
		fprintf(stderr, "tx_driver: -c CONF and --state-dir DIR are required\n");
		return 2;
	}
	mkdir(state, 0700); /* as the daemon makes its state_dir */
	enum log_level lvl;
	if (log_level_parse(level, &lvl) < 0 || log_open(logf, lvl) < 0) {
		fprintf(stderr, "tx_driver: cannot open the log\n");
		return 2;
	}
	struct cfg *cfg = NULL;
	struct cfg_error ce;
	char err[1024];
	struct http_client *http = NULL;
	struct metrics *reg = NULL;
	struct rpc *rpc = NULL;
	int rc = 0;
	if (cfg_load(&cfg, conf, &ce) < 0 || settings_check(cfg, &ce) < 0) {
		fprintf(stderr, "tx_driver: %s\n", cfg_format_error(&ce, err, sizeof(err)));
		cfg_free(cfg);
		log_close();
		return 3;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	d.loop = ev_default_loop(0);
	http = http_client_new(d.loop);
	reg = metrics_new();
	rpc = rpc_new(d.loop, http, reg, cfg, err, sizeof(err));
	if (rpc)
		d.ts = txsend_new(d.loop, rpc, cfg, reg, state, err, sizeof(err));
	if (!d.ts) {
		fprintf(stderr, "tx_driver: %s\n", err);
		rc = 3;
		goto out;
	}
	if (txsend_start(d.ts) < 0)
		rc = 1;
	if (d.then && !d.when) {
		fprintf(stderr, "tx_driver: --then needs --when FILE\n");
		rc = 2;
	}
	d.t0 = mono();
	if (rc == 0)
		rc = submit_range(&d, 0, d.count);
	if (rc == 0) {
		ev_timer_init(&d.announce, announce_cb, 0.05, 0);
		d.announce.data = &d;
		ev_timer_start(d.loop, &d.announce);
		ev_timer_init(&d.poll, poll_cb, 0.005, 0.005);
		d.poll.data = &d;
		ev_timer_start(d.loop, &d.poll);
		ev_timer_init(&d.give_up, give_up_cb, timeout, 0);
		d.give_up.data = &d;
		ev_timer_start(d.loop, &d.give_up);
		ev_run(d.loop, 0);
		if (txsend_queue_length(d.ts) != 0)
			rc = 1;
		finish_line(&d);
		if (d.bench)
			metrics_collect(reg, print_latency, NULL);
		ev_timer_stop(d.loop, &d.poll);
		ev_timer_stop(d.loop, &d.give_up);
		ev_timer_stop(d.loop, &d.announce);
		ev_timer_stop(d.loop, &d.when_w);
	}
	txsend_stop(d.ts);
	txsend_free(d.ts);
out:
	rpc_free(rpc);
	http_client_free(http);
	metrics_free(reg);
	cfg_free(cfg);
	curl_global_cleanup();
	ev_loop_destroy(d.loop);
	log_close();
	return rc;
}
