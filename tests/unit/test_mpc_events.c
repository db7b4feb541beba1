/* MPC events: requests and completions recognised as the node does (executor,
 * SuccessReceiptId, single FunctionCall, method, args), joined by id; tweak and app_id
 * through the whole pipeline checked against the kdf snapshots; what must be ignored is
 * ignored; generic filters per subscriber. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "blockdoc.h"
#include "mpc_events.h"
#include "near/base64.h"

#define C "v1.signer"

static char doc[1 << 20];
static size_t doc_len;
static int n_outs;

static void begin(uint64_t height)
{
	doc_len = (size_t)snprintf(doc, sizeof(doc),
		"{\"block\":{\"header\":{\"height\":%llu,\"prev_height\":%llu,"
		"\"hash\":\"DEK7XjDsduvDwVidshcJWGBGby7XLXozPagCgQDKmeae\","
		"\"prev_hash\":\"7xGpYhcTbpwRANU4qefPDgr8BjLj79YuevDAN86zuDMU\","
		"\"last_final_block\":\"Bpb7neNcCtySVNhRjaXdL7JuyDDyB9jb8YH6dpBr7ETR\","
		"\"random_value\":\"7xGpYhcTbpwRANU4qefPDgr8BjLj79YuevDAN86zuDMU\","
		"\"timestamp_nanosec\":\"1700000000000000000\"}},\"shards\":[{\"shard_id\":0,"
		"\"receipt_execution_outcomes\":[",
		(unsigned long long)height, (unsigned long long)height - 1);
	n_outs = 0;
}

/* One executed receipt. status: "R:<id>" SuccessReceiptId, "V" SuccessValue, "F" failure. */
static void outcome(const char *id, const char *pred, const char *recv, const char *exec,
		    const char *status, const char *method, const char *args, int n_actions)
{
	char st[128], acts[4096] = "";
	char *b64 = b64_encode_alloc((const uint8_t *)args, strlen(args));

	if (status[0] == 'R')
		snprintf(st, sizeof(st), "{\"SuccessReceiptId\":\"%s\"}", status + 2);
	else if (status[0] == 'V')
		snprintf(st, sizeof(st), "{\"SuccessValue\":\"\"}");
	else
		snprintf(st, sizeof(st), "{\"Failure\":{\"ActionError\":{\"index\":0,\"kind\":\"X\"}}}");
	for (int i = 0; i < n_actions; i++) {
		size_t l = strlen(acts);
		snprintf(acts + l, sizeof(acts) - l,
			 "%s{\"FunctionCall\":{\"method_name\":\"%s\",\"args\":\"%s\",\"gas\":1,\"deposit\":\"1\"}}",
			 i ? "," : "", method, b64);
	}
	doc_len += (size_t)snprintf(doc + doc_len, sizeof(doc) - doc_len,
		"%s{\"execution_outcome\":{\"id\":\"%s\",\"outcome\":{\"logs\":[],\"receipt_ids\":[],"
		"\"executor_id\":\"%s\",\"status\":%s}},\"receipt\":{\"predecessor_id\":\"%s\","
		"\"receiver_id\":\"%s\",\"receipt_id\":\"%s\",\"receipt\":{\"Action\":{\"signer_id\":\"%s\","
		"\"actions\":[%s]}}},\"tx_hash\":\"TX%s\"}",
		n_outs++ ? "," : "", id, exec, st, pred, recv, id, pred, acts, id);
	free(b64);
}

static void end(struct blockdoc *d)
{
	char err[256];

	doc_len += (size_t)snprintf(doc + doc_len, sizeof(doc) - doc_len, "]}]}");
	if (blockdoc_parse(d, doc, doc_len, err, sizeof(err)) != BD_OK)
		bail_out("test document does not parse: %s", err);
}

static const char *const kdf_accounts[] = { "dwefqwg", "qfweqwgwegqw", "fqwerijqw385", "fnwef0942534" };
static const char *const kdf_paths[] = { "frwewegwegweg", "fwei2.3f230", "f23fjwef8232", "fwefwo23fewfw" };

static size_t parse_snap(const char *rel, uint8_t out[][32], size_t max)
{
	const char *top = getenv("top_srcdir");
	char path[1024], *text, *p;
	size_t rows = 0, col = 0;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", rel);
	if (!(f = fopen(path, "rb")))
		bail_out("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	if (fread(text, 1, (size_t)n, f) != (size_t)n)
		bail_out("cannot read %s", path);
	fclose(f);
	p = strstr(text, "---");
	p = p ? strstr(p + 3, "---") : NULL;
	for (p = p ? p + 3 : text; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			long v = strtol(p, &p, 10);
			if (rows < max && col < 32)
				out[rows][col++] = (uint8_t)v;
			p--;
		} else if (*p == ']' && col) {
			rows++;
			col = 0;
		}
	}
	free(text);
	return rows;
}

/* 16 sign and 16 CKD requests from the kdf accounts and paths, in one block. */
static void derivations(void)
{
	uint8_t tweaks[32][32], app_ids[32][32];
	size_t nt = parse_snap("tests/fixtures/blocks/kdf_derive_tweak.snap", tweaks, 32);
	size_t na = parse_snap("tests/fixtures/blocks/kdf_derive_app_id.snap", app_ids, 32);
	struct blockdoc d = { 0 };
	struct mpc_matcher *m = mpc_matcher_new(C);
	char id[64], next[64], args[512];
	int tw_ok = 0, app_ok = 0;

	is_int(nt, 16, "tweak snapshot rows");
	is_int(na, 16, "app_id snapshot rows");
	begin(500);
	for (int a = 0; a < 4; a++)
		for (int p = 0; p < 4; p++) {
			snprintf(id, sizeof(id), "S%d%d", a, p);
			snprintf(next, sizeof(next), "R:Y%d%d", a, p);
			snprintf(args, sizeof(args), "{\"request\":{\"path\":\"%s\",\"payload_v2\":{\"Ecdsa\":"
				 "\"0101010101010101010101010101010101010101010101010101010101010101\"},\"domain_id\":0}}",
				 kdf_paths[p]);
			outcome(id, kdf_accounts[a], C, C, next, "sign", args, 1);
			snprintf(id, sizeof(id), "K%d%d", a, p);
			snprintf(next, sizeof(next), "R:Z%d%d", a, p);
			snprintf(args, sizeof(args), "{\"request\":{\"derivation_path\":\"%s\",\"app_public_key\":"
				 "\"bls12381g1:6KtVVcAAGacrjNGePN8bp3KV6fYGrw1rFsyc7cVJCqR16Zc2ZFg3HX3hSZxSfv1oH6\","
				 "\"domain_id\":2}}", kdf_paths[p]);
			outcome(id, kdf_accounts[a], C, C, next, "request_app_private_key", args, 1);
		}
	end(&d);
	struct mpc_block *b = mpc_events_extract(m, &d);
	is_int(b ? b->n_requests : 0, 32, "32 requests recognised");
	for (size_t i = 0; b && i < b->n_requests; i++) {
		const struct mpci_request *q = &b->requests[i];
		int a = q->id[1] - '0', p = q->id[2] - '0', row = a * 4 + p;
		if (q->kind == MPCI_REQ_SIGN)
			tw_ok += q->id[0] == 'Y' && !memcmp(q->derived, tweaks[row], 32);
		else if (q->kind == MPCI_REQ_CKD)
			app_ok += q->id[0] == 'Z' && q->domain_id == 2 && !memcmp(q->derived, app_ids[row], 32);
	}
	is_int(tw_ok, 16, "every sign request carries the snapshot's tweak for its predecessor and path");
	is_int(app_ok, 16, "every CKD request carries the snapshot's app_id");
	mpc_block_free(b);
	mpc_matcher_free(m);
	blockdoc_free(&d);
}

static void recognition(void)
{
	struct blockdoc d = { 0 };
	struct mpc_matcher *m = mpc_matcher_new(C);
	const char *sign = "{\"request\":{\"path\":\"p\",\"payload_v2\":{\"Ecdsa\":\"00\"},\"domain_id\":1}}";
	const char *legacy = "{\"request\":{\"path\":\"q\",\"payload\":[1,2,3],\"key_version\":4}}";
	const char *ftx = "{\"request\":{\"request\":{\"Bitcoin\":{\"tx_id\":\"ab\",\"confirmations\":1,"
			  "\"extractors\":[\"BlockHash\"]}},\"domain_id\":3,\"payload_version\":1}}";
	char err[128];

	begin(600);
	outcome("U1", "alice.near", C, C, "R:X1", "sign", sign, 1);                 /* request */
	outcome("U2", "bob.near", C, C, "R:X2", "sign", legacy, 1);                 /* legacy request */
	outcome("U3", "carol.near", C, C, "R:X3", "verify_foreign_transaction", ftx, 1);
	outcome("U4", "dave.near", C, C, "V", "sign", sign, 1);                     /* no promise: ignored */
	outcome("U5", "dave.near", C, C, "F", "sign", sign, 1);                     /* failed: ignored */
	outcome("U6", "dave.near", C, C, "R:X6", "sign", sign, 2);                  /* batched: ignored */
	outcome("U7", "dave.near", "other.near", "other.near", "R:X7", "sign", sign, 1); /* other contract */
	outcome("U8", "dave.near", C, C, "R:X8", "sign", "{\"request\":5}", 1);     /* args: dropped */
	outcome("U9", "dave.near", C, C, "R:X9", "sign_other", sign, 1);            /* other method */
	outcome("X0", C, C, C, "V", "return_signature_and_clean_state_on_success", "[{}]", 1);
	outcome("X1", C, C, C, "V", "return_signature_and_clean_state_on_success", "[{}]", 1);
	outcome("X9", C, C, C, "F", "return_ck_and_clean_state_on_success", "[{}]", 1);
	outcome("XA", C, C, C, "V", "return_verify_foreign_tx_and_clean_state_on_success", "[{}]", 1);
	outcome("T1", C, C, C, "F", "fail_on_timeout", "{}", 1);
	end(&d);

	struct mpci_filter f1[] = { { MPCI_FILTER_EXECUTOR_PROMISE, C, "sign" } };
	struct mpci_filter f2[] = { { MPCI_FILTER_RECEIVER, C, "return_signature_and_clean_state_on_success" },
				    { MPCI_FILTER_RECEIVER, "other.near", NULL } };
	ok(mpc_matcher_add(m, 10, f1, 1, err, sizeof(err)) == 0, "subscriber 10 registers");
	ok(mpc_matcher_add(m, 11, f2, 2, err, sizeof(err)) == 0, "subscriber 11 registers");
	struct mpci_filter bad = { MPCI_FILTER_RECEIVER, "Not An Account", NULL };
	ok(mpc_matcher_add(m, 12, &bad, 1, err, sizeof(err)) < 0 && strstr(err, "not a valid account"),
	   "a bad filter account is refused with a reason");

	struct mpc_block *b = mpc_events_extract(m, &d);
	if (!b)
		bail_out("no memory");
	is_int(b->n_requests, 3, "three requests: sign, legacy sign, foreign tx");
	if (b->n_requests == 3) {
		const struct mpci_request *q = b->requests;
		is_str(q[0].id, "X1", "request id = SuccessReceiptId");
		is_str(q[0].receipt_id, "U1", "receipt id = the user's receipt");
		is_str(q[0].predecessor_id, "alice.near", "predecessor");
		is_int(q[0].domain_id, 1, "domain_id");
		is_str(q[0].args, sign, "raw args");
		is_str(q[0].request, "{\"path\":\"p\",\"payload_v2\":{\"Ecdsa\":\"00\"},\"domain_id\":1}",
		       "the request member, as it was sent");
		uint8_t tw[32];
		mpc_derive_tweak(tw, "alice.near", "p");
		ok(!memcmp(q[0].derived, tw, 32), "tweak from the receipt's predecessor");
		is_int(q[1].domain_id, 4, "legacy key_version is the domain");
		is_int(q[2].kind, MPCI_REQ_FOREIGN_TX, "foreign tx kind");
		is_int(q[2].domain_id, 3, "foreign tx domain");
		is_str(b->request_tx[0], "TXU1", "originating tx kept for the RPC fallback");
		is_str(b->request_signer[0], "alice.near", "tx signer kept");
	}
	is_int(b->n_completions, 4, "four completions (success and failure alike)");
	if (b->n_completions == 4) {
		is_str(b->completions[1].id, "X1", "completion id = callback receipt id, joins request X1");
		ok(b->completions[1].success && !b->completions[2].success, "success flag from the status");
		is_int(b->completions[2].kind, MPCI_REQ_CKD, "CKD completion");
		is_int(b->completions[3].kind, MPCI_REQ_FOREIGN_TX, "foreign tx completion");
	}
	is_int(b->n_timeouts, 1, "one fail_on_timeout");
	is_int(b->n_groups, 2, "matches for two subscribers");
	if (b->n_groups == 2) {
		is_int(b->groups[0].sub, 10, "subscriber 10 first");
		is_int(b->groups[0].n, 3, "executor-promise sign filter: U1, U2 and U8 (filters do not parse args)");
		is_int(b->groups[1].n, 3, "receiver filters: two return_signature receipts and U7 on other.near");
		const struct mpci_match *x = &b->matches[b->groups[1].start + 2];
		ok(!strcmp(x->receipt_id, "X1") || !strcmp(x->receipt_id, "U7"), "receiver matches in block order");
		const struct mpci_match *y = &b->matches[b->groups[0].start];
		is_str(y->next_receipt_id, "X1", "executor-promise match carries the next receipt id");
	}
	mpc_block_free(b);
	mpc_matcher_remove(m, 10);
	b = mpc_events_extract(m, &d);
	ok(b && b->n_groups == 1 && b->groups[0].sub == 11, "a removed subscriber gets nothing");
	mpc_block_free(b);
	mpc_matcher_free(m);
	blockdoc_free(&d);
}

int main(void)
{
	derivations();
	recognition();
	return done_testing();
}
