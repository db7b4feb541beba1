/* libFuzzer target: prometheus-monitor's decoders of the MPC contract's view
 * answers (contract.c) and what turns them into series (contract_metrics.c),
 * through the core's real metrics registry and the plugin's real /metrics
 * renderer (expo.c).  RPC answers are untrusted: account ids, URLs, protocol
 * names and versions from the chain become label values.
 *
 * Input: answers separated by the two bytes 0xff 0xfe; the first byte of each
 * picks the view (cmetrics_views[0..5], 6 = get_attestation, 7 = a failed
 * call), the rest is the value.  Each answer is also given to its parser
 * alone, as an exact-size copy.  Oracle: no crash or leak; every parser
 * failure has a message; and the rendered exposition is well formed (HELP
 * and TYPE lines, escaped label values, valid UTF-8, numbers Prometheus
 * parses). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test_prom_api.h"
#include "contract.h"
#include "contract_metrics.h"
#include "expo.h"
#include "pbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parsers(int which, const char *v, size_t n)
{
	char err[300] = "", ver[72], *acc = NULL;
	struct contract_state s;
	size_t a, b;
	double lo, hi;
	int present, rc;

	switch (which) {
	case 0:
		rc = contract_parse_state(v, n, 1000, &s, err, sizeof(err));
		if (rc == 0 && (s.phase < 0 || s.phase >= CONTRACT_N_PHASES ||
				(s.n_participants && !s.participants) || (s.n_domains && !s.domains)))
			abort();
		for (size_t i = 0; rc == 0 && i < s.n_participants; i++)
			if (strlen(s.participants[i].account) > CONTRACT_MAX_ACCOUNT ||
			    strlen(s.participants[i].url) > CONTRACT_MAX_URL ||
			    strlen(s.participants[i].tls_key) > CONTRACT_MAX_KEY)
				abort();
		contract_state_free(&s);
		break;
	case 1:
	case 2:
		rc = contract_parse_hashes(v, n, &a, &lo, &hi, err, sizeof(err));
		if (rc == 0 && lo > hi)
			abort();
		break;
	case 3:
		rc = contract_parse_tee_accounts(v, n, &a, &acc, err, sizeof(err));
		free(acc);
		break;
	case 4:
		rc = contract_parse_migrations(v, n, &a, &b, err, sizeof(err));
		break;
	case 5:
		rc = contract_parse_version(v, n, ver, sizeof(ver), err, sizeof(err));
		if (rc == 0 && strlen(ver) >= sizeof(ver))
			abort();
		break;
	default:
		rc = contract_parse_attestation(v, n, &present, &lo, err, sizeof(err));
	}
	if (rc < 0 && !err[0])
		abort();    /* an error must say what */
}

/* ---- the exposition ---- */

static int name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

static int utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], cp, min;
		size_t k;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) { k = 1; cp = c & 0x1f; min = 0x80; }
		else if (c >= 0xe0 && c <= 0xef) { k = 2; cp = c & 0x0f; min = 0x800; }
		else if (c >= 0xf0 && c <= 0xf4) { k = 3; cp = c & 0x07; min = 0x10000; }
		else return 0;
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* One sample line: name{label="value",...} number */
static int sample_ok(const char *p, const char *end)
{
	if (p >= end || !name_char(*p, 1))
		return 0;
	while (p < end && name_char(*p, 0))
		p++;
	if (p < end && *p == '{') {
		p++;
		while (p < end && *p != '}') {
			if (!name_char(*p, 1))
				return 0;
			while (p < end && name_char(*p, 0))
				p++;
			if (end - p < 2 || p[0] != '=' || p[1] != '"')
				return 0;
			for (p += 2; p < end && *p != '"'; p++)
				if (*p == '\\' && (++p >= end || (*p != '\\' && *p != '"' && *p != 'n')))
					return 0;
			if (p >= end)
				return 0;
			p++;
			if (p < end && *p == ',')
				p++;
		}
		if (p >= end)
			return 0;
		p++;
	}
	if (p >= end || *p++ != ' ' || p >= end)
		return 0;
	size_t n = (size_t)(end - p);
	if ((n == 3 && !memcmp(p, "NaN", 3)) || (n == 4 && (!memcmp(p, "+Inf", 4) ||
							  !memcmp(p, "-Inf", 4))))
		return 1;
	char num[64], *stop;
	if (n >= sizeof(num))
		return 0;
	memcpy(num, p, n);
	num[n] = 0;
	double v = strtod(num, &stop);
	return *stop == 0 && isfinite(v) && !strchr(num, 'x') && !strchr(num, 'X');
}

static void render(const struct mpci_metric_family *f, void *ud)
{
	expo_family(ud, f);
}

static void check_exposition(void)
{
	struct pbuf b;
	size_t len;
	pbuf_init(&b, 4096);
	metrics_collect(tpa_reg, render, &b);
	char *text = pbuf_take(&b, &len);
	if (!text)
		return;         /* out of memory */
	if (getenv("FUZZ_PROM_DUMP"))  /* to look at what an input gives */
		fwrite(text, 1, len, stderr);
	if (!utf8_ok((const unsigned char *)text, len)) {
		fprintf(stderr, "exposition is not UTF-8\n");
		abort();
	}
	for (const char *p = text, *e; p < text + len; p = e + 1) {
		if (!(e = memchr(p, '\n', (size_t)(text + len - p)))) {
			fprintf(stderr, "exposition does not end with a newline\n");
			abort();
		}
		if (!strncmp(p, "# HELP ", 7) || !strncmp(p, "# TYPE ", 7))
			continue;
		if (!sample_ok(p, e)) {
			fprintf(stderr, "malformed exposition line: '%.*s'\n", (int)(e - p), p);
			abort();
		}
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	tpa_reg = metrics_new();
	struct cmetrics *cm = cmetrics_new(&tpa_api, NULL);
	if (!tpa_reg || !cm)
		abort();
	while (p < end) {
		const uint8_t *sep = p;
		while (sep + 1 < end && !(sep[0] == 0xff && sep[1] == 0xfe))
			sep++;
		if (sep + 1 >= end)
			sep = end;
		if (sep > p) {
			int which = p[0] & 7;
			size_t n = (size_t)(sep - p - 1);
			char *v = malloc(n ? n : 1);
			if (!v)
				abort();
			memcpy(v, p + 1, n);
			parsers(which < 6 ? which : 6, v, n);
			struct mpci_view_result r = {
				.struct_size = sizeof(r), .method = cmetrics_views[which % 6],
				.ok = which != 7, .value = v, .value_len = n,
				.error = which == 7 ? "HANDLER_ERROR: wasm execution failed" : NULL,
				.block_height = 1000 + (uint64_t)(p - data),
			};
			if (which == 6) {
				const struct contract_state *s = cmetrics_state(cm);
				const char *who = s && s->phase >= 0 && s->n_participants ?
						  s->participants[0].account : "alice.near";
				cmetrics_attestation(cm, who, &r);
			} else {
				cmetrics_view(cm, &r);
			}
			free(v);
		}
		p = sep < end ? sep + 2 : end;
	}
	check_exposition();
	cmetrics_free(cm);
	metrics_free(tpa_reg);
	tpa_reg = NULL;
	return 0;
}
