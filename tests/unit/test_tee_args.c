/* tee-attester: from the agent's answers and the PCCS's answers for the real
 * node to submit_participant_info arguments equal, as JSON, to the fixture;
 * the Mock arguments; the measurement pre-check; reading what the contract
 * stored. */
#include <unistd.h>

#include "test_tee_util.h"

#include "args.h"
#include "codec.h"
#include "collateral.h"
#include "dstack.h"
#include "measurements.h"
#include "outfile.h"
#include "pck.h"
#include "quote.h"
#include "report_data.h"
#include "stored.h"

static int json_equal(const char *got, const char *fixture)
{
	cJSON *g = cJSON_Parse(got), *w = tee_fixture_json(fixture);
	int eq = g && cJSON_Compare(g, w, 1);
	cJSON_Delete(g);
	cJSON_Delete(w);
	return eq;
}

static void test_dstack_args(void)
{
	cJSON *vec = tee_fixture_json("report_data_v1_vector.json");
	const char *tls_text = tee_str(vec, "tls_public_key");
	uint8_t tls[32], acct[32], rd[64], *quote;
	size_t n, qlen;
	char err[512] = "";

	tee_ed25519_parse(tls_text, tls);
	tee_ed25519_parse(tee_str(vec, "account_public_key"), acct);
	tee_report_data_v1(tls, acct, rd);

	char *info = tee_info_body();
	cJSON *tcb = tee_dstack_info_parse(info, strlen(info), err, sizeof(err));
	uint8_t *fq = tee_fixture_quote(&n);
	char *qbody = tee_quote_body(fq, n);
	is_int(tee_dstack_quote_parse(qbody, strlen(qbody), &quote, &qlen, err, sizeof(err)), 0,
	       "the agent's quote");
	struct tee_quote q;
	struct tee_pck pck;
	is_int(tee_quote_parse(quote, qlen, &q, err, sizeof(err)), 0, "parses");
	ok(memcmp(q.report_data, rd, 64) == 0, "and binds the fixture's TLS and signer keys");
	is_int(tee_pck_read(q.pck_chain, q.pck_chain_len, &pck, err, sizeof(err)), 0, "its PCK");

	struct tee_pccs_parts p;
	tee_pccs_parts_load(&p);
	struct tee_pccs_answer a[TEE_PCCS_ITEMS] = {
		{ 200, NULL, (const char *)p.pck_crl, p.pck_crl_len, p.pck_crl_chain },
		{ 200, NULL, p.tcb_body, strlen(p.tcb_body), p.tcb_chain },
		{ 200, NULL, p.qe_body, strlen(p.qe_body), p.qe_chain },
		{ 200, NULL, p.root_body, strlen(p.root_body), NULL },
	};
	struct tee_collateral_dates d;
	enum tee_cause cause;
	cJSON *coll = tee_collateral_build(a, &pck, q.pck_chain, q.pck_chain_len, TEE_FIXTURE_NOW,
					   31.0 * 86400, &d, &cause, err, sizeof(err));
	ok(coll != NULL, "collateral from the PCCS answers %s", err);

	char *args = tee_args_dstack(quote, qlen, coll, tcb, tls_text);
	ok(args && json_equal(args, "submit_participant_info_args.dstack.json"),
	   "submit_participant_info arguments equal the fixture, as JSON");
	ok(args && !strchr(args, '\n'), "on one line");
	free(args);

	cJSON_Delete(coll);
	tee_pccs_parts_free(&p);
	cJSON_Delete(tcb);
	free(info);
	free(qbody);
	free(quote);
	free(fq);
	cJSON_Delete(vec);
}

static void test_mock_args(void)
{
	char *args = tee_args_mock("ed25519:3FwWphCj47PA3D8ErKeVNzqn2ckAKrfuixrvvfGrDxUx");
	ok(args && json_equal(args, "submit_participant_info_args.mock_valid.json"),
	   "Mock arguments equal the fixture");
	free(args);
}

static void test_measurements(void)
{
	cJSON *tcb = tee_fixture_json("tcb_info.json");
	char img[65], lch[65], err[256];

	is_int(tee_image_hash(tcb, img, err, sizeof(err)), 0, "the image hash is found");
	is_str(img, "564a5aebc33495d5610626d23cb9e3da8e9d531d0edff9e38aa1ccaf059c15d3",
	       "it is the mpc-image-digest payload (mpc_image_digest.txt)");
	is_int(tee_launcher_hash(tcb, lch, err, sizeof(err)), 0, "the launcher compose hash computes");
	is_str(lch, "615b9ee0e77ea5c3f914f7539490feae04f7a679055435f440e95699f3fb4d28",
	       "it is SHA-256 of docker_compose_file");

	char list[400];
	snprintf(list, sizeof(list), "[{\"image_hash\":\"%s\",\"expiry_timestamp_seconds\":null}]", img);
	is_int(tee_allowed_contains(list, strlen(list), img, 1000), 1, "an allowed image (object form)");
	snprintf(list, sizeof(list), "[{\"image_hash\":\"%s\",\"expiry_timestamp_seconds\":999}]", img);
	is_int(tee_allowed_contains(list, strlen(list), img, 1000), 0, "an image whose allowance expired");
	snprintf(list, sizeof(list), "[\"00\",\"%s\"]", lch);
	is_int(tee_allowed_contains(list, strlen(list), lch, 1000), 1, "an allowed hash (string form)");
	is_int(tee_allowed_contains("[\"00\"]", 6, lch, 1000), 0, "a hash not in the list");
	is_int(tee_allowed_contains("{}", 2, lch, 1000), -1, "a value that is not a list");

	/* a second mpc-image-digest event: the contract wants exactly one */
	cJSON *log = cJSON_GetObjectItem(tcb, "event_log");
	cJSON *last = cJSON_GetArrayItem(log, cJSON_GetArraySize(log) - 1);
	cJSON_AddItemToArray(log, cJSON_Duplicate(last, 1));
	ok(tee_image_hash(tcb, img, err, sizeof(err)) < 0 && strstr(err, "2 mpc-image-digest"),
	   "two image digests are reported: %s", err);
	cJSON_ReplaceItemInObject(tcb, "app_compose", cJSON_CreateString("not json"));
	ok(tee_launcher_hash(tcb, lch, err, sizeof(err)) < 0, "an app_compose that is not JSON: %s", err);
	cJSON_Delete(tcb);
}

static void test_stored(void)
{
	struct tee_stored s;
	const char *ds = "{\"Dstack\":{\"mpc_image_hash\":\"aa\",\"expiry_timestamp_seconds\":1787227200}}";
	is_int(tee_stored_parse("null", 4, &s), 0, "null parses");
	is_int(s.present, 0, "as absent");
	is_int(tee_stored_parse(ds, strlen(ds), &s), 0, "a Dstack entry parses");
	ok(s.present && s.expiry == 1787227200.0, "with its expiry");
	is_int(tee_stored_parse("{\"Mock\":\"Valid\"}", 16, &s), 0, "a Mock entry parses");
	ok(s.present && s.expiry < 0, "without an expiry");
	is_int(tee_stored_parse("[1]", 3, &s), -1, "an array is not an attestation");

	uint8_t tls[32], acct[32];
	tee_ed25519_parse("ed25519:3FwWphCj47PA3D8ErKeVNzqn2ckAKrfuixrvvfGrDxUx", tls);
	tee_ed25519_parse("ed25519:J992NeWhuaJXeUVJcDCVwfS5j1G26B5aJDUZ8iuBCYdc", acct);
	const char *v = "[{\"account_id\":\"frodo.test.near\",\"tls_public_key\":\"ed25519:"
			"3FwWphCj47PA3D8ErKeVNzqn2ckAKrfuixrvvfGrDxUx\",\"account_public_key\":"
			"\"ed25519:J992NeWhuaJXeUVJcDCVwfS5j1G26B5aJDUZ8iuBCYdc\"}]";
	is_int(tee_accounts_lists(v, strlen(v), "frodo.test.near", tls, acct), 1, "the node is listed");
	is_int(tee_accounts_lists(v, strlen(v), NULL, tls, acct), 1, "also without knowing the account");
	is_int(tee_accounts_lists(v, strlen(v), "sam.test.near", tls, acct), 0, "another account is not us");
	is_int(tee_accounts_lists(v, strlen(v), NULL, acct, acct), 0, "another TLS key is not us");
	is_int(tee_accounts_lists("[]", 2, NULL, tls, acct), 0, "an empty list");
	is_int(tee_accounts_lists("[{}]", 4, NULL, tls, acct), -1, "entries without account_id");
	is_int(tee_accounts_lists("nope", 4, NULL, tls, acct), -1, "not JSON");
}

static void test_outfile(void)
{
	char dir[] = "/tmp/tee-out-XXXXXX", path[300], err[400];
	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	snprintf(path, sizeof(path), "%s/args.json", dir);
	is_int(tee_write_whole(path, "{\"a\":1}", 7, err, sizeof(err)), 0, "the arguments file is written");
	is_int(tee_write_whole(path, "{}", 2, err, sizeof(err)), 0, "and replaced");
	char *text = tee_slurp(path, NULL);
	is_str(text, "{}\n", "whole, with a newline");
	free(text);
	snprintf(path, sizeof(path), "%s/args.json.tmp", dir);
	ok(access(path, F_OK) != 0, "no temporary file is left");
	snprintf(path, sizeof(path), "%s/missing/args.json", dir);
	ok(tee_write_whole(path, "{}", 2, err, sizeof(err)) < 0 && strstr(err, "missing/args.json") &&
	   strstr(err, "No such file"), "a directory that does not exist: %s", err);
	snprintf(path, sizeof(path), "%s/args.json", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_dstack_args();
	test_mock_args();
	test_measurements();
	test_stored();
	test_outfile();
	return done_testing();
}
