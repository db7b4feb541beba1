/* JSON rendering of what the core hands the bridge. */
#include "render.h"

#include <stdio.h>
#include <string.h>

#include "jbuf.h"
#include "msg.h"

const char *render_request_kind(int kind)
{
	switch (kind) {
	case MPCI_REQ_SIGN: return "sign";
	case MPCI_REQ_CKD: return "ckd";
	case MPCI_REQ_FOREIGN_TX: return "foreign_tx";
	default: return "unknown";
	}
}

static const char *block_status(int s)
{
	switch (s) {
	case MPCI_BLOCK_FINAL: return "final";
	case MPCI_BLOCK_CANONICAL: return "canonical";
	case MPCI_BLOCK_FORK: return "fork";
	default: return "unknown";
	}
}

const char *render_tx_status(int status)
{
	switch (status) {
	case MPCI_TX_ACCEPTED: return "accepted";
	case MPCI_TX_SUCCEEDED: return "succeeded";
	case MPCI_TX_FAILED: return "failed";
	case MPCI_TX_UNKNOWN: return "unknown";
	case MPCI_TX_REJECTED: return "rejected";
	default: return "unknown";
	}
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void request(struct jbuf *j, const struct mpci_request *r)
{
	jb_put(j, "{", 1);
	jb_key(j, "kind", 1);
	jb_qstr(j, render_request_kind(r->kind));
	jb_key(j, "id", 0);
	jb_qstr(j, r->id);
	jb_key(j, "receipt_id", 0);
	jb_qstr(j, r->receipt_id);
	jb_key(j, "predecessor_id", 0);
	jb_qstr(j, r->predecessor_id);
	jb_key(j, "domain_id", 0);
	jb_u64(j, r->domain_id);
	jb_key(j, "derived", 0);
	if (all_zero(r->derived, sizeof(r->derived)))
		jb_str(j, "null");
	else
		jb_hex(j, r->derived, sizeof(r->derived));
	jb_kv_json(j, "request", r->request, r->request_len, 0);
	jb_kv_json(j, "args", r->args, r->args_len, 0);
	jb_put(j, "}", 1);
}

static void match(struct jbuf *j, const struct mpci_match *m)
{
	jb_put(j, "{", 1);
	jb_key(j, "filter", 1);
	jb_u64(j, m->filter);
	jb_key(j, "receipt_id", 0);
	jb_qstr(j, m->receipt_id);
	jb_key(j, "predecessor_id", 0);
	jb_qstr(j, m->predecessor_id);
	jb_key(j, "receiver_id", 0);
	jb_qstr(j, m->receiver_id);
	jb_key(j, "method", 0);
	jb_qstr(j, m->method);
	jb_kv_json(j, "args", m->args, m->args_len, 0);
	jb_key(j, "next_receipt_id", 0);
	jb_qstr(j, m->next_receipt_id);
	jb_key(j, "success", 0);
	jb_str(j, m->success ? "true" : "false");
	jb_kv_json(j, "status", m->status_json, m->status_json ? strlen(m->status_json) : 0, 0);
	jb_key(j, "logs", 0);
	jb_put(j, "[", 1);
	for (size_t i = 0; i < m->n_logs; i++) {
		if (i)
			jb_put(j, ",", 1);
		jb_qstr(j, m->logs[i]);
	}
	jb_put(j, "]}", 2);
}

struct bmsg *render_block(const struct mpci_block *b, uint64_t seq)
{
	struct jbuf j;
	jb_init(&j);
	jb_str(&j, "{\"jsonrpc\":\"2.0\",\"method\":\"block\",\"params\":{\"seq\":");
	jb_u64(&j, seq);
	jb_key(&j, "height", 0);
	jb_u64(&j, b->height);
	jb_key(&j, "hash", 0);
	jb_qstr(&j, b->hash);
	jb_key(&j, "prev_hash", 0);
	jb_qstr(&j, b->prev_hash);
	jb_key(&j, "last_final_block", 0);
	jb_qstr(&j, b->last_final_block);
	jb_key(&j, "entropy", 0);
	jb_hex(&j, b->entropy, sizeof(b->entropy));
	jb_key(&j, "timestamp_nanosec", 0);
	jb_put(&j, "\"", 1);
	jb_u64(&j, b->timestamp_nanosec);
	jb_put(&j, "\"", 1);
	jb_key(&j, "status", 0);
	jb_qstr(&j, block_status(b->status));
	jb_key(&j, "final_height", 0);
	jb_u64(&j, b->final_height);
	jb_key(&j, "head_height", 0);
	jb_u64(&j, b->head_height);
	jb_key(&j, "requests", 0);
	jb_put(&j, "[", 1);
	for (size_t i = 0; i < b->n_requests; i++) {
		if (i)
			jb_put(&j, ",", 1);
		request(&j, &b->requests[i]);
	}
	jb_put(&j, "]", 1);
	jb_key(&j, "completions", 0);
	jb_put(&j, "[", 1);
	for (size_t i = 0; i < b->n_completions; i++) {
		const struct mpci_completion *c = &b->completions[i];
		if (i)
			jb_put(&j, ",", 1);
		jb_put(&j, "{", 1);
		jb_key(&j, "kind", 1);
		jb_qstr(&j, render_request_kind(c->kind));
		jb_key(&j, "id", 0);
		jb_qstr(&j, c->id);
		jb_key(&j, "success", 0);
		jb_str(&j, c->success ? "true" : "false");
		jb_put(&j, "}", 1);
	}
	jb_put(&j, "]", 1);
	if (b->n_matches) {
		jb_key(&j, "matches", 0);
		jb_put(&j, "[", 1);
		for (size_t i = 0; i < b->n_matches; i++) {
			if (i)
				jb_put(&j, ",", 1);
			match(&j, &b->matches[i]);
		}
		jb_put(&j, "]", 1);
	}
	jb_key(&j, "timeouts", 0);
	jb_u64(&j, b->n_timeouts);
	jb_put(&j, "}}", 2);
	struct bmsg *m = bmsg_from(&j);
	if (m) {
		m->is_block = 1;
		m->height = b->height;
	}
	return m;
}

static struct bmsg *height_event(const char *method, uint64_t seq, uint64_t height,
				 const char *hash)
{
	struct jbuf j;
	jb_init(&j);
	jb_str(&j, "{\"jsonrpc\":\"2.0\",\"method\":");
	jb_qstr(&j, method);
	jb_str(&j, ",\"params\":{\"seq\":");
	jb_u64(&j, seq);
	jb_key(&j, "height", 0);
	jb_u64(&j, height);
	jb_key(&j, "hash", 0);
	jb_qstr(&j, hash);
	jb_put(&j, "}}", 2);
	struct bmsg *m = bmsg_from(&j);
	if (m)
		m->height = height;
	return m;
}

struct bmsg *render_orphaned(uint64_t seq, uint64_t height, const char *hash)
{
	return height_event("orphaned", seq, height, hash);
}

struct bmsg *render_finalized(uint64_t seq, uint64_t height, const char *hash)
{
	return height_event("finalized", seq, height, hash);
}

void render_view_body(struct jbuf *j, const struct mpci_view_result *r)
{
	jb_put(j, "{", 1);
	jb_key(j, "ok", 1);
	jb_str(j, r->ok ? "true" : "false");
	if (r->ok)
		jb_kv_json(j, "value", r->value, r->value_len, 0);
	else {
		jb_key(j, "error", 0);
		jb_qstr(j, r->error ? r->error : "unknown error");
	}
	jb_key(j, "height", 0);
	jb_u64(j, r->block_height);
	jb_key(j, "hash", 0);
	jb_qstr(j, r->block_hash);
	jb_put(j, "}", 1);
}

struct bmsg *render_state(const char *method, const struct mpci_view_result *r)
{
	struct jbuf j;
	jb_init(&j);
	char sub[300];
	snprintf(sub, sizeof(sub), "state:%s", method);
	jb_str(&j, "{\"jsonrpc\":\"2.0\",\"method\":\"state\",\"params\":{\"subscription\":");
	jb_qstr(&j, sub);
	jb_key(&j, "method", 0);
	jb_qstr(&j, method);
	jb_key(&j, "ok", 0);
	jb_str(&j, r->ok ? "true" : "false");
	if (r->ok)
		jb_kv_json(&j, "value", r->value, r->value_len, 0);
	else {
		jb_key(&j, "error", 0);
		jb_qstr(&j, r->error ? r->error : "unknown error");
	}
	jb_key(&j, "height", 0);
	jb_u64(&j, r->block_height);
	jb_key(&j, "hash", 0);
	jb_qstr(&j, r->block_hash);
	jb_key(&j, "ended", 0);
	jb_str(&j, r->final ? "true" : "false");
	jb_put(&j, "}}", 2);
	return bmsg_from(&j);
}

void render_tx_body(struct jbuf *j, const struct mpci_tx_result *r)
{
	jb_put(j, "{", 1);
	jb_key(j, "tx_id", 1);
	jb_u64(j, r->id);
	jb_key(j, "status", 0);
	jb_qstr(j, render_tx_status(r->status));
	jb_key(j, "hash", 0);
	jb_qstr(j, r->hash);
	if (r->value)
		jb_kv_json(j, "value", r->value, r->value_len, 0);
	if (r->error) {
		jb_key(j, "error", 0);
		jb_qstr(j, r->error);
	}
	jb_key(j, "height", 0);
	jb_u64(j, r->block_height);
	jb_put(j, "}", 1);
}
