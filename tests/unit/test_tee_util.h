/* Shared by the tee-attester tests: the real fixtures (tests/fixtures/tee/)
 * and the answers a dstack agent and a PCCS give for them. */
#ifndef TEST_TEE_UTIL_H
#define TEST_TEE_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../tap.h"

static inline const char *tee_fixture(const char *name)
{
	static char path[4096];
	const char *top = getenv("top_srcdir");
	snprintf(path, sizeof(path), "%s/tests/fixtures/tee/%s", top ? top : ".", name);
	return path;
}

/* The whole file, NUL-terminated; bails out when it cannot be read. */
static inline char *tee_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n)
		bail_out("cannot read %s (is top_srcdir set?)", path);
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = (size_t)n;
	return buf;
}

static inline cJSON *tee_fixture_json(const char *name)
{
	char *text = tee_slurp(tee_fixture(name), NULL);
	cJSON *j = cJSON_Parse(text);
	free(text);
	if (!j)
		bail_out("%s is not JSON", name);
	return j;
}

static inline const char *tee_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsString(v))
		bail_out("fixture member %s is not a string", k);
	return v->valuestring;
}

/* The real quote (quote.json is a JSON array of bytes). */
static inline uint8_t *tee_fixture_quote(size_t *len)
{
	cJSON *arr = tee_fixture_json("quote.json"), *b;
	uint8_t *q = malloc((size_t)cJSON_GetArraySize(arr));
	size_t n = 0;
	cJSON_ArrayForEach(b, arr)
		q[n++] = (uint8_t)b->valueint;
	cJSON_Delete(arr);
	*len = n;
	return q;
}

static inline char *tee_hexdup(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	s[2 * n] = 0;
	return s;
}

static inline uint8_t *tee_unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *out = malloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	*len = n;
	return out;
}

/* Percent-encoding as a PCCS sends the issuer-chain headers. */
static inline char *tee_urlencode(const char *s)
{
	char *out = malloc(3 * strlen(s) + 1), *o = out;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			*o++ = (char)c;
		else
			o += sprintf(o, "%%%02X", c);
	}
	*o = 0;
	return out;
}

/* What a PCCS serves for the fixture collateral. */
struct tee_pccs_parts {
	uint8_t *pck_crl;        /* DER body */
	size_t pck_crl_len;
	char *tcb_body;          /* {"tcbInfo":...,"signature":"..."} */
	char *qe_body;           /* {"enclaveIdentity":...,"signature":"..."} */
	char *root_body;         /* hex text */
	char *pck_crl_chain;     /* URL-encoded issuer chains */
	char *tcb_chain;
	char *qe_chain;
};

static inline void tee_pccs_parts_load(struct tee_pccs_parts *p)
{
	cJSON *c = tee_fixture_json("collateral.json");
	size_t n;
	p->pck_crl = tee_unhex(tee_str(c, "pck_crl"), &p->pck_crl_len);
	n = strlen(tee_str(c, "tcb_info")) + 200;
	p->tcb_body = malloc(n);
	snprintf(p->tcb_body, n, "{\"tcbInfo\":%s,\"signature\":\"%s\"}", tee_str(c, "tcb_info"),
		 tee_str(c, "tcb_info_signature"));
	n = strlen(tee_str(c, "qe_identity")) + 200;
	p->qe_body = malloc(n);
	snprintf(p->qe_body, n, "{\"enclaveIdentity\":%s,\"signature\":\"%s\"}",
		 tee_str(c, "qe_identity"), tee_str(c, "qe_identity_signature"));
	p->root_body = strdup(tee_str(c, "root_ca_crl"));
	p->pck_crl_chain = tee_urlencode(tee_str(c, "pck_crl_issuer_chain"));
	p->tcb_chain = tee_urlencode(tee_str(c, "tcb_info_issuer_chain"));
	p->qe_chain = tee_urlencode(tee_str(c, "qe_identity_issuer_chain"));
	cJSON_Delete(c);
}

static inline void tee_pccs_parts_free(struct tee_pccs_parts *p)
{
	free(p->pck_crl);
	free(p->tcb_body);
	free(p->qe_body);
	free(p->root_body);
	free(p->pck_crl_chain);
	free(p->tcb_chain);
	free(p->qe_chain);
}

/* The dstack agent's Info answer for the fixture: tcb_info as JSON text. */
static inline char *tee_info_body(void)
{
	cJSON *tcb = tee_fixture_json("tcb_info.json"), *info = cJSON_CreateObject();
	char *text = cJSON_PrintUnformatted(tcb);
	cJSON_AddStringToObject(info, "app_id", "2911e1f733466216dedb862d6d669e11256ee7a3");
	cJSON_AddStringToObject(info, "instance_id", "");
	cJSON_AddStringToObject(info, "tcb_info", text);
	cJSON_AddStringToObject(info, "app_name", "mpc-node");
	char *body = cJSON_PrintUnformatted(info);
	free(text);
	cJSON_Delete(tcb);
	cJSON_Delete(info);
	return body;
}

/* The agent's GetQuote answer carrying these quote bytes. */
static inline char *tee_quote_body(const uint8_t *q, size_t n)
{
	char *hex = tee_hexdup(q, n), *rd = tee_hexdup(q + 568, 64);
	size_t len = strlen(hex) + 300;
	char *body = malloc(len);
	snprintf(body, len, "{\"quote\":\"%s\",\"event_log\":\"[]\",\"report_data\":\"%s\","
		 "\"vm_config\":\"{}\"}", hex, rd);
	free(hex);
	free(rd);
	return body;
}

/* 2026-08-13, when the fixture collateral was fresh */
#define TEE_FIXTURE_NOW 1786622400

#endif
