/* Block documents: the real NEAR Lake block + shard decode (checked against an independent
 * cJSON reading), a generic filter finds exactly the fixture's receipts, a real mainnet
 * receipt entry matches with decoded args and logs, and malformed documents fail with an
 * error naming the place, never a crash. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "blockdoc.h"
#include "mpc_events.h"

static char *slurp(const char *rel, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	FILE *f;
	long n;
	char *s;

	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", rel);
	if (!(f = fopen(path, "rb")))
		bail_out("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	if (!s || fread(s, 1, (size_t)n, f) != (size_t)n)
		bail_out("cannot read %s", path);
	s[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return s;
}

static char *jstrdup(const struct jstr *s)
{
	return s->p ? jstr_dup(s, NULL) : strdup("(none)");
}

static const char *jget(const cJSON *o, const char *path)
{
	char buf[256], *save = NULL, *tok;
	const cJSON *x = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && x; tok = strtok_r(NULL, ".", &save))
		x = cJSON_IsArray(x) ? cJSON_GetArrayItem(x, atoi(tok))
				     : cJSON_GetObjectItemCaseSensitive(x, tok);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

static void lake_fixture(void)
{
	size_t bl, sl;
	char *block = slurp("tests/fixtures/blocks/lake_localnet_879765_block.json", &bl);
	char *shard = slurp("tests/fixtures/blocks/lake_localnet_879765_shard_0.json", &sl);
	size_t dl = bl + sl + 32;
	char *doc = malloc(dl), err[256];
	struct blockdoc d = { 0 };
	cJSON *jb = cJSON_Parse(block), *js = cJSON_Parse(shard);

	snprintf(doc, dl, "{\"block\":%s,\"shards\":[%s]}", block, shard);
	is_int(blockdoc_parse(&d, doc, strlen(doc), err, sizeof(err)), BD_OK,
	       "the Lake block + shard as one StreamerMessage decode");
	is_int(d.height, 879765, "height");
	is_int(d.prev_height, 879764, "prev_height");
	is_str(d.hash, jget(jb, "header.hash"), "hash");
	is_str(d.prev_hash, jget(jb, "header.prev_hash"), "prev_hash");
	is_str(d.last_final_block, jget(jb, "header.last_final_block"), "last_final_block");
	ok(d.timestamp_nanosec == 1676913656724153000ULL, "timestamp_nanosec read exactly (> 2^53)");
	is_int(d.n_shards, 1, "one shard");
	is_int(d.n_outs, (long long)cJSON_GetArraySize(cJSON_GetObjectItem(js, "receipt_execution_outcomes")),
	       "every receipt outcome of the shard is read");
	if (d.n_outs == 1) {
		const struct bd_outcome *o = &d.outs[0];
		char *s;
		is_str((s = jstrdup(&o->receipt_id)), jget(js, "receipt_execution_outcomes.0.receipt.receipt_id"),
		       "receipt_id");
		free(s);
		is_str((s = jstrdup(&o->executor)),
		       jget(js, "receipt_execution_outcomes.0.execution_outcome.outcome.executor_id"), "executor_id");
		free(s);
		is_str((s = jstrdup(&o->predecessor)), "test.near", "predecessor_id");
		free(s);
		is_int(o->status, BD_ST_FAILURE, "the Delegate receipt failed (DelegateActionExpired)");
		ok(o->n_actions == 1 && !o->single_fc, "one action, not a FunctionCall");
		ok(o->status_json.n > 0 && !memcmp(o->status_json.p, "{", 1), "status kept as raw JSON");
	}

	/* A generic filter on the receipts the fixture holds: there is no FunctionCall in it,
	 * so a receiver filter on its only account finds nothing, and an unrelated one too. */
	struct mpc_matcher *m = mpc_matcher_new(NULL);
	struct mpci_filter f[2] = { { MPCI_FILTER_RECEIVER, "test.near", NULL },
				    { MPCI_FILTER_EXECUTOR_PROMISE, "test.near", NULL } };
	mpc_matcher_add(m, 1, f, 2, err, sizeof(err));
	struct mpc_block *b = mpc_events_extract(m, &d);
	ok(b && b->n_matches == 0 && b->n_requests == 0,
	   "filters on test.near match nothing: its one receipt is a Delegate, not a FunctionCall");
	ok(b && b->n_outcomes == 1 && !strcmp(b->hash, d.hash), "the compact block keeps the context");
	mpc_block_free(b);
	mpc_matcher_free(m);

	/* The same from the separate Lake files. */
	struct blockdoc d2 = { 0 };
	is_int(blockdoc_parse_header(&d2, block, bl, err, sizeof(err)), BD_OK, "block.json alone decodes");
	is_int(blockdoc_parse_shard(&d2, shard, sl, 0, err, sizeof(err)), BD_OK, "shard_0.json alone decodes");
	ok(d2.height == d.height && d2.n_outs == d.n_outs && !strcmp(d2.hash, d.hash),
	   "the split files give the same block");
	blockdoc_free(&d2);

	/* Truncation anywhere fails cleanly and names a byte offset. */
	size_t n = strlen(doc), fails = 0, named = 0;
	for (size_t cut = 0; cut < n; cut += 97) {
		int r = blockdoc_parse(&d, doc, cut, err, sizeof(err));
		fails += r == BD_ERROR;
		named += strstr(err, "at byte") != NULL;
	}
	ok(fails == (n + 96) / 97 && named == fails, "every truncation fails with a located error (%zu cuts)", fails);
	cJSON_Delete(jb);
	cJSON_Delete(js);
	blockdoc_free(&d);
	free(block);
	free(shard);
	free(doc);
}

/* The real mainnet receipt entry quoted in the reference (block 61321189, shard 3), in a
 * block with a made-up header. */
static const char mainnet_entry[] =
	"{\"execution_outcome\":{\"block_hash\":\"DEK7XjDsduvDwVidshcJWGBGby7XLXozPagCgQDKmeae\","
	"\"id\":\"BBF2YhzJskXL9tHdCyG9eAK9rzyVfiXJBsUz9mA5k7ga\","
	"\"outcome\":{\"executor_id\":\"v2.ref-farming.near\",\"gas_burnt\":8827811119620,"
	"\"logs\":[\"v2.ref-finance.near@2734#1 RPS increased to 10740864658165696570 and RR update to #17352\"],"
	"\"metadata\":{\"gas_profile\":[{\"cost\":\"BASE\",\"cost_category\":\"WASM_HOST_COST\",\"gas_used\":\"13238405550\"}],\"version\":1},"
	"\"receipt_ids\":[\"Bpb7neNcCtySVNhRjaXdL7JuyDDyB9jb8YH6dpBr7ETR\"],\"status\":{\"SuccessValue\":\"\"},"
	"\"tokens_burnt\":\"882781111962000000000\"},"
	"\"proof\":[{\"direction\":\"Left\",\"hash\":\"7xGpYhcTbpwRANU4qefPDgr8BjLj79YuevDAN86zuDMU\"}]},"
	"\"receipt\":{\"predecessor_id\":\"e0f01bb6164b092e0e66805a80ce2f17b8bbb36fdeafec50c53d2616ce37445e\","
	"\"receipt\":{\"Action\":{\"actions\":[{\"FunctionCall\":{\"args\":\"eyJmYXJtX2lkIjoidjIucmVmLWZpbmFuY2UubmVhckAyNzM0IzEifQ==\","
	"\"deposit\":\"0\",\"gas\":100000000000000,\"method_name\":\"claim_reward_by_farm\"}}],"
	"\"gas_price\":\"186029458\",\"input_data_ids\":[],\"output_data_receivers\":[],"
	"\"signer_id\":\"e0f01bb6164b092e0e66805a80ce2f17b8bbb36fdeafec50c53d2616ce37445e\","
	"\"signer_public_key\":\"ed25519:2nFgrfR8Qve7CSdtBxyd3326pWhb5umYkbESRCS8ZKKw\"}},"
	"\"receipt_id\":\"BBF2YhzJskXL9tHdCyG9eAK9rzyVfiXJBsUz9mA5k7ga\",\"receiver_id\":\"v2.ref-farming.near\"}}";

#define HDR "{\"block\":{\"author\":\"x.near\",\"header\":{\"height\":61321189,\"prev_height\":61321188," \
	"\"hash\":\"DEK7XjDsduvDwVidshcJWGBGby7XLXozPagCgQDKmeae\"," \
	"\"prev_hash\":\"7xGpYhcTbpwRANU4qefPDgr8BjLj79YuevDAN86zuDMU\"," \
	"\"last_final_block\":\"Bpb7neNcCtySVNhRjaXdL7JuyDDyB9jb8YH6dpBr7ETR\"," \
	"\"random_value\":\"11111111111111111111111111111111\",\"timestamp\":1651000000000000000," \
	"\"timestamp_nanosec\":\"1651000000000000000\"},\"chunks\":[]},"

static void mainnet_receipt(void)
{
	char doc[8192], err[256];
	struct blockdoc d = { 0 };
	struct mpc_matcher *m = mpc_matcher_new("v1.signer");
	struct mpci_filter f[3] = { { MPCI_FILTER_RECEIVER, "v2.ref-farming.near", "claim_reward_by_farm" },
				    { MPCI_FILTER_RECEIVER, "v2.ref-farming.near", "other_method" },
				    { MPCI_FILTER_EXECUTOR_PROMISE, "v2.ref-farming.near", NULL } };

	snprintf(doc, sizeof(doc), HDR "\"shards\":[{\"shard_id\":0,\"chunk\":null,\"receipt_execution_outcomes\":[],"
		 "\"state_changes\":[]},{\"shard_id\":3,\"chunk\":null,\"receipt_execution_outcomes\":[%s],"
		 "\"state_changes\":[]}]}", mainnet_entry);
	is_int(blockdoc_parse(&d, doc, strlen(doc), err, sizeof(err)), BD_OK, "mainnet-shaped document decodes");
	mpc_matcher_add(m, 7, f, 3, err, sizeof(err));
	struct mpc_block *b = mpc_events_extract(m, &d);
	ok(b && b->n_matches == 1, "receiver filter on claim_reward_by_farm finds exactly its receipt");
	if (b && b->n_matches == 1) {
		const struct mpci_match *x = &b->matches[0];
		is_int(x->filter, 0, "reported with the filter's index");
		is_str(x->receipt_id, "BBF2YhzJskXL9tHdCyG9eAK9rzyVfiXJBsUz9mA5k7ga", "receipt id");
		is_str(x->args, "{\"farm_id\":\"v2.ref-finance.near@2734#1\"}", "args decoded from base64");
		ok(x->success && !x->next_receipt_id, "SuccessValue: success, no next receipt");
		ok(x->n_logs == 1 && strstr(x->logs[0], "RPS increased"), "the log line");
		ok(b->n_groups == 1 && b->groups[0].sub == 7 && b->groups[0].n == 1, "grouped under its subscriber");
	}
	ok(b && b->n_requests == 0 && b->n_completions == 0, "no MPC events in it");
	mpc_block_free(b);
	mpc_matcher_free(m);
	blockdoc_free(&d);
}

static void bad_documents(void)
{
	static const struct { const char *doc; const char *want; } cases[] = {
		{ "", "expected an object" },
		{ "<html><body>upstream returned garbage</body></html>", "expected an object" },
		{ "{\"block\":{\"header\":{\"height\":-1}}}", "block.header.height" },
		{ "{\"block\":{\"header\":{\"height\":5,\"hash\":\"xyz\"}}}", "not a base58" },
		{ "{\"shards\":[]}", "no block member" },
		{ HDR "\"shards\":[{\"receipt_execution_outcomes\":[{\"receipt\":{}}]}]}", "receipt_execution_outcomes[0]" },
		{ HDR "\"shards\":[{\"receipt_execution_outcomes\":[1,]}]}", "receipt_execution_outcomes[0]" },
		{ HDR "\"shards\":[]} trailing", "trailing bytes" },
		{ "{\"block\":{\"header\":{\"height\":1e5}}}", "expected an integer" },
		{ "{\"a\":\"\\x\"}", "bad escape" },
		{ "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]}", "nested too deeply" },
	};
	struct blockdoc d = { 0 };
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = blockdoc_parse(&d, cases[i].doc, strlen(cases[i].doc), err, sizeof(err));
		if (!ok(r == BD_ERROR && strstr(err, cases[i].want), "malformed %zu: error says \"%s\"", i, cases[i].want))
			diag("got %d: %s", r, err);
	}
	is_int(blockdoc_parse(&d, " null \n", 7, err, sizeof(err)), BD_NULL, "null: a skipped height");
	is_int(blockdoc_parse(&d, "nul", 3, err, sizeof(err)), BD_ERROR, "a truncated null is an error");
	blockdoc_free(&d);
}

static void escapes(void)
{
	char doc[4096], err[256];
	struct blockdoc d = { 0 };
	struct mpc_matcher *m = mpc_matcher_new(NULL);
	struct mpci_filter f = { MPCI_FILTER_RECEIVER, "c.near", "do_it" };

	snprintf(doc, sizeof(doc), HDR "\"shards\":[{\"receipt_execution_outcomes\":[{\"execution_outcome\":{\"id\":\"A\","
		 "\"outcome\":{\"executor_id\":\"c.near\",\"status\":\"Unknown\",\"logs\":[\"a \\\"q\\\" \\u00e9\"]}},"
		 "\"receipt\":{\"predecessor_id\":\"p.near\",\"receiver_id\":\"c\\u002enear\",\"receipt_id\":\"R1\","
		 "\"receipt\":{\"Action\":{\"actions\":[{\"FunctionCall\":{\"method_name\":\"do\\u005fit\","
		 "\"args\":\"e30\\/\"}}]}}}}]}]}");
	is_int(blockdoc_parse(&d, doc, strlen(doc), err, sizeof(err)), BD_OK, "escaped strings decode");
	mpc_matcher_add(m, 0, &f, 1, err, sizeof(err));
	struct mpc_block *b = mpc_events_extract(m, &d);
	ok(b && b->n_matches == 1, "an escaped receiver and method still match");
	if (b && b->n_matches == 1) {
		is_str(b->matches[0].receiver_id, "c.near", "receiver decoded");
		is_str(b->matches[0].logs[0], "a \"q\" \xc3\xa9", "log unescaped to UTF-8");
		ok(!b->matches[0].success, "status Unknown is not success");
	}
	mpc_block_free(b);
	mpc_matcher_free(m);
	blockdoc_free(&d);
}

int main(void)
{
	lake_fixture();
	mainnet_receipt();
	bad_documents();
	escapes();
	return done_testing();
}
