/* RPC-only block source: see source_rpc.h. One fetch = `block`, then `chunk` for each new
 * chunk (transactions to watched accounts are remembered), then EXPERIMENTAL_tx_status for
 * every remembered transaction; outcomes whose block_hash is this block become the block's
 * receipt outcomes and go through the same matcher as neardata documents. */
#include "source_rpc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpc.h"

#define LOG "blocks"
#define MAX_TRACKED 20000
#define TRACK_BLOCKS 320	/* a yield resolves within 200 blocks; some slack */
#define SCAN_BACK 4		/* ancestors whose transactions' receipts may still run */
#define FOUND_MAX 4		/* blocks fetched with outcomes of one tx, not yet delivered */
#define HELD_MAX 8		/* optimistic: blocks delivered with its outcomes, not yet final */
#define REQ_MAX 4		/* MPC requests of one tx followed to their completion */
#define STATUS_PARALLEL 16	/* EXPERIMENTAL_tx_status calls of one fetch in flight */

struct rtx {
	char hash[64];
	char signer[72];
	uint64_t seen_at;
	unsigned settled;	/* its outcomes in delivered blocks that cannot be replaced */
	unsigned n_outs;	/* outcomes the node listed, last time asked */
	int executed;		/* the node said EXECUTED or FINAL */
	/* outcomes found in fetched blocks; counted only once the block is delivered, as a
	 * fetch may fail half way or its block be refused and fetched again */
	struct { char block[NEAR_HASH_B58_MAX]; unsigned n; } found[FOUND_MAX];
	unsigned n_found;
	/* optimistic mode: outcomes in delivered blocks that a fork may still replace; the
	 * replacement holds them again, so the transaction is followed until they are final */
	struct { char block[NEAR_HASH_B58_MAX]; uint64_t height; unsigned n; } held[HELD_MAX];
	unsigned n_held;
	/* its MPC requests: once each one's completion is in a delivered block (final in
	 * optimistic mode) nothing of the tx is an event any more, and it is not followed */
	struct { char id[NEAR_HASH_B58_MAX], done_in[NEAR_HASH_B58_MAX]; uint64_t done_at; } req[REQ_MAX];
	unsigned n_req;
	int req_overflow;
};

struct rpcsrc {
	struct ev_loop *loop;
	struct rpc *rpc;
	const struct mpc_matcher *matcher;
	int optimistic;
	struct rtx *tx;
	size_t n_tx, cap_tx;
	uint64_t final_seen;	/* optimistic: the stream's final height */
	uint64_t last_head;
	/* the last block fetched: a block whose parent is not it (a jump, a switch from
	 * another source, a fork) has its recent ancestors' chunks scanned as well */
	char last_hash[NEAR_HASH_B58_MAX];
};

struct rreq;

/* One RPC call of a fetch; c is NULL once its callback has run. */
struct rcall {
	struct rreq *r;
	struct rpc_call *c;
	void (*fn)(const struct rpc_result *res, struct rreq *r);
};

struct rreq {
	struct rpcsrc *s;
	uint64_t height;
	bsrc_done_fn cb;
	void *ud;
	struct rcall **calls;
	size_t n_calls, cap_calls;
	int pending;
	int failed;
	const char *err_class;
	char error[600];
	char endpoint[128];
	struct blockdoc doc;
	int have_header;
	int ahead;		/* final mode, above the known final height: answered NOT_YET */
	char **strs;		/* strings the outcomes point into */
	size_t n_strs, cap_strs;
	char **q;		/* EXPERIMENTAL_tx_status params still to send, from next_q */
	size_t n_q, next_q;
};

static void track(struct rpcsrc *s, const char *hash, const char *signer, uint64_t at)
{
	for (size_t i = 0; i < s->n_tx; i++)
		if (!strcmp(s->tx[i].hash, hash))
			return;
	if (s->n_tx == MAX_TRACKED || strlen(hash) >= sizeof(s->tx[0].hash) ||
	    strlen(signer) >= sizeof(s->tx[0].signer))
		return;
	if (s->n_tx == s->cap_tx) {
		size_t cap = s->cap_tx ? s->cap_tx * 2 : 64;
		struct rtx *n = realloc(s->tx, cap * sizeof(*n));
		if (!n)
			return;
		s->tx = n;
		s->cap_tx = cap;
	}
	struct rtx *t = &s->tx[s->n_tx++];
	memset(t, 0, sizeof(*t));
	snprintf(t->hash, sizeof(t->hash), "%s", hash);
	snprintf(t->signer, sizeof(t->signer), "%s", signer);
	t->seen_at = at;
	log_debug(LOG, "rpc: following transaction %s (%s) from block %llu", hash, signer,
		  (unsigned long long)at);
}

static struct rtx *tracked(struct rpcsrc *s, const char *hash)
{
	for (size_t i = 0; hash && i < s->n_tx; i++)
		if (!strcmp(s->tx[i].hash, hash))
			return &s->tx[i];
	return NULL;
}

/* The table follows the transactions in flight: after a burst it gives the memory back. */
static void shrink(struct rpcsrc *s)
{
	struct rtx *n;

	if (s->cap_tx <= 64 || s->n_tx >= s->cap_tx / 4)
		return;
	if ((n = realloc(s->tx, s->cap_tx / 2 * sizeof(*n)))) {
		s->tx = n;
		s->cap_tx /= 2;
	}
}

static void untrack(struct rpcsrc *s, struct rtx *t)
{
	log_debug(LOG, "rpc: transaction %s no longer followed: %u outcomes settled", t->hash, t->settled);
	*t = s->tx[--s->n_tx];
}

static const char *keep(struct rreq *r, const char *str, size_t *len)
{
	char *c;

	if (!str)
		return NULL;
	if (r->n_strs == r->cap_strs) {
		size_t cap = r->cap_strs ? r->cap_strs * 2 : 64;
		char **n = realloc(r->strs, cap * sizeof(*n));
		if (!n)
			return NULL;
		r->strs = n;
		r->cap_strs = cap;
	}
	if (!(c = strdup(str)))
		return NULL;
	r->strs[r->n_strs++] = c;
	if (len)
		*len = strlen(c);
	return c;
}

static void set_jstr(struct rreq *r, struct jstr *j, const char *s)
{
	size_t n = 0;

	j->p = keep(r, s, &n);
	j->n = n;
	j->esc = 0;
}

static void req_free(struct rreq *r)
{
	for (size_t i = 0; i < r->n_calls; i++) {
		if (r->calls[i]->c)
			rpc_cancel(r->calls[i]->c);
		free(r->calls[i]);
	}
	for (size_t i = 0; i < r->n_strs; i++)
		free(r->strs[i]);
	free(r->strs);
	for (size_t i = 0; i < r->n_q; i++)
		free(r->q[i]);
	free(r->q);
	free(r->calls);
	blockdoc_free(&r->doc);
	free(r);
}

static const char *str_at(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(x) ? x->valuestring : NULL;
}

typedef void (*rcall_fn)(const struct rpc_result *res, struct rreq *r);
static void call(struct rreq *r, const char *method, const char *params, rcall_fn cb);
static void status_next(struct rreq *r);

static void fail(struct rreq *r, const struct rpc_result *res, const char *what)
{
	if (r->failed)
		return;
	r->failed = 1;
	r->err_class = res ? rpc_class_name(res->cls) : "invalid";
	snprintf(r->endpoint, sizeof(r->endpoint), "%s", res && res->endpoint ? res->endpoint : "rpc");
	snprintf(r->error, sizeof(r->error), "block %llu from %.100s: %.200s%s%.200s",
		 (unsigned long long)r->height, r->endpoint, what, res ? ": " : "",
		 res ? res->message : "");
}

static void finish(struct rreq *r)
{
	struct bsrc_result out = { .endpoint = r->endpoint[0] ? r->endpoint : "rpc" };

	if (r->failed) {
		out.status = BSRC_ERROR;
		out.err_class = r->err_class;
		out.error = r->error;
	} else if (!(out.block = mpc_events_extract(r->s->matcher, &r->doc))) {
		out.status = BSRC_ERROR;
		out.err_class = "invalid";
		out.error = "out of memory";
	} else {
		out.status = BSRC_BLOCK;
		snprintf(r->s->last_hash, sizeof(r->s->last_hash), "%s", r->doc.hash);
		log_debug(LOG, "rpc: block %llu %s: %zu outcomes of %zu followed transactions",
			  (unsigned long long)r->height, r->doc.hash, r->doc.n_outs, r->s->n_tx);
	}
	r->cb(r->ud, &out);
	mpc_block_free(out.block);
	req_free(r);
}

/* One remembered transaction's status: its outcomes in this block become ours. */
static void status_done(const struct rpc_result *res, struct rreq *r)
{
	const cJSON *outs, *rcpts, *o, *fes;

	r->pending--;
	if (!res->ok) {
		if (res->cause_name && !strcmp(res->cause_name, "UNKNOWN_TRANSACTION"))
			goto done;
		fail(r, res, "transaction status");
		goto done;
	}
	outs = cJSON_GetObjectItemCaseSensitive(res->result, "receipts_outcome");
	rcpts = cJSON_GetObjectItemCaseSensitive(res->result, "receipts");
	const char *th = str_at(cJSON_GetObjectItemCaseSensitive(res->result, "transaction"), "hash");
	unsigned here = 0;
	cJSON_ArrayForEach(o, outs) {
		const cJSON *oc = cJSON_GetObjectItemCaseSensitive(o, "outcome"), *rc, *st, *act;
		const char *bh = str_at(o, "block_hash"), *id = str_at(o, "id");
		if (!bh || !id || !cJSON_IsObject(oc) || strcmp(bh, r->doc.hash) != 0)
			continue;
		here++;
		const cJSON *found = NULL;
		cJSON_ArrayForEach(rc, rcpts)
			if (str_at(rc, "receipt_id") && !strcmp(str_at(rc, "receipt_id"), id))
				found = rc;
		if (!found)
			continue;	/* no receipt body (a refund, or an old node): nothing to match */
		struct bd_outcome *b = blockdoc_add_outcome(&r->doc);
		if (!b) {
			fail(r, NULL, "out of memory");
			break;
		}
		set_jstr(r, &b->receipt_id, id);
		set_jstr(r, &b->predecessor, str_at(found, "predecessor_id"));
		set_jstr(r, &b->receiver, str_at(found, "receiver_id"));
		set_jstr(r, &b->executor, str_at(oc, "executor_id"));
		set_jstr(r, &b->tx_hash, str_at(cJSON_GetObjectItemCaseSensitive(res->result, "transaction"), "hash"));
		st = cJSON_GetObjectItemCaseSensitive(oc, "status");
		char *sj = st ? cJSON_PrintUnformatted(st) : NULL, *lj;
		set_jstr(r, &b->status_json, sj ? sj : "\"Unknown\"");
		free(sj);
		if (cJSON_IsObject(st) && str_at(st, "SuccessReceiptId")) {
			b->status = BD_ST_RECEIPT;
			set_jstr(r, &b->next_receipt_id, str_at(st, "SuccessReceiptId"));
		} else if (cJSON_IsObject(st) && cJSON_GetObjectItemCaseSensitive(st, "SuccessValue")) {
			b->status = BD_ST_VALUE;
		} else if (cJSON_IsObject(st) && cJSON_GetObjectItemCaseSensitive(st, "Failure")) {
			b->status = BD_ST_FAILURE;
		}
		lj = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(oc, "logs"));
		set_jstr(r, &b->logs, lj ? lj : "[]");
		free(lj);
		const cJSON *action = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(found, "receipt"), "Action");
		set_jstr(r, &b->signer, str_at(action, "signer_id"));
		const cJSON *acts = cJSON_GetObjectItemCaseSensitive(action, "actions");
		b->n_actions = (uint32_t)cJSON_GetArraySize(acts);
		act = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(acts, 0), "FunctionCall");
		if (b->n_actions == 1 && cJSON_IsObject(act) && str_at(act, "method_name")) {
			b->single_fc = 1;
			set_jstr(r, &b->method, str_at(act, "method_name"));
			set_jstr(r, &b->args, str_at(act, "args") ? str_at(act, "args") : "");
		}
		if (!b->receipt_id.p || !b->receiver.p || !b->executor.p || !b->predecessor.p)
			r->doc.n_outs--;	/* incomplete: drop it */
	}
	/* done (rs_observe) when it has no receipt left to run and every outcome was in a
	 * block delivered */
	fes = cJSON_GetObjectItemCaseSensitive(res->result, "final_execution_status");
	struct rtx *t = tracked(r->s, th);
	log_debug(LOG, "rpc: block %llu: transaction %s: %u of its outcomes here, status %s",
		  (unsigned long long)r->height, th ? th : "?", here,
		  cJSON_IsString(fes) ? fes->valuestring : "?");
	if (t) {
		unsigned i;
		t->n_outs = (unsigned)cJSON_GetArraySize(outs);
		t->executed = cJSON_IsString(fes) &&
			      (!strcmp(fes->valuestring, "EXECUTED") || !strcmp(fes->valuestring, "FINAL"));
		for (i = 0; i < t->n_found && strcmp(t->found[i].block, r->doc.hash); i++)
			;
		if (i < t->n_found) {
			t->found[i].n = here;
		} else if (here && i < FOUND_MAX && strlen(r->doc.hash) < sizeof(t->found[0].block)) {
			snprintf(t->found[i].block, sizeof(t->found[0].block), "%s", r->doc.hash);
			t->found[t->n_found++].n = here;
		}
	}
done:
	status_next(r);
	if (!r->pending)
		finish(r);
}

/* A few status calls at a time: a burst of hundreds would only meet a rate limit. */
static void status_next(struct rreq *r)
{
	while (!r->failed && r->next_q < r->n_q && r->pending < STATUS_PARALLEL)
		call(r, "EXPERIMENTAL_tx_status", r->q[r->next_q++], status_done);
}

static void expire(struct rpcsrc *s, uint64_t height)
{
	for (size_t i = 0; i < s->n_tx;)
		if (s->tx[i].seen_at + TRACK_BLOCKS < height)
			untrack(s, &s->tx[i]);
		else
			i++;
	shrink(s);
}

static void query_statuses(struct rreq *r)
{
	struct rpcsrc *s = r->s;
	char params[300];

	expire(s, r->height);
	if (s->n_tx && !(r->q = calloc(s->n_tx, sizeof(*r->q))))
		fail(r, NULL, "out of memory");
	for (size_t i = 0; r->q && i < s->n_tx; i++) {
		snprintf(params, sizeof(params),
			 "{\"tx_hash\":\"%s\",\"sender_account_id\":\"%s\",\"wait_until\":\"NONE\"}",
			 s->tx[i].hash, s->tx[i].signer);
		if (!(r->q[r->n_q] = strdup(params))) {
			fail(r, NULL, "out of memory");
			break;
		}
		r->n_q++;
	}
	status_next(r);
	if (!r->pending)
		finish(r);
}

/* Transactions of a chunk that call a watched account are remembered. */
static void chunk_done(const struct rpc_result *res, struct rreq *r)
{
	const cJSON *t, *a;

	r->pending--;
	if (!res->ok) {
		fail(r, res, "chunk");
	} else {
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(res->result, "transactions")) {
			const char *recv = str_at(t, "receiver_id"), *h = str_at(t, "hash"),
				   *signer = str_at(t, "signer_id");
			int fc = 0;
			if (!recv || !h || !signer || !mpc_matcher_watches(r->s->matcher, recv))
				continue;
			cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(t, "actions"))
				fc |= cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(a, "FunctionCall"));
			if (fc)
				track(r->s, h, signer, r->height);
		}
	}
	if (r->pending)
		return;
	if (r->failed || !r->have_header)
		finish(r);
	else
		query_statuses(r);
}

static void chunks_of(struct rreq *r, const cJSON *block, uint64_t height)
{
	const cJSON *c;
	char params[200];

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(block, "chunks")) {
		const cJSON *hi = cJSON_GetObjectItemCaseSensitive(c, "height_included");
		const char *ch = str_at(c, "chunk_hash");
		if (!ch || !cJSON_IsNumber(hi) || hi->valuedouble != (double)height)
			continue;
		snprintf(params, sizeof(params), "{\"chunk_id\":\"%s\"}", ch);
		call(r, "chunk", params, chunk_done);
	}
}

/* An earlier block, scanned only for transactions whose receipts may still execute. */
static void back_done(const struct rpc_result *res, struct rreq *r)
{
	const cJSON *hdr;

	r->pending--;
	if (!res->ok && !(res->cause_name && !strcmp(res->cause_name, "UNKNOWN_BLOCK")))
		fail(r, res, "earlier block");	/* its transactions could be missed */
	if (res->ok && (hdr = cJSON_GetObjectItemCaseSensitive(res->result, "header"))) {
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(hdr, "height");
		if (cJSON_IsNumber(h))
			chunks_of(r, res->result, (uint64_t)h->valuedouble);
	}
	if (!r->pending) {
		if (r->failed)
			finish(r);
		else
			query_statuses(r);
	}
}

/* The newest final height this source knows of (its head polls, the RPC probes). */
static uint64_t known_final(struct rpcsrc *s)
{
	uint64_t best = rpc_best_final_height(s->rpc);

	if (best > s->last_head)
		s->last_head = best;
	return s->last_head;
}

static void scan_back(struct rreq *r)
{
	char params[64];

	for (uint64_t b = r->height > SCAN_BACK ? r->height - SCAN_BACK : 1; b < r->height; b++) {
		snprintf(params, sizeof(params), "{\"block_id\":%llu}", (unsigned long long)b);
		call(r, "block", params, back_done);
	}
}

static void block_done(const struct rpc_result *res, struct rreq *r)
{
	struct rpcsrc *s = r->s;
	char err[300];

	r->pending--;
	if (r->ahead && (res->ok || (res->cause_name && !strcmp(res->cause_name, "UNKNOWN_BLOCK")))) {
		/* `block` by height also answers blocks that are not final yet: in final
		 * mode a height above the final head waits, as /v0/block/{h} does */
		struct bsrc_result out = { .endpoint = res->endpoint, .status = BSRC_NOT_YET };
		r->cb(r->ud, &out);
		req_free(r);
		return;
	}
	if (!res->ok) {
		if (res->cause_name && !strcmp(res->cause_name, "UNKNOWN_BLOCK")) {
			uint64_t best = rpc_best_final_height(s->rpc);
			struct bsrc_result out = { .endpoint = res->endpoint };
			if (best > s->last_head)
				s->last_head = best;
			out.status = r->height <= s->last_head ? BSRC_SKIPPED : BSRC_NOT_YET;
			r->cb(r->ud, &out);
			req_free(r);
			return;
		}
		fail(r, res, "block");
	} else {
		char *txt = cJSON_PrintUnformatted(res->result);
		if (!txt || blockdoc_parse_header(&r->doc, txt, strlen(txt), err, sizeof(err)) != BD_OK) {
			fail(r, NULL, txt ? err : "out of memory");
		} else if (r->doc.height != r->height) {
			fail(r, NULL, "the answer is for another height");
		} else {
			r->have_header = 1;
			snprintf(r->endpoint, sizeof(r->endpoint), "%s", res->endpoint);
			chunks_of(r, res->result, r->height);
			if (strcmp(r->doc.prev_hash, s->last_hash) != 0)
				scan_back(r);
		}
		free(txt);
	}
	if (r->pending)
		return;
	if (r->failed)
		finish(r);
	else
		query_statuses(r);
}

static void trampoline(const struct rpc_result *res, void *ud)
{
	struct rcall *k = ud;

	k->c = NULL;
	k->fn(res, k->r);
}

static void call(struct rreq *r, const char *method, const char *params, rcall_fn cb)
{
	struct rcall *k;

	if (r->n_calls == r->cap_calls) {
		size_t cap = r->cap_calls ? r->cap_calls * 2 : 16;
		struct rcall **n = realloc(r->calls, cap * sizeof(*n));
		if (!n) {
			fail(r, NULL, "out of memory");
			return;
		}
		r->calls = n;
		r->cap_calls = cap;
	}
	if (!(k = calloc(1, sizeof(*k)))) {
		fail(r, NULL, "out of memory");
		return;
	}
	k->r = r;
	k->fn = cb;
	r->calls[r->n_calls++] = k;
	if (!(k->c = rpc_call(r->s->rpc, method, params, NULL, trampoline, k))) {
		fail(r, NULL, "cannot start an RPC call");
		return;
	}
	r->pending++;
}

static void *rs_fetch(void *src, uint64_t height, int optimistic, int wait, bsrc_done_fn cb, void *ud)
{
	struct rpcsrc *s = src;
	struct rreq *r = calloc(1, sizeof(*r));
	char params[200];

	(void)wait;
	if (!r)
		return NULL;
	r->s = s;
	r->height = height;
	r->cb = cb;
	r->ud = ud;
	r->ahead = !optimistic && height > known_final(s);
	snprintf(params, sizeof(params), "{\"block_id\":%llu}", (unsigned long long)height);
	call(r, "block", params, block_done);
	if (!r->pending) {
		req_free(r);
		return NULL;
	}
	return r;
}

/* A finished call is not in the multi any more; only the pending ones are cancelled. */
static void rs_cancel(void *src, void *req)
{
	(void)src;
	if (req)
		req_free(req);
}

struct rhead {
	struct rpcsrc *s;
	struct rpc_call *c;
	bsrc_head_fn cb;
	void *ud;
};

static void head_done(const struct rpc_block_ref *b, void *ud)
{
	struct rhead *h = ud;

	if (b->ok && b->height > h->s->last_head)
		h->s->last_head = b->height;
	h->cb(h->ud, b->ok, b->height, b->ok ? NULL : b->rpc->message);
	free(h);
}

static void *rs_head(void *src, int optimistic, bsrc_head_fn cb, void *ud)
{
	struct rpcsrc *s = src;
	struct rhead *h = calloc(1, sizeof(*h));

	(void)optimistic;
	if (!h)
		return NULL;
	h->s = s;
	h->cb = cb;
	h->ud = ud;
	if (!(h->c = rpc_final_block(s->rpc, NULL, head_done, h))) {
		free(h);
		return NULL;
	}
	return h;
}

static void rs_cancel_head(void *src, void *req)
{
	struct rhead *h = req;

	(void)src;
	if (!h)
		return;
	rpc_cancel(h->c);
	free(h);
}

/* Every request of t answered in a delivered block that no fork can replace. */
static int answered(const struct rpcsrc *s, const struct rtx *t)
{
	if (!t->n_req || t->req_overflow)
		return 0;
	for (unsigned k = 0; k < t->n_req; k++)
		if (!t->req[k].done_at || (s->optimistic && t->req[k].done_at > s->final_seen))
			return 0;
	return 1;
}

/* Done when it has no receipt left to run and every outcome is in a settled block, or
 * when all its MPC requests are answered. */
static void untrack_done(struct rpcsrc *s)
{
	for (size_t i = 0; i < s->n_tx;) {
		struct rtx *t = &s->tx[i];
		if ((t->executed && t->n_outs && t->settled >= t->n_outs) || answered(s, t))
			untrack(s, t);
		else
			i++;
	}
	shrink(s);
}

static void note_request(struct rpcsrc *s, const char *tx, const char *id)
{
	struct rtx *t = tracked(s, tx);

	if (!t || !id)
		return;
	for (unsigned k = 0; k < t->n_req; k++)
		if (!strcmp(t->req[k].id, id))
			return;
	if (t->n_req == REQ_MAX || strlen(id) >= sizeof(t->req[0].id)) {
		t->req_overflow = 1;
		return;
	}
	snprintf(t->req[t->n_req].id, sizeof(t->req[0].id), "%s", id);
	t->req[t->n_req].done_in[0] = 0;
	t->req[t->n_req++].done_at = 0;
}

static void note_completion(struct rpcsrc *s, const struct mpc_block *b, const char *id)
{
	for (size_t i = 0; id && i < s->n_tx; i++)
		for (unsigned k = 0; k < s->tx[i].n_req; k++)
			if (!strcmp(s->tx[i].req[k].id, id)) {
				snprintf(s->tx[i].req[k].done_in, sizeof(s->tx[i].req[k].done_in), "%s", b->hash);
				s->tx[i].req[k].done_at = b->height;
				return;
			}
}

static void rs_observe(void *src, const struct mpc_block *b)
{
	struct rpcsrc *s = src;

	expire(s, b->height);
	for (size_t i = 0; i < b->n_requests; i++)
		if (b->request_tx[i] && b->request_signer[i]) {
			track(s, b->request_tx[i], b->request_signer[i], b->height);
			note_request(s, b->request_tx[i], b->requests[i].id);
		}
	for (size_t i = 0; i < b->n_completions; i++)
		note_completion(s, b, b->completions[i].id);
	/* outcomes found in this block count now that it is delivered */
	for (size_t i = 0; i < s->n_tx; i++) {
		struct rtx *t = &s->tx[i];
		for (unsigned k = 0; k < t->n_found; k++) {
			if (strcmp(t->found[k].block, b->hash))
				continue;
			if (s->optimistic && t->n_held < HELD_MAX) {
				snprintf(t->held[t->n_held].block, sizeof(t->held[0].block), "%s", b->hash);
				t->held[t->n_held].height = b->height;
				t->held[t->n_held++].n = t->found[k].n;
			} else {
				t->settled += t->found[k].n;
			}
			t->found[k] = t->found[--t->n_found];
			break;
		}
	}
	untrack_done(s);
}

/* Optimistic mode: held outcomes and answers settle when final, and are forgotten when
 * their block is orphaned (its replacement holds them again). */
static void rs_chain(void *src, int finalized, uint64_t height, const char *hash)
{
	struct rpcsrc *s = src;

	if (finalized && height > s->final_seen)
		s->final_seen = height;
	for (size_t i = 0; i < s->n_tx; i++) {
		struct rtx *t = &s->tx[i];
		for (unsigned k = 0; k < t->n_held;) {
			if (finalized ? t->held[k].height <= height : !strcmp(t->held[k].block, hash)) {
				if (finalized)
					t->settled += t->held[k].n;
				t->held[k] = t->held[--t->n_held];
			} else {
				k++;
			}
		}
		for (unsigned k = 0; !finalized && k < t->n_req; k++)
			if (!strcmp(t->req[k].done_in, hash))
				t->req[k].done_at = 0;
	}
	untrack_done(s);
}

static void rs_free(void *src)
{
	struct rpcsrc *s = src;

	if (!s)
		return;
	free(s->tx);
	free(s);
}

void *rpcsrc_new(struct ev_loop *loop, struct rpc *rpc, const struct rpcsrc_config *cfg,
		 const struct mpc_matcher *matcher, char *err, size_t errsz)
{
	struct rpcsrc *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	s->loop = loop;
	s->rpc = rpc;
	s->matcher = matcher;
	s->optimistic = cfg->optimistic;
	return s;
}

const struct bsrc_ops rpcsrc_ops = {
	.name = "rpc",
	.fetch = rs_fetch,
	.cancel = rs_cancel,
	.head = rs_head,
	.cancel_head = rs_cancel_head,
	.free = rs_free,
	.observe = rs_observe,
	.chain = rs_chain,
	.sequential = 1,
};
