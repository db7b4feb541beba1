/* doc: renders a block once into every document that serves it: the RPC BlockView and
 * ChunkViews, and the neardata StreamerMessage (block + IndexerShards). Key order and
 * value types follow the recorded fixtures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nearsim.h"

void acct_perm_render(struct jw *w, const struct ns_perm *p);

#define AUTHOR "test.near"
#define PROTOCOL_VERSION 73

static void derive(uint8_t out[32], const uint8_t base[32], const char *label, uint32_t n)
{
	uint8_t in[32 + 16 + 4] = { 0 };
	size_t l = strlen(label);

	memcpy(in, base, 32);
	memcpy(in + 32, label, l > 16 ? 16 : l);
	memcpy(in + 48, &n, 4);
	sha256(out, in, sizeof(in));
}

static void fake_sig(struct jw *w, const uint8_t base[32], const char *label)
{
	uint8_t s[64];

	derive(s, base, label, 0);
	derive(s + 32, base, label, 1);
	jw_sig(w, s);
}

void doc_action(struct jw *w, const struct ns_action *a)
{
	int i;

	switch (a->type) {
	case ACT_CREATE_ACCOUNT:
		jw_str(w, "CreateAccount");
		return;
	case ACT_DEPLOY:
		jw_obj(w);
		jw_key(w, "DeployContract");
		jw_obj(w);
		jw_key(w, "code");
		jw_b64(w, a->args, a->args_len);
		jw_end_obj(w);
		jw_end_obj(w);
		return;
	case ACT_FUNCTION_CALL:
		jw_obj(w);
		jw_key(w, "FunctionCall");
		jw_obj(w);
		jw_kstr(w, "method_name", a->method);
		jw_key(w, "args");
		jw_b64(w, a->args, a->args_len);
		jw_ku64(w, "gas", a->gas);
		jw_ku128(w, "deposit", a->deposit);
		jw_end_obj(w);
		jw_end_obj(w);
		return;
	case ACT_TRANSFER:
		jw_obj(w);
		jw_key(w, "Transfer");
		jw_obj(w);
		jw_ku128(w, "deposit", a->deposit);
		jw_end_obj(w);
		jw_end_obj(w);
		return;
	case ACT_STAKE:
		jw_obj(w);
		jw_key(w, "Stake");
		jw_obj(w);
		jw_ku128(w, "stake", a->deposit);
		jw_kpk(w, "public_key", a->pk);
		jw_end_obj(w);
		jw_end_obj(w);
		return;
	case ACT_ADD_KEY:
		jw_obj(w);
		jw_key(w, "AddKey");
		jw_obj(w);
		jw_kpk(w, "public_key", a->pk);
		jw_key(w, "access_key");
		jw_obj(w);
		jw_ku64(w, "nonce", a->ak_nonce);
		jw_key(w, "permission");
		acct_perm_render(w, &a->perm);
		jw_end_obj(w);
		jw_end_obj(w);
		jw_end_obj(w);
		return;
	case ACT_DELETE_KEY:
		jw_obj(w);
		jw_key(w, "DeleteKey");
		jw_obj(w);
		jw_kpk(w, "public_key", a->pk);
		jw_end_obj(w);
		jw_end_obj(w);
		return;
	case ACT_DELETE_ACCOUNT:
		jw_obj(w);
		jw_key(w, "DeleteAccount");
		jw_obj(w);
		jw_kstr(w, "beneficiary_id", a->beneficiary);
		jw_end_obj(w);
		jw_end_obj(w);
		return;
	}
	(void)i;
	jw_null(w);
}

static void actions(struct jw *w, const struct ns_action *a, int n)
{
	int i;

	jw_arr(w);
	for (i = 0; i < n; i++)
		doc_action(w, &a[i]);
	jw_end_arr(w);
}

void doc_tx_view(struct jw *w, const struct ns_tx *t)
{
	jw_obj(w);
	jw_kstr(w, "signer_id", t->signer);
	jw_kpk(w, "public_key", t->pk);
	jw_ku64(w, "nonce", t->nonce);
	jw_kstr(w, "receiver_id", t->receiver);
	jw_key(w, "actions");
	actions(w, t->actions, t->nactions);
	jw_ku64(w, "priority_fee", 0);
	jw_key(w, "signature");
	jw_sig(w, t->sig);
	jw_khash(w, "hash", t->hash);
	jw_end_obj(w);
}

void doc_receipt_view(struct jw *w, const struct ns_receipt *r)
{
	jw_obj(w);
	jw_kstr(w, "predecessor_id", r->predecessor);
	jw_kstr(w, "receiver_id", r->receiver);
	jw_khash(w, "receipt_id", r->id);
	jw_key(w, "receipt");
	jw_obj(w);
	jw_key(w, "Action");
	jw_obj(w);
	jw_kstr(w, "signer_id", r->signer);
	jw_kpk(w, "signer_public_key", r->signer_pk);
	jw_ku64s(w, "gas_price", NS_GAS_PRICE);
	jw_kempty_arr(w, "output_data_receivers");
	jw_key(w, "input_data_ids");
	jw_arr(w);
	if (r->has_data_id)
		jw_hash(w, r->data_id);
	jw_end_arr(w);
	jw_key(w, "actions");
	actions(w, r->actions, r->nactions);
	jw_kbool(w, "is_promise_yield", r->is_yield);
	jw_end_obj(w);
	jw_end_obj(w);
	jw_ku64(w, "priority", 0);
	jw_end_obj(w);
}

static void status(struct jw *w, const struct ns_outcome *o)
{
	switch (o->status) {
	case ST_VALUE:
		jw_obj(w);
		jw_key(w, "SuccessValue");
		jw_b64(w, o->value, o->value_len);
		jw_end_obj(w);
		break;
	case ST_RECEIPT:
		jw_obj(w);
		jw_khash(w, "SuccessReceiptId", o->next);
		jw_end_obj(w);
		break;
	case ST_FAILURE:
		jw_obj(w);
		jw_kraw(w, "Failure", o->failure, strlen(o->failure));
		jw_end_obj(w);
		break;
	default:
		jw_str(w, "Unknown");
	}
}

void doc_outcome_with_id(struct jw *w, const uint8_t id[32], const uint8_t block_hash[32],
			 const struct ns_outcome *o, int metadata_version)
{
	uint8_t ph[32];
	int i;

	derive(ph, id, "proof", 0);
	jw_obj(w);
	jw_key(w, "proof");
	jw_arr(w);
	jw_obj(w);
	jw_khash(w, "hash", ph);
	jw_kstr(w, "direction", (ph[0] & 1) ? "Left" : "Right");
	jw_end_obj(w);
	jw_end_arr(w);
	jw_khash(w, "block_hash", block_hash);
	jw_khash(w, "id", id);
	jw_key(w, "outcome");
	jw_obj(w);
	jw_key(w, "logs");
	jw_arr(w);
	for (i = 0; i < o->nlogs; i++)
		jw_str(w, o->logs[i]);
	jw_end_arr(w);
	jw_key(w, "receipt_ids");
	jw_arr(w);
	for (i = 0; i < o->nreceipt_ids; i++)
		jw_hash(w, o->receipt_ids[i]);
	jw_end_arr(w);
	jw_ku64(w, "gas_burnt", o->gas_burnt);
	jw_ku128(w, "tokens_burnt", o->tokens_burnt);
	jw_kstr(w, "executor_id", o->executor ? o->executor : "");
	jw_key(w, "status");
	status(w, o);
	jw_key(w, "metadata");
	jw_obj(w);
	jw_ku64(w, "version", (uint64_t)metadata_version);
	jw_key(w, "gas_profile");
	if (metadata_version == 1)
		jw_null(w);
	else
		jw_raw(w, "[]", 2);
	jw_end_obj(w);
	jw_end_obj(w);
	jw_end_obj(w);
}

static void chunk_header(struct jw *w, struct ns_block *b, int s)
{
	const struct ns_chunkc *k = b->content ? &b->content[s] : NULL;
	uint8_t h[32];

	jw_obj(w);
	jw_khash(w, "chunk_hash", b->chunk_hash[s]);
	jw_khash(w, "prev_block_hash", b->prev_hash);
	derive(h, b->chunk_hash[s], "outcome_root", 0);
	jw_khash(w, "outcome_root", h);
	derive(h, b->chunk_hash[s], "prev_state_root", 0);
	jw_khash(w, "prev_state_root", h);
	derive(h, b->chunk_hash[s], "encoded_merkle", 0);
	jw_khash(w, "encoded_merkle_root", h);
	jw_ku64(w, "encoded_length", 364 + (k ? (uint64_t)(k->txs.n + k->outgoing.n) * 200 : 0));
	jw_ku64(w, "height_created", b->height);
	jw_ku64(w, "height_included", b->height);
	jw_ku64(w, "shard_id", (uint64_t)s);
	jw_ku64(w, "gas_used", k ? k->gas_used : 0);
	jw_ku64(w, "gas_limit", 1000000000000000ULL);
	jw_ku64s(w, "rent_paid", 0);
	jw_ku64s(w, "validator_reward", 0);
	jw_ku128(w, "balance_burnt", k ? k->balance_burnt : 0);
	derive(h, b->chunk_hash[s], "outgoing_root", 0);
	jw_khash(w, "outgoing_receipts_root", h);
	derive(h, b->chunk_hash[s], "tx_root", 0);
	jw_khash(w, "tx_root", h);
	jw_kempty_arr(w, "validator_proposals");
	jw_key(w, "congestion_info");
	jw_obj(w);
	jw_ku64(w, "allowed_shard", (uint64_t)s);
	jw_ku64s(w, "buffered_receipts_gas", 0);
	jw_ku64s(w, "delayed_receipts_gas", 0);
	jw_ku64(w, "receipt_bytes", 0);
	jw_end_obj(w);
	jw_knull(w, "bandwidth_requests");
	jw_key(w, "signature");
	fake_sig(w, b->chunk_hash[s], "chunk_sig");
	jw_end_obj(w);
}

static void block_view(struct ns_chain *c, struct jw *w, struct ns_block *b, struct jw *headers, size_t *hoff)
{
	uint8_t h[32], ep[32];
	uint64_t epoch = (b->height - c->genesis_height) / 43200;
	int s;

	jw_obj(w);
	jw_kstr(w, "author", AUTHOR);
	jw_key(w, "header");
	jw_obj(w);
	jw_ku64(w, "height", b->height);
	jw_ku64(w, "prev_height", b->prev_height);
	derive(ep, c->genesis_hash, "epoch", (uint32_t)epoch);
	jw_khash(w, "epoch_id", ep);
	derive(ep, c->genesis_hash, "epoch", (uint32_t)epoch + 1);
	jw_khash(w, "next_epoch_id", ep);
	jw_khash(w, "hash", b->hash);
	jw_khash(w, "prev_hash", b->prev_hash);
	derive(h, b->hash, "prev_state_root", 0);
	jw_khash(w, "prev_state_root", h);
	derive(h, b->hash, "chunk_receipts", 0);
	jw_khash(w, "chunk_receipts_root", h);
	derive(h, b->hash, "chunk_headers", 0);
	jw_khash(w, "chunk_headers_root", h);
	derive(h, b->hash, "chunk_tx_root", 0);
	jw_khash(w, "chunk_tx_root", h);
	derive(h, b->hash, "outcome_root", 0);
	jw_khash(w, "outcome_root", h);
	jw_ku64(w, "chunks_included", (uint64_t)b->nshards);
	memset(h, 0, 32);
	jw_khash(w, "challenges_root", h);
	jw_ku64(w, "timestamp", b->ts_ns);
	jw_ku64s(w, "timestamp_nanosec", b->ts_ns);
	jw_khash(w, "random_value", b->random);
	jw_kempty_arr(w, "validator_proposals");
	jw_key(w, "chunk_mask");
	jw_arr(w);
	for (s = 0; s < b->nshards; s++)
		jw_bool(w, true);
	jw_end_arr(w);
	jw_ku64s(w, "gas_price", NS_GAS_PRICE);
	jw_ku64(w, "block_ordinal", b->ordinal);
	jw_ku64s(w, "rent_paid", 0);
	jw_ku64s(w, "validator_reward", 0);
	jw_key(w, "total_supply");
	jw_raw(w, "\"2085303629225498163419972383984892\"", 36);
	jw_kempty_arr(w, "challenges_result");
	jw_khash(w, "last_final_block", b->last_final);
	jw_khash(w, "last_ds_final_block", b->last_ds_final);
	derive(h, ep, "next_bp", 0);
	jw_khash(w, "next_bp_hash", h);
	derive(h, b->hash, "block_merkle", 0);
	jw_khash(w, "block_merkle_root", h);
	jw_knull(w, "epoch_sync_data_hash");
	jw_key(w, "approvals");
	jw_arr(w);
	fake_sig(w, b->prev_hash, "approval");
	jw_end_arr(w);
	jw_key(w, "signature");
	fake_sig(w, b->hash, "block_sig");
	jw_ku64(w, "latest_protocol_version", PROTOCOL_VERSION);
	jw_end_obj(w);
	jw_key(w, "chunks");
	jw_arr(w);
	for (s = 0; s < b->nshards; s++) {
		size_t start = headers->len;
		headers->need_comma[0] = 0;
		chunk_header(headers, b, s);
		hoff[s] = start;
		hoff[s + 1] = headers->len;
		jw_raw(w, headers->buf + start, headers->len - start);
	}
	jw_end_arr(w);
	jw_end_obj(w);
}

static void state_changes(struct jw *w, const struct ns_tx *t)
{
	uint8_t ch[32];
	static const struct ns_perm full = { .full = true };
	bool snap = t->doc_snap && !t->bg;

	derive(ch, t->hash, "code_hash", 0);
	jw_obj(w);
	jw_key(w, "cause");
	jw_obj(w);
	jw_kstr(w, "type", "transaction_processing");
	jw_khash(w, "tx_hash", t->hash);
	jw_end_obj(w);
	jw_kstr(w, "type", "account_update");
	jw_key(w, "change");
	jw_obj(w);
	jw_kstr(w, "account_id", t->signer);
	jw_ku128(w, "amount", snap ? t->doc_amount : (u128)999999549946933447ULL * 1000000000ULL);
	jw_ku64s(w, "locked", 0);
	memset(ch, 0, 32);
	jw_khash(w, "code_hash", ch);
	jw_ku64(w, "storage_usage", 182);
	jw_ku64(w, "storage_paid_at", 0);
	jw_end_obj(w);
	jw_end_obj(w);

	jw_obj(w);
	jw_key(w, "cause");
	jw_obj(w);
	jw_kstr(w, "type", "transaction_processing");
	jw_khash(w, "tx_hash", t->hash);
	jw_end_obj(w);
	jw_kstr(w, "type", "access_key_update");
	jw_key(w, "change");
	jw_obj(w);
	jw_kstr(w, "account_id", t->signer);
	jw_kpk(w, "public_key", t->pk);
	jw_key(w, "access_key");
	jw_obj(w);
	jw_ku64(w, "nonce", t->nonce);
	jw_key(w, "permission");
	acct_perm_render(w, snap && t->doc_has_key ? &t->doc_perm : &full);
	jw_end_obj(w);
	jw_end_obj(w);
	jw_end_obj(w);
}

/* The account state that state_changes shows, as it is when the block is made. */
void doc_snapshot(struct ns_chain *c, struct ns_block *b)
{
	int s, i;

	for (s = 0; s < b->nshards; s++) {
		for (i = 0; i < b->content[s].txs.n; i++) {
			struct ns_tx *t = b->content[s].txs.v[i];
			struct ns_account *a = t->bg ? NULL : acct_find(c, t->signer);
			struct ns_key *k = a ? acct_key(a, t->pk) : NULL;
			if (t->bg || t->doc_snap)
				continue;
			t->doc_snap = a != NULL;
			t->doc_amount = a ? a->amount : 0;
			t->doc_has_key = k && perm_copy(&t->doc_perm, &k->perm) == 0;
		}
	}
}

static void chunk_view(struct jw *w, struct ns_block *b, int s, const char *hdr, size_t hlen, bool streamer)
{
	const struct ns_chunkc *k = &b->content[s];
	int i;

	jw_obj(w);
	jw_kstr(w, "author", AUTHOR);
	jw_kraw(w, "header", hdr, hlen);
	jw_key(w, "transactions");
	jw_arr(w);
	for (i = 0; i < k->txs.n; i++) {
		const struct ns_tx *t = k->txs.v[i];
		if (!streamer) {
			doc_tx_view(w, t);
			continue;
		}
		jw_obj(w);
		jw_key(w, "transaction");
		doc_tx_view(w, t);
		jw_key(w, "outcome");
		jw_obj(w);
		jw_key(w, "execution_outcome");
		doc_outcome_with_id(w, t->hash, b->hash, &t->out, 1);
		jw_knull(w, "receipt");
		jw_end_obj(w);
		jw_end_obj(w);
	}
	jw_end_arr(w);
	jw_key(w, "receipts");
	jw_arr(w);
	for (i = 0; i < k->outgoing.n; i++)
		doc_receipt_view(w, k->outgoing.v[i]);
	jw_end_arr(w);
	if (streamer) {
		jw_key(w, "local_receipts");
		jw_arr(w);
		for (i = 0; i < k->local.n; i++)
			doc_receipt_view(w, k->local.v[i]);
		jw_end_arr(w);
	}
	jw_end_obj(w);
}

static void indexer_shard(struct jw *w, struct ns_block *b, int s, const char *hdr, size_t hlen)
{
	const struct ns_chunkc *k = &b->content[s];
	int i;

	jw_obj(w);
	jw_ku64(w, "shard_id", (uint64_t)s);
	jw_key(w, "chunk");
	chunk_view(w, b, s, hdr, hlen, true);
	jw_key(w, "receipt_execution_outcomes");
	jw_arr(w);
	for (i = 0; i < k->execd.n; i++) {
		const struct ns_receipt *r = k->execd.v[i];
		jw_obj(w);
		jw_key(w, "execution_outcome");
		doc_outcome_with_id(w, r->id, b->hash, &r->out, 3);
		jw_key(w, "receipt");
		doc_receipt_view(w, r);
		jw_key(w, "tx_hash");
		if (r->has_tx_hash)
			jw_hash(w, r->tx_hash);
		else
			jw_null(w);
		jw_end_obj(w);
	}
	jw_end_arr(w);
	jw_key(w, "state_changes");
	jw_arr(w);
	for (i = 0; i < k->txs.n; i++)
		state_changes(w, k->txs.v[i]);
	jw_end_arr(w);
	jw_end_obj(w);
}

static struct ns_buf *take(struct jw *w)
{
	size_t n;
	char *s = jw_take(w, &n);

	return s ? buf_new(s, n) : NULL;
}

/* One StreamerMessage document per block; the BlockView and each IndexerShard that
 * /v0/block and /shard/ serve are slices of it (rendered once, kept once). */
void doc_render_block(struct ns_chain *c, struct ns_block *b)
{
	struct jw w, hdrs, doc;
	size_t *hoff = calloc((size_t)b->nshards + 1, sizeof(size_t));
	size_t *soff = calloc((size_t)b->nshards * 2 + 2, sizeof(size_t));
	struct ns_buf *all;
	int s;

	if (!hoff || !soff) {
		free(hoff);
		free(soff);
		return;
	}
	jw_init(&hdrs, 1024 * (size_t)b->nshards);
	jw_init(&doc, c->last_doc_bytes ? c->last_doc_bytes + 4096 : 65536);
	jw_obj(&doc);
	jw_key(&doc, "block");
	soff[0] = doc.len;
	block_view(c, &doc, b, &hdrs, hoff);
	soff[1] = doc.len;
	jw_key(&doc, "shards");
	jw_arr(&doc);
	for (s = 0; s < b->nshards; s++) {
		const char *hdr = hdrs.buf + hoff[s];
		size_t hlen = hoff[s + 1] - hoff[s];
		jw_init(&w, 4096);
		chunk_view(&w, b, s, hdr, hlen, false);
		buf_unref(b->chunk[s]);
		b->chunk[s] = take(&w);
		soff[2 + 2 * s] = doc.len + (s ? 1 : 0); /* after the comma between shards */
		indexer_shard(&doc, b, s, hdr, hlen);
		soff[3 + 2 * s] = doc.len;
	}
	jw_end_arr(&doc);
	jw_end_obj(&doc);
	all = take(&doc);
	buf_unref(b->doc);
	buf_unref(b->view);
	b->doc = all;
	b->view = buf_slice(all, soff[0], soff[1] - soff[0]);
	for (s = 0; s < b->nshards; s++) {
		buf_unref(b->shard[s]);
		b->shard[s] = buf_slice(all, soff[2 + 2 * s], soff[3 + 2 * s] - soff[2 + 2 * s]);
	}
	if (b->doc)
		c->last_doc_bytes = b->doc->len;
	jw_free(&hdrs);
	free(hoff);
	free(soff);
}

void doc_chunk_hashes(struct ns_block *b)
{
	int s;

	for (s = 0; s < b->nshards; s++)
		derive(b->chunk_hash[s], b->hash, "chunk", (uint32_t)s);
}

void doc_ensure(struct ns_chain *c, struct ns_block *b)
{
	if (!b->doc)
		doc_render_block(c, b);
}
