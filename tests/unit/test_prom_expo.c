/* prometheus-monitor: the text format 0.0.4 renderer, line by line: HELP and
 * TYPE, label escaping, invalid UTF-8, number syntax, histogram expansion. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "expo.h"

static char *render(const struct mpci_metric_family *f)
{
	struct pbuf b;
	size_t n;
	pbuf_init(&b, 16);
	expo_family(&b, f);
	return pbuf_take(&b, &n);
}

static char *number(double v)
{
	struct pbuf b;
	size_t n;
	pbuf_init(&b, 4);
	expo_number(&b, v);
	return pbuf_take(&b, &n);
}

static void is_number(double v, const char *want)
{
	char *s = number(v);
	is_str(s, want, "number %s", want);
	free(s);
}

static void test_numbers(void)
{
	is_number(0, "0");
	is_number(-0.0, "0");
	is_number(42, "42");
	is_number(-7, "-7");
	is_number(9007199254740991.0, "9007199254740991");
	is_number(1e300, "1e+300");
	is_number(0.1, "0.1");
	is_number(0.25, "0.25");
	is_number(1.0 / 3, "0.3333333333333333");
	is_number(2.0 / 3, "0.6666666666666666");
	is_number(0.1 + 0.2, "0.30000000000000004");
	is_number(1e-5, "0.00001");
	is_number(1e-6, "1e-06");
	is_number(-1.5e-3, "-0.0015");
	is_number(123456.789, "123456.789");
	is_number(4503599627370495.5, "4503599627370495.5");
	is_number(5e-324, "4.94065645841247e-324");
	is_number(1e-7, "1e-07");
	is_number(NAN, "NaN");
	is_number(INFINITY, "+Inf");
	is_number(-INFINITY, "-Inf");
	/* Every double reads back exactly, and no longer than Python's repr
	 * (the shortest round-trip form) when that has at most 17 digits. */
	uint64_t x = 88172645463325252ull;
	int bad = 0, longer = 0;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double v;
		if (i % 2) {
			uint64_t bits = x;
			memcpy(&v, &bits, sizeof(v));
		} else {
			v = (double)(x % 100000000) / pow(10, (double)(x % 13)) + (double)(x % 7) * 1e-9;
		}
		if (isnan(v) || isinf(v))
			continue;
		char *s = number(v), sh[40];
		if (strtod(s, NULL) != v && bad++ < 5)
			diag("%.17g rendered as %s", v, s);
		/* the shortest of %.1g..%.17g that reads back */
		for (int p = 1; p <= 17; p++) {
			snprintf(sh, sizeof(sh), "%.*g", p, v);
			if (strtod(sh, NULL) == v)
				break;
		}
		size_t digits = 0, sdigits = 0;
		for (const char *c = s; *c && *c != 'e'; c++)
			digits += *c >= '0' && *c <= '9';
		for (const char *c = sh; *c && *c != 'e'; c++)
			sdigits += *c >= '0' && *c <= '9';
		if (fabs(v) >= 1e-6 && fabs(v) < 9007199254740992.0 && v != floor(v)) {
			/* leading zeros of 0.000x count as digits here: compare significant ones */
			const char *c = s + (*s == '-');
			while (*c == '0' || *c == '.')
				c++, digits--;
			if (strchr(c, '.') == NULL && strchr(s, '.'))
				digits += 0;
			const char *t = sh + (*sh == '-');
			while (*t == '0' || *t == '.')
				t++, sdigits--;
			if (digits > sdigits && longer++ < 5)
				diag("%.17g: %s is longer than %s", v, s, sh);
		}
		free(s);
	}
	is_int(bad, 0, "200000 random doubles read back exactly");
	is_int(longer, 0, "and use the fewest significant digits");
}

static void test_counter_gauge(void)
{
	static const char *const names[] = { "path", "code" };
	static const char *const v1[] = { "/a\\b", "200" };
	static const char *const v2[] = { "say \"hi\"\nbye", "500" };
	static const char *const v3[] = { "bad\xff\xfe" "utf8 \xc3\xa9", "x" };
	struct mpci_metric_sample s[] = { { .label_values = v1, .value = 3 },
					  { .label_values = v2, .value = 0.5 },
					  { .label_values = v3, .value = 1 } };
	struct mpci_metric_family f = { .struct_size = sizeof(f), .name = "app_requests_total",
					.help = "Requests\\served\nby path.", .type = MPCI_METRIC_COUNTER,
					.label_names = names, .n_labels = 2, .samples = s, .n_samples = 3 };
	char *out = render(&f);
	is_str(out,
	       "# HELP app_requests_total Requests\\\\served\\nby path.\n"
	       "# TYPE app_requests_total counter\n"
	       "app_requests_total{path=\"/a\\\\b\",code=\"200\"} 3\n"
	       "app_requests_total{path=\"say \\\"hi\\\"\\nbye\",code=\"500\"} 0.5\n"
	       "app_requests_total{path=\"bad\xef\xbf\xbd\xef\xbf\xbdutf8 \xc3\xa9\",code=\"x\"} 1\n",
	       "counter: help and label values escaped, invalid UTF-8 replaced, valid kept");
	free(out);

	struct mpci_metric_sample g = { .value = -2 };
	struct mpci_metric_family fg = { .struct_size = sizeof(fg), .name = "app_temp", .help = "",
					 .type = MPCI_METRIC_GAUGE, .samples = &g, .n_samples = 1 };
	out = render(&fg);
	is_str(out, "# HELP app_temp (registered without help text)\n# TYPE app_temp gauge\napp_temp -2\n",
	       "gauge without labels; an empty help gets a placeholder");
	free(out);

	fg.n_samples = 0;
	out = render(&fg);
	is_str(out, "", "a family without samples renders nothing");
	free(out);

	fg.n_samples = 1;
	fg.type = 7;
	struct pbuf b;
	pbuf_init(&b, 16);
	is_int(expo_family(&b, &fg), -1, "an unknown type is refused");
	is_int(b.len, 0, "and renders nothing");
	pbuf_free(&b);
}

static void test_histogram(void)
{
	static const char *const names[] = { "kind" };
	static const char *const v1[] = { "sign" };
	static const double bounds[] = { 0.5, 1, 2.5 };
	static const uint64_t buckets[] = { 1, 3, 3 };
	struct mpci_metric_sample s = { .label_values = v1, .buckets = buckets, .sum = 7.25, .count = 4 };
	struct mpci_metric_family f = { .struct_size = sizeof(f), .name = "app_latency_seconds",
					.help = "Latency.", .type = MPCI_METRIC_HISTOGRAM,
					.label_names = names, .n_labels = 1, .bounds = bounds, .n_bounds = 3,
					.samples = &s, .n_samples = 1 };
	char *out = render(&f);
	is_str(out,
	       "# HELP app_latency_seconds Latency.\n"
	       "# TYPE app_latency_seconds histogram\n"
	       "app_latency_seconds_bucket{kind=\"sign\",le=\"0.5\"} 1\n"
	       "app_latency_seconds_bucket{kind=\"sign\",le=\"1\"} 3\n"
	       "app_latency_seconds_bucket{kind=\"sign\",le=\"2.5\"} 3\n"
	       "app_latency_seconds_bucket{kind=\"sign\",le=\"+Inf\"} 4\n"
	       "app_latency_seconds_sum{kind=\"sign\"} 7.25\n"
	       "app_latency_seconds_count{kind=\"sign\"} 4\n",
	       "histogram: cumulative buckets, +Inf equal to count, sum, count");
	free(out);
	f.n_labels = 0;
	f.label_names = NULL;
	out = render(&f);
	ok(out && strstr(out, "app_latency_seconds_bucket{le=\"+Inf\"} 4\napp_latency_seconds_sum 7.25\n"),
	   "histogram without labels: le alone, bare _sum");
	free(out);
}

static void test_buffer(void)
{
	struct pbuf b;
	size_t n;
	pbuf_init(&b, 1);
	for (int i = 0; i < 10000; i++)
		pbuf_printf(&b, "%d,", i);
	char *s = pbuf_take(&b, &n);
	ok(s && n == strlen(s) && strncmp(s, "0,1,2,", 6) == 0 && strstr(s, ",9999,"),
	   "the buffer grows from 1 byte to %zu", n);
	free(s);
	pbuf_init(&b, 8);
	pbuf_printf(&b, "%0400d", 1);
	s = pbuf_take(&b, &n);
	ok(s && n == 400 && s[399] == '1', "a long printf goes through the slow path");
	free(s);
}

int main(void)
{
	test_numbers();
	test_counter_gauge();
	test_histogram();
	test_buffer();
	return done_testing();
}
