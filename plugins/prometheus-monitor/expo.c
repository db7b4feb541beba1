/* Prometheus text format 0.0.4 (see expo.h).  Rendering 10,000 series must
 * stay well under a few milliseconds: integers skip printf, a series' label
 * text is built once and reused for every bucket line. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"

static const char *const type_names[] = { "counter", "gauge", "histogram" };

/* Length of a valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	unsigned cp = c & (0x3fu >> (n - 1));
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void expo_escape(struct pbuf *b, const char *str, int quotes)
{
	const unsigned char *s = (const unsigned char *)str;
	const unsigned char *run = s;
	while (*s) {
		unsigned c = *s;
		if (c >= 0x20 && c < 0x80 && c != '\\' && c != '"') {
			s++;
			continue;
		}
		if (c == '"' && !quotes) {
			s++;
			continue;
		}
		size_t n = c < 0x80 ? 1 : utf8_len(s);
		if (n > 1) {
			s += n;
			continue;
		}
		pbuf_put(b, (const char *)run, (size_t)(s - run));
		if (c == '\\')
			pbuf_put(b, "\\\\", 2);
		else if (c == '"')
			pbuf_put(b, "\\\"", 2);
		else if (c == '\n')
			pbuf_put(b, "\\n", 2);
		else if (c < 0x80)
			pbuf_putc(b, (char)c); /* other control bytes are valid UTF-8 */
		else
			pbuf_put(b, "\xef\xbf\xbd", 3);
		s++;
		run = s;
	}
	pbuf_put(b, (const char *)run, (size_t)(s - run));
}

/* Decimal digits of v into the end of tmp[24]; returns the first digit. */
static char *u64_digits(char *end, uint64_t v)
{
	char *p = end;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

static void put_u64(struct pbuf *b, uint64_t v)
{
	char tmp[24];
	char *p = u64_digits(tmp + sizeof(tmp), v);
	pbuf_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* v in Go ParseFloat syntax into out[40]; returns the length. */
static size_t format_number(char out[40], double v)
{
	if (isnan(v))
		return (size_t)snprintf(out, 40, "NaN");
	if (isinf(v))
		return (size_t)snprintf(out, 40, "%s", v > 0 ? "+Inf" : "-Inf");
	/* Whole numbers below 2^53 are exact: print them as integers. */
	if (fabs(v) < 9007199254740992.0 && v == floor(v)) {
		char tmp[24];
		char *p = u64_digits(tmp + sizeof(tmp), (uint64_t)fabs(v));
		size_t n = (size_t)(tmp + sizeof(tmp) - p), o = 0;
		if (v < 0)
			out[o++] = '-';
		memcpy(out + o, p, n);
		out[o + n] = 0;
		return o + n;
	}
	/* Shortest of 15 or 17 digits that reads back as the same double. */
	int n = snprintf(out, 40, "%.15g", v);
	if (strtod(out, NULL) != v)
		n = snprintf(out, 40, "%.17g", v);
	return (size_t)n;
}

void expo_number(struct pbuf *b, double v)
{
	char tmp[40];
	size_t n = format_number(tmp, v);
	pbuf_put(b, tmp, n);
}

void expo_header(struct pbuf *b, const char *name, const char *type,
		 const char *help)
{
	pbuf_put(b, "# HELP ", 7);
	pbuf_puts(b, name);
	pbuf_putc(b, ' ');
	expo_escape(b, help && *help ? help : "(registered without help text)", 0);
	pbuf_put(b, "\n# TYPE ", 8);
	pbuf_puts(b, name);
	pbuf_putc(b, ' ');
	pbuf_puts(b, type);
	pbuf_putc(b, '\n');
}

void expo_sample(struct pbuf *b, const char *name, double v)
{
	pbuf_puts(b, name);
	pbuf_putc(b, ' ');
	expo_number(b, v);
	pbuf_putc(b, '\n');
}

/* `l1="v1",l2="v2"` (no braces) into lb. */
static void put_labels(struct pbuf *lb, const struct mpci_metric_family *f,
		       const struct mpci_metric_sample *s)
{
	lb->len = 0;
	if (lb->p)
		lb->p[0] = 0;
	for (size_t i = 0; i < f->n_labels; i++) {
		const char *v = s->label_values && s->label_values[i] ?
				s->label_values[i] : "";
		if (i)
			pbuf_putc(lb, ',');
		pbuf_puts(lb, f->label_names[i]);
		pbuf_put(lb, "=\"", 2);
		expo_escape(lb, v, 1);
		pbuf_putc(lb, '"');
	}
}

static void put_series(struct pbuf *b, const char *name, const char *suffix,
		       const struct pbuf *labels, const char *le)
{
	pbuf_puts(b, name);
	if (suffix)
		pbuf_puts(b, suffix);
	if (labels->len || le) {
		pbuf_putc(b, '{');
		pbuf_put(b, labels->p, labels->len);
		if (le) {
			if (labels->len)
				pbuf_putc(b, ',');
			pbuf_put(b, "le=\"", 4);
			pbuf_puts(b, le);
			pbuf_putc(b, '"');
		}
		pbuf_putc(b, '}');
	}
	pbuf_putc(b, ' ');
}

static void put_histogram(struct pbuf *b, const struct mpci_metric_family *f,
			  const struct pbuf *labels, const struct mpci_metric_sample *s,
			  char (*les)[40])
{
	for (size_t k = 0; k < f->n_bounds; k++) {
		put_series(b, f->name, "_bucket", labels, les[k]);
		put_u64(b, s->buckets ? s->buckets[k] : 0);
		pbuf_putc(b, '\n');
	}
	put_series(b, f->name, "_bucket", labels, "+Inf");
	put_u64(b, s->count);
	pbuf_putc(b, '\n');
	put_series(b, f->name, "_sum", labels, NULL);
	expo_number(b, s->sum);
	pbuf_putc(b, '\n');
	put_series(b, f->name, "_count", labels, NULL);
	put_u64(b, s->count);
	pbuf_putc(b, '\n');
}

int expo_family(struct pbuf *b, const struct mpci_metric_family *f)
{
	char (*les)[40] = NULL;
	struct pbuf labels;

	if (f && f->n_samples == 0)
		return 0; /* registered, never set: nothing to say yet */
	if (!f || !f->name || f->type < MPCI_METRIC_COUNTER ||
	    f->type > MPCI_METRIC_HISTOGRAM ||
	    (f->n_labels && !f->label_names))
		return -1;
	if (f->type == MPCI_METRIC_HISTOGRAM) {
		if (f->n_bounds && !f->bounds)
			return -1;
		les = calloc(f->n_bounds ? f->n_bounds : 1, sizeof(*les));
		if (!les) {
			b->oom = 1;
			return -1;
		}
		for (size_t k = 0; k < f->n_bounds; k++)
			format_number(les[k], f->bounds[k]);
	}
	expo_header(b, f->name, type_names[f->type], f->help);
	pbuf_init(&labels, 128);
	/* Reserve roughly what a series takes to avoid regrowing per line. */
	pbuf_reserve(b, f->n_samples * (strlen(f->name) + 32 +
					(f->type == MPCI_METRIC_HISTOGRAM ?
					 (f->n_bounds + 3) * 48 : 0)));
	for (size_t i = 0; i < f->n_samples; i++) {
		const struct mpci_metric_sample *s = &f->samples[i];
		put_labels(&labels, f, s);
		if (labels.oom) {
			b->oom = 1;
			break;
		}
		if (f->type == MPCI_METRIC_HISTOGRAM) {
			put_histogram(b, f, &labels, s, les);
		} else {
			put_series(b, f->name, NULL, &labels, NULL);
			expo_number(b, s->value);
			pbuf_putc(b, '\n');
		}
	}
	pbuf_free(&labels);
	free(les);
	return 0;
}
