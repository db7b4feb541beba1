/* tee-attester: proves to the MPC contract that this node runs in a TDX TEE
 * (a dstack quote binding its TLS and signer keys, with PCCS collateral),
 * and keeps proving it: at start, every refresh_interval, and at once when
 * get_tee_accounts stops listing the node.  See README.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "attester.h"
#include "codec.h"
#include "stored.h"

#define KEY_FILE_MAX 4096

static const struct mpci_config_key keys[] = {
	{ "mode", MPCI_CFG_STR, "dstack",
	  "dstack: TDX quote from the dstack agent, submitted; mock: {\"Mock\":\"Valid\"}, "
	  "submitted (non-TEE test networks); dry-run: TDX quote, arguments printed, "
	  "nothing submitted" },
	{ "dstack_socket", MPCI_CFG_PATH, "/var/run/dstack.sock",
	  "the dstack guest agent's Unix socket" },
	{ "pccs_url", MPCI_CFG_STR, "https://pccs.phala.network",
	  "PCCS (Intel PCS API v4) base URL for the collateral" },
	{ "pccs_ca_file", MPCI_CFG_PATH, NULL, "trust these roots for the PCCS (default: system)" },
	{ "tls_public_key", MPCI_CFG_STR, NULL, "the node's TLS (P2P) public key, ed25519:<base58>" },
	{ "tls_public_key_file", MPCI_CFG_PATH, NULL,
	  "or a file holding it: ed25519:<base58>, or JSON with public_key" },
	{ "signer", MPCI_CFG_STR, NULL,
	  "the [signer.NAME] that submits; its key is bound into report_data (default: the only one)" },
	{ "signer_public_key", MPCI_CFG_STR, NULL,
	  "the signer's public key; needed by dry-run when no signer is configured" },
	{ "refresh_interval", MPCI_CFG_DURATION, "1h", "submit a fresh attestation this often" },
	{ "poll_interval", MPCI_CFG_DURATION, "10s",
	  "poll get_tee_accounts (a dropped attestation is re-submitted) and get_attestation "
	  "(confirmation) this often" },
	{ "confirm_timeout", MPCI_CFG_DURATION, "2m",
	  "after the transaction, how long get_attestation may take to show the new attestation" },
	{ "backoff_initial", MPCI_CFG_DURATION, "100ms", "first retry delay after a failure" },
	{ "backoff_max", MPCI_CFG_DURATION, "60s", "retry delays grow by 1.5x up to this" },
	{ "dstack_timeout", MPCI_CFG_DURATION, "30s", "one request to the dstack agent" },
	{ "pccs_timeout", MPCI_CFG_DURATION, "10s", "one request to the PCCS" },
	{ "collateral_max_age", MPCI_CFG_DURATION, "31d",
	  "refuse collateral (TCB info, QE identity, PCK CRL) issued longer ago" },
	{ "dry_run_output", MPCI_CFG_PATH, NULL,
	  "dry-run: write the arguments to this file (default: stdout)" },
	{ NULL, 0, NULL, NULL },
};

static int fail_init(struct tee *t, const char *key, const char *fmt, const char *detail)
{
	const char *where = key ? t->api->config_where(t->self, key) : NULL;
	char msg[512];
	snprintf(msg, sizeof(msg), fmt, detail ? detail : "");
	t->api->log(t->self, MPCI_LOG_ERROR, "%s%s%s", where ? where : "", where ? ": " : "", msg);
	return MPCI_ERR_INVAL;
}

static char *dup_config(struct tee *t, const char *key)
{
	const char *v = t->api->config_str(t->self, key);
	return v ? strdup(v) : NULL;
}

static int duration(struct tee *t, const char *key, double *out, double min)
{
	if (t->api->config_double(t->self, key, out) != MPCI_OK || !(*out >= min))
		return fail_init(t, key, "%s must be a duration of at least a millisecond", key);
	return MPCI_OK;
}

/* A key file: "ed25519:..." or a JSON object with public_key. */
static int read_key_file(struct tee *t, const char *path, char *out, size_t n)
{
	char buf[KEY_FILE_MAX + 1];
	FILE *f = fopen(path, "re");
	size_t len = f ? fread(buf, 1, KEY_FILE_MAX + 1, f) : 0;

	if (!f)
		return fail_init(t, "tls_public_key_file", "cannot read it: %s", strerror(errno));
	fclose(f);
	if (len > KEY_FILE_MAX)
		return fail_init(t, "tls_public_key_file", "over 4 KiB: not a key file%s", NULL);
	buf[len] = 0;
	char *s = buf + strspn(buf, " \t\r\n");
	if (*s == '{') {
		cJSON *doc = cJSON_Parse(s);
		const cJSON *pk = cJSON_GetObjectItemCaseSensitive(doc, "public_key");
		int ok = cJSON_IsString(pk) && strlen(pk->valuestring) < n;
		if (ok)
			snprintf(out, n, "%s", pk->valuestring);
		cJSON_Delete(doc);
		if (!ok)
			return fail_init(t, "tls_public_key_file", "JSON without a public_key%s", NULL);
		return MPCI_OK;
	}
	s[strcspn(s, " \t\r\n")] = 0;
	if (strlen(s) >= n)
		return fail_init(t, "tls_public_key_file", "does not hold an ed25519 key%s", NULL);
	snprintf(out, n, "%s", s);
	return MPCI_OK;
}

static int read_keys(struct tee *t)
{
	const char *tls = t->api->config_str(t->self, "tls_public_key");
	const char *file = t->api->config_str(t->self, "tls_public_key_file");

	if (!!tls == !!file)
		return fail_init(t, tls ? "tls_public_key" : NULL,
				 "set exactly one of tls_public_key and tls_public_key_file%s", NULL);
	if (tls) {
		if (strlen(tls) >= sizeof(t->tls_pk_text))
			return fail_init(t, "tls_public_key", "not an ed25519 key%s", NULL);
		snprintf(t->tls_pk_text, sizeof(t->tls_pk_text), "%s", tls);
	} else if (read_key_file(t, file, t->tls_pk_text, sizeof(t->tls_pk_text)) != MPCI_OK) {
		return MPCI_ERR_INVAL;
	}
	if (tee_ed25519_parse(t->tls_pk_text, t->tls_pk) < 0)
		return fail_init(t, tls ? "tls_public_key" : "tls_public_key_file",
				 "'%s' is not ed25519:<base58 of 32 bytes>", t->tls_pk_text);
	return MPCI_OK;
}

/* The key that signs, from the configured signer or signer_public_key. */
static int read_signer(struct tee *t)
{
	const char *given = t->api->config_str(t->self, "signer_public_key");
	struct mpci_signer_info info = { .struct_size = sizeof(info) };
	int rc = t->api->signer_info(t->self, t->signer, &info);
	uint8_t given_pk[32];

	if (given && tee_ed25519_parse(given, given_pk) < 0)
		return fail_init(t, "signer_public_key", "'%s' is not ed25519:<base58 of 32 bytes>",
				 given);
	if (rc == MPCI_OK && info.public_key) {
		if (tee_ed25519_parse(info.public_key, t->signer_pk) < 0)
			return fail_init(t, "signer", "the signer's key %s is not an ed25519 key "
					 "(the contract accepts only ed25519)", info.public_key);
		if (given && memcmp(given_pk, t->signer_pk, 32) != 0)
			return fail_init(t, "signer_public_key", "it differs from the signer's key %s",
					 info.public_key);
		snprintf(t->signer_pk_text, sizeof(t->signer_pk_text), "%s", info.public_key);
		if (info.account_id && !(t->account_id = strdup(info.account_id)))
			return MPCI_ERR_NOMEM;
		return MPCI_OK;
	}
	if (t->mode != TEE_MODE_DRY_RUN) {
		char why[160];
		snprintf(why, sizeof(why), "%s (error %d)", rc == MPCI_ERR_UNSUPPORTED ?
			 "this host has no transaction sender" : rc == MPCI_ERR_NOTFOUND ?
			 "no such signer, or several and no signer key" : "signer_info failed", rc);
		return fail_init(t, t->signer ? "signer" : "mode",
				 "submitting needs a [signer.NAME] section: %s", why);
	}
	if (!given)
		return fail_init(t, "mode", "dry-run needs signer_public_key when no signer is "
				 "configured: report_data binds the key that will submit%s", NULL);
	memcpy(t->signer_pk, given_pk, 32);
	snprintf(t->signer_pk_text, sizeof(t->signer_pk_text), "%s", given);
	return MPCI_OK;
}

static int read_config(struct tee *t)
{
	const char *mode = t->api->config_str(t->self, "mode");
	int rc;

	if (mode && strcmp(mode, "dstack") == 0)
		t->mode = TEE_MODE_DSTACK;
	else if (mode && strcmp(mode, "mock") == 0)
		t->mode = TEE_MODE_MOCK;
	else if (mode && strcmp(mode, "dry-run") == 0)
		t->mode = TEE_MODE_DRY_RUN;
	else
		return fail_init(t, "mode", "mode '%s' is not dstack, mock or dry-run",
				 mode ? mode : "");
	t->dstack_socket = dup_config(t, "dstack_socket");
	t->pccs_url = dup_config(t, "pccs_url");
	t->pccs_ca_file = dup_config(t, "pccs_ca_file");
	t->signer = dup_config(t, "signer");
	t->dry_run_output = dup_config(t, "dry_run_output");
	if (!t->dstack_socket || !t->pccs_url)
		return fail_init(t, NULL, "out of memory%s", NULL);
	if (strncmp(t->pccs_url, "http://", 7) != 0 && strncmp(t->pccs_url, "https://", 8) != 0)
		return fail_init(t, "pccs_url", "'%s' is not an http:// or https:// URL",
				 t->pccs_url);
	if ((rc = duration(t, "refresh_interval", &t->refresh_interval, 1e-3)) ||
	    (rc = duration(t, "poll_interval", &t->poll_interval, 1e-3)) ||
	    (rc = duration(t, "confirm_timeout", &t->confirm_timeout, 1e-3)) ||
	    (rc = duration(t, "backoff_initial", &t->backoff_initial, 1e-3)) ||
	    (rc = duration(t, "backoff_max", &t->backoff_max, 1e-3)) ||
	    (rc = duration(t, "dstack_timeout", &t->dstack_timeout, 1e-3)) ||
	    (rc = duration(t, "pccs_timeout", &t->pccs_timeout, 1e-3)) ||
	    (rc = duration(t, "collateral_max_age", &t->collateral_max_age, 1)))
		return rc;
	if (t->backoff_max < t->backoff_initial)
		return fail_init(t, "backoff_max", "backoff_max is below backoff_initial%s", NULL);
	if ((rc = read_keys(t)) != MPCI_OK)
		return rc;
	return read_signer(t);
}

/* ---- what the contract shows ---- */

static void on_tee_accounts(const struct mpci_view_result *r, void *ud)
{
	struct tee *t = ud;
	if (t->stopping)
		return;
	if (!r->ok) {
		t->api->log(t->self, MPCI_LOG_DEBUG, "get_tee_accounts: %s", r->error);
		return;
	}
	int listed = tee_accounts_lists(r->value, r->value_len, t->account_id, t->tls_pk,
					t->signer_pk);
	if (listed < 0) {
		t->api->log(t->self, MPCI_LOG_WARN, "get_tee_accounts at height %llu is not a list "
			    "of accounts: %.80s", (unsigned long long)r->block_height, r->value);
		return;
	}
	t->api->metric_set(t->m_attested, NULL, listed);
	if (t->listed == 1 && !listed) {
		t->api->log(t->self, MPCI_LOG_WARN, "get_tee_accounts at height %llu no longer "
			    "lists this node (%s): attesting again now",
			    (unsigned long long)r->block_height, t->tls_pk_text);
		if (!t->at)
			tee_schedule(t, 0, "dropped");
	}
	t->listed = listed;
}

static void keep_value(struct tee *t, char **slot, const struct mpci_view_result *r)
{
	char *v;
	if (t->stopping || !r->ok || !(v = strndup(r->value, r->value_len)))
		return;
	free(*slot);
	*slot = v;
}

static void on_allowed_images(const struct mpci_view_result *r, void *ud)
{
	struct tee *t = ud;
	keep_value(t, &t->allowed_images, r);
}

static void on_allowed_launchers(const struct mpci_view_result *r, void *ud)
{
	struct tee *t = ud;
	keep_value(t, &t->allowed_launchers, r);
}

static int subscribe(struct tee *t, const char *method, mpci_view_fn cb, double interval)
{
	struct mpci_poll_policy update = { .interval = interval };
	struct mpci_view_spec spec = { .struct_size = sizeof(spec), .method = method,
				       .update = interval > 0 ? &update : NULL };
	return t->api->subscribe_state(t->self, &spec, cb, t, NULL, NULL);
}

static int subscriptions(struct tee *t)
{
	int rc;

	if (t->mode != TEE_MODE_DRY_RUN) {
		rc = subscribe(t, "get_tee_accounts", on_tee_accounts, t->poll_interval);
		if (rc != MPCI_OK) {
			char why[64];
			snprintf(why, sizeof(why), "%s (error %d)", rc == MPCI_ERR_UNSUPPORTED ?
				 "this host has no state views" : "subscribe_state failed", rc);
			return fail_init(t, "mode", "watching get_tee_accounts: %s", why);
		}
	}
	if (t->mode != TEE_MODE_MOCK &&
	    (subscribe(t, "allowed_docker_image_hashes", on_allowed_images, 0) != MPCI_OK ||
	     subscribe(t, "allowed_launcher_compose_hashes", on_allowed_launchers, 0) != MPCI_OK))
		t->api->log(t->self, MPCI_LOG_WARN, "cannot watch the contract's allowed hashes: "
			    "this node's measurements are not pre-checked");
	return MPCI_OK;
}

/* ---- lifecycle ---- */

static void tee_free(struct tee *t)
{
	free(t->dstack_socket);
	free(t->pccs_url);
	free(t->pccs_ca_file);
	free(t->signer);
	free(t->account_id);
	free(t->dry_run_output);
	free(t->allowed_images);
	free(t->allowed_launchers);
	free(t);
}

static int init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	static const char *const cause[] = { "cause", NULL };
	static const char *const reason[] = { "reason", NULL };
	static const char *const measurement[] = { "measurement", NULL };
	struct tee *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return MPCI_ERR_NOMEM;
	t->api = api;
	t->self = self;
	t->listed = -1;
	if ((rc = read_config(t)) != MPCI_OK) {
		tee_free(t);
		return rc;
	}
	t->m_last_success = api->metric_gauge(self, "mpc_indexer_tee_last_success_timestamp_seconds",
		"Unix time of the last attestation the contract confirmed (dry-run: printed).", NULL);
	t->m_expiry = api->metric_gauge(self, "mpc_indexer_tee_attestation_expiry_timestamp_seconds",
		"Unix time the contract's stored attestation of this node expires.", NULL);
	t->m_failures = api->metric_counter(self, "mpc_indexer_tee_failures_total",
		"Failed attestation attempts, by cause.", cause);
	t->m_submissions = api->metric_counter(self, "mpc_indexer_tee_submissions_total",
		"submit_participant_info transactions sent, by reason "
		"(start, refresh, dropped, retry).", reason);
	t->m_attested = api->metric_gauge(self, "mpc_indexer_tee_attested",
		"1 when get_tee_accounts lists this node's TLS and signer keys.", NULL);
	t->m_allowed = api->metric_gauge(self, "mpc_indexer_tee_measurement_allowed",
		"1 when this node's measurement is in the contract's allowed list "
		"(image, launcher_compose).", measurement);
	if (!t->m_last_success || !t->m_expiry || !t->m_failures || !t->m_submissions ||
	    !t->m_attested || !t->m_allowed) {
		api->log(self, MPCI_LOG_ERROR, "cannot register the metrics");
		tee_free(t);
		return MPCI_ERR;
	}
	/* last: after this, the host holds callbacks into t */
	if ((rc = subscriptions(t)) != MPCI_OK) {
		tee_free(t);
		return rc;
	}
	api->log(self, MPCI_LOG_INFO, "mode %s: TLS key %s, signer %s%s%s, refresh every %.0fs",
		 t->mode == TEE_MODE_DSTACK ? "dstack" : t->mode == TEE_MODE_MOCK ? "mock"
		 : "dry-run", t->tls_pk_text, t->signer_pk_text, t->account_id ? " of " : "",
		 t->account_id ? t->account_id : "", t->refresh_interval);
	*state = t;
	return MPCI_OK;
}

static int start(void *state)
{
	tee_schedule(state, 0, "start");
	return MPCI_OK;
}

static void stop(void *state)
{
	tee_cycle_stop(state);
}

static void fini(void *state)
{
	struct tee *t = state;
	tee_cycle_stop(t);
	tee_free(t);
}

static const struct mpci_plugin_desc desc = {
	MPCI_DESC_HEADER,
	.name = "tee-attester",
	.version = "1.0.0",
	.description = "TDX attestation from the dstack agent, submitted to the MPC contract "
		       "and kept fresh",
	.config = keys,
	.init = init,
	.start = start,
	.stop = stop,
	.fini = fini,
};

MPCI_PLUGIN(desc)
