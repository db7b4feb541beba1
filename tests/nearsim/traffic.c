/* traffic: background (non-MPC) transactions that make blocks mainnet-sized, simulated users
 * calling sign / request_app_private_key, and signed calls made on behalf of genesis accounts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "nearsim.h"

static const char *const bg_methods[] = { "ft_transfer", "swap", "nft_mint", "claim_reward_by_farm",
					   "storage_deposit", "submit", "ft_transfer_call" };

/* A background account name that lives on shard s. */
static void bg_account(struct ns_chain *c, uint64_t *rng, int s, const char *kind, char *out, size_t cap)
{
	int tries;

	for (tries = 0; tries < 4096; tries++) {
		snprintf(out, cap, "%s%llu.bg.near", kind, (unsigned long long)(rng_next(rng) % 100000));
		if (chain_shard(c, out) == s)
			return;
	}
}

static void bg_tx(struct ns_chain *c, struct ns_block *b, int s, uint32_t i)
{
	uint64_t *rng = &c->traffic_rng;
	struct ns_tx *t = calloc(1, sizeof(*t));
	struct ns_receipt *r;
	struct ns_action *a;
	char signer[64], recv[64], args[256];
	uint8_t in[44];
	int n;

	if (!t)
		return;
	t->bg = true;
	bg_account(c, rng, s, "acct", signer, sizeof(signer));
	snprintf(recv, sizeof(recv), "app%llu.bg.near", (unsigned long long)(rng_next(rng) % 40));
	t->signer = strdup(signer);
	t->receiver = strdup(recv);
	memcpy(in, b->hash, 32);
	memcpy(in + 32, &s, 4);
	memcpy(in + 36, &i, 4);
	memcpy(in + 40, "bgtx", 4);
	sha256(t->hash, in, sizeof(in));
	sha256(t->pk, t->hash, 32);
	memcpy(t->sig, t->hash, 32);
	memcpy(t->sig + 32, t->pk, 32);
	t->nonce = (b->height - 1) * NS_NONCE_MULT + i + 1;
	memcpy(t->block_hash, b->prev_hash, 32);
	if (!(a = t->actions = calloc(1, sizeof(*a)))) {
		tx_free(t);
		return;
	}
	t->nactions = 1;
	a->type = ACT_FUNCTION_CALL;
	a->method = strdup(bg_methods[rng_next(rng) % (sizeof(bg_methods) / sizeof(bg_methods[0]))]);
	n = snprintf(args, sizeof(args), "{\"receiver_id\":\"%s\",\"amount\":\"%llu\",\"memo\":\"nearsim background %u\"}",
		     signer, (unsigned long long)(rng_next(rng) % 1000000000ULL), i);
	a->args = malloc((size_t)n);
	if (a->args)
		memcpy(a->args, args, (size_t)n);
	a->args_len = (size_t)n;
	a->gas = 30 * NS_TGAS;
	a->deposit = (rng_next(rng) & 1) ? 1 : 0;

	t->included = true;
	t->height = b->height;
	t->shard = s;
	t->exec_count = 1;
	t->out.executor = strdup(signer);
	t->out.gas_burnt = 2428000000000ULL;
	t->out.tokens_burnt = (u128)t->out.gas_burnt * NS_GAS_PRICE;
	vec_push(&b->content[s].txs, t);
	b->content[s].gas_used += t->out.gas_burnt;

	if (!(r = receipt_new(c, t, t->hash, 0, signer, recv)))
		return;
	r->kind = RK_BG;
	if ((r->actions = calloc(1, sizeof(*r->actions)))) {
		r->actions[0] = *a;
		r->actions[0].method = strdup(a->method);
		r->actions[0].args = malloc(a->args_len);
		if (r->actions[0].args)
			memcpy(r->actions[0].args, a->args, a->args_len);
		memset(&r->actions[0].perm, 0, sizeof(r->actions[0].perm));
		r->nactions = 1;
	}
	r->from_shard = s;
	t->out.status = ST_RECEIPT;
	memcpy(t->out.next, r->id, 32);
	outcome_add_receipt(&t->out, r->id);
	vec_push(&c->outgoing_next, r);
	receipt_schedule(c, r, b->height + 1);
}

void traffic_execute_bg(struct ns_chain *c, struct ns_block *b, struct ns_receipt *r)
{
	char log[1024];
	int n = c->cfg->bg_log_bytes, k;
	struct ns_receipt *refund;

	if (!strcmp(r->predecessor, "system")) {
		/* a gas refund: a plain Transfer, no logs, no further receipts */
		r->out.gas_burnt = 223182562500ULL;
		outcome_value(&r->out, "", 0);
		return;
	}
	r->out.gas_burnt = 4174947687500ULL;
	/* the unused prepaid gas goes back to the signer in a refund receipt from "system" */
	if ((refund = receipt_new(c, r->tx, r->id, 0, "system", r->signer))) {
		refund->bg = true;
		refund->kind = RK_BG;
		if ((refund->actions = calloc(1, sizeof(*refund->actions)))) {
			refund->actions[0].type = ACT_TRANSFER;
			refund->actions[0].deposit = (u128)(30 * NS_TGAS - r->out.gas_burnt) * NS_GAS_PRICE;
			refund->nactions = 1;
		}
		refund->from_shard = chain_shard(c, r->receiver);
		memset(refund->signer_pk, 0, 32);
		memcpy(refund->signer_pk, r->signer_pk, 32);
		vec_push(&c->outgoing_next, refund);
		receipt_schedule(c, refund, b->height + 1);
		outcome_add_receipt(&r->out, refund->id);
	}
	if (n > 0) {
		if (n > (int)sizeof(log) - 128)
			n = (int)sizeof(log) - 128;
		k = snprintf(log, sizeof(log), "EVENT_JSON:{\"standard\":\"nep141\",\"version\":\"1.0.0\",\"event\":\"ft_transfer\",\"data\":[{\"memo\":\"");
		memset(log + k, 'x', (size_t)n);
		snprintf(log + k + n, sizeof(log) - (size_t)(k + n), "\"}]}");
		outcome_log(&r->out, log);
	}
	outcome_value(&r->out, "", 0);
}

/* Build and sign a FunctionCall transaction with a deterministic genesis key. nonce 0 picks
 * the next free nonce; block_hash NULL uses the head. Returns malloc'd signed bytes. */
uint8_t *traffic_sign(struct ns_chain *c, const char *signer, const char *role,
		      const char *receiver, const char *method, const uint8_t *args, size_t al,
		      uint64_t gas, u128 deposit, uint64_t nonce, const uint8_t *block_hash, size_t *len)
{
	struct ns_account *acc = acct_find(c, signer);
	struct ns_block *head = chain_head(c);
	uint8_t pk[32], sk[64], *raw, sig[64], h[32];
	struct ns_key *k;
	size_t sl = strlen(signer), rl = strlen(receiver), ml = strlen(method);
	size_t cap = 4 + sl + 33 + 8 + 4 + rl + 32 + 4 + 1 + 4 + ml + 4 + al + 8 + 16 + 65, off = 0;
	uint32_t u;
	int i;

	key_for(signer, role, pk, sk);
	if (!acc || !(k = acct_key(acc, pk)) || !head || sl > 64 || rl > 64) {
		sodium_memzero(sk, sizeof(sk));
		return NULL;
	}
	if (!nonce) {
		nonce = k->nonce + 1;
		for (i = 0; i < c->pool.n; i++) {
			struct ns_tx *p = c->pool.v[i];
			if (!strcmp(p->signer, signer) && !memcmp(p->pk, pk, 32) && p->nonce >= nonce)
				nonce = p->nonce + 1;
		}
	}
	if (!(raw = malloc(cap))) {
		sodium_memzero(sk, sizeof(sk));
		return NULL;
	}
#define PUT(p, n) do { memcpy(raw + off, (p), (n)); off += (n); } while (0)
	u = (uint32_t)sl; PUT(&u, 4); PUT(signer, sl);
	raw[off++] = 0; PUT(pk, 32);
	PUT(&nonce, 8);
	u = (uint32_t)rl; PUT(&u, 4); PUT(receiver, rl);
	PUT(block_hash ? block_hash : head->hash, 32);
	u = 1; PUT(&u, 4);
	raw[off++] = ACT_FUNCTION_CALL;
	u = (uint32_t)ml; PUT(&u, 4); PUT(method, ml);
	u = (uint32_t)al; PUT(&u, 4); PUT(args, al);
	PUT(&gas, 8);
	PUT(&deposit, 16);
	sha256(h, raw, off);
	ed_sign(sig, h, 32, sk);
	raw[off++] = 0;
	PUT(sig, 64);
#undef PUT
	sodium_memzero(sk, sizeof(sk));
	*len = off;
	return raw;
}

/* Sign and pool a FunctionCall from a genesis account (auto-respond, simulated users). */
struct ns_tx *traffic_signed_call(struct ns_chain *c, const char *signer, const char *role,
				  const char *receiver, const char *method, const char *args,
				  uint64_t gas, u128 deposit)
{
	size_t len;
	uint8_t *raw = traffic_sign(c, signer, role, receiver, method, (const uint8_t *)args,
				    strlen(args), gas, deposit, 0, NULL, &len);
	char err[200];
	struct ns_tx *t;
	struct jw e;
	int rc;

	if (!raw)
		return NULL;
	t = tx_decode(raw, len, err, sizeof(err));
	free(raw);
	if (!t)
		return NULL;
	jw_init(&e, 128);
	t = tx_submit(c, t, &e, &rc);
	jw_free(&e);
	return rc ? NULL : t;
}

struct ns_tx *traffic_user_request(struct ns_chain *c, const char *kind, const char *user,
				   const char *path, char *err, size_t errlen)
{
	char args[512], defpath[64], user_buf[64];
	uint8_t payload[32], in[16];
	char hex[65];
	uint64_t seq = ++c->user_nonce_seq;
	struct ns_tx *t;

	if (!user) {
		if (c->cfg->users < 1) {
			snprintf(err, errlen, "no simulated users (--users 0)");
			return NULL;
		}
		snprintf(user_buf, sizeof(user_buf), "user%llu.test.near", (unsigned long long)(seq % (uint64_t)c->cfg->users));
		user = user_buf;
	}
	if (!path) {
		snprintf(defpath, sizeof(defpath), "nearsim-%llu", (unsigned long long)seq);
		path = defpath;
	}
	memcpy(in, &seq, 8);
	memcpy(in + 8, &c->cfg->seed, 8);
	sha256(payload, in, sizeof(in));
	hex_enc(hex, payload, 32);
	if (!strcmp(kind, "sign"))
		snprintf(args, sizeof(args), "{\"request\":{\"path\":\"%s\",\"payload_v2\":{\"Ecdsa\":\"%s\"},\"domain_id\":0}}", path, hex);
	else if (!strcmp(kind, "sign_eddsa"))
		snprintf(args, sizeof(args), "{\"request\":{\"path\":\"%s\",\"payload_v2\":{\"Eddsa\":\"%s\"},\"domain_id\":1}}", path, hex);
	else if (!strcmp(kind, "ckd"))
		snprintf(args, sizeof(args), "{\"request\":{\"derivation_path\":\"%s\",\"app_public_key\":{\"AppPublicKey\":"
			 "\"bls12381g1:6KtVVcAAGacrjNGePN8bp3KV6fYGrw1rFsyc7cVJCqR16Zc2ZFg3HX3hSZxSfv1oH6\"},\"domain_id\":2}}", path);
	else {
		snprintf(err, errlen, "kind must be sign, sign_eddsa or ckd");
		return NULL;
	}
	t = traffic_signed_call(c, user, NULL, c->contract_id,
				strcmp(kind, "ckd") ? "sign" : "request_app_private_key", args, 15 * NS_TGAS, 1);
	if (!t)
		snprintf(err, errlen, "cannot sign for %s (unknown account or key)", user);
	return t;
}

static int draws(uint64_t *rng, double rate)
{
	int n = (int)rate;

	if (rng_unit(rng) < rate - n)
		n++;
	return n;
}

void traffic_block(struct ns_chain *c, struct ns_block *b)
{
	char err[128];
	int s, i, n;

	if (b->height == c->genesis_height)
		return;
	for (s = 0; s < b->nshards; s++)
		for (i = 0; i < c->bg_tx; i++)
			bg_tx(c, b, s, (uint32_t)i);
	n = draws(&c->traffic_rng, c->cfg->sign_rate);
	for (i = 0; i < n; i++)
		traffic_user_request(c, "sign", NULL, NULL, err, sizeof(err));
	n = draws(&c->traffic_rng, c->cfg->ckd_rate);
	for (i = 0; i < n; i++)
		traffic_user_request(c, "ckd", NULL, NULL, err, sizeof(err));
}
