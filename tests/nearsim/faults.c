/* faults: per endpoint kind (rpc, neardata) latency, error classes drawn with fixed rates
 * from a seeded PRNG, and a lagging-node offset; set from flags or /admin/faults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nearsim.h"

static const char *const fnames[F_COUNT] = { "5xx", "429", "timeout", "reset", "truncate", "invalid_json" };
static const char *const knames[KIND_COUNT] = { "rpc", "neardata" };

const char *fclass_name(int f) { return f >= 0 && f < F_COUNT ? fnames[f] : "none"; }
const char *kind_name(int k) { return k >= 0 && k < KIND_COUNT ? knames[k] : "admin"; }

void faults_init(struct ns_faults *f, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->rng = seed ^ 0x6661756c7473ULL;
	f->hang_ms = 30000;
}

static int kind_range(const char *k, int *lo, int *hi)
{
	if (!k || !strcmp(k, "all")) {
		*lo = 0;
		*hi = KIND_COUNT - 1;
		return 0;
	}
	for (*lo = 0; *lo < KIND_COUNT; (*lo)++)
		if (!strcmp(k, knames[*lo])) {
			*hi = *lo;
			return 0;
		}
	return -1;
}

static int set_one(struct ns_faults *f, int lo, int hi, const char *name, double v, char *err, size_t errlen)
{
	int k, c;

	if (!strcmp(name, "latency_ms") || !strcmp(name, "latency")) {
		if (v < 0 || v > 600000)
			goto range;
		for (k = lo; k <= hi; k++)
			f->latency_ms[k] = (unsigned)v;
		return 0;
	}
	if (!strcmp(name, "lag_blocks") || !strcmp(name, "lag")) {
		if (v < 0 || v > 1e9)
			goto range;
		for (k = lo; k <= hi; k++)
			f->lag_blocks[k] = (uint64_t)v;
		return 0;
	}
	if (!strcmp(name, "hang_ms")) {
		if (v < 0 || v > 600000)
			goto range;
		f->hang_ms = (unsigned)v;
		return 0;
	}
	for (c = 0; c < F_COUNT; c++) {
		if (strcmp(name, fnames[c]))
			continue;
		if (v < 0 || v > 1)
			goto range;
		for (k = lo; k <= hi; k++)
			f->rate[k][c] = v;
		return 0;
	}
	snprintf(err, errlen, "unknown fault \"%s\" (latency_ms, lag_blocks, hang_ms, 5xx, 429, timeout, reset, truncate, invalid_json)", name);
	return -1;
range:
	snprintf(err, errlen, "fault \"%s\": value %g out of range (rates are 0..1)", name, v);
	return -1;
}

int faults_set_json(struct ns_faults *f, const char *json, size_t len, char *err, size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(json, len), *it;
	const cJSON *kind;
	int lo, hi, rc = 0;

	if (!root || !cJSON_IsObject(root)) {
		snprintf(err, errlen, "body must be a JSON object");
		cJSON_Delete(root);
		return -1;
	}
	kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
	if (kind_range(cJSON_IsString(kind) ? kind->valuestring : NULL, &lo, &hi)) {
		snprintf(err, errlen, "kind must be rpc, neardata or all");
		cJSON_Delete(root);
		return -1;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "clear"))) {
		int k;
		for (k = lo; k <= hi; k++) {
			f->latency_ms[k] = 0;
			f->lag_blocks[k] = 0;
			memset(f->rate[k], 0, sizeof(f->rate[k]));
		}
	}
	cJSON_ArrayForEach(it, root) {
		if (!strcmp(it->string, "kind") || !strcmp(it->string, "clear"))
			continue;
		if (!cJSON_IsNumber(it)) {
			snprintf(err, errlen, "fault \"%s\" must be a number", it->string);
			rc = -1;
			break;
		}
		if ((rc = set_one(f, lo, hi, it->string, it->valuedouble, err, errlen)))
			break;
	}
	cJSON_Delete(root);
	return rc;
}

/* "rpc:5xx=0.1,latency_ms=50" or "all:reset=1" */
int faults_set_spec(struct ns_faults *f, const char *spec, char *err, size_t errlen)
{
	char buf[512], *colon, *tok, *save = NULL;
	int lo, hi;

	snprintf(buf, sizeof(buf), "%s", spec);
	if (!(colon = strchr(buf, ':'))) {
		snprintf(err, errlen, "--fault wants KIND:NAME=VALUE[,NAME=VALUE]");
		return -1;
	}
	*colon = 0;
	if (kind_range(buf, &lo, &hi)) {
		snprintf(err, errlen, "--fault: kind must be rpc, neardata or all");
		return -1;
	}
	for (tok = strtok_r(colon + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '='), *end;
		double v;
		if (!eq) {
			snprintf(err, errlen, "--fault: \"%s\" is not NAME=VALUE", tok);
			return -1;
		}
		*eq = 0;
		v = strtod(eq + 1, &end);
		if (*end) {
			snprintf(err, errlen, "--fault: \"%s\" is not a number", eq + 1);
			return -1;
		}
		if (set_one(f, lo, hi, tok, v, err, errlen))
			return -1;
	}
	return 0;
}

void faults_render(const struct ns_faults *f, struct jw *w)
{
	int k, c;

	jw_obj(w);
	for (k = 0; k < KIND_COUNT; k++) {
		jw_key(w, knames[k]);
		jw_obj(w);
		jw_ku64(w, "latency_ms", f->latency_ms[k]);
		jw_ku64(w, "lag_blocks", f->lag_blocks[k]);
		for (c = 0; c < F_COUNT; c++) {
			jw_key(w, fnames[c]);
			jw_double(w, f->rate[k][c]);
		}
		jw_key(w, "injected");
		jw_obj(w);
		for (c = 0; c < F_COUNT; c++)
			jw_ku64(w, fnames[c], f->injected[k][c]);
		jw_end_obj(w);
		jw_end_obj(w);
	}
	jw_ku64(w, "hang_ms", f->hang_ms);
	jw_end_obj(w);
}

int faults_roll(struct ns_faults *f, int kind)
{
	int c;

	if (kind < 0 || kind >= KIND_COUNT)
		return F_COUNT;
	for (c = 0; c < F_COUNT; c++) {
		double r = f->rate[kind][c];
		if (r <= 0)
			continue;
		if (r >= 1 || rng_unit(&f->rng) < r) {
			f->injected[kind][c]++;
			return c;
		}
	}
	return F_COUNT;
}
