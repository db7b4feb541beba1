/* The sender's front door, without a network: bad requests are refused before
 * anything is signed or journaled, unknown signers, a full queue, stop, and
 * "shutdown" reported exactly once at free while the journal keeps the
 * transactions for the next start. */
#include <curl/curl.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "http.h"
#include "rpc.h"
#include "signer.h"
#include "txjournal.h"
#include "txsend.h"

static const char alice_secret[] =
	"ed25519:2wyRcSwSuHtRVmkMCGjPwnzZmQLeXLzLLyED1NDMt4BjnKgQL6tF85yBx6Jr26D2dUNeC716RBoTxntVHsegogYw";

static int calls[16];
static char last_error[128];
static int last_status = -1;

static void done(void *ctx, const struct mpci_tx_result *r)
{
	calls[(intptr_t)ctx]++;
	last_status = r->status;
	snprintf(last_error, sizeof(last_error), "%s", r->error ? r->error : "");
}

int main(void)
{
	char dir[] = "/tmp/mpci-txsend-XXXXXX", keyp[300], err[512];
	struct signer *s;

	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	snprintf(keyp, sizeof(keyp), "%s/alice.key", dir);
	FILE *f = fopen(keyp, "w");
	if (!f)
		bail_out("key");
	fputs(alice_secret, f);
	fclose(f);
	chmod(keyp, 0600);
	if (signer_load(&s, "node", "alice.test.near", keyp, NULL, err, sizeof(err)) < 0)
		bail_out("%s", err);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct http_client *http = http_client_new(loop);
	const char *urls[] = { "http://127.0.0.1:9", NULL };
	struct rpc_config rc = { .urls = urls, .probe_interval = -1 };
	struct rpc *rpc = rpc_new_with(loop, http, NULL, &rc, err, sizeof(err));
	struct txsend_opts o = { .contract = "mpc.test.near", .queue_max = 2 };
	struct txsend *ts = txsend_new_with(loop, rpc, s, &o, NULL, dir, err, sizeof(err));
	if (!ts)
		bail_out("%s", err);

	struct txsend *other = txsend_new_with(loop, rpc, NULL, &o, NULL, dir, err, sizeof(err));
	ok(!other && strstr(err, "in use"), "a second sender on the same state directory is refused: %s", err);

	struct mpci_signer_info si = { .struct_size = sizeof(si) };
	ok(txsend_signer_info(ts, NULL, &si) == MPCI_OK && !strcmp(si.name, "node") &&
	   !strcmp(si.account_id, "alice.test.near") &&
	   !strcmp(si.public_key, "ed25519:22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbTV") &&
	   si.full_access == -1, "signer_info: name, account, public key, access unknown");
	is_int(txsend_signer_info(ts, "nobody", &si), MPCI_ERR_NOTFOUND, "signer_info of an unknown signer");

	struct mpci_tx_request req = { .struct_size = sizeof(req), .method = "respond",
				       .args = "{\"a\":1}", .args_len = 7 };
	uint64_t id = 0;
#define REFUSED(desc, code, want) do { \
	int rc_ = txsend_submit(ts, &req, done, (void *)1, &id, err, sizeof(err)); \
	ok(rc_ == (code) && strstr(err, want), "%s: %s", desc, err); } while (0)

	req.receiver = "Not_An.Account!";
	REFUSED("an invalid account id", MPCI_ERR_INVAL, "is not a valid NEAR account id");
	req.receiver = NULL;
	req.args = "{oops";
	req.args_len = 5;
	REFUSED("args that are not JSON", MPCI_ERR_INVAL, "args are not JSON");
	req.args = "{}";
	req.args_len = 2;
	req.gas = 1000000000000001ULL;
	REFUSED("gas over the limit", MPCI_ERR_INVAL, "over the per-transaction limit");
	req.gas = 0;
	req.deposit = "0x10";
	REFUSED("a deposit that is not a u128", MPCI_ERR_INVAL, "is not an amount of yoctoNEAR");
	req.deposit = NULL;
	req.wait = 7;
	REFUSED("an unknown wait mode", MPCI_ERR_INVAL, "wait is 7");
	req.wait = MPCI_TX_WAIT;
	req.deadline = -1;
	REFUSED("a negative deadline", MPCI_ERR_INVAL, "deadline");
	req.deadline = 0;
	req.signer = "ghost";
	REFUSED("an unknown signer", MPCI_ERR_NOTFOUND, "no signer named 'ghost' (configured: node)");
	req.signer = NULL;
	req.method = NULL;
	REFUSED("no method", MPCI_ERR_INVAL, "method");
	req.method = "respond";

	struct txsend_stats stats;
	txsend_get_stats(ts, &stats);
	ok(stats.signed_txs == 0 && txsend_queue_length(ts) == 0, "nothing was signed or queued");

	ok(txsend_submit(ts, &req, done, (void *)2, &id, err, sizeof(err)) == MPCI_OK && id == 1, "first accepted, id 1");
	ok(txsend_submit(ts, &req, done, (void *)3, &id, err, sizeof(err)) == MPCI_OK && id == 2, "second accepted, id 2");
	REFUSED("queue_max reached", MPCI_ERR_FULL, "signer node has 2 transactions queued");
	is_int(calls[2] + calls[3], 0, "callbacks never run from inside submit");
	is_int(txsend_queue_length(ts), 2, "two queued");

	txsend_stop(ts);
	REFUSED("after stop", MPCI_ERR_PHASE, "shutting down");
	txsend_free(ts);
	ok(calls[2] == 1 && calls[3] == 1 && calls[1] == 0, "at free each pending callback ran exactly once");
	ok(last_status == MPCI_TX_REJECTED && !strcmp(last_error, "shutdown"), "with REJECTED \"shutdown\"");

	struct txjournal *j;
	struct txj_state st;
	ok(txjournal_open(&j, dir, &st, err, sizeof(err)) == 0 && st.n == 2 &&
	   !st.entries[0]->is_signed && !strcmp(st.entries[1]->receiver, "mpc.test.near"),
	   "the journal keeps both for the next start, unsigned");
	txj_state_free(&st);
	txjournal_close(j);

	rpc_free(rpc);
	http_client_free(http);
	ev_loop_destroy(loop);
	curl_global_cleanup();
	char p[400];
	snprintf(p, sizeof(p), "%s/%s", dir, TXJOURNAL_FILE);
	unlink(p);
	unlink(keyp);
	rmdir(dir);
	return done_testing();
}
