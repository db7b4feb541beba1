/* The metrics registry.  One mutex guards everything: updates are a hash
 * lookup and an add, and collection copies a snapshot before visiting, so a
 * visitor may itself update metrics without deadlocking. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct series {
	char *key;            /* label values joined by '\xff' */
	char *vbuf;           /* label values, NUL-separated */
	char **values;        /* n_labels pointers into vbuf */
	double value;         /* counter, gauge; histogram: sum */
	uint64_t *buckets;    /* histogram: per-bound counts (not cumulative) */
	uint64_t count;
};

struct metric {
	struct metrics *reg;
	char *name, *help;
	int type;
	char **labels;
	size_t n_labels;
	double *bounds;
	size_t n_bounds;
	struct series *series;
	size_t n_series, cap_series;
	size_t *index;        /* open addressing: series position + 1, 0 = empty */
	size_t index_cap;     /* power of two */
	int warned_full;
};

struct metrics {
	pthread_mutex_t lock;
	struct metric **families; /* sorted by name */
	size_t n, cap;
	uint64_t dropped;
};

static int name_ok(const char *s, int label)
{
	if (!s || !*s)
		return 0;
	if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') ||
	      (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (const char *p = s; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return 0;
	if (label && (strncmp(s, "__", 2) == 0 || strcmp(s, "le") == 0 ||
		      strcmp(s, "quantile") == 0))
		return 0;
	return strlen(s) <= 200;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

struct metrics *metrics_new(void)
{
	struct metrics *reg = calloc(1, sizeof(*reg));
	if (reg)
		pthread_mutex_init(&reg->lock, NULL);
	return reg;
}

static void series_clear(struct series *s)
{
	free(s->key);
	free(s->vbuf);
	free(s->values);
	free(s->buckets);
}

static void metric_free(struct metric *m)
{
	for (size_t i = 0; i < m->n_series; i++)
		series_clear(&m->series[i]);
	for (size_t i = 0; i < m->n_labels; i++)
		free(m->labels[i]);
	free(m->labels);
	free(m->series);
	free(m->index);
	free(m->bounds);
	free(m->name);
	free(m->help);
	free(m);
}

void metrics_free(struct metrics *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n; i++)
		metric_free(reg->families[i]);
	free(reg->families);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

/* Position of `name` in the sorted family list, or where it would go. */
static size_t family_pos(const struct metrics *reg, const char *name, int *found)
{
	size_t lo = 0, hi = reg->n;
	*found = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(reg->families[mid]->name, name);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t count_labels(const char *const *labels)
{
	size_t n = 0;
	while (labels && labels[n])
		n++;
	return n;
}

static int same_shape(const struct metric *m, int type,
		      const char *const *labels, const double *bounds,
		      size_t n_bounds)
{
	if (m->type != type || m->n_labels != count_labels(labels))
		return 0;
	for (size_t i = 0; i < m->n_labels; i++)
		if (strcmp(m->labels[i], labels[i]) != 0)
			return 0;
	if (type == MPCI_METRIC_HISTOGRAM &&
	    (m->n_bounds != n_bounds ||
	     memcmp(m->bounds, bounds, n_bounds * sizeof(double)) != 0))
		return 0;
	return 1;
}

static const char *check_shape(const char *name, int type,
			       const char *const *labels, const double *bounds,
			       size_t n_bounds)
{
	size_t nl = count_labels(labels);
	if (!name_ok(name, 0))
		return "invalid metric name (want [a-zA-Z_][a-zA-Z0-9_]*)";
	if (type == MPCI_METRIC_COUNTER && !ends_with(name, "_total"))
		return "counter names must end in _total";
	if (type != MPCI_METRIC_COUNTER && ends_with(name, "_total"))
		return "only counters may end in _total";
	if (ends_with(name, "_bucket") || ends_with(name, "_count") ||
	    ends_with(name, "_sum"))
		return "_bucket, _count and _sum suffixes are reserved";
	if (nl > METRICS_MAX_LABELS)
		return "too many labels";
	for (size_t i = 0; i < nl; i++) {
		if (!name_ok(labels[i], 1))
			return "invalid label name";
		for (size_t j = 0; j < i; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				return "duplicate label name";
	}
	if (type == MPCI_METRIC_HISTOGRAM) {
		if (n_bounds == 0 || n_bounds > METRICS_MAX_BOUNDS || !bounds)
			return "a histogram needs 1 to 64 bucket bounds";
		for (size_t i = 0; i < n_bounds; i++)
			if (!isfinite(bounds[i]) ||
			    (i > 0 && bounds[i] <= bounds[i - 1]))
				return "bucket bounds must be finite and ascending";
	}
	return NULL;
}

static struct metric *family_new(struct metrics *reg, const char *name,
				 const char *help, int type,
				 const char *const *labels,
				 const double *bounds, size_t n_bounds)
{
	struct metric *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->reg = reg;
	m->type = type;
	m->name = strdup(name);
	m->help = strdup(help ? help : "");
	m->n_labels = count_labels(labels);
	m->labels = calloc(m->n_labels + 1, sizeof(char *));
	if (type == MPCI_METRIC_HISTOGRAM) {
		m->bounds = malloc(n_bounds * sizeof(double));
		if (m->bounds)
			memcpy(m->bounds, bounds, n_bounds * sizeof(double));
		m->n_bounds = n_bounds;
	}
	int bad = !m->name || !m->help || !m->labels ||
		  (type == MPCI_METRIC_HISTOGRAM && !m->bounds);
	for (size_t i = 0; !bad && i < m->n_labels; i++)
		bad = !(m->labels[i] = strdup(labels[i]));
	if (bad) {
		metric_free(m);
		return NULL;
	}
	return m;
}

static struct metric *metrics_register(struct metrics *reg, const char *name,
				       const char *help, int type,
				       const char *const *labels,
				       const double *bounds, size_t n_bounds,
				       char *err, size_t errsz)
{
	const char *why = check_shape(name, type, labels, bounds, n_bounds);
	struct metric *m = NULL;
	int found;

	if (why) {
		snprintf(err, errsz, "metric %s: %s", name ? name : "(null)", why);
		return NULL;
	}
	pthread_mutex_lock(&reg->lock);
	size_t pos = family_pos(reg, name, &found);
	if (found) {
		m = reg->families[pos];
		if (!same_shape(m, type, labels, bounds, n_bounds)) {
			snprintf(err, errsz,
				 "metric %s: already registered with another type, labels or buckets",
				 name);
			m = NULL;
		}
		goto out;
	}
	if (reg->n == reg->cap) {
		size_t cap = reg->cap ? reg->cap * 2 : 64;
		struct metric **f = realloc(reg->families, cap * sizeof(*f));
		if (!f)
			goto oom;
		reg->families = f;
		reg->cap = cap;
	}
	m = family_new(reg, name, help, type, labels, bounds, n_bounds);
	if (!m)
		goto oom;
	memmove(&reg->families[pos + 1], &reg->families[pos],
		(reg->n - pos) * sizeof(*reg->families));
	reg->families[pos] = m;
	reg->n++;
out:
	pthread_mutex_unlock(&reg->lock);
	return m;
oom:
	pthread_mutex_unlock(&reg->lock);
	snprintf(err, errsz, "metric %s: out of memory", name);
	return NULL;
}

struct metric *metrics_counter(struct metrics *reg, const char *name,
			       const char *help, const char *const *labels,
			       char *err, size_t errsz)
{
	return metrics_register(reg, name, help, MPCI_METRIC_COUNTER, labels,
				NULL, 0, err, errsz);
}

struct metric *metrics_gauge(struct metrics *reg, const char *name,
			     const char *help, const char *const *labels,
			     char *err, size_t errsz)
{
	return metrics_register(reg, name, help, MPCI_METRIC_GAUGE, labels,
				NULL, 0, err, errsz);
}

struct metric *metrics_histogram(struct metrics *reg, const char *name,
				 const char *help, const char *const *labels,
				 const double *bounds, size_t n_bounds,
				 char *err, size_t errsz)
{
	return metrics_register(reg, name, help, MPCI_METRIC_HISTOGRAM, labels,
				bounds, n_bounds, err, errsz);
}

/* ---- series lookup ---- */

static uint64_t hash_key(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
	return h;
}

/* Label values joined with '\xff' (never valid in UTF-8); NULL values are "". */
static char *make_key(const struct metric *m, const char *const *values,
		      size_t *len)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_labels; i++)
		n += strlen(values && values[i] ? values[i] : "") + 1;
	char *k = malloc(n + 1), *p = k;
	if (!k)
		return NULL;
	for (size_t i = 0; i < m->n_labels; i++) {
		const char *v = values && values[i] ? values[i] : "";
		size_t l = strlen(v);
		memcpy(p, v, l);
		p += l;
		*p++ = '\xff';
	}
	*p = 0;
	*len = n;
	return k;
}

static void index_rebuild(struct metric *m)
{
	memset(m->index, 0, m->index_cap * sizeof(size_t));
	for (size_t i = 0; i < m->n_series; i++) {
		const char *k = m->series[i].key;
		size_t j = hash_key(k, strlen(k)) & (m->index_cap - 1);
		while (m->index[j])
			j = (j + 1) & (m->index_cap - 1);
		m->index[j] = i + 1;
	}
}

static struct series *series_find(struct metric *m, const char *key, size_t len)
{
	if (!m->index_cap)
		return NULL;
	size_t j = hash_key(key, len) & (m->index_cap - 1);
	while (m->index[j]) {
		struct series *s = &m->series[m->index[j] - 1];
		if (strcmp(s->key, key) == 0)
			return s;
		j = (j + 1) & (m->index_cap - 1);
	}
	return NULL;
}

static int series_grow(struct metric *m)
{
	if (m->n_series == m->cap_series) {
		size_t cap = m->cap_series ? m->cap_series * 2 : 8;
		struct series *s = realloc(m->series, cap * sizeof(*s));
		if (!s)
			return -1;
		m->series = s;
		m->cap_series = cap;
	}
	if ((m->n_series + 1) * 2 > m->index_cap) {
		size_t cap = m->index_cap ? m->index_cap * 2 : 16;
		size_t *idx = calloc(cap, sizeof(size_t));
		if (!idx)
			return -1;
		free(m->index);
		m->index = idx;
		m->index_cap = cap;
		index_rebuild(m);
	}
	return 0;
}

/* Find or create the series; caller holds the lock.  NULL when full. */
static struct series *series_get(struct metric *m, const char *const *values)
{
	size_t len;
	char *key = make_key(m, values, &len);
	if (!key)
		return NULL;
	struct series *s = series_find(m, key, len);
	if (s) {
		free(key);
		return s;
	}
	if (m->n_series >= METRICS_MAX_SERIES || series_grow(m) < 0) {
		m->reg->dropped++;
		if (!m->warned_full)
			fprintf(stderr, "metrics: %s: series limit %d reached, dropping updates\n",
				m->name, METRICS_MAX_SERIES);
		m->warned_full = 1;
		free(key);
		return NULL;
	}
	s = &m->series[m->n_series];
	memset(s, 0, sizeof(*s));
	s->key = key;
	s->vbuf = malloc(len + 1);
	s->values = calloc(m->n_labels + 1, sizeof(char *));
	if (m->type == MPCI_METRIC_HISTOGRAM)
		s->buckets = calloc(m->n_bounds, sizeof(uint64_t));
	if (!s->vbuf || !s->values ||
	    (m->type == MPCI_METRIC_HISTOGRAM && !s->buckets)) {
		series_clear(s);
		return NULL;
	}
	memcpy(s->vbuf, key, len + 1);
	char *p = s->vbuf;
	for (size_t i = 0; i < m->n_labels; i++) {
		s->values[i] = p;
		p = strchr(p, '\xff');
		*p++ = 0;
	}
	m->n_series++;
	const char *k = s->key;
	size_t j = hash_key(k, len) & (m->index_cap - 1);
	while (m->index[j])
		j = (j + 1) & (m->index_cap - 1);
	m->index[j] = m->n_series;
	return s;
}

void metric_add(struct metric *m, const char *const *values, double v)
{
	if (!m || m->type == MPCI_METRIC_HISTOGRAM ||
	    (m->type == MPCI_METRIC_COUNTER && !(v >= 0)))
		return;
	pthread_mutex_lock(&m->reg->lock);
	struct series *s = series_get(m, values);
	if (s)
		s->value += v;
	pthread_mutex_unlock(&m->reg->lock);
}

void metric_set(struct metric *m, const char *const *values, double v)
{
	if (!m || m->type != MPCI_METRIC_GAUGE)
		return;
	pthread_mutex_lock(&m->reg->lock);
	struct series *s = series_get(m, values);
	if (s)
		s->value = v;
	pthread_mutex_unlock(&m->reg->lock);
}

void metric_observe(struct metric *m, const char *const *values, double v)
{
	if (!m || m->type != MPCI_METRIC_HISTOGRAM || isnan(v))
		return;
	pthread_mutex_lock(&m->reg->lock);
	struct series *s = series_get(m, values);
	if (s) {
		for (size_t i = 0; i < m->n_bounds; i++)
			if (v <= m->bounds[i]) {
				s->buckets[i]++;
				break;
			}
		s->value += v;
		s->count++;
	}
	pthread_mutex_unlock(&m->reg->lock);
}

void metric_remove(struct metric *m, const char *const *values)
{
	size_t len;
	if (!m)
		return;
	char *key = make_key(m, values, &len);
	if (!key)
		return;
	pthread_mutex_lock(&m->reg->lock);
	struct series *s = series_find(m, key, len);
	if (s) {
		size_t i = (size_t)(s - m->series);
		series_clear(s);
		memmove(&m->series[i], &m->series[i + 1],
			(m->n_series - i - 1) * sizeof(*s));
		m->n_series--;
		index_rebuild(m);
	}
	pthread_mutex_unlock(&m->reg->lock);
	free(key);
}

double metric_value(struct metric *m, const char *const *values)
{
	size_t len;
	double v = 0;
	char *key = make_key(m, values, &len);
	if (!key)
		return 0;
	pthread_mutex_lock(&m->reg->lock);
	struct series *s = series_find(m, key, len);
	if (s)
		v = s->value;
	pthread_mutex_unlock(&m->reg->lock);
	free(key);
	return v;
}

uint64_t metric_count(struct metric *m, const char *const *values)
{
	size_t len;
	uint64_t c = 0;
	char *key = make_key(m, values, &len);
	if (!key)
		return 0;
	pthread_mutex_lock(&m->reg->lock);
	struct series *s = series_find(m, key, len);
	if (s)
		c = s->count;
	pthread_mutex_unlock(&m->reg->lock);
	free(key);
	return c;
}

uint64_t metrics_dropped(struct metrics *reg)
{
	pthread_mutex_lock(&reg->lock);
	uint64_t d = reg->dropped;
	pthread_mutex_unlock(&reg->lock);
	return d;
}

/* One family copied out of the registry: the visitor sees no live data. */
struct family_snap {
	struct mpci_metric_family fam;
	struct mpci_metric_sample *samples;
	char *strings;
	uint64_t *buckets;
	const char **values;
};

static int family_snapshot(const struct metric *m, struct family_snap *fs)
{
	size_t n = m->n_series, text = 0;
	for (size_t i = 0; i < n; i++)
		text += strlen(m->series[i].key) + 1;
	fs->samples = calloc(n ? n : 1, sizeof(*fs->samples));
	fs->strings = malloc(text + 1);
	fs->values = calloc(n * m->n_labels + 1, sizeof(char *));
	fs->buckets = calloc(n * m->n_bounds + 1, sizeof(uint64_t));
	if (!fs->samples || !fs->strings || !fs->values || !fs->buckets)
		return -1;
	char *p = fs->strings;
	for (size_t i = 0; i < n; i++) {
		const struct series *s = &m->series[i];
		struct mpci_metric_sample *out = &fs->samples[i];
		const char **vals = &fs->values[i * m->n_labels];
		for (size_t l = 0; l < m->n_labels; l++) {
			size_t len = strlen(s->values[l]);
			memcpy(p, s->values[l], len + 1);
			vals[l] = p;
			p += len + 1;
		}
		out->label_values = vals;
		out->value = s->value;
		if (m->type == MPCI_METRIC_HISTOGRAM) {
			uint64_t *b = &fs->buckets[i * m->n_bounds], acc = 0;
			for (size_t k = 0; k < m->n_bounds; k++)
				b[k] = acc += s->buckets[k];
			out->buckets = b;
			out->sum = s->value;
			out->count = s->count;
		}
	}
	fs->fam = (struct mpci_metric_family){
		.struct_size = sizeof(fs->fam),
		.name = m->name,
		.help = m->help,
		.type = m->type,
		.label_names = (const char *const *)m->labels,
		.n_labels = m->n_labels,
		.bounds = m->bounds,
		.n_bounds = m->n_bounds,
		.samples = fs->samples,
		.n_samples = n,
	};
	return 0;
}

static void family_snap_free(struct family_snap *fs)
{
	free(fs->samples);
	free(fs->strings);
	free(fs->values);
	free(fs->buckets);
}

void metrics_collect(struct metrics *reg, mpci_metric_visit_fn fn, void *ud)
{
	pthread_mutex_lock(&reg->lock);
	size_t n = reg->n;
	struct family_snap *snaps = calloc(n ? n : 1, sizeof(*snaps));
	int failed = !snaps;
	for (size_t i = 0; !failed && i < n; i++)
		failed = family_snapshot(reg->families[i], &snaps[i]) < 0;
	pthread_mutex_unlock(&reg->lock);
	/* Families are never freed before the registry, so names stay valid. */
	for (size_t i = 0; !failed && i < n; i++)
		fn(&snaps[i].fam, ud);
	for (size_t i = 0; snaps && i < n; i++)
		family_snap_free(&snaps[i]);
	free(snaps);
}
