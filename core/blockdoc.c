/* Block documents (StreamerMessage) into struct blockdoc: see blockdoc.h. One pass over
 * the text with the zero-copy scanner; only header fields and receipt outcomes are kept. */
#include "blockdoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "near/base58.h"

/* Where the parser is, for error messages. */
struct where {
	const char *part;	/* "block.header", "shards", ... */
	long shard, outcome;
	const char *field;	/* the member being read, or NULL */
};

static int fail_at(struct jscan *j, struct where *w, char *err, size_t errsz)
{
	size_t off = 0;
	const char *msg = jscan_error(j, &off);
	char path[96] = "";

	if (w->shard >= 0 && w->outcome >= 0)
		snprintf(path, sizeof(path), "shards[%ld].receipt_execution_outcomes[%ld]",
			 w->shard, w->outcome);
	else if (w->shard >= 0)
		snprintf(path, sizeof(path), "shards[%ld]", w->shard);
	else
		snprintf(path, sizeof(path), "%s", w->part ? w->part : "document");
	snprintf(err, errsz, "%s%s%s: %s at byte %zu", path, w->field ? "." : "",
		 w->field ? w->field : "", msg ? msg : "invalid", off);
	return BD_ERROR;
}

static int hash_field(struct jscan *j, struct where *w, const char *name, char out[NEAR_HASH_B58_MAX],
		      uint8_t bin[32])
{
	struct jstr s;

	w->field = name;
	if (jscan_str(j, &s) < 0)
		return -1;
	if (s.esc || s.n >= NEAR_HASH_B58_MAX)
		return jscan_fail(j, "not a base58 hash");
	memcpy(out, s.p, s.n);
	out[s.n] = '\0';
	if (near_hash_from_b58(bin, out) < 0)
		return jscan_fail(j, "not a base58 32-byte hash");
	w->field = NULL;
	return 0;
}

static int dec_u64(const struct jstr *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s->esc || s->n == 0 || s->n > 20)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		unsigned d = (unsigned)(s->p[i] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

#define HAVE_HEIGHT 1u
#define HAVE_HASH 2u
#define HAVE_PREV 4u
#define HAVE_FINAL 8u
#define HAVE_RANDOM 16u
#define HAVE_TIME 32u

static int parse_header(struct jscan *j, struct where *w, struct blockdoc *d, unsigned *have)
{
	struct jstr k, s;
	int r;
	uint64_t ts_num = 0;
	int have_ts_num = 0;

	w->part = "block.header";
	if (jscan_obj(j) < 0)
		return -1;
	while ((r = jscan_key(j, &k)) > 0) {
		if (jstr_eq(&k, "height")) {
			w->field = "height";
			if (jscan_u64(j, &d->height) < 0)
				return -1;
			*have |= HAVE_HEIGHT;
		} else if (jstr_eq(&k, "prev_height")) {
			w->field = "prev_height";
			if (!jscan_null(j) && jscan_u64(j, &d->prev_height) < 0)
				return -1;
		} else if (jstr_eq(&k, "hash")) {
			if (hash_field(j, w, "hash", d->hash, d->hash_bin) < 0)
				return -1;
			*have |= HAVE_HASH;
		} else if (jstr_eq(&k, "prev_hash")) {
			if (hash_field(j, w, "prev_hash", d->prev_hash, d->prev_hash_bin) < 0)
				return -1;
			*have |= HAVE_PREV;
		} else if (jstr_eq(&k, "last_final_block")) {
			if (hash_field(j, w, "last_final_block", d->last_final_block,
				       d->last_final_bin) < 0)
				return -1;
			*have |= HAVE_FINAL;
		} else if (jstr_eq(&k, "random_value")) {
			char tmp[NEAR_HASH_B58_MAX];
			if (hash_field(j, w, "random_value", tmp, d->random_value) < 0)
				return -1;
			*have |= HAVE_RANDOM;
		} else if (jstr_eq(&k, "timestamp_nanosec")) {
			w->field = "timestamp_nanosec";
			if (jscan_str(j, &s) < 0)
				return -1;
			if (dec_u64(&s, &d->timestamp_nanosec) < 0)
				return jscan_fail(j, "not a decimal u64 string");
			*have |= HAVE_TIME;
		} else if (jstr_eq(&k, "timestamp")) {
			/* the legacy number: only a fallback, and re-encoders print it as 1.7e18 */
			struct jstr raw;
			w->field = "timestamp";
			if (jscan_skip(j, &raw) < 0)
				return -1;
			have_ts_num = dec_u64(&raw, &ts_num) == 0;
		} else if (jscan_skip(j, NULL) < 0) {
			return -1;
		}
		w->field = NULL;
	}
	if (r < 0)
		return -1;
	if (!(*have & HAVE_TIME) && have_ts_num) {
		d->timestamp_nanosec = ts_num;
		*have |= HAVE_TIME;
	}
	return 0;
}

static int parse_blockview(struct jscan *j, struct where *w, struct blockdoc *d, unsigned *have)
{
	struct jstr k;
	int r;

	w->part = "block";
	if (jscan_obj(j) < 0)
		return -1;
	while ((r = jscan_key(j, &k)) > 0) {
		if (jstr_eq(&k, "header")) {
			if (parse_header(j, w, d, have) < 0)
				return -1;
			w->part = "block";
		} else if (jscan_skip(j, NULL) < 0) {
			return -1;
		}
	}
	return r;
}

static int str_field(struct jscan *j, struct where *w, const char *name, struct jstr *out)
{
	w->field = name;
	if (jscan_str(j, out) < 0)
		return -1;
	w->field = NULL;
	return 0;
}

/* execution_outcome.outcome.status */
static int parse_status(struct jscan *j, struct where *w, struct bd_outcome *o)
{
	struct jstr k, v;
	int r, t = jscan_peek(j);

	w->field = "status";
	if (t == JSCAN_STR) {
		if (jscan_skip(j, &o->status_json) < 0)
			return -1;
		o->status = BD_ST_UNKNOWN;
		w->field = NULL;
		return 0;
	}
	if (t != JSCAN_OBJ)
		return jscan_fail(j, "expected a string or an object");
	const char *start = j->p;
	if (jscan_obj(j) < 0)
		return -1;
	while ((r = jscan_key(j, &k)) > 0) {
		if (jstr_eq(&k, "SuccessReceiptId")) {
			if (jscan_str(j, &v) < 0)
				return -1;
			o->status = BD_ST_RECEIPT;
			o->next_receipt_id = v;
		} else if (jstr_eq(&k, "SuccessValue")) {
			if (jscan_str(j, &v) < 0)
				return -1;
			o->status = BD_ST_VALUE;
		} else if (jstr_eq(&k, "Failure")) {
			if (jscan_skip(j, NULL) < 0)
				return -1;
			o->status = BD_ST_FAILURE;
		} else if (jscan_skip(j, NULL) < 0) {
			return -1;
		}
	}
	if (r < 0)
		return -1;
	o->status_json.p = start;
	o->status_json.n = (size_t)(j->p - start);
	o->status_json.esc = 0;
	w->field = NULL;
	return 0;
}

static int parse_exec(struct jscan *j, struct where *w, struct bd_outcome *o, struct jstr *id)
{
	struct jstr k, k2;
	int r, r2;

	if (jscan_obj(j) < 0)
		return -1;
	while ((r = jscan_key(j, &k)) > 0) {
		if (jstr_eq(&k, "id")) {
			if (str_field(j, w, "execution_outcome.id", id) < 0)
				return -1;
		} else if (jstr_eq(&k, "outcome")) {
			if (jscan_obj(j) < 0)
				return -1;
			while ((r2 = jscan_key(j, &k2)) > 0) {
				if (jstr_eq(&k2, "executor_id")) {
					if (str_field(j, w, "executor_id", &o->executor) < 0)
						return -1;
				} else if (jstr_eq(&k2, "status")) {
					if (parse_status(j, w, o) < 0)
						return -1;
				} else if (jstr_eq(&k2, "logs")) {
					w->field = "logs";
					if (jscan_peek(j) != JSCAN_ARR)
						return jscan_fail(j, "expected an array");
					if (jscan_skip(j, &o->logs) < 0)
						return -1;
					w->field = NULL;
				} else if (jscan_skip(j, NULL) < 0) {
					return -1;
				}
			}
			if (r2 < 0)
				return -1;
		} else if (jscan_skip(j, NULL) < 0) {
			return -1;
		}
	}
	return r;
}

/* receipt.receipt.Action.actions */
static int parse_actions(struct jscan *j, struct where *w, struct bd_outcome *o)
{
	struct jstr k, k2;
	int r, r2, fc = 0;

	w->field = "actions";
	if (jscan_arr(j) < 0)
		return -1;
	while ((r = jscan_more(j)) > 0) {
		o->n_actions++;
		if (o->n_actions == 1 && jscan_peek(j) == JSCAN_OBJ) {
			if (jscan_obj(j) < 0)
				return -1;
			while ((r2 = jscan_key(j, &k)) > 0) {
				if (!jstr_eq(&k, "FunctionCall")) {
					if (jscan_skip(j, NULL) < 0)
						return -1;
					continue;
				}
				fc = 1;
				if (jscan_obj(j) < 0)
					return -1;
				while ((r = jscan_key(j, &k2)) > 0) {
					if (jstr_eq(&k2, "method_name")) {
						if (str_field(j, w, "method_name", &o->method) < 0)
							return -1;
					} else if (jstr_eq(&k2, "args")) {
						if (str_field(j, w, "args", &o->args) < 0)
							return -1;
					} else if (jscan_skip(j, NULL) < 0) {
						return -1;
					}
				}
				if (r < 0)
					return -1;
				w->field = "actions";
			}
			if (r2 < 0)
				return -1;
		} else if (jscan_skip(j, NULL) < 0) {
			return -1;
		}
	}
	if (r < 0)
		return -1;
	o->single_fc = o->n_actions == 1 && fc && o->method.p;
	w->field = NULL;
	return 0;
}

static int parse_receipt(struct jscan *j, struct where *w, struct bd_outcome *o)
{
	struct jstr k, k2, k3;
	int r, r2, r3;

	if (jscan_obj(j) < 0)
		return -1;
	while ((r = jscan_key(j, &k)) > 0) {
		if (jstr_eq(&k, "predecessor_id")) {
			if (str_field(j, w, "predecessor_id", &o->predecessor) < 0)
				return -1;
		} else if (jstr_eq(&k, "receiver_id")) {
			if (str_field(j, w, "receiver_id", &o->receiver) < 0)
				return -1;
		} else if (jstr_eq(&k, "receipt_id")) {
			if (str_field(j, w, "receipt_id", &o->receipt_id) < 0)
				return -1;
		} else if (jstr_eq(&k, "receipt")) {
			w->field = "receipt.receipt";
			if (jscan_obj(j) < 0)
				return -1;
			while ((r2 = jscan_key(j, &k2)) > 0) {
				if (!jstr_eq(&k2, "Action")) {
					if (jscan_skip(j, NULL) < 0)
						return -1;
					continue;
				}
				if (jscan_obj(j) < 0)
					return -1;
				while ((r3 = jscan_key(j, &k3)) > 0) {
					if (jstr_eq(&k3, "actions")) {
						if (parse_actions(j, w, o) < 0)
							return -1;
					} else if (jstr_eq(&k3, "signer_id")) {
						if (str_field(j, w, "signer_id", &o->signer) < 0)
							return -1;
					} else if (jscan_skip(j, NULL) < 0) {
						return -1;
					}
				}
				if (r3 < 0)
					return -1;
			}
			if (r2 < 0)
				return -1;
			w->field = NULL;
		} else if (jscan_skip(j, NULL) < 0) {
			return -1;
		}
	}
	return r;
}

struct bd_outcome *blockdoc_add_outcome(struct blockdoc *d)
{
	if (d->n_outs == d->cap_outs) {
		size_t cap = d->cap_outs ? d->cap_outs * 2 : 64;
		struct bd_outcome *n = realloc(d->outs, cap * sizeof(*n));
		if (!n)
			return NULL;
		d->outs = n;
		d->cap_outs = cap;
	}
	struct bd_outcome *o = &d->outs[d->n_outs++];
	memset(o, 0, sizeof(*o));
	return o;
}

static int parse_outcome(struct jscan *j, struct where *w, struct blockdoc *d, unsigned shard)
{
	struct jstr k, id = { 0 };
	struct bd_outcome *o;
	int r, have_exec = 0, have_receipt = 0;

	if (!(o = blockdoc_add_outcome(d)))
		return jscan_fail(j, "out of memory");
	o->shard = (uint16_t)(shard > 0xffff ? 0xffff : shard);
	if (jscan_obj(j) < 0)
		return -1;
	while ((r = jscan_key(j, &k)) > 0) {
		if (jstr_eq(&k, "execution_outcome")) {
			w->field = "execution_outcome";
			if (parse_exec(j, w, o, &id) < 0)
				return -1;
			have_exec = 1;
		} else if (jstr_eq(&k, "receipt")) {
			w->field = "receipt";
			if (parse_receipt(j, w, o) < 0)
				return -1;
			have_receipt = 1;
		} else if (jstr_eq(&k, "tx_hash")) {
			w->field = "tx_hash";
			if (!jscan_null(j) && jscan_str(j, &o->tx_hash) < 0)
				return -1;
		} else if (jscan_skip(j, NULL) < 0) {
			return -1;
		}
		w->field = NULL;
	}
	if (r < 0)
		return -1;
	if (!o->receipt_id.p)
		o->receipt_id = id;
	if (!have_exec || !have_receipt)
		return jscan_fail(j, have_exec ? "no receipt" : "no execution_outcome");
	if (!o->receipt_id.p)
		return jscan_fail(j, "no receipt_id");
	if (!o->executor.p)
		return jscan_fail(j, "no executor_id");
	if (!o->status_json.p)
		return jscan_fail(j, "no status");
	if (!o->receiver.p || !o->predecessor.p)
		return jscan_fail(j, "no receiver_id or predecessor_id");
	return 0;
}

static int parse_shard_obj(struct jscan *j, struct where *w, struct blockdoc *d, unsigned shard)
{
	struct jstr k;
	int r, r2;

	w->shard = shard;
	w->outcome = -1;
	if (jscan_obj(j) < 0)
		return -1;
	while ((r = jscan_key(j, &k)) > 0) {
		if (jstr_eq(&k, "receipt_execution_outcomes")) {
			w->field = "receipt_execution_outcomes";
			if (jscan_arr(j) < 0)
				return -1;
			w->field = NULL;
			while ((r2 = jscan_more(j)) > 0) {
				w->outcome++;
				if (parse_outcome(j, w, d, shard) < 0)
					return -1;
			}
			if (r2 < 0)
				return -1;
			w->outcome = -1;
		} else if (jscan_skip(j, NULL) < 0) {
			return -1;
		}
	}
	return r;
}

static void reset(struct blockdoc *d)
{
	struct bd_outcome *outs = d->outs;
	size_t cap = d->cap_outs;

	memset(d, 0, sizeof(*d));
	d->outs = outs;
	d->cap_outs = cap;
}

void blockdoc_reset(struct blockdoc *d)
{
	reset(d);
}

static int check_header(struct jscan *j, unsigned have)
{
	if (!(have & HAVE_HEIGHT))
		return jscan_fail(j, "block.header has no height");
	if (!(have & HAVE_HASH))
		return jscan_fail(j, "block.header has no hash");
	if (!(have & HAVE_PREV))
		return jscan_fail(j, "block.header has no prev_hash");
	if (!(have & HAVE_FINAL))
		return jscan_fail(j, "block.header has no last_final_block");
	if (!(have & HAVE_RANDOM))
		return jscan_fail(j, "block.header has no random_value");
	if (!(have & HAVE_TIME))
		return jscan_fail(j, "block.header has no timestamp_nanosec");
	return 0;
}

int blockdoc_parse(struct blockdoc *d, const char *json, size_t n, char *err, size_t errsz)
{
	struct jscan j;
	struct where w = { "document", -1, -1, NULL };
	struct jstr k;
	unsigned have = 0;
	int r, r2, have_block = 0;
	unsigned shard = 0;

	reset(d);
	jscan_init(&j, json, n);
	if (jscan_peek(&j) == JSCAN_NULL) {
		if (jscan_null(&j) && jscan_end(&j) == 0)
			return BD_NULL;
		return fail_at(&j, &w, err, errsz);
	}
	if (jscan_obj(&j) < 0)
		return fail_at(&j, &w, err, errsz);
	while ((r = jscan_key(&j, &k)) > 0) {
		if (jstr_eq(&k, "block")) {
			if (parse_blockview(&j, &w, d, &have) < 0)
				return fail_at(&j, &w, err, errsz);
			have_block = 1;
		} else if (jstr_eq(&k, "shards")) {
			w.part = "shards";
			if (jscan_arr(&j) < 0)
				return fail_at(&j, &w, err, errsz);
			while ((r2 = jscan_more(&j)) > 0) {
				if (parse_shard_obj(&j, &w, d, shard++) < 0)
					return fail_at(&j, &w, err, errsz);
			}
			if (r2 < 0)
				return fail_at(&j, &w, err, errsz);
			d->n_shards = shard;
			w.shard = -1;
		} else if (jscan_skip(&j, NULL) < 0) {
			return fail_at(&j, &w, err, errsz);
		}
		w.part = "document";
	}
	if (r < 0 || jscan_end(&j) < 0)
		return fail_at(&j, &w, err, errsz);
	if (!have_block)
		jscan_fail(&j, "no block member");
	else
		check_header(&j, have);
	if (jscan_error(&j, NULL))
		return fail_at(&j, &w, err, errsz);
	return BD_OK;
}

int blockdoc_parse_header(struct blockdoc *d, const char *json, size_t n, char *err, size_t errsz)
{
	struct jscan j;
	struct where w = { "block", -1, -1, NULL };
	unsigned have = 0;

	reset(d);
	jscan_init(&j, json, n);
	if (parse_blockview(&j, &w, d, &have) < 0 || jscan_end(&j) < 0 || check_header(&j, have) < 0)
		return fail_at(&j, &w, err, errsz);
	return BD_OK;
}

int blockdoc_parse_shard(struct blockdoc *d, const char *json, size_t n, unsigned shard,
			 char *err, size_t errsz)
{
	struct jscan j;
	struct where w = { "shard", -1, -1, NULL };

	jscan_init(&j, json, n);
	if (parse_shard_obj(&j, &w, d, shard) < 0 || jscan_end(&j) < 0)
		return fail_at(&j, &w, err, errsz);
	if (shard + 1 > d->n_shards)
		d->n_shards = shard + 1;
	return BD_OK;
}

void blockdoc_free(struct blockdoc *d)
{
	free(d->outs);
	memset(d, 0, sizeof(*d));
}
