/* accounts: accounts, access keys and nonces; the genesis file; deterministic test keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "nearsim.h"

static const char *const names[] = { "frodo", "sam", "merry", "pippin", "aragorn", "legolas",
				     "gimli", "boromir", "gandalf" };

const char *participant_name(int i, char *buf, size_t cap)
{
	if (i < (int)(sizeof(names) / sizeof(names[0])))
		snprintf(buf, cap, "%s.test.near", names[i]);
	else
		snprintf(buf, cap, "node%d.test.near", i);
	return buf;
}

void key_for(const char *account, const char *role, uint8_t pk[32], uint8_t sk[64])
{
	uint8_t seed[32];
	char in[160];

	if (!role || !*role || !strcmp(role, "full")) {
		ed_keypair_from_name(pk, sk, account);
		return;
	}
	snprintf(in, sizeof(in), "nearsim:%s:%s", role, account);
	sha256(seed, in, strlen(in));
	ed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
}

struct ns_account *acct_find(struct ns_chain *c, const char *id)
{
	int i;

	if (!id)
		return NULL;
	for (i = 0; i < c->naccounts; i++)
		if (!strcmp(c->accounts[i].id, id))
			return &c->accounts[i];
	return NULL;
}

struct ns_account *acct_add(struct ns_chain *c, const char *id, u128 amount)
{
	struct ns_account *a;

	if ((a = acct_find(c, id)))
		return a;
	if (c->naccounts == c->capaccounts) {
		int cap = c->capaccounts ? c->capaccounts * 2 : 16;
		struct ns_account *na = realloc(c->accounts, (size_t)cap * sizeof(*na));
		if (!na)
			return NULL;
		c->accounts = na;
		c->capaccounts = cap;
	}
	a = &c->accounts[c->naccounts];
	memset(a, 0, sizeof(*a));
	if (!(a->id = strdup(id)))
		return NULL;
	a->amount = amount;
	c->naccounts++;
	return a;
}

struct ns_key *acct_key(struct ns_account *a, const uint8_t pk[32])
{
	int i;

	for (i = 0; a && i < a->nkeys; i++)
		if (!memcmp(a->keys[i].pk, pk, 32))
			return &a->keys[i];
	return NULL;
}

void perm_free(struct ns_perm *p)
{
	int i;

	free(p->receiver);
	for (i = 0; i < p->nmethods; i++)
		free(p->methods[i]);
	free(p->methods);
	memset(p, 0, sizeof(*p));
}

int perm_copy(struct ns_perm *dst, const struct ns_perm *src)
{
	int i;

	memset(dst, 0, sizeof(*dst));
	dst->full = src->full;
	dst->has_allowance = src->has_allowance;
	dst->allowance = src->allowance;
	if (src->receiver && !(dst->receiver = strdup(src->receiver)))
		return -1;
	if (src->nmethods) {
		if (!(dst->methods = calloc((size_t)src->nmethods, sizeof(char *))))
			return -1;
		for (i = 0; i < src->nmethods; i++) {
			if (!(dst->methods[i] = strdup(src->methods[i])))
				return -1;
			dst->nmethods++;
		}
	}
	return 0;
}

int acct_add_key(struct ns_account *a, const uint8_t pk[32], uint64_t nonce, const struct ns_perm *perm)
{
	struct ns_key *k = acct_key(a, pk), *nk;

	if (k) {
		perm_free(&k->perm);
		k->nonce = nonce;
		k->nhist = 0;
		return perm_copy(&k->perm, perm);
	}
	nk = realloc(a->keys, (size_t)(a->nkeys + 1) * sizeof(*nk));
	if (!nk)
		return -1;
	a->keys = nk;
	k = &a->keys[a->nkeys++];
	memset(k, 0, sizeof(*k));
	memcpy(k->pk, pk, 32);
	k->nonce = nonce;
	return perm_copy(&k->perm, perm);
}

void key_set_nonce(struct ns_key *k, uint64_t height, uint64_t nonce)
{
	if (!k->nhist || k->hist_h[k->nhist - 1] != height) {
		if (k->nhist == NS_KEY_HIST) {
			/* older blocks than the oldest kept change show its value (good enough) */
			memmove(k->hist_h, k->hist_h + 1, (NS_KEY_HIST - 1) * sizeof(k->hist_h[0]));
			memmove(k->hist_n, k->hist_n + 1, (NS_KEY_HIST - 1) * sizeof(k->hist_n[0]));
			k->nhist--;
		}
		k->hist_h[k->nhist] = height;
		k->hist_n[k->nhist++] = k->nonce;
	}
	k->nonce = nonce;
}

uint64_t key_nonce_at(const struct ns_key *k, uint64_t height)
{
	int i;

	for (i = 0; i < k->nhist; i++)
		if (k->hist_h[i] > height)
			return k->hist_n[i];
	return k->nonce;
}

void acct_del_key(struct ns_account *a, const uint8_t pk[32])
{
	int i;

	for (i = 0; i < a->nkeys; i++) {
		if (memcmp(a->keys[i].pk, pk, 32))
			continue;
		perm_free(&a->keys[i].perm);
		memmove(&a->keys[i], &a->keys[i + 1], (size_t)(a->nkeys - i - 1) * sizeof(a->keys[0]));
		a->nkeys--;
		return;
	}
}

void acct_free_all(struct ns_chain *c)
{
	int i, k;

	for (i = 0; i < c->naccounts; i++) {
		for (k = 0; k < c->accounts[i].nkeys; k++)
			perm_free(&c->accounts[i].keys[k].perm);
		free(c->accounts[i].keys);
		free(c->accounts[i].id);
	}
	free(c->accounts);
	c->accounts = NULL;
	c->naccounts = c->capaccounts = 0;
}


static u128 near_amount(unsigned n)
{
	u128 one = (u128)1000000000000ULL * (u128)1000000000000ULL; /* 10^24 yocto */

	return one * n;
}

static int add_full_key(struct ns_account *a, const char *name)
{
	uint8_t pk[32], sk[64];
	struct ns_perm full = { .full = true };
	int r;

	key_for(name, NULL, pk, sk);
	r = acct_add_key(a, pk, 0, &full);
	sodium_memzero(sk, sizeof(sk));
	return r;
}

int genesis_default(struct ns_chain *c)
{
	const struct ns_config *cfg = c->cfg;
	char name[80];
	int i;
	struct ns_account *a;

	if (!(a = acct_add(c, "test.near", near_amount(1000000))) || add_full_key(a, "test.near"))
		return -1;
	if (!(a = acct_add(c, c->contract_id, near_amount(1000))) || add_full_key(a, c->contract_id))
		return -1;
	a->has_code = true;
	for (i = 0; i < cfg->participants; i++) {
		uint8_t pk[32], sk[64];
		char *m = NULL;
		struct ns_perm fc = { .full = false, .receiver = c->contract_id, .methods = &m, .nmethods = 0 };
		participant_name(i, name, sizeof(name));
		if (!(a = acct_add(c, name, near_amount(100))) || add_full_key(a, name))
			return -1;
		key_for(name, "signer", pk, sk);
		sodium_memzero(sk, sizeof(sk));
		if (acct_add_key(a, pk, 0, &fc))
			return -1;
	}
	for (i = 0; i < cfg->users; i++) {
		/* an app key as wallets create them: limited allowance, two methods */
		char *methods[2] = { "sign", "request_app_private_key" };
		struct ns_perm app = { .full = false, .has_allowance = true, .allowance = near_amount(1) / 4,
				       .receiver = c->contract_id, .methods = methods, .nmethods = 2 };
		uint8_t pk[32], sk[64];
		snprintf(name, sizeof(name), "user%d.test.near", i);
		if (!(a = acct_add(c, name, near_amount(100))) || add_full_key(a, name))
			return -1;
		key_for(name, "app", pk, sk);
		sodium_memzero(sk, sizeof(sk));
		if (acct_add_key(a, pk, 0, &app))
			return -1;
	}
	c->contract = cstate_new_default(c);
	return c->contract ? 0 : -1;
}

static int parse_perm(const cJSON *j, struct ns_perm *p, char *err, size_t errlen)
{
	const cJSON *fc, *x;

	memset(p, 0, sizeof(*p));
	if (!j || (cJSON_IsString(j) && !strcmp(j->valuestring, "FullAccess"))) {
		p->full = true;
		return 0;
	}
	if (!(fc = cJSON_GetObjectItemCaseSensitive(j, "FunctionCall")) || !cJSON_IsObject(fc)) {
		snprintf(err, errlen, "permission must be \"FullAccess\" or {\"FunctionCall\":{...}}");
		return -1;
	}
	x = cJSON_GetObjectItemCaseSensitive(fc, "receiver_id");
	if (!cJSON_IsString(x)) {
		snprintf(err, errlen, "FunctionCall permission needs a receiver_id string");
		return -1;
	}
	p->receiver = strdup(x->valuestring);
	x = cJSON_GetObjectItemCaseSensitive(fc, "allowance");
	if (cJSON_IsString(x)) {
		p->has_allowance = true;
		if (u128_parse(&p->allowance, x->valuestring)) {
			snprintf(err, errlen, "allowance is not a decimal u128");
			return -1;
		}
	}
	x = cJSON_GetObjectItemCaseSensitive(fc, "method_names");
	if (cJSON_IsArray(x)) {
		const cJSON *m;
		int n = cJSON_GetArraySize(x);
		p->methods = calloc((size_t)n + 1, sizeof(char *));
		cJSON_ArrayForEach(m, x) if (cJSON_IsString(m))
			p->methods[p->nmethods++] = strdup(m->valuestring);
	}
	return 0;
}

int genesis_load(struct ns_chain *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *text;
	long n;
	cJSON *root, *accts, *a, *x;
	int rc = -1;

	if (!f) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n < 0 || n > 64 << 20 || !(text = malloc((size_t)n + 1))) {
		fclose(f);
		snprintf(err, errlen, "unreadable or larger than 64 MiB");
		return -1;
	}
	if (fread(text, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(text);
		snprintf(err, errlen, "short read");
		return -1;
	}
	fclose(f);
	text[n] = 0;
	root = cJSON_Parse(text);
	free(text);
	if (!root || !cJSON_IsObject(root)) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}
	if (cJSON_IsString(x = cJSON_GetObjectItemCaseSensitive(root, "chain_id")))
		snprintf(c->chain_id, sizeof(c->chain_id), "%s", x->valuestring);
	if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(root, "genesis_height"))
	    && x->valuedouble >= 1 && x->valuedouble < 9007199254740992.0)
		c->genesis_height = (uint64_t)x->valuedouble;
	accts = cJSON_GetObjectItemCaseSensitive(root, "accounts");
	if (!cJSON_IsArray(accts)) {
		snprintf(err, errlen, "\"accounts\" must be an array");
		goto out;
	}
	cJSON_ArrayForEach(a, accts) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "account_id");
		const cJSON *amt = cJSON_GetObjectItemCaseSensitive(a, "amount");
		const cJSON *keys = cJSON_GetObjectItemCaseSensitive(a, "keys"), *k;
		struct ns_account *acc;
		u128 amount = near_amount(100);
		if (!cJSON_IsString(id)) {
			snprintf(err, errlen, "an account has no account_id string");
			goto out;
		}
		if (cJSON_IsString(amt) && u128_parse(&amount, amt->valuestring)) {
			snprintf(err, errlen, "%s: amount is not a decimal u128 string", id->valuestring);
			goto out;
		}
		if (!(acc = acct_add(c, id->valuestring, amount)))
			goto out;
		acc->has_code = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "has_code"));
		cJSON_ArrayForEach(k, keys) {
			const cJSON *pks = cJSON_GetObjectItemCaseSensitive(k, "public_key");
			const cJSON *seed = cJSON_GetObjectItemCaseSensitive(k, "seed");
			const cJSON *role = cJSON_GetObjectItemCaseSensitive(k, "role");
			uint8_t pk[32], sk[64];
			struct ns_perm p;
			if (cJSON_IsString(pks)) {
				if (pk_parse(pk, pks->valuestring)) {
					snprintf(err, errlen, "%s: bad public_key %s", id->valuestring, pks->valuestring);
					goto out;
				}
			} else {
				key_for(cJSON_IsString(seed) ? seed->valuestring : id->valuestring,
					cJSON_IsString(role) ? role->valuestring : NULL, pk, sk);
				sodium_memzero(sk, sizeof(sk));
			}
			if (parse_perm(cJSON_GetObjectItemCaseSensitive(k, "permission"), &p, err, errlen)) {
				perm_free(&p);
				goto out;
			}
			if (acct_add_key(acc, pk, 0, &p)) {
				perm_free(&p);
				goto out;
			}
			perm_free(&p);
		}
	}
	x = cJSON_GetObjectItemCaseSensitive(root, "contract");
	if (cJSON_IsObject(x)) {
		const cJSON *cid = cJSON_GetObjectItemCaseSensitive(x, "account_id");
		if (cJSON_IsString(cid))
			snprintf(c->contract_id, sizeof(c->contract_id), "%s", cid->valuestring);
		if (!acct_find(c, c->contract_id) && !acct_add(c, c->contract_id, near_amount(1000)))
			goto out;
		acct_find(c, c->contract_id)->has_code = true;
		if (contract_load_genesis(c, x, err, errlen))
			goto out;
	} else {
		snprintf(err, errlen, "\"contract\" object missing");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

static void perm_render(struct jw *w, const struct ns_perm *p);

char *genesis_dump(struct ns_chain *c)
{
	struct jw w;
	int i, k;

	jw_init(&w, 4096);
	jw_obj(&w);
	jw_kstr(&w, "chain_id", c->chain_id);
	jw_ku64(&w, "genesis_height", c->genesis_height);
	jw_key(&w, "accounts");
	jw_arr(&w);
	for (i = 0; i < c->naccounts; i++) {
		struct ns_account *a = &c->accounts[i];
		jw_obj(&w);
		jw_kstr(&w, "account_id", a->id);
		jw_ku128(&w, "amount", a->amount);
		if (a->has_code)
			jw_kbool(&w, "has_code", true);
		jw_key(&w, "keys");
		jw_arr(&w);
		for (k = 0; k < a->nkeys; k++) {
			jw_obj(&w);
			jw_kpk(&w, "public_key", a->keys[k].pk);
			jw_key(&w, "permission");
			perm_render(&w, &a->keys[k].perm);
			jw_end_obj(&w);
		}
		jw_end_arr(&w);
		jw_end_obj(&w);
	}
	jw_end_arr(&w);
	jw_key(&w, "contract");
	contract_genesis_dump(c, &w);
	jw_end_obj(&w);
	return jw_take(&w, NULL);
}

static void perm_render(struct jw *w, const struct ns_perm *p)
{
	int i;

	if (p->full) {
		jw_str(w, "FullAccess");
		return;
	}
	jw_obj(w);
	jw_key(w, "FunctionCall");
	jw_obj(w);
	jw_key(w, "allowance");
	if (p->has_allowance)
		jw_u128_str(w, p->allowance);
	else
		jw_null(w);
	jw_key(w, "method_names");
	jw_arr(w);
	for (i = 0; i < p->nmethods; i++)
		jw_str(w, p->methods[i]);
	jw_end_arr(w);
	jw_kstr(w, "receiver_id", p->receiver);
	jw_end_obj(w);
	jw_end_obj(w);
}

void acct_perm_render(struct jw *w, const struct ns_perm *p);
void acct_perm_render(struct jw *w, const struct ns_perm *p) { perm_render(w, p); }

int print_key(const char *account, const char *role)
{
	uint8_t pk[32], sk[64];
	char pks[80], sks[120];

	key_for(account, role, pk, sk);
	pk_format(pks, sizeof(pks), pk);
	sk_format(sks, sizeof(sks), sk);
	printf("{\"account_id\":\"%s\",\"public_key\":\"%s\",\"private_key\":\"%s\"}\n", account, pks, sks);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(sks, sizeof(sks));
	return 0;
}
