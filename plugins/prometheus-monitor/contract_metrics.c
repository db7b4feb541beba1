/* Contract facts to series (see contract_metrics.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract_metrics.h"

const char *const cmetrics_views[CMETRICS_N_VIEWS] = {
	"state", "allowed_docker_image_hashes", "allowed_launcher_compose_hashes",
	"get_tee_accounts", "migration_info", "version",
};

enum { V_STATE, V_IMAGES, V_LAUNCHERS, V_TEE, V_MIGRATIONS, V_VERSION };

struct cmetrics {
	const struct mpci_host_api *api;
	mpci_plugin *self;
	struct contract_state cur;   /* phase -1: none yet */
	char *tee;                   /* NUL-separated account ids, NULL: unknown */
	char version[72];
	mpci_metric *state, *epoch, *threshold, *participants, *participant_info,
		*domains, *domain_info, *domain_threshold, *keyset_attempt,
		*ke_epoch, *ke_domain, *ke_attempt, *ke_started, *ke_threshold,
		*ke_participants, *ke_done, *votes, *attested, *participant_attested,
		*attestation_expiry, *images, *images_expiry, *launchers, *migrations,
		*backups, *version_info, *view_ok, *view_height, *view_failures;
};

static const char *const L_NONE[] = { NULL };
static const char *const L_STATE[] = { "state", NULL };
static const char *const L_ACCOUNT[] = { "account", NULL };
static const char *const L_PARTICIPANT[] = { "account", "participant_id", "url", NULL };
static const char *const L_DOMAIN[] = { "domain", NULL };
static const char *const L_DOMAIN_INFO[] = { "domain", "protocol", "purpose", NULL };
static const char *const L_PROPOSAL[] = { "proposal", NULL };
static const char *const L_VERSION[] = { "version", NULL };
static const char *const L_METHOD[] = { "method", NULL };
static const char *const L_METHOD_CAUSE[] = { "method", "cause", NULL };

static void set(struct cmetrics *cm, mpci_metric *m, const char *const *l, double v)
{
	if (m)
		cm->api->metric_set(m, l, v);
}

static void drop(struct cmetrics *cm, mpci_metric *m, const char *const *l)
{
	if (m)
		cm->api->metric_remove(m, l);
}

static mpci_metric *gauge(struct cmetrics *cm, const char *name, const char *help,
			  const char *const *labels)
{
	return cm->api->metric_gauge(cm->self, name, help, labels[0] ? labels : NULL);
}

struct cmetrics *cmetrics_new(const struct mpci_host_api *api, mpci_plugin *self)
{
	struct cmetrics *cm = calloc(1, sizeof(*cm));
	if (!cm)
		return NULL;
	cm->api = api;
	cm->self = self;
	cm->cur.phase = -1;
	cm->state = gauge(cm, "mpc_indexer_contract_state",
		"Protocol state of the MPC contract: 1 for the current state, 0 for the others.", L_STATE);
	cm->epoch = gauge(cm, "mpc_indexer_contract_epoch",
		"Epoch of the keyset in use (during a resharing: the one being replaced).", L_NONE);
	cm->threshold = gauge(cm, "mpc_indexer_contract_threshold",
		"Signing threshold of the participant set in use.", L_NONE);
	cm->participants = gauge(cm, "mpc_indexer_contract_participants",
		"Participants of the set in use.", L_NONE);
	cm->participant_info = gauge(cm, "mpc_indexer_contract_participant_info",
		"One series per participant of the set in use (value 1).", L_PARTICIPANT);
	cm->domains = gauge(cm, "mpc_indexer_contract_domains",
		"Key domains registered in the contract.", L_NONE);
	cm->domain_info = gauge(cm, "mpc_indexer_contract_domain_info",
		"One series per key domain (value 1).", L_DOMAIN_INFO);
	cm->domain_threshold = gauge(cm, "mpc_indexer_contract_domain_reconstruction_threshold",
		"Reconstruction threshold per key domain.", L_DOMAIN);
	cm->keyset_attempt = gauge(cm, "mpc_indexer_contract_keyset_attempt",
		"Key generation attempt that produced each domain's key in the keyset in use.", L_DOMAIN);
	cm->ke_epoch = gauge(cm, "mpc_indexer_contract_key_event_epoch",
		"Epoch a running key generation or resharing produces (absent in Running).", L_NONE);
	cm->ke_domain = gauge(cm, "mpc_indexer_contract_key_event_domain",
		"Domain the current key event works on (absent in Running).", L_NONE);
	cm->ke_attempt = gauge(cm, "mpc_indexer_contract_key_event_attempt",
		"Attempt id of the current key event: the running instance, else the next one.", L_NONE);
	cm->ke_started = gauge(cm, "mpc_indexer_contract_key_event_started",
		"1 while a key event instance runs, 0 while it waits to be started.", L_NONE);
	cm->ke_threshold = gauge(cm, "mpc_indexer_contract_key_event_threshold",
		"Threshold of the participant set the key event produces.", L_NONE);
	cm->ke_participants = gauge(cm, "mpc_indexer_contract_key_event_participants",
		"Participants of the set the key event produces.", L_NONE);
	cm->ke_done = gauge(cm, "mpc_indexer_contract_key_event_completed_domains",
		"Domains whose key the current key event has finished (generated or reshared).", L_NONE);
	cm->votes = gauge(cm, "mpc_indexer_contract_open_votes",
		"Open votes by proposal: new parameters, added domains, cancellations.", L_PROPOSAL);
	cm->attested = gauge(cm, "mpc_indexer_contract_attested_accounts",
		"Accounts with a stored TEE attestation (get_tee_accounts).", L_NONE);
	cm->participant_attested = gauge(cm, "mpc_indexer_contract_participant_attested",
		"1 when the participant has a stored TEE attestation, else 0.", L_ACCOUNT);
	cm->attestation_expiry = gauge(cm, "mpc_indexer_contract_attestation_expiry_timestamp_seconds",
		"When a participant's stored attestation expires (absent when it never does); polled.",
		L_ACCOUNT);
	cm->images = gauge(cm, "mpc_indexer_contract_allowed_image_hashes",
		"Allowed MPC node docker image hashes.", L_NONE);
	cm->images_expiry = gauge(cm, "mpc_indexer_contract_allowed_image_earliest_expiry_timestamp_seconds",
		"Earliest expiry among the allowed image hashes that have one.", L_NONE);
	cm->launchers = gauge(cm, "mpc_indexer_contract_allowed_launcher_hashes",
		"Allowed launcher docker compose hashes.", L_NONE);
	cm->migrations = gauge(cm, "mpc_indexer_contract_migrations",
		"Ongoing node migrations (a destination node is set).", L_NONE);
	cm->backups = gauge(cm, "mpc_indexer_contract_backup_services",
		"Registered backup services.", L_NONE);
	cm->version_info = gauge(cm, "mpc_indexer_contract_version_info",
		"Version of the contract code (value 1).", L_VERSION);
	cm->view_ok = gauge(cm, "mpc_indexer_contract_view_ok",
		"1 when the last answer of a contract view was usable, 0 while it fails.", L_METHOD);
	cm->view_height = gauge(cm, "mpc_indexer_contract_view_height",
		"Block height of the last answer of a contract view.", L_METHOD);
	cm->view_failures = api->metric_counter(self, "mpc_indexer_contract_view_failures_total",
		"Contract view answers the monitor could not use: the call failed, or its value did not parse.",
		L_METHOD_CAUSE);
	return cm;
}

void cmetrics_free(struct cmetrics *cm)
{
	if (!cm)
		return;
	contract_state_free(&cm->cur);
	free(cm->tee);
	free(cm);
}

const struct contract_state *cmetrics_state(const struct cmetrics *cm)
{
	return &cm->cur;
}

/* ---- state ---- */

static int has_participant(const struct contract_state *s, const struct contract_participant *p,
			   int exact)
{
	for (size_t i = 0; i < s->n_participants; i++) {
		const struct contract_participant *q = &s->participants[i];
		if (strcmp(q->account, p->account) == 0 &&
		    (!exact || (q->id == p->id && strcmp(q->url, p->url) == 0)))
			return 1;
	}
	return 0;
}

static const struct contract_domain *find_domain(const struct contract_state *s, uint64_t id)
{
	for (size_t i = 0; i < s->n_domains; i++)
		if (s->domains[i].id == id)
			return &s->domains[i];
	return NULL;
}

static int tee_has(const struct cmetrics *cm, const char *account)
{
	for (const char *a = cm->tee; a && *a; a += strlen(a) + 1)
		if (strcmp(a, account) == 0)
			return 1;
	return 0;
}

static void publish_attested(struct cmetrics *cm)
{
	if (!cm->tee)
		return;
	for (size_t i = 0; i < cm->cur.n_participants; i++) {
		const char *l[] = { cm->cur.participants[i].account, NULL };
		set(cm, cm->participant_attested, l, tee_has(cm, l[0]));
	}
}

static void publish_participants(struct cmetrics *cm, const struct contract_state *old,
				 const struct contract_state *s)
{
	for (size_t i = 0; i < s->n_participants; i++) {
		const struct contract_participant *p = &s->participants[i];
		char id[16];
		snprintf(id, sizeof(id), "%u", p->id);
		const char *l[] = { p->account, id, p->url, NULL };
		set(cm, cm->participant_info, l, 1);
	}
	for (size_t i = 0; i < old->n_participants; i++) {
		const struct contract_participant *p = &old->participants[i];
		char id[16];
		snprintf(id, sizeof(id), "%u", p->id);
		const char *l[] = { p->account, id, p->url, NULL };
		const char *a[] = { p->account, NULL };
		if (!has_participant(s, p, 1))
			drop(cm, cm->participant_info, l);
		if (!has_participant(s, p, 0)) {
			drop(cm, cm->participant_attested, a);
			drop(cm, cm->attestation_expiry, a);
		}
	}
}

static void publish_domains(struct cmetrics *cm, const struct contract_state *old,
			    const struct contract_state *s)
{
	for (size_t i = 0; i < s->n_domains; i++) {
		const struct contract_domain *d = &s->domains[i];
		char id[24];
		snprintf(id, sizeof(id), "%llu", (unsigned long long)d->id);
		const char *info[] = { id, d->protocol, d->purpose, NULL };
		const char *l[] = { id, NULL };
		set(cm, cm->domain_info, info, 1);
		if (d->has_threshold)
			set(cm, cm->domain_threshold, l, (double)d->reconstruction_threshold);
		else
			drop(cm, cm->domain_threshold, l);
		if (d->has_key)
			set(cm, cm->keyset_attempt, l, (double)d->attempt);
		else
			drop(cm, cm->keyset_attempt, l);
	}
	for (size_t i = 0; i < old->n_domains; i++) {
		const struct contract_domain *d = &old->domains[i], *n = find_domain(s, d->id);
		char id[24];
		snprintf(id, sizeof(id), "%llu", (unsigned long long)d->id);
		const char *info[] = { id, d->protocol, d->purpose, NULL };
		const char *l[] = { id, NULL };
		if (!n || strcmp(n->protocol, d->protocol) != 0 || strcmp(n->purpose, d->purpose) != 0)
			drop(cm, cm->domain_info, info);
		if (!n) {
			drop(cm, cm->domain_threshold, l);
			drop(cm, cm->keyset_attempt, l);
		}
	}
}

static void publish_key_event(struct cmetrics *cm, const struct contract_state *s)
{
	mpci_metric *all[] = { cm->ke_epoch, cm->ke_domain, cm->ke_attempt, cm->ke_started,
			       cm->ke_threshold, cm->ke_participants, cm->ke_done };
	if (!s->has_key_event) {
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			drop(cm, all[i], NULL);
		return;
	}
	set(cm, cm->ke_epoch, NULL, (double)s->ke_epoch);
	set(cm, cm->ke_domain, NULL, (double)s->ke_domain);
	set(cm, cm->ke_attempt, NULL, (double)s->ke_attempt);
	set(cm, cm->ke_started, NULL, s->ke_started);
	set(cm, cm->ke_threshold, NULL, (double)s->ke_threshold);
	set(cm, cm->ke_participants, NULL, (double)s->ke_participants);
	set(cm, cm->ke_done, NULL, (double)s->ke_keys_done);
}

static void publish_state(struct cmetrics *cm, struct contract_state *s)
{
	static const struct contract_state none = { .phase = -1 };
	const struct contract_state *old = cm->cur.phase >= 0 ? &cm->cur : &none;
	for (int p = 0; p < CONTRACT_N_PHASES; p++) {
		const char *l[] = { contract_phase_names[p], NULL };
		set(cm, cm->state, l, p == s->phase);
	}
	if (s->phase == CONTRACT_NOT_INITIALIZED) {
		drop(cm, cm->epoch, NULL);
		drop(cm, cm->threshold, NULL);
		drop(cm, cm->votes, (const char *const[]){ "parameters", NULL });
		drop(cm, cm->votes, (const char *const[]){ "add_domains", NULL });
		drop(cm, cm->votes, (const char *const[]){ "cancel", NULL });
	} else {
		set(cm, cm->epoch, NULL, (double)s->epoch);
		set(cm, cm->threshold, NULL, (double)s->threshold);
		set(cm, cm->votes, (const char *const[]){ "parameters", NULL },
		    (double)s->votes_parameters);
		set(cm, cm->votes, (const char *const[]){ "add_domains", NULL },
		    (double)s->votes_add_domains);
		set(cm, cm->votes, (const char *const[]){ "cancel", NULL },
		    (double)s->votes_cancel);
	}
	set(cm, cm->participants, NULL, (double)s->n_participants);
	set(cm, cm->domains, NULL, (double)s->n_domains);
	publish_participants(cm, old, s);
	publish_domains(cm, old, s);
	publish_key_event(cm, s);
	contract_state_free(&cm->cur);
	cm->cur = *s;
	memset(s, 0, sizeof(*s));
	publish_attested(cm);
}

/* ---- the views ---- */

static int view_index(const char *method)
{
	for (int i = 0; method && i < CMETRICS_N_VIEWS; i++)
		if (strcmp(cmetrics_views[i], method) == 0)
			return i;
	return -1;
}

static void failed(struct cmetrics *cm, const char *method, const char *cause,
		   const char *why)
{
	const char *l[] = { method, NULL };
	const char *f[] = { method, cause, NULL };
	set(cm, cm->view_ok, l, 0);
	if (cm->view_failures)
		cm->api->metric_add(cm->view_failures, f, 1);
	cm->api->log(cm->self, MPCI_LOG_WARN, "contract view %s: %s", method, why);
}

static int use_value(struct cmetrics *cm, int which, const struct mpci_view_result *r,
		     char *err, size_t errsz)
{
	size_t n, m;
	double lo, hi;
	switch (which) {
	case V_STATE: {
		struct contract_state s;
		if (contract_parse_state(r->value, r->value_len, r->block_height, &s,
					 err, errsz) < 0)
			return -1;
		publish_state(cm, &s);
		return 0;
	}
	case V_IMAGES:
	case V_LAUNCHERS:
		if (contract_parse_hashes(r->value, r->value_len, &n, &lo, &hi, err, errsz) < 0)
			return -1;
		if (which == V_LAUNCHERS) {
			set(cm, cm->launchers, NULL, (double)n);
		} else {
			set(cm, cm->images, NULL, (double)n);
			if (lo > 0)
				set(cm, cm->images_expiry, NULL, lo);
			else
				drop(cm, cm->images_expiry, NULL);
		}
		return 0;
	case V_TEE: {
		char *accounts;
		if (contract_parse_tee_accounts(r->value, r->value_len, &n, &accounts,
						err, errsz) < 0)
			return -1;
		free(cm->tee);
		cm->tee = accounts;
		set(cm, cm->attested, NULL, (double)n);
		publish_attested(cm);
		return 0;
	}
	case V_MIGRATIONS:
		if (contract_parse_migrations(r->value, r->value_len, &n, &m, err, errsz) < 0)
			return -1;
		set(cm, cm->backups, NULL, (double)n);
		set(cm, cm->migrations, NULL, (double)m);
		return 0;
	case V_VERSION: {
		char v[72];
		if (contract_parse_version(r->value, r->value_len, v, sizeof(v), err, errsz) < 0)
			return -1;
		if (cm->version[0] && strcmp(cm->version, v) != 0)
			drop(cm, cm->version_info, (const char *const[]){ cm->version, NULL });
		memcpy(cm->version, v, sizeof(v));
		set(cm, cm->version_info, (const char *const[]){ cm->version, NULL }, 1);
		return 0;
	}
	}
	return -1;
}

void cmetrics_view(struct cmetrics *cm, const struct mpci_view_result *r)
{
	char err[300];
	int which = r ? view_index(r->method) : -1;
	if (which < 0)
		return;
	const char *method = cmetrics_views[which];
	const char *l[] = { method, NULL };
	if (r->block_height)
		set(cm, cm->view_height, l, (double)r->block_height);
	if (!r->ok) {
		failed(cm, method, "call", r->error ? r->error : "failed");
		return;
	}
	if (use_value(cm, which, r, err, sizeof(err)) < 0) {
		failed(cm, method, "parse", err);
		return;
	}
	set(cm, cm->view_ok, l, 1);
}

void cmetrics_attestation(struct cmetrics *cm, const char *account,
			  const struct mpci_view_result *r)
{
	char err[300];
	int present;
	double expiry;
	const char *l[] = { account, NULL };
	if (!r->ok) {
		failed(cm, "get_attestation", "call", r->error ? r->error : "failed");
		return;
	}
	if (contract_parse_attestation(r->value, r->value_len, &present, &expiry, err,
				       sizeof(err)) < 0) {
		failed(cm, "get_attestation", "parse", err);
		return;
	}
	set(cm, cm->view_ok, (const char *const[]){ "get_attestation", NULL }, 1);
	/* only participants still in the set keep a series */
	struct contract_participant who = { .id = 0 };
	snprintf(who.account, sizeof(who.account), "%s", account);
	if (has_participant(&cm->cur, &who, 0) && present && expiry > 0)
		set(cm, cm->attestation_expiry, l, expiry);
	else
		drop(cm, cm->attestation_expiry, l);
}
