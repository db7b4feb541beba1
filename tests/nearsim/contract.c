/* contract: a model of the MPC signer contract (3.14.0 view and call shapes): protocol
 * state, requests that yield and are resumed by respond*, 200-block timeouts, resharing,
 * attestations (Dstack stored WITHOUT quote verification), backup services, migrations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nearsim.h"

enum { PHASE_NOT_INIT, PHASE_RUNNING, PHASE_RESHARING };
enum { REQ_SIGN, REQ_CKD, REQ_FOREIGN, REQ_KINDS };

struct ns_participant { char *account; uint32_t id; char *url; uint8_t tls[32]; };
struct ns_attest { uint8_t tls[32]; char *account; uint8_t account_pk[32]; char *json; };
struct ns_entry { char *account; char *json; uint8_t pk[32]; };
struct ns_pend { char *key; int kind; uint8_t data_id[32]; };

struct ns_cstate {
	int ref;
	int phase;
	uint64_t epoch, threshold, reshare_start;
	uint32_t next_id;
	struct ns_participant *parts;
	int nparts;
	struct ns_attest *att;
	int natt;
	struct ns_entry *backup;
	int nbackup;
	struct ns_entry *migr;
	int nmigr;
	struct ns_pend *pend;
	int npend;
	char **images, **launchers;
	int nimages, nlaunchers;
};

struct ns_request {
	int kind;
	char *key;                /* canonical request JSON: the pending map key and callback arg */
	uint8_t data_id[32];
	struct ns_receipt *cb;    /* the yielded callback receipt X */
	uint64_t created;
	bool auto_sent;
};

static const struct {
	const char *request, *respond, *callback, *pending_view;
} kinds[REQ_KINDS] = {
	{ "sign", "respond", "return_signature_and_clean_state_on_success", "get_pending_request" },
	{ "request_app_private_key", "respond_ckd", "return_ck_and_clean_state_on_success", "get_pending_ckd_request" },
	{ "verify_foreign_transaction", "respond_verify_foreign_tx",
	  "return_verify_foreign_tx_and_clean_state_on_success", "get_pending_verify_foreign_tx_request" },
};

/* Module state that is not part of a view snapshot (one chain per process). */
static struct {
	bool dirty;
	bool reshare_requested;
	uint64_t last_reshare_end;
	struct ns_vec reqs;       /* struct ns_request *, unresolved */
	unsigned rr;
} K;

static const char SECP_KEY[] = "secp256k1:3tFRbMqmoa6AAALMrEFAYCEoHcqKxeW38YptwowBVBtXK1vo36HDbUWuR6EZmoK4JcH6HDkNMGGqP1ouV7VZUWya";
static const char ED_KEY[] = "ed25519:G9hwngxWNKdmqMCmU1Yt6LPhFpayJeKFxyAV1HqMNLtF";
static const char ED_POINT[] = "[225,26,63,32,184,108,201,78,91,117,55,216,102,209,196,106,227,228,26,70,161,208,143,122,234,22,150,164,165,0,191,208]";
static const char BLS_KEY[] = "bls12381g2:3RQWGwhrtwbaRTSzb4kKP61FKsJC27zTqsPzKuda9q4xbkt42afkgamdyLqHFQsybmu1vqwXsCXUdAezZpU927qCVcAGK7gGWjHWeSqrVbSEBVyVdsbBPZ9JX2jxRrkHhTt";
static const char DEFAULT_IMAGE[] = "564a5aebc33495d5610626d23cb9e3da8e9d531d0edff9e38aa1ccaf059c15d3";
static const char DEFAULT_LAUNCHER[] = "615b9ee0e77ea5c3f914f7539490feae04f7a679055435f440e95699f3fb4d28";

static const char *const domain_protocol[3] = { "CaitSith", "Frost", "ConfidentialKeyDerivation" };
static const char *const domain_purpose[3] = { "Sign", "Sign", "CKD" };

bool contract_dirty_take(struct ns_chain *c);
bool contract_dirty_take(struct ns_chain *c)
{
	bool d = K.dirty;

	(void)c;
	K.dirty = false;
	return d;
}

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

/* ---------- state lifetime ---------- */
static void strv_free(char **v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void cstate_free(struct ns_cstate *s)
{
	int i;

	for (i = 0; i < s->nparts; i++) {
		free(s->parts[i].account);
		free(s->parts[i].url);
	}
	for (i = 0; i < s->natt; i++) {
		free(s->att[i].account);
		free(s->att[i].json);
	}
	for (i = 0; i < s->nbackup; i++) {
		free(s->backup[i].account);
		free(s->backup[i].json);
	}
	for (i = 0; i < s->nmigr; i++) {
		free(s->migr[i].account);
		free(s->migr[i].json);
	}
	for (i = 0; i < s->npend; i++)
		free(s->pend[i].key);
	free(s->parts);
	free(s->att);
	free(s->backup);
	free(s->migr);
	free(s->pend);
	strv_free(s->images, s->nimages);
	strv_free(s->launchers, s->nlaunchers);
	free(s);
}

struct ns_cstate *cstate_ref(struct ns_cstate *s)
{
	if (s)
		__atomic_add_fetch(&s->ref, 1, __ATOMIC_RELAXED);
	return s;
}

void cstate_unref(struct ns_cstate *s)
{
	if (s && __atomic_sub_fetch(&s->ref, 1, __ATOMIC_ACQ_REL) == 0)
		cstate_free(s);
}

static char **strv_dup(char **v, int n)
{
	char **d = calloc((size_t)n + 1, sizeof(char *));
	int i;

	for (i = 0; d && i < n; i++)
		d[i] = strdup(v[i]);
	return d;
}

struct ns_cstate *cstate_clone(const struct ns_cstate *s)
{
	struct ns_cstate *d = calloc(1, sizeof(*d));
	int i;

	if (!d)
		return NULL;
	*d = *s;
	d->ref = 1;
	d->parts = calloc((size_t)s->nparts + 1, sizeof(*d->parts));
	d->att = calloc((size_t)s->natt + 1, sizeof(*d->att));
	d->backup = calloc((size_t)s->nbackup + 1, sizeof(*d->backup));
	d->migr = calloc((size_t)s->nmigr + 1, sizeof(*d->migr));
	d->npend = 0;
	d->pend = calloc((size_t)K.reqs.n + 1, sizeof(*d->pend));
	for (i = 0; i < s->nparts; i++) {
		d->parts[i] = s->parts[i];
		d->parts[i].account = xstrdup(s->parts[i].account);
		d->parts[i].url = xstrdup(s->parts[i].url);
	}
	for (i = 0; i < s->natt; i++) {
		d->att[i] = s->att[i];
		d->att[i].account = xstrdup(s->att[i].account);
		d->att[i].json = xstrdup(s->att[i].json);
	}
	for (i = 0; i < s->nbackup; i++) {
		d->backup[i] = s->backup[i];
		d->backup[i].account = xstrdup(s->backup[i].account);
		d->backup[i].json = xstrdup(s->backup[i].json);
	}
	for (i = 0; i < s->nmigr; i++) {
		d->migr[i] = s->migr[i];
		d->migr[i].account = xstrdup(s->migr[i].account);
		d->migr[i].json = xstrdup(s->migr[i].json);
	}
	/* pending requests come from the live request list, not from the source state */
	for (i = 0; d->pend && i < K.reqs.n; i++) {
		struct ns_request *q = K.reqs.v[i];
		d->pend[d->npend].key = strdup(q->key);
		d->pend[d->npend].kind = q->kind;
		memcpy(d->pend[d->npend].data_id, q->data_id, 32);
		d->npend++;
	}
	d->images = strv_dup(s->images, s->nimages);
	d->launchers = strv_dup(s->launchers, s->nlaunchers);
	return d;
}

static int strv_push(char ***v, int *n, const char *s)
{
	char **nv = realloc(*v, (size_t)(*n + 2) * sizeof(char *));

	if (!nv)
		return -1;
	*v = nv;
	nv[*n] = strdup(s);
	nv[*n + 1] = NULL;
	(*n)++;
	return 0;
}

static int part_add(struct ns_cstate *s, const char *account, uint32_t id, const char *url, const uint8_t tls[32])
{
	struct ns_participant *np = realloc(s->parts, (size_t)(s->nparts + 1) * sizeof(*np));

	if (!np)
		return -1;
	s->parts = np;
	np[s->nparts].account = strdup(account);
	np[s->nparts].id = id;
	np[s->nparts].url = strdup(url);
	memcpy(np[s->nparts].tls, tls, 32);
	s->nparts++;
	if (id >= s->next_id)
		s->next_id = id + 1;
	return 0;
}

static struct ns_attest *att_find_tls(struct ns_cstate *s, const uint8_t tls[32])
{
	int i;

	for (i = 0; i < s->natt; i++)
		if (!memcmp(s->att[i].tls, tls, 32))
			return &s->att[i];
	return NULL;
}

static int att_put(struct ns_cstate *s, const uint8_t tls[32], const char *account,
		   const uint8_t account_pk[32], const char *json)
{
	struct ns_attest *a = att_find_tls(s, tls);

	if (!a) {
		struct ns_attest *na = realloc(s->att, (size_t)(s->natt + 1) * sizeof(*na));
		if (!na)
			return -1;
		s->att = na;
		a = &na[s->natt++];
		memset(a, 0, sizeof(*a));
		memcpy(a->tls, tls, 32);
	}
	free(a->account);
	free(a->json);
	a->account = strdup(account);
	a->json = strdup(json);
	memcpy(a->account_pk, account_pk, 32);
	return 0;
}

static void mock_valid_for(struct ns_cstate *s, const char *account)
{
	uint8_t tls[32], sk[64], spk[32];

	key_for(account, "tls", tls, sk);
	key_for(account, "signer", spk, sk);
	att_put(s, tls, account, spk, "{\"Mock\":\"Valid\"}");
}

struct ns_cstate *cstate_new_default(struct ns_chain *c)
{
	struct ns_cstate *s = calloc(1, sizeof(*s));
	char name[80], url[120];
	int i;

	if (!s)
		return NULL;
	s->ref = 1;
	s->phase = PHASE_RUNNING;
	s->threshold = (uint64_t)c->cfg->threshold;
	for (i = 0; i < c->cfg->participants; i++) {
		uint8_t tls[32], sk[64];
		participant_name(i, name, sizeof(name));
		key_for(name, "tls", tls, sk);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d", 13001 + i);
		part_add(s, name, (uint32_t)i, url, tls);
		mock_valid_for(s, name);
	}
	strv_push(&s->images, &s->nimages, DEFAULT_IMAGE);
	strv_push(&s->launchers, &s->nlaunchers, DEFAULT_LAUNCHER);
	K.dirty = true;
	return s;
}

int contract_load_genesis(struct ns_chain *c, void *obj, char *err, size_t errlen)
{
	cJSON *o = obj, *x, *p;
	struct ns_cstate *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	s->ref = 1;
	s->phase = PHASE_RUNNING;
	s->threshold = 2;
	x = cJSON_GetObjectItemCaseSensitive(o, "state");
	if (cJSON_IsString(x) && !strcmp(x->valuestring, "NotInitialized"))
		s->phase = PHASE_NOT_INIT;
	if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(o, "threshold")) && x->valuedouble >= 1)
		s->threshold = (uint64_t)x->valuedouble;
	if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(o, "epoch_id")) && x->valuedouble >= 0)
		s->epoch = (uint64_t)x->valuedouble;
	x = cJSON_GetObjectItemCaseSensitive(o, "participants");
	cJSON_ArrayForEach(p, x) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, "account_id");
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(p, "url");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "tls_public_key");
		const cJSON *att = cJSON_GetObjectItemCaseSensitive(p, "attested");
		uint8_t tls[32], sk[64];
		if (!cJSON_IsString(a)) {
			snprintf(err, errlen, "contract.participants[]: account_id string required");
			cstate_free(s);
			return -1;
		}
		if (cJSON_IsString(t)) {
			if (pk_parse(tls, t->valuestring)) {
				snprintf(err, errlen, "%s: bad tls_public_key", a->valuestring);
				cstate_free(s);
				return -1;
			}
		} else {
			key_for(a->valuestring, "tls", tls, sk);
		}
		part_add(s, a->valuestring, s->next_id, cJSON_IsString(u) ? u->valuestring : "http://127.0.0.1:13001", tls);
		if (!cJSON_IsFalse(att)) {
			uint8_t spk[32];
			key_for(a->valuestring, "signer", spk, sk);
			att_put(s, tls, a->valuestring, spk, "{\"Mock\":\"Valid\"}");
		}
	}
	x = cJSON_GetObjectItemCaseSensitive(o, "allowed_docker_image_hashes");
	cJSON_ArrayForEach(p, x) if (cJSON_IsString(p))
		strv_push(&s->images, &s->nimages, p->valuestring);
	if (!s->nimages)
		strv_push(&s->images, &s->nimages, DEFAULT_IMAGE);
	x = cJSON_GetObjectItemCaseSensitive(o, "allowed_launcher_compose_hashes");
	cJSON_ArrayForEach(p, x) if (cJSON_IsString(p))
		strv_push(&s->launchers, &s->nlaunchers, p->valuestring);
	if (!s->nlaunchers)
		strv_push(&s->launchers, &s->nlaunchers, DEFAULT_LAUNCHER);
	cstate_unref(c->contract);
	c->contract = s;
	K.dirty = true;
	return 0;
}

void contract_genesis_dump(struct ns_chain *c, struct jw *w)
{
	struct ns_cstate *s = c->contract;
	int i;

	jw_obj(w);
	jw_kstr(w, "account_id", c->contract_id);
	jw_kstr(w, "state", s->phase == PHASE_NOT_INIT ? "NotInitialized" : "Running");
	jw_ku64(w, "epoch_id", s->epoch);
	jw_ku64(w, "threshold", s->threshold);
	jw_key(w, "participants");
	jw_arr(w);
	for (i = 0; i < s->nparts; i++) {
		jw_obj(w);
		jw_kstr(w, "account_id", s->parts[i].account);
		jw_kstr(w, "url", s->parts[i].url);
		jw_kpk(w, "tls_public_key", s->parts[i].tls);
		jw_kbool(w, "attested", att_find_tls(s, s->parts[i].tls) != NULL);
		jw_end_obj(w);
	}
	jw_end_arr(w);
	jw_key(w, "allowed_docker_image_hashes");
	jw_arr(w);
	for (i = 0; i < s->nimages; i++)
		jw_str(w, s->images[i]);
	jw_end_arr(w);
	jw_key(w, "allowed_launcher_compose_hashes");
	jw_arr(w);
	for (i = 0; i < s->nlaunchers; i++)
		jw_str(w, s->launchers[i]);
	jw_end_arr(w);
	jw_end_obj(w);
}

/* ---------- view rendering ---------- */
static void domains(struct jw *w, const struct ns_cstate *s)
{
	int i;

	(void)s;
	jw_obj(w);
	jw_key(w, "domains");
	jw_arr(w);
	for (i = 0; i < 3; i++) {
		jw_obj(w);
		jw_ku64(w, "id", (uint64_t)i);
		jw_kstr(w, "protocol", domain_protocol[i]);
		jw_ku64(w, "reconstruction_threshold", s->threshold);
		jw_kstr(w, "purpose", domain_purpose[i]);
		jw_end_obj(w);
	}
	jw_end_arr(w);
	jw_ku64(w, "next_domain_id", 3);
	jw_end_obj(w);
}

static void key_for_domain(struct jw *w, int d, uint64_t attempt)
{
	jw_obj(w);
	jw_ku64(w, "domain_id", (uint64_t)d);
	jw_key(w, "key");
	jw_obj(w);
	if (d == 0) {
		jw_key(w, "Secp256k1");
		jw_obj(w);
		jw_kstr(w, "near_public_key", SECP_KEY);
		jw_end_obj(w);
	} else if (d == 1) {
		jw_key(w, "Ed25519");
		jw_obj(w);
		jw_kstr(w, "near_public_key_compressed", ED_KEY);
		jw_kraw(w, "edwards_point", ED_POINT, strlen(ED_POINT));
		jw_end_obj(w);
	} else {
		jw_key(w, "Bls12381");
		jw_obj(w);
		jw_kstr(w, "public_key", BLS_KEY);
		jw_end_obj(w);
	}
	jw_end_obj(w);
	jw_ku64(w, "attempt", attempt);
	jw_end_obj(w);
}

static void keyset(struct jw *w, uint64_t epoch)
{
	int d;

	jw_obj(w);
	jw_ku64(w, "epoch_id", epoch);
	jw_key(w, "domains");
	jw_arr(w);
	for (d = 0; d < 3; d++)
		key_for_domain(w, d, 0);
	jw_end_arr(w);
	jw_end_obj(w);
}

static void params(struct jw *w, const struct ns_cstate *s)
{
	int i;

	jw_obj(w);
	jw_key(w, "participants");
	jw_obj(w);
	jw_ku64(w, "next_id", s->next_id);
	jw_key(w, "participants");
	jw_arr(w);
	for (i = 0; i < s->nparts; i++) {
		jw_arr(w);
		jw_str(w, s->parts[i].account);
		jw_u64(w, s->parts[i].id);
		jw_obj(w);
		jw_kstr(w, "url", s->parts[i].url);
		jw_kpk(w, "tls_public_key", s->parts[i].tls);
		jw_end_obj(w);
		jw_end_arr(w);
	}
	jw_end_arr(w);
	jw_end_obj(w);
	jw_ku64(w, "threshold", s->threshold);
	jw_end_obj(w);
}

static void running(struct jw *w, const struct ns_cstate *s)
{
	jw_obj(w);
	jw_key(w, "domains");
	domains(w, s);
	jw_key(w, "keyset");
	keyset(w, s->epoch);
	jw_key(w, "parameters");
	params(w, s);
	jw_kraw(w, "parameters_votes", "{\"proposal_by_account\":{}}", 26);
	jw_kraw(w, "add_domains_votes", "{\"proposal_by_account\":{}}", 26);
	jw_knull(w, "previously_cancelled_resharing_epoch_id");
	jw_end_obj(w);
}

static void render_state(struct jw *w, const struct ns_cstate *s, uint64_t height, unsigned reshare_blocks)
{
	int d, done;
	uint64_t per;

	if (s->phase == PHASE_NOT_INIT) {
		jw_str(w, "NotInitialized");
		return;
	}
	jw_obj(w);
	if (s->phase == PHASE_RUNNING) {
		jw_key(w, "Running");
		running(w, s);
		jw_end_obj(w);
		return;
	}
	/* Resharing walks the domains in order; reshared_keys grows as each one completes. */
	per = reshare_blocks / 3 ? reshare_blocks / 3 : 1;
	done = (int)((height - s->reshare_start) / per);
	if (done > 2)
		done = 2;
	jw_key(w, "Resharing");
	jw_obj(w);
	jw_key(w, "previous_running_state");
	running(w, s);
	jw_key(w, "reshared_keys");
	jw_arr(w);
	for (d = 0; d < done; d++)
		key_for_domain(w, d, 0);
	jw_end_arr(w);
	jw_key(w, "resharing_key");
	jw_obj(w);
	jw_ku64(w, "epoch_id", s->epoch + 1);
	jw_key(w, "domain");
	jw_obj(w);
	jw_ku64(w, "id", (uint64_t)done);
	jw_kstr(w, "protocol", domain_protocol[done]);
	jw_ku64(w, "reconstruction_threshold", s->threshold);
	jw_kstr(w, "purpose", domain_purpose[done]);
	jw_end_obj(w);
	jw_key(w, "parameters");
	params(w, s);
	jw_knull(w, "instance");
	jw_ku64(w, "next_attempt_id", 0);
	jw_end_obj(w);
	jw_kempty_arr(w, "cancellation_requests");
	jw_kraw(w, "per_domain_thresholds", "{}", 2);
	jw_end_obj(w);
	jw_end_obj(w);
}

static void config_view(struct jw *w)
{
	static const char cfg[] = "{\"key_event_timeout_blocks\":30,\"tee_upgrade_deadline_duration_seconds\":604800,"
		"\"contract_upgrade_deposit_tera_gas\":50,\"sign_call_gas_attachment_requirement_tera_gas\":15,"
		"\"ckd_call_gas_attachment_requirement_tera_gas\":15,"
		"\"return_signature_and_clean_state_on_success_call_tera_gas\":7,"
		"\"return_ck_and_clean_state_on_success_call_tera_gas\":7,\"fail_on_timeout_tera_gas\":2,"
		"\"fail_attestation_submission_tera_gas\":2,\"clean_tee_status_tera_gas\":10,"
		"\"clean_invalid_attestations_tera_gas\":15,\"cleanup_orphaned_node_migrations_tera_gas\":4,"
		"\"remove_non_participant_update_votes_tera_gas\":5,\"clean_foreign_chain_data_tera_gas\":5,"
		"\"remove_non_participant_tee_verifier_votes_tera_gas\":5,\"verifier_tera_gas\":200,"
		"\"resolve_verification_tera_gas\":60,\"launcher_hash_unused_ttl_seconds\":1209600,"
		"\"attestation_storage_fee_millinear\":20}";

	jw_raw(w, cfg, sizeof(cfg) - 1);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const struct ns_entry *entry_find(const struct ns_entry *e, int n, const char *account)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(e[i].account, account))
			return &e[i];
	return NULL;
}

static void migration_info(struct jw *w, const struct ns_cstate *s)
{
	const char **names = calloc((size_t)(s->nbackup + s->nmigr) + 1, sizeof(char *));
	int n = 0, i, j;

	for (i = 0; names && i < s->nbackup; i++)
		names[n++] = s->backup[i].account;
	for (i = 0; names && i < s->nmigr; i++) {
		for (j = 0; j < n && strcmp(names[j], s->migr[i].account); j++)
			;
		if (j == n)
			names[n++] = s->migr[i].account;
	}
	qsort(names, (size_t)n, sizeof(char *), cmp_str);
	jw_obj(w);
	for (i = 0; i < n; i++) {
		const struct ns_entry *b = entry_find(s->backup, s->nbackup, names[i]);
		const struct ns_entry *m = entry_find(s->migr, s->nmigr, names[i]);
		jw_key(w, names[i]);
		jw_arr(w);
		if (b)
			jw_raw(w, b->json, strlen(b->json));
		else
			jw_null(w);
		if (m)
			jw_raw(w, m->json, strlen(m->json));
		else
			jw_null(w);
		jw_end_arr(w);
	}
	jw_end_obj(w);
	free(names);
}

/* ---------- request keys ---------- */
static cJSON *parse_args(const uint8_t *args, size_t len)
{
	if (!len)
		return cJSON_CreateObject();
	return cJSON_ParseWithLength((const char *)args, len);
}

static int tweak_array(struct jw *w, const cJSON *arr)
{
	const cJSON *x;
	int n = 0;

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != 32)
		return -1;
	jw_arr(w);
	cJSON_ArrayForEach(x, arr) {
		if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 255)
			return -1;
		jw_u64(w, (uint64_t)x->valuedouble);
		n++;
	}
	jw_end_arr(w);
	return n == 32 ? 0 : -1;
}

static int payload_norm(struct jw *w, const cJSON *p, int domain, char *err, size_t errlen)
{
	const cJSON *v = NULL;
	const char *kind = NULL;
	uint8_t bytes[1232];
	int n;

	if (cJSON_IsObject(p) && (v = cJSON_GetObjectItemCaseSensitive(p, "Ecdsa")))
		kind = "Ecdsa";
	else if (cJSON_IsObject(p) && (v = cJSON_GetObjectItemCaseSensitive(p, "Eddsa")))
		kind = "Eddsa";
	if (!kind || !cJSON_IsString(v)) {
		snprintf(err, errlen, "Invalid payload: expected {\"Ecdsa\":hex} or {\"Eddsa\":hex}");
		return -1;
	}
	n = hex_dec(bytes, sizeof(bytes), v->valuestring, strlen(v->valuestring));
	if (n < 0 || (kind[1] == 'c' && n != 32)) {
		snprintf(err, errlen, "Invalid payload hex for %s", kind);
		return -1;
	}
	if ((domain == 0 && kind[1] != 'c') || (domain == 1 && kind[1] != 'd')) {
		snprintf(err, errlen, "Payload %s does not match the scheme of domain %d", kind, domain);
		return -1;
	}
	jw_obj(w);
	jw_key(w, kind);
	jw_hex(w, bytes, (size_t)n);
	jw_end_obj(w);
	return 0;
}

static int domain_of(const cJSON *req, const char *name, int dflt)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(req, name);

	if (!d)
		return dflt;
	if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 1e6)
		return -1;
	return (int)d->valuedouble;
}

static void tweak_derive(uint8_t out[32], const char *prefix, const char *pred, const char *path)
{
	size_t lp = strlen(prefix), la = strlen(pred), lpath = strlen(path);
	char *buf = malloc(lp + la + 1 + lpath + 1);

	if (!buf) {
		memset(out, 0, 32);
		return;
	}
	memcpy(buf, prefix, lp);
	memcpy(buf + lp, pred, la);
	buf[lp + la] = ',';
	memcpy(buf + lp + la + 1, path, lpath);
	sha3_256(out, buf, lp + la + 1 + lpath);
	free(buf);
}

/* Canonical request key from a user's request args (derives tweak / app_id). */
static char *key_from_user(int kind, const cJSON *req, const char *pred, char *err, size_t errlen)
{
	struct jw w;
	uint8_t t[32];
	int d;

	jw_init(&w, 256);
	if (kind == REQ_SIGN) {
		const cJSON *path = cJSON_GetObjectItemCaseSensitive(req, "path");
		const cJSON *p2 = cJSON_GetObjectItemCaseSensitive(req, "payload_v2");
		const cJSON *p1 = cJSON_GetObjectItemCaseSensitive(req, "payload");
		d = domain_of(req, "domain_id", -2);
		if (d == -2)
			d = domain_of(req, "key_version", 0);
		if (!cJSON_IsString(path) || d < 0 || d > 1) {
			snprintf(err, errlen, "Invalid request: path must be a string and domain_id a Sign domain (0 or 1)");
			goto fail;
		}
		tweak_derive(t, "near-mpc-recovery v0.1.0 epsilon derivation:", pred, path->valuestring);
		jw_obj(&w);
		jw_key(&w, "tweak");
		jw_bytes_arr(&w, t, 32);
		jw_key(&w, "payload");
		if (p2) {
			if (payload_norm(&w, p2, d, err, errlen))
				goto fail;
		} else if (cJSON_IsArray(p1) && cJSON_GetArraySize(p1) == 32) {
			const cJSON *x;
			uint8_t b[32];
			int i = 0;
			cJSON_ArrayForEach(x, p1) b[i++] = (uint8_t)x->valuedouble;
			jw_obj(&w);
			jw_key(&w, "Ecdsa");
			jw_hex(&w, b, 32);
			jw_end_obj(&w);
		} else {
			snprintf(err, errlen, "Invalid request: payload_v2 missing");
			goto fail;
		}
		jw_ku64(&w, "domain_id", (uint64_t)d);
		jw_end_obj(&w);
	} else if (kind == REQ_CKD) {
		const cJSON *path = cJSON_GetObjectItemCaseSensitive(req, "derivation_path");
		const cJSON *apk = cJSON_GetObjectItemCaseSensitive(req, "app_public_key");
		char *apks;
		d = domain_of(req, "domain_id", 2);
		if (!cJSON_IsString(path) || !apk || d != 2) {
			snprintf(err, errlen, "Invalid request: derivation_path, app_public_key and a CKD domain_id (2) are required");
			goto fail;
		}
		tweak_derive(t, "near-mpc v0.1.0 app_id derivation:", pred, path->valuestring);
		jw_obj(&w);
		jw_key(&w, "app_public_key");
		if (cJSON_IsString(apk)) {
			jw_obj(&w);
			jw_kstr(&w, "AppPublicKey", apk->valuestring);
			jw_end_obj(&w);
		} else {
			if (!(apks = cJSON_PrintUnformatted(apk)))
				goto fail;
			jw_raw(&w, apks, strlen(apks));
			free(apks);
		}
		jw_key(&w, "app_id");
		jw_bytes_arr(&w, t, 32);
		jw_ku64(&w, "domain_id", (uint64_t)d);
		jw_end_obj(&w);
	} else {
		char *s = cJSON_PrintUnformatted(req);
		jw_free(&w);
		return s;
	}
	return jw_take(&w, NULL);
fail:
	jw_free(&w);
	return NULL;
}

/* Canonical request key from respond* / get_pending_* args (tweak / app_id already given). */
static char *key_from_request(int kind, const cJSON *req, char *err, size_t errlen)
{
	struct jw w;
	int d = domain_of(req, "domain_id", -1);

	if (!cJSON_IsObject(req)) {
		snprintf(err, errlen, "Invalid request: not an object");
		return NULL;
	}
	if (kind == REQ_FOREIGN)
		return cJSON_PrintUnformatted(req);
	jw_init(&w, 256);
	jw_obj(&w);
	if (kind == REQ_SIGN) {
		jw_key(&w, "tweak");
		if (tweak_array(&w, cJSON_GetObjectItemCaseSensitive(req, "tweak")))
			goto fail;
		jw_key(&w, "payload");
		if (payload_norm(&w, cJSON_GetObjectItemCaseSensitive(req, "payload"), d, err, errlen))
			goto fail;
	} else {
		const cJSON *apk = cJSON_GetObjectItemCaseSensitive(req, "app_public_key");
		char *s = apk ? cJSON_PrintUnformatted(apk) : NULL;
		if (!s)
			goto fail;
		jw_kraw(&w, "app_public_key", s, strlen(s));
		free(s);
		jw_key(&w, "app_id");
		if (tweak_array(&w, cJSON_GetObjectItemCaseSensitive(req, "app_id")))
			goto fail;
	}
	if (d < 0)
		goto fail;
	jw_ku64(&w, "domain_id", (uint64_t)d);
	jw_end_obj(&w);
	return jw_take(&w, NULL);
fail:
	if (!*err)
		snprintf(err, errlen, "Invalid request: missing or malformed fields");
	jw_free(&w);
	return NULL;
}

/* ---------- views ---------- */
static const struct ns_participant *part_find(const struct ns_cstate *s, const char *account)
{
	int i;

	for (i = 0; i < s->nparts; i++)
		if (!strcmp(s->parts[i].account, account))
			return &s->parts[i];
	return NULL;
}

int contract_view(struct ns_chain *c, const struct ns_cstate *s, const char *m,
		  const uint8_t *args, size_t args_len, uint64_t height,
		  char **out, size_t *out_len, struct ns_outcome *logs, char *err, size_t errlen)
{
	struct jw w;
	cJSON *a = parse_args(args, args_len);
	int i, k, rc = 0;

	(void)logs;
	err[0] = 0;
	if (!a) {
		snprintf(err, errlen, "HostError(GuestPanic { panic_msg: \"Failed to deserialize input from JSON.\" })");
		return -1;
	}
	jw_init(&w, 1024);
	if (!strcmp(m, "state")) {
		render_state(&w, s, height, (unsigned)c->cfg->reshare_blocks);
	} else if (!strcmp(m, "version")) {
		jw_str(&w, "3.14.0");
	} else if (!strcmp(m, "config")) {
		config_view(&w);
	} else if (!strcmp(m, "allowed_docker_image_hashes")) {
		jw_arr(&w);
		for (i = s->nimages - 1; i >= 0; i--) {
			jw_obj(&w);
			jw_kstr(&w, "image_hash", s->images[i]);
			jw_knull(&w, "expiry_timestamp_seconds");
			jw_end_obj(&w);
		}
		jw_end_arr(&w);
	} else if (!strcmp(m, "allowed_launcher_compose_hashes")) {
		jw_arr(&w);
		for (i = 0; i < s->nlaunchers; i++)
			jw_str(&w, s->launchers[i]);
		jw_end_arr(&w);
	} else if (!strcmp(m, "get_tee_accounts")) {
		jw_arr(&w);
		for (i = 0; i < s->natt; i++) {
			jw_obj(&w);
			jw_kstr(&w, "account_id", s->att[i].account);
			jw_kpk(&w, "tls_public_key", s->att[i].tls);
			jw_kpk(&w, "account_public_key", s->att[i].account_pk);
			jw_end_obj(&w);
		}
		jw_end_arr(&w);
	} else if (!strcmp(m, "get_attestation")) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "tls_public_key");
		uint8_t tls[32];
		const struct ns_attest *at;
		if (!cJSON_IsString(t) || pk_parse(tls, t->valuestring)) {
			snprintf(err, errlen, "HostError(GuestPanic { panic_msg: \"Failed to deserialize input from JSON.\" })");
			rc = -1;
		} else if ((at = att_find_tls((struct ns_cstate *)s, tls))) {
			jw_raw(&w, at->json, strlen(at->json));
		} else {
			jw_null(&w);
		}
	} else if (!strcmp(m, "migration_info")) {
		migration_info(&w, s);
	} else if (!strcmp(m, "public_key")) {
		int d = domain_of(a, "domain_id", 0);
		if (d == 0)
			jw_str(&w, SECP_KEY);
		else if (d == 1)
			jw_str(&w, ED_KEY);
		else if (d == 2)
			jw_str(&w, BLS_KEY);
		else {
			snprintf(err, errlen, "HostError(GuestPanic { panic_msg: \"DomainNotFound\" })");
			rc = -1;
		}
	} else if (!strcmp(m, "latest_key_version")) {
		const cJSON *sc = cJSON_GetObjectItemCaseSensitive(a, "signature_scheme");
		const char *v = cJSON_IsString(sc) ? sc->valuestring : "Secp256k1";
		jw_u64(&w, !strcmp(v, "Edwards25519") ? 1 : !strcmp(v, "Bls12381") ? 2 : 0);
	} else if (!strcmp(m, "get_supported_foreign_chains") || !strcmp(m, "get_available_foreign_chains")) {
		jw_raw(&w, "[]", 2);
	} else if (!strcmp(m, "get_foreign_chains_configs")) {
		jw_raw(&w, "{}", 2);
	} else {
		for (k = 0; k < REQ_KINDS; k++)
			if (!strcmp(m, kinds[k].pending_view))
				break;
		if (k < REQ_KINDS) {
			char *key = key_from_request(k, cJSON_GetObjectItemCaseSensitive(a, "request"), err, errlen);
			if (!key) {
				snprintf(err, errlen, "HostError(GuestPanic { panic_msg: \"Failed to deserialize input from JSON.\" })");
				rc = -1;
			} else {
				for (i = 0; i < s->npend; i++)
					if (s->pend[i].kind == k && !strcmp(s->pend[i].key, key))
						break;
				if (i < s->npend) {
					jw_obj(&w);
					jw_key(&w, "data_id");
					jw_bytes_arr(&w, s->pend[i].data_id, 32);
					jw_end_obj(&w);
				} else {
					jw_null(&w);
				}
				free(key);
			}
		} else {
			snprintf(err, errlen, "FunctionCallError(MethodResolveError(MethodNotFound))");
			rc = -1;
		}
	}
	cJSON_Delete(a);
	if (rc) {
		jw_free(&w);
		return -1;
	}
	*out = jw_take(&w, out_len);
	return *out ? 0 : -1;
}

/* ---------- calls ---------- */
static bool is_participant(const struct ns_cstate *s, const char *account)
{
	return part_find(s, account) != NULL;
}

static const char *attested_participant_error(const struct ns_cstate *s, const struct ns_receipt *r)
{
	const struct ns_participant *p = part_find(s, r->signer);
	const struct ns_attest *a;

	if (strcmp(r->signer, r->predecessor))
		return "Caller must be the signer (no cross-contract calls).";
	if (!p)
		return "InvalidState::NotParticipant";
	if (!(a = att_find_tls((struct ns_cstate *)s, p->tls)) || strcmp(a->account, r->signer))
		return "InvalidTeeRemoteAttestation: the participant has no stored attestation";
	if (memcmp(a->account_pk, r->signer_pk, 32))
		return "InvalidTeeRemoteAttestation: the signer key is not the attested account_public_key";
	return NULL;
}

static void req_free(struct ns_request *q)
{
	free(q->key);
	free(q);
}

static void req_remove(struct ns_request *q)
{
	int i;

	for (i = 0; i < K.reqs.n; i++) {
		if (K.reqs.v[i] == q) {
			memmove(&K.reqs.v[i], &K.reqs.v[i + 1], (size_t)(K.reqs.n - i - 1) * sizeof(void *));
			K.reqs.n--;
			break;
		}
	}
	if (q->cb)
		q->cb->req = NULL;
	req_free(q);
	K.dirty = true;
}

static void user_request(struct ns_chain *c, struct ns_block *b, struct ns_receipt *r,
			 const struct ns_action *act, int kind, const cJSON *args)
{
	struct ns_cstate *s = c->contract;
	char err[200] = "", *key;
	struct ns_receipt *x;
	struct ns_request *q;
	struct ns_action *cb;
	int n = 0, i;

	if (s->phase == PHASE_NOT_INIT) {
		outcome_fail_panic(&r->out, "InvalidState::ProtocolStateNotRunning");
		return;
	}
	if (act->deposit < 1) {
		outcome_fail_panic(&r->out, "InvalidParameters::InsufficientDeposit: attach at least 1 yoctoNEAR");
		return;
	}
	if (act->gas < 15 * NS_TGAS) {
		outcome_fail_panic(&r->out, "InvalidParameters::InsufficientGas: attach at least 15 TGas");
		return;
	}
	if (!(key = key_from_user(kind, cJSON_GetObjectItemCaseSensitive(args, "request"), r->predecessor, err, sizeof(err)))) {
		outcome_fail_panic(&r->out, err[0] ? err : "Failed to deserialize input from JSON.");
		return;
	}
	for (i = 0; i < K.reqs.n; i++)
		if (!strcmp(((struct ns_request *)K.reqs.v[i])->key, key))
			n++;
	if (n >= 128) {
		free(key);
		outcome_fail_panic(&r->out, "InvalidParameters::TooManyPendingRequests");
		return;
	}
	/* promise_yield_create: the callback receipt X waits for a resume or for the timeout */
	x = receipt_new(c, r->tx, r->id, 1, c->contract_id, c->contract_id);
	q = calloc(1, sizeof(*q));
	cb = calloc(1, sizeof(*cb));
	if (!x || !q || !cb) {
		free(q);
		free(cb);
		free(key);
		return;
	}
	x->kind = RK_YIELD_CALLBACK;
	x->is_yield = true;
	x->has_data_id = true;
	sha256(x->data_id, x->id, 32);
	free(x->signer);
	x->signer = strdup(r->signer);
	memcpy(x->signer_pk, r->signer_pk, 32);
	cb->type = ACT_FUNCTION_CALL;
	cb->method = strdup(kinds[kind].callback);
	cb->args_len = strlen(key) + 2;
	if ((cb->args = malloc(cb->args_len + 1)))
		snprintf((char *)cb->args, cb->args_len + 1, "[%s]", key);
	cb->gas = 7 * NS_TGAS;
	x->actions = cb;
	x->nactions = 1;
	x->req = q;
	q->kind = kind;
	q->key = key;
	memcpy(q->data_id, x->data_id, 32);
	q->cb = x;
	q->created = b->height;
	vec_push(&K.reqs, q);
	receipt_schedule(c, x, b->height + NS_YIELD_TIMEOUT_BLOCKS);
	r->out.status = ST_RECEIPT;
	memcpy(r->out.next, x->id, 32);
	outcome_add_receipt(&r->out, x->id);
	r->out.gas_burnt += 5 * NS_TGAS;
	c->requests_made++;
	K.dirty = true;
}

static void respond(struct ns_chain *c, struct ns_block *b, struct ns_receipt *r, int kind, const cJSON *args)
{
	struct ns_cstate *s = c->contract;
	const cJSON *resp = cJSON_GetObjectItemCaseSensitive(args, "response");
	char err[200] = "", *key, *rs;
	const char *e;
	int i, n = 0;

	if (s->phase == PHASE_NOT_INIT) {
		outcome_fail_panic(&r->out, "InvalidState::ProtocolStateNotRunning");
		return;
	}
	if ((e = attested_participant_error(s, r))) {
		outcome_fail_panic(&r->out, e);
		return;
	}
	if (!cJSON_IsObject(resp)) {
		outcome_fail_panic(&r->out, "Failed to deserialize input from JSON: response");
		return;
	}
	if (!(key = key_from_request(kind, cJSON_GetObjectItemCaseSensitive(args, "request"), err, sizeof(err)))) {
		outcome_fail_panic(&r->out, err);
		return;
	}
	rs = cJSON_PrintUnformatted(resp);
	for (i = 0; rs && i < K.reqs.n;) {
		struct ns_request *q = K.reqs.v[i];
		if (q->kind != kind || strcmp(q->key, key)) {
			i++;
			continue;
		}
		/* promise_yield_resume: X runs in the next block with the response */
		free(q->cb->resume_value);
		q->cb->resume_value = (uint8_t *)strdup(rs);
		q->cb->resume_len = strlen(rs);
		receipt_schedule(c, q->cb, b->height + 1);
		req_remove(q);
		n++;
	}
	free(rs);
	free(key);
	if (!n) {
		outcome_fail_panic(&r->out, "InvalidParameters::RequestNotFound");
		return;
	}
	c->responses_sent++;
	outcome_value(&r->out, "", 0);
}

static void json_str_value(char *out, size_t cap, const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	snprintf(out, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static char *dstack_verified(struct ns_cstate *s, const cJSON *ds, uint64_t block_ts_s)
{
	const cJSON *tcb = cJSON_GetObjectItemCaseSensitive(ds, "tcb_info"), *ev;
	char mrtd[200], r0[200], r1[200], r2[200], kp[200] = "";
	struct jw w;

	json_str_value(mrtd, sizeof(mrtd), tcb, "mrtd");
	json_str_value(r0, sizeof(r0), tcb, "rtmr0");
	json_str_value(r1, sizeof(r1), tcb, "rtmr1");
	json_str_value(r2, sizeof(r2), tcb, "rtmr2");
	cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(tcb, "event_log")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(ev, "event");
		if (cJSON_IsString(name) && !strcmp(name->valuestring, "key-provider"))
			json_str_value(kp, sizeof(kp), ev, "digest");
	}
	jw_init(&w, 512);
	jw_obj(&w);
	jw_key(&w, "Dstack");
	jw_obj(&w);
	jw_kstr(&w, "mpc_image_hash", s->nimages ? s->images[s->nimages - 1] : DEFAULT_IMAGE);
	jw_kstr(&w, "launcher_compose_hash", s->nlaunchers ? s->launchers[0] : DEFAULT_LAUNCHER);
	jw_ku64(&w, "expiry_timestamp_seconds", block_ts_s + 604800);
	jw_key(&w, "measurements");
	jw_obj(&w);
	jw_kstr(&w, "mrtd", mrtd);
	jw_kstr(&w, "rtmr0", r0);
	jw_kstr(&w, "rtmr1", r1);
	jw_kstr(&w, "rtmr2", r2);
	jw_kstr(&w, "key_provider_event_digest", kp);
	jw_end_obj(&w);
	jw_end_obj(&w);
	jw_end_obj(&w);
	return jw_take(&w, NULL);
}

static void submit_participant_info(struct ns_chain *c, struct ns_block *b, struct ns_receipt *r, const cJSON *args)
{
	struct ns_cstate *s = c->contract;
	const cJSON *att = cJSON_GetObjectItemCaseSensitive(args, "proposed_participant_attestation");
	const cJSON *tk = cJSON_GetObjectItemCaseSensitive(args, "tls_public_key"), *mock, *ds;
	struct ns_attest *old;
	uint8_t tls[32];
	char *json = NULL;

	if (strcmp(r->signer, r->predecessor)) {
		outcome_fail_panic(&r->out, "Caller must be the signer (no cross-contract calls).");
		return;
	}
	if (!cJSON_IsString(tk) || pk_parse(tls, tk->valuestring) || !cJSON_IsObject(att)) {
		outcome_fail_panic(&r->out, "Failed to deserialize input from JSON.");
		return;
	}
	if ((old = att_find_tls(s, tls)) && strcmp(old->account, r->signer)) {
		outcome_fail_panic(&r->out, "InvalidParameters::TlsKeyOwnedByOtherAccount");
		return;
	}
	if ((mock = cJSON_GetObjectItemCaseSensitive(att, "Mock"))) {
		if (cJSON_IsString(mock) && !strcmp(mock->valuestring, "Invalid")) {
			outcome_fail_panic(&r->out, "InvalidTeeRemoteAttestation: mock attestation is invalid");
			return;
		}
		json = cJSON_PrintUnformatted(att);
	} else if (cJSON_IsObject(ds = cJSON_GetObjectItemCaseSensitive(att, "Dstack"))) {
		/* nearsim stores Dstack attestations WITHOUT verifying the quote or collateral */
		json = dstack_verified(s, ds, b->ts_ns / 1000000000ULL);
	} else {
		outcome_fail_panic(&r->out, "Failed to deserialize input from JSON: unknown attestation variant");
		return;
	}
	if (!json)
		return;
	att_put(s, tls, r->signer, r->signer_pk, json);
	free(json);
	K.dirty = true;
	outcome_value(&r->out, "", 0);
}

static int entry_put(struct ns_entry **e, int *n, const char *account, const char *json, const uint8_t pk[32])
{
	int i;
	struct ns_entry *ne;

	for (i = 0; i < *n; i++) {
		if (!strcmp((*e)[i].account, account)) {
			free((*e)[i].json);
			(*e)[i].json = strdup(json);
			if (pk)
				memcpy((*e)[i].pk, pk, 32);
			return 0;
		}
	}
	if (!(ne = realloc(*e, (size_t)(*n + 1) * sizeof(*ne))))
		return -1;
	*e = ne;
	memset(&ne[*n], 0, sizeof(*ne));
	ne[*n].account = strdup(account);
	ne[*n].json = strdup(json);
	if (pk)
		memcpy(ne[*n].pk, pk, 32);
	(*n)++;
	return 0;
}

static void entry_del(struct ns_entry *e, int *n, const char *account)
{
	int i;

	for (i = 0; i < *n; i++) {
		if (strcmp(e[i].account, account))
			continue;
		free(e[i].account);
		free(e[i].json);
		memmove(&e[i], &e[i + 1], (size_t)(*n - i - 1) * sizeof(*e));
		(*n)--;
		return;
	}
}

static void register_backup_service(struct ns_chain *c, struct ns_receipt *r, const struct ns_action *a, const cJSON *args)
{
	struct ns_cstate *s = c->contract;
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(args, "backup_service_info");
	const cJSON *pk = cJSON_GetObjectItemCaseSensitive(info, "public_key");
	uint8_t k[32];
	struct jw w;
	char *json;

	if (!is_participant(s, r->signer)) {
		outcome_fail_panic(&r->out, "InvalidState::NotParticipant");
		return;
	}
	if (a->deposit < 1) {
		outcome_fail_panic(&r->out, "InvalidParameters::InsufficientDeposit: attach at least 1 yoctoNEAR");
		return;
	}
	if (!cJSON_IsString(pk) || pk_parse(k, pk->valuestring)) {
		outcome_fail_panic(&r->out, "Failed to deserialize input from JSON.");
		return;
	}
	jw_init(&w, 96);
	jw_obj(&w);
	jw_kpk(&w, "public_key", k);
	jw_end_obj(&w);
	json = jw_take(&w, NULL);
	entry_put(&s->backup, &s->nbackup, r->signer, json, k);
	free(json);
	K.dirty = true;
	outcome_value(&r->out, "", 0);
}

static void start_node_migration(struct ns_chain *c, struct ns_receipt *r, const struct ns_action *a, const cJSON *args)
{
	struct ns_cstate *s = c->contract;
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(args, "destination_node_info");
	const cJSON *spk = cJSON_GetObjectItemCaseSensitive(d, "signer_account_pk");
	const cJSON *dn = cJSON_GetObjectItemCaseSensitive(d, "destination_node_info");
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(dn, "url");
	const cJSON *tls = cJSON_GetObjectItemCaseSensitive(dn, "tls_public_key");
	uint8_t k[32], t[32];
	struct jw w;
	char *json;

	if (s->phase != PHASE_RUNNING) {
		outcome_fail_panic(&r->out, "InvalidState::ProtocolStateNotRunning");
		return;
	}
	if (!is_participant(s, r->signer)) {
		outcome_fail_panic(&r->out, "InvalidState::NotParticipant");
		return;
	}
	if (a->deposit < 1) {
		outcome_fail_panic(&r->out, "InvalidParameters::InsufficientDeposit: attach at least 1 yoctoNEAR");
		return;
	}
	if (!cJSON_IsString(spk) || pk_parse(k, spk->valuestring) || !cJSON_IsString(url)
	    || !cJSON_IsString(tls) || pk_parse(t, tls->valuestring)) {
		outcome_fail_panic(&r->out, "Failed to deserialize input from JSON.");
		return;
	}
	jw_init(&w, 256);
	jw_obj(&w);
	jw_kpk(&w, "signer_account_pk", k);
	jw_key(&w, "destination_node_info");
	jw_obj(&w);
	jw_kstr(&w, "url", url->valuestring);
	jw_kpk(&w, "tls_public_key", t);
	jw_end_obj(&w);
	jw_end_obj(&w);
	json = jw_take(&w, NULL);
	entry_put(&s->migr, &s->nmigr, r->signer, json, k);
	free(json);
	K.dirty = true;
	outcome_value(&r->out, "", 0);
}

static void conclude_node_migration(struct ns_chain *c, struct ns_receipt *r, const cJSON *args)
{
	struct ns_cstate *s = c->contract;
	const cJSON *ks = cJSON_GetObjectItemCaseSensitive(args, "keyset");
	const struct ns_entry *m;
	struct ns_participant *p;
	cJSON *mine, *dest, *dn, *url, *tls;
	struct jw w;
	char *kj;
	uint8_t t[32];
	bool same;

	if (s->phase != PHASE_RUNNING) {
		outcome_fail_panic(&r->out, "InvalidState::ProtocolStateNotRunning");
		return;
	}
	if (!(p = (struct ns_participant *)part_find(s, r->signer))) {
		outcome_fail_panic(&r->out, "InvalidState::NotParticipant");
		return;
	}
	jw_init(&w, 512);
	keyset(&w, s->epoch);
	kj = jw_take(&w, NULL);
	mine = kj ? cJSON_Parse(kj) : NULL;
	free(kj);
	same = mine && ks && cJSON_Compare(mine, ks, true);
	cJSON_Delete(mine);
	if (!same) {
		outcome_fail_panic(&r->out, "InvalidParameters::KeysetMismatch");
		return;
	}
	if (!(m = entry_find(s->migr, s->nmigr, r->signer))) {
		outcome_fail_panic(&r->out, "NodeMigrationError::MigrationNotFound");
		return;
	}
	if (memcmp(m->pk, r->signer_pk, 32)) {
		outcome_fail_panic(&r->out, "NodeMigrationError::AccountPublicKeyMismatch");
		return;
	}
	dest = cJSON_Parse(m->json);
	dn = cJSON_GetObjectItemCaseSensitive(dest, "destination_node_info");
	url = cJSON_GetObjectItemCaseSensitive(dn, "url");
	tls = cJSON_GetObjectItemCaseSensitive(dn, "tls_public_key");
	if (!cJSON_IsString(url) || !cJSON_IsString(tls) || pk_parse(t, tls->valuestring)) {
		cJSON_Delete(dest);
		outcome_fail_panic(&r->out, "NodeMigrationError::MigrationNotFound");
		return;
	}
	if (!att_find_tls(s, t)) {
		cJSON_Delete(dest);
		outcome_fail_panic(&r->out, "InvalidTeeRemoteAttestation(\"destination node TEE quote is invalid\")");
		return;
	}
	free(p->url);
	p->url = strdup(url->valuestring);
	memcpy(p->tls, t, 32);
	cJSON_Delete(dest);
	entry_del(s->migr, &s->nmigr, r->signer);
	K.dirty = true;
	outcome_value(&r->out, "", 0);
}

void contract_call(struct ns_chain *c, struct ns_block *b, struct ns_receipt *r, const struct ns_action *a)
{
	cJSON *args = parse_args(a->args, a->args_len);
	const char *m = a->method;
	int k;

	if (!args) {
		outcome_fail_panic(&r->out, "Failed to deserialize input from JSON.");
		return;
	}
	for (k = 0; k < REQ_KINDS; k++) {
		if (!strcmp(m, kinds[k].request)) {
			user_request(c, b, r, a, k, args);
			goto out;
		}
		if (!strcmp(m, kinds[k].respond)) {
			respond(c, b, r, k, args);
			goto out;
		}
	}
	if (!strcmp(m, "submit_participant_info"))
		submit_participant_info(c, b, r, args);
	else if (!strcmp(m, "register_backup_service"))
		register_backup_service(c, r, a, args);
	else if (!strcmp(m, "start_node_migration"))
		start_node_migration(c, r, a, args);
	else if (!strcmp(m, "conclude_node_migration"))
		conclude_node_migration(c, r, args);
	else if (!strcmp(m, "verify_tee"))
		outcome_value(&r->out, "true", 4);
	else if (!strcmp(m, "vote_reshared") || !strcmp(m, "start_reshare_instance") || !strcmp(m, "vote_pk")
		 || !strcmp(m, "start_keygen_instance") || !strcmp(m, "vote_abort_key_event_instance")
		 || !strcmp(m, "register_foreign_chains_config") || !strcmp(m, "update_participant_url"))
		outcome_value(&r->out, "", 0); /* accepted; nearsim drives key events itself */
	else
		outcome_fail_json(&r->out, "{\"ActionError\":{\"index\":0,\"kind\":{\"FunctionCallError\":"
				  "{\"MethodResolveError\":\"MethodNotFound\"}}}}");
out:
	cJSON_Delete(args);
}

void contract_callback(struct ns_chain *c, struct ns_block *b, struct ns_receipt *x)
{
	struct ns_receipt *f;
	struct ns_action *a;

	x->out.gas_burnt = 2 * NS_TGAS;
	if (x->resume_value) {
		outcome_value(&x->out, x->resume_value, x->resume_len);
		return;
	}
	/* timeout: the callback gets a PromiseError, drops the request, schedules fail_on_timeout */
	x->timed_out = true;
	if (x->req)
		req_remove(x->req);
	c->timeouts++;
	f = receipt_new(c, x->tx, x->id, 0, c->contract_id, c->contract_id);
	a = calloc(1, sizeof(*a));
	if (!f || !a) {
		free(a);
		outcome_value(&x->out, "", 0);
		return;
	}
	free(f->signer);
	f->signer = strdup(x->signer);
	memcpy(f->signer_pk, x->signer_pk, 32);
	f->kind = RK_FAIL_ON_TIMEOUT;
	a->type = ACT_FUNCTION_CALL;
	a->method = strdup("fail_on_timeout");
	a->gas = 2 * NS_TGAS;
	f->actions = a;
	f->nactions = 1;
	f->from_shard = chain_shard(c, c->contract_id);
	vec_push(&c->outgoing_next, f);
	receipt_schedule(c, f, b->height + 1);
	x->out.status = ST_RECEIPT;
	memcpy(x->out.next, f->id, 32);
	outcome_add_receipt(&x->out, f->id);
}

/* The MPC network, played by nearsim: respond to requests after --respond-delay blocks. */
static void auto_respond(struct ns_chain *c, struct ns_block *b)
{
	struct ns_cstate *s = c->contract;
	int i, p;

	if (!c->auto_respond || !s->nparts)
		return;
	for (i = 0; i < K.reqs.n; i++) {
		struct ns_request *q = K.reqs.v[i];
		const char *resp;
		char *args;
		size_t n;
		if (q->auto_sent || q->created + (uint64_t)c->cfg->respond_delay > b->height)
			continue;
		q->auto_sent = true;
		if (q->kind == REQ_SIGN)
			resp = strstr(q->key, "\"Eddsa\"")
				? "{\"scheme\":\"Ed25519\",\"signature\":[37,63,224,202,221,22,31,208,134,42,206,69,44,196,110,57,11,185,238,164,197,97,53,86,1,173,88,162,0,200,176,135,139,71,210,109,157,5,20,79,213,187,180,95,225,75,62,164,176,229,254,11,32,111,51,109,230,202,146,132,41,51,134,10]}"
				: "{\"scheme\":\"Secp256k1\",\"big_r\":{\"affine_point\":\"036080c3d1cc86eb785f8fbb3e216786d9a9abab30cb6d85fc7d5157bb3e8873c5\"},\"s\":{\"scalar\":\"28dc2ab7bc81eb919797fa932632b35b6c3e8b8c037b11ec5f4071f184b3165d\"},\"recovery_id\":1}";
		else if (q->kind == REQ_CKD)
			resp = "{\"big_y\":\"bls12381g1:6MseQBW32YFqpP8RQr1XVAUkKqj5n1n89xwjMzZbnvEVQZro6hz4Uun1KrfzuZxYWE\",\"big_c\":\"bls12381g1:7f5iBmCQ5ZLM21rXEpNYf2ntzM1uAsNSMEKjuPGtGeoYvRpyAyBCrRLXmGZ5DoKMaX\"}";
		else
			resp = "{\"payload_hash\":\"08e426dcd6eb98cc5eb5280d50f9c14e024f4a531bd5e09314ac4ae8bb07c9be\",\"signature\":{\"scheme\":\"Secp256k1\",\"big_r\":{\"affine_point\":\"036080c3d1cc86eb785f8fbb3e216786d9a9abab30cb6d85fc7d5157bb3e8873c5\"},\"s\":{\"scalar\":\"28dc2ab7bc81eb919797fa932632b35b6c3e8b8c037b11ec5f4071f184b3165d\"},\"recovery_id\":1}}";
		n = strlen(q->key) + strlen(resp) + 32;
		if (!(args = malloc(n)))
			continue;
		snprintf(args, n, "{\"request\":%s,\"response\":%s}", q->key, resp);
		p = (int)(K.rr++ % (unsigned)s->nparts);
		traffic_signed_call(c, s->parts[p].account, "signer", c->contract_id, kinds[q->kind].respond,
				    args, 300 * NS_TGAS, 0);
		free(args);
	}
}

void contract_block(struct ns_chain *c, struct ns_block *b)
{
	struct ns_cstate *s = c->contract;

	if (s->phase == PHASE_RUNNING && (K.reshare_requested
	    || (c->cfg->reshare_every && b->height >= K.last_reshare_end + c->cfg->reshare_every
		&& b->height - c->genesis_height >= c->cfg->reshare_every))) {
		K.reshare_requested = false;
		s->phase = PHASE_RESHARING;
		s->reshare_start = b->height;
		K.dirty = true;
	} else if (s->phase == PHASE_RESHARING && b->height >= s->reshare_start + (uint64_t)c->cfg->reshare_blocks) {
		s->phase = PHASE_RUNNING;
		s->epoch++;
		K.last_reshare_end = b->height;
		K.dirty = true;
	} else if (s->phase == PHASE_RESHARING) {
		K.dirty = true; /* reshared_keys progress is part of the view */
	}
	auto_respond(c, b);
}

int contract_reshare(struct ns_chain *c)
{
	if (c->contract->phase != PHASE_RUNNING)
		return -1;
	K.reshare_requested = true;
	return 0;
}

int contract_drop_attestation(struct ns_chain *c, const char *who)
{
	struct ns_cstate *s = c->contract;
	uint8_t tls[32];
	bool by_key = pk_parse(tls, who) == 0;
	int i, n = 0;

	for (i = 0; i < s->natt;) {
		if (by_key ? !memcmp(s->att[i].tls, tls, 32) : !strcmp(s->att[i].account, who)) {
			free(s->att[i].account);
			free(s->att[i].json);
			memmove(&s->att[i], &s->att[i + 1], (size_t)(s->natt - i - 1) * sizeof(*s->att));
			s->natt--;
			n++;
		} else {
			i++;
		}
	}
	if (n)
		K.dirty = true;
	return n;
}

void contract_stats(struct ns_chain *c, struct jw *w)
{
	struct ns_cstate *s = c->contract;

	jw_obj(w);
	jw_kstr(w, "phase", s->phase == PHASE_RUNNING ? "Running" : s->phase == PHASE_RESHARING ? "Resharing" : "NotInitialized");
	jw_ku64(w, "epoch_id", s->epoch);
	jw_ku64(w, "pending", (uint64_t)K.reqs.n);
	jw_ku64(w, "requests", c->requests_made);
	jw_ku64(w, "responses", c->responses_sent);
	jw_ku64(w, "timeouts", c->timeouts);
	jw_ku64(w, "attestations", (uint64_t)s->natt);
	jw_end_obj(w);
}

void contract_pending_list(struct ns_chain *c, struct jw *w)
{
	int i;

	(void)c;
	jw_arr(w);
	for (i = 0; i < K.reqs.n; i++) {
		struct ns_request *q = K.reqs.v[i];
		jw_obj(w);
		jw_kstr(w, "kind", kinds[q->kind].request);
		jw_kraw(w, "request", q->key, strlen(q->key));
		jw_khash(w, "callback_receipt_id", q->cb->id);
		jw_ku64(w, "created_height", q->created);
		jw_ku64(w, "timeout_height", q->created + NS_YIELD_TIMEOUT_BLOCKS);
		jw_end_obj(w);
	}
	jw_end_arr(w);
}

void contract_free_all(void);
void contract_free_all(void)
{
	int i;

	for (i = 0; i < K.reqs.n; i++)
		req_free(K.reqs.v[i]);
	vec_free(&K.reqs);
}
