/* txexec: Borsh decoding of signed transactions, validation with the real InvalidTxError
 * shapes, inclusion into chunks, receipt execution and FinalExecutionOutcomeView. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "near/borsh.h"
#include "near/tx.h"
#include "nearsim.h"

void acct_perm_render(struct jw *w, const struct ns_perm *p);

/* ---------- freeing ---------- */
void action_free(struct ns_action *a)
{
	free(a->method);
	free(a->args);
	free(a->beneficiary);
	perm_free(&a->perm);
}

void outcome_free(struct ns_outcome *o)
{
	int i;

	free(o->executor);
	for (i = 0; i < o->nlogs; i++)
		free(o->logs[i]);
	free(o->logs);
	free(o->receipt_ids);
	free(o->value);
	free(o->failure);
	memset(o, 0, sizeof(*o));
}

static void actions_free(struct ns_action *a, int n)
{
	int i;

	for (i = 0; i < n; i++)
		action_free(&a[i]);
	free(a);
}

void tx_free(struct ns_tx *t)
{
	if (!t)
		return;
	free(t->signer);
	free(t->receiver);
	actions_free(t->actions, t->nactions);
	free(t->raw);
	outcome_free(&t->out);
	perm_free(&t->doc_perm);
	free(t->tree);
	free(t);
}

void receipt_free(struct ns_receipt *r)
{
	if (!r)
		return;
	free(r->predecessor);
	free(r->receiver);
	free(r->signer);
	actions_free(r->actions, r->nactions);
	outcome_free(&r->out);
	free(r->resume_value);
	free(r);
}

/* ---------- outcomes ---------- */
void outcome_add_receipt(struct ns_outcome *o, const uint8_t id[32])
{
	uint8_t (*n)[32] = realloc(o->receipt_ids, (size_t)(o->nreceipt_ids + 1) * 32);

	if (!n)
		return;
	o->receipt_ids = n;
	memcpy(o->receipt_ids[o->nreceipt_ids++], id, 32);
}

void outcome_log(struct ns_outcome *o, const char *s)
{
	char **n = realloc(o->logs, (size_t)(o->nlogs + 1) * sizeof(char *));

	if (!n)
		return;
	o->logs = n;
	if ((o->logs[o->nlogs] = strdup(s)))
		o->nlogs++;
}

void outcome_value(struct ns_outcome *o, const void *v, size_t n)
{
	o->status = ST_VALUE;
	free(o->value);
	o->value = NULL;
	o->value_len = 0;
	if (n && (o->value = malloc(n))) {
		memcpy(o->value, v, n);
		o->value_len = n;
	}
}

void outcome_fail_panic(struct ns_outcome *o, const char *msg)
{
	struct jw w;

	jw_init(&w, 256);
	jw_obj(&w);
	jw_key(&w, "ActionError");
	jw_obj(&w);
	jw_ku64(&w, "index", 0);
	jw_key(&w, "kind");
	jw_obj(&w);
	jw_key(&w, "FunctionCallError");
	jw_obj(&w);
	{
		char b[600];
		snprintf(b, sizeof(b), "Smart contract panicked: %s", msg);
		jw_kstr(&w, "ExecutionError", b);
	}
	jw_end_obj(&w);
	jw_end_obj(&w);
	jw_end_obj(&w);
	jw_end_obj(&w);
	free(o->failure);
	o->failure = jw_take(&w, NULL);
	o->status = ST_FAILURE;
}

void outcome_fail_json(struct ns_outcome *o, const char *json)
{
	free(o->failure);
	o->failure = strdup(json);
	o->status = ST_FAILURE;
}

/* ---------- decoding (core/near) ---------- */
/* The payload of a non-FunctionCall action, read with the project's Borsh reader. */
static int action_payload(struct ns_action *a, const struct near_action_view *v)
{
	struct borsh_rd r;
	const uint8_t *p;
	size_t n;
	uint32_t i, cnt;

	borsh_rd_init(&r, v->payload, v->payload_len);
	switch (a->type) {
	case ACT_DEPLOY:
		if ((p = borsh_get_bytes(&r, &n)) && (a->args = malloc(n + 1))) {
			memcpy(a->args, p, n);
			a->args_len = n;
		}
		break;
	case ACT_TRANSFER:
		a->deposit = v->deposit;
		break;
	case ACT_STAKE:
		a->deposit = v->deposit;
		borsh_get_u128(&r);
		if (borsh_get_u8(&r) != NEAR_KEY_ED25519)
			return -1;
		if ((p = borsh_get_fixed(&r, 32)))
			memcpy(a->pk, p, 32);
		break;
	case ACT_ADD_KEY:
	case ACT_DELETE_KEY:
		if (borsh_get_u8(&r) != NEAR_KEY_ED25519)
			return -1;
		if ((p = borsh_get_fixed(&r, 32)))
			memcpy(a->pk, p, 32);
		if (a->type == ACT_DELETE_KEY)
			break;
		a->ak_nonce = borsh_get_u64(&r);
		if (borsh_get_u8(&r) == 1) {
			a->perm.full = true;
			break;
		}
		if (borsh_get_u8(&r) == 1) {
			a->perm.has_allowance = true;
			a->perm.allowance = borsh_get_u128(&r);
		}
		a->perm.receiver = borsh_get_string(&r, 64);
		cnt = borsh_get_u32(&r);
		if (r.failed || cnt > 256 || !(a->perm.methods = calloc(cnt + 1, sizeof(char *))))
			return -1;
		for (i = 0; i < cnt && !r.failed; i++)
			if ((a->perm.methods[i] = borsh_get_string(&r, 256)))
				a->perm.nmethods++;
		break;
	case ACT_DELETE_ACCOUNT:
		a->beneficiary = borsh_get_string(&r, 64);
		break;
	default:
		break;
	}
	return r.failed ? -1 : 0;
}

struct ns_tx *tx_decode(const uint8_t *raw, size_t len, char *err, size_t errlen)
{
	struct near_tx_view v;
	struct ns_tx *t;
	size_t i;

	if (len > (4u << 20)) {
		snprintf(err, errlen, "transaction size %zu exceeds 4 MiB", len);
		return NULL;
	}
	if (near_tx_decode(&v, raw, len, err, errlen))
		return NULL;
	if (!(t = calloc(1, sizeof(*t))) || !(t->actions = calloc(v.n_actions ? v.n_actions : 1, sizeof(*t->actions)))
	    || !(t->raw = malloc(len))) {
		snprintf(err, errlen, "out of memory");
		tx_free(t);
		near_tx_view_free(&v);
		return NULL;
	}
	t->signer = strdup(v.signer_id);
	t->receiver = strdup(v.receiver_id);
	memcpy(t->pk, v.public_key.data, 32);
	t->nonce = v.nonce;
	memcpy(t->block_hash, v.block_hash, 32);
	memcpy(t->sig, v.signature, 64);
	memcpy(t->hash, v.hash, 32);
	memcpy(t->raw, raw, len);
	t->raw_len = len;
	for (i = 0; i < v.n_actions; i++) {
		struct ns_action *a = &t->actions[i];
		const struct near_action_view *av = &v.actions[i];
		a->type = av->tag;
		t->nactions++;
		if (av->tag == NEAR_ACTION_FUNCTION_CALL) {
			a->method = strdup(av->method);
			a->gas = av->gas;
			a->deposit = av->deposit;
			if ((a->args = malloc(av->args_len + 1))) {
				memcpy(a->args, av->args, av->args_len);
				a->args_len = av->args_len;
			}
		} else if (av->tag > NEAR_ACTION_DELETE_ACCOUNT || action_payload(a, av)) {
			snprintf(err, errlen, "action %zu (%s) is not supported by nearsim", i, near_action_name(av->tag));
			tx_free(t);
			near_tx_view_free(&v);
			return NULL;
		}
	}
	near_tx_view_free(&v);
	if (!t->signer || !t->receiver) {
		snprintf(err, errlen, "out of memory");
		tx_free(t);
		return NULL;
	}
	return t;
}

/* ---------- validation ---------- */
static void err_simple(struct jw *e, const char *name) { jw_str(e, name); }

static u128 tx_cost(const struct ns_tx *t)
{
	u128 cost = (u128)2428000000000ULL * NS_GAS_PRICE;
	int i;

	for (i = 0; i < t->nactions; i++) {
		cost += t->actions[i].deposit;
		if (t->actions[i].type == ACT_FUNCTION_CALL)
			cost += (u128)t->actions[i].gas * NS_GAS_PRICE;
	}
	return cost;
}

static int check_permission(struct ns_tx *t, struct ns_key *k, struct jw *e)
{
	const struct ns_action *a;
	int i;

	if (k->perm.full)
		return 0;
	if (t->nactions != 1 || t->actions[0].type != ACT_FUNCTION_CALL) {
		jw_obj(e);
		jw_key(e, "InvalidAccessKeyError");
		jw_str(e, "RequiresFullAccess");
		jw_end_obj(e);
		return -1;
	}
	a = &t->actions[0];
	if (a->deposit) {
		jw_obj(e);
		jw_key(e, "InvalidAccessKeyError");
		jw_str(e, "DepositWithFunctionCall");
		jw_end_obj(e);
		return -1;
	}
	if (!k->perm.receiver || strcmp(k->perm.receiver, t->receiver)) {
		jw_obj(e);
		jw_key(e, "InvalidAccessKeyError");
		jw_obj(e);
		jw_key(e, "ReceiverMismatch");
		jw_obj(e);
		jw_kstr(e, "ak_receiver", k->perm.receiver ? k->perm.receiver : "");
		jw_kstr(e, "tx_receiver", t->receiver);
		jw_end_obj(e);
		jw_end_obj(e);
		jw_end_obj(e);
		return -1;
	}
	if (k->perm.nmethods) {
		for (i = 0; i < k->perm.nmethods; i++)
			if (!strcmp(k->perm.methods[i], a->method))
				break;
		if (i == k->perm.nmethods) {
			jw_obj(e);
			jw_key(e, "InvalidAccessKeyError");
			jw_obj(e);
			jw_key(e, "MethodNameMismatch");
			jw_obj(e);
			jw_kstr(e, "method_name", a->method);
			jw_end_obj(e);
			jw_end_obj(e);
			jw_end_obj(e);
			return -1;
		}
	}
	return 0;
}

int tx_validate(struct ns_chain *c, struct ns_tx *t, struct jw *e, bool at_inclusion)
{
	struct ns_block *base = chain_by_hash(c, t->block_hash), *head = chain_head(c);
	struct ns_account *a;
	struct ns_key *k;
	uint64_t upper;
	u128 cost;
	int i;

	if (!at_inclusion) {
		if (!(t->sig_checked ? t->sig_ok : ed_verify(t->sig, t->hash, 32, t->pk))) {
			err_simple(e, "InvalidSignature");
			return -1;
		}
		if (t->nactions == 0) {
			jw_obj(e);
			jw_key(e, "ActionsValidation");
			jw_str(e, "EmptyActions");
			jw_end_obj(e);
			return -1;
		}
		for (i = 0; i < t->nactions; i++) {
			if (t->actions[i].type == ACT_FUNCTION_CALL && t->actions[i].gas == 0) {
				jw_obj(e);
				jw_key(e, "ActionsValidation");
				jw_str(e, "FunctionCallZeroAttachedGas");
				jw_end_obj(e);
				return -1;
			}
		}
	}
	if (!base || base->height + c->cfg->tx_validity < head->height) {
		err_simple(e, "Expired");
		return -1;
	}
	if (!base->canonical) {
		err_simple(e, "InvalidChain");
		return -1;
	}
	if (!(a = acct_find(c, t->signer))) {
		jw_obj(e);
		jw_key(e, "SignerDoesNotExist");
		jw_obj(e);
		jw_kstr(e, "signer_id", t->signer);
		jw_end_obj(e);
		jw_end_obj(e);
		return -1;
	}
	if (!(k = acct_key(a, t->pk))) {
		jw_obj(e);
		jw_key(e, "InvalidAccessKeyError");
		jw_obj(e);
		jw_key(e, "AccessKeyNotFound");
		jw_obj(e);
		jw_kstr(e, "account_id", t->signer);
		jw_kpk(e, "public_key", t->pk);
		jw_end_obj(e);
		jw_end_obj(e);
		jw_end_obj(e);
		return -1;
	}
	/* Like nearcore: against the key's nonce on chain (the head at admission, the block
	 * being made at inclusion), never against the pool, so nonces may arrive out of order. */
	if (t->nonce <= k->nonce) {
		jw_obj(e);
		jw_key(e, "InvalidNonce");
		jw_obj(e);
		jw_ku64(e, "ak_nonce", k->nonce);
		jw_ku64(e, "tx_nonce", t->nonce);
		jw_end_obj(e);
		jw_end_obj(e);
		return -1;
	}
	upper = (head->height + 1) * NS_NONCE_MULT;
	if (t->nonce >= upper) {
		jw_obj(e);
		jw_key(e, "NonceTooLarge");
		jw_obj(e);
		jw_ku64(e, "tx_nonce", t->nonce);
		jw_ku64(e, "upper_bound", upper);
		jw_end_obj(e);
		jw_end_obj(e);
		return -1;
	}
	if (check_permission(t, k, e))
		return -1;
	cost = tx_cost(t);
	if (cost > a->amount) {
		jw_obj(e);
		jw_key(e, "NotEnoughBalance");
		jw_obj(e);
		jw_ku128(e, "balance", a->amount);
		jw_ku128(e, "cost", cost);
		jw_kstr(e, "signer_id", t->signer);
		jw_end_obj(e);
		jw_end_obj(e);
		return -1;
	}
	if (!k->perm.full && k->perm.has_allowance && cost > k->perm.allowance) {
		jw_obj(e);
		jw_key(e, "InvalidAccessKeyError");
		jw_obj(e);
		jw_key(e, "NotEnoughAllowance");
		jw_obj(e);
		jw_kstr(e, "account_id", t->signer);
		jw_ku128(e, "allowance", k->perm.allowance);
		jw_ku128(e, "cost", cost);
		jw_kpk(e, "public_key", t->pk);
		jw_end_obj(e);
		jw_end_obj(e);
		jw_end_obj(e);
		return -1;
	}
	return 0;
}

struct ns_tx *tx_submit(struct ns_chain *c, struct ns_tx *t, struct jw *errjson, int *rc)
{
	struct ns_tx *known = map_get(&c->txs, t->hash);

	if (known && known->dropped) {
		/* dropped at inclusion, so unknown to the chain: judged afresh like new bytes */
		tx_free(t);
		if (tx_validate(c, known, errjson, false) || vec_push(&c->pool, known)) {
			*rc = -1;
			return NULL;
		}
		known->dropped = false;
		*rc = 0;
		return known;
	}
	if (known) {
		/* the same bytes again (pooled or on chain): at most one execution, answer with it */
		tx_free(t);
		*rc = 0;
		return known;
	}
	if (tx_validate(c, t, errjson, false)) {
		tx_free(t);
		*rc = -1;
		return NULL;
	}
	if (vec_push(&c->pool, t) || vec_push(&c->owned_txs, t)) {
		*rc = -1;
		return NULL;
	}
	map_put(&c->txs, t->hash, t);
	*rc = 0;
	return t;
}

/* ---------- receipts ---------- */
struct ns_receipt *receipt_new(struct ns_chain *c, struct ns_tx *tx, const uint8_t parent[32],
			       uint32_t index, const char *pred, const char *recv)
{
	struct ns_receipt *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	receipt_id_derive(r->id, parent, index);
	r->predecessor = strdup(pred);
	r->receiver = strdup(recv);
	r->tx = tx;
	r->from_shard = -1;
	r->exec_at = UINT64_MAX;
	if (tx) {
		memcpy(r->tx_hash, tx->hash, 32);
		r->has_tx_hash = true;
		r->signer = strdup(tx->signer);
		memcpy(r->signer_pk, tx->pk, 32);
		r->bg = tx->bg;
		if (tx->ntree == tx->captree) {
			int cap = tx->captree ? tx->captree * 2 : 4;
			struct ns_receipt **n = realloc(tx->tree, (size_t)cap * sizeof(*n));
			if (n) {
				tx->tree = n;
				tx->captree = cap;
			}
		}
		if (tx->ntree < tx->captree)
			tx->tree[tx->ntree++] = r;
		tx->outstanding++;
	} else {
		r->signer = strdup(pred);
	}
	if (!r->bg) {
		vec_push(&c->owned_receipts, r);
		map_put(&c->receipts, r->id, r);
	}
	return r;
}

void receipt_schedule(struct ns_chain *c, struct ns_receipt *r, uint64_t at)
{
	r->exec_at = at;
	if (!r->in_sched && !r->executed) {
		r->in_sched = true;
		vec_push(&c->sched, r);
	}
}

static void fail_account_missing(struct ns_outcome *o, const char *acct)
{
	char b[200];

	snprintf(b, sizeof(b), "{\"ActionError\":{\"index\":0,\"kind\":{\"AccountDoesNotExist\":{\"account_id\":\"%s\"}}}}", acct);
	outcome_fail_json(o, b);
}

static void execute_actions(struct ns_chain *c, struct ns_block *b, struct ns_receipt *r)
{
	struct ns_account *recv = acct_find(c, r->receiver);
	int i;

	r->out.status = ST_VALUE;
	r->out.gas_burnt = 223182562500ULL;
	for (i = 0; i < r->nactions; i++) {
		struct ns_action *a = &r->actions[i];
		if (!recv && a->type != ACT_CREATE_ACCOUNT) {
			fail_account_missing(&r->out, r->receiver);
			return;
		}
		switch (a->type) {
		case ACT_CREATE_ACCOUNT:
			if (!recv)
				recv = acct_add(c, r->receiver, 0);
			break;
		case ACT_TRANSFER:
			recv->amount += a->deposit;
			break;
		case ACT_ADD_KEY:
			acct_add_key(recv, a->pk, (b->height - 1) * NS_NONCE_MULT, &a->perm);
			break;
		case ACT_DELETE_KEY:
			acct_del_key(recv, a->pk);
			break;
		case ACT_DEPLOY:
			recv->has_code = true;
			break;
		case ACT_FUNCTION_CALL:
			recv->amount += a->deposit;
			r->out.gas_burnt += a->gas / 10;
			if (!strcmp(r->receiver, c->contract_id)) {
				contract_call(c, b, r, a);
			} else if (!recv->has_code) {
				char j[200];
				snprintf(j, sizeof(j), "{\"ActionError\":{\"index\":%d,\"kind\":{\"FunctionCallError\":"
					 "{\"CompilationError\":{\"CodeDoesNotExist\":{\"account_id\":\"%s\"}}}}}}",
					 i, r->receiver);
				outcome_fail_json(&r->out, j);
			} else {
				outcome_value(&r->out, "", 0);
			}
			break;
		default:
			break;
		}
		if (r->out.status == ST_FAILURE)
			return;
	}
}

/* Unused prepaid gas goes back to the signer: a Transfer receipt from "system". */
static void refund(struct ns_chain *c, struct ns_block *b, struct ns_receipt *r)
{
	struct ns_receipt *f;
	uint64_t prepaid = 0;
	int i;

	for (i = 0; i < r->nactions; i++)
		if (r->actions[i].type == ACT_FUNCTION_CALL)
			prepaid += r->actions[i].gas;
	if (prepaid <= r->out.gas_burnt || !r->tx)
		return;
	if (!(f = receipt_new(c, r->tx, r->id, 7, "system", r->signer)))
		return;
	f->kind = RK_REFUND;
	r->tx->outstanding--;
	r->tx->refunds_pending++;
	memcpy(f->signer_pk, r->signer_pk, 32);
	if ((f->actions = calloc(1, sizeof(*f->actions)))) {
		f->actions[0].type = ACT_TRANSFER;
		f->actions[0].deposit = (u128)(prepaid - r->out.gas_burnt) * NS_GAS_PRICE;
		f->nactions = 1;
	}
	f->from_shard = chain_shard(c, r->receiver);
	vec_push(&c->outgoing_next, f);
	receipt_schedule(c, f, b->height + 1);
	outcome_add_receipt(&r->out, f->id);
}

static void execute_receipt(struct ns_chain *c, struct ns_block *b, struct ns_receipt *r)
{
	int shard = chain_shard(c, r->receiver);

	r->out.executor = strdup(r->receiver);
	if (r->kind == RK_REFUND) {
		struct ns_account *a = acct_find(c, r->receiver);
		if (a && r->nactions)
			a->amount += r->actions[0].deposit;
		r->out.gas_burnt = 223182562500ULL;
		outcome_value(&r->out, "", 0);
	} else if (r->kind == RK_YIELD_CALLBACK)
		contract_callback(c, b, r);
	else if (r->kind == RK_BG)
		traffic_execute_bg(c, b, r);
	else if (r->kind == RK_FAIL_ON_TIMEOUT) {
		r->out.gas_burnt = 2 * NS_TGAS / 3;
		outcome_fail_panic(&r->out, r->req ? "Signature request has timed out." : "request timed out");
	} else {
		execute_actions(c, b, r);
		if (!r->bg && strcmp(r->predecessor, "system"))
			refund(c, b, r);
	}
	r->out.tokens_burnt = (u128)r->out.gas_burnt * NS_GAS_PRICE;
	r->executed = true;
	r->exec_height = b->height;
	if (r->tx && r->kind == RK_REFUND) {
		if (r->tx->refunds_pending > 0)
			r->tx->refunds_pending--;
	} else if (r->tx && r->tx->outstanding > 0) {
		r->tx->outstanding--;
	}
	vec_push(&b->content[shard].execd, r);
	b->content[shard].gas_used += r->out.gas_burnt;
	b->content[shard].balance_burnt += r->out.tokens_burnt;
	c->receipts_executed++;
}

void receipts_execute_due(struct ns_chain *c, struct ns_block *b)
{
	struct ns_vec due = { 0 };
	int i, j;

	for (i = j = 0; i < c->sched.n; i++) {
		struct ns_receipt *r = c->sched.v[i];
		if (r->exec_at <= b->height) {
			r->in_sched = false;
			vec_push(&due, r);
		}
		else
			c->sched.v[j++] = r;
	}
	c->sched.n = j;
	for (i = 0; i < due.n; i++)
		execute_receipt(c, b, due.v[i]);
	vec_free(&due);
}

/* Convert an included transaction into its receipt (the tx outcome). */
void tx_include(struct ns_chain *c, struct ns_block *b, struct ns_tx *t)
{
	struct ns_account *a = acct_find(c, t->signer);
	struct ns_key *k = acct_key(a, t->pk);
	struct ns_receipt *r;
	int i, shard = chain_shard(c, t->signer);

	if (k) {
		key_set_nonce(k, b->height, t->nonce);
		if (!k->perm.full && k->perm.has_allowance)
			k->perm.allowance -= tx_cost(t) < k->perm.allowance ? tx_cost(t) : k->perm.allowance;
	}
	if (a)
		a->amount -= tx_cost(t) < a->amount ? tx_cost(t) : a->amount;
	t->included = true;
	t->height = b->height;
	t->shard = shard;
	t->exec_count++;
	c->txs_included++;
	t->out.executor = strdup(t->signer);
	t->out.gas_burnt = 2428000000000ULL;
	t->out.tokens_burnt = (u128)t->out.gas_burnt * NS_GAS_PRICE;
	vec_push(&b->content[shard].txs, t);
	b->content[shard].gas_used += t->out.gas_burnt;
	b->content[shard].balance_burnt += t->out.tokens_burnt;

	if (!(r = receipt_new(c, t, t->hash, 0, t->signer, t->receiver)))
		return;
	if ((r->actions = calloc((size_t)t->nactions, sizeof(*r->actions)))) {
		for (i = 0; i < t->nactions; i++) {
			struct ns_action *d = &r->actions[i], *s = &t->actions[i];
			*d = *s;
			d->method = s->method ? strdup(s->method) : NULL;
			d->beneficiary = s->beneficiary ? strdup(s->beneficiary) : NULL;
			d->args = NULL;
			if (s->args_len && (d->args = malloc(s->args_len)))
				memcpy(d->args, s->args, s->args_len);
			perm_copy(&d->perm, &s->perm);
			r->nactions++;
		}
	}
	r->from_shard = shard;
	t->out.status = ST_RECEIPT;
	memcpy(t->out.next, r->id, 32);
	outcome_add_receipt(&t->out, r->id);
	if (!strcmp(t->signer, t->receiver)) {
		/* a local receipt executes in the chunk that converted it */
		r->local = true;
		vec_push(&b->content[shard].local, r);
		r->exec_at = b->height;
		execute_receipt(c, b, r);
	} else {
		vec_push(&c->outgoing_next, r);
		receipt_schedule(c, r, b->height + 1);
	}
}

/* ---------- status ---------- */
static const char *const level_names[] = { "NONE", "INCLUDED", "EXECUTED_OPTIMISTIC",
					   "INCLUDED_FINAL", "EXECUTED", "FINAL" };

int level_parse(const char *s)
{
	int i;

	for (i = 0; i <= LV_FINAL; i++)
		if (!strcmp(s, level_names[i]))
			return i;
	return -1;
}

const char *level_name(int lv) { return level_names[lv]; }

bool level_meets(int have, int want)
{
	switch (want) {
	case LV_NONE: return true;
	case LV_INCLUDED: return have != LV_NONE;
	case LV_EXECUTED_OPTIMISTIC: return have == LV_EXECUTED_OPTIMISTIC || have == LV_EXECUTED || have == LV_FINAL;
	case LV_INCLUDED_FINAL: return have == LV_INCLUDED_FINAL || have == LV_EXECUTED || have == LV_FINAL;
	case LV_EXECUTED: return have == LV_EXECUTED || have == LV_FINAL;
	default: return have == LV_FINAL;
	}
}

int tx_final_level(struct ns_chain *c, const struct ns_tx *t)
{
	bool incl_final, all_final = true;
	int i;

	if (!t->included)
		return LV_NONE;
	incl_final = t->height <= c->final_height && chain_at(c, t->height);
	for (i = 0; i < t->ntree; i++)
		if (t->tree[i]->executed && t->tree[i]->exec_height > c->final_height)
			all_final = false;
	if (t->outstanding > 0)
		return incl_final ? LV_INCLUDED_FINAL : LV_INCLUDED;
	if (incl_final && all_final && !t->refunds_pending)
		return LV_FINAL;
	return incl_final ? LV_EXECUTED : LV_EXECUTED_OPTIMISTIC;
}

static struct ns_receipt *tree_find(const struct ns_tx *t, const uint8_t id[32])
{
	int i;

	for (i = 0; i < t->ntree; i++)
		if (!memcmp(t->tree[i]->id, id, 32))
			return t->tree[i];
	return NULL;
}

static void render_final_status(struct jw *w, const struct ns_tx *t)
{
	const struct ns_outcome *o = &t->out;
	int guard = 0;

	while (o && o->status == ST_RECEIPT && guard++ < 64) {
		struct ns_receipt *r = tree_find(t, o->next);
		o = r && r->executed ? &r->out : NULL;
	}
	if (!o) {
		jw_str(w, "Started");
	} else if (o->status == ST_VALUE) {
		jw_obj(w);
		jw_key(w, "SuccessValue");
		jw_b64(w, o->value, o->value_len);
		jw_end_obj(w);
	} else if (o->status == ST_FAILURE) {
		jw_obj(w);
		jw_kraw(w, "Failure", o->failure, strlen(o->failure));
		jw_end_obj(w);
	} else {
		jw_str(w, "Started");
	}
}

static const uint8_t *block_hash_at(struct ns_chain *c, uint64_t h)
{
	static const uint8_t zero[32];
	struct ns_block *b = chain_at(c, h);

	return b ? b->hash : zero;
}

void tx_render_status(struct ns_chain *c, struct jw *w, const struct ns_tx *t, bool with_receipts, int level)
{
	int i;

	jw_obj(w);
	jw_kstr(w, "final_execution_status", level_name(level));
	if (level == LV_NONE || !t->included) {
		jw_end_obj(w);
		return;
	}
	if (with_receipts) {
		jw_key(w, "receipts");
		jw_arr(w);
		for (i = 0; i < t->ntree; i++)
			if (t->tree[i]->executed)
				doc_receipt_view(w, t->tree[i]);
		jw_end_arr(w);
	}
	jw_key(w, "receipts_outcome");
	jw_arr(w);
	for (i = 0; i < t->ntree; i++) {
		struct ns_receipt *r = t->tree[i];
		if (r->executed)
			doc_outcome_with_id(w, r->id, block_hash_at(c, r->exec_height), &r->out, 3);
	}
	jw_end_arr(w);
	jw_key(w, "status");
	render_final_status(w, t);
	jw_key(w, "transaction");
	doc_tx_view(w, t);
	jw_key(w, "transaction_outcome");
	doc_outcome_with_id(w, t->hash, block_hash_at(c, t->height), &t->out, 1);
	jw_end_obj(w);
}
