/* prometheus-monitor: the contract view parsers against the contract's real
 * and derived `state` documents and the view examples, and malformed input
 * rejected with the place named. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "contract.h"

static char *slurp(const char *name, size_t *len)
{
	char path[1024];
	const char *top = getenv("top_srcdir");
	snprintf(path, sizeof(path), "%s/tests/fixtures/prom/%s", top ? top : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		bail_out("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		bail_out("cannot read %s", path);
	fclose(f);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

/* One entry of call_and_view_examples.json's view_results, printed back as JSON. */
static char *view_example(const char *key)
{
	size_t n;
	char *all = slurp("call_and_view_examples.json", &n);
	cJSON *doc = cJSON_ParseWithLength(all, n);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(doc, "view_results"), key);
	if (!v)
		bail_out("no view example '%s'", key);
	char *out = cJSON_PrintUnformatted(v);
	cJSON_Delete(doc);
	free(all);
	return out;
}

static const struct contract_participant *participant(const struct contract_state *s,
						      const char *account)
{
	for (size_t i = 0; i < s->n_participants; i++)
		if (strcmp(s->participants[i].account, account) == 0)
			return &s->participants[i];
	return NULL;
}

static void test_running(void)
{
	struct contract_state s;
	char err[300] = "";
	size_t n;
	char *j = slurp("state_running_current_format.json", &n);
	is_int(contract_parse_state(j, n, 100, &s, err, sizeof(err)), 0, "current Running state parses (%s)", err);
	is_int(s.phase, CONTRACT_RUNNING, "phase Running");
	is_int(s.epoch, 4, "epoch 4 (keyset.epoch_id)");
	is_int(s.threshold, 7, "threshold 7");
	is_int(s.n_participants, 10, "10 participants");
	const struct contract_participant *p = participant(&s, "lifted-mainnet.near");
	ok(p && p->id == 3, "lifted-mainnet.near has participant id 3");
	is_str(p ? p->url : NULL, "https://near-mpc.liftedinit.org", "its url");
	is_str(p ? p->tls_key : NULL, "ed25519:JBjY7yjbfQ51na3bStPPYMyfModUTFHco5xUNEem3uu6", "its TLS key");
	is_int(s.n_domains, 2, "2 domains");
	is_str(s.domains[0].protocol, "CaitSith", "domain 0 is CaitSith");
	is_str(s.domains[1].purpose, "Sign", "domain 1 purpose Sign");
	is_int(s.domains[0].reconstruction_threshold, 7, "domain 0 reconstruction threshold 7");
	ok(s.domains[0].has_key && s.domains[0].attempt == 240, "domain 0 key from attempt 240");
	ok(s.domains[1].has_key && s.domains[1].attempt == 0, "domain 1 key from attempt 0");
	ok(!s.has_key_event, "no key event while Running");
	contract_state_free(&s);
	free(j);

	j = slurp("mainnet_state_running_epoch4.json", &n);
	is_int(contract_parse_state(j, n, 100, &s, err, sizeof(err)), 0,
	       "the real mainnet state (3.10-cycle shape with `curve`) parses (%s)", err);
	ok(s.epoch == 4 && s.n_participants == 10 && s.n_domains == 2,
	   "same facts: epoch 4, 10 participants, 2 domains");
	contract_state_free(&s);
	free(j);
}

static void test_resharing(void)
{
	struct contract_state s;
	char err[300] = "";
	size_t n;
	char *j = slurp("state_resharing.json", &n);
	is_int(contract_parse_state(j, n, 100, &s, err, sizeof(err)), 0, "Resharing parses (%s)", err);
	is_int(s.phase, CONTRACT_RESHARING, "phase Resharing");
	is_int(s.epoch, 4, "epoch in use is the previous running keyset's (4)");
	is_int(s.n_participants, 10, "participants in use: the previous set (10)");
	ok(s.has_key_event, "a key event");
	is_int(s.ke_epoch, 5, "it produces epoch 5");
	is_int(s.ke_domain, 1, "working on domain 1");
	is_int(s.ke_participants, 9, "for the new set of 9");
	is_int(s.ke_threshold, 7, "with threshold 7");
	is_int(s.ke_keys_done, 1, "one domain reshared");
	ok(!s.ke_started && s.ke_attempt == 0, "no instance: not started, next attempt 0");
	contract_state_free(&s);
	free(j);
}

static void test_initializing(void)
{
	struct contract_state s;
	char err[300] = "";
	size_t n;
	char *j = slurp("state_initializing.json", &n);
	is_int(contract_parse_state(j, n, 171000010, &s, err, sizeof(err)), 0,
	       "Initializing parses (%s)", err);
	is_int(s.phase, CONTRACT_INITIALIZING, "phase Initializing");
	is_int(s.epoch, 4, "epoch 4");
	is_int(s.n_domains, 3, "3 domains, the new one included");
	ok(s.domains[0].has_key && !s.domains[2].has_key, "keys for the old domains only");
	ok(s.ke_started && s.ke_attempt == 0 && s.ke_domain == 2,
	   "instance on domain 2 running at a height before expires_on");
	is_int(s.ke_keys_done, 2, "2 keys generated");
	is_int(s.threshold, 7, "threshold of the generating set");
	contract_state_free(&s);
	is_int(contract_parse_state(j, n, 171000031, &s, err, sizeof(err)), 0, "again, observed at expires_on");
	ok(!s.ke_started && s.ke_attempt == 1, "expired instance: not started, next attempt 1");
	contract_state_free(&s);
	free(j);

	j = slurp("state_not_initialized.json", &n);
	is_int(contract_parse_state(j, n, 1, &s, err, sizeof(err)), 0, "\"NotInitialized\" parses");
	ok(s.phase == CONTRACT_NOT_INITIALIZED && s.n_participants == 0, "phase NotInitialized, nobody");
	contract_state_free(&s);
	free(j);
}

static void bad_state(const char *json, const char *want, const char *what)
{
	struct contract_state s;
	char err[300] = "";
	int rc = contract_parse_state(json, strlen(json), 1, &s, err, sizeof(err));
	ok(rc == -1 && strstr(err, want), "%s: rejected, naming %s", what, want);
	if (rc != -1 || !strstr(err, want))
		diag("error: %s", err);
	contract_state_free(&s);
}

static void test_malformed(void)
{
	bad_state("", "not valid JSON", "empty value");
	bad_state("{\"Running\":", "not valid JSON", "truncated JSON");
	bad_state("\"Paused\"", "not one of", "an unknown state string");
	bad_state("{\"Running\":{},\"Resharing\":{}}", "not one of", "two variants at once");
	bad_state("[1,2]", "not one of", "an array");
	bad_state("{\"Running\":{\"domains\":{\"domains\":[]},\"keyset\":{\"epoch_id\":-1,\"domains\":[]},"
		  "\"parameters\":{\"participants\":{\"participants\":[]},\"threshold\":1}}}",
		  "Running.keyset.epoch_id", "a negative epoch");
	bad_state("{\"Running\":{\"domains\":{\"domains\":[]},\"keyset\":{\"epoch_id\":1.5,\"domains\":[]},"
		  "\"parameters\":{\"participants\":{\"participants\":[]},\"threshold\":1}}}",
		  "Running.keyset.epoch_id", "a fractional epoch");
	bad_state("{\"Running\":{\"domains\":{\"domains\":[]},\"keyset\":{\"epoch_id\":1e300,\"domains\":[]},"
		  "\"parameters\":{\"participants\":{\"participants\":[]},\"threshold\":1}}}",
		  "Running.keyset.epoch_id", "an epoch beyond 2^53");
	bad_state("{\"Running\":{\"domains\":{\"domains\":[]},\"keyset\":{\"epoch_id\":1,\"domains\":[]},"
		  "\"parameters\":{\"participants\":{\"participants\":[[\"a.near\",\"x\",{}]]},\"threshold\":1}}}",
		  "Running.parameters.participants.participants[0]", "a participant id that is a string");
	bad_state("{\"Running\":{\"domains\":{\"domains\":[{\"protocol\":\"Frost\"}]},\"keyset\":{\"epoch_id\":1,\"domains\":[]},"
		  "\"parameters\":{\"participants\":{\"participants\":[]},\"threshold\":1}}}",
		  "Running.domains.domains[0].id", "a domain without id");
	bad_state("{\"Running\":{\"domains\":{\"domains\":[]},\"keyset\":{\"epoch_id\":1,\"domains\":[]}}}",
		  "Running.parameters", "no parameters");
	bad_state("{\"Resharing\":{\"previous_running_state\":{}}}", "Resharing.resharing_key",
		  "Resharing without a key event");
	/* a long account id is refused rather than truncated */
	char big[600];
	snprintf(big, sizeof(big), "{\"Running\":{\"domains\":{\"domains\":[]},\"keyset\":{\"epoch_id\":1,\"domains\":[]},"
		 "\"parameters\":{\"participants\":{\"participants\":[[\"%0100d\",1,{}]]},\"threshold\":1}}}", 0);
	bad_state(big, "longer than 64", "an account id over 64 bytes");
}

static void test_views(void)
{
	char err[300] = "", *j;
	size_t n, m;
	double lo, hi;
	int present;
	double exp;

	j = view_example("allowed_docker_image_hashes result (>=3.14.0)");
	ok(contract_parse_hashes(j, strlen(j), &n, &lo, &hi, err, sizeof(err)) == 0 && n == 1 && lo == 0,
	   "image hashes (3.14 objects): 1, no expiry");
	free(j);
	j = view_example("allowed_docker_image_hashes result (<=3.13.x legacy)");
	ok(contract_parse_hashes(j, strlen(j), &n, &lo, &hi, err, sizeof(err)) == 0 && n == 1,
	   "image hashes (legacy strings): 1");
	free(j);
	const char *exp2 = "[{\"image_hash\":\"aa\",\"expiry_timestamp_seconds\":2000},"
			   "{\"image_hash\":\"bb\",\"expiry_timestamp_seconds\":1000},"
			   "{\"image_hash\":\"cc\",\"expiry_timestamp_seconds\":null}]";
	ok(contract_parse_hashes(exp2, strlen(exp2), &n, &lo, &hi, err, sizeof(err)) == 0 &&
	   n == 3 && lo == 1000 && hi == 2000, "expiries: earliest 1000, latest 2000");
	ok(contract_parse_hashes("{}", 2, &n, &lo, &hi, err, sizeof(err)) == -1 &&
	   strstr(err, "not an array"), "hashes: an object is refused (%s)", err);

	char *accounts = NULL;
	j = view_example("get_tee_accounts result");
	ok(contract_parse_tee_accounts(j, strlen(j), &n, &accounts, err, sizeof(err)) == 0 &&
	   n == 1 && strcmp(accounts, "frodo.test.near") == 0, "get_tee_accounts: frodo.test.near");
	free(accounts);
	free(j);
	ok(contract_parse_tee_accounts("[{\"tls_public_key\":\"x\"}]", 24, &n, &accounts, err,
				       sizeof(err)) == -1 && strstr(err, "[0].account_id"),
	   "get_tee_accounts: an entry without account_id names it (%s)", err);

	j = view_example("migration_info result");
	ok(contract_parse_migrations(j, strlen(j), &n, &m, err, sizeof(err)) == 0 && n == 1 && m == 1,
	   "migration_info: 1 backup service, 1 migration");
	free(j);
	ok(contract_parse_migrations("{\"a\":[null]}", 12, &n, &m, err, sizeof(err)) == -1 &&
	   strstr(err, "migration_info[\"a\"]"), "migration_info: a 1-element entry is refused (%s)", err);

	j = view_example("get_attestation result (Mock)");
	ok(contract_parse_attestation(j, strlen(j), &present, &exp, err, sizeof(err)) == 0 &&
	   present && exp == 0, "get_attestation Mock Valid: present, no expiry");
	free(j);
	const char *dstack = "{\"Dstack\":{\"mpc_image_hash\":\"aa\",\"launcher_compose_hash\":\"bb\","
			     "\"expiry_timestamp_seconds\":1800000000,\"measurements\":{}}}";
	ok(contract_parse_attestation(dstack, strlen(dstack), &present, &exp, err, sizeof(err)) == 0 &&
	   present && exp == 1800000000, "get_attestation Dstack: expiry 1800000000");
	const char *wc = "{\"Mock\":{\"WithConstraints\":{\"expiry_timestamp_seconds\":1700000000}}}";
	ok(contract_parse_attestation(wc, strlen(wc), &present, &exp, err, sizeof(err)) == 0 &&
	   exp == 1700000000, "get_attestation Mock WithConstraints: its expiry");
	ok(contract_parse_attestation("null", 4, &present, &exp, err, sizeof(err)) == 0 && !present,
	   "get_attestation null: absent");

	char v[72];
	j = view_example("version result");
	ok(contract_parse_version(j, strlen(j), v, sizeof(v), err, sizeof(err)) == 0 &&
	   strcmp(v, "3.14.0") == 0, "version 3.14.0");
	free(j);
	ok(contract_parse_version("3", 1, v, sizeof(v), err, sizeof(err)) == -1,
	   "version: a number is refused");
}

int main(void)
{
	test_running();
	test_resharing();
	test_initializing();
	test_malformed();
	test_views();
	return done_testing();
}
