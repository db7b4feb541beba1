/* tee-attester, the real plugin on a manual clock (test_tee_host.c): submits
 * at start, confirms through get_attestation, refreshes exactly every
 * refresh_interval, re-submits at once when get_tee_accounts drops the node,
 * retries with backoff; every failure of the agent, the quote, the PCCS or
 * the collateral is counted by cause and submits nothing. */
#include <math.h>
#include <unistd.h>

#include "test_tee_util.h"
#include "test_tee_host.h"

#define TLS_PK "ed25519:3FwWphCj47PA3D8ErKeVNzqn2ckAKrfuixrvvfGrDxUx"
#define SIGNER_PK "ed25519:J992NeWhuaJXeUVJcDCVwfS5j1G26B5aJDUZ8iuBCYdc"
#define ACCOUNT "frodo.test.near"
#define LISTED "[{\"account_id\":\"frodo.test.near\",\"tls_public_key\":\"" TLS_PK \
	"\",\"account_public_key\":\"" SIGNER_PK "\"}]"
#define FAILURES "mpc_indexer_tee_failures_total"
#define SUBMISSIONS "mpc_indexer_tee_submissions_total"

static char so_path[4096];

/* ---- a contract, an agent and a PCCS, answering from the fixtures ---- */

struct world {
	char stored[256];            /* what get_attestation shows */
	int stored_changes;          /* a successful submit changes it */
	int store_dstack;            /* store Mock submissions as Dstack entries (with expiry) */
	int tx_fail;                 /* the next N transactions fail */
	int view_fail;               /* the next N views fail */
	/* agent and PCCS */
	int agent_status;            /* 0: unreachable */
	const char *info_body;       /* NULL: the fixture's */
	int tcb_status;
	int chain_headers;           /* 0: none, 1: as a PCCS over HTTP/1.1, 2: lower case (HTTP/2) */
	char *info, *quote;
	struct tee_pccs_parts pccs;
	struct mpci_http_header hdr[3][3];
};

static void contract_view(struct fh *h, const char *method, const char *args,
			  struct fh_view_reply *out)
{
	struct world *w = h->test;
	if (w->view_fail > 0) {
		w->view_fail--;
		*out = (struct fh_view_reply){ 0, "RPC: timeout" };
		return;
	}
	if (strcmp(method, "get_attestation") == 0 && strstr(args, TLS_PK))
		*out = (struct fh_view_reply){ 1, w->stored };
	else
		*out = (struct fh_view_reply){ 1, "null" };
}

static void contract_tx(struct fh *h, const struct fh_tx *tx, struct fh_tx_reply *out)
{
	struct world *w = h->test;
	if (w->tx_fail > 0) {
		w->tx_fail--;
		*out = (struct fh_tx_reply){ MPCI_TX_FAILED, "Smart contract panicked: nope" };
		return;
	}
	if (w->stored_changes)
		snprintf(w->stored, sizeof(w->stored), strstr(tx->args, "\"Mock\"") && !w->store_dstack ?
			 "{\"Mock\":\"Valid\"}" : "{\"Dstack\":{\"expiry_timestamp_seconds\":%d}}",
			 1000 + h->n_tx);
	*out = (struct fh_tx_reply){ MPCI_TX_SUCCEEDED, NULL };
}

/* A PCCS answer's headers: its content type and, as a PCCS sends it, the
 * issuer chain URL-encoded under `name`. */
static void pccs_headers(struct world *w, int i, const char *name, const char *lower,
			 const char *chain, const char *ctype, struct fh_reply *out)
{
	struct mpci_http_header *hs = w->hdr[i];
	size_t n = 0;
	hs[n++] = (struct mpci_http_header){ w->chain_headers == 2 ? "content-type" :
					     "Content-Type", ctype };
	if (w->chain_headers)
		hs[n++] = (struct mpci_http_header){ w->chain_headers == 2 ? lower : name, chain };
	hs[n++] = (struct mpci_http_header){ "Request-ID", "0f6c2a" };
	out->headers = hs;
	out->n_headers = n;
}

static void agent_and_pccs(struct fh *h, const struct fh_http *req, struct fh_reply *out)
{
	struct world *w = h->test;
	const char *u = req->url;
	if (strncmp(u, "http://dstack/", 14) == 0) {
		if (!w->agent_status) {
			*out = (struct fh_reply){ 0, "Couldn't connect to server", NULL, 0 };
			return;
		}
		const char *body = strcmp(u + 13, "/Info") == 0
			? (w->info_body ? w->info_body : w->info) : w->quote;
		*out = (struct fh_reply){ w->agent_status, NULL, body, strlen(body) };
	} else if (strstr(u, "/pckcrl?")) {
		*out = (struct fh_reply){ 200, NULL, (const char *)w->pccs.pck_crl, w->pccs.pck_crl_len };
		pccs_headers(w, 0, "SGX-PCK-CRL-Issuer-Chain", "sgx-pck-crl-issuer-chain",
			     w->pccs.pck_crl_chain, "application/pkix-crl", out);
	} else if (strstr(u, "/tcb?")) {
		*out = (struct fh_reply){ w->tcb_status, NULL, w->pccs.tcb_body, strlen(w->pccs.tcb_body) };
		pccs_headers(w, 1, "TCB-Info-Issuer-Chain", "tcb-info-issuer-chain",
			     w->pccs.tcb_chain, "application/json", out);
	} else if (strstr(u, "/qe/identity")) {
		*out = (struct fh_reply){ 200, NULL, w->pccs.qe_body, strlen(w->pccs.qe_body) };
		pccs_headers(w, 2, "SGX-Enclave-Identity-Issuer-Chain",
			     "sgx-enclave-identity-issuer-chain", w->pccs.qe_chain,
			     "application/json", out);
	} else if (strstr(u, "/rootcacrl")) {
		*out = (struct fh_reply){ 200, NULL, w->pccs.root_body, strlen(w->pccs.root_body) };
	} else {
		*out = (struct fh_reply){ 404, NULL, "", 0 };
	}
}

static void world_init(struct world *w, struct fh *h, const struct fh_config *cfg)
{
	size_t n;
	uint8_t *q = tee_fixture_quote(&n);
	memset(w, 0, sizeof(*w));
	memset(h, 0, sizeof(*h));
	snprintf(w->stored, sizeof(w->stored), "null");
	w->stored_changes = 1;
	w->agent_status = 200;
	w->tcb_status = 200;
	w->chain_headers = 1;
	w->info = tee_info_body();
	w->quote = tee_quote_body(q, n);
	free(q);
	tee_pccs_parts_load(&w->pccs);
	h->config = cfg;
	h->signer_rc = MPCI_OK;
	h->signer_account = ACCOUNT;
	h->signer_pk = SIGNER_PK;
	h->http_respond = agent_and_pccs;
	h->view_respond = contract_view;
	h->tx_respond = contract_tx;
	h->test = w;
}

static void world_done(struct world *w, struct fh *h)
{
	is_int(fh_unload(h), 0, "stop() leaves no timer behind");
	free(w->info);
	free(w->quote);
	tee_pccs_parts_free(&w->pccs);
}

static double failures(struct fh *h)
{
	static const char *const causes[] = { "config", "dstack_unreachable", "dstack_http",
		"dstack_malformed", "quote_malformed", "report_data_mismatch", "pccs_unreachable",
		"pccs_http", "pccs_malformed", "pccs_issuer_chain", "collateral_stale", "view",
		"tx_rejected", "tx_failed", "tx_unknown", "not_confirmed", "output" };
	double sum = 0;
	for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++)
		sum += fh_metric(h, FAILURES, causes[i]);
	return sum;
}

static int json_equal_fixture(const char *got, const char *fixture)
{
	cJSON *g = cJSON_Parse(got), *w = tee_fixture_json(fixture);
	int eq = g && cJSON_Compare(g, w, 1);
	cJSON_Delete(g);
	cJSON_Delete(w);
	return eq;
}

static int pccs_requests(struct fh *h)
{
	int n = 0;
	for (int i = 0; i < h->n_http; i++)
		n += strstr(h->http[i].url, "/certification/v4/") != NULL;
	return n;
}

/* ---- mock mode: the submit, confirm, refresh and re-submit cycle ---- */

static void test_mock_cycle(void)
{
	static const struct fh_config cfg[] = {
		{ "mode", "mock" }, { "tls_public_key", TLS_PK }, { "refresh_interval", "1h" },
		{ "poll_interval", "10s" }, { NULL, NULL } };
	struct world w;
	struct fh h;

	world_init(&w, &h, cfg);
	is_int(fh_load(&h, so_path), MPCI_OK, "mock: the plugin starts");
	ok(fh_sub_interval(&h, "get_tee_accounts") == 10,
	   "it watches get_tee_accounts every poll_interval");
	fh_run(&h);
	is_int(h.n_tx, 1, "it submits at start");
	is_str(h.tx[0].method, "submit_participant_info", "submit_participant_info");
	ok(json_equal_fixture(h.tx[0].args, "submit_participant_info_args.mock_valid.json"),
	   "with the Mock arguments of the fixture");
	ok(h.tx[0].gas == 300000000000000ull && h.tx[0].deposit && !strcmp(h.tx[0].deposit, "0") &&
	   h.tx[0].wait == MPCI_TX_WAIT && !h.tx[0].signer,
	   "300 Tgas, deposit 0, waiting for the outcome, the only signer");
	is_int(h.n_http, 0, "mock mode asks no agent and no PCCS");
	is_int(h.n_views, 2, "get_attestation read before and after (the confirmation)");
	ok(fh_metric(&h, "mpc_indexer_tee_last_success_timestamp_seconds", NULL) > 1.7e9,
	   "the last success time is set");
	is_int(fh_metric(&h, SUBMISSIONS, "start"), 1, "submissions{reason=start} = 1");
	is_int(failures(&h), 0, "no failures");

	/* refresh, on the loop's clock */
	double t0 = h.tx[0].at;
	fh_advance(&h, 3600 - 0.001);
	is_int(h.n_tx, 1, "nothing more before refresh_interval has passed");
	fh_advance(&h, 0.001);
	is_int(h.n_tx, 2, "a refresh once it has");
	ok(fabs(h.tx[1].at - t0 - 3600) < 1e-6, "exactly refresh_interval after the first (%.6f)",
	   h.tx[1].at - t0);
	is_int(fh_metric(&h, SUBMISSIONS, "refresh"), 1, "submissions{reason=refresh} = 1");

	/* the contract drops the attestation */
	fh_publish(&h, "get_tee_accounts", 1, "[]");
	fh_run(&h);
	is_int(h.n_tx, 2, "a node that was never listed is not 'dropped'");
	fh_publish(&h, "get_tee_accounts", 1, LISTED);
	fh_run(&h);
	is_int(fh_metric(&h, "mpc_indexer_tee_attested", NULL), 1, "listed: attested = 1");
	fh_advance(&h, 100);
	double before = h.now;
	fh_publish(&h, "get_tee_accounts", 1,
		   "[{\"account_id\":\"sam.test.near\",\"tls_public_key\":\"" SIGNER_PK
		   "\",\"account_public_key\":\"" SIGNER_PK "\"}]");
	fh_run(&h);
	is_int(h.n_tx, 3, "dropped from get_tee_accounts: submitted again");
	ok(h.tx[2].at == before, "at once, on the poll that noticed it");
	is_int(fh_metric(&h, "mpc_indexer_tee_attested", NULL), 0, "attested = 0");
	is_int(fh_metric(&h, SUBMISSIONS, "dropped"), 1, "submissions{reason=dropped} = 1");
	ok(fh_logged(&h, "no longer lists this node"), "the log says why");
	fh_publish(&h, "get_tee_accounts", 1, "[]");
	fh_run(&h);
	is_int(h.n_tx, 3, "still unlisted is not a second drop");
	fh_publish(&h, "get_tee_accounts", 0, "RPC: timeout");
	fh_run(&h);
	is_int(h.n_tx, 3, "a failing poll is not a drop");

	fh_advance(&h, 3600);
	is_int(h.n_tx, 4, "the next refresh counts from the re-submission");
	ok(fabs(h.tx[3].at - h.tx[2].at - 3600) < 1e-6, "refresh_interval after it");
	is_int(failures(&h), 0, "still no failures");
	world_done(&w, &h);
}

static void test_backoff(void)
{
	static const struct fh_config cfg[] = {
		{ "mode", "mock" }, { "tls_public_key", TLS_PK }, { "signer", "node" },
		{ "backoff_max", "1s" }, { NULL, NULL } };
	struct world w;
	struct fh h;

	world_init(&w, &h, cfg);
	w.tx_fail = 3;
	fh_load(&h, so_path);
	fh_run(&h);
	is_int(h.n_tx, 1, "a failing transaction");
	is_int(fh_metric(&h, FAILURES, "tx_failed"), 1, "is counted as tx_failed");
	ok(fh_logged(&h, "Smart contract panicked: nope"), "with the contract's reason in the log");
	is_str(h.tx[0].signer, "node", "the configured signer signs");
	fh_advance(&h, 0.099);
	is_int(h.n_tx, 1, "no retry before backoff_initial");
	fh_advance(&h, 5);
	is_int(h.n_tx, 4, "retried until it succeeds");
	ok(fabs(h.tx[1].at - h.tx[0].at - 0.1) < 1e-9 && fabs(h.tx[2].at - h.tx[1].at - 0.15) < 1e-9 &&
	   fabs(h.tx[3].at - h.tx[2].at - 0.225) < 1e-9, "after 0.1, 0.15, 0.225 s: x1.5 each time");
	is_int(fh_metric(&h, SUBMISSIONS, "retry"), 3, "submissions{reason=retry} = 3");
	ok(fh_metric(&h, "mpc_indexer_tee_last_success_timestamp_seconds", NULL) > 0, "then success");

	/* 20 failures in a row: the delay stops growing at backoff_max */
	w.tx_fail = 20;
	fh_advance(&h, 3600);
	fh_advance(&h, 30);
	int capped = 1;
	for (int i = h.n_tx - 5; i < h.n_tx; i++)
		if (fabs(h.tx[i].at - h.tx[i - 1].at - 1) > 1e-9)
			capped = 0;
	ok(capped && h.n_tx > 20, "retry delays are capped at backoff_max");
	world_done(&w, &h);
}

static void test_confirmation(void)
{
	static const struct fh_config cfg[] = {
		{ "mode", "mock" }, { "tls_public_key", TLS_PK }, { "poll_interval", "10s" },
		{ "confirm_timeout", "2m" }, { NULL, NULL } };
	struct world w;
	struct fh h;

	world_init(&w, &h, cfg);
	snprintf(w.stored, sizeof(w.stored), "{\"Dstack\":{\"expiry_timestamp_seconds\":5}}");
	w.stored_changes = 0;
	w.store_dstack = 1;
	fh_load(&h, so_path);
	fh_run(&h);
	is_int(h.n_tx, 1, "submitted");
	fh_advance(&h, 119);
	is_int(failures(&h), 0, "the stored attestation has not changed: still confirming");
	ok(h.n_views >= 12, "get_attestation polled every poll_interval (%d views)", h.n_views);
	fh_advance(&h, 1);
	is_int(fh_metric(&h, FAILURES, "not_confirmed"), 1,
	       "after confirm_timeout, a transaction that changed nothing is not a success: not_confirmed");
	ok(fh_metric(&h, "mpc_indexer_tee_last_success_timestamp_seconds", NULL) == 0,
	   "and no success is recorded");
	w.stored_changes = 1;
	fh_advance(&h, 1);
	ok(h.n_tx == 2 && fh_metric(&h, "mpc_indexer_tee_attestation_expiry_timestamp_seconds", NULL) == 1002,
	   "the retry lands; the expiry gauge shows the stored expiry");

	w.view_fail = 1;
	fh_advance(&h, h.tx[1].at + 3600 - h.now);
	is_int(fh_metric(&h, FAILURES, "view"), 1, "get_attestation failing before submitting: cause view");
	is_int(h.n_tx, 2, "and nothing is submitted then");
	fh_advance(&h, 1);
	is_int(h.n_tx, 3, "the retry submits");
	world_done(&w, &h);
}

static void test_refusals(void)
{
	struct world w;
	struct fh h;
	static const struct fh_config mock[] = { { "mode", "mock" }, { "tls_public_key", TLS_PK },
						 { NULL, NULL } };
	world_init(&w, &h, mock);
	h.no_sources = 1;
	ok(fh_load(&h, so_path) != MPCI_OK && fh_logged(&h, "needs a [signer.NAME]"),
	   "mock on a host without sources: init fails and says why");
	world_done(&w, &h);

	static const struct fh_config both[] = { { "mode", "mock" }, { "tls_public_key", TLS_PK },
		{ "tls_public_key_file", "/nonexistent" }, { NULL, NULL } };
	world_init(&w, &h, both);
	ok(fh_load(&h, so_path) != MPCI_OK && fh_logged(&h, "exactly one of"),
	   "both tls_public_key and tls_public_key_file: refused");
	world_done(&w, &h);

	static const struct fh_config bad[] = { { "mode", "tdx" }, { "tls_public_key", TLS_PK },
						{ NULL, NULL } };
	world_init(&w, &h, bad);
	ok(fh_load(&h, so_path) != MPCI_OK && fh_logged(&h, "not dstack, mock or dry-run"),
	   "an unknown mode: refused");
	world_done(&w, &h);

	static const struct fh_config badkey[] = { { "mode", "mock" },
		{ "tls_public_key", "ed25519:3FwWphCj47PA3D8ErKeVNzqn2ckAKrfuixrvvfGrDxU0" }, { NULL, NULL } };
	world_init(&w, &h, badkey);
	ok(fh_load(&h, so_path) != MPCI_OK && fh_logged(&h, "is not ed25519:<base58 of 32 bytes>"),
	   "a TLS key that does not decode: refused");
	world_done(&w, &h);

	static const struct fh_config other[] = { { "mode", "mock" }, { "tls_public_key", TLS_PK },
		{ "signer_public_key", TLS_PK }, { NULL, NULL } };
	world_init(&w, &h, other);
	ok(fh_load(&h, so_path) != MPCI_OK && fh_logged(&h, "differs from the signer's key"),
	   "signer_public_key that is not the signer's: refused");
	world_done(&w, &h);

	char keyfile[] = "/tmp/tee-key-XXXXXX";
	int fd = mkstemp(keyfile);
	const char *json = "{\"account_id\":\"frodo.test.near\",\"public_key\":\"" TLS_PK "\"}\n";
	if (fd < 0 || write(fd, json, strlen(json)) != (ssize_t)strlen(json))
		bail_out("cannot write %s", keyfile);
	close(fd);
	const struct fh_config file[] = { { "mode", "mock" }, { "tls_public_key_file", keyfile },
					  { NULL, NULL } };
	world_init(&w, &h, file);
	fh_load(&h, so_path);
	fh_run(&h);
	ok(h.n_tx == 1 && strstr(h.tx[0].args, TLS_PK), "the TLS key read from a JSON key file");
	world_done(&w, &h);
	unlink(keyfile);
}

/* ---- dstack mode: the agent, the quote, the PCCS ---- */

static const struct fh_config dstack_cfg[] = {
	{ "mode", "dstack" }, { "tls_public_key", TLS_PK }, { "dstack_socket", "/run/test-dstack.sock" },
	{ "pccs_url", "http://pccs.test:8081/sgx/certification/v4" },
	{ "collateral_max_age", "36500d" }, { NULL, NULL } };

/* Run one attempt with the world as set up and expect it to fail for `cause`. */
static void expect_failure(struct world *w, struct fh *h, const char *cause, const char *log,
			   const char *what)
{
	fh_load(h, so_path);
	fh_run(h);
	ok(fh_metric(h, FAILURES, cause) == 1 && failures(h) == 1, "%s: counted as %s", what, cause);
	ok(fh_logged(h, log), "%s: the log says '%s'", what, log);
	is_int(h->n_tx, 0, "%s: nothing is submitted", what);
	int before = h->n_http;
	fh_advance(h, 0.1);
	ok(h->n_http > before && h->http[before].at == 0.1, "%s: retried after the backoff", what);
}

static void test_dstack_failures(void)
{
	struct world w;
	struct fh h;

	world_init(&w, &h, dstack_cfg);
	w.agent_status = 0;
	expect_failure(&w, &h, "dstack_unreachable", "/run/test-dstack.sock", "agent unreachable");
	ok(h.http[0].unix_socket && !strcmp(h.http[0].unix_socket, "/run/test-dstack.sock") &&
	   !strcmp(h.http[0].method, "POST") && !strcmp(h.http[0].url, "http://dstack/Info"),
	   "Info is a POST over the agent's socket");
	world_done(&w, &h);

	world_init(&w, &h, dstack_cfg);
	w.info_body = "\x01\x02 garbage <html>";
	expect_failure(&w, &h, "dstack_malformed", "not a JSON object", "agent speaking garbage");
	world_done(&w, &h);

	world_init(&w, &h, dstack_cfg);
	w.agent_status = 500;
	w.info_body = "{\"error\":\"tdx guest device not found\"}";
	expect_failure(&w, &h, "dstack_http", "tdx guest device not found", "agent answering 500");
	world_done(&w, &h);

	/* the agent quotes other keys than ours */
	static const struct fh_config other[] = {
		{ "mode", "dstack" }, { "tls_public_key", "ed25519:11111111111111111111111111111111" },
		{ "collateral_max_age", "36500d" }, { NULL, NULL } };
	world_init(&w, &h, other);
	expect_failure(&w, &h, "report_data_mismatch", "is not ours", "a quote of other keys");
	is_int(pccs_requests(&h), 0, "a quote of other keys: no PCCS request is made");
	world_done(&w, &h);

	world_init(&w, &h, dstack_cfg);
	w.tcb_status = 404;
	expect_failure(&w, &h, "pccs_http", "TCB info: HTTP status 404", "PCCS answering 404");
	world_done(&w, &h);

	world_init(&w, &h, dstack_cfg);
	w.chain_headers = 0;
	expect_failure(&w, &h, "pccs_issuer_chain", "PCCS PCK CRL: no issuer-chain header",
		       "a PCCS sending no issuer-chain headers");
	world_done(&w, &h);

	world_init(&w, &h, dstack_cfg);
	h.abi10_responses = 1;
	expect_failure(&w, &h, "pccs_issuer_chain", "no issuer-chain header",
		       "responses shaped as a 1.0 host's (nothing read past struct_size)");
	world_done(&w, &h);

	world_init(&w, &h, dstack_cfg);
	free(w.pccs.tcb_chain);
	w.pccs.tcb_chain = strdup("-----BEGIN%ZZCERTIFICATE");
	expect_failure(&w, &h, "pccs_issuer_chain", "TCB info: the issuer-chain header is not "
		       "URL-encoded PEM", "a garbled issuer chain");
	world_done(&w, &h);

	static const struct fh_config stale[] = {
		{ "mode", "dstack" }, { "tls_public_key", TLS_PK }, { "collateral_max_age", "1s" },
		{ NULL, NULL } };
	world_init(&w, &h, stale);
	expect_failure(&w, &h, "collateral_stale", "days old", "stale collateral");
	world_done(&w, &h);
}

static void test_dstack_cycle(void)
{
	struct world w;
	struct fh h;
	cJSON *vec = tee_fixture_json("report_data_v1_vector.json");

	world_init(&w, &h, dstack_cfg);
	is_int(fh_load(&h, so_path), MPCI_OK, "dstack: the plugin starts");
	/* the contract allows the launcher compose, not the image */
	fh_publish(&h, "allowed_docker_image_hashes", 1,
		   "[{\"image_hash\":\"00000000000000000000000000000000000000000000000000000000000000aa\","
		   "\"expiry_timestamp_seconds\":null}]");
	fh_publish(&h, "allowed_launcher_compose_hashes", 1,
		   "[\"615b9ee0e77ea5c3f914f7539490feae04f7a679055435f440e95699f3fb4d28\"]");
	fh_run(&h);	/* the attempt starts once the loop runs, as in the daemon */

	ok(h.n_http >= 2 && !strcmp(h.http[1].url, "http://dstack/GetQuote"), "GetQuote follows Info");
	cJSON *req = h.n_http >= 2 ? cJSON_Parse(h.http[1].body) : NULL;
	const cJSON *rd = cJSON_GetObjectItem(req, "report_data");
	ok(cJSON_IsString(rd) && !strcmp(rd->valuestring, tee_str(vec, "report_data_hex")),
	   "GetQuote's report_data equals report_data_v1_vector.json");
	cJSON_Delete(req);
	is_int(pccs_requests(&h), 4, "the quote is ours: the four PCCS requests follow");
	int fmspc = 0, ca = 0;
	for (int i = 0; i < h.n_http; i++) {
		fmspc += strstr(h.http[i].url, "http://pccs.test:8081/tdx/certification/v4/tcb?fmspc=B0C06F000000") != NULL;
		ca += strstr(h.http[i].url, "/sgx/certification/v4/pckcrl?ca=platform&encoding=der") != NULL;
	}
	ok(fmspc == 1 && ca == 1, "with the FMSPC and CA type of the quote's PCK certificate");
	is_int(fh_metric(&h, "mpc_indexer_tee_measurement_allowed", "image"), 0,
	       "pre-check: the image is not allowed (metric)");
	ok(fh_logged(&h, "564a5aebc33495d5610626d23cb9e3da8e9d531d0edff9e38aa1ccaf059c15d3 is not in"),
	   "pre-check: a warning names the image hash");
	is_int(fh_metric(&h, "mpc_indexer_tee_measurement_allowed", "launcher_compose"), 1,
	       "pre-check: the launcher compose is allowed");

	is_int(failures(&h), 0, "no failures");
	is_int(h.n_tx, 1, "submit_participant_info is sent");
	ok(h.n_tx == 1 && json_equal_fixture(h.tx[0].args, "submit_participant_info_args.dstack.json"),
	   "the submitted arguments equal submit_participant_info_args.dstack.json");
	ok(h.n_tx == 1 && h.tx[0].gas == 300000000000000ull && h.tx[0].deposit &&
	   !strcmp(h.tx[0].deposit, "0") && h.tx[0].wait == MPCI_TX_WAIT,
	   "300 Tgas, deposit 0, waiting for the outcome");
	ok(fh_metric(&h, "mpc_indexer_tee_last_success_timestamp_seconds", NULL) > 1.7e9,
	   "confirmed by get_attestation: the last success time is set");
	is_int(fh_metric(&h, "mpc_indexer_tee_attestation_expiry_timestamp_seconds", NULL), 1001,
	       "the expiry gauge shows the stored attestation's expiry");
	is_int(fh_metric(&h, SUBMISSIONS, "start"), 1, "submissions{reason=start} = 1");

	/* a refresh fetches a fresh quote and collateral */
	int before = pccs_requests(&h);
	fh_advance(&h, 3600);
	ok(h.n_tx == 2 && pccs_requests(&h) == before + 4 &&
	   json_equal_fixture(h.tx[1].args, "submit_participant_info_args.dstack.json"),
	   "refresh_interval later: a new quote and collateral, submitted again");
	world_done(&w, &h);
	cJSON_Delete(vec);

	/* a PCCS behind HTTP/2 sends the header names in lower case */
	world_init(&w, &h, dstack_cfg);
	w.chain_headers = 2;
	fh_load(&h, so_path);
	fh_run(&h);
	ok(h.n_tx == 1 && failures(&h) == 0 &&
	   json_equal_fixture(h.tx[0].args, "submit_participant_info_args.dstack.json"),
	   "issuer-chain header names in lower case: the same arguments");
	world_done(&w, &h);
}

static void test_dry_run(void)
{
	struct world w;
	struct fh h;
	char out[] = "/tmp/tee-dry-XXXXXX";
	int fd = mkstemp(out);
	close(fd);

	static const struct fh_config nokey[] = { { "mode", "dry-run" }, { "tls_public_key", TLS_PK },
						  { NULL, NULL } };
	world_init(&w, &h, nokey);
	h.no_sources = 1;
	ok(fh_load(&h, so_path) != MPCI_OK && fh_logged(&h, "dry-run needs signer_public_key"),
	   "dry-run without a signer or signer_public_key: refused, saying why");
	world_done(&w, &h);

	const struct fh_config cfg[] = { { "mode", "dry-run" }, { "tls_public_key", TLS_PK },
		{ "signer_public_key", SIGNER_PK }, { "dry_run_output", out },
		{ "collateral_max_age", "36500d" }, { NULL, NULL } };
	world_init(&w, &h, cfg);
	h.no_sources = 1;
	is_int(fh_load(&h, so_path), MPCI_OK, "dry-run needs no chain: it starts on a host without sources");
	fh_run(&h);
	cJSON *vec = tee_fixture_json("report_data_v1_vector.json");
	char line[200];
	snprintf(line, sizeof(line), "[info] report_data %s", tee_str(vec, "report_data_hex"));
	ok(fh_logged(&h, line), "the report_data is logged");
	cJSON_Delete(vec);
	is_int(h.n_tx, 0, "nothing is submitted");
	char *text = tee_slurp(out, NULL);
	ok(text && json_equal_fixture(text, "submit_participant_info_args.dstack.json"),
	   "the arguments written equal submit_participant_info_args.dstack.json");
	free(text);
	snprintf(line, sizeof(line), "submit_participant_info \"$(cat %s)\" --gas 300T "
		 "--deposit 0 --wait", out);
	ok(fh_logged(&h, "nothing submitted.  To submit them: mpc-indexer tx call ") &&
	   fh_logged(&h, line), "the log shows the mpc-indexer tx call command that submits them");
	ok(fh_metric(&h, "mpc_indexer_tee_last_success_timestamp_seconds", NULL) > 1.7e9 &&
	   failures(&h) == 0, "a dry run that wrote the arguments is a success");
	fh_advance(&h, 3600);
	ok(h.n_tx == 0 && pccs_requests(&h) == 8, "it repeats every refresh_interval, submitting nothing");
	world_done(&w, &h);
	unlink(out);
}

int main(void)
{
	const char *top = getenv("top_builddir");
	snprintf(so_path, sizeof(so_path), "%s/plugins/tee-attester/.libs/tee-attester.so",
		 top ? top : ".");
	test_mock_cycle();
	test_backoff();
	test_confirmation();
	test_refusals();
	test_dstack_failures();
	test_dstack_cycle();
	test_dry_run();
	return done_testing();
}
