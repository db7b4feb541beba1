/* prometheus-monitor unit tests: a host function table with only the
 * metrics and log entries, backed by the core registry, so that modules of
 * the plugin can be driven without loading it. */
#ifndef TEST_PROM_API_H
#define TEST_PROM_API_H

#include <stdarg.h>
#include <stdio.h>

#include "metrics.h"
#include "mpc-indexer/plugin.h"

static struct metrics *tpa_reg;
static char tpa_last_log[512];

static void tpa_log(mpci_plugin *self, int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tpa_last_log, sizeof(tpa_last_log), fmt, ap);
	va_end(ap);
}

static mpci_metric *tpa_counter(mpci_plugin *self, const char *name, const char *help,
				const char *const *labels)
{
	char err[200];
	struct metric *m = metrics_counter(tpa_reg, name, help, labels, err, sizeof(err));
	if (!m)
		printf("# %s\n", err);
	return (mpci_metric *)m;
}

static mpci_metric *tpa_gauge(mpci_plugin *self, const char *name, const char *help,
			      const char *const *labels)
{
	char err[200];
	struct metric *m = metrics_gauge(tpa_reg, name, help, labels, err, sizeof(err));
	if (!m)
		printf("# %s\n", err);
	return (mpci_metric *)m;
}

static mpci_metric *tpa_histogram(mpci_plugin *self, const char *name, const char *help,
				  const char *const *labels, const double *b, size_t n)
{
	char err[200];
	struct metric *m = metrics_histogram(tpa_reg, name, help, labels, b, n, err, sizeof(err));
	if (!m)
		printf("# %s\n", err);
	return (mpci_metric *)m;
}

static void tpa_add(mpci_metric *m, const char *const *v, double x)
{
	metric_add((struct metric *)m, v, x);
}

static void tpa_set(mpci_metric *m, const char *const *v, double x)
{
	metric_set((struct metric *)m, v, x);
}

static void tpa_observe(mpci_metric *m, const char *const *v, double x)
{
	metric_observe((struct metric *)m, v, x);
}

static void tpa_remove(mpci_metric *m, const char *const *v)
{
	metric_remove((struct metric *)m, v);
}

static const struct mpci_host_api tpa_api = {
	.struct_size = sizeof(struct mpci_host_api),
	.abi_major = MPCI_ABI_MAJOR,
	.abi_minor = MPCI_ABI_MINOR,
	.log = tpa_log,
	.metric_counter = tpa_counter,
	.metric_gauge = tpa_gauge,
	.metric_histogram = tpa_histogram,
	.metric_add = tpa_add,
	.metric_set = tpa_set,
	.metric_observe = tpa_observe,
	.metric_remove = tpa_remove,
};

/* Value of a counter or gauge series ("" labels: none); -1 when the family is missing. */
static __attribute__((unused)) double tpa_value(const char *name, int type, const char *const *labels,
			const char *const *values)
{
	char err[200];
	struct metric *m = type == MPCI_METRIC_COUNTER ?
		metrics_counter(tpa_reg, name, "", labels, err, sizeof(err)) :
		metrics_gauge(tpa_reg, name, "", labels, err, sizeof(err));
	return m ? metric_value(m, values) : -1;
}

/* Does the series exist?  (metric_value says 0 for absent series.) */
struct tpa_find {
	const char *name;
	const char *const *values;
	size_t n;
	int found;
	double sum;
	uint64_t count;
};

static void tpa_visit(const struct mpci_metric_family *f, void *ud)
{
	struct tpa_find *q = ud;
	if (strcmp(f->name, q->name) != 0)
		return;
	for (size_t i = 0; i < f->n_samples; i++) {
		size_t j = 0;
		while (j < q->n && strcmp(f->samples[i].label_values[j], q->values[j]) == 0)
			j++;
		if (j == q->n) {
			q->found = 1;
			q->sum = f->samples[i].sum;
			q->count = f->samples[i].count;
		}
	}
}

static __attribute__((unused)) int tpa_has(const char *name, const char *const *values, size_t n)
{
	struct tpa_find q = { name, values, n, 0, 0, 0 };
	metrics_collect(tpa_reg, tpa_visit, &q);
	return q.found;
}

static void tpa_visit_family(const struct mpci_metric_family *f, void *ud)
{
	struct tpa_find *q = ud;
	if (strcmp(f->name, q->name) == 0)
		q->found = 1;
}

/* Is the family registered at all? */
static __attribute__((unused)) int tpa_family(const char *name)
{
	struct tpa_find q = { name, NULL, 0, 0, 0, 0 };
	metrics_collect(tpa_reg, tpa_visit_family, &q);
	return q.found;
}

/* Histogram series: observations and their sum. */
static __attribute__((unused)) uint64_t tpa_hist(const char *name, const char *const *values, size_t n, double *sum)
{
	struct tpa_find q = { name, values, n, 0, 0, 0 };
	metrics_collect(tpa_reg, tpa_visit, &q);
	if (sum)
		*sum = q.sum;
	return q.count;
}

#endif
