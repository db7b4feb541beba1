/* Requests, completions and filter matches of one block: see mpc_events.h. */
#include "mpc_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "near/account_id.h"
#include "near/base64.h"
#include "near/hash.h"

#define TWEAK_PREFIX "near-mpc-recovery v0.1.0 epsilon derivation:"
#define APP_ID_PREFIX "near-mpc v0.1.0 app_id derivation:"

struct mpc_arena {
	struct mpc_arena *next;
	size_t used, cap;
	char data[];
};

static void *arena_alloc(struct mpc_arena **a, size_t n, size_t *bytes)
{
	n = (n + 7) & ~(size_t)7;
	if (!*a || (*a)->used + n > (*a)->cap) {
		size_t cap = n > 3968 ? n : 3968;
		struct mpc_arena *c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = *a;
		c->used = 0;
		c->cap = cap;
		*a = c;
		*bytes += sizeof(*c) + cap;
	}
	void *p = (*a)->data + (*a)->used;
	(*a)->used += n;
	return p;
}

static char *arena_str(struct mpc_block *b, const char *s, size_t n)
{
	char *p = arena_alloc(&b->arena, n + 1, &b->bytes);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* A JSON string slice, decoded, NUL-terminated, in the arena. */
static char *arena_jstr(struct mpc_block *b, const struct jstr *s)
{
	char *p;
	long n;

	if (!s->p)
		return NULL;
	if (!(p = arena_alloc(&b->arena, s->n + 1, &b->bytes)))
		return NULL;
	n = jstr_decode(s, p, s->n + 1);
	return n < 0 ? NULL : p;
}

struct mflt {
	int kind;
	char *account;
	char *method;	/* NULL = any */
	size_t sub, index;
};

struct mpc_matcher {
	char *contract;
	struct mflt *f;
	size_t n, cap;
};

struct mpc_matcher *mpc_matcher_new(const char *contract)
{
	struct mpc_matcher *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (contract && !(m->contract = strdup(contract))) {
		free(m);
		return NULL;
	}
	return m;
}

const char *mpc_matcher_contract(const struct mpc_matcher *m)
{
	return m->contract;
}

void mpc_matcher_remove(struct mpc_matcher *m, size_t sub)
{
	size_t i, k = 0;

	for (i = 0; i < m->n; i++) {
		if (m->f[i].sub == sub) {
			free(m->f[i].account);
			free(m->f[i].method);
		} else {
			m->f[k++] = m->f[i];
		}
	}
	m->n = k;
}

int mpc_matcher_watches(const struct mpc_matcher *m, const char *account)
{
	if (m->contract && !strcmp(m->contract, account))
		return 1;
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->f[i].account, account))
			return 1;
	return 0;
}

void mpc_matcher_free(struct mpc_matcher *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->f[i].account);
		free(m->f[i].method);
	}
	free(m->f);
	free(m->contract);
	free(m);
}

int mpc_matcher_add(struct mpc_matcher *m, size_t sub, const struct mpci_filter *f, size_t n,
		    char *err, size_t errsz)
{
	for (size_t i = 0; i < n; i++) {
		if (f[i].kind != MPCI_FILTER_EXECUTOR_PROMISE && f[i].kind != MPCI_FILTER_RECEIVER) {
			snprintf(err, errsz, "filter %zu: unknown kind %d", i, f[i].kind);
			return -1;
		}
		if (!f[i].account || !near_account_id_valid(f[i].account, strlen(f[i].account))) {
			snprintf(err, errsz, "filter %zu: '%.80s' is not a valid account id", i,
				 f[i].account ? f[i].account : "(null)");
			return -1;
		}
		if (f[i].method && (!*f[i].method || strlen(f[i].method) > 256)) {
			snprintf(err, errsz, "filter %zu: the method name must be 1..256 bytes", i);
			return -1;
		}
	}
	if (m->n + n > m->cap) {
		size_t cap = (m->n + n) * 2;
		struct mflt *nf = realloc(m->f, cap * sizeof(*nf));
		if (!nf) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		m->f = nf;
		m->cap = cap;
	}
	for (size_t i = 0; i < n; i++) {
		struct mflt *x = &m->f[m->n];
		x->kind = f[i].kind;
		x->account = strdup(f[i].account);
		x->method = f[i].method ? strdup(f[i].method) : NULL;
		x->sub = sub;
		x->index = i;
		if (!x->account || (f[i].method && !x->method)) {
			free(x->account);
			free(x->method);
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		m->n++;
	}
	return 0;
}

static int derive(uint8_t out[32], const char *prefix, const char *pred, const char *path)
{
	size_t a = strlen(prefix), b = strlen(pred), c = strlen(path);
	char stack[512], *buf = a + b + c + 1 <= sizeof(stack) ? stack : malloc(a + b + c + 1);
	int rc;

	if (!buf)
		return -1;
	memcpy(buf, prefix, a);
	memcpy(buf + a, pred, b);
	buf[a + b] = ',';
	memcpy(buf + a + b + 1, path, c);
	rc = near_sha3_256(out, buf, a + b + c + 1);
	if (buf != stack)
		free(buf);
	return rc;
}

int mpc_derive_tweak(uint8_t out[32], const char *predecessor, const char *path)
{
	return derive(out, TWEAK_PREFIX, predecessor, path);
}

int mpc_derive_app_id(uint8_t out[32], const char *predecessor, const char *path)
{
	return derive(out, APP_ID_PREFIX, predecessor, path);
}

const char *mpc_kind_name(int kind)
{
	switch (kind) {
	case MPCI_REQ_SIGN: return "sign";
	case MPCI_REQ_CKD: return "ckd";
	case MPCI_REQ_FOREIGN_TX: return "foreign_tx";
	default: return "unknown";
	}
}

static const char *const request_methods[3] = {
	"sign", "request_app_private_key", "verify_foreign_transaction",
};
static const char *const completion_methods[3] = {
	"return_signature_and_clean_state_on_success",
	"return_ck_and_clean_state_on_success",
	"return_verify_foreign_tx_and_clean_state_on_success",
};

/* FunctionCall args (base64) decoded into the arena, NUL-terminated. */
static char *decode_args(struct mpc_block *b, const struct jstr *s, size_t *len)
{
	char tmp[4096], *src = tmp, *out;
	size_t n, cap;
	long m;

	if (!s->p) {
		*len = 0;
		return arena_str(b, "", 0);
	}
	if (s->esc) {	/* "\/" is a legal way to write '/' */
		src = s->n < sizeof(tmp) ? tmp : malloc(s->n + 1);
		if (!src || (m = jstr_decode(s, src, s->n + 1)) < 0) {
			if (src != tmp)
				free(src);
			return NULL;
		}
		n = (size_t)m;
	} else {
		src = (char *)s->p;
		n = s->n;
	}
	cap = n / 4 * 3 + 3;
	out = arena_alloc(&b->arena, cap + 1, &b->bytes);
	if (out && b64_decode((uint8_t *)out, cap, src, n, len) < 0)
		out = NULL;
	if (out)
		out[*len] = '\0';
	if (s->esc && src != tmp)
		free(src);
	return out;
}

/* What a request's args say; slices point into the decoded args. */
struct req_args {
	struct jstr request;	/* the "request" member, raw */
	struct jstr path;	/* sign: path; ckd: derivation_path */
	uint64_t domain_id;
	int has_domain;
};

static int parse_request_args(int kind, const char *args, size_t n, struct req_args *ra,
			      const char **why)
{
	struct jscan j;
	struct jstr k;
	int r, found = 0;
	uint64_t key_version = 0;
	int has_kv = 0;

	memset(ra, 0, sizeof(*ra));
	jscan_init(&j, args, n);
	if (jscan_obj(&j) < 0)
		goto bad;
	while ((r = jscan_key(&j, &k)) > 0) {
		if (!jstr_eq(&k, "request")) {
			if (jscan_skip(&j, NULL) < 0)
				goto bad;
			continue;
		}
		if (jscan_peek(&j) != JSCAN_OBJ) {
			*why = "request is not an object";
			return -1;
		}
		struct jscan inner = j;
		if (jscan_skip(&j, &ra->request) < 0)
			goto bad;
		found = 1;
		struct jstr k2;
		int r2;
		jscan_obj(&inner);
		while ((r2 = jscan_key(&inner, &k2)) > 0) {
			int t = jscan_peek(&inner);
			if ((kind == MPCI_REQ_SIGN && jstr_eq(&k2, "path")) ||
			    (kind == MPCI_REQ_CKD && jstr_eq(&k2, "derivation_path"))) {
				if (t != JSCAN_STR) {
					*why = "the path is not a string";
					return -1;
				}
				jscan_str(&inner, &ra->path);
			} else if (jstr_eq(&k2, "domain_id") && t == JSCAN_NUM) {
				if (jscan_u64(&inner, &ra->domain_id) < 0) {
					*why = "domain_id is not a u64";
					return -1;
				}
				ra->has_domain = 1;
			} else if (kind == MPCI_REQ_SIGN && jstr_eq(&k2, "key_version") &&
				   t == JSCAN_NUM) {
				if (jscan_u64(&inner, &key_version) < 0) {
					*why = "key_version is not a u64";
					return -1;
				}
				has_kv = 1;
			} else {
				jscan_skip(&inner, NULL);
			}
		}
	}
	if (r < 0 || jscan_end(&j) < 0)
		goto bad;
	if (!found) {
		*why = "no request member";
		return -1;
	}
	if (!ra->has_domain && has_kv) {
		ra->domain_id = key_version;
		ra->has_domain = 1;
	}
	if (ra->domain_id > UINT32_MAX) {
		*why = "domain_id out of range";
		return -1;
	}
	return 0;
bad:
	*why = jscan_error(&j, NULL);
	if (!*why)
		*why = "invalid JSON";
	return -1;
}

/* Does an outcome concern this account (executor or receiver)? */
static int touches(const struct bd_outcome *o, const char *acct)
{
	return jstr_eq(&o->executor, acct) || jstr_eq(&o->receiver, acct);
}

static int filter_matches(const struct mflt *f, const struct bd_outcome *o)
{
	if (!o->single_fc)
		return 0;
	if (f->method && !jstr_eq(&o->method, f->method))
		return 0;
	if (f->kind == MPCI_FILTER_EXECUTOR_PROMISE)
		return o->status == BD_ST_RECEIPT && jstr_eq(&o->executor, f->account);
	return jstr_eq(&o->receiver, f->account);
}

static int add_request(struct mpc_block *b, const struct bd_outcome *o, int kind, size_t cap)
{
	struct mpci_request *q = &b->requests[b->n_requests];
	struct req_args ra;
	const char *why = NULL;
	size_t alen = 0;
	char *args = decode_args(b, &o->args, &alen);
	char pathbuf[1024], *path = pathbuf;
	int rc = 0;

	(void)cap;
	if (!args) {
		log_warn("blocks", "block %llu: %s receipt %.*s: args are not base64; dropped",
			 (unsigned long long)b->height, request_methods[kind],
			 (int)o->receipt_id.n, o->receipt_id.p);
		return 0;
	}
	if (parse_request_args(kind, args, alen, &ra, &why) < 0) {
		log_warn("blocks", "block %llu: %s receipt %.*s: args do not parse (%s); dropped",
			 (unsigned long long)b->height, request_methods[kind],
			 (int)o->receipt_id.n, o->receipt_id.p, why);
		return 0;
	}
	memset(q, 0, sizeof(*q));
	q->struct_size = sizeof(*q);
	q->kind = kind;
	q->id = arena_jstr(b, &o->next_receipt_id);
	q->receipt_id = arena_jstr(b, &o->receipt_id);
	q->predecessor_id = arena_jstr(b, &o->predecessor);
	q->args = args;
	q->args_len = alen;
	q->request = arena_str(b, ra.request.p, ra.request.n);
	q->request_len = ra.request.n;
	q->domain_id = (uint32_t)ra.domain_id;
	if (!q->id || !q->receipt_id || !q->predecessor_id || !q->request)
		return -1;
	if (kind != MPCI_REQ_FOREIGN_TX) {
		if (!ra.path.p) {
			pathbuf[0] = '\0';
		} else {
			if (ra.path.n >= sizeof(pathbuf) && !(path = malloc(ra.path.n + 1)))
				return -1;
			if (jstr_decode(&ra.path, path, ra.path.n + 1) < 0) {
				if (path != pathbuf)
					free(path);
				log_warn("blocks", "block %llu: receipt %s: bad path string; dropped",
					 (unsigned long long)b->height, q->receipt_id);
				return 0;
			}
		}
		rc = kind == MPCI_REQ_SIGN ? mpc_derive_tweak(q->derived, q->predecessor_id, path)
					   : mpc_derive_app_id(q->derived, q->predecessor_id, path);
		if (path != pathbuf)
			free(path);
		if (rc < 0)
			return -1;
	}
	b->request_tx[b->n_requests] = o->tx_hash.p ? arena_jstr(b, &o->tx_hash) : NULL;
	b->request_signer[b->n_requests] = o->signer.p ? arena_jstr(b, &o->signer) : NULL;
	b->n_requests++;
	return 0;
}

static int decode_logs(struct mpc_block *b, const struct jstr *raw, struct mpci_match *m)
{
	struct jscan j;
	struct jstr s;
	size_t n = 0, i = 0;
	int r;

	m->logs = NULL;
	m->n_logs = 0;
	if (!raw->p)
		return 0;
	jscan_init(&j, raw->p, raw->n);
	if (jscan_arr(&j) < 0)
		return -1;
	while ((r = jscan_more(&j)) > 0) {
		if (jscan_skip(&j, NULL) < 0)
			return -1;
		n++;
	}
	if (!n)
		return 0;
	const char **logs = arena_alloc(&b->arena, n * sizeof(*logs), &b->bytes);
	if (!logs)
		return -1;
	jscan_init(&j, raw->p, raw->n);
	jscan_arr(&j);
	while (jscan_more(&j) > 0 && i < n) {
		if (jscan_peek(&j) == JSCAN_STR) {
			jscan_str(&j, &s);
			logs[i++] = arena_jstr(b, &s);
		} else {
			jscan_skip(&j, &s);
			logs[i++] = arena_str(b, s.p, s.n);
		}
		if (!logs[i - 1])
			return -1;
	}
	m->logs = logs;
	m->n_logs = i;
	return 0;
}

static int add_match(struct mpc_block *b, const struct mflt *f, const struct bd_outcome *o)
{
	struct mpci_match *m = &b->matches[b->n_matches];
	size_t alen = 0;

	memset(m, 0, sizeof(*m));
	m->struct_size = sizeof(*m);
	m->filter = f->index;
	m->receipt_id = arena_jstr(b, &o->receipt_id);
	m->predecessor_id = arena_jstr(b, &o->predecessor);
	m->receiver_id = arena_jstr(b, &o->receiver);
	m->method = arena_jstr(b, &o->method);
	m->args = decode_args(b, &o->args, &alen);
	m->args_len = alen;
	m->next_receipt_id = o->status == BD_ST_RECEIPT ? arena_jstr(b, &o->next_receipt_id) : NULL;
	m->success = o->status == BD_ST_VALUE || o->status == BD_ST_RECEIPT;
	m->status_json = arena_str(b, o->status_json.p, o->status_json.n);
	if (!m->receipt_id || !m->predecessor_id || !m->receiver_id || !m->method ||
	    !m->status_json || (o->status == BD_ST_RECEIPT && !m->next_receipt_id))
		return -1;
	if (!m->args) {
		/* args that are not base64 cannot be shown decoded; keep the text */
		m->args = arena_jstr(b, &o->args);
		m->args_len = m->args ? strlen(m->args) : 0;
		if (!m->args)
			return -1;
	}
	if (decode_logs(b, &o->logs, m) < 0)
		return -1;
	b->n_matches++;
	return 0;
}

void mpc_block_free(struct mpc_block *b)
{
	if (!b)
		return;
	while (b->arena) {
		struct mpc_arena *n = b->arena->next;
		free(b->arena);
		b->arena = n;
	}
	free(b);
}

struct mpc_block *mpc_events_extract(const struct mpc_matcher *m, const struct blockdoc *d)
{
	struct mpc_block *b = calloc(1, sizeof(*b));
	size_t n_req = 0, n_comp = 0, n_match = 0, i, k;
	size_t *cand = NULL, n_cand = 0;
	const char *c = m->contract;

	if (!b)
		return NULL;
	b->bytes = sizeof(*b);
	b->height = d->height;
	b->prev_height = d->prev_height;
	b->timestamp_nanosec = d->timestamp_nanosec;
	memcpy(b->hash, d->hash, sizeof(b->hash));
	memcpy(b->prev_hash, d->prev_hash, sizeof(b->prev_hash));
	memcpy(b->last_final_block, d->last_final_block, sizeof(b->last_final_block));
	memcpy(b->hash_bin, d->hash_bin, 32);
	memcpy(b->prev_hash_bin, d->prev_hash_bin, 32);
	memcpy(b->last_final_bin, d->last_final_bin, 32);
	memcpy(b->entropy, d->random_value, 32);
	b->n_outcomes = (uint32_t)d->n_outs;

	/* First pass: which outcomes concern the contract or a filter account at all. */
	for (i = 0; i < d->n_outs; i++) {
		const struct bd_outcome *o = &d->outs[i];
		int hit = c && touches(o, c);
		for (k = 0; !hit && k < m->n; k++)
			hit = touches(o, m->f[k].account);
		if (!hit)
			continue;
		if (!cand && !(cand = malloc(d->n_outs * sizeof(*cand))))
			goto oom;
		cand[n_cand++] = i;
		if (c && o->single_fc) {
			for (k = 0; k < 3; k++) {
				if (jstr_eq(&o->method, request_methods[k]) && o->status == BD_ST_RECEIPT &&
				    jstr_eq(&o->executor, c))
					n_req++;
				if (jstr_eq(&o->method, completion_methods[k]) && jstr_eq(&o->receiver, c))
					n_comp++;
			}
		}
		for (k = 0; k < m->n; k++)
			n_match += (size_t)filter_matches(&m->f[k], o);
	}
	if (n_req) {
		b->requests = arena_alloc(&b->arena, n_req * sizeof(*b->requests), &b->bytes);
		b->request_tx = arena_alloc(&b->arena, n_req * sizeof(char *), &b->bytes);
		b->request_signer = arena_alloc(&b->arena, n_req * sizeof(char *), &b->bytes);
		if (!b->requests || !b->request_tx || !b->request_signer)
			goto oom;
	}
	if (n_comp && !(b->completions = arena_alloc(&b->arena, n_comp * sizeof(*b->completions),
						      &b->bytes)))
		goto oom;
	if (n_match && !(b->matches = arena_alloc(&b->arena, n_match * sizeof(*b->matches),
						   &b->bytes)))
		goto oom;

	for (i = 0; i < n_cand; i++) {
		const struct bd_outcome *o = &d->outs[cand[i]];
		if (!c || !o->single_fc)
			continue;
		for (k = 0; k < 3; k++) {
			if (jstr_eq(&o->method, request_methods[k]) && o->status == BD_ST_RECEIPT &&
			    jstr_eq(&o->executor, c) && add_request(b, o, (int)k, n_req) < 0)
				goto oom;
			if (jstr_eq(&o->method, completion_methods[k]) && jstr_eq(&o->receiver, c)) {
				struct mpci_completion *x = &b->completions[b->n_completions++];
				memset(x, 0, sizeof(*x));
				x->struct_size = sizeof(*x);
				x->kind = (int)k;
				x->id = arena_jstr(b, &o->receipt_id);
				x->success = o->status == BD_ST_VALUE || o->status == BD_ST_RECEIPT;
				if (!x->id)
					goto oom;
			}
		}
		if (jstr_eq(&o->method, "fail_on_timeout") && jstr_eq(&o->receiver, c))
			b->n_timeouts++;
	}

	/* Filter matches, grouped by subscriber in the order subscribers registered. */
	if (n_match) {
		size_t max_groups = m->n, g;
		b->groups = arena_alloc(&b->arena, max_groups * sizeof(*b->groups), &b->bytes);
		if (!b->groups)
			goto oom;
		for (k = 0; k < m->n; k++) {
			size_t sub = m->f[k].sub;
			for (g = 0; g < b->n_groups && b->groups[g].sub != sub; g++)
				;
			if (g < b->n_groups)
				continue;	/* this subscriber is done */
			struct mpc_match_group *grp = &b->groups[b->n_groups];
			grp->sub = sub;
			grp->start = b->n_matches;
			for (i = 0; i < n_cand; i++) {
				const struct bd_outcome *o = &d->outs[cand[i]];
				for (size_t f = k; f < m->n; f++)
					if (m->f[f].sub == sub && filter_matches(&m->f[f], o) &&
					    add_match(b, &m->f[f], o) < 0)
						goto oom;
			}
			grp->n = b->n_matches - grp->start;
			if (grp->n)
				b->n_groups++;
		}
	}
	free(cand);
	return b;
oom:
	free(cand);
	mpc_block_free(b);
	return NULL;
}
