/* mpc-node-bridge protocol: handshake, every method against a scripted
 * source, error replies with stable codes, limits (line length, garbage,
 * clients, handshake timeout), and the socket file (mode, stale file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../tap.h"
#include "test_bridge_harness.h"

static struct bh_world W;

static int is_err(cJSON *r, int code, const char *what)
{
	int got = bh_err_code(r);
	int okk = ok(got == code, "%s: error %d", what, code);
	if (!okk) {
		char *s = r ? cJSON_PrintUnformatted(r) : NULL;
		diag("got: %s", s ? s : "(nothing)");
		free(s);
	}
	cJSON_Delete(r);
	return okk;
}

static cJSON *expect_note(struct bh_client *c, const char *method)
{
	cJSON *m = bh_recv(&W, c, 5);
	const char *got = bh_method(m);
	if (!got || strcmp(got, method) != 0) {
		char *s = m ? cJSON_PrintUnformatted(m) : NULL;
		diag("expected a %s notification, got %s", method, s ? s : "(nothing)");
		free(s);
		cJSON_Delete(m);
		return NULL;
	}
	return m;
}

static void test_socket_file(void)
{
	struct stat st;
	ok(stat(W.sock, &st) == 0 && S_ISSOCK(st.st_mode), "the socket file exists");
	is_int(st.st_mode & 0777, 0600, "and has mode 0600");
}

static void test_handshake(void)
{
	struct bh_client c;
	bh_connect(&c, W.sock);
	is_err(bh_call(&W, &c, "status", NULL), -32000, "a call before hello");
	is_err(bh_call(&W, &c, "hello", "{\"version\":2}"), -32001, "hello with version 2");
	is_err(bh_call(&W, &c, "hello", "{}"), -32602, "hello without a version");
	cJSON *r = bh_call(&W, &c, "hello", "{\"version\":1,\"client\":\"t\"}");
	is_int((int)bh_num(r, "result.version"), 1, "hello 1 is accepted");
	ok(bh_str(r, "result.run_id") && strlen(bh_str(r, "result.run_id")) == 16,
	   "it names the run");
	cJSON *eps = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(r, "result"), "endpoints");
	ok(cJSON_GetArraySize(eps) == 2 && strcmp(cJSON_GetArrayItem(eps, 0)->valuestring, "state") == 0,
	   "and lists the followed endpoints");
	is_str(bh_str(r, "result.chain_id"), "nearsim", "and the chain");
	cJSON_Delete(r);
	is_err(bh_call(&W, &c, "hello", "{\"version\":1}"), -32600, "a second hello");
	r = bh_call(&W, &c, "ping", NULL);
	is_str(bh_str(r, "result"), "pong", "ping answers pong");
	cJSON_Delete(r);
	bh_close(&c);
}

static void test_malformed(void)
{
	struct bh_client c, other;
	bh_connect(&c, W.sock);
	bh_connect(&other, W.sock);
	bh_hello(&W, &c);
	bh_hello(&W, &other);

	bh_send(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\n");
	is_err(bh_recv(&W, &c, 5), -32700, "malformed JSON");
	bh_send(&c, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]\n");
	is_err(bh_recv(&W, &c, 5), -32600, "a batch");
	bh_send(&c, "\"just a string\"\n");
	is_err(bh_recv(&W, &c, 5), -32600, "a non-object");
	bh_send(&c, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}\n");
	is_err(bh_recv(&W, &c, 5), -32600, "jsonrpc 1.0");
	bh_send(&c, "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}\n");
	is_err(bh_recv(&W, &c, 5), -32600, "an object id");
	is_err(bh_call(&W, &c, "no_such_method", NULL), -32601, "an unknown method");
	is_err(bh_call(&W, &c, "status", "[1]"), -32602, "params that are not an object");
	is_err(bh_call(&W, &c, "subscribe_blocks", "{\"from_height\":-1}"), -32602,
	       "a negative height");
	is_err(bh_call(&W, &c, "subscribe_blocks", "{\"from_height\":1e300}"), -32602,
	       "a height past 2^53");
	is_err(bh_call(&W, &c, "subscribe_blocks", "{\"from_height\":1.5}"), -32602,
	       "a fractional height");
	cJSON *r = bh_call(&W, &c, "ping", NULL);
	is_str(bh_str(r, "result"), "pong", "the connection still works after errors");
	cJSON_Delete(r);
	bh_send(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}\n");
	r = bh_recv(&W, &c, 5);
	ok(r && cJSON_IsNull(cJSON_GetObjectItem(r, "id")) && bh_str(r, "result"),
	   "a request without id is answered with id null");
	cJSON_Delete(r);

	/* a line longer than max_line (4096 here) */
	char *big = malloc(9000);
	memset(big, 'x', 8999);
	big[8999] = 0;
	bh_send(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"p\":\"");
	bh_send(&c, big);
	cJSON *bye = expect_note(&c, "bye");
	is_str(bh_str(bye, "params.reason"), "line_too_long", "an oversized line: bye line_too_long");
	cJSON_Delete(bye);
	ok(bh_wait_eof(&W, &c, 5), "and the connection is closed");
	bh_close(&c);

	/* a garbage flood: binary junk and many bad lines */
	bh_connect(&c, W.sock);
	bh_hello(&W, &c);
	for (int i = 0; i < 40; i++)
		bh_send(&c, "\x01\x02garbage\xff{{{\n");
	int errors = 0;
	cJSON *m;
	const char *reason = NULL;
	char reason_buf[64] = "";
	while ((m = bh_recv(&W, &c, 5))) {
		if (bh_err_code(m) == -32700)
			errors++;
		if (bh_method(m) && strcmp(bh_method(m), "bye") == 0 &&
		    (reason = bh_str(m, "params.reason")))
			snprintf(reason_buf, sizeof(reason_buf), "%s", reason);
		cJSON_Delete(m);
	}
	ok(errors >= 8, "garbage gets parse errors (%d)", errors);
	is_str(reason_buf, "too_many_errors", "then bye too_many_errors");
	ok(c.eof, "and a disconnect");
	bh_close(&c);

	r = bh_call(&W, &other, "ping", NULL);
	is_str(bh_str(r, "result"), "pong", "the other client is unaffected");
	cJSON_Delete(r);
	bh_emit_block(50, 0, 0, 0);
	bh_close(&other);
	free(big);
}

static void test_state(void)
{
	struct bh_client a, b;
	bh_connect(&a, W.sock);
	bh_connect(&b, W.sock);
	bh_hello(&W, &a);
	bh_hello(&W, &b);
	is_err(bh_call(&W, &a, "subscribe_state", "{\"method\":\"nope\"}"), -32004,
	       "subscribe_state to an endpoint not followed");
	is_err(bh_call(&W, &a, "subscribe_state", "{}"), -32602, "subscribe_state without a method");
	cJSON *r = bh_call(&W, &a, "subscribe_state", "{\"method\":\"state\"}");
	is_str(bh_str(r, "result.subscription"), "state:state", "subscribe_state answers its id");
	cJSON_Delete(r);
	is_err(bh_call(&W, &a, "subscribe_state", "{\"method\":\"state\"}"), -32005,
	       "subscribing twice");
	bh_emit_state("state", "{\"Running\":{\"epoch\":1}}", 10);
	cJSON *n = expect_note(&a, "state");
	is_int((int)bh_num(n, "params.height"), 10, "the first value comes with its height");
	is_int((int)bh_num(n, "params.value.Running.epoch"), 1, "and the value as JSON");
	cJSON_Delete(n);

	r = bh_call(&W, &b, "subscribe_state", "{\"method\":\"state\"}");
	cJSON_Delete(r);
	n = expect_note(&b, "state");
	is_int((int)bh_num(n, "params.height"), 10, "a later subscriber gets the current value first");
	cJSON_Delete(n);

	bh_emit_state("state", "{\"Running\":\n{\"epoch\":2}}", 15);
	n = expect_note(&a, "state");
	is_int((int)bh_num(n, "params.value.Running.epoch"), 2,
	       "each change follows (newlines in the value kept on one line)");
	cJSON_Delete(n);
	n = expect_note(&b, "state");
	is_int((int)bh_num(n, "params.height"), 15, "to every subscriber, with its height");
	cJSON_Delete(n);

	bh_emit_state("state", "\xff\xfe not json", 16);
	n = expect_note(&a, "state");
	ok(bh_str(n, "params.value_base64") != NULL, "bytes that are not JSON come as value_base64");
	cJSON_Delete(n);
	n = bh_recv(&W, &b, 5);
	cJSON_Delete(n);

	r = bh_call(&W, &a, "unsubscribe", "{\"subscription\":\"state:state\"}");
	ok(cJSON_IsTrue(cJSON_GetObjectItem(r, "result")), "unsubscribe answers true");
	cJSON_Delete(r);
	is_err(bh_call(&W, &a, "unsubscribe", "{\"subscription\":\"state:state\"}"), -32006,
	       "unsubscribing twice");
	bh_emit_state("state", "{\"Running\":{\"epoch\":3}}", 20);
	n = expect_note(&b, "state");
	cJSON_Delete(n);
	r = bh_call(&W, &a, "ping", NULL);
	is_str(bh_str(r, "result"), "pong", "an unsubscribed client gets no more changes");
	cJSON_Delete(r);
	bh_close(&a);
	bh_close(&b);
}

static void test_blocks(void)
{
	struct bh_client a, late, old;
	bh_connect(&a, W.sock);
	bh_hello(&W, &a);
	cJSON *r = bh_call(&W, &a, "subscribe_blocks", NULL);
	is_str(bh_str(r, "result.subscription"), "blocks", "subscribe_blocks (live)");
	const char *run = bh_str(r, "result.run_id");
	char run_id[32];
	snprintf(run_id, sizeof(run_id), "%s", run ? run : "");
	cJSON_Delete(r);
	is_err(bh_call(&W, &a, "subscribe_blocks", NULL), -32005, "subscribing to blocks twice");

	for (uint64_t h = 101; h <= 110; h++)
		bh_emit_block(h, 2, 1, 10);
	int got = 0, contents = 1;
	uint64_t last_seq = 0;
	for (uint64_t h = 101; h <= 110; h++) {
		cJSON *m = expect_note(&a, "block");
		if (!m)
			break;
		got += bh_num(m, "params.height") == (double)h;
		cJSON *p = cJSON_GetObjectItem(m, "params");
		cJSON *req = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "requests"), 1);
		cJSON *done = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "completions"), 0);
		char want[48];
		snprintf(want, sizeof(want), "req-%llu-1", (unsigned long long)h);
		contents &= req && strcmp(bh_str(req, "id"), want) == 0 &&
			    strcmp(bh_str(req, "kind"), "ckd") == 0 &&
			    bh_num(req, "domain_id") == 1 &&
			    strncmp(bh_str(req, "derived"), "ab00", 4) == 0 &&
			    strcmp(bh_str(req, "request.path"), "p") == 0 &&
			    strcmp(bh_str(req, "args.request.path"), "p") == 0 &&
			    done && strcmp(bh_str(done, "kind"), "sign") == 0 &&
			    cJSON_IsTrue(cJSON_GetObjectItem(done, "success")) &&
			    strcmp(bh_str(m, "params.status"), "final") == 0 &&
			    bh_str(m, "params.timestamp_nanosec") &&
			    strlen(bh_str(m, "params.entropy")) == 64;
		last_seq = (uint64_t)bh_num(m, "params.seq");
		cJSON_Delete(m);
	}
	is_int(got, 10, "every block reaches a live subscriber in order");
	ok(contents, "with its requests, completions and block context");

	/* replay from a height in the ring, then live */
	bh_connect(&late, W.sock);
	bh_hello(&W, &late);
	r = bh_call(&W, &late, "subscribe_blocks", "{\"from_height\":105}");
	ok(bh_str(r, "result.subscription") != NULL, "subscribe_blocks from a held height");
	cJSON_Delete(r);
	bh_emit_block(111, 0, 0, 0);
	int seq_ok = 1;
	for (uint64_t h = 105; h <= 111; h++) {
		cJSON *m = expect_note(&late, "block");
		seq_ok &= m && bh_num(m, "params.height") == (double)h;
		cJSON_Delete(m);
	}
	ok(seq_ok, "replays 105..110 then goes live with 111");
	cJSON_Delete(expect_note(&a, "block"));

	/* resume after a seq: exact, including orphaned / finalized */
	bh_emit_orphaned(111);
	bh_emit_finalized(109);
	bh_connect(&old, W.sock);
	bh_hello(&W, &old);
	char params[200];
	snprintf(params, sizeof(params), "{\"after_seq\":%llu,\"run_id\":\"%s\"}",
		 (unsigned long long)last_seq, run_id);
	r = bh_call(&W, &old, "subscribe_blocks", params);
	is_int((int)bh_num(r, "result.start_seq"), (int)last_seq + 1, "after_seq resumes right after it");
	cJSON_Delete(r);
	cJSON *m = expect_note(&old, "block");
	is_int((int)bh_num(m, "params.height"), 111, "with the next block");
	cJSON_Delete(m);
	m = expect_note(&old, "orphaned");
	is_int((int)bh_num(m, "params.height"), 111, "then orphaned");
	cJSON_Delete(m);
	m = expect_note(&old, "finalized");
	is_int((int)bh_num(m, "params.height"), 109, "then finalized");
	cJSON_Delete(m);
	bh_close(&old);

	bh_connect(&old, W.sock);
	bh_hello(&W, &old);
	r = bh_call(&W, &old, "subscribe_blocks", "{\"from_height\":3}");
	ok(bh_err_code(r) == -32003 && bh_num(r, "error.data.oldest_height") == 50,
	   "a height older than the ring: error -32003 naming the oldest held height");
	cJSON_Delete(r);
	is_err(bh_call(&W, &old, "subscribe_blocks", "{\"after_seq\":1,\"run_id\":\"0000000000000000\"}"),
	       -32003, "after_seq from another run");
	is_err(bh_call(&W, &old, "subscribe_blocks", "{\"after_seq\":1}"), -32602,
	       "after_seq without run_id");
	r = bh_call(&W, &old, "subscribe_blocks", "{\"from_height\":200}");
	ok(bh_str(r, "result.subscription") != NULL, "a future height waits");
	cJSON_Delete(r);
	bh_emit_block(112, 0, 0, 0);
	bh_emit_block(200, 0, 0, 0);
	m = expect_note(&old, "block");
	is_int((int)bh_num(m, "params.height"), 200, "and starts at that height");
	cJSON_Delete(m);
	r = bh_call(&W, &old, "unsubscribe", "{\"subscription\":\"blocks\"}");
	ok(cJSON_IsTrue(cJSON_GetObjectItem(r, "result")), "unsubscribe from blocks");
	cJSON_Delete(r);
	bh_emit_block(201, 0, 0, 0);
	r = bh_call(&W, &old, "ping", NULL);
	is_str(bh_str(r, "result"), "pong", "no block after unsubscribe");
	cJSON_Delete(r);

	bh_close(&a);   /* it still has blocks coming; ask on a quiet connection */
	bh_connect(&a, W.sock);
	bh_hello(&W, &a);
	r = bh_call(&W, &a, "status", NULL);
	is_int((int)bh_num(r, "result.head_height"), 201, "status gives the indexer heights");
	is_int((int)bh_num(r, "result.ring.newest_height"), 201, "and the ring");
	ok(bh_num(r, "result.clients") >= 3, "and the clients");
	cJSON_Delete(r);
	bh_close(&a);
	bh_close(&late);
	bh_close(&old);
}

static void test_view_and_tx(void)
{
	struct bh_client c;
	bh_connect(&c, W.sock);
	bh_hello(&W, &c);
	bh_send(&c, "{\"jsonrpc\":\"2.0\",\"id\":\"v1\",\"method\":\"view\",\"params\":"
		    "{\"method\":\"get_pending_request\",\"args\":{\"request\":{\"a\":1}}}}\n");
	for (int i = 0; i < 50 && BH.n_views == 0; i++)
		bh_pump(&W);
	ok(BH.n_views == 1 && strcmp(BH.views[0].method, "get_pending_request") == 0 &&
	   strcmp(BH.views[0].args, "{\"request\":{\"a\":1}}") == 0,
	   "view reaches the source with its method and args");
	struct mpci_view_result vr = { .struct_size = sizeof(vr), .ok = 1, .value = "null",
				       .value_len = 4, .block_height = 77, .block_hash = "hh" };
	BH.views[0].deliver(BH.views[0].ctx, &vr);
	cJSON *r = bh_recv(&W, &c, 5);
	is_str(bh_str(r, "id"), "v1", "the view answers its id");
	ok(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "value")) &&
	   bh_num(r, "result.height") == 77, "with the value and its height");
	cJSON_Delete(r);

	bh_send(&c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"view\",\"params\":{\"method\":\"x\"}}\n");
	for (int i = 0; i < 50 && BH.n_views == 1; i++)
		bh_pump(&W);
	vr.ok = 0;
	vr.error = "CONTRACT_EXECUTION_ERROR: wasm execution failed";
	BH.views[1].deliver(BH.views[1].ctx, &vr);
	r = bh_recv(&W, &c, 5);
	ok(bh_err_code(r) == -32010 && strstr(bh_str(r, "error.message"), "wasm"),
	   "a failing view: error -32010 with the cause");
	cJSON_Delete(r);

	bh_send(&c, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"send_and_wait\",\"params\":"
		    "{\"method\":\"respond\",\"args\":{\"request\":1},\"deposit\":\"0\",\"gas\":300000000000000}}\n");
	for (int i = 0; i < 50 && BH.n_txs == 0; i++)
		bh_pump(&W);
	ok(BH.n_txs == 1 && strcmp(BH.txs[0].method, "respond") == 0 &&
	   strcmp(BH.txs[0].args, "{\"request\":1}") == 0 && BH.txs[0].wait == MPCI_TX_WAIT,
	   "send_and_wait reaches the sender as a waited transaction");
	struct mpci_tx_result tr = { .struct_size = sizeof(tr), .id = BH.txs[0].id,
				     .status = MPCI_TX_SUCCEEDED, .hash = "TxHash",
				     .value = "true", .value_len = 4, .block_height = 90 };
	BH.txs[0].done(BH.txs[0].ctx, &tr);
	r = bh_recv(&W, &c, 5);
	ok(bh_num(r, "id") == 3 && strcmp(bh_str(r, "result.status"), "succeeded") == 0 &&
	   strcmp(bh_str(r, "result.hash"), "TxHash") == 0 && bh_num(r, "result.height") == 90 &&
	   cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "value")),
	   "its outcome comes back: status, hash, value, height");
	cJSON_Delete(r);

	bh_send(&c, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"send\",\"params\":{\"method\":\"vote\"}}\n");
	for (int i = 0; i < 50 && BH.n_txs == 1; i++)
		bh_pump(&W);
	ok(BH.n_txs == 2 && BH.txs[1].wait == MPCI_TX_SEND && strcmp(BH.txs[1].args, "{}") == 0,
	   "send submits without waiting (args default to {})");
	/* the client goes away before the outcome: nothing is written to it */
	bh_close(&c);
	bh_pump(&W);
	tr.id = BH.txs[1].id;
	tr.status = MPCI_TX_ACCEPTED;
	BH.txs[1].done(BH.txs[1].ctx, &tr);
	ok(1, "an outcome for a departed client is dropped without harm");

	bh_connect(&c, W.sock);
	bh_hello(&W, &c);
	is_err(bh_call(&W, &c, "send", "{\"method\":\"respond\",\"deposit\":\"1e3\"}"), -32602,
	       "a deposit that is not decimal");
	is_err(bh_call(&W, &c, "send", "{\"method\":\"respond\",\"args\":5}"), -32602,
	       "args that are a number");
	is_err(bh_call(&W, &c, "send", "{}"), -32602, "send without a method");
	BH.tx_refuse = MPCI_ERR_FULL;
	is_err(bh_call(&W, &c, "send", "{\"method\":\"respond\"}"), -32007,
	       "a full transaction queue: busy");
	BH.tx_refuse = MPCI_ERR_UNSUPPORTED;
	is_err(bh_call(&W, &c, "send", "{\"method\":\"respond\"}"), -32002,
	       "no sender: unavailable");
	BH.tx_refuse = 0;
	bh_close(&c);
}

static void test_limits(void)
{
	struct bh_client c[5];
	int n = 0;
	for (int i = 0; i < 5; i++)
		if (bh_connect(&c[i], W.sock) == 0)
			n++;
	bh_pump(&W);
	cJSON *m = bh_recv(&W, &c[4], 5);
	is_str(bh_str(m, "params.reason"), "max_clients", "the client past max_clients (4) is told why");
	cJSON_Delete(m);
	ok(bh_wait_eof(&W, &c[4], 5), "and closed");
	ok(bh_hello(&W, &c[0]), "the others are served");
	/* c[1] never says hello: dropped after hello_timeout */
	m = bh_recv(&W, &c[1], 10);
	is_str(bh_str(m, "params.reason"), "handshake_timeout", "a silent client is dropped after hello_timeout");
	cJSON_Delete(m);
	for (int i = 0; i < 5; i++)
		bh_close(&c[i]);
}

static int make_socket_file(const char *path, int do_listen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || (do_listen && listen(fd, 1) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_socket_path_cases(void)
{
	struct bh_world w;
	char keys[300], path[200];
	struct stat st;

	bh_down(&W);
	snprintf(path, sizeof(path), "/tmp/mpci-bridge-stale-%d.sock", (int)getpid());
	snprintf(keys, sizeof(keys), "socket = %s\n", path);

	int fd = make_socket_file(path, 0);
	close(fd);      /* bound, never listening, closed: a stale file */
	ok(fd >= 0 && stat(path, &st) == 0, "a stale socket file is left behind");
	is_int(bh_up(&w, keys), 0, "the bridge starts over a stale socket file");
	ok(bh_log_has(&w, "removed a stale socket"), "and says it removed it");
	struct bh_client c;
	ok(bh_connect(&c, path) == 0 && bh_hello(&w, &c), "clients reach it there");
	bh_close(&c);
	bh_down(&w);
	ok(stat(path, &st) != 0, "stop removes its socket file");

	fd = make_socket_file(path, 1);
	ok(bh_up(&w, keys) != 0, "a socket someone listens on is not taken over");
	ok(bh_log_has(&w, "another process is listening"), "the log says so");
	bh_down(&w);
	ok(stat(path, &st) == 0, "and the other process keeps its socket");
	close(fd);
	unlink(path);

	FILE *f = fopen(path, "w");
	fputs("precious\n", f);
	fclose(f);
	ok(bh_up(&w, keys) != 0, "a regular file at the path is refused");
	ok(bh_log_has(&w, "is not a socket"), "with a reason");
	bh_down(&w);
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode), "and left alone");
	unlink(path);

	BH.no_sources = 1;
	is_int(bh_up(&w, ""), 0, "without event sources the bridge still runs");
	ok(bh_connect(&c, w.sock) == 0 && bh_hello(&w, &c), "hello works");
	is_err(bh_call(&w, &c, "subscribe_blocks", NULL), -32002, "subscribe_blocks: unavailable");
	is_err(bh_call(&w, &c, "subscribe_state", "{\"method\":\"state\"}"), -32002,
	       "subscribe_state: unavailable");
	is_err(bh_call(&w, &c, "view", "{\"method\":\"state\"}"), -32002, "view: unavailable");
	bh_close(&c);
	bh_down(&w);
	BH.no_sources = 0;
}

int main(void)
{
	if (bh_up(&W, "max_line = 4096\nmax_clients = 4\nmax_errors = 16\n"
		      "hello_timeout = 200ms\nstate_methods = state, migration_info\n") != 0)
		bail_out("the bridge did not start (log in %s)", W.log);
	test_socket_file();
	test_handshake();
	test_malformed();
	test_state();
	test_blocks();
	test_view_and_tx();
	test_limits();
	test_socket_path_cases();
	return done_testing();
}
