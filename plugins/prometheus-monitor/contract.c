/* Parsers for the MPC contract's views (see contract.h).  Shapes follow the
 * contract's DTOs (3.10 and later, plus the older `curve` / `sign_pk`
 * fields, which are ignored).  cJSON's global hooks are left alone. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"

#define MAX_VIEW_BYTES (16u << 20)
#define MAX_ITEMS 4096

const char *const contract_phase_names[CONTRACT_N_PHASES] = {
	"NotInitialized", "Initializing", "Running", "Resharing",
};

struct pctx {
	char *err;
	size_t errsz;
	uint64_t height;
};

static int fail(struct pctx *c, const char *path, const char *what)
{
	snprintf(c->err, c->errsz, "%s: %s", path, what);
	return -1;
}

static const cJSON *member(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* A JSON number that is a whole number in 0..2^53. */
static int json_u64(const cJSON *j, uint64_t *out)
{
	if (!cJSON_IsNumber(j))
		return -1;
	double v = j->valuedouble;
	if (!(v >= 0) || v > 9007199254740992.0 || v != floor(v))
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int need_u64(struct pctx *c, const cJSON *o, const char *key,
		    const char *path, uint64_t *out)
{
	char p[200];
	if (json_u64(member(o, key), out) == 0)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	return fail(c, p, member(o, key) ? "not a whole number in 0..2^53" : "missing");
}

static const cJSON *need_obj(struct pctx *c, const cJSON *o, const char *key,
			     const char *path)
{
	char p[200];
	const cJSON *v = member(o, key);
	if (cJSON_IsObject(v))
		return v;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	fail(c, p, v ? "not an object" : "missing");
	return NULL;
}

static const cJSON *need_array(struct pctx *c, const cJSON *o, const char *key,
			       const char *path)
{
	char p[200];
	const cJSON *v = member(o, key);
	if (cJSON_IsArray(v) && cJSON_GetArraySize(v) <= MAX_ITEMS)
		return v;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	fail(c, p, !v ? "missing" : cJSON_IsArray(v) ? "too many entries" : "not an array");
	return NULL;
}

/* Copy a string, truncating (on a UTF-8 boundary) to fit. */
static void copy_str(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);
	if (len >= n) {
		len = n - 1;
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = 0;
}

static cJSON *parse(struct pctx *c, const char *json, size_t len, const char *what)
{
	if (!json || len > MAX_VIEW_BYTES) {
		fail(c, what, json ? "larger than 16 MiB" : "no value");
		return NULL;
	}
	cJSON *doc = cJSON_ParseWithLength(json, len);
	if (!doc)
		fail(c, what, "not valid JSON");
	return doc;
}

static size_t object_size(const cJSON *o)
{
	size_t n = 0;
	for (const cJSON *it = cJSON_IsObject(o) ? o->child : NULL; it; it = it->next)
		n++;
	return n;
}

/* ---- state ---- */

/* Params = { participants: { next_id, participants: [[acct, id, info]] }, threshold } */
static int parse_params(struct pctx *c, const cJSON *params, const char *path,
			struct contract_participant **out, size_t *n,
			uint64_t *threshold)
{
	char p[200];
	snprintf(p, sizeof(p), "%s.participants", path);
	const cJSON *ps = need_obj(c, params, "participants", path);
	if (!ps || need_u64(c, params, "threshold", path, threshold) < 0)
		return -1;
	const cJSON *list = need_array(c, ps, "participants", p);
	if (!list)
		return -1;
	size_t cnt = (size_t)cJSON_GetArraySize(list), i = 0;
	struct contract_participant *arr = calloc(cnt ? cnt : 1, sizeof(*arr));
	if (!arr)
		return fail(c, path, "out of memory");
	const cJSON *e;
	cJSON_ArrayForEach(e, list) {
		char ep[240];
		uint64_t id;
		snprintf(ep, sizeof(ep), "%s.participants[%zu]", p, i);
		const cJSON *acct = cJSON_GetArrayItem(e, 0), *pid = cJSON_GetArrayItem(e, 1),
			    *info = cJSON_GetArrayItem(e, 2);
		if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 3 || !cJSON_IsString(acct) ||
		    json_u64(pid, &id) < 0 || id > UINT32_MAX || !cJSON_IsObject(info)) {
			free(arr);
			return fail(c, ep, "expected [account_id, participant_id, {url, tls_public_key}]");
		}
		if (strlen(acct->valuestring) == 0 ||
		    strlen(acct->valuestring) > CONTRACT_MAX_ACCOUNT) {
			free(arr);
			return fail(c, ep, "account id is empty or longer than 64 bytes");
		}
		copy_str(arr[i].account, sizeof(arr[i].account), acct->valuestring);
		arr[i].id = (uint32_t)id;
		const cJSON *url = member(info, "url"), *tls = member(info, "tls_public_key");
		if (!tls)
			tls = member(info, "sign_pk"); /* before 3.10 */
		if (cJSON_IsString(url))
			copy_str(arr[i].url, sizeof(arr[i].url), url->valuestring);
		if (cJSON_IsString(tls))
			copy_str(arr[i].tls_key, sizeof(arr[i].tls_key), tls->valuestring);
		i++;
	}
	*out = arr;
	*n = cnt;
	return 0;
}

static int parse_domain(struct pctx *c, const cJSON *d, const char *path,
			struct contract_domain *out)
{
	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(d))
		return fail(c, path, "not an object");
	if (need_u64(c, d, "id", path, &out->id) < 0)
		return -1;
	const cJSON *proto = member(d, "protocol"), *purpose = member(d, "purpose");
	if (cJSON_IsString(proto))
		copy_str(out->protocol, sizeof(out->protocol), proto->valuestring);
	if (cJSON_IsString(purpose))
		copy_str(out->purpose, sizeof(out->purpose), purpose->valuestring);
	out->has_threshold = json_u64(member(d, "reconstruction_threshold"),
				      &out->reconstruction_threshold) == 0;
	return 0;
}

/* DomainRegistry = { domains: [DomainConfig], next_domain_id } */
static int parse_registry(struct pctx *c, const cJSON *reg, const char *path,
			  struct contract_state *s)
{
	char p[200];
	snprintf(p, sizeof(p), "%s.domains", path);
	const cJSON *list = need_array(c, reg, "domains", path);
	if (!list)
		return -1;
	size_t cnt = (size_t)cJSON_GetArraySize(list), i = 0;
	s->domains = calloc(cnt ? cnt : 1, sizeof(*s->domains));
	if (!s->domains)
		return fail(c, path, "out of memory");
	const cJSON *d;
	cJSON_ArrayForEach(d, list) {
		char dp[240];
		snprintf(dp, sizeof(dp), "%s[%zu]", p, i);
		if (parse_domain(c, d, dp, &s->domains[i]) < 0)
			return -1;
		i++;
		s->n_domains = i;
	}
	return 0;
}

/* [KeyForDomain{domain_id, key, attempt}]: attach attempts to the domains. */
static int parse_keys(struct pctx *c, const cJSON *keys, const char *path,
		      struct contract_state *s)
{
	size_t i = 0;
	const cJSON *k;
	if (!cJSON_IsArray(keys) || cJSON_GetArraySize(keys) > MAX_ITEMS)
		return fail(c, path, "not an array");
	cJSON_ArrayForEach(k, keys) {
		char kp[240];
		uint64_t dom, attempt;
		snprintf(kp, sizeof(kp), "%s[%zu]", path, i++);
		if (need_u64(c, k, "domain_id", kp, &dom) < 0 ||
		    need_u64(c, k, "attempt", kp, &attempt) < 0)
			return -1;
		for (size_t j = 0; j < s->n_domains; j++)
			if (s->domains[j].id == dom) {
				s->domains[j].has_key = 1;
				s->domains[j].attempt = attempt;
			}
	}
	return 0;
}

static int parse_running(struct pctx *c, const cJSON *r, const char *path,
			 struct contract_state *s)
{
	char p[200];
	const cJSON *reg = need_obj(c, r, "domains", path);
	const cJSON *keyset = reg ? need_obj(c, r, "keyset", path) : NULL;
	const cJSON *params = keyset ? need_obj(c, r, "parameters", path) : NULL;
	if (!params)
		return -1;
	snprintf(p, sizeof(p), "%s.domains", path);
	if (parse_registry(c, reg, p, s) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s.keyset", path);
	if (need_u64(c, keyset, "epoch_id", p, &s->epoch) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s.keyset.domains", path);
	if (parse_keys(c, member(keyset, "domains"), p, s) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s.parameters", path);
	if (parse_params(c, params, p, &s->participants, &s->n_participants,
			 &s->threshold) < 0)
		return -1;
	s->votes_parameters = object_size(member(member(r, "parameters_votes"),
						 "proposal_by_account"));
	s->votes_add_domains = object_size(member(member(r, "add_domains_votes"),
						  "proposal_by_account"));
	return 0;
}

/* KeyEvent = { epoch_id, domain, parameters, instance|null, next_attempt_id } */
static int parse_key_event(struct pctx *c, const cJSON *ke, const char *path,
			   struct contract_state *s, struct contract_participant **parts,
			   size_t *n_parts)
{
	char p[200];
	struct contract_domain dom;
	uint64_t next;
	const cJSON *d = need_obj(c, ke, "domain", path);
	const cJSON *params = d ? need_obj(c, ke, "parameters", path) : NULL;
	if (!params || need_u64(c, ke, "epoch_id", path, &s->ke_epoch) < 0 ||
	    need_u64(c, ke, "next_attempt_id", path, &next) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s.domain", path);
	if (parse_domain(c, d, p, &dom) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s.parameters", path);
	if (parse_params(c, params, p, parts, n_parts, &s->ke_threshold) < 0)
		return -1;
	s->has_key_event = 1;
	s->ke_domain = dom.id;
	s->ke_participants = *n_parts;
	s->ke_attempt = next;
	const cJSON *inst = member(ke, "instance");
	if (inst && !cJSON_IsNull(inst)) {
		uint64_t attempt, expires;
		snprintf(p, sizeof(p), "%s.instance", path);
		if (need_u64(c, inst, "attempt_id", p, &attempt) < 0 ||
		    need_u64(c, inst, "expires_on", p, &expires) < 0)
			return -1;
		if (c->height < expires) {
			s->ke_started = 1;
			s->ke_attempt = attempt;
		}
	}
	return 0;
}

static int parse_initializing(struct pctx *c, const cJSON *in, struct contract_state *s)
{
	const char *path = "Initializing";
	const cJSON *reg = need_obj(c, in, "domains", path);
	const cJSON *ke = reg ? need_obj(c, in, "generating_key", path) : NULL;
	const cJSON *gen = ke ? need_array(c, in, "generated_keys", path) : NULL;
	if (!gen || need_u64(c, in, "epoch_id", path, &s->epoch) < 0 ||
	    parse_registry(c, reg, "Initializing.domains", s) < 0 ||
	    parse_keys(c, gen, "Initializing.generated_keys", s) < 0 ||
	    parse_key_event(c, ke, "Initializing.generating_key", s, &s->participants,
			    &s->n_participants) < 0)
		return -1;
	/* The generating set is also the one in use (adding domains keeps it). */
	s->threshold = s->ke_threshold;
	s->ke_keys_done = (size_t)cJSON_GetArraySize(gen);
	const cJSON *cancel = member(in, "cancel_votes");
	s->votes_cancel = cJSON_IsArray(cancel) ? (size_t)cJSON_GetArraySize(cancel) : 0;
	return 0;
}

static int parse_resharing(struct pctx *c, const cJSON *rs, struct contract_state *s)
{
	const char *path = "Resharing";
	struct contract_participant *newset = NULL;
	size_t n_new = 0;
	const cJSON *prev = need_obj(c, rs, "previous_running_state", path);
	const cJSON *ke = prev ? need_obj(c, rs, "resharing_key", path) : NULL;
	const cJSON *done = ke ? need_array(c, rs, "reshared_keys", path) : NULL;
	if (!done || parse_running(c, prev, "Resharing.previous_running_state", s) < 0)
		return -1;
	int rc = parse_key_event(c, ke, "Resharing.resharing_key", s, &newset, &n_new);
	free(newset);
	if (rc < 0)
		return -1;
	s->ke_keys_done = (size_t)cJSON_GetArraySize(done);
	const cJSON *cancel = member(rs, "cancellation_requests");
	s->votes_cancel = cJSON_IsArray(cancel) ? (size_t)cJSON_GetArraySize(cancel) : 0;
	return 0;
}

void contract_state_free(struct contract_state *s)
{
	free(s->participants);
	free(s->domains);
	memset(s, 0, sizeof(*s));
}

int contract_parse_state(const char *json, size_t len, uint64_t height,
			 struct contract_state *out, char *err, size_t errsz)
{
	struct pctx c = { err, errsz, height };
	int rc = -1;
	memset(out, 0, sizeof(*out));
	cJSON *doc = parse(&c, json, len, "state");
	if (!doc)
		return -1;
	const cJSON *v;
	if (cJSON_IsString(doc) && strcmp(doc->valuestring, "NotInitialized") == 0) {
		out->phase = CONTRACT_NOT_INITIALIZED;
		rc = 0;
	} else if ((v = member(doc, "Running")) && object_size(doc) == 1) {
		out->phase = CONTRACT_RUNNING;
		rc = parse_running(&c, v, "Running", out);
	} else if ((v = member(doc, "Resharing")) && object_size(doc) == 1) {
		out->phase = CONTRACT_RESHARING;
		rc = parse_resharing(&c, v, out);
	} else if ((v = member(doc, "Initializing")) && object_size(doc) == 1) {
		out->phase = CONTRACT_INITIALIZING;
		rc = parse_initializing(&c, v, out);
	} else {
		fail(&c, "state", "not one of \"NotInitialized\", {\"Initializing\"}, "
		     "{\"Running\"}, {\"Resharing\"}");
	}
	cJSON_Delete(doc);
	if (rc < 0)
		contract_state_free(out);
	return rc;
}

/* ---- the other views ---- */

int contract_parse_hashes(const char *json, size_t len, size_t *count,
			  double *min_expiry, double *max_expiry, char *err,
			  size_t errsz)
{
	struct pctx c = { err, errsz, 0 };
	cJSON *doc = parse(&c, json, len, "hashes");
	size_t i = 0;
	*count = 0;
	*min_expiry = *max_expiry = 0;
	if (!doc)
		return -1;
	if (!cJSON_IsArray(doc)) {
		cJSON_Delete(doc);
		return fail(&c, "hashes", "not an array");
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, doc) {
		uint64_t exp;
		char p[64];
		snprintf(p, sizeof(p), "hashes[%zu]", i++);
		if (cJSON_IsString(e))
			continue; /* before 3.14: bare hex strings */
		if (!cJSON_IsString(member(e, "image_hash"))) {
			cJSON_Delete(doc);
			return fail(&c, p, "neither a hex string nor {image_hash, expiry_timestamp_seconds}");
		}
		if (json_u64(member(e, "expiry_timestamp_seconds"), &exp) == 0) {
			if (*min_expiry == 0 || (double)exp < *min_expiry)
				*min_expiry = (double)exp;
			if ((double)exp > *max_expiry)
				*max_expiry = (double)exp;
		}
	}
	*count = i;
	cJSON_Delete(doc);
	return 0;
}

int contract_parse_tee_accounts(const char *json, size_t len, size_t *count,
				char **accounts, char *err, size_t errsz)
{
	struct pctx c = { err, errsz, 0 };
	cJSON *doc = parse(&c, json, len, "get_tee_accounts");
	size_t i = 0, bytes = 1;
	*count = 0;
	*accounts = NULL;
	if (!doc)
		return -1;
	if (!cJSON_IsArray(doc)) {
		cJSON_Delete(doc);
		return fail(&c, "get_tee_accounts", "not an array");
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, doc) {
		const cJSON *a = member(e, "account_id");
		char p[64];
		snprintf(p, sizeof(p), "get_tee_accounts[%zu].account_id", i++);
		if (!cJSON_IsString(a) || strlen(a->valuestring) > CONTRACT_MAX_ACCOUNT) {
			cJSON_Delete(doc);
			return fail(&c, p, "not an account id");
		}
		bytes += strlen(a->valuestring) + 1;
	}
	char *buf = malloc(bytes), *w = buf;
	if (!buf) {
		cJSON_Delete(doc);
		return fail(&c, "get_tee_accounts", "out of memory");
	}
	cJSON_ArrayForEach(e, doc) {
		const char *a = member(e, "account_id")->valuestring;
		size_t l = strlen(a) + 1;
		memcpy(w, a, l);
		w += l;
	}
	*w = 0;
	*count = i;
	*accounts = buf;
	cJSON_Delete(doc);
	return 0;
}

int contract_parse_migrations(const char *json, size_t len, size_t *backups,
			      size_t *migrations, char *err, size_t errsz)
{
	struct pctx c = { err, errsz, 0 };
	cJSON *doc = parse(&c, json, len, "migration_info");
	*backups = *migrations = 0;
	if (!doc)
		return -1;
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return fail(&c, "migration_info", "not an object");
	}
	for (const cJSON *e = doc->child; e; e = e->next) {
		char p[120];
		snprintf(p, sizeof(p), "migration_info[\"%.64s\"]", e->string);
		if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2) {
			cJSON_Delete(doc);
			return fail(&c, p, "not [backup_service_info|null, destination_node_info|null]");
		}
		if (!cJSON_IsNull(cJSON_GetArrayItem(e, 0)))
			(*backups)++;
		if (!cJSON_IsNull(cJSON_GetArrayItem(e, 1)))
			(*migrations)++;
	}
	cJSON_Delete(doc);
	return 0;
}

int contract_parse_attestation(const char *json, size_t len, int *present,
			       double *expiry, char *err, size_t errsz)
{
	struct pctx c = { err, errsz, 0 };
	cJSON *doc = parse(&c, json, len, "get_attestation");
	*present = 0;
	*expiry = 0;
	if (!doc)
		return -1;
	if (cJSON_IsNull(doc)) {
		cJSON_Delete(doc);
		return 0;
	}
	if (!cJSON_IsObject(doc) || object_size(doc) != 1) {
		cJSON_Delete(doc);
		return fail(&c, "get_attestation", "not null, {\"Mock\": ...} or {\"Dstack\": ...}");
	}
	*present = 1;
	/* Dstack and Mock WithConstraints carry an expiry; Mock Valid has none. */
	const cJSON *body = doc->child;
	const cJSON *wc = member(body, "WithConstraints");
	uint64_t exp;
	if (json_u64(member(wc ? wc : body, "expiry_timestamp_seconds"), &exp) == 0)
		*expiry = (double)exp;
	cJSON_Delete(doc);
	return 0;
}

int contract_parse_version(const char *json, size_t len, char *out,
			   size_t outsz, char *err, size_t errsz)
{
	struct pctx c = { err, errsz, 0 };
	cJSON *doc = parse(&c, json, len, "version");
	if (!doc)
		return -1;
	if (!cJSON_IsString(doc) || !*doc->valuestring || strlen(doc->valuestring) > 64) {
		cJSON_Delete(doc);
		return fail(&c, "version", "not a version string");
	}
	copy_str(out, outsz, doc->valuestring);
	cJSON_Delete(doc);
	return 0;
}
