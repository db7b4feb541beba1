/* rpc: NEAR JSON-RPC over the simulated chain: status, block, chunk, query, gas_price,
 * send_tx, broadcast_tx_async/commit, tx, EXPERIMENTAL_tx_status, with nearcore's error
 * objects and HTTP codes (400 validation, 408 timeout, 422 unknown block below head). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "nearsim.h"

void acct_perm_render(struct jw *w, const struct ns_perm *p);

struct call {
	struct ns_chain *c;
	const cJSON *params;
	char *id;                 /* rendered JSON id */
	struct ns_reply *r;
	struct ns_tx *pre;        /* signed_tx_base64 decoded and verified before the chain lock */
};

static void envelope_open(struct jw *w)
{
	jw_obj(w);
	jw_kstr(w, "jsonrpc", "2.0");
}

static void finish(struct call *k, struct jw *w, int status)
{
	size_t n;
	char *s;

	jw_kraw(w, "id", k->id, strlen(k->id));
	jw_end_obj(w);
	s = jw_take(w, &n);
	reply_json(k->r, status, s, n);
}

static void result_raw(struct call *k, const char *json, size_t len)
{
	struct jw w;

	jw_init(&w, len + 64);
	envelope_open(&w);
	jw_kraw(&w, "result", json, len);
	finish(k, &w, 200);
}

/* error: name (HANDLER_ERROR...), cause name, cause info JSON (NULL: omitted), code, message, data JSON */
static void error(struct call *k, int status, const char *name, const char *cause, const char *info,
		  int code, const char *message, const char *data_json)
{
	struct jw w;

	jw_init(&w, 512);
	envelope_open(&w);
	jw_key(&w, "error");
	jw_obj(&w);
	jw_kstr(&w, "name", name);
	jw_key(&w, "cause");
	jw_obj(&w);
	if (info)
		jw_kraw(&w, "info", info, strlen(info));
	jw_kstr(&w, "name", cause);
	jw_end_obj(&w);
	jw_key(&w, "code");
	jw_i64(&w, code);
	jw_kstr(&w, "message", message);
	if (data_json)
		jw_kraw(&w, "data", data_json, strlen(data_json));
	jw_end_obj(&w);
	finish(k, &w, status);
}

static void handler_error(struct call *k, int status, const char *cause, const char *info, const char *data_text)
{
	struct jw d;
	char *ds;

	jw_init(&d, 128);
	jw_str(&d, data_text);
	ds = jw_take(&d, NULL);
	error(k, status, "HANDLER_ERROR", cause, info, -32000, "Server error", ds);
	free(ds);
}

static void parse_error(struct call *k, const char *msg)
{
	struct jw i, d;
	char *is, *ds;

	jw_init(&i, 128);
	jw_obj(&i);
	jw_kstr(&i, "error_message", msg);
	jw_end_obj(&i);
	is = jw_take(&i, NULL);
	jw_init(&d, 128);
	jw_str(&d, msg);
	ds = jw_take(&d, NULL);
	error(k, 400, "REQUEST_VALIDATION_ERROR", "PARSE_ERROR", is, -32700, "Parse error", ds);
	free(is);
	free(ds);
}

static void timeout_error(struct call *k)
{
	error(k, 408, "HANDLER_ERROR", "TIMEOUT_ERROR", NULL, -32000, "Server error", "\"Timeout\"");
}

static void unknown_block(struct call *k, uint64_t h, bool known_height)
{
	char data[128];
	struct ns_block *head = chain_head(k->c);

	if (known_height)
		snprintf(data, sizeof(data), "DB Not Found Error: BLOCK HEIGHT: %llu \n Cause: Unknown", (unsigned long long)h);
	else
		snprintf(data, sizeof(data), "DB Not Found Error: BLOCK: block not found \n Cause: Unknown");
	handler_error(k, known_height && head && h < head->height ? 422 : 200, "UNKNOWN_BLOCK", "{}", data);
}

/* ---------- block selection ---------- */
static const cJSON *param(struct call *k, const char *name)
{
	return cJSON_IsObject(k->params) ? cJSON_GetObjectItemCaseSensitive(k->params, name) : NULL;
}

static bool u64_of(const cJSON *j, uint64_t *out)
{
	if (!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble >= 9007199254740992.0
	    || j->valuedouble != (double)(uint64_t)j->valuedouble)
		return false;
	*out = (uint64_t)j->valuedouble;
	return true;
}

/* Returns the block, or NULL after replying with an error. */
static struct ns_block *select_block(struct call *k, const cJSON *fin, const cJSON *bid, const cJSON *cp)
{
	struct ns_chain *c = k->c;
	struct ns_block *vh = chain_visible_head(c, KIND_RPC), *b;
	uint64_t h;
	uint8_t hash[32];

	if (cJSON_IsString(fin)) {
		if (!strcmp(fin->valuestring, "optimistic"))
			return vh;
		if (!strcmp(fin->valuestring, "near-final"))
			return chain_at_or_below(c, vh->last_ds_final_height ? vh->last_ds_final_height : vh->height);
		if (!strcmp(fin->valuestring, "final"))
			return chain_visible_final(c, KIND_RPC);
		parse_error(k, "Failed parsing args: unknown variant for finality, expected one of `optimistic`, `near-final`, `final`");
		return NULL;
	}
	if (bid) {
		if (u64_of(bid, &h)) {
			if (h > vh->height || !(b = chain_at(c, h))) {
				unknown_block(k, h, true);
				return NULL;
			}
			return b;
		}
		if (cJSON_IsString(bid) && !b58_dec_exact(hash, 32, bid->valuestring, strlen(bid->valuestring))) {
			if (!(b = chain_by_hash(c, hash)) || b->height > vh->height) {
				unknown_block(k, 0, false);
				return NULL;
			}
			return b;
		}
		parse_error(k, "Failed parsing args: block_id must be a height or a base58 block hash");
		return NULL;
	}
	if (cJSON_IsString(cp)) {
		if (!strcmp(cp->valuestring, "genesis"))
			return chain_at(c, c->genesis_height) ? chain_at(c, c->genesis_height)
				: chain_at_or_below(c, c->gc_below + 1);
		if (!strcmp(cp->valuestring, "earliest_available"))
			return chain_at_or_below(c, c->gc_below > c->genesis_height ? c->gc_below + 1 : c->genesis_height);
	}
	parse_error(k, "Failed parsing args: one of finality, block_id or sync_checkpoint is required");
	return NULL;
}

/* ---------- status ---------- */
static void rfc3339(char *out, size_t cap, uint64_t ns)
{
	time_t s = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	char b[40];

	gmtime_r(&s, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%s.%09lluZ", b, (unsigned long long)(ns % 1000000000ULL));
}

static char *status_json(struct ns_chain *c, size_t *len)
{
	struct ns_block *head = chain_visible_head(c, KIND_RPC);
	struct ns_block *earliest = chain_at_or_below(c, c->gc_below > c->genesis_height ? c->gc_below + 1 : c->genesis_height);
	uint8_t pk[32], sk[64], h[32];
	char t[64];
	struct jw w;

	if (!earliest)
		earliest = head;
	key_for("test.near", "node", pk, sk);
	jw_init(&w, 1536);
	jw_obj(&w);
	jw_kstr(&w, "chain_id", c->chain_id);
	jw_khash(&w, "genesis_hash", c->genesis_hash);
	jw_ku64(&w, "latest_protocol_version", 73);
	jw_knull(&w, "node_key");
	jw_kpk(&w, "node_public_key", pk);
	jw_ku64(&w, "protocol_version", 73);
	jw_kstr(&w, "rpc_addr", "127.0.0.1:3030");
	jw_key(&w, "sync_info");
	jw_obj(&w);
	jw_khash(&w, "earliest_block_hash", earliest->hash);
	jw_ku64(&w, "earliest_block_height", earliest->height);
	rfc3339(t, sizeof(t), earliest->ts_ns);
	jw_kstr(&w, "earliest_block_time", t);
	sha256(h, c->genesis_hash, 32);
	jw_khash(&w, "epoch_id", h);
	jw_ku64(&w, "epoch_start_height", c->genesis_height);
	jw_khash(&w, "latest_block_hash", head->hash);
	jw_ku64(&w, "latest_block_height", head->height);
	rfc3339(t, sizeof(t), head->ts_ns);
	jw_kstr(&w, "latest_block_time", t);
	sha256(h, head->hash, 32);
	jw_khash(&w, "latest_state_root", h);
	jw_kbool(&w, "syncing", false);
	jw_end_obj(&w);
	jw_ku64(&w, "uptime_sec", (head->ts_ns - c->genesis_time_ns) / 1000000000ULL);
	jw_knull(&w, "validator_account_id");
	jw_knull(&w, "validator_public_key");
	jw_key(&w, "validators");
	jw_arr(&w);
	jw_obj(&w);
	jw_kstr(&w, "account_id", "test.near");
	jw_kbool(&w, "is_slashed", false);
	jw_end_obj(&w);
	jw_end_arr(&w);
	jw_key(&w, "version");
	jw_obj(&w);
	jw_kstr(&w, "build", "nearsim");
	jw_kstr(&w, "rustc_version", "none");
	jw_kstr(&w, "version", "2.4.0-nearsim");
	jw_end_obj(&w);
	jw_end_obj(&w);
	return jw_take(&w, len);
}

static void m_status(struct call *k)
{
	size_t n;
	char *s = status_json(k->c, &n);

	result_raw(k, s, n);
	free(s);
}

void rpc_status_get(struct ns_chain *c, struct ns_reply *r)
{
	size_t n;
	char *s = status_json(c, &n);

	reply_json(r, 200, s, n);
}

/* ---------- block, chunk, gas_price ---------- */
static void m_block(struct call *k)
{
	struct ns_block *b = select_block(k, param(k, "finality"), param(k, "block_id"), param(k, "sync_checkpoint"));

	if (b) {
		doc_ensure(k->c, b);
		result_raw(k, b->view->data, b->view->len);
	}
}

static void m_chunk(struct call *k)
{
	const cJSON *cid = param(k, "chunk_id"), *sid = param(k, "shard_id");
	struct ns_block *b;
	uint8_t h[32];
	uint64_t s;
	int i;

	if (cJSON_IsString(cid)) {
		if (b58_dec_exact(h, 32, cid->valuestring, strlen(cid->valuestring))) {
			parse_error(k, "Failed parsing args: chunk_id is not a base58 hash");
			return;
		}
		if (!(b = map_get(&k->c->chunks, h))) {
			char info[128];
			snprintf(info, sizeof(info), "{\"chunk_hash\":\"%s\"}", cid->valuestring);
			handler_error(k, 200, "UNKNOWN_CHUNK", info, "Chunk Missing (unavailable on the node)");
			return;
		}
		for (i = 0; i < b->nshards; i++)
			if (!memcmp(b->chunk_hash[i], h, 32))
				break;
		doc_ensure(k->c, b);
		result_raw(k, b->chunk[i]->data, b->chunk[i]->len);
		return;
	}
	if (!(b = select_block(k, NULL, param(k, "block_id"), NULL)))
		return;
	if (!u64_of(sid, &s) || s >= (uint64_t)b->nshards) {
		char info[64];
		snprintf(info, sizeof(info), "{\"shard_id\":%llu}", (unsigned long long)(u64_of(sid, &s) ? s : 0));
		handler_error(k, 200, "INVALID_SHARD_ID", info, "Shard id does not exist");
		return;
	}
	doc_ensure(k->c, b);
	result_raw(k, b->chunk[s]->data, b->chunk[s]->len);
}

static void m_gas_price(struct call *k)
{
	const cJSON *p = k->params, *bid = NULL;
	static const char res[] = "{\"gas_price\":\"100000000\"}";

	if (cJSON_IsArray(p))
		bid = cJSON_GetArrayItem(p, 0);
	else if (cJSON_IsObject(p))
		bid = cJSON_GetObjectItemCaseSensitive(p, "block_id");
	if (bid && !cJSON_IsNull(bid) && !select_block(k, NULL, bid, NULL))
		return;
	result_raw(k, res, sizeof(res) - 1);
}

/* ---------- query ---------- */
static void query_result_open(struct jw *w, struct ns_block *b)
{
	jw_obj(w);
	jw_khash(w, "block_hash", b->hash);
	jw_ku64(w, "block_height", b->height);
}

static void legacy_error(struct call *k, struct ns_block *b, const char *msg)
{
	struct jw w;
	size_t n;
	char *s;

	jw_init(&w, 256);
	query_result_open(&w, b);
	jw_kstr(&w, "error", msg);
	jw_kempty_arr(&w, "logs");
	jw_end_obj(&w);
	s = jw_take(&w, &n);
	result_raw(k, s, n);
	free(s);
}

static void unknown_account(struct call *k, struct ns_block *b, const char *acct)
{
	char info[256], data[160];

	snprintf(info, sizeof(info), "{\"block_hash\":\"%s\",\"block_height\":%llu,\"requested_account_id\":\"%s\"}",
		 "", (unsigned long long)b->height, acct);
	{
		char hs[64];
		hash_format(hs, sizeof(hs), b->hash);
		snprintf(info, sizeof(info), "{\"block_hash\":\"%s\",\"block_height\":%llu,\"requested_account_id\":\"%s\"}",
			 hs, (unsigned long long)b->height, acct);
	}
	snprintf(data, sizeof(data), "account %s does not exist while viewing", acct);
	handler_error(k, 200, "UNKNOWN_ACCOUNT", info, data);
}

static void q_call_function(struct call *k, struct ns_block *b, const char *acct)
{
	const cJSON *m = param(k, "method_name"), *a = param(k, "args_base64");
	struct ns_chain *c = k->c;
	struct ns_account *ac = acct_find(c, acct);
	uint8_t *args = NULL;
	long alen = 0;
	char err[300], *out = NULL, msg[400];
	size_t outlen = 0;
	struct jw w;
	size_t n;
	char *s;

	if (!cJSON_IsString(m) || (a && !cJSON_IsString(a))) {
		parse_error(k, "Failed parsing args: method_name and args_base64 must be strings");
		return;
	}
	if (!ac) {
		unknown_account(k, b, acct);
		return;
	}
	if (a && *a->valuestring) {
		size_t l = strlen(a->valuestring);
		args = malloc(l + 1);
		if (!args || (alen = b64_dec(args, l + 1, a->valuestring, l)) < 0) {
			free(args);
			parse_error(k, "Failed parsing args: args_base64 is not base64");
			return;
		}
	}
	if (strcmp(acct, c->contract_id)) {
		snprintf(msg, sizeof(msg), "wasm execution failed with error: CompilationError(CodeDoesNotExist { account_id: AccountId(\"%s\") })", acct);
		free(args);
		legacy_error(k, b, msg);
		return;
	}
	if (contract_view(c, b->cstate, m->valuestring, args, (size_t)alen, b->height, &out, &outlen, NULL, err, sizeof(err))) {
		snprintf(msg, sizeof(msg), "wasm execution failed with error: %s", err);
		free(args);
		legacy_error(k, b, msg);
		return;
	}
	free(args);
	jw_init(&w, outlen * 4 + 128);
	query_result_open(&w, b);
	jw_kempty_arr(&w, "logs");
	jw_key(&w, "result");
	jw_bytes_arr(&w, (const uint8_t *)out, outlen);
	jw_end_obj(&w);
	free(out);
	s = jw_take(&w, &n);
	result_raw(k, s, n);
	free(s);
}

static void q_access_key(struct call *k, struct ns_block *b, const char *acct)
{
	const cJSON *p = param(k, "public_key");
	struct ns_account *ac = acct_find(k->c, acct);
	struct ns_key *key;
	uint8_t pk[32];
	char msg[160];
	struct jw w;
	size_t n;
	char *s;

	if (!cJSON_IsString(p) || pk_parse(pk, p->valuestring)) {
		parse_error(k, "Failed parsing args: public_key must be an ed25519 key string");
		return;
	}
	if (!ac) {
		unknown_account(k, b, acct);
		return;
	}
	if (!(key = acct_key(ac, pk))) {
		snprintf(msg, sizeof(msg), "access key %s does not exist while viewing", p->valuestring);
		legacy_error(k, b, msg);
		return;
	}
	jw_init(&w, 256);
	query_result_open(&w, b);
	jw_ku64(&w, "nonce", key_nonce_at(key, b->height));
	jw_key(&w, "permission");
	acct_perm_render(&w, &key->perm);
	jw_end_obj(&w);
	s = jw_take(&w, &n);
	result_raw(k, s, n);
	free(s);
}

static void q_access_key_list(struct call *k, struct ns_block *b, const char *acct)
{
	struct ns_account *ac = acct_find(k->c, acct);
	struct jw w;
	size_t n;
	char *s;
	int i;

	if (!ac) {
		unknown_account(k, b, acct);
		return;
	}
	jw_init(&w, 512);
	query_result_open(&w, b);
	jw_key(&w, "keys");
	jw_arr(&w);
	for (i = 0; i < ac->nkeys; i++) {
		jw_obj(&w);
		jw_kpk(&w, "public_key", ac->keys[i].pk);
		jw_key(&w, "access_key");
		jw_obj(&w);
		jw_ku64(&w, "nonce", key_nonce_at(&ac->keys[i], b->height));
		jw_key(&w, "permission");
		acct_perm_render(&w, &ac->keys[i].perm);
		jw_end_obj(&w);
		jw_end_obj(&w);
	}
	jw_end_arr(&w);
	jw_end_obj(&w);
	s = jw_take(&w, &n);
	result_raw(k, s, n);
	free(s);
}

static void q_account(struct call *k, struct ns_block *b, const char *acct)
{
	struct ns_account *ac = acct_find(k->c, acct);
	uint8_t code[32] = { 0 };
	struct jw w;
	size_t n;
	char *s;

	if (!ac) {
		unknown_account(k, b, acct);
		return;
	}
	if (ac->has_code)
		sha256(code, acct, strlen(acct));
	jw_init(&w, 256);
	query_result_open(&w, b);
	jw_ku128(&w, "amount", ac->amount);
	jw_ku64s(&w, "locked", 0);
	jw_khash(&w, "code_hash", code);
	jw_ku64(&w, "storage_usage", 182);
	jw_ku64(&w, "storage_paid_at", 0);
	jw_end_obj(&w);
	s = jw_take(&w, &n);
	result_raw(k, s, n);
	free(s);
}

static void m_query(struct call *k)
{
	const cJSON *rt = param(k, "request_type"), *acct = param(k, "account_id");
	struct ns_block *b;

	if (!cJSON_IsObject(k->params) || !cJSON_IsString(rt) || !cJSON_IsString(acct)) {
		parse_error(k, "Failed parsing args: request_type and account_id are required");
		return;
	}
	if (!(b = select_block(k, param(k, "finality"), param(k, "block_id"), param(k, "sync_checkpoint"))))
		return;
	if (!strcmp(rt->valuestring, "call_function"))
		q_call_function(k, b, acct->valuestring);
	else if (!strcmp(rt->valuestring, "view_access_key"))
		q_access_key(k, b, acct->valuestring);
	else if (!strcmp(rt->valuestring, "view_access_key_list"))
		q_access_key_list(k, b, acct->valuestring);
	else if (!strcmp(rt->valuestring, "view_account"))
		q_account(k, b, acct->valuestring);
	else
		parse_error(k, "Failed parsing args: unsupported request_type");
}

/* ---------- transactions ---------- */
static void invalid_tx(struct call *k, const char *inner, size_t len)
{
	struct jw d;
	char *ds;

	jw_init(&d, len + 64);
	jw_obj(&d);
	jw_key(&d, "TxExecutionError");
	jw_obj(&d);
	jw_kraw(&d, "InvalidTxError", inner, len);
	jw_end_obj(&d);
	jw_end_obj(&d);
	ds = jw_take(&d, NULL);
	error(k, 200, "HANDLER_ERROR", "INVALID_TRANSACTION", "{}", -32000, "Server error", ds);
	free(ds);
}

static struct ns_tx *decode_b64_tx(struct call *k, const cJSON *b64)
{
	size_t l;
	uint8_t *raw;
	long n;
	char err[200];
	struct ns_tx *t;

	if (k->pre) {
		t = k->pre;
		k->pre = NULL;
		return t;
	}
	if (!cJSON_IsString(b64)) {
		parse_error(k, "Failed parsing args: signed_tx_base64 must be a string");
		return NULL;
	}
	l = strlen(b64->valuestring);
	if (!(raw = malloc(l + 1)))
		return NULL;
	if ((n = b64_dec(raw, l + 1, b64->valuestring, l)) < 0) {
		free(raw);
		parse_error(k, "Failed parsing args: signed_tx_base64 is not valid base64");
		return NULL;
	}
	t = tx_decode(raw, (size_t)n, err, sizeof(err));
	free(raw);
	if (!t)
		parse_error(k, err);
	return t;
}

static void reply_status(struct call *k, struct ns_tx *t, bool receipts, int level)
{
	struct jw w;
	size_t n;
	char *s;

	jw_init(&w, 4096);
	tx_render_status(k->c, &w, t, receipts, level);
	s = jw_take(&w, &n);
	result_raw(k, s, n);
	free(s);
}

/* Wait (lock held) until t reaches `want` or the server timeout; then answer. */
static void wait_and_reply(struct call *k, struct ns_tx *t, int want, bool receipts)
{
	struct ns_chain *c = k->c;
	unsigned waited = 0, step = 50;
	int lv;

	for (;;) {
		lv = tx_final_level(c, t);
		if (level_meets(lv, want)) {
			reply_status(k, t, receipts, want == LV_NONE && lv == LV_NONE ? LV_NONE : lv);
			return;
		}
		if (waited >= c->cfg->tx_timeout_ms || c->stopping) {
			timeout_error(k);
			return;
		}
		chain_wait(c, step);
		waited += step;
	}
}

static int wait_level(struct call *k, int dflt)
{
	const cJSON *wu = param(k, "wait_until");
	int lv;

	if (!wu)
		return dflt;
	if (!cJSON_IsString(wu) || (lv = level_parse(wu->valuestring)) < 0) {
		parse_error(k, "Failed parsing args: unknown variant for wait_until");
		return -1;
	}
	return lv;
}

static void submit(struct call *k, const cJSON *b64, int want, bool async)
{
	struct ns_tx *t = decode_b64_tx(k, b64);
	struct jw e;
	int rc;
	char hs[64];

	if (!t)
		return;
	if (async) {
		/* broadcast_tx_async answers the hash without any validation feedback */
		hash_format(hs, sizeof(hs), t->hash);
		jw_init(&e, 128);
		(void)tx_submit(k->c, t, &e, &rc);
		jw_free(&e);
		{
			char q[80];
			snprintf(q, sizeof(q), "\"%s\"", hs);
			result_raw(k, q, strlen(q));
		}
		return;
	}
	jw_init(&e, 256);
	t = tx_submit(k->c, t, &e, &rc);
	if (rc) {
		size_t n;
		char *s = jw_take(&e, &n);
		invalid_tx(k, s ? s : "\"InvalidTransaction\"", s ? n : 22);
		free(s);
		return;
	}
	jw_free(&e);
	if (want == LV_NONE) {
		result_raw(k, "{\"final_execution_status\":\"NONE\"}", 33);
		return;
	}
	wait_and_reply(k, t, want, false);
}

static void m_send_tx(struct call *k)
{
	int want = wait_level(k, LV_EXECUTED_OPTIMISTIC);

	if (want < 0)
		return;
	if (cJSON_IsArray(k->params) && cJSON_GetArraySize(k->params) > 1) {
		parse_error(k, "too many params");
		return;
	}
	submit(k, cJSON_IsArray(k->params) ? cJSON_GetArrayItem(k->params, 0) : param(k, "signed_tx_base64"), want, false);
}

static void m_broadcast(struct call *k, bool async)
{
	const cJSON *b64 = cJSON_IsArray(k->params) ? cJSON_GetArrayItem(k->params, 0) : param(k, "signed_tx_base64");

	submit(k, b64, LV_EXECUTED_OPTIMISTIC, async);
}

static void m_tx(struct call *k, bool receipts)
{
	struct ns_chain *c = k->c;
	const cJSON *p = k->params, *h = NULL, *sender = NULL, *b64 = NULL;
	uint8_t hash[32];
	struct ns_tx *t;
	int want = wait_level(k, LV_EXECUTED_OPTIMISTIC);
	char data[160];
	unsigned waited = 0;

	if (want < 0)
		return;
	if (cJSON_IsArray(p)) {
		if (cJSON_GetArraySize(p) == 2) {
			h = cJSON_GetArrayItem(p, 0);
			sender = cJSON_GetArrayItem(p, 1);
		} else {
			b64 = cJSON_GetArrayItem(p, 0);
		}
	} else {
		h = param(k, "tx_hash");
		sender = param(k, "sender_account_id");
		b64 = param(k, "signed_tx_base64");
	}
	if (b64 && !h) {
		struct ns_tx *d = decode_b64_tx(k, b64);
		if (!d)
			return;
		memcpy(hash, d->hash, 32);
		sender = NULL;
		tx_free(d);
	} else if (!cJSON_IsString(h) || b58_dec_exact(hash, 32, h->valuestring, strlen(h->valuestring))
		   || (sender && !cJSON_IsString(sender))) {
		parse_error(k, "Failed parsing args: tx_hash (base58) and sender_account_id are required");
		return;
	}
	for (;;) {
		t = map_get(&c->txs, hash);
		if (t && !t->dropped && (!sender || !strcmp(sender->valuestring, t->signer)))
			break;
		if (want == LV_NONE || waited >= c->cfg->tx_timeout_ms || c->stopping) {
			char hs[64], info[128];
			if (want != LV_NONE) {
				timeout_error(k);
				return;
			}
			hash_format(hs, sizeof(hs), hash);
			snprintf(info, sizeof(info), "{\"requested_transaction_hash\":\"%s\"}", hs);
			snprintf(data, sizeof(data), "Transaction %s doesn't exist", hs);
			handler_error(k, 200, "UNKNOWN_TRANSACTION", info, data);
			return;
		}
		chain_wait(c, 50);
		waited += 50;
	}
	wait_and_reply(k, t, want, receipts);
}

static void m_receipt(struct call *k)
{
	const cJSON *id = param(k, "receipt_id");
	struct ns_receipt *r;
	uint8_t h[32];
	struct jw w;
	size_t n;
	char *s;

	if (!cJSON_IsString(id) || b58_dec_exact(h, 32, id->valuestring, strlen(id->valuestring))) {
		parse_error(k, "Failed parsing args: receipt_id must be a base58 hash");
		return;
	}
	if (!(r = map_get(&k->c->receipts, h))) {
		char info[128];
		snprintf(info, sizeof(info), "{\"receipt_id\":\"%s\"}", id->valuestring);
		handler_error(k, 200, "UNKNOWN_RECEIPT", info, "Receipt not found");
		return;
	}
	jw_init(&w, 1024);
	doc_receipt_view(&w, r);
	s = jw_take(&w, &n);
	result_raw(k, s, n);
	free(s);
}

/* ---------- dispatch ---------- */
char *rpc_request_id(const char *body, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *id = root ? cJSON_GetObjectItemCaseSensitive(root, "id") : NULL;
	char *s = id ? cJSON_PrintUnformatted(id) : strdup("null");

	cJSON_Delete(root);
	return s;
}

static void dispatch(struct call *k, const char *method)
{
	struct ns_chain *c = k->c;

	c->served[KIND_RPC]++;
	if (!strcmp(method, "status"))
		m_status(k);
	else if (!strcmp(method, "block"))
		m_block(k);
	else if (!strcmp(method, "chunk"))
		m_chunk(k);
	else if (!strcmp(method, "query"))
		m_query(k);
	else if (!strcmp(method, "gas_price"))
		m_gas_price(k);
	else if (!strcmp(method, "send_tx"))
		m_send_tx(k);
	else if (!strcmp(method, "broadcast_tx_async"))
		m_broadcast(k, true);
	else if (!strcmp(method, "broadcast_tx_commit"))
		m_broadcast(k, false);
	else if (!strcmp(method, "tx"))
		m_tx(k, false);
	else if (!strcmp(method, "EXPERIMENTAL_tx_status"))
		m_tx(k, true);
	else if (!strcmp(method, "EXPERIMENTAL_receipt"))
		m_receipt(k);
	else if (!strcmp(method, "health"))
		result_raw(k, "null", 4);
	else {
		struct jw i, d;
		char *is, *ds;
		jw_init(&i, 128);
		jw_obj(&i);
		jw_kstr(&i, "method_name", method);
		jw_end_obj(&i);
		is = jw_take(&i, NULL);
		jw_init(&d, 128);
		jw_str(&d, method);
		ds = jw_take(&d, NULL);
		error(k, 400, "REQUEST_VALIDATION_ERROR", "METHOD_NOT_FOUND", is, -32601, "Method not found", ds);
		free(is);
		free(ds);
	}
}

/* A submitted transaction's decoding and signature check need no chain state: done before the
 * chain lock, so a send waits neither for a block being made nor for other requests' checks.
 * Anything odd is left to the locked path, which answers with the error. */
static void pre_decode(struct call *k, const char *method)
{
	const cJSON *b64;
	uint8_t *raw;
	size_t l;
	long n;
	char err[200];

	if (strcmp(method, "send_tx") && strcmp(method, "broadcast_tx_async") && strcmp(method, "broadcast_tx_commit"))
		return;
	b64 = cJSON_IsArray(k->params) ? cJSON_GetArrayItem(k->params, 0) : param(k, "signed_tx_base64");
	if (!cJSON_IsString(b64))
		return;
	l = strlen(b64->valuestring);
	if (!(raw = malloc(l + 1)))
		return;
	if ((n = b64_dec(raw, l + 1, b64->valuestring, l)) >= 0 && (k->pre = tx_decode(raw, (size_t)n, err, sizeof(err)))) {
		k->pre->sig_ok = ed_verify(k->pre->sig, k->pre->hash, 32, k->pre->pk);
		k->pre->sig_checked = true;
	}
	free(raw);
}

/* Called without the chain lock; takes it for what reads or changes the chain. */
void rpc_handle(struct ns_chain *c, const char *body, size_t len, struct ns_reply *r)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *m, *id;
	struct call k = { c, NULL, NULL, r, NULL };

	id = root ? cJSON_GetObjectItemCaseSensitive(root, "id") : NULL;
	k.id = id ? cJSON_PrintUnformatted(id) : strdup("null");
	if (!k.id) {
		cJSON_Delete(root);
		reply_text(r, 500, "text/plain", "out of memory");
		return;
	}
	if (!root || !cJSON_IsObject(root)) {
		parse_error(&k, "Parse error: the body is not a JSON-RPC request object");
		goto out;
	}
	m = cJSON_GetObjectItemCaseSensitive(root, "method");
	k.params = cJSON_GetObjectItemCaseSensitive(root, "params");
	if (!cJSON_IsString(m)) {
		parse_error(&k, "Parse error: method must be a string");
		goto out;
	}
	pre_decode(&k, m->valuestring);
	pthread_mutex_lock(&c->mu);
	dispatch(&k, m->valuestring);
	pthread_mutex_unlock(&c->mu);
out:
	tx_free(k.pre);
	free(k.id);
	cJSON_Delete(root);
}

