/* The metrics registry: validation, values, histograms, collection order, limits. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../tap.h"
#include "metrics.h"

struct seen {
	char names[16][64];
	int n;
	uint64_t inf_bucket, count;
	double sum;
	size_t samples;
};

static void visit(const struct mpci_metric_family *f, void *ud)
{
	struct seen *s = ud;
	if (s->n < 16)
		snprintf(s->names[s->n++], 64, "%s", f->name);
	if (f->type == MPCI_METRIC_HISTOGRAM && f->n_samples) {
		s->inf_bucket = f->samples[0].buckets[f->n_bounds - 1];
		s->count = f->samples[0].count;
		s->sum = f->samples[0].sum;
	}
	if (strcmp(f->name, "t_many") == 0)
		s->samples = f->n_samples;
}

static struct metric *hammered;

static void *hammer(void *ud)
{
	const char *v[] = { "x", NULL };
	for (int i = 0; i < 100000; i++)
		metric_add(hammered, v, 1);
	return NULL;
}

int main(void)
{
	char err[256];
	struct metrics *reg = metrics_new();
	static const char *const l1[] = { "method", NULL };
	static const double b[] = { 0.1, 1, 10 };

	ok(!metrics_counter(reg, "t_requests", "", NULL, err, sizeof(err)),
	   "a counter without _total is refused");
	ok(strstr(err, "_total") != NULL, "and the message says why: %s", err);
	ok(!metrics_gauge(reg, "t_bad:name", "", NULL, err, sizeof(err)), "colons are refused");
	static const char *const bad_label[] = { "le", NULL };
	ok(!metrics_gauge(reg, "t_g", "", bad_label, err, sizeof(err)), "label 'le' is refused");
	static const double desc_b[] = { 1, 0.5 };
	ok(!metrics_histogram(reg, "t_h", "", NULL, desc_b, 2, err, sizeof(err)),
	   "descending buckets are refused");

	struct metric *c = metrics_counter(reg, "t_calls_total", "Calls.", l1, err, sizeof(err));
	ok(c != NULL, "a valid counter registers");
	ok(metrics_counter(reg, "t_calls_total", "Calls.", l1, err, sizeof(err)) == c,
	   "registering it again returns the same metric");
	ok(!metrics_gauge(reg, "t_calls_total", "x", l1, err, sizeof(err)),
	   "the same name with another type is refused");
	const char *v[] = { "view", NULL }, *w[] = { "tx", NULL };
	metric_add(c, v, 2);
	metric_add(c, v, 3);
	metric_add(c, w, 1);
	metric_add(c, w, -5);
	is_int(metric_value(c, v), 5, "counter adds up per label set");
	is_int(metric_value(c, w), 1, "negative increments are ignored");

	struct metric *h = metrics_histogram(reg, "t_latency_seconds", "Latency.", NULL,
					     b, 3, err, sizeof(err));
	metric_observe(h, NULL, 0.05);
	metric_observe(h, NULL, 5);
	metric_observe(h, NULL, 50);
	struct metric *g = metrics_gauge(reg, "t_a_gauge", "A gauge.", NULL, err, sizeof(err));
	metric_set(g, NULL, 3.5);

	struct metric *many = metrics_gauge(reg, "t_many", "Many series.", l1, err, sizeof(err));
	char lbl[32];
	for (int i = 0; i < METRICS_MAX_SERIES + 10; i++) {
		snprintf(lbl, sizeof(lbl), "s%d", i);
		const char *lv[] = { lbl, NULL };
		metric_set(many, lv, i);
	}
	is_int(metrics_dropped(reg), 10, "updates past the series limit are dropped and counted");
	const char *first[] = { "s0", NULL };
	metric_remove(many, first);
	is_int(metric_value(many, first), 0, "a removed series is gone");

	struct seen s = { 0 };
	metrics_collect(reg, visit, &s);
	is_int(s.n, 4, "collect visits every family");
	is_str(s.names[0], "t_a_gauge", "in name order (1)");
	is_str(s.names[1], "t_calls_total", "in name order (2)");
	is_str(s.names[2], "t_latency_seconds", "in name order (3)");
	is_int(s.inf_bucket, 2, "histogram buckets are cumulative (le=10 holds 2)");
	is_int(s.count, 3, "histogram count includes values above every bound");
	ok(s.sum > 55.0 && s.sum < 55.1, "histogram sum");
	is_int(s.samples, METRICS_MAX_SERIES - 1, "the snapshot has every remaining series");

	hammered = c;
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	const char *x[] = { "x", NULL };
	is_int(metric_value(c, x), 400000, "concurrent updates from four threads all count");
	metrics_free(reg);
	return done_testing();
}
