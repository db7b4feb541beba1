/* admin: the loopback control endpoint for tests and demos: produce blocks, switch faults,
 * stall / skip / fork the chain, trigger resharing, inject requests, and report what the
 * chain really did (canonical heights and hashes, executions per transaction hash). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nearsim.h"

static void ok_json(struct ns_reply *r, struct jw *w)
{
	size_t n;
	char *s = jw_take(w, &n);

	reply_json(r, 200, s, n);
}

static void bad(struct ns_reply *r, int status, const char *msg)
{
	struct jw w;
	size_t n;
	char *s;

	jw_init(&w, 128);
	jw_obj(&w);
	jw_kstr(&w, "error", msg);
	jw_end_obj(&w);
	s = jw_take(&w, &n);
	reply_json(r, status, s, n);
}

static void heads(struct ns_chain *c, struct jw *w)
{
	struct ns_block *h = chain_head(c), *f = chain_final(c);

	jw_ku64(w, "genesis", c->genesis_height);
	jw_ku64(w, "head", c->head_height);
	jw_khash(w, "head_hash", h->hash);
	jw_ku64(w, "final", c->final_height);
	jw_khash(w, "final_hash", f ? f->hash : h->hash);
}

static bool num_arg(const char *s, uint64_t *v, uint64_t max)
{
	char *end;
	unsigned long long x;

	if (!s || !*s)
		return false;
	x = strtoull(s, &end, 10);
	if (*end || x > max)
		return false;
	*v = x;
	return true;
}

static void stats(struct ns_chain *c, struct ns_reply *r)
{
	struct jw w;
	int k;

	jw_init(&w, 2048);
	jw_obj(&w);
	heads(c, &w);
	jw_ku64(&w, "produced", c->produced);
	jw_ku64(&w, "skipped", c->skipped);
	jw_ku64(&w, "forks", c->forks);
	jw_ku64(&w, "txs_included", c->txs_included);
	jw_ku64(&w, "receipts_executed", c->receipts_executed);
	jw_ku64(&w, "pool", (uint64_t)c->pool.n);
	jw_ku64(&w, "last_doc_bytes", c->last_doc_bytes);
	jw_ku64(&w, "bg_tx_per_chunk", (uint64_t)c->bg_tx);
	jw_ku64(&w, "shards", (uint64_t)c->cfg->shards);
	jw_kbool(&w, "stall", c->stall);
	jw_kbool(&w, "auto_respond", c->auto_respond);
	jw_kstr(&w, "contract_id", c->contract_id);
	jw_kstr(&w, "chain_id", c->chain_id);
	jw_key(&w, "served");
	jw_obj(&w);
	for (k = 0; k < KIND_COUNT; k++)
		jw_ku64(&w, kind_name(k), c->served[k]);
	jw_end_obj(&w);
	jw_key(&w, "contract");
	contract_stats(c, &w);
	jw_key(&w, "faults");
	faults_render(&c->faults, &w);
	jw_end_obj(&w);
	ok_json(r, &w);
}

/* Canonical blocks in [from, to]: what a follower must have delivered, in order. */
static void chain_list(struct ns_chain *c, const char *from_s, const char *to_s, bool final_only, struct ns_reply *r)
{
	uint64_t from = c->genesis_height, to = final_only ? c->final_height : c->head_height, h;
	struct jw w;

	if (from_s && !num_arg(from_s, &from, UINT64_MAX)) {
		bad(r, 400, "from must be a height");
		return;
	}
	if (to_s && !num_arg(to_s, &to, UINT64_MAX)) {
		bad(r, 400, "to must be a height");
		return;
	}
	if (to > c->head_height)
		to = c->head_height;
	if (from < c->gc_below)
		from = c->gc_below;
	if (to >= from && to - from > 1000000) {
		bad(r, 400, "at most 1000000 heights per request");
		return;
	}
	jw_init(&w, 4096);
	jw_obj(&w);
	heads(c, &w);
	jw_key(&w, "blocks");
	jw_arr(&w);
	for (h = from; h <= to && to >= from; h++) {
		struct ns_block *b = chain_at(c, h);
		if (!b)
			continue;
		jw_obj(&w);
		jw_ku64(&w, "height", h);
		jw_khash(&w, "hash", b->hash);
		jw_khash(&w, "prev_hash", b->prev_hash);
		jw_kbool(&w, "final", h <= c->final_height);
		jw_end_obj(&w);
	}
	jw_end_arr(&w);
	jw_key(&w, "skipped");
	jw_arr(&w);
	for (h = from; h <= to && to >= from; h++)
		if (!chain_at(c, h) && h > c->genesis_height)
			jw_u64(&w, h);
	jw_end_arr(&w);
	jw_end_obj(&w);
	ok_json(r, &w);
}

static void txs(struct ns_chain *c, struct ns_reply *r, const char *hash)
{
	struct jw w;
	int i;
	uint8_t h[32];

	jw_init(&w, 4096);
	jw_obj(&w);
	if (hash) {
		struct ns_tx *t;
		if (b58_dec_exact(h, 32, hash, strlen(hash)) || !(t = map_get(&c->txs, h))) {
			jw_free(&w);
			bad(r, 404, "unknown transaction hash");
			return;
		}
		jw_kstr(&w, "hash", hash);
		jw_ku64(&w, "executions", (uint64_t)t->exec_count);
		jw_kbool(&w, "included", t->included);
		jw_kbool(&w, "dropped", t->dropped);
		jw_ku64(&w, "height", t->height);
		jw_kstr(&w, "final_execution_status", level_name(tx_final_level(c, t)));
	} else {
		jw_key(&w, "executions");
		jw_obj(&w);
		for (i = 0; i < c->owned_txs.n; i++) {
			struct ns_tx *t = c->owned_txs.v[i];
			char hs[64];
			hash_format(hs, sizeof(hs), t->hash);
			jw_ku64(&w, hs, (uint64_t)t->exec_count);
		}
		jw_end_obj(&w);
	}
	jw_end_obj(&w);
	ok_json(r, &w);
}

static cJSON *body_json(const char *body, size_t len)
{
	if (!len)
		return cJSON_CreateObject();
	return cJSON_ParseWithLength(body, len);
}

static void chain_faults(struct ns_chain *c, cJSON *j, struct ns_reply *r)
{
	const cJSON *x;
	struct jw w;

	if ((x = cJSON_GetObjectItemCaseSensitive(j, "stall")))
		c->stall = cJSON_IsTrue(x);
	if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(j, "skip_rate")))
		c->skip_rate = x->valuedouble;
	if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(j, "fork_rate")))
		c->fork_rate = x->valuedouble;
	if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(j, "skip_next")) && x->valuedouble >= 0)
		c->skip_next = (int)x->valuedouble;
	if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(j, "fork_next")) && x->valuedouble >= 0)
		c->fork_next = (int)x->valuedouble;
	if (c->skip_rate < 0 || c->skip_rate > 0.9 || c->fork_rate < 0 || c->fork_rate > 1) {
		c->skip_rate = c->fork_rate = 0;
		bad(r, 400, "skip_rate must be in 0..0.9 and fork_rate in 0..1");
		return;
	}
	jw_init(&w, 256);
	jw_obj(&w);
	jw_kbool(&w, "stall", c->stall);
	jw_key(&w, "skip_rate");
	jw_double(&w, c->skip_rate);
	jw_key(&w, "fork_rate");
	jw_double(&w, c->fork_rate);
	jw_ku64(&w, "skip_next", (uint64_t)c->skip_next);
	jw_ku64(&w, "fork_next", (uint64_t)c->fork_next);
	jw_end_obj(&w);
	ok_json(r, &w);
}

/* Sign a FunctionCall with a genesis key WITHOUT submitting it (a test convenience: the
 * keys are public, see --print-key). Body: signer, role, receiver, method, args (JSON
 * value or string), gas, deposit (string), nonce, block_hash. */
static void admin_sign(struct ns_chain *c, cJSON *j, struct ns_reply *r)
{
	const cJSON *signer = cJSON_GetObjectItemCaseSensitive(j, "signer");
	const cJSON *role = cJSON_GetObjectItemCaseSensitive(j, "role");
	const cJSON *recv = cJSON_GetObjectItemCaseSensitive(j, "receiver");
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(j, "method");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(j, "args");
	const cJSON *gas = cJSON_GetObjectItemCaseSensitive(j, "gas");
	const cJSON *dep = cJSON_GetObjectItemCaseSensitive(j, "deposit");
	const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(j, "nonce");
	const cJSON *bh = cJSON_GetObjectItemCaseSensitive(j, "block_hash");
	uint8_t hash[32], *raw, h[32];
	char *a = NULL, *b64;
	uint64_t g = 300 * NS_TGAS, n = 0;
	u128 d = 0;
	size_t len, blen;
	struct jw w;

	if (!cJSON_IsString(signer) || !cJSON_IsString(method)) {
		bad(r, 400, "signer and method are required");
		return;
	}
	if (cJSON_IsString(args))
		a = strdup(args->valuestring);
	else if (args)
		a = cJSON_PrintUnformatted(args);
	else
		a = strdup("{}");
	if (cJSON_IsNumber(gas) && gas->valuedouble > 0 && gas->valuedouble < 9e15)
		g = (uint64_t)gas->valuedouble;
	if (cJSON_IsString(dep) && u128_parse(&d, dep->valuestring)) {
		free(a);
		bad(r, 400, "deposit must be a decimal string");
		return;
	}
	if (cJSON_IsNumber(nonce) && nonce->valuedouble >= 1 && nonce->valuedouble < 9007199254740992.0)
		n = (uint64_t)nonce->valuedouble;
	if (cJSON_IsString(bh) && b58_dec_exact(hash, 32, bh->valuestring, strlen(bh->valuestring))) {
		free(a);
		bad(r, 400, "block_hash is not a base58 hash");
		return;
	}
	raw = a ? traffic_sign(c, signer->valuestring, cJSON_IsString(role) ? role->valuestring : NULL,
			       cJSON_IsString(recv) ? recv->valuestring : c->contract_id, method->valuestring,
			       (const uint8_t *)a, strlen(a), g, d, n, cJSON_IsString(bh) ? hash : NULL, &len) : NULL;
	free(a);
	if (!raw) {
		bad(r, 400, "unknown signer account or key for that role");
		return;
	}
	blen = b64_enc_len(len);
	b64 = malloc(blen);
	if (!b64) {
		free(raw);
		return;
	}
	b64_enc(b64, blen, raw, len);
	sha256(h, raw, len - 65);
	free(raw);
	jw_init(&w, blen + 128);
	jw_obj(&w);
	jw_kstr(&w, "signed_tx_base64", b64);
	jw_khash(&w, "tx_hash", h);
	jw_end_obj(&w);
	free(b64);
	ok_json(r, &w);
}

void admin_handle(struct ns_chain *c, const char *method, const char *url,
		  const char *(*arg)(void *cls, const char *name), void *cls,
		  const char *body, size_t len, struct ns_reply *r)
{
	bool post = !strcmp(method, "POST");
	const char *p = url + 6; /* after "/admin" */
	struct jw w;
	cJSON *j = NULL;
	char err[256];
	uint64_t n;

	if (!strcmp(p, "/stats")) {
		stats(c, r);
	} else if (!strcmp(p, "/chain") && !post) {
		chain_list(c, arg(cls, "from"), arg(cls, "to"), arg(cls, "final") != NULL, r);
	} else if (!strcmp(p, "/txs")) {
		txs(c, r, arg(cls, "hash"));
	} else if (!strcmp(p, "/pending")) {
		jw_init(&w, 1024);
		contract_pending_list(c, &w);
		ok_json(r, &w);
	} else if (!post) {
		if (!strcmp(p, "/faults")) {
			jw_init(&w, 1024);
			faults_render(&c->faults, &w);
			ok_json(r, &w);
		} else {
			bad(r, 404, "unknown admin endpoint (GET: stats, chain, txs, pending, faults)");
		}
	} else if (!(j = body_json(body, len)) || !cJSON_IsObject(j)) {
		bad(r, 400, "the body must be a JSON object");
	} else if (!strcmp(p, "/produce")) {
		n = 1;
		if (arg(cls, "n") && !num_arg(arg(cls, "n"), &n, 100000)) {
			bad(r, 400, "n must be 1..100000");
		} else {
			uint64_t done = (uint64_t)chain_produce(c, (int)n);
			jw_init(&w, 256);
			jw_obj(&w);
			jw_ku64(&w, "produced", done);
			heads(c, &w);
			jw_end_obj(&w);
			ok_json(r, &w);
		}
	} else if (!strcmp(p, "/faults")) {
		if (faults_set_json(&c->faults, body, len, err, sizeof(err))) {
			bad(r, 400, err);
		} else {
			jw_init(&w, 1024);
			faults_render(&c->faults, &w);
			ok_json(r, &w);
		}
	} else if (!strcmp(p, "/chain")) {
		chain_faults(c, j, r);
	} else if (!strcmp(p, "/stall")) {
		const cJSON *on = cJSON_GetObjectItemCaseSensitive(j, "on");
		c->stall = on ? cJSON_IsTrue(on) : true;
		reply_json(r, 200, strdup(c->stall ? "{\"stall\":true}" : "{\"stall\":false}"), c->stall ? 14 : 15);
	} else if (!strcmp(p, "/reshare")) {
		if (contract_reshare(c))
			bad(r, 409, "the contract is not Running");
		else
			reply_json(r, 200, strdup("{\"resharing\":\"starts in the next block\"}"), 40);
	} else if (!strcmp(p, "/drop_attestation")) {
		const cJSON *who = cJSON_GetObjectItemCaseSensitive(j, "tls_public_key");
		if (!cJSON_IsString(who))
			who = cJSON_GetObjectItemCaseSensitive(j, "account_id");
		if (!cJSON_IsString(who)) {
			bad(r, 400, "give tls_public_key or account_id");
		} else {
			char b[64];
			snprintf(b, sizeof(b), "{\"dropped\":%d}", contract_drop_attestation(c, who->valuestring));
			reply_json(r, 200, strdup(b), strlen(b));
		}
	} else if (!strcmp(p, "/auto_respond")) {
		c->auto_respond = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "on"));
		reply_json(r, 200, strdup(c->auto_respond ? "{\"auto_respond\":true}" : "{\"auto_respond\":false}"),
			   c->auto_respond ? 21 : 22);
	} else if (!strcmp(p, "/sign")) {
		admin_sign(c, j, r);
	} else if (!strcmp(p, "/request")) {
		const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
		const cJSON *user = cJSON_GetObjectItemCaseSensitive(j, "user");
		const cJSON *path = cJSON_GetObjectItemCaseSensitive(j, "path");
		struct ns_tx *t = traffic_user_request(c, cJSON_IsString(kind) ? kind->valuestring : "sign",
						       cJSON_IsString(user) ? user->valuestring : NULL,
						       cJSON_IsString(path) ? path->valuestring : NULL, err, sizeof(err));
		if (!t) {
			bad(r, 400, err);
		} else {
			jw_init(&w, 128);
			jw_obj(&w);
			jw_khash(&w, "tx_hash", t->hash);
			jw_kstr(&w, "signer_id", t->signer);
			jw_end_obj(&w);
			ok_json(r, &w);
		}
	} else {
		bad(r, 404, "unknown admin endpoint (POST: produce, faults, chain, stall, reshare, drop_attestation, auto_respond, request)");
	}
	cJSON_Delete(j);
}
