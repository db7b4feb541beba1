/* Acceptance 2: a transaction signed with the project's own primitives (core/near) is
 * accepted by nearsim; the same bytes with one bit flipped, a reused nonce and an expired
 * block hash each get nearcore's error shape (tests/fixtures/rpc/error_*.json); the pool
 * takes nonces out of order and drops a second transaction with a nonce already used. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "../tap.h"
#include "near/base64.h"
#include "near/hash.h"
#include "near/keys.h"
#include "near/tx.h"

static char base_url[64];
static pid_t sim_pid;

struct body { char *p; size_t n; };

static size_t on_data(char *d, size_t sz, size_t nm, void *ud)
{
	struct body *b = ud;
	char *np = realloc(b->p, b->n + sz * nm + 1);

	if (!np)
		return 0;
	b->p = np;
	memcpy(b->p + b->n, d, sz * nm);
	b->n += sz * nm;
	b->p[b->n] = 0;
	return sz * nm;
}

/* POST json to path; returns the parsed body (caller frees) and the HTTP status. */
static cJSON *post(const char *path, const char *json, long *status)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
	struct body b = { NULL, 0 };
	char url[256];
	cJSON *doc = NULL;

	snprintf(url, sizeof(url), "%s%s", base_url, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(h) == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
		doc = b.p ? cJSON_Parse(b.p) : NULL;
	}
	free(b.p);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	return doc;
}

static cJSON *rpc(const char *method, const char *params, long *status)
{
	char *req = malloc(strlen(params) + 128);
	cJSON *r;
	long st = 0;

	sprintf(req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method, params);
	r = post("/", req, status ? status : &st);
	free(req);
	return r;
}

static const cJSON *path(const cJSON *j, const char *a, const char *b, const char *c)
{
	j = cJSON_GetObjectItemCaseSensitive(j, a);
	if (b)
		j = cJSON_GetObjectItemCaseSensitive(j, b);
	if (c)
		j = cJSON_GetObjectItemCaseSensitive(j, c);
	return j;
}

static cJSON *load_fixture(const char *name)
{
	char p[1024];
	FILE *f;
	static char buf[65536];
	size_t n;

	snprintf(p, sizeof(p), "%s/tests/fixtures/rpc/%s", getenv("top_srcdir") ? getenv("top_srcdir") : ".", name);
	if (!(f = fopen(p, "rb")))
		bail_out("cannot open %s", p);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return cJSON_Parse(buf);
}

/* Same keys and JSON types, recursively (arrays: element 0 against element 0). */
static int same_shape(const cJSON *a, const cJSON *b, char *where, size_t cap)
{
	const cJSON *x;

	if ((a->type & 0xff) != (b->type & 0xff) && !(cJSON_IsBool(a) && cJSON_IsBool(b))) {
		snprintf(where, cap, "type differs at %s", a->string ? a->string : "(value)");
		return 0;
	}
	if (cJSON_IsObject(a)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) {
			snprintf(where, cap, "key count differs under %s", a->string ? a->string : "(root)");
			return 0;
		}
		cJSON_ArrayForEach(x, a) {
			const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			if (!y) {
				snprintf(where, cap, "key %s missing", x->string);
				return 0;
			}
			if (!same_shape(x, y, where, cap))
				return 0;
		}
	}
	if (cJSON_IsArray(a) && cJSON_GetArraySize(a) && cJSON_GetArraySize(b))
		return same_shape(cJSON_GetArrayItem(a, 0), cJSON_GetArrayItem(b, 0), where, cap);
	return 1;
}

static int start_sim(void)
{
	char port_file[] = "/tmp/nearsim-tx-XXXXXX", bin[1024];
	int fd = mkstemp(port_file), i;
	const char *bd = getenv("top_builddir") ? getenv("top_builddir") : ".";

	if (fd < 0)
		return -1;
	close(fd);
	unlink(port_file);
	snprintf(bin, sizeof(bin), "%s/nearsim", bd);
	if (!(sim_pid = fork())) {
		execl(bin, bin, "--manual", "--port", "0", "--port-file", port_file, "--quiet",
		      "--tx-validity", "20", "--tx-timeout-ms", "3000", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 400; i++) {
		FILE *f = fopen(port_file, "r");
		int port = 0;
		if (f) {
			if (fscanf(f, "%d", &port) == 1 && port > 0) {
				fclose(f);
				unlink(port_file);
				snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d", port);
				return 0;
			}
			fclose(f);
		}
		usleep(50000);
	}
	return -1;
}

static void produce(int n)
{
	char p[64];
	long st = 0;
	cJSON *r;

	snprintf(p, sizeof(p), "/admin/produce?n=%d", n);
	r = post(p, "{}", &st);
	cJSON_Delete(r);
}

static struct near_signed_tx sign_call(const struct near_secret *sk, uint64_t nonce, const uint8_t bh[32], const char *args)
{
	struct near_pubkey pk;
	struct near_fc_action a = { .method = "verify_tee", .args = (const uint8_t *)args,
				    .args_len = strlen(args), .gas = 300 * NEAR_TGAS, .deposit = 0 };
	struct near_signed_tx tx;

	near_secret_pubkey(&pk, sk);
	memset(&tx, 0, sizeof(tx));
	if (near_tx_sign(&tx, "frodo.test.near", &pk, nonce, "mpc.test.near", bh, &a, 1, sk))
		bail_out("near_tx_sign failed");
	return tx;
}

/* The nonce of frodo's signer key as view_access_key shows it at a finality. */
static double ak_nonce(const char *pks, const char *finality)
{
	char p[300];
	long st;
	cJSON *r;
	double n;

	snprintf(p, sizeof(p), "{\"request_type\":\"view_access_key\",\"finality\":\"%s\","
		 "\"account_id\":\"frodo.test.near\",\"public_key\":\"%s\"}", finality, pks);
	r = rpc("query", p, &st);
	n = cJSON_GetNumberValue(path(r, "result", "nonce", NULL));
	cJSON_Delete(r);
	return n;
}

static cJSON *send_b64(const char *b64, const char *wait, long *st)
{
	char *p = malloc(strlen(b64) + 128);
	cJSON *r;

	sprintf(p, "{\"signed_tx_base64\":\"%s\",\"wait_until\":\"%s\"}", b64, wait);
	r = rpc("send_tx", p, st);
	free(p);
	return r;
}

static const char *invalid_tx_reason(const cJSON *r, char *buf, size_t cap)
{
	const cJSON *e = path(r, "error", "data", "TxExecutionError");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "InvalidTxError");
	char *s = v ? cJSON_PrintUnformatted(v) : NULL;

	snprintf(buf, cap, "%s", s ? s : "(none)");
	free(s);
	return buf;
}

int main(void)
{
	struct near_secret sk;
	uint8_t seed[32], bh[32], genesis_hash[32];
	struct near_pubkey pk;
	char pks[NEAR_PUBKEY_STR_MAX], params[512], why[256] = "", reason[256];
	cJSON *r, *fx;
	long st = 0;
	uint64_t nonce;
	int status;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (start_sim())
		bail_out("nearsim did not start");
	produce(2);

	/* frodo's full-access key: nearcore's test-key convention, rebuilt with core/near */
	memset(seed, ' ', 32);
	memcpy(seed, "frodo.test.near", 15);
	near_secret_from_seed(&sk, seed);
	near_secret_pubkey(&pk, &sk);
	near_pubkey_format(pks, &pk);

	r = rpc("block", "{\"block_id\":100}", &st);
	ok(r && !near_hash_from_b58(genesis_hash, cJSON_GetStringValue(path(r, "result", "header", "hash"))), "genesis block hash");
	cJSON_Delete(r);
	r = rpc("block", "{\"finality\":\"final\"}", &st);
	ok(r && !near_hash_from_b58(bh, cJSON_GetStringValue(path(r, "result", "header", "hash"))), "final block hash");
	cJSON_Delete(r);
	snprintf(params, sizeof(params), "{\"request_type\":\"view_access_key\",\"finality\":\"final\","
		 "\"account_id\":\"frodo.test.near\",\"public_key\":\"%s\"}", pks);
	r = rpc("query", params, &st);
	ok(cJSON_IsNumber(path(r, "result", "nonce", NULL)), "view_access_key gives the nonce of frodo's key");
	nonce = (uint64_t)cJSON_GetNumberValue(path(r, "result", "nonce", NULL)) + 1;
	cJSON_Delete(r);

	/* 1. accepted */
	struct near_signed_tx tx = sign_call(&sk, nonce, bh, "{}");
	r = send_b64(tx.base64, "NONE", &st);
	is_str(cJSON_GetStringValue(path(r, "result", "final_execution_status", NULL)), "NONE", "signed tx accepted (send_tx NONE)");
	cJSON_Delete(r);
	produce(5);
	snprintf(params, sizeof(params), "{\"tx_hash\":\"%s\",\"sender_account_id\":\"frodo.test.near\",\"wait_until\":\"FINAL\"}", tx.hash_b58);
	r = rpc("tx", params, &st);
	is_str(cJSON_GetStringValue(path(r, "result", "status", "SuccessValue")), "dHJ1ZQ==", "it executed: verify_tee returned true");
	is_str(cJSON_GetStringValue(path(r, "result", "transaction", "hash")), tx.hash_b58, "the chain reports our transaction hash");
	cJSON_Delete(r);

	/* 2. the same bytes with one bit flipped */
	{
		uint8_t *flip = malloc(tx.len);
		char *b64;
		memcpy(flip, tx.bytes, tx.len);
		flip[tx.tx_len / 2] ^= 0x01;
		b64 = b64_encode_alloc(flip, tx.len);
		r = send_b64(b64, "NONE", &st);
		is_str(invalid_tx_reason(r, reason, sizeof(reason)), "\"InvalidSignature\"", "one bit flipped: InvalidSignature");
		fx = load_fixture("error_expired.sandbox.response.json");
		ok(r && same_shape(fx, r, why, sizeof(why)), "InvalidSignature has nearcore's INVALID_TRANSACTION shape%s", why);
		is_int(st, 200, "HTTP 200 for INVALID_TRANSACTION");
		cJSON_Delete(fx);
		cJSON_Delete(r);
		free(b64);
		free(flip);
	}

	/* 3. a reused nonce (different content, same nonce) */
	{
		struct near_signed_tx again = sign_call(&sk, nonce, bh, "{\"again\":true}");
		r = send_b64(again.base64, "NONE", &st);
		snprintf(params, sizeof(params), "{\"InvalidNonce\":{\"ak_nonce\":%llu,\"tx_nonce\":%llu}}",
			 (unsigned long long)nonce, (unsigned long long)nonce);
		is_str(invalid_tx_reason(r, reason, sizeof(reason)), params, "reused nonce: InvalidNonce with ak_nonce and tx_nonce");
		fx = load_fixture("error_invalid_nonce.sandbox.response.json");
		ok(r && same_shape(fx, r, why, sizeof(why)), "InvalidNonce matches the recorded sandbox error shape%s", why);
		cJSON_Delete(fx);
		cJSON_Delete(r);
		near_signed_tx_free(&again);
	}

	/* 4. an expired block hash (older than --tx-validity 20) */
	{
		struct near_signed_tx old;
		produce(25);
		old = sign_call(&sk, nonce + 1, genesis_hash, "{}");
		r = send_b64(old.base64, "NONE", &st);
		is_str(invalid_tx_reason(r, reason, sizeof(reason)), "\"Expired\"", "expired block hash: Expired");
		fx = load_fixture("error_expired.sandbox.response.json");
		cJSON_ReplaceItemInObjectCaseSensitive(fx, "id", cJSON_CreateNumber(1));
		ok(r && cJSON_Compare(fx, r, 1), "Expired equals the recorded sandbox error body");
		cJSON_Delete(fx);
		cJSON_Delete(r);
		near_signed_tx_free(&old);
	}

	/* 5. the identical bytes again: answered with the known outcome, executed once */
	{
		char p[160];
		r = send_b64(tx.base64, "FINAL", &st);
		is_str(cJSON_GetStringValue(path(r, "result", "transaction", "hash")), tx.hash_b58, "resubmitting identical bytes answers the known transaction");
		cJSON_Delete(r);
		snprintf(p, sizeof(p), "/admin/txs?hash=%s", tx.hash_b58);
		r = post(p, "", &st);
		is_int(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "executions")), 1,
		       "nearsim executed the transaction exactly once");
		cJSON_Delete(r);
	}

	/* 6. the pool, as nearcore's: a nonce is judged against the key on chain, not against
	 * the pool, so N+1 sent before N executes with it; a second transaction with a nonce
	 * already taken is admitted too, then dropped when the block is made (unknown to `tx`,
	 * and refused when sent again); the final block shows the key's nonce as it was. */
	{
		uint8_t fresh[32];
		struct near_signed_tx a, b, c1, c2;
		const struct near_signed_tx *all[4] = { &a, &b, &c1, &c2 };
		static const char *const name[4] = { "N+1", "N+2 (sent first)", "N+3", "N+3 again, other bytes" };
		static const int want_exec[4] = { 1, 1, 1, 0 }, order[4] = { 1, 0, 2, 3 };
		char p[200];
		int i;

		r = rpc("block", "{\"finality\":\"final\"}", &st);
		ok(r && !near_hash_from_b58(fresh, cJSON_GetStringValue(path(r, "result", "header", "hash"))), "a fresh final block hash");
		cJSON_Delete(r);
		a = sign_call(&sk, nonce + 1, fresh, "{}");
		b = sign_call(&sk, nonce + 2, fresh, "{}");
		c1 = sign_call(&sk, nonce + 3, fresh, "{\"c\":1}");
		c2 = sign_call(&sk, nonce + 3, fresh, "{\"c\":2}");
		for (i = 0; i < 4; i++) {
			r = send_b64(all[order[i]]->base64, "NONE", &st);
			is_str(cJSON_GetStringValue(path(r, "result", "final_execution_status", NULL)), "NONE",
			       "pool: %s admitted", name[order[i]]);
			cJSON_Delete(r);
		}
		produce(1);
		ok(ak_nonce(pks, "optimistic") == (double)(nonce + 3), "pool: the key's nonce at the head is N+3");
		ok(ak_nonce(pks, "final") == (double)nonce,
		   "pool: at the final block (not including them yet) it is still N");
		for (i = 0; i < 4; i++) {
			snprintf(p, sizeof(p), "/admin/txs?hash=%s", all[i]->hash_b58);
			r = post(p, "", &st);
			is_int(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "executions")), want_exec[i],
			       "pool: %s executed %d time(s)", name[i], want_exec[i]);
			cJSON_Delete(r);
		}
		snprintf(p, sizeof(p), "{\"tx_hash\":\"%s\",\"sender_account_id\":\"frodo.test.near\",\"wait_until\":\"NONE\"}",
			 c2.hash_b58);
		r = rpc("tx", p, &st);
		is_str(cJSON_GetStringValue(path(r, "error", "cause", "name")), "UNKNOWN_TRANSACTION",
		       "pool: the dropped one is unknown to tx");
		cJSON_Delete(r);
		r = send_b64(c2.base64, "NONE", &st);
		snprintf(p, sizeof(p), "{\"InvalidNonce\":{\"ak_nonce\":%llu,\"tx_nonce\":%llu}}",
			 (unsigned long long)(nonce + 3), (unsigned long long)(nonce + 3));
		is_str(invalid_tx_reason(r, reason, sizeof(reason)), p, "pool: the dropped bytes sent again: InvalidNonce");
		cJSON_Delete(r);
		for (i = 0; i < 4; i++)
			near_signed_tx_free((struct near_signed_tx *)all[i]);
	}

	near_signed_tx_free(&tx);
	near_secret_wipe(&sk);
	kill(sim_pid, SIGTERM);
	waitpid(sim_pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "nearsim exits 0 on SIGTERM");
	curl_global_cleanup();
	return done_testing();
}
