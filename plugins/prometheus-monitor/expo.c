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

static size_t put_u64_raw(char *out, uint64_t v)
{
	char tmp[24];
	char *p = u64_digits(tmp + sizeof(tmp), v);
	size_t n = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(out, p, n);
	return n;
}

static const uint64_t pow5[] = { 1ull, 5ull, 25ull, 125ull, 625ull, 3125ull, 15625ull,
	78125ull, 390625ull, 1953125ull, 9765625ull, 48828125ull, 244140625ull,
	1220703125ull, 6103515625ull, 30517578125ull, 152587890625ull, 762939453125ull,
	3814697265625ull, 19073486328125ull, 95367431640625ull, 476837158203125ull,
	2384185791015625ull };

#define TWO53 9007199254740992.0

/* round(f * 2^e * 10^k) exactly (ties to even), for 0 <= k <= 22 and results
 * below 2^64: f * 5^k fits in 105 bits, the power of two is a shift. */
static uint64_t scaled(uint64_t f, int e, int k)
{
	unsigned __int128 n = (unsigned __int128)f * pow5[k];
	int s = e + k;
	if (s >= 0)
		return s >= 64 ? UINT64_MAX : (uint64_t)(n << s);
	int sh = -s;
	if (sh >= 128)
		return 0;
	unsigned __int128 q = n >> sh, rem = n - (q << sh), half = (unsigned __int128)1 << (sh - 1);
	if (rem > half || (rem == half && (q & 1)))
		q++;
	return q >> 64 ? UINT64_MAX : (uint64_t)q;
}

/* Does m * 10^-k read back as a = f * 2^e (f normalised to 53 bits)?  That
 * is: does it lie between the midpoints to a's neighbours, inclusive when
 * f is even (ties go to even)?  Scaled by 2^(2-e) * 10^k everything is an
 * integer: m * 2^(2-e-k) against (4f-1 or 2) * 5^k and (4f+2) * 5^k, below
 * 2^110 for the magnitudes shortest() takes. */
static int reads_back(uint64_t m, int k, uint64_t f, int e)
{
	unsigned __int128 x = m, lo = (unsigned __int128)(4 * f - (f == (1ull << 52) ? 1 : 2)) * pow5[k],
			  hi = (unsigned __int128)(4 * f + 2) * pow5[k];
	int sh = 2 - e - k;
	if (sh >= 0) {
		if (sh > 70)
			return 0;
		x <<= sh;
	} else {
		if (-sh > 20)
			return 0;
		lo <<= -sh;
		hi <<= -sh;
	}
	return (f & 1) ? (x > lo && x < hi) : (x >= lo && x <= hi);
}

/* m with k digits after the point, trailing zeros dropped. */
static size_t put_fixed(char *out, uint64_t m, int k)
{
	char d[24];
	size_t n = put_u64_raw(d, m), o = 0, uk = (size_t)k;
	while (uk > 0 && n > 1 && d[n - 1] == '0') {
		n--;
		uk--;
	}
	if (n > uk) {
		memcpy(out, d, n - uk);
		o = n - uk;
	} else {
		out[o++] = '0';
	}
	if (uk) {
		out[o++] = '.';
		for (size_t z = n; z < uk; z++)
			out[o++] = '0';
		size_t frac = n > uk ? uk : n;
		memcpy(out + o, d + n - frac, frac);
		o += frac;
	}
	return o;
}

/* The shortest decimal that reads back as a (non-integral, 1e-6 <= a < 2^53),
 * or 0 to let printf do it.  17 significant digits always read back; fewer
 * digits work for a set of lengths closed upwards (append a zero), so when
 * 16 fail the answer is 17, and else the search from 1 digit up stops at
 * the shortest.  Candidates are rounded exactly, so the first that reads
 * back is the closest decimal of its length. */
static size_t shortest(char *out, double a)
{
	int ex;
	double fr = frexp(a, &ex);
	uint64_t f = (uint64_t)ldexp(fr, 53);
	int e = ex - 53;
	/* 10^d <= a < 10^(d+1) with d one of two guesses from the binary exponent */
	int d = (int)floor((ex - 1) * 0.30102999566398120);
	int k17 = 16 - d;
	if (k17 > 22)
		return 0;
	uint64_t d17 = scaled(f, e, k17);
	if (d17 >= 100000000000000000ull) {
		k17--;
		d17 = scaled(f, e, k17);
	}
	if (k17 < 2 || d17 < 10000000000000000ull || d17 >= 100000000000000000ull)
		return 0;
	uint64_t m16 = scaled(f, e, k17 - 1);
	if (!reads_back(m16, k17 - 1, f, e))
		return put_fixed(out, d17, k17);
	/* the fewest digits after the point in (0, k17 - 1], by bisection */
	int lo = 0, hi = k17 - 1;
	uint64_t best = m16;
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;
		uint64_t m = scaled(f, e, mid);
		if (reads_back(m, mid, f, e)) {
			hi = mid;
			best = m;
		} else {
			lo = mid;
		}
	}
	return put_fixed(out, best, hi);
}

/* v in Go ParseFloat syntax into out (40 bytes, NUL-terminated); returns the length. */
static size_t format_number(char *out, double v)
{
	size_t o = 0, n;
	if (isnan(v))
		return (size_t)snprintf(out, 40, "NaN");
	if (isinf(v))
		return (size_t)snprintf(out, 40, "%s", v > 0 ? "+Inf" : "-Inf");
	double a = fabs(v);
	if (v < 0 && a != 0)
		out[o++] = '-';
	/* Whole numbers below 2^53 are exact: print them as integers. */
	if (a < TWO53 && a == floor(a)) {
		o += put_u64_raw(out + o, (uint64_t)a);
		out[o] = 0;
		return o;
	}
	if (a >= 1e-6 && a < TWO53 && (n = shortest(out + o, a))) {
		out[o + n] = 0;
		return o + n;
	}
	/* Rare magnitudes: the shortest of 15, 16, 17 digits that reads back. */
	for (int p = 15; p < 17; p++) {
		int len = snprintf(out, 40, "%.*g", p, v);
		if (strtod(out, NULL) == v)
			return (size_t)len;
	}
	return (size_t)snprintf(out, 40, "%.17g", v);
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

/* One sample line written straight into the buffer: room is reserved once
 * per line instead of per piece. */
struct line {
	const char *name;       /* with its suffix (_sum, _count) */
	size_t name_len;
};

static void put_line(struct pbuf *b, const struct line *ln, const struct pbuf *labels,
		     double v, int is_count, uint64_t count)
{
	if (pbuf_reserve(b, ln->name_len + labels->len + 64) < 0)
		return;
	char *w = b->p + b->len;
	memcpy(w, ln->name, ln->name_len);
	w += ln->name_len;
	if (labels->len) {
		*w++ = '{';
		memcpy(w, labels->p, labels->len);
		w += labels->len;
		*w++ = '}';
	}
	*w++ = ' ';
	w += is_count ? put_u64_raw(w, count) : format_number(w, v);
	*w++ = '\n';
	*w = 0;
	b->len = (size_t)(w - b->p);
}

/* The bucket lines of one series: `name_bucket{labels,le="` is built once. */
static void put_buckets(struct pbuf *b, struct pbuf *prefix, const char *name, size_t nl,
			const struct pbuf *labels, const struct mpci_metric_family *f,
			const struct mpci_metric_sample *s, char (*les)[40], const size_t *le_len)
{
	prefix->len = 0;
	pbuf_put(prefix, name, nl);
	pbuf_put(prefix, "_bucket{", 8);
	pbuf_put(prefix, labels->p, labels->len);
	pbuf_puts(prefix, labels->len ? ",le=\"" : "le=\"");
	if (prefix->oom || pbuf_reserve(b, (f->n_bounds + 1) * (prefix->len + 72)) < 0) {
		b->oom = 1;
		return;
	}
	char *w = b->p + b->len;
	for (size_t k = 0; k <= f->n_bounds; k++) {
		memcpy(w, prefix->p, prefix->len);
		w += prefix->len;
		if (k < f->n_bounds) {
			memcpy(w, les[k], le_len[k]);
			w += le_len[k];
		} else {
			memcpy(w, "+Inf", 4);
			w += 4;
		}
		memcpy(w, "\"} ", 3);
		w += 3;
		w += put_u64_raw(w, k < f->n_bounds ? (s->buckets ? s->buckets[k] : 0) : s->count);
		*w++ = '\n';
	}
	*w = 0;
	b->len = (size_t)(w - b->p);
}

int expo_family(struct pbuf *b, const struct mpci_metric_family *f)
{
	char (*les)[40] = NULL;
	size_t *le_len = NULL;
	struct pbuf labels, names, prefix;

	if (f && f->n_samples == 0)
		return 0; /* registered, never set: nothing to say yet */
	if (!f || !f->name || f->type < MPCI_METRIC_COUNTER ||
	    f->type > MPCI_METRIC_HISTOGRAM || (f->n_labels && !f->label_names) ||
	    (f->n_samples && !f->samples) ||
	    (f->type == MPCI_METRIC_HISTOGRAM && f->n_bounds && !f->bounds))
		return -1;
	size_t nl = strlen(f->name);
	if (f->type == MPCI_METRIC_HISTOGRAM) {
		les = calloc(f->n_bounds ? f->n_bounds : 1, sizeof(*les));
		le_len = calloc(f->n_bounds ? f->n_bounds : 1, sizeof(*le_len));
		if (!les || !le_len) {
			free(les);
			free(le_len);
			b->oom = 1;
			return -1;
		}
		for (size_t k = 0; k < f->n_bounds; k++)
			le_len[k] = format_number(les[k], f->bounds[k]);
	}
	/* name, name_sum, name_count, NUL-separated */
	pbuf_init(&names, 3 * nl + 32);
	pbuf_printf(&names, "%s%c%s_sum%c%s_count", f->name, 0, f->name, 0, f->name);
	struct line plain = { names.p, nl }, sum = { plain.name + nl + 1, nl + 4 },
		    count = { sum.name + nl + 5, nl + 6 };
	pbuf_init(&prefix, 256);
	pbuf_init(&labels, 256);
	if (names.oom || labels.oom || prefix.oom) {
		b->oom = 1;
		goto out;
	}
	expo_header(b, f->name, type_names[f->type], f->help);
	for (size_t i = 0; i < f->n_samples; i++) {
		const struct mpci_metric_sample *s = &f->samples[i];
		put_labels(&labels, f, s);
		if (labels.oom) {
			b->oom = 1;
			break;
		}
		if (f->type != MPCI_METRIC_HISTOGRAM) {
			put_line(b, &plain, &labels, s->value, 0, 0);
			continue;
		}
		put_buckets(b, &prefix, f->name, nl, &labels, f, s, les, le_len);
		put_line(b, &sum, &labels, s->sum, 0, 0);
		put_line(b, &count, &labels, 0, 1, s->count);
	}
out:
	pbuf_free(&prefix);
	pbuf_free(&labels);
	pbuf_free(&names);
	free(les);
	free(le_len);
	return 0;
}
