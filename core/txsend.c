/* The transaction sender: queue, pipelining, submission, status following and
 * the judgement of outcomes (see txsend.h for the rules). */
#include <cjson/cJSON.h>
#include <ev.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "near/base64.h"
#include "near/hash.h"
#include "nonce.h"
#include "rpc.h"
#include "signer.h"
#include "txcheck.h"
#include "txjournal.h"
#include "txoutcome.h"
#include "txsend.h"

#define TX_LOG "tx"

enum tx_state {
	TX_QUEUED,	/* waiting to be signed: in key->queue */
	TX_LANE,	/* signed, waiting for its turn to be sent: in key->lane */
	TX_SENDING,	/* send_tx in flight */
	TX_FOLLOWING,	/* in key->followq (or pausing before it goes back there) */
	TX_CHECKING,	/* rejected bytes that may have been sent before: is the hash known? */
	TX_FINISHED,	/* outcome decided: in ts->finished until the journal is synced */
};

/* What to do when a CHECK finds the old hash unknown. */
enum then { THEN_RESIGN, THEN_REJECT };

static const char *const status_names[] = {
	[MPCI_TX_ACCEPTED] = "accepted", [MPCI_TX_SUCCEEDED] = "succeeded",
	[MPCI_TX_FAILED] = "failed", [MPCI_TX_UNKNOWN] = "unknown",
	[MPCI_TX_REJECTED] = "rejected",
};

struct tx;
struct txlist {
	struct tx *head, *tail;
	size_t n;
};

struct txkey {
	struct txsend *ts;
	struct signer *signer;		/* signs for this access key */
	const char *label;		/* the first signer's name, for metrics */
	struct nonce_state nonce;
	struct txlist queue;		/* TX_QUEUED, FIFO */
	struct txlist lane;		/* TX_LANE, by nonce */
	struct txlist followq;		/* TX_FOLLOWING: sent, outcome not known yet */
	struct tx *watch_tx;		/* the newest of followq, watched by a waiting `tx` */
	struct rpc_call *watch_call;
	ev_timer watch_pause;		/* after a failed watch */
	ev_timer sweep_timer;		/* the watch takes long: look at the rest anyway */
	size_t sweeping;		/* sweep looks in flight */
	size_t in_flight;		/* signed and not finished */
	size_t sending;			/* send_tx in flight */
	int ak_known;			/* the access key was read (or found missing) */
	int ak_stale;			/* read it again before signing */
	struct rpc_call *ak_call;
	ev_timer ak_retry;
};

struct txsigner {
	struct signer *s;		/* owned */
	struct txkey *key;
	size_t pending;			/* accepted, not finished */
};

struct tx {
	struct txsend *ts;
	struct txj_entry e;		/* what the journal knows */
	struct txsigner *sg;
	provider_tx_fn done;
	void *ctx;
	enum tx_state state;
	int replayed;			/* taken over from the journal */
	int counted;			/* holds a place in key->in_flight */
	int due;			/* in followq: to be looked at by the sweep */
	int log_here;			/* the journal could not take the outcome line */
	unsigned nonce_errors;		/* InvalidNonce answers for this one */
	int maybe_sent;			/* these bytes may have reached a node */
	int sent_before;		/* ... before the send_tx in flight */
	enum then then;
	char *then_error;
	char *b64;			/* of e.signed_tx */
	char hash_b58[NEAR_HASH_B58_MAX];
	uint64_t need_seq;		/* journal durable to here: may be sent / reported */
	double t_submit;		/* loop time of submit (or replay) */
	double deadline;		/* loop time */
	struct rpc_call *call;
	ev_timer pause;			/* before the next follow / check / send */
	ev_timer deadline_w;
	/* outcome */
	int status;
	char *value;
	size_t value_len;
	char *error;
	struct txlist *list;		/* the one list it is in, or NULL */
	struct tx *prev, *next;
	struct tx *all_prev, *all_next;	/* every live tx, oldest first */
};

struct txsend {
	struct ev_loop *loop;
	struct rpc *rpc;
	struct metrics *reg;
	char *contract;
	struct txsend_opts o;
	char *wait_until, *accept_level;
	int wait_lv, accept_lv;
	struct txsigner *signers;
	size_t n_signers;
	struct txkey **keys;
	size_t n_keys;
	struct txjournal *j;
	struct txj_state replay;	/* from open until start */
	struct tx *all_head, *all_tail;
	size_t n_all;
	struct txlist finished;
	uint64_t next_id;
	/* the final block new transactions are signed on */
	uint64_t final_height;
	uint8_t final_hash[NEAR_HASH_LEN];
	int block_stale;
	struct rpc_call *block_call;
	ev_timer block_timer, block_retry;
	ev_timer kick;
	int started, stopping, journal_failed, block_warned;
	uint64_t compacted_size;	/* the journal right after the last compaction */
	struct txsend_stats stats;
	struct metric *m_total, *m_submissions, *m_retries, *m_nonce_errors;
	struct metric *m_queue, *m_in_flight, *m_duration;
};

static void kick(struct txsend *ts);
static void finish(struct tx *t, int status, const char *error);
static enum log_level outcome_line(const struct tx *t, char *buf, size_t n);
static void lane_next(struct txkey *k, uint64_t durable);
static void follow(struct tx *t);
static void ensure_block(struct txsend *ts);

/* ---- small helpers ------------------------------------------------------ */

static void list_push(struct txlist *l, struct tx *t)
{
	t->list = l;
	t->next = NULL;
	t->prev = l->tail;
	if (l->tail)
		l->tail->next = t;
	else
		l->head = t;
	l->tail = t;
	l->n++;
}

static void list_push_front(struct txlist *l, struct tx *t)
{
	t->list = l;
	t->prev = NULL;
	t->next = l->head;
	if (l->head)
		l->head->prev = t;
	else
		l->tail = t;
	l->head = t;
	l->n++;
}

/* Put t after `at` (at the front when at is NULL). */
static void list_insert_after(struct txlist *l, struct tx *at, struct tx *t)
{
	if (!at) {
		list_push_front(l, t);
		return;
	}
	t->list = l;
	t->prev = at;
	t->next = at->next;
	if (at->next)
		at->next->prev = t;
	else
		l->tail = t;
	at->next = t;
	l->n++;
}

/* Keep lanes in nonce order: sends of one key leave in nonce order. */
static void list_insert_by_nonce(struct txlist *l, struct tx *t)
{
	struct tx *at = l->tail;
	while (at && at->e.nonce > t->e.nonce)
		at = at->prev;
	list_insert_after(l, at, t);
}

/* The queue stays in submission (id) order, also for re-signed ones. */
static void list_insert_by_id(struct txlist *l, struct tx *t)
{
	struct tx *at = l->tail;
	while (at && at->e.id > t->e.id)
		at = at->prev;
	list_insert_after(l, at, t);
}

/* Take t out of whatever list it is in. */
static void unlist(struct tx *t)
{
	struct txlist *l = t->list;
	if (!l)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		l->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		l->tail = t->prev;
	t->prev = t->next = NULL;
	t->list = NULL;
	l->n--;
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void m_add(struct metric *m, const char *a, const char *b, double v)
{
	const char *vals[] = { a, b, NULL };
	if (m)
		metric_add(m, vals, v);
}

static void gauges(struct txsigner *sg)
{
	struct txsend *ts = sg->key->ts;
	const char *vals[] = { sg->s->name, NULL };
	if (ts->m_queue)
		metric_set(ts->m_queue, vals, (double)sg->pending);
	if (ts->m_in_flight)
		metric_set(ts->m_in_flight, vals, (double)sg->key->in_flight);
}

static void retry_cause(struct txsend *ts, const char *cause)
{
	m_add(ts->m_retries, cause, NULL, 1);
}

/* The retry cause for an RPC failure class. */
static const char *class_cause(enum rpc_error_class c)
{
	switch (c) {
	case RPC_ERR_TIMEOUT: return "timeout";
	case RPC_ERR_TRANSPORT: return "transport";
	case RPC_ERR_HTTP_5XX: return "http_5xx";
	case RPC_ERR_RATE_LIMITED: return "rate_limited";
	default: return "malformed";
	}
}

static int cause_is(const struct rpc_result *res, const char *name)
{
	return res->cause_name && strcmp(res->cause_name, name) == 0;
}

static void tx_cancel_io(struct tx *t)
{
	if (t->call) {
		rpc_cancel(t->call);
		t->call = NULL;
		if (t->state == TX_FOLLOWING)
			t->sg->key->sweeping--; /* a followed tx's own call is a sweep look */
		else if (t->state == TX_SENDING)
			t->sg->key->sending--;
	}
	ev_timer_stop(t->ts->loop, &t->pause);
}

/* ---- signing ------------------------------------------------------------- */

static void drop_signature(struct tx *t)
{
	free(t->e.signed_tx);
	free(t->b64);
	t->e.signed_tx = NULL;
	t->b64 = NULL;
	t->e.signed_len = 0;
	t->e.is_signed = 0;
	t->maybe_sent = 0;
}

static int sign(struct tx *t)
{
	struct txsend *ts = t->ts;
	struct txkey *k = t->sg->key;
	struct near_signed_tx st;
	struct near_fc_action act = {
		.method = t->e.method, .args = t->e.args, .args_len = t->e.args_len,
		.gas = t->e.gas, .deposit = t->e.deposit,
	};
	uint64_t nonce = nonce_next(&k->nonce, ts->final_height);

	if (!nonce || signer_sign_call(k->signer, &st, nonce, t->e.receiver,
				       ts->final_hash, &act) < 0)
		return -1;
	drop_signature(t);
	t->e.signed_tx = st.bytes;
	t->e.signed_len = st.len;
	t->b64 = st.base64;
	memcpy(t->e.hash, st.hash, NEAR_HASH_LEN);
	snprintf(t->hash_b58, sizeof(t->hash_b58), "%s", st.hash_b58);
	t->e.nonce = nonce;
	t->e.base_height = ts->final_height;
	t->e.is_signed = 1;
	if (!t->e.key_id && !(t->e.key_id = strdup(k->signer->key_id))) {
		near_signed_tx_free(&st);
		t->e.signed_tx = NULL;
		t->b64 = NULL;
		t->e.is_signed = 0;
		return -1;
	}
	if (!t->counted) {
		t->counted = 1;
		k->in_flight++;
	}
	ts->stats.signed_txs++;
	t->need_seq = txjournal_next_seq(ts->j);
	if (txjournal_signed(ts->j, &t->e) < 0)
		ts->journal_failed = 1;
	log_info(TX_LOG, "tx %" PRIu64 " %s.%s signed: hash %s nonce %" PRIu64
		 " block %" PRIu64 " (signer %s)", t->e.id, t->e.receiver, t->e.method,
		 t->hash_b58, nonce, ts->final_height, t->sg->s->name);
	return 0;
}

/* Sign what the pipeline has room for; the signed go to the lane. */
static void sign_ready(struct txkey *k)
{
	struct txsend *ts = k->ts;
	struct tx *t;

	if (!k->queue.head || ts->stopping || ts->journal_failed)
		return;
	if (!ts->final_height || ts->block_stale) {
		ensure_block(ts);
		return;
	}
	if (!k->ak_known || k->ak_stale)
		return; /* the access key read is under way (or pausing) */
	while ((t = k->queue.head) && (t->counted || k->in_flight < ts->o.in_flight_max)) {
		unlist(t);
		if (sign(t) < 0) {
			finish(t, MPCI_TX_REJECTED, "could not sign (out of memory or nonce overflow)");
			continue;
		}
		t->state = TX_LANE;
		list_insert_by_nonce(&k->lane, t);
		gauges(t->sg);
	}
}

/* ---- the access key ------------------------------------------------------ */

static void read_access_key(struct txkey *k);

static void ak_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	read_access_key(w->data);
}

static void set_full_access(struct txkey *k, int full)
{
	struct txsend *ts = k->ts;
	for (size_t i = 0; i < ts->n_signers; i++)
		if (ts->signers[i].key == k)
			ts->signers[i].s->full_access = full;
}

static void take_block(struct txsend *ts, uint64_t height, const char *hash)
{
	uint8_t h[NEAR_HASH_LEN];
	if (!hash || height <= ts->final_height || near_hash_from_b58(h, hash) < 0)
		return;
	ts->final_height = height;
	memcpy(ts->final_hash, h, NEAR_HASH_LEN);
	ts->block_stale = 0;
}

static void on_access_key(const struct rpc_result *res, void *ud)
{
	struct txkey *k = ud;
	struct txsend *ts = k->ts;
	const cJSON *r = res->result;

	k->ak_call = NULL;
	if (res->ok && cJSON_IsObject(r)) {
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(r, "error");
		const cJSON *perm = cJSON_GetObjectItemCaseSensitive(r, "permission");
		uint64_t nonce = 0, height = 0;
		const char *hash = NULL;
		if (cJSON_IsString(err)) {
			log_warn(TX_LOG, "access key %s: %s; sending anyway, the node will judge",
				 k->signer->key_id, err->valuestring);
		} else if (rpc_json_u64(cJSON_GetObjectItemCaseSensitive(r, "nonce"), &nonce) == 0) {
			nonce_set_access_key(&k->nonce, nonce);
			set_full_access(k, cJSON_IsString(perm) &&
					strcmp(perm->valuestring, "FullAccess") == 0);
			if (rpc_parse_view_where(r, &height, &hash) == 0)
				take_block(ts, height, hash);
			log_debug(TX_LOG, "access key %s: nonce %" PRIu64 ", %s", k->signer->key_id,
				  nonce, k->signer->full_access ? "full access" : "function-call key");
		} else {
			goto retry;
		}
		k->ak_known = 1;
		k->ak_stale = 0;
		kick(ts);
		return;
	}
	if (!res->ok && (cause_is(res, "UNKNOWN_ACCESS_KEY") || cause_is(res, "UNKNOWN_ACCOUNT"))) {
		log_warn(TX_LOG, "access key %s: %s; sending anyway, the node will judge",
			 k->signer->key_id, res->message);
		k->ak_known = 1;
		k->ak_stale = 0;
		kick(ts);
		return;
	}
retry:
	log_warn(TX_LOG, "reading access key %s: %s; again in %.1f s", k->signer->key_id,
		 res->ok ? "unexpected answer" : res->message, ts->o.retry_interval);
	ev_timer_set(&k->ak_retry, ts->o.retry_interval, 0);
	ev_timer_start(ts->loop, &k->ak_retry);
}

static void read_access_key(struct txkey *k)
{
	struct txsend *ts = k->ts;
	char params[512];

	if (k->ak_call || ev_is_active(&k->ak_retry))
		return;
	snprintf(params, sizeof(params),
		 "{\"request_type\":\"view_access_key\",\"finality\":\"final\","
		 "\"account_id\":\"%s\",\"public_key\":\"%s\"}",
		 k->signer->account_id, k->signer->pk_str);
	k->ak_call = rpc_call(ts->rpc, "query", params, NULL, on_access_key, k);
	if (!k->ak_call) {
		ev_timer_set(&k->ak_retry, ts->o.retry_interval, 0);
		ev_timer_start(ts->loop, &k->ak_retry);
	}
}

/* ---- the block hash ------------------------------------------------------- */

static void on_block(const struct rpc_block_ref *b, void *ud)
{
	struct txsend *ts = ud;

	ts->block_call = NULL;
	if (b->ok) {
		uint8_t h[NEAR_HASH_LEN];
		if (near_hash_from_b58(h, b->hash) == 0 && b->height) {
			/* Never go back: a lagging endpoint may answer an older final block. */
			if (b->height >= ts->final_height) {
				ts->final_height = b->height;
				memcpy(ts->final_hash, h, NEAR_HASH_LEN);
			}
			ts->block_stale = 0;
			ts->block_warned = 0;
			kick(ts);
			return;
		}
	}
	if (!ts->block_warned++)
		log_warn(TX_LOG, "reading the final block: %s; again every %.1f s",
			 b->ok ? "bad block hash" : b->rpc->message, ts->o.retry_interval);
	ev_timer_set(&ts->block_retry, ts->o.retry_interval, 0);
	ev_timer_start(ts->loop, &ts->block_retry);
}

static void ensure_block(struct txsend *ts)
{
	if (ts->block_call || ev_is_active(&ts->block_retry))
		return;
	ts->block_call = rpc_final_block(ts->rpc, NULL, on_block, ts);
	if (!ts->block_call) {
		ev_timer_set(&ts->block_retry, ts->o.retry_interval, 0);
		ev_timer_start(ts->loop, &ts->block_retry);
	}
}

static void block_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ensure_block(w->data);
}

static void block_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ensure_block(w->data);
}

/* ---- outcomes -------------------------------------------------------------- */

static void set_error(struct tx *t, const char *error)
{
	free(t->error);
	t->error = error ? strdup(error) : NULL;
}

/* Decide the outcome: remove from every list, journal DONE; reported by the
 * next pump, after the journal sync. */
static void finish(struct tx *t, int status, const char *error)
{
	struct txsend *ts = t->ts;
	struct txkey *k = t->sg->key;

	if (t->state == TX_FINISHED)
		return;
	tx_cancel_io(t);
	ev_timer_stop(ts->loop, &t->deadline_w);
	if (k->watch_tx == t) {
		/* the watch is on this one: drop it; the next pump watches another */
		rpc_cancel(k->watch_call);
		k->watch_call = NULL;
		k->watch_tx = NULL;
	}
	unlist(t);
	if (t->counted) {
		k->in_flight--;
		t->counted = 0;
	}
	t->status = status;
	if (error)
		set_error(t, error);
	t->state = TX_FINISHED;
	t->need_seq = txjournal_next_seq(ts->j);
	if (txjournal_done(ts->j, t->e.id, status) < 0)
		ts->journal_failed = 1;
	/* logged by the journal's writer the moment DONE is on disk */
	char line[2048];
	enum log_level lvl = outcome_line(t, line, sizeof(line));
	if (txjournal_note(ts->j, (int)lvl, TX_LOG, line) < 0)
		t->log_here = 1;
	list_push(&ts->finished, t);
	m_add(ts->m_total, t->e.method, status_names[status], 1);
	if (ts->m_duration) {
		const char *vals[] = { t->e.method, NULL };
		metric_observe(ts->m_duration, vals, ev_now(ts->loop) - t->t_submit);
	}
	gauges(t->sg);
	kick(ts);
}

static void all_del(struct txsend *ts, struct tx *t)
{
	if (t->all_prev)
		t->all_prev->all_next = t->all_next;
	else
		ts->all_head = t->all_next;
	if (t->all_next)
		t->all_next->all_prev = t->all_prev;
	else
		ts->all_tail = t->all_prev;
	ts->n_all--;
}

static void all_add(struct txsend *ts, struct tx *t)
{
	t->all_next = NULL;
	t->all_prev = ts->all_tail;
	if (ts->all_tail)
		ts->all_tail->all_next = t;
	else
		ts->all_head = t;
	ts->all_tail = t;
	ts->n_all++;
}

static void tx_free(struct tx *t)
{
	struct txj_entry *e = &t->e;
	free(e->signer);
	free(e->receiver);
	free(e->method);
	free(e->args);
	free(e->key_id);
	free(e->signed_tx);
	free(t->b64);
	free(t->then_error);
	free(t->value);
	free(t->error);
	free(t);
}

/* Tell the caller (or, for a replayed transaction, the log) and forget it. */
/* The outcome's log line. */
static enum log_level outcome_line(const struct tx *t, char *buf, size_t n)
{
	snprintf(buf, n, "tx %" PRIu64 " %s: %s.%s hash %s nonce %" PRIu64 " signer %s%s%.1500s%s",
		 t->e.id, status_names[t->status], t->e.receiver, t->e.method,
		 t->e.is_signed ? t->hash_b58 : "-", t->e.nonce, t->sg->s->name,
		 t->error ? ": " : "", t->error ? t->error : "",
		 t->replayed ? " (replayed from the journal)" : "");
	return t->status == MPCI_TX_SUCCEEDED || t->status == MPCI_TX_ACCEPTED ?
	       LOG_LVL_INFO : LOG_LVL_WARN;
}

/* Tell the caller; the log line was written when DONE reached the disk
 * (here only when the journal could not do it). */
static void report(struct tx *t, int status, const char *error)
{
	struct txsend *ts = t->ts;
	struct mpci_tx_result r = {
		.struct_size = sizeof(r), .id = t->e.id, .status = status,
		.hash = t->e.is_signed ? t->hash_b58 : NULL,
		.value = t->value, .value_len = t->value_len, .error = error,
	};

	if (t->log_here || ts->journal_failed) {
		char line[2048];
		enum log_level lvl = outcome_line(t, line, sizeof(line));
		log_msg(lvl, TX_LOG, "%s", line);
	}
	ts->stats.reported++;
	if (t->done)
		t->done(t->ctx, &r);
}

/* 1: finished (outcome set), 0: not there yet. */
static int judge(struct tx *t, const cJSON *res)
{
	struct txsend *ts = t->ts;
	struct txoutcome o;

	if (t->e.wait == MPCI_TX_SEND) {
		const cJSON *fes = cJSON_GetObjectItemCaseSensitive(res, "final_execution_status");
		int lv = cJSON_IsString(fes) ? tx_level_parse(fes->valuestring) : -1;
		if (lv >= 0 && !tx_level_meets(lv, ts->accept_lv))
			return 0;
		finish(t, MPCI_TX_ACCEPTED, NULL);
		return 1;
	}
	if (txoutcome_judge(res, ts->wait_lv, &o) < 0) {
		log_warn(TX_LOG, "tx %" PRIu64 " hash %s: unusable outcome (%s); asking again",
			 t->e.id, t->hash_b58, o.error ? o.error : "?");
		txoutcome_free(&o);
		return 0;
	}
	switch (o.kind) {
	case TXO_SUCCEEDED:
		free(t->value);
		t->value = o.value;
		t->value_len = o.value_len;
		o.value = NULL;
		finish(t, MPCI_TX_SUCCEEDED, NULL);
		break;
	case TXO_FAILED:
		finish(t, MPCI_TX_FAILED, o.error);
		break;
	case TXO_INVALID:
		finish(t, MPCI_TX_REJECTED, o.error);
		break;
	default:
		txoutcome_free(&o);
		return 0;
	}
	txoutcome_free(&o);
	return 1;
}

/* ---- sending and following --------------------------------------------------- */

static void pause_then(struct tx *t, enum tx_state st);

/* Send (again) from the lane, in nonce order. */
static void to_lane(struct tx *t)
{
	t->state = TX_LANE;
	list_insert_by_nonce(&t->sg->key->lane, t);
	kick(t->ts);
}

static void resign(struct tx *t, const char *cause)
{
	struct txsend *ts = t->ts;
	struct txkey *k = t->sg->key;

	ts->stats.resigns++;
	retry_cause(ts, cause);
	log_info(TX_LOG, "tx %" PRIu64 ": %s for hash %s; signing it again", t->e.id,
		 cause, t->hash_b58);
	drop_signature(t);
	t->state = TX_QUEUED;
	list_insert_by_id(&k->queue, t);
	kick(ts);
}

static void on_checked(const struct rpc_result *res, void *ud);

/* Is the old hash known anywhere?  Only an unknown hash may be replaced. */
static void check(struct tx *t, enum then then, const char *error)
{
	struct txsend *ts = t->ts;
	char params[256];

	t->state = TX_CHECKING;
	t->then = then;
	free(t->then_error);
	t->then_error = error ? strdup(error) : NULL;
	snprintf(params, sizeof(params),
		 "{\"tx_hash\":\"%s\",\"sender_account_id\":\"%s\",\"wait_until\":\"NONE\"}",
		 t->hash_b58, t->sg->s->account_id);
	/* one attempt: a failure comes back here and is retried after a pause */
	struct rpc_call_opts o = { .timeout = ts->o.status_timeout, .no_retry = 1 };
	t->call = rpc_call(ts->rpc, "tx", params, &o, on_checked, t);
	if (!t->call)
		pause_then(t, TX_CHECKING);
}

static void on_checked(const struct rpc_result *res, void *ud)
{
	struct tx *t = ud;

	t->call = NULL;
	if (res->ok) {
		log_info(TX_LOG, "tx %" PRIu64 ": hash %s is known after all; following it",
			 t->e.id, t->hash_b58);
		follow(t);
	} else if (cause_is(res, "UNKNOWN_TRANSACTION")) {
		if (t->then == THEN_RESIGN)
			resign(t, "unknown_tx");
		else
			finish(t, MPCI_TX_REJECTED, t->then_error);
	} else {
		pause_then(t, TX_CHECKING);
	}
}

/* The InvalidTxError of an INVALID_TRANSACTION answer: its name, and the
 * value (a string or an object holding the details). */
static const char *invalid_tx(const struct rpc_result *res, const cJSON **detail)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(res->error, "data");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(d, "TxExecutionError"), "InvalidTxError");
	*detail = NULL;
	if (cJSON_IsString(e))
		return e->valuestring;
	if (cJSON_IsObject(e) && e->child && e->child->string) {
		*detail = e->child;
		return e->child->string;
	}
	return "InvalidTransaction";
}

static uint64_t detail_u64(const cJSON *detail, const char *key)
{
	uint64_t v = 0;
	(void)rpc_json_u64(cJSON_GetObjectItemCaseSensitive(detail, key), &v);
	return v;
}

static void on_invalid(struct tx *t, const struct rpc_result *res, int definite)
{
	struct txsend *ts = t->ts;
	struct txkey *k = t->sg->key;
	const cJSON *detail;
	const char *name = invalid_tx(res, &detail);
	char why[512];
	char *dj = detail ? cJSON_PrintUnformatted(detail) : NULL;

	snprintf(why, sizeof(why), "InvalidTxError %s%s%s", name, dj ? " " : "", dj ? dj : "");
	free(dj);
	log_info(TX_LOG, "tx %" PRIu64 " hash %s nonce %" PRIu64 ": %s%s", t->e.id, t->hash_b58,
		 t->e.nonce, why, definite ? "" : " (these bytes may have been sent before)");
	if (strcmp(name, "InvalidNonce") == 0 || strcmp(name, "NonceTooLarge") == 0) {
		ts->stats.nonce_errors++;
		m_add(ts->m_nonce_errors, t->sg->s->name, NULL, 1);
		if (strcmp(name, "InvalidNonce") == 0)
			nonce_invalid(&k->nonce, detail_u64(detail, "ak_nonce"));
		else if (nonce_too_large(&k->nonce, detail_u64(detail, "upper_bound")))
			log_warn(TX_LOG, "access key %s: nonce high-water mark above the chain's "
				 "bound; starting again from the access key", k->signer->key_id);
		k->ak_stale = 1;
		read_access_key(k);
		if (!definite) {
			check(t, THEN_RESIGN, NULL);
		} else if (++t->nonce_errors > 2) {
			/* someone keeps using this key: do not race them flat out */
			ts->stats.resigns++;
			retry_cause(ts, "invalid_nonce");
			drop_signature(t);
			pause_then(t, TX_QUEUED);
		} else {
			resign(t, "invalid_nonce");
		}
	} else if (strcmp(name, "Expired") == 0 || strcmp(name, "InvalidChain") == 0) {
		ts->block_stale = 1;
		ensure_block(ts);
		if (definite)
			resign(t, "expired");
		else
			check(t, THEN_RESIGN, NULL);
	} else if (strcmp(name, "ShardCongested") == 0 || strcmp(name, "ShardStuck") == 0) {
		retry_cause(ts, "congested");
		pause_then(t, TX_LANE);
	} else if (definite) {
		finish(t, MPCI_TX_REJECTED, why);
	} else {
		check(t, THEN_REJECT, why);
	}
}

static void on_sent(const struct rpc_result *res, void *ud)
{
	struct tx *t = ud;
	struct txsend *ts = t->ts;
	struct txkey *k = t->sg->key;
	int definite = !t->sent_before && res->attempts <= 1;

	t->call = NULL;
	k->sending--;
	/* keep the lane busy: the next send goes out now, not after a loop turn */
	if (ts->started)
		lane_next(k, txjournal_durable(ts->j));
	if (res->ok) {
		if (t->e.wait == MPCI_TX_SEND && ts->accept_lv == TXL_NONE)
			finish(t, MPCI_TX_ACCEPTED, NULL);
		else
			follow(t);
		return;
	}
	if (res->cls == RPC_ERR_HANDLER && cause_is(res, "INVALID_TRANSACTION")) {
		on_invalid(t, res, definite);
		return;
	}
	if (res->cls == RPC_ERR_VALIDATION && definite) {
		/* the node could not even parse what we sent */
		finish(t, MPCI_TX_REJECTED, res->message);
		return;
	}
	/* Timeouts, transport, 5xx, 429 (rpc.c failed over and gave up), or an
	 * answer we cannot use: it may have landed; follow the same hash. */
	retry_cause(ts, class_cause(res->cls));
	log_info(TX_LOG, "tx %" PRIu64 " hash %s: send_tx: %s; following the hash",
		 t->e.id, t->hash_b58, res->message);
	pause_then(t, TX_FOLLOWING);
}

static void send(struct tx *t)
{
	struct txsend *ts = t->ts;
	size_t n = strlen(t->b64) + 96;
	char *params = malloc(n);
	struct rpc_call_opts o = { .timeout = ts->o.status_timeout };

	t->state = TX_SENDING;
	t->sent_before = t->maybe_sent;
	t->maybe_sent = 1;
	t->sg->key->sending++;
	ts->stats.submissions++;
	if (t->sent_before)
		ts->stats.resubmissions++;
	m_add(ts->m_submissions, t->sent_before ? "again" : "first", NULL, 1);
	if (params) {
		snprintf(params, n, "{\"signed_tx_base64\":\"%s\",\"wait_until\":\"NONE\"}", t->b64);
		t->call = rpc_call(ts->rpc, "send_tx", params, &o, on_sent, t);
		free(params);
	}
	if (!t->call) {
		t->sg->key->sending--;
		pause_then(t, TX_FOLLOWING);
	}
}

/*
 * Following.  A node can wait for a transaction (`tx` with wait_until), but
 * one waiting call per transaction ties up a connection per transaction.
 * Instead one call per key waits for the newest transaction sent (the
 * watch); when it comes back the older ones, sent before it, are most likely
 * done too and are looked at without waiting (the sweep).  What is not done
 * yet stays for the next sweep.  Should the watched one be slow, the sweep
 * timer looks at the others after sweep_interval anyway.
 */
static void ensure_watch(struct txkey *k);

static int tx_level(const struct tx *t)
{
	return t->e.wait == MPCI_TX_SEND ? t->ts->accept_lv : t->ts->wait_lv;
}

/* Not at its level, or unknown to the node: send the same bytes again (at
 * most one execution per hash) and keep following. */
static void look_failed(struct tx *t, const struct rpc_result *res, int watched)
{
	struct txsend *ts = t->ts;
	int unknown = cause_is(res, "UNKNOWN_TRANSACTION");

	if (unknown && ts->final_height > t->e.base_height + ts->o.validity_blocks) {
		/* its block hash is past the validity period: it can never land */
		unlist(t);
		resign(t, "expired");
	} else if (res->cls == RPC_ERR_TIMEOUT || unknown) {
		retry_cause(ts, unknown ? "unknown_tx" : "timeout");
		log_debug(TX_LOG, "tx %" PRIu64 " hash %s: tx: %s; sending the same bytes again",
			  t->e.id, t->hash_b58, res->message);
		unlist(t);
		to_lane(t);
	} else if (watched) {
		retry_cause(ts, class_cause(res->cls));
	}
}

/* A few looks at a time keep the connections few and reused. */
#define SWEEP_PARALLEL 8

static void sweep_more(struct txkey *k);

static void on_swept(const struct rpc_result *res, void *ud)
{
	struct tx *t = ud;
	struct txkey *k = t->sg->key;

	t->call = NULL;
	k->sweeping--;
	if (res->ok)
		judge(t, res->result); /* not there yet: stays in followq */
	else
		look_failed(t, res, 0);
	sweep_more(k);
}

static void sweep_more(struct txkey *k)
{
	struct txsend *ts = k->ts;
	struct rpc_call_opts o = { .timeout = ts->o.status_timeout, .no_retry = 1 };
	char params[256];

	for (struct tx *t = k->followq.head; t && k->sweeping < SWEEP_PARALLEL; t = t->next) {
		if (!t->due || t == k->watch_tx || t->call)
			continue;
		t->due = 0;
		snprintf(params, sizeof(params),
			 "{\"tx_hash\":\"%s\",\"sender_account_id\":\"%s\",\"wait_until\":\"NONE\"}",
			 t->hash_b58, t->sg->s->account_id);
		t->call = rpc_call(ts->rpc, "tx", params, &o, on_swept, t);
		if (t->call)
			k->sweeping++;
	}
}

/* Look (without waiting) at every followed tx up to nonce `upto`. */
static void sweep(struct txkey *k, uint64_t upto)
{
	for (struct tx *t = k->followq.head; t && t->e.nonce <= upto; t = t->next)
		if (t != k->watch_tx && !t->call)
			t->due = 1;
	sweep_more(k);
}

static void on_watch(const struct rpc_result *res, void *ud)
{
	struct txkey *k = ud;
	struct txsend *ts = k->ts;
	struct tx *t = k->watch_tx;
	uint64_t upto = t->e.nonce;

	k->watch_call = NULL;
	k->watch_tx = NULL;
	ev_timer_stop(ts->loop, &k->sweep_timer);
	if (res->ok) {
		judge(t, res->result);
	} else {
		look_failed(t, res, 1);
		if (res->cls != RPC_ERR_TIMEOUT && !cause_is(res, "UNKNOWN_TRANSACTION")) {
			/* the endpoint is in trouble: pause, rpc.c picks another */
			ev_timer_set(&k->watch_pause, ts->o.retry_interval, 0);
			ev_timer_start(ts->loop, &k->watch_pause);
		}
	}
	sweep(k, upto);
	ensure_watch(k);
}

static void ensure_watch(struct txkey *k)
{
	struct txsend *ts = k->ts;
	struct tx *t = k->followq.tail;
	char params[256];

	if (k->watch_call || !t || ev_is_active(&k->watch_pause))
		return;
	snprintf(params, sizeof(params),
		 "{\"tx_hash\":\"%s\",\"sender_account_id\":\"%s\",\"wait_until\":\"%s\"}",
		 t->hash_b58, t->sg->s->account_id, tx_level_name(tx_level(t)));
	struct rpc_call_opts o = { .timeout = ts->o.status_timeout, .no_retry = 1 };
	if (t->call) {
		/* a sweep look is under way for it: the watch replaces it */
		rpc_cancel(t->call);
		t->call = NULL;
		k->sweeping--;
	}
	t->due = 0;
	k->watch_call = rpc_call(ts->rpc, "tx", params, &o, on_watch, k);
	if (!k->watch_call) {
		ev_timer_set(&k->watch_pause, ts->o.retry_interval, 0);
		ev_timer_start(ts->loop, &k->watch_pause);
		return;
	}
	k->watch_tx = t;
	ev_timer_set(&k->sweep_timer, ts->o.sweep_interval, 0);
	ev_timer_start(ts->loop, &k->sweep_timer);
}

static void watch_pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct txkey *k = w->data;
	sweep(k, UINT64_MAX);
	ensure_watch(k);
}

static void sweep_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct txkey *k = w->data;
	sweep(k, UINT64_MAX);
	if (k->watch_call) {
		ev_timer_set(&k->sweep_timer, k->ts->o.sweep_interval, 0);
		ev_timer_start(loop, &k->sweep_timer);
	}
}

static void follow(struct tx *t)
{
	struct txkey *k = t->sg->key;

	t->state = TX_FOLLOWING;
	t->due = 0;
	list_insert_by_nonce(&k->followq, t);
	ensure_watch(k);
}

/* Wait retry_interval, then: follow (TX_FOLLOWING), check (TX_CHECKING),
 * queue the bytes for sending again (TX_LANE) or queue it for signing again
 * (TX_QUEUED). */
static void pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tx *t = w->data;
	enum tx_state next = t->state;

	if (next == TX_CHECKING) {
		check(t, t->then, t->then_error);
	} else if (next == TX_LANE) {
		to_lane(t);
	} else if (next == TX_QUEUED) {
		list_insert_by_id(&t->sg->key->queue, t);
		kick(t->ts);
	} else {
		follow(t);
	}
}

static void pause_then(struct tx *t, enum tx_state st)
{
	/* in limbo (no list) until the timer fires; the state says what next */
	t->state = st;
	ev_timer_set(&t->pause, t->ts->o.retry_interval, 0);
	ev_timer_start(t->ts->loop, &t->pause);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tx *t = w->data;
	char why[128];

	if (t->state == TX_FINISHED)
		return;
	if (!t->maybe_sent && !(t->state == TX_SENDING)) {
		snprintf(why, sizeof(why), "not sent within the deadline of %.0f s", t->e.deadline);
		finish(t, MPCI_TX_REJECTED, why);
	} else {
		snprintf(why, sizeof(why), "no outcome within the deadline of %.0f s", t->e.deadline);
		finish(t, MPCI_TX_UNKNOWN, why);
	}
}

/* ---- the pump: sign, sync, report, send, compact ------------------------------ */

static void compact(struct txsend *ts)
{
	char err[512];
	const struct txj_entry **live = malloc((ts->n_all + 1) * sizeof(*live));
	struct txj_hwm *hwm = malloc((ts->n_keys + 1) * sizeof(*hwm));
	size_t n = 0;

	if (!live || !hwm) {
		free(live);
		free(hwm);
		return;
	}
	for (struct tx *t = ts->all_head; t; t = t->all_next)
		if (t->state != TX_FINISHED)
			live[n++] = &t->e;
	for (size_t i = 0; i < ts->n_keys; i++) {
		hwm[i].key_id = ts->keys[i]->signer->key_id;
		hwm[i].nonce = ts->keys[i]->nonce.last;
	}
	if (txjournal_compact(ts->j, live, n, hwm, ts->n_keys, err, sizeof(err)) < 0)
		log_error(TX_LOG, "%s", err);
	else
		log_debug(TX_LOG, "journal compacted: %zu transactions pending", n);
	ts->compacted_size = txjournal_size(ts->j);
	free(live);
	free(hwm);
}

/* Notice a failed journal once: from then on nothing new is sent. */
static int journal_ok(struct txsend *ts)
{
	char err[512];

	if (!ts->journal_failed && txjournal_failed(ts->j, err, sizeof(err))) {
		log_error(TX_LOG, "%s: nothing new is sent until the daemon restarts", err);
		ts->journal_failed = 1;
	}
	return !ts->journal_failed;
}

/* Report the outcomes whose DONE record is on disk (or all of them once
 * the disk has failed: then at least the callers hear of them). */
static void deliver_finished(struct txsend *ts, uint64_t durable, int all)
{
	struct tx *t;

	while ((t = ts->finished.head) && (all || t->need_seq <= durable)) {
		unlist(t);
		all_del(ts, t);
		t->sg->pending--; /* the queue length counts until the report */
		gauges(t->sg);
		report(t, t->status, t->error);
		tx_free(t);
	}
}

/* Send from the lane, in nonce order, what may go now. */
static void lane_next(struct txkey *k, uint64_t durable)
{
	struct txsend *ts = k->ts;
	struct tx *t;

	while ((t = k->lane.head) && k->sending < ts->o.submit_parallel) {
		/* never send bytes whose SIGNED record is not on disk */
		if (!t->maybe_sent && (ts->journal_failed || ts->stopping || t->need_seq > durable))
			break;
		unlist(t);
		send(t);
	}
}

static void on_durable(void *ud, uint64_t seq)
{
	kick(ud);
}

static void pump(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct txsend *ts = w->data;

	if (!ts->started)
		return;
	for (size_t i = 0; i < ts->n_keys; i++)
		sign_ready(ts->keys[i]);
	txjournal_flush(ts->j);
	int ok = journal_ok(ts);
	uint64_t durable = txjournal_durable(ts->j);
	deliver_finished(ts, durable, !ok);
	for (size_t i = 0; i < ts->n_keys; i++)
		lane_next(ts->keys[i], durable);
	/* Rewrite when it has grown past the limit and doubled since last time
	 * (a queue that alone exceeds the limit is not rewritten every turn). */
	uint64_t size = txjournal_size(ts->j);
	if (ok && size > ts->o.compact_bytes && size > 2 * ts->compacted_size)
		compact(ts);
}

static void kick(struct txsend *ts)
{
	if (!ev_is_active(&ts->kick)) {
		ev_timer_set(&ts->kick, 0, 0);
		ev_timer_start(ts->loop, &ts->kick);
	}
}

/* ---- construction ------------------------------------------------------------------ */

static struct txkey *key_for(struct txsend *ts, struct signer *s)
{
	for (size_t i = 0; i < ts->n_keys; i++)
		if (strcmp(ts->keys[i]->signer->key_id, s->key_id) == 0)
			return ts->keys[i];
	struct txkey *k = calloc(1, sizeof(*k)), **v;
	if (!k || !(v = realloc(ts->keys, (ts->n_keys + 1) * sizeof(*v)))) {
		free(k);
		return NULL;
	}
	ts->keys = v;
	k->ts = ts;
	k->signer = s;
	k->label = s->name;
	ev_timer_init(&k->ak_retry, ak_retry_cb, 0, 0);
	k->ak_retry.data = k;
	ev_timer_init(&k->watch_pause, watch_pause_cb, 0, 0);
	k->watch_pause.data = k;
	ev_timer_init(&k->sweep_timer, sweep_timer_cb, 0, 0);
	k->sweep_timer.data = k;
	ts->keys[ts->n_keys++] = k;
	return k;
}

static void defaults(struct txsend_opts *o)
{
	if (!o->queue_max)
		o->queue_max = 10000;
	if (!o->in_flight_max)
		o->in_flight_max = 256;
	if (!o->submit_parallel)
		o->submit_parallel = 1;
	if (!(o->wait_deadline > 0))
		o->wait_deadline = 120;
	if (!o->default_gas)
		o->default_gas = 300 * NEAR_TGAS;
	if (!(o->block_refresh > 0))
		o->block_refresh = 10;
	if (!(o->retry_interval > 0))
		o->retry_interval = 1;
	if (!(o->sweep_interval > 0))
		o->sweep_interval = 1;
	if (!o->validity_blocks)
		o->validity_blocks = 86400;
	if (!(o->status_timeout > 0))
		o->status_timeout = 20;
	if (!o->compact_bytes)
		o->compact_bytes = 8u << 20;
}

static void register_metrics(struct txsend *ts)
{
	static const char *const mo[] = { "method", "outcome", NULL };
	static const char *const kind[] = { "kind", NULL };
	static const char *const cause[] = { "cause", NULL };
	static const char *const signer[] = { "signer", NULL };
	static const char *const method[] = { "method", NULL };
	static const double bounds[] = { 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300 };
	char err[256];

	if (!ts->reg)
		return;
	ts->m_total = metrics_counter(ts->reg, "mpc_indexer_tx_total",
		"Transactions by method and outcome (accepted, succeeded, failed, unknown, rejected)",
		mo, err, sizeof(err));
	ts->m_submissions = metrics_counter(ts->reg, "mpc_indexer_tx_submissions_total",
		"send_tx calls: first sending of signed bytes, or again", kind, err, sizeof(err));
	ts->m_retries = metrics_counter(ts->reg, "mpc_indexer_tx_retries_total",
		"Transactions sent, followed or signed again, by cause", cause, err, sizeof(err));
	ts->m_nonce_errors = metrics_counter(ts->reg, "mpc_indexer_tx_nonce_errors_total",
		"InvalidNonce and NonceTooLarge answers", signer, err, sizeof(err));
	ts->m_queue = metrics_gauge(ts->reg, "mpc_indexer_tx_queue_length",
		"Transactions accepted and not yet reported", signer, err, sizeof(err));
	ts->m_in_flight = metrics_gauge(ts->reg, "mpc_indexer_tx_in_flight",
		"Signed transactions not yet reported, per access key (by its first signer)",
		signer, err, sizeof(err));
	ts->m_duration = metrics_histogram(ts->reg, "mpc_indexer_tx_duration_seconds",
		"Time from submit to outcome", method, bounds,
		sizeof(bounds) / sizeof(bounds[0]), err, sizeof(err));
}

static struct txsend *create(struct ev_loop *loop, struct rpc *rpc,
			     struct signer **signers, size_t n,
			     const struct txsend_opts *o, const char *contract,
			     struct metrics *reg, const char *state_dir, char *err,
			     size_t errsz)
{
	struct txsend *ts = calloc(1, sizeof(*ts));
	size_t i;

	if (!ts) {
		for (i = 0; i < n; i++)
			signer_free(signers[i]);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	ts->loop = loop;
	ts->rpc = rpc;
	ts->reg = reg;
	ts->o = *o;
	defaults(&ts->o);
	ev_timer_init(&ts->kick, pump, 0, 0);
	ts->kick.data = ts;
	ev_timer_init(&ts->block_timer, block_timer_cb, ts->o.block_refresh, ts->o.block_refresh);
	ts->block_timer.data = ts;
	ev_timer_init(&ts->block_retry, block_retry_cb, 0, 0);
	ts->block_retry.data = ts;
	ts->signers = calloc(n ? n : 1, sizeof(*ts->signers));
	ts->wait_until = strdup(ts->o.wait_until ? ts->o.wait_until : "EXECUTED");
	ts->accept_level = strdup(ts->o.accept_level ? ts->o.accept_level : "INCLUDED");
	ts->contract = contract ? strdup(contract) : NULL;
	if (!ts->signers || !ts->wait_until || !ts->accept_level || (contract && !ts->contract)) {
		for (i = 0; i < n; i++)
			signer_free(signers[i]);
		snprintf(err, errsz, "out of memory");
		txsend_free(ts);
		return NULL;
	}
	for (i = 0; i < n; i++)
		ts->signers[ts->n_signers++].s = signers[i];
	ts->o.wait_until = ts->wait_until;
	ts->o.accept_level = ts->accept_level;
	ts->wait_lv = tx_level_parse(ts->wait_until);
	ts->accept_lv = tx_level_parse(ts->accept_level);
	if (ts->wait_lv != TXL_EXECUTED_OPTIMISTIC && ts->wait_lv != TXL_EXECUTED &&
	    ts->wait_lv != TXL_FINAL) {
		snprintf(err, errsz, "[tx] wait_until '%s': want EXECUTED_OPTIMISTIC, EXECUTED or FINAL",
			 ts->wait_until);
		txsend_free(ts);
		return NULL;
	}
	if (ts->accept_lv < 0 || ts->accept_lv == TXL_EXECUTED_OPTIMISTIC ||
	    ts->accept_lv > TXL_INCLUDED_FINAL) {
		snprintf(err, errsz, "[tx] accept_level '%s': want NONE, INCLUDED or INCLUDED_FINAL",
			 ts->accept_level);
		txsend_free(ts);
		return NULL;
	}
	for (i = 0; i < ts->n_signers; i++) {
		if (!(ts->signers[i].key = key_for(ts, ts->signers[i].s))) {
			snprintf(err, errsz, "out of memory");
			txsend_free(ts);
			return NULL;
		}
	}
	if (txjournal_open(&ts->j, state_dir, &ts->replay, err, errsz) < 0) {
		txsend_free(ts);
		return NULL;
	}
	for (i = 0; i < ts->n_keys; i++) {
		struct txkey *k = ts->keys[i];
		nonce_init(&k->nonce, 0);
		for (size_t h = 0; h < ts->replay.n_hwm; h++)
			if (strcmp(ts->replay.hwm[h].key_id, k->signer->key_id) == 0)
				nonce_init(&k->nonce, ts->replay.hwm[h].nonce);
	}
	ts->next_id = ts->replay.max_id;
	register_metrics(ts);
	return ts;
}

struct txsend *txsend_new_with(struct ev_loop *loop, struct rpc *rpc,
			       struct signer *signer,
			       const struct txsend_opts *o,
			       struct metrics *reg, const char *state_dir,
			       char *err, size_t errsz)
{
	struct txsend_opts none = { 0 };
	return create(loop, rpc, &signer, signer ? 1 : 0, o ? o : &none,
		      o ? o->contract : NULL, reg, state_dir, err, errsz);
}

/* "file:line: [tx] key: msg" */
static void cfg_fail(const struct cfg *cfg, const char *key, const char *msg,
		     char *err, size_t errsz)
{
	char where[300];
	if (cfg_where(cfg, "tx", key, where, sizeof(where)) < 0)
		snprintf(where, sizeof(where), "%s", cfg_path(cfg));
	snprintf(err, errsz, "%s: [tx] %s: %s", where, key, msg);
}

/* The checked [tx] section into o, with the value checks the schema cannot
 * make; 0, or -1 and "file:line: [tx] key: why". */
static int read_opts(const struct cfg *cfg, struct txsend_opts *o_out, char *err, size_t errsz)
{
	struct txsend_opts o = { 0 };
	uint64_t u;
	double d;
	char msg[256];
	int lv;

	if (cfg_get_uint(cfg, "tx", "queue_max", &u) == 0) {
		if (u == 0 || u > 10000000) {
			cfg_fail(cfg, "queue_max", "want 1..10000000", err, errsz);
			return -1;
		}
		o.queue_max = (unsigned)u;
	}
	if (cfg_get_uint(cfg, "tx", "in_flight_max", &u) == 0) {
		if (u == 0 || u > 100000) {
			cfg_fail(cfg, "in_flight_max", "want 1..100000", err, errsz);
			return -1;
		}
		o.in_flight_max = (unsigned)u;
	}
	if (cfg_get_uint(cfg, "tx", "submit_parallel", &u) == 0) {
		if (u == 0 || u > 1000) {
			cfg_fail(cfg, "submit_parallel", "want 1..1000", err, errsz);
			return -1;
		}
		o.submit_parallel = (unsigned)u;
	}
	if (cfg_get_duration(cfg, "tx", "wait_deadline", &d) == 0)
		o.wait_deadline = d;
	if (cfg_get_duration(cfg, "tx", "block_refresh", &d) == 0)
		o.block_refresh = d;
	if (cfg_get_duration(cfg, "tx", "retry_interval", &d) == 0)
		o.retry_interval = d;
	if (cfg_get_duration(cfg, "tx", "sweep_interval", &d) == 0)
		o.sweep_interval = d;
	if (cfg_get_duration(cfg, "tx", "status_timeout", &d) == 0)
		o.status_timeout = d;
	if (cfg_get_size(cfg, "tx", "compact_bytes", &u) == 0)
		o.compact_bytes = u;
	if (cfg_get_uint(cfg, "tx", "validity_blocks", &u) == 0)
		o.validity_blocks = u;
	const char *gas = cfg_get(cfg, "tx", "default_gas");
	if (gas) {
		if (txcheck_parse_gas(gas, &o.default_gas, msg, sizeof(msg)) < 0) {
			cfg_fail(cfg, "default_gas", msg, err, errsz);
			return -1;
		}
		if (o.default_gas == 0 || o.default_gas > NEAR_MAX_GAS) {
			cfg_fail(cfg, "default_gas", "want 1 gas .. 1 Pgas", err, errsz);
			return -1;
		}
	}
	o.wait_until = cfg_get(cfg, "tx", "wait_until");
	o.accept_level = cfg_get(cfg, "tx", "accept_level");
	if (o.wait_until && (lv = tx_level_parse(o.wait_until)) != TXL_EXECUTED_OPTIMISTIC &&
	    lv != TXL_EXECUTED && lv != TXL_FINAL) {
		cfg_fail(cfg, "wait_until", "want EXECUTED_OPTIMISTIC, EXECUTED or FINAL", err, errsz);
		return -1;
	}
	if (o.accept_level && (lv = tx_level_parse(o.accept_level)) != TXL_NONE &&
	    lv != TXL_INCLUDED && lv != TXL_INCLUDED_FINAL) {
		cfg_fail(cfg, "accept_level", "want NONE, INCLUDED or INCLUDED_FINAL", err, errsz);
		return -1;
	}
	*o_out = o;
	return 0;
}

int txsend_check_config(const struct cfg *cfg, char *err, size_t errsz)
{
	struct txsend_opts o;
	return read_opts(cfg, &o, err, errsz);
}

struct txsend *txsend_new(struct ev_loop *loop, struct rpc *rpc,
			  const struct cfg *cfg, struct metrics *reg,
			  const char *state_dir, char *err, size_t errsz)
{
	struct txsend_opts o;
	struct signer_set set;

	if (read_opts(cfg, &o, err, errsz) < 0)
		return NULL;
	if (signer_set_load(&set, cfg, err, errsz) < 0)
		return NULL;
	struct txsend *ts = create(loop, rpc, set.v, set.n, &o,
				   cfg_get(cfg, "near", "contract"), reg, state_dir,
				   err, errsz);
	free(set.v); /* the signers now belong to ts (or were freed) */
	return ts;
}

/* ---- start, stop, free ------------------------------------------------------------- */

static struct txsigner *signer_named(struct txsend *ts, const char *name)
{
	if (!name)
		return ts->n_signers == 1 ? &ts->signers[0] : NULL;
	for (size_t i = 0; i < ts->n_signers; i++)
		if (strcmp(ts->signers[i].s->name, name) == 0)
			return &ts->signers[i];
	return NULL;
}

static struct tx *tx_new(struct txsend *ts, struct txsigner *sg, double deadline)
{
	struct tx *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ts = ts;
	t->sg = sg;
	t->t_submit = ev_now(ts->loop);
	ev_timer_init(&t->pause, pause_cb, 0, 0);
	t->pause.data = t;
	ev_timer_init(&t->deadline_w, deadline_cb, deadline, 0);
	t->deadline_w.data = t;
	return t;
}

/* Take over one journal entry (its strings move into the tx). */
static void adopt(struct txsend *ts, struct txj_entry *e)
{
	struct txsigner *sg = signer_named(ts, e->signer);
	double deadline = e->deadline > 0 ? e->deadline : ts->o.wait_deadline;

	if (!sg) {
		log_error(TX_LOG, "journal: tx %" PRIu64 " %s.%s was queued for signer '%s', "
			  "which is no longer configured; dropping it%s", e->id, e->receiver,
			  e->method, e->signer, e->is_signed ? " (it may still land)" : "");
		return;
	}
	struct tx *t = tx_new(ts, sg, deadline);
	if (!t) {
		log_error(TX_LOG, "journal: tx %" PRIu64 ": out of memory", e->id);
		return;
	}
	t->e = *e;
	memset(e, 0, sizeof(*e));
	t->replayed = 1;
	all_add(ts, t);
	sg->pending++;
	ts->stats.replayed++;
	if (t->e.is_signed) {
		near_hash_to_b58(t->hash_b58, t->e.hash);
		t->b64 = b64_encode_alloc(t->e.signed_tx, t->e.signed_len);
		if (!t->b64) {
			drop_signature(t);
		} else {
			t->counted = 1;
			sg->key->in_flight++;
			t->maybe_sent = 1; /* we cannot know whether it went out */
			nonce_init(&sg->key->nonce, t->e.nonce > sg->key->nonce.last ?
				   t->e.nonce : sg->key->nonce.last);
			retry_cause(ts, "restart");
			t->state = TX_LANE;
			list_insert_by_nonce(&sg->key->lane, t);
		}
	}
	if (!t->e.is_signed) {
		t->state = TX_QUEUED;
		list_push(&sg->key->queue, t);
	}
	ev_timer_start(ts->loop, &t->deadline_w);
	log_info(TX_LOG, "journal: tx %" PRIu64 " %s.%s (signer %s) %s", t->e.id, t->e.receiver,
		 t->e.method, sg->s->name, t->e.is_signed ? "signed before the restart; "
		 "sending the same bytes again" : "queued before the restart");
	gauges(sg);
}

int txsend_start(struct txsend *ts)
{
	if (ts->started)
		return 0;
	ts->started = 1;
	if (ts->replay.torn_bytes)
		log_warn(TX_LOG, "journal %s: cut off a torn record of %zu bytes at the end "
			 "(a crash while writing)", txjournal_path(ts->j), ts->replay.torn_bytes);
	for (size_t i = 0; i < ts->replay.n; i++)
		adopt(ts, ts->replay.entries[i]);
	if (ts->replay.n)
		log_info(TX_LOG, "journal: %zu transactions pending from before", ts->n_all);
	txj_state_free(&ts->replay);
	char err[512];
	if (txjournal_start_writer(ts->j, ts->loop, on_durable, ts, err, sizeof(err)) < 0) {
		log_error(TX_LOG, "%s", err); /* then every flush is written inline */
	}
	compact(ts); /* drop what was finished; the journal now holds what we hold */
	for (size_t i = 0; i < ts->n_keys; i++)
		read_access_key(ts->keys[i]);
	ensure_block(ts);
	ev_timer_start(ts->loop, &ts->block_timer);
	kick(ts);
	return ts->journal_failed ? -1 : 0;
}

void txsend_stop(struct txsend *ts)
{
	if (!ts || ts->stopping)
		return;
	ts->stopping = 1;
	ev_timer_stop(ts->loop, &ts->block_timer);
	char err[512];
	if (txjournal_sync(ts->j, err, sizeof(err)) == 0)
		compact(ts);
	journal_ok(ts);
	log_info(TX_LOG, "stopping: %zu transactions pending stay in the journal", ts->n_all);
}

void txsend_free(struct txsend *ts)
{
	if (!ts)
		return;
	ev_timer_stop(ts->loop, &ts->kick);
	ev_timer_stop(ts->loop, &ts->block_timer);
	ev_timer_stop(ts->loop, &ts->block_retry);
	if (ts->block_call)
		rpc_cancel(ts->block_call);
	for (size_t i = 0; i < ts->n_keys; i++) {
		struct txkey *k = ts->keys[i];
		if (k->ak_call)
			rpc_cancel(k->ak_call);
		if (k->watch_call)
			rpc_cancel(k->watch_call);
		k->watch_call = NULL;
		k->watch_tx = NULL;
		ev_timer_stop(ts->loop, &k->ak_retry);
		ev_timer_stop(ts->loop, &k->watch_pause);
		ev_timer_stop(ts->loop, &k->sweep_timer);
	}
	if (ts->j) {
		/* decided outcomes are reported for real; the rest stays in the journal */
		char err[512];
		int ok = txjournal_sync(ts->j, err, sizeof(err)) == 0;
		deliver_finished(ts, txjournal_durable(ts->j), !ok);
	}
	struct tx *t, *next;
	for (t = ts->all_head; t; t = next) {
		next = t->all_next;
		tx_cancel_io(t);
		ev_timer_stop(ts->loop, &t->deadline_w);
		if (t->done) {
			struct mpci_tx_result r = {
				.struct_size = sizeof(r), .id = t->e.id,
				.status = MPCI_TX_REJECTED,
				.hash = t->e.is_signed ? t->hash_b58 : NULL,
				.error = "shutdown",
			};
			t->done(t->ctx, &r);
		}
		tx_free(t);
	}
	txjournal_close(ts->j);
	txj_state_free(&ts->replay);
	for (size_t i = 0; i < ts->n_keys; i++)
		free(ts->keys[i]);
	free(ts->keys);
	for (size_t i = 0; i < ts->n_signers; i++)
		signer_free(ts->signers[i].s);
	free(ts->signers);
	free(ts->wait_until);
	free(ts->accept_level);
	free(ts->contract);
	free(ts);
}

/* ---- requests -------------------------------------------------------------------------- */

int txsend_submit(struct txsend *ts, const struct mpci_tx_request *req,
		  provider_tx_fn done, void *ctx, uint64_t *id, char *err,
		  size_t errsz)
{
	if (!ts || !req || req->struct_size < offsetof(struct mpci_tx_request, deadline) + sizeof(double)) {
		snprintf(err, errsz, "no request");
		return MPCI_ERR_INVAL;
	}
	if (ts->stopping) {
		snprintf(err, errsz, "the transaction sender is shutting down");
		return MPCI_ERR_PHASE;
	}
	if (ts->journal_failed) {
		snprintf(err, errsz, "the transaction journal cannot be written; see the log");
		return MPCI_ERR;
	}
	struct txsigner *sg = signer_named(ts, req->signer);
	if (!sg) {
		size_t o = 0;
		char names[200] = "";
		for (size_t i = 0; i < ts->n_signers && o < sizeof(names); i++)
			o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", i ? ", " : "",
					      ts->signers[i].s->name);
		if (req->signer)
			snprintf(err, errsz, "no signer named '%.60s' (configured: %s)", req->signer,
				 ts->n_signers ? names : "none");
		else
			snprintf(err, errsz, "no signer given and %s", ts->n_signers ?
				 "several are configured; name one" : "none is configured");
		return MPCI_ERR_NOTFOUND;
	}
	const char *receiver = req->receiver ? req->receiver : ts->contract;
	if (!receiver) {
		snprintf(err, errsz, "no receiver given and no [near] contract configured");
		return MPCI_ERR_INVAL;
	}
	const char *args = req->args && req->args_len ? req->args : "{}";
	size_t args_len = req->args && req->args_len ? req->args_len : 2;
	struct txcheck_in in = {
		.signer_id = sg->s->account_id, .receiver = receiver, .method = req->method,
		.args = args, .args_len = args_len, .gas = req->gas, .deposit = req->deposit,
	};
	uint64_t gas;
	near_u128 deposit;
	if (txcheck_request(&in, ts->o.default_gas, &gas, &deposit, err, errsz) < 0)
		return MPCI_ERR_INVAL;
	if (req->wait != MPCI_TX_SEND && req->wait != MPCI_TX_WAIT) {
		snprintf(err, errsz, "wait is %d; want MPCI_TX_SEND (0) or MPCI_TX_WAIT (1)", req->wait);
		return MPCI_ERR_INVAL;
	}
	if (!(req->deadline >= 0) || req->deadline > 7 * 86400.0) {
		snprintf(err, errsz, "deadline %g s: want 0 (the default) up to a week", req->deadline);
		return MPCI_ERR_INVAL;
	}
	if (sg->pending >= ts->o.queue_max) {
		snprintf(err, errsz, "signer %s has %zu transactions queued (queue_max)",
			 sg->s->name, sg->pending);
		return MPCI_ERR_FULL;
	}
	double deadline = req->deadline > 0 ? req->deadline : ts->o.wait_deadline;
	struct tx *t = tx_new(ts, sg, deadline);
	if (!t || !(t->e.signer = strdup(sg->s->name)) || !(t->e.receiver = strdup(receiver)) ||
	    !(t->e.method = strdup(req->method)) || !(t->e.args = malloc(args_len))) {
		if (t)
			tx_free(t);
		snprintf(err, errsz, "out of memory");
		return MPCI_ERR_NOMEM;
	}
	memcpy(t->e.args, args, args_len);
	t->e.args_len = args_len;
	t->e.gas = gas;
	t->e.deposit = deposit;
	t->e.wait = req->wait;
	t->e.deadline = deadline;
	t->e.created = wall_now();
	t->e.id = ++ts->next_id;
	t->done = done;
	t->ctx = ctx;
	if (txjournal_enqueue(ts->j, &t->e) < 0) {
		ts->journal_failed = 1;
		tx_free(t);
		snprintf(err, errsz, "the transaction journal cannot be written (out of memory)");
		return MPCI_ERR;
	}
	all_add(ts, t);
	t->state = TX_QUEUED;
	list_push(&sg->key->queue, t);
	sg->pending++;
	ev_timer_start(ts->loop, &t->deadline_w);
	gauges(sg);
	if (id)
		*id = t->e.id;
	log_debug(TX_LOG, "tx %" PRIu64 " %s.%s queued for signer %s (%zu pending)", t->e.id,
		  receiver, req->method, sg->s->name, sg->pending);
	kick(ts);
	return MPCI_OK;
}

int txsend_signer_info(struct txsend *ts, const char *name,
		       struct mpci_signer_info *out)
{
	struct txsigner *sg = ts ? signer_named(ts, name) : NULL;
	if (!sg || !out)
		return MPCI_ERR_NOTFOUND;
	out->name = sg->s->name;
	out->account_id = sg->s->account_id;
	out->public_key = sg->s->pk_str;
	out->full_access = sg->s->full_access;
	return MPCI_OK;
}

size_t txsend_queue_length(struct txsend *ts)
{
	size_t n = 0;
	for (size_t i = 0; ts && i < ts->n_signers; i++)
		n += ts->signers[i].pending;
	return n;
}

void txsend_get_stats(struct txsend *ts, struct txsend_stats *out)
{
	*out = ts->stats;
}
