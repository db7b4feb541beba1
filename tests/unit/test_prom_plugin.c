/* prometheus-monitor, loaded by the real plugin host and fed by a scripted
 * event source: contract state (Running, Resharing, Running again), TEE
 * accounts, migrations, version, attestations, blocks with MPC requests and
 * completions, and a stall.  Every check reads /metrics or /healthz over
 * HTTP, as Prometheus and operators do; the scrape goes through promtool. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "autoconfig.h"
#include "host.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

static char tmpdir[] = "/tmp/mpci-test-prom-XXXXXX";
static struct ev_loop *loop;
static struct http_client *client;
static unsigned port;

/* ---- the scripted source ---- */

#define MAX_SUBS 16
static struct {
	const char *method;
	provider_view_fn deliver;
	void *ctx;
} subs[MAX_SUBS];
static int n_subs;
static const struct provider_block_sink *sink;
static void *sink_ctx;
static struct mpci_status status;
static int views_asked;

static void *src_state_subscribe(void *src, const struct mpci_view_spec *spec,
				 provider_view_fn deliver, void *ctx, char *err, size_t n)
{
	if (n_subs == MAX_SUBS)
		return NULL;
	subs[n_subs].method = strdup(spec->method);
	subs[n_subs].deliver = deliver;
	subs[n_subs].ctx = ctx;
	return &subs[n_subs++];
}

static void *src_blocks_subscribe(void *src, const struct mpci_block_sub *sub,
				  const struct provider_block_sink *s, void *ctx, char *err, size_t n)
{
	sink = s;
	sink_ctx = ctx;
	return &sink;
}

static void src_unsubscribe(void *src, void *handle)
{
}

/* get_attestation: answered from the loop, as a real source does. */
struct answer {
	ev_timer w;
	provider_view_fn deliver;
	void *ctx;
	char key[200];
};

static void answer_now(struct ev_loop *l, ev_timer *w, int revents)
{
	struct answer *a = (struct answer *)w;
	const char *dstack = "{\"Dstack\":{\"mpc_image_hash\":\"aa\",\"launcher_compose_hash\":\"bb\","
			     "\"expiry_timestamp_seconds\":1800000000,\"measurements\":{}}}";
	int lifted = strstr(a->key, "JBjY7yjbfQ51na3bStPPYMyfModUTFHco5xUNEem3uu6") != NULL;
	struct mpci_view_result r = { .struct_size = sizeof(r), .method = "get_attestation",
				      .ok = 1, .value = lifted ? dstack : "null",
				      .value_len = strlen(lifted ? dstack : "null"),
				      .block_height = 100, .final = 1 };
	a->deliver(a->ctx, &r);
	free(a);
}

static int src_view(void *src, const struct mpci_view_spec *spec, provider_view_fn deliver,
		    void *ctx)
{
	if (strcmp(spec->method, "get_attestation") != 0 || !spec->args_json)
		return MPCI_ERR_INVAL;
	struct answer *a = calloc(1, sizeof(*a));
	a->deliver = deliver;
	a->ctx = ctx;
	snprintf(a->key, sizeof(a->key), "%s", spec->args_json);
	ev_timer_init(&a->w, answer_now, 0.001, 0);
	ev_timer_start(loop, &a->w);
	views_asked++;
	return MPCI_OK;
}

static void src_status(void *src, struct mpci_status *out)
{
	*out = status;
	out->struct_size = sizeof(*out);
}

static const struct provider_ops script_ops = {
	.state_subscribe = src_state_subscribe,
	.state_unsubscribe = src_unsubscribe,
	.view = src_view,
	.blocks_subscribe = src_blocks_subscribe,
	.blocks_unsubscribe = src_unsubscribe,
	.status = src_status,
};

static void state(const char *method, int ok_, const char *value, uint64_t height)
{
	struct mpci_view_result r = { .struct_size = sizeof(r), .method = method, .ok = ok_,
				      .value = ok_ ? value : NULL, .value_len = ok_ ? strlen(value) : 0,
				      .error = ok_ ? NULL : value, .block_height = height };
	for (int i = 0; i < n_subs; i++)
		if (strcmp(subs[i].method, method) == 0)
			subs[i].deliver(subs[i].ctx, &r);
}

static void block(uint64_t h, const char *const *reqs, const char *const *comps)
{
	struct mpci_request r[4] = { { 0 } };
	struct mpci_completion c[4] = { { 0 } };
	size_t nr = 0, nc = 0;
	char hash[32];
	snprintf(hash, sizeof(hash), "hash%llu", (unsigned long long)h);
	for (; reqs && reqs[nr]; nr++)
		r[nr] = (struct mpci_request){ .struct_size = sizeof(r[0]), .id = reqs[nr] + 4,
					       .kind = reqs[nr][0] == 's' ? MPCI_REQ_SIGN : MPCI_REQ_CKD,
					       .domain_id = reqs[nr][0] == 's' ? 0 : 2 };
	for (; comps && comps[nc]; nc++)
		c[nc] = (struct mpci_completion){ .struct_size = sizeof(c[0]), .id = comps[nc] + 4,
						  .kind = comps[nc][0] == 's' ? MPCI_REQ_SIGN : MPCI_REQ_CKD,
						  .success = 1 };
	struct mpci_block b = { .struct_size = sizeof(b), .height = h, .hash = hash,
				.status = MPCI_BLOCK_FINAL, .timestamp_nanosec = 1700000000000000000ull + h * 600000000ull,
				.final_height = h, .head_height = h,
				.requests = r, .n_requests = nr, .completions = c, .n_completions = nc };
	sink->block(sink_ctx, &b);
}

/* ---- HTTP from the same loop ---- */

struct got {
	int done, status;
	char *body, *type;
	char line[200];
};

static void got_it(const struct http_response *res, void *ud)
{
	struct got *g = ud;
	g->status = res->status;
	g->body = strdup(res->body);
	/* one line for the TAP descriptions */
	snprintf(g->line, sizeof(g->line), "%.*s", (int)strcspn(res->body, "\n"), res->body);
	g->type = res->content_type ? strdup(res->content_type) : NULL;
	g->done = 1;
}

static struct got fetch(const char *path)
{
	char url[200];
	struct got g = { 0 };
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	struct http_opts o = { .url = url, .timeout = 10 };
	if (!http_request(client, &o, got_it, &g))
		bail_out("http_request");
	while (!g.done)
		ev_run(loop, EVRUN_ONCE);
	return g;
}

static void got_free(struct got *g)
{
	free(g->body);
	free(g->type);
}

static void waited(struct ev_loop *l, ev_timer *w, int revents)
{
	*(int *)w->data = 1;
}

static void pump(double seconds)
{
	int done = 0;
	ev_timer t;
	ev_timer_init(&t, waited, seconds, 0);
	t.data = &done;
	ev_timer_start(loop, &t);
	while (!done)
		ev_run(loop, EVRUN_ONCE);
}

/* The value of the exact series `series` ("name{labels}") in a scrape; NAN when absent. */
static double series(const char *body, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -12345;
}

#define ABSENT -12345

static char *slurp(const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/fixtures/prom/%s", getenv("top_srcdir"), name);
	FILE *f = fopen(path, "rb");
	if (!f)
		bail_out("cannot open %s", path);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strdup(buf);
}

static void promtool(const char *body, const char *what)
{
	const char *pt = getenv("PROMTOOL");
	char path[300], cmd[700];
	if (!pt || !*pt) {
		ok(1, "# SKIP promtool not found");
		return;
	}
	snprintf(path, sizeof(path), "%s/scrape.txt", tmpdir);
	FILE *f = fopen(path, "w");
	fputs(body, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s check metrics < %s > %s/promtool.out 2>&1", pt, path, tmpdir);
	int rc = system(cmd);
	ok(rc == 0, "promtool check metrics is clean on %s", what);
	if (rc != 0) {
		snprintf(cmd, sizeof(cmd), "sed 's/^/#   /' %s/promtool.out | head -20", tmpdir);
		if (system(cmd) != 0)
			diag("cannot show promtool output");
	}
}

/* ---- the host ---- */

struct world {
	struct metrics *reg;
	struct cfg *cfg;
	struct host *host;
};

static void world_up(struct world *w, const char *extra, int with_source,
		     void (*before)(struct metrics *reg))
{
	char path[400], text[2048];
	struct cfg_error err;
	snprintf(path, sizeof(path), "%s/prom.conf", tmpdir);
	snprintf(text, sizeof(text),
		 "[plugin.prometheus-monitor]\npath = %s/plugins/prometheus-monitor/.libs/prometheus-monitor.so\n"
		 "listen = 127.0.0.1:0\nport_file = %s/port\n%s",
		 getenv("top_builddir"), tmpdir, extra);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	if (cfg_load(&w->cfg, path, &err) < 0)
		bail_out("config");
	w->reg = metrics_new();
	if (before)
		before(w->reg);
	struct host_opts o = { .loop = loop, .cfg = w->cfg, .metrics = w->reg, .http = client,
			       .state_dir = tmpdir, .plugin_dir = tmpdir, .slow_callback = 1 };
	if (with_source)
		o.provider.ops = &script_ops;
	w->host = host_new(&o);
	memset(&err, 0, sizeof(err));
	if (host_load_all(w->host, &err) != HOST_OK || host_start_all(w->host) != HOST_OK)
		bail_out("the plugin does not start: %s", err.msg);
	snprintf(path, sizeof(path), "%s/port", tmpdir);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%u", &port) != 1)
		bail_out("no port file");
	fclose(f);
}

static void world_down(struct world *w)
{
	host_stop_all(w->host);
	host_free(w->host);
	metrics_free(w->reg);
	cfg_free(w->cfg);
	for (int i = 0; i < n_subs; i++)
		free((char *)subs[i].method);
	n_subs = 0;
	sink = NULL;
}

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_monitor(void)
{
	struct world w;
	struct got g;
	char err[200];

	world_up(&w, "stall_timeout = 60s\nattestation_interval = 100ms\n", 1, NULL);
	ok(n_subs == 6 && sink, "it subscribed to 6 contract views and the block stream");

	g = fetch("/healthz");
	ok(g.status == 503 && strstr(g.body, "no block received"), "/healthz: 503 before the first block: %s", g.line);
	got_free(&g);

	/* the contract, as the views deliver it */
	char *running = slurp("state_running_current_format.json");
	state("state", 1, running, 90);
	state("get_tee_accounts", 1, "[{\"account_id\":\"lifted-mainnet.near\",\"tls_public_key\":\"ed25519:x\","
	      "\"account_public_key\":\"ed25519:y\"},{\"account_id\":\"outsider.near\"}]", 90);
	state("version", 1, "\"3.14.0\"", 90);
	state("migration_info", 1, "{\"a.near\":[{\"public_key\":\"ed25519:k\"},null],"
	      "\"lifted-mainnet.near\":[null,{\"signer_account_pk\":\"ed25519:k\"}]}", 90);
	state("allowed_docker_image_hashes", 1, "[{\"image_hash\":\"aa\",\"expiry_timestamp_seconds\":1900000000},"
	      "{\"image_hash\":\"bb\",\"expiry_timestamp_seconds\":null}]", 90);
	state("allowed_launcher_compose_hashes", 1, "[\"cc\"]", 90);

	/* another plugin's (or the core's) family, with a label value that needs escaping */
	static const char *const note[] = { "note", NULL };
	struct metric *other = metrics_counter(w.reg, "test_prom_other_total", "Another \"plugin\".",
					       note, err, sizeof(err));
	metric_add(other, (const char *const[]){ "a\"b\\c", NULL }, 2);

	/* traffic: two requests, one answered three blocks later */
	status = (struct mpci_status){ .head_height = 105, .final_height = 103,
				       .processed_height = 103, .lag_seconds = 2.4, .following = 1 };
	block(100, LIST("sig:A", "ckd:B"), NULL);
	block(101, NULL, NULL);
	block(103, NULL, LIST("sig:A"));
	pump(0.3); /* an attestation round */

	g = fetch("/metrics");
	is_int(g.status, 200, "/metrics answers 200");
	is_str(g.type, "text/plain; version=0.0.4; charset=utf-8", "with the exact content type of text 0.0.4");
	const char *b = g.body;
	ok(b && strlen(b) && b[strlen(b) - 1] == '\n', "the body ends with a newline");
	is_int(series(b, "mpc_indexer_contract_state{state=\"Running\"}"), 1, "state Running = 1");
	is_int(series(b, "mpc_indexer_contract_state{state=\"Resharing\"}"), 0, "state Resharing = 0");
	is_int(series(b, "mpc_indexer_contract_epoch"), 4, "epoch 4");
	is_int(series(b, "mpc_indexer_contract_threshold"), 7, "threshold 7");
	is_int(series(b, "mpc_indexer_contract_participants"), 10, "10 participants");
	is_int(series(b, "mpc_indexer_contract_participant_info{account=\"lifted-mainnet.near\","
		      "participant_id=\"3\",url=\"https://near-mpc.liftedinit.org\"}"), 1,
	       "an info series per participant");
	is_int(series(b, "mpc_indexer_contract_domains"), 2, "2 domains");
	is_int(series(b, "mpc_indexer_contract_domain_info{domain=\"1\",protocol=\"Frost\",purpose=\"Sign\"}"), 1,
	       "domain info");
	is_int(series(b, "mpc_indexer_contract_keyset_attempt{domain=\"0\"}"), 240, "keyset attempt of domain 0");
	is_int(series(b, "mpc_indexer_contract_attested_accounts"), 2, "2 attested accounts");
	is_int(series(b, "mpc_indexer_contract_participant_attested{account=\"lifted-mainnet.near\"}"), 1,
	       "an attested participant");
	is_int(series(b, "mpc_indexer_contract_participant_attested{account=\"blacksandtech.near\"}"), 0,
	       "a participant without attestation");
	is_int(series(b, "mpc_indexer_contract_attestation_expiry_timestamp_seconds{account=\"lifted-mainnet.near\"}"),
	       1800000000, "attestation expiry from get_attestation");
	is_int(series(b, "mpc_indexer_contract_attestation_expiry_timestamp_seconds{account=\"blacksandtech.near\"}"),
	       ABSENT, "no expiry series without an attestation");
	ok(views_asked >= 10, "get_attestation asked for each participant (%d)", views_asked);
	is_int(series(b, "mpc_indexer_contract_backup_services"), 1, "1 backup service");
	is_int(series(b, "mpc_indexer_contract_migrations"), 1, "1 ongoing migration");
	is_int(series(b, "mpc_indexer_contract_allowed_image_hashes"), 2, "2 allowed images");
	is_int(series(b, "mpc_indexer_contract_allowed_image_earliest_expiry_timestamp_seconds"), 1900000000,
	       "their earliest expiry");
	is_int(series(b, "mpc_indexer_contract_allowed_launcher_hashes"), 1, "1 launcher hash");
	is_int(series(b, "mpc_indexer_contract_version_info{version=\"3.14.0\"}"), 1, "contract version");
	is_int(series(b, "mpc_indexer_contract_view_ok{method=\"state\"}"), 1, "state view ok");
	is_int(series(b, "mpc_indexer_mpc_requests_total{kind=\"sign\"}"), 1, "1 sign request");
	is_int(series(b, "mpc_indexer_mpc_requests_total{kind=\"ckd\"}"), 1, "1 ckd request");
	is_int(series(b, "mpc_indexer_mpc_completions_total{kind=\"sign\"}"), 1, "1 completion");
	is_int(series(b, "mpc_indexer_mpc_pending_requests{kind=\"ckd\"}"), 1, "ckd pending");
	is_int(series(b, "mpc_indexer_mpc_request_latency_blocks_count{kind=\"sign\"}"), 1, "latency observed");
	is_int(series(b, "mpc_indexer_mpc_request_latency_blocks_sum{kind=\"sign\"}"), 3, "3 blocks");
	is_int(series(b, "mpc_indexer_mpc_request_latency_blocks_bucket{kind=\"sign\",le=\"3\"}"), 1, "in le=3");
	is_int(series(b, "mpc_indexer_blocks_processed_total"), 3, "3 blocks processed");
	is_int(series(b, "mpc_indexer_blocks_final_total"), 3, "3 of them final");
	is_int(series(b, "mpc_indexer_block_processed_height"), 103, "processed height 103");
	is_int(series(b, "mpc_indexer_block_head_height"), 105, "head height from the host status");
	is_int(series(b, "mpc_indexer_block_lag_blocks"), 2, "lag 2 blocks");
	ok(series(b, "mpc_indexer_block_lag_seconds") == 2.4, "lag 2.4 s");
	is_int(series(b, "mpc_indexer_following"), 1, "following 1 (host status)");
	is_int(series(b, "mpc_indexer_healthy"), 1, "healthy 1");
	char build_info[160];
	snprintf(build_info, sizeof(build_info), "mpc_indexer_build_info{version=\"%s\",abi=\"%d.%d\"}",
		 PACKAGE_VERSION, MPCI_ABI_MAJOR, MPCI_ABI_MINOR);
	is_int(series(b, build_info), 1, "build info");
	is_int(series(b, "test_prom_other_total{note=\"a\\\"b\\\\c\"}"), 2,
	       "another plugin's family, label value escaped");
	ok(strstr(b, "# HELP test_prom_other_total Another \"plugin\".\n"), "with its help text");
	is_int(series(b, "mpc_indexer_plugin_callback_seconds_count{plugin=\"prometheus-monitor\",callback=\"block\"}"),
	       3, "the host's callback timing of this plugin");
	ok(series(b, "process_resident_memory_bytes") > 0, "process_resident_memory_bytes");
	ok(series(b, "process_start_time_seconds") > 1.6e9, "process_start_time_seconds");
	ok(series(b, "process_open_fds") > 3, "process_open_fds");
	ok(series(b, "process_cpu_seconds_total") >= 0, "process_cpu_seconds_total");
	ok(!strstr(b, "hash10"), "no block hashes in labels");
	promtool(b, "a full scrape");
	got_free(&g);

	block(104, NULL, NULL); /* a fresh block: the checks above may have taken a while */
	g = fetch("/healthz");
	ok(g.status == 200 && strstr(g.body, "ok: following at height 104"), "/healthz: 200 while following: %s", g.line);
	got_free(&g);

	/* a resharing: the state series flips, the key event appears */
	char *resharing = slurp("state_resharing.json");
	state("state", 1, resharing, 110);
	g = fetch("/metrics");
	is_int(series(g.body, "mpc_indexer_contract_state{state=\"Resharing\"}"), 1, "resharing: Resharing = 1");
	is_int(series(g.body, "mpc_indexer_contract_state{state=\"Running\"}"), 0, "resharing: Running = 0");
	is_int(series(g.body, "mpc_indexer_contract_key_event_epoch"), 5, "resharing to epoch 5");
	is_int(series(g.body, "mpc_indexer_contract_key_event_participants"), 9, "for 9 participants");
	got_free(&g);

	/* back to Running with epoch 5 and one participant (the last) gone */
	cJSON *doc = cJSON_Parse(running);
	cJSON *run = cJSON_GetObjectItem(doc, "Running");
	cJSON_SetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(run, "keyset"), "epoch_id"), 5);
	cJSON *list = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(run, "parameters"),
							      "participants"), "participants");
	cJSON_DeleteItemFromArray(list, cJSON_GetArraySize(list) - 1);
	char *r5c = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	state("state", 1, r5c, 120);
	g = fetch("/metrics");
	is_int(series(g.body, "mpc_indexer_contract_state{state=\"Running\"}"), 1, "after it: Running = 1");
	is_int(series(g.body, "mpc_indexer_contract_epoch"), 5, "epoch 5");
	is_int(series(g.body, "mpc_indexer_contract_participants"), 9, "9 participants");
	ok(!strstr(g.body, "account=\"stakin-mpc.near\""), "the participant who left has no series any more");
	ok(!strstr(g.body, "mpc_indexer_contract_key_event_epoch "), "the key event series are gone");
	got_free(&g);

	/* a failing view keeps the last values and says so */
	state("state", 0, "UNKNOWN_BLOCK: gone", 121);
	state("version", 1, "{\"not\":\"a version\"}", 121);
	g = fetch("/metrics");
	is_int(series(g.body, "mpc_indexer_contract_view_ok{method=\"state\"}"), 0, "failing state view: view_ok 0");
	is_int(series(g.body, "mpc_indexer_contract_view_failures_total{method=\"state\",cause=\"call\"}"), 1,
	       "counted as a call failure");
	is_int(series(g.body, "mpc_indexer_contract_view_failures_total{method=\"version\",cause=\"parse\"}"), 1,
	       "an unparseable value is a parse failure");
	is_int(series(g.body, "mpc_indexer_contract_epoch"), 5, "the last good values stay");
	got_free(&g);

	free(running);
	free(resharing);
	free(r5c);
	world_down(&w);
}

/* Blocks keep coming from a timer while the test waits for answers, so that
 * how slow the machine is does not matter; stopping it makes a stall. */
static uint64_t feed_height = 200;

static void feed(struct ev_loop *l, ev_timer *w, int revents)
{
	status.head_height = status.processed_height = status.final_height = ++feed_height;
	block(feed_height, NULL, NULL);
}

static void test_stall(void)
{
	struct world w;
	ev_timer feeder;
	world_up(&w, "stall_timeout = 1s\ncontract_views = no\n", 1, NULL);
	ev_timer_init(&feeder, feed, 0.05, 0.05);
	feed(loop, &feeder, 0);
	ev_timer_start(loop, &feeder);
	struct got g = fetch("/healthz");
	ok(g.status == 200, "/healthz: 200 while blocks come: %s", g.line);
	got_free(&g);
	ev_timer_stop(loop, &feeder);
	pump(1.5);
	g = fetch("/healthz");
	ok(g.status == 503 && strstr(g.body, "stalled: no new block"), "/healthz: 503 when stalled: %s", g.line);
	got_free(&g);
	g = fetch("/metrics");
	is_int(series(g.body, "mpc_indexer_healthy"), 0, "healthy 0 while stalled");
	got_free(&g);
	feed(loop, &feeder, 0);
	ev_timer_start(loop, &feeder);
	g = fetch("/healthz");
	ok(g.status == 200, "/healthz: 200 again once blocks come: %s", g.line);
	got_free(&g);
	ev_timer_stop(loop, &feeder);
	world_down(&w);
}

/* A host without event sources (UNSUPPORTED): metrics still served. */
static void test_no_sources(void)
{
	struct world w;
	world_up(&w, "", 0, NULL);
	struct got g = fetch("/metrics");
	ok(g.status == 200 && strstr(g.body, "mpc_indexer_build_info{"),
	   "without sources: /metrics still answers, with build info");
	ok(strstr(g.body, "process_resident_memory_bytes "), "and process metrics");
	ok(!strstr(g.body, "mpc_indexer_contract_state{"), "and no contract series");
	promtool(g.body, "a scrape without sources");
	got_free(&g);
	g = fetch("/healthz");
	ok(g.status == 503 && strstr(g.body, "no block stream"), "/healthz: 503 naming the reason: %s", g.line);
	got_free(&g);
	g = fetch("/");
	ok(g.status == 200 && strstr(g.body, "/metrics") && strstr(g.body, "/healthz"), "/ is an index");
	got_free(&g);
	g = fetch("/families");
	ok(g.status == 200 && strstr(g.body, "\nmpc_indexer_contract_state gauge 0 Protocol state"),
	   "/families lists registered families, also those without samples");
	got_free(&g);
	g = fetch("/other");
	is_int(g.status, 404, "other paths: 404");
	got_free(&g);
	world_down(&w);
}

/* The daemon's block stream registers these before plugins start. */
static void core_families(struct metrics *reg)
{
	char err[200];
	static const char *const kind[] = { "kind", NULL };
	struct metric *t = metrics_counter(reg, "mpc_indexer_mpc_timeouts_total", "core", NULL,
					   err, sizeof(err));
	struct metric *p = metrics_counter(reg, "mpc_indexer_blocks_processed_total", "core", NULL,
					   err, sizeof(err));
	struct metric *r = metrics_counter(reg, "mpc_indexer_mpc_requests_total", "core", kind,
					   err, sizeof(err));
	metric_add(t, NULL, 7);
	metric_add(p, NULL, 70);
	metric_add(r, (const char *const[]){ "sign", NULL }, 700);
}

static void test_host_families(void)
{
	struct world w;
	world_up(&w, "", 1, core_families);
	struct mpci_block b = { .struct_size = sizeof(b), .height = 5, .hash = "h5",
				.status = MPCI_BLOCK_FINAL, .n_timeouts = 2 };
	struct mpci_request r = { .struct_size = sizeof(r), .id = "Q", .kind = MPCI_REQ_SIGN };
	b.requests = &r;
	b.n_requests = 1;
	sink->block(sink_ctx, &b);
	struct got g = fetch("/metrics");
	is_int(series(g.body, "mpc_indexer_mpc_timeouts_total"), 7,
	       "the host's timeouts counter is not counted twice");
	is_int(series(g.body, "mpc_indexer_blocks_processed_total"), 70,
	       "nor its processed blocks counter");
	is_int(series(g.body, "mpc_indexer_mpc_requests_total{kind=\"sign\"}"), 700,
	       "nor its requests counter");
	is_int(series(g.body, "mpc_indexer_mpc_pending_requests{kind=\"sign\"}"), 1,
	       "the monitor's own join still tracks the request");
	is_int(series(g.body, "mpc_indexer_blocks_final_total"), 1,
	       "families the host lacks are still kept by the monitor");
	promtool(g.body, "a scrape with host families");
	got_free(&g);
	world_down(&w);
}

/* A host that frees without stopping first: fini() closes the server and
 * its handles itself (checked by ASan / valgrind). */
static void test_fini_without_stop(void)
{
	struct world w;
	world_up(&w, "attestation_interval = 1s\n", 1, NULL);
	struct got g = fetch("/metrics");
	is_int(g.status, 200, "a scrape before the host goes away");
	got_free(&g);
	host_free(w.host);
	w.host = NULL;
	metrics_free(w.reg);
	cfg_free(w.cfg);
	for (int i = 0; i < n_subs; i++)
		free((char *)subs[i].method);
	n_subs = 0;
	sink = NULL;
	struct http_opts o = { .url = "http://127.0.0.1:1/", .timeout = 5 };
	char url[100];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", port);
	o.url = url;
	g = (struct got){ 0 };
	if (http_request(client, &o, got_it, &g))
		while (!g.done)
			ev_run(loop, EVRUN_ONCE);
	ok(g.status == 0, "host_free without stop: the server is gone (connection refused)");
	got_free(&g);
}

int main(void)
{
	if (!getenv("top_builddir") || !getenv("top_srcdir"))
		bail_out("top_srcdir / top_builddir not set (run through make check)");
	if (!mkdtemp(tmpdir))
		bail_out("mkdtemp");
	char logpath[300];
	snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
	log_open(logpath, LOG_LVL_DEBUG);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	loop = ev_loop_new(EVFLAG_AUTO);
	client = http_client_new(loop);
	test_monitor();
	test_stall();
	test_no_sources();
	test_host_families();
	test_fini_without_stop();
	http_client_free(client);
	ev_loop_destroy(loop);
	curl_global_cleanup();
	log_close();
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
