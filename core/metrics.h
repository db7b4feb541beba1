/* The metrics registry: counters, gauges and histograms with labels, shared by
 * the core and every plugin, collected by exporters such as prometheus-monitor. */
#ifndef MPCI_METRICS_H
#define MPCI_METRICS_H

#include <stddef.h>
#include "mpc-indexer/plugin.h"

struct metrics;
struct metric;

#define METRICS_MAX_LABELS 8
#define METRICS_MAX_BOUNDS 64
#define METRICS_MAX_SERIES 20000 /* per family; beyond it updates are dropped */

struct metrics *metrics_new(void);
void metrics_free(struct metrics *reg);

/* NULL (and a message in err) when the name or labels are invalid, or the
 * name exists with another type or labels.  Same name and shape: same metric. */
struct metric *metrics_counter(struct metrics *reg, const char *name,
			       const char *help, const char *const *labels,
			       char *err, size_t errsz);
struct metric *metrics_gauge(struct metrics *reg, const char *name,
			     const char *help, const char *const *labels,
			     char *err, size_t errsz);
struct metric *metrics_histogram(struct metrics *reg, const char *name,
				 const char *help, const char *const *labels,
				 const double *bounds, size_t n_bounds,
				 char *err, size_t errsz);

/* Thread-safe updates; values are in the order of the metric's labels. */
void metric_add(struct metric *m, const char *const *values, double v);
void metric_set(struct metric *m, const char *const *values, double v);
void metric_observe(struct metric *m, const char *const *values, double v);
void metric_remove(struct metric *m, const char *const *values);
/* Current value of a counter or gauge series (0 if absent); for tests. */
double metric_value(struct metric *m, const char *const *values);
/* Number of observations of a histogram series; for tests. */
uint64_t metric_count(struct metric *m, const char *const *values);

/* Visit every family in name order from one consistent snapshot. */
void metrics_collect(struct metrics *reg, mpci_metric_visit_fn fn, void *ud);
/* Updates refused because a family hit METRICS_MAX_SERIES. */
uint64_t metrics_dropped(struct metrics *reg);

#endif
