/* Parsing the contract's `state` and `migration_info` views. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "contract.h"

static int fail(char *err, size_t n, const char *what)
{
	snprintf(err, n, "%s", what);
	return -1;
}

/* u64 from a JSON number: exact integers below 2^53 only. */
static int get_u64(const cJSON *o, const char *name, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= 9007199254740992.0 ||
	    v->valuedouble != (double)(uint64_t)v->valuedouble)
		return -1;
	*out = (uint64_t)v->valuedouble;
	return 0;
}

const char *contract_protocol_name(int p)
{
	switch (p) {
	case PROTO_NOT_INITIALIZED: return "NotInitialized";
	case PROTO_INITIALIZING: return "Initializing";
	case PROTO_RUNNING: return "Running";
	case PROTO_RESHARING: return "Resharing";
	default: return "unknown";
	}
}

void contract_state_clear(struct contract_state *s)
{
	free(s->keyset_json);
	memset(s, 0, sizeof(*s));
}

static int cmp_domain(const void *a, const void *b)
{
	const struct backup_domain *x = a, *y = b;
	return x->domain_id < y->domain_id ? -1 : x->domain_id > y->domain_id;
}

static int parse_keyset(const cJSON *ks, struct contract_state *out, char *err, size_t n)
{
	const cJSON *doms = cJSON_GetObjectItemCaseSensitive(ks, "domains"), *d;
	if (!cJSON_IsObject(ks) || get_u64(ks, "epoch_id", &out->epoch_id) < 0 ||
	    !cJSON_IsArray(doms))
		return fail(err, n, "state: keyset lacks epoch_id or domains");
	if (cJSON_GetArraySize(doms) > BACKUP_MAX_DOMAINS)
		return fail(err, n, "state: keyset has too many domains");
	cJSON_ArrayForEach(d, doms) {
		struct backup_domain *bd = &out->domains[out->n_domains];
		if (get_u64(d, "domain_id", &bd->domain_id) < 0 ||
		    get_u64(d, "attempt", &bd->attempt_id) < 0)
			return fail(err, n, "state: a keyset domain lacks domain_id or attempt");
		for (size_t i = 0; i < out->n_domains; i++)
			if (out->domains[i].domain_id == bd->domain_id)
				return fail(err, n, "state: a keyset domain appears twice");
		out->n_domains++;
	}
	qsort(out->domains, out->n_domains, sizeof(out->domains[0]), cmp_domain);
	if (!(out->keyset_json = cJSON_PrintUnformatted(ks)))
		return fail(err, n, "out of memory");
	out->has_keyset = 1;
	return 0;
}

/* parameters.participants.participants: [[account, id, {url, tls_public_key}], ...] */
static int parse_participant(const cJSON *running, const char *account,
			     struct contract_state *out, char *err, size_t n)
{
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(running, "parameters");
	const cJSON *ps = cJSON_GetObjectItemCaseSensitive(params, "participants");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(ps, "participants"), *p;
	if (!cJSON_IsArray(list))
		return fail(err, n, "state: no parameters.participants.participants list");
	cJSON_ArrayForEach(p, list) {
		const cJSON *acct = cJSON_GetArrayItem(p, 0), *info = cJSON_GetArrayItem(p, 2);
		if (!cJSON_IsArray(p) || !cJSON_IsString(acct))
			return fail(err, n, "state: a participant entry is not [account, id, info]");
		if (strcmp(acct->valuestring, account) != 0)
			continue;
		const cJSON *url = cJSON_GetObjectItemCaseSensitive(info, "url");
		const cJSON *tls = cJSON_GetObjectItemCaseSensitive(info, "tls_public_key");
		if (!cJSON_IsString(url) || strlen(url->valuestring) >= sizeof(out->url) ||
		    !cJSON_IsString(tls) || edkey_parse_public(tls->valuestring, out->tls_public_key) < 0)
			return fail(err, n, "state: this account's participant info lacks a url or an ed25519 tls_public_key");
		snprintf(out->url, sizeof(out->url), "%s", url->valuestring);
		out->participant = 1;
		return 0;
	}
	return 0;
}

int contract_parse_state(const char *json, size_t len, const char *account,
			 struct contract_state *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	cJSON *root = cJSON_ParseWithLength(json, len);
	int rc = -1;
	if (!root) {
		fail(err, errsz, "state: not JSON");
		goto out;
	}
	if (cJSON_IsString(root)) {
		out->protocol = strcmp(root->valuestring, "NotInitialized") == 0 ?
					PROTO_NOT_INITIALIZED : PROTO_UNKNOWN;
		rc = 0;
		goto out;
	}
	const cJSON *running = cJSON_GetObjectItemCaseSensitive(root, "Running");
	const cJSON *resharing = cJSON_GetObjectItemCaseSensitive(root, "Resharing");
	if (cJSON_IsObject(running)) {
		out->protocol = PROTO_RUNNING;
	} else if (cJSON_IsObject(resharing)) {
		out->protocol = PROTO_RESHARING;
		running = cJSON_GetObjectItemCaseSensitive(resharing, "previous_running_state");
		if (!cJSON_IsObject(running)) {
			fail(err, errsz, "state: Resharing without previous_running_state");
			goto out;
		}
	} else {
		out->protocol = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "Initializing")) ?
					PROTO_INITIALIZING : PROTO_UNKNOWN;
		rc = 0;
		goto out;
	}
	if (parse_keyset(cJSON_GetObjectItemCaseSensitive(running, "keyset"), out, err, errsz) < 0 ||
	    parse_participant(running, account, out, err, errsz) < 0)
		goto out;
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc < 0)
		contract_state_clear(out);
	return rc;
}

int contract_parse_migration(const char *json, size_t len, const char *account,
			     struct contract_migration *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	cJSON *root = cJSON_ParseWithLength(json, len);
	int rc = -1;
	if (!cJSON_IsObject(root)) {
		fail(err, errsz, "migration_info: not a JSON object");
		goto out;
	}
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, account);
	if (!e) {
		rc = 0;
		goto out;
	}
	if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2) {
		fail(err, errsz, "migration_info: this account's entry is not a 2-element array");
		goto out;
	}
	const cJSON *b = cJSON_GetArrayItem(e, 0), *d = cJSON_GetArrayItem(e, 1);
	if (!cJSON_IsNull(b)) {
		const cJSON *pk = cJSON_GetObjectItemCaseSensitive(b, "public_key");
		if (!cJSON_IsString(pk) || edkey_parse_public(pk->valuestring, out->backup_public_key) < 0) {
			fail(err, errsz, "migration_info: backup service info lacks an ed25519 public_key");
			goto out;
		}
		out->has_backup = 1;
	}
	if (!cJSON_IsNull(d)) {
		const cJSON *di = cJSON_GetObjectItemCaseSensitive(d, "destination_node_info");
		const cJSON *url = cJSON_GetObjectItemCaseSensitive(di, "url");
		const cJSON *tls = cJSON_GetObjectItemCaseSensitive(di, "tls_public_key");
		if (!cJSON_IsString(url) || strlen(url->valuestring) >= sizeof(out->destination_url) ||
		    !cJSON_IsString(tls) ||
		    edkey_parse_public(tls->valuestring, out->destination_tls_key) < 0) {
			fail(err, errsz, "migration_info: destination lacks a url or an ed25519 tls_public_key");
			goto out;
		}
		snprintf(out->destination_url, sizeof(out->destination_url), "%s", url->valuestring);
		out->has_destination = 1;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int contract_url_host(const char *url, char *host, size_t n)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	const char *at = NULL;
	for (const char *q = p; *q && *q != '/' && *q != '?' && *q != '#'; q++)
		if (*q == '@')
			at = q;
	if (at)
		p = at + 1;
	const char *e;
	if (*p == '[') {
		e = strchr(p, ']');
		if (!e)
			return -1;
		p++;
	} else {
		e = p + strcspn(p, ":/?#");
	}
	if (e == p || (size_t)(e - p) >= n)
		return -1;
	memcpy(host, p, (size_t)(e - p));
	host[e - p] = 0;
	return 0;
}

int contract_covered(const struct contract_state *s, const struct backup_info *stored)
{
	if (!s->has_keyset)
		return 1;
	if (stored->epoch_id != s->epoch_id)
		return stored->epoch_id > s->epoch_id;
	for (size_t i = 0; i < s->n_domains; i++) {
		size_t j;
		for (j = 0; j < stored->n_domains; j++)
			if (stored->domains[j].domain_id == s->domains[i].domain_id)
				break;
		if (j == stored->n_domains)
			return 0;
	}
	return 1;
}
