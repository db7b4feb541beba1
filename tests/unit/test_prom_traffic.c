/* prometheus-monitor: MPC traffic from blocks.  Requests and completions
 * are joined by id into a latency in blocks; optimistic blocks count only
 * once final and never when orphaned; the pending table stays bounded. */
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "test_prom_api.h"
#include "traffic.h"

static const char *const L_KIND[] = { "kind", NULL };
static const char *const L_KIND_REASON[] = { "kind", "reason", NULL };

static double requests(const char *kind)
{
	const char *v[] = { kind, NULL };
	return tpa_value("mpc_indexer_mpc_requests_total", MPCI_METRIC_COUNTER, L_KIND, v);
}

static double completions(const char *kind)
{
	const char *v[] = { kind, NULL };
	return tpa_value("mpc_indexer_mpc_completions_total", MPCI_METRIC_COUNTER, L_KIND, v);
}

static double pending(const char *kind)
{
	const char *v[] = { kind, NULL };
	return tpa_value("mpc_indexer_mpc_pending_requests", MPCI_METRIC_GAUGE, L_KIND, v);
}

static double dropped(const char *kind, const char *reason)
{
	const char *v[] = { kind, reason, NULL };
	return tpa_value("mpc_indexer_mpc_dropped_requests_total", MPCI_METRIC_COUNTER, L_KIND_REASON, v);
}

static double unmatched(const char *kind)
{
	const char *v[] = { kind, NULL };
	return tpa_value("mpc_indexer_mpc_unmatched_completions_total", MPCI_METRIC_COUNTER, L_KIND, v);
}

static uint64_t latency(const char *kind, double *sum)
{
	const char *v[] = { kind, NULL };
	return tpa_hist("mpc_indexer_mpc_request_latency_blocks", v, 1, sum);
}

/* A block with up to 4 requests and 4 completions given as "kind:id" strings. */
struct blk {
	struct mpci_block b;
	struct mpci_request r[4];
	struct mpci_completion c[4];
};

static struct mpci_block *mk(struct blk *x, uint64_t h, const char *hash, int status,
			     const char *const *reqs, const char *const *comps)
{
	memset(x, 0, sizeof(*x));
	x->b.struct_size = sizeof(x->b);
	x->b.height = h;
	x->b.hash = hash;
	x->b.status = status;
	for (size_t i = 0; reqs && reqs[i]; i++) {
		x->r[i].struct_size = sizeof(x->r[i]);
		x->r[i].kind = reqs[i][0] == 's' ? MPCI_REQ_SIGN : reqs[i][0] == 'c' ? MPCI_REQ_CKD :
			       MPCI_REQ_FOREIGN_TX;
		x->r[i].id = strchr(reqs[i], ':') + 1;
		x->r[i].domain_id = x->r[i].kind == MPCI_REQ_CKD ? 2 : 0;
		x->b.n_requests++;
	}
	for (size_t i = 0; comps && comps[i]; i++) {
		x->c[i].struct_size = sizeof(x->c[i]);
		x->c[i].kind = comps[i][0] == 's' ? MPCI_REQ_SIGN : comps[i][0] == 'c' ? MPCI_REQ_CKD :
			       MPCI_REQ_FOREIGN_TX;
		x->c[i].id = strchr(comps[i], ':') + 1;
		x->c[i].success = 1;
		x->b.n_completions++;
	}
	x->b.requests = x->r;
	x->b.completions = x->c;
	return &x->b;
}

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_final_join(void)
{
	struct blk x;
	double sum;
	tpa_reg = metrics_new();
	struct traffic *t = traffic_new(&tpa_api, NULL, NULL);
	traffic_block(t, mk(&x, 100, "h100", MPCI_BLOCK_FINAL, LIST("sign:A", "ckd:B"), NULL));
	is_int(requests("sign"), 1, "a sign request is counted");
	is_int(requests("ckd"), 1, "a ckd request is counted");
	is_int(pending("sign"), 1, "one sign request pending");
	is_int(traffic_pending(t), 2, "two pending in all");
	traffic_block(t, mk(&x, 101, "h101", MPCI_BLOCK_FINAL, NULL, NULL));
	traffic_block(t, mk(&x, 103, "h103", MPCI_BLOCK_FINAL, NULL, LIST("sign:A")));
	is_int(completions("sign"), 1, "the completion is counted");
	is_int(latency("sign", &sum), 1, "one latency observation for sign");
	is_int(sum, 3, "of 3 blocks (100 -> 103)");
	is_int(pending("sign"), 0, "nothing pending for sign");
	is_int(pending("ckd"), 1, "ckd still pending");
	traffic_block(t, mk(&x, 104, "h104", MPCI_BLOCK_FINAL, NULL, LIST("sign:Z")));
	is_int(unmatched("sign"), 1, "a completion of an unseen request is unmatched");
	is_int(latency("sign", NULL), 1, "and adds no latency");
	traffic_block(t, mk(&x, 105, "h105", MPCI_BLOCK_FINAL, LIST("ckd:B"), NULL));
	is_int(traffic_pending(t), 1, "an id delivered twice is tracked once");
	struct mpci_block *b = mk(&x, 106, "h106", MPCI_BLOCK_FINAL, NULL, NULL);
	b->n_timeouts = 2;
	traffic_block(t, b);
	is_int(tpa_value("mpc_indexer_mpc_timeouts_total", MPCI_METRIC_COUNTER, NULL, NULL), 2,
	       "fail_on_timeout receipts are counted");
	traffic_block(t, mk(&x, 107, "h107", MPCI_BLOCK_FINAL, LIST("sign:"), NULL));
	is_int(dropped("sign", "invalid_id"), 1, "a request without id is dropped as invalid");
	traffic_free(t);
	metrics_free(tpa_reg);
}

static void test_optimistic(void)
{
	struct blk x;
	double sum;
	tpa_reg = metrics_new();
	struct traffic *t = traffic_new(&tpa_api, NULL, NULL);
	traffic_block(t, mk(&x, 10, "a10", MPCI_BLOCK_CANONICAL, LIST("sign:R1"), NULL));
	is_int(requests("sign"), 0, "a canonical block's request waits for finality");
	is_int(traffic_held(t), 1, "its block is held");
	traffic_block(t, mk(&x, 11, "a11", MPCI_BLOCK_CANONICAL, LIST("sign:R2"), NULL));
	traffic_orphaned(t, 11, "a11");
	traffic_block(t, mk(&x, 11, "b11", MPCI_BLOCK_CANONICAL, LIST("sign:R3"), NULL));
	traffic_block(t, mk(&x, 11, "f11", MPCI_BLOCK_FORK, LIST("sign:R4"), NULL));
	traffic_finalized(t, 10, "a10");
	is_int(requests("sign"), 1, "finality at 10 counts the request of block 10");
	traffic_finalized(t, 11, "b11");
	is_int(requests("sign"), 2, "finality at 11 counts the replacement block only");
	is_int(traffic_pending(t), 2, "R1 and R3 pending; the orphaned R2 and fork R4 never were");
	is_int(traffic_held(t), 0, "nothing held any more");

	/* two canonical blocks at one height, the finalized hash decides */
	traffic_block(t, mk(&x, 12, "x12", MPCI_BLOCK_CANONICAL, NULL, LIST("sign:R1")));
	traffic_block(t, mk(&x, 12, "y12", MPCI_BLOCK_CANONICAL, NULL, LIST("sign:R3")));
	traffic_finalized(t, 12, "y12");
	is_int(completions("sign"), 1, "only the finalized block's completion counts");
	is_int(latency("sign", &sum), 1, "one latency observation");
	is_int(sum, 1, "R3: 11 -> 12");
	is_int(traffic_pending(t), 1, "R1 still pending");

	/* final_height carried by a later block settles held blocks too */
	traffic_block(t, mk(&x, 13, "a13", MPCI_BLOCK_CANONICAL, NULL, LIST("sign:R1")));
	struct mpci_block *b = mk(&x, 15, "a15", MPCI_BLOCK_CANONICAL, NULL, NULL);
	b->final_height = 13;
	traffic_block(t, b);
	is_int(traffic_pending(t), 0, "a block reporting final height 13 settles block 13");
	is_int(latency("sign", &sum), 2, "R1 joined");
	is_int(sum, 1 + 3, "R1: 10 -> 13");

	/* a final block settles held blocks at or below its height */
	traffic_block(t, mk(&x, 16, "a16", MPCI_BLOCK_FINAL, LIST("ckd:K"), NULL));
	is_int(traffic_held(t), 0, "block 15 settled by the final block 16");
	is_int(requests("ckd"), 1, "the final block's request counted at once");
	traffic_free(t);
	metrics_free(tpa_reg);
}

static void test_bounds(void)
{
	struct blk x;
	char ids[8][8];
	tpa_reg = metrics_new();
	struct traffic_opts o = { .max_pending = 3, .expiry_blocks = 100, .max_held = 2 };
	struct traffic *t = traffic_new(&tpa_api, NULL, &o);
	for (int i = 0; i < 5; i++) {
		snprintf(ids[i], sizeof(ids[i]), "s:%d", i);
		traffic_block(t, mk(&x, 1000 + (uint64_t)i, "h", MPCI_BLOCK_FINAL,
				    (const char *const[]){ ids[i], NULL }, NULL));
	}
	is_int(traffic_pending(t), 3, "the table holds max_pending requests");
	is_int(dropped("sign", "full"), 2, "the others are counted as dropped (full)");
	is_int(requests("sign"), 5, "but all five are counted as requests");
	/* 64+ later blocks: the expiry scan forgets requests older than 100 blocks */
	for (uint64_t h = 1200; h < 1270; h++)
		traffic_block(t, mk(&x, h, "h", MPCI_BLOCK_FINAL, NULL, NULL));
	is_int(traffic_pending(t), 0, "requests without completion are forgotten after expiry_blocks");
	is_int(dropped("sign", "expired"), 3, "and counted as expired");
	is_int(pending("sign"), 0, "the pending gauge agrees");
	/* held blocks are bounded: the oldest is committed when full */
	traffic_block(t, mk(&x, 1300, "o1", MPCI_BLOCK_CANONICAL, LIST("sign:H1"), NULL));
	traffic_block(t, mk(&x, 1301, "o2", MPCI_BLOCK_CANONICAL, LIST("sign:H2"), NULL));
	traffic_block(t, mk(&x, 1302, "o3", MPCI_BLOCK_CANONICAL, LIST("sign:H3"), NULL));
	is_int(traffic_held(t), 2, "at most max_held blocks are held");
	is_int(requests("sign"), 6, "the oldest was committed to make room");
	traffic_free(t);
	metrics_free(tpa_reg);
}

/* Many inserts and deletes through the probe chains keep the table consistent. */
static void test_churn(void)
{
	struct blk x;
	char ids[600][12];
	tpa_reg = metrics_new();
	struct traffic_opts o = { .max_pending = 600, .expiry_blocks = 100000 };
	struct traffic *t = traffic_new(&tpa_api, NULL, &o);
	for (int i = 0; i < 600; i++) {
		snprintf(ids[i], sizeof(ids[i]), "s:r%d", i);
		traffic_block(t, mk(&x, 10 + (uint64_t)i, "h", MPCI_BLOCK_FINAL,
				    (const char *const[]){ ids[i], NULL }, NULL));
	}
	int all = traffic_pending(t) == 600;
	for (int i = 0; i < 600; i += 2)
		traffic_block(t, mk(&x, 700, "h", MPCI_BLOCK_FINAL, NULL,
				    (const char *const[]){ ids[i], NULL }));
	for (int i = 1; i < 600; i += 2)
		traffic_block(t, mk(&x, 701, "h", MPCI_BLOCK_FINAL, NULL,
				    (const char *const[]){ ids[i], NULL }));
	ok(all && traffic_pending(t) == 0, "600 requests in, every completion found its request");
	is_int(unmatched("sign"), 0, "no completion was lost in the table");
	is_int(latency("sign", NULL), 600, "600 latency observations");
	traffic_free(t);
	metrics_free(tpa_reg);
}

/* The table starts small and grows with what is pending, up to its bound. */
static void test_growth(void)
{
	struct blk x;
	static char ids[5000][12];
	tpa_reg = metrics_new();
	struct traffic *t = traffic_new(&tpa_api, NULL, NULL);	/* max_pending 20000 */
	size_t cap0 = traffic_capacity(t);
	for (int i = 0; i < 5000; i++) {
		snprintf(ids[i], sizeof(ids[i]), "s:g%d", i);
		traffic_block(t, mk(&x, 10 + (uint64_t)i / 10, "h", MPCI_BLOCK_FINAL,
				    (const char *const[]){ ids[i], NULL }, NULL));
	}
	ok(cap0 <= 1024 && traffic_capacity(t) >= 10000 && traffic_capacity(t) <= 16384,
	   "the table starts at %zu slots and grows to %zu for 5000 pending", cap0, traffic_capacity(t));
	is_int(traffic_pending(t), 5000, "all 5000 pending");
	for (int i = 4999; i >= 0; i--)
		traffic_block(t, mk(&x, 600, "h", MPCI_BLOCK_FINAL, NULL, (const char *const[]){ ids[i], NULL }));
	ok(traffic_pending(t) == 0 && unmatched("sign") == 0 && latency("sign", NULL) == 5000,
	   "after the growth every completion found its request");
	is_int(dropped("sign", "full"), 0, "none dropped");
	traffic_free(t);
	metrics_free(tpa_reg);
}

/* With the host's block stream counting requests, completions and timeouts,
 * the monitor keeps its hands off those families. */
static int core_has(const char *family, void *ud)
{
	return strcmp(family, "mpc_indexer_mpc_requests_total") == 0 ||
	       strcmp(family, "mpc_indexer_mpc_timeouts_total") == 0;
}

static void test_host_counts(void)
{
	struct blk x;
	char err[200];
	tpa_reg = metrics_new();
	struct metric *core_req = metrics_counter(tpa_reg, "mpc_indexer_mpc_requests_total", "core",
						  L_KIND, err, sizeof(err));
	metric_add(core_req, (const char *const[]){ "sign", NULL }, 5);
	struct traffic_opts o = { .host_has = core_has };
	struct traffic *t = traffic_new(&tpa_api, NULL, &o);
	struct mpci_block *b = mk(&x, 10, "h", MPCI_BLOCK_FINAL, LIST("sign:A"), NULL);
	b->n_timeouts = 1;
	traffic_block(t, b);
	traffic_block(t, mk(&x, 12, "h", MPCI_BLOCK_FINAL, NULL, LIST("sign:A")));
	is_int(requests("sign"), 5, "requests: the host's count is left alone");
	ok(!tpa_family("mpc_indexer_mpc_timeouts_total"), "timeouts: the monitor registered nothing");
	is_int(completions("sign"), 1, "completions: the host has none, the monitor counts them");
	is_int(latency("sign", NULL), 1, "the join works as before");
	traffic_free(t);
	metrics_free(tpa_reg);
}

int main(void)
{
	test_host_counts();
	test_final_join();
	test_optimistic();
	test_bounds();
	test_churn();
	test_growth();
	return done_testing();
}
