/* dstack guest agent answers: everything from the agent is checked for type,
 * size and hex shape before the attester uses it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "dstack.h"
#include "quote.h"

#define MEASUREMENT_HEX 96            /* 48-byte registers */
#define APP_COMPOSE_MAX (256u << 10)
#define EVENTS_MAX 4096
#define EVENT_NAME_MAX 1024
#define EVENT_PAYLOAD_HEX_MAX (128u << 10)

char *tee_dstack_quote_request(const uint8_t report_data[64])
{
	char hex[129], *body = malloc(160);
	if (body) {
		tee_hex_encode(report_data, 64, hex);
		snprintf(body, 160, "{\"report_data\":\"%s\"}", hex);
	}
	return body;
}

static const char *str_member(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A u32 held exactly in a JSON number. */
static int u32_member(const cJSON *o, const char *k, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 4294967295.0 ||
	    v->valuedouble != (double)(uint32_t)v->valuedouble)
		return -1;
	*out = v->valuedouble;
	return 0;
}

/* Copy the string member `k` into `to` after checking it is hex of
 * min..max characters (min 0 allows ""). */
static int copy_hex(cJSON *to, const cJSON *from, const char *k, size_t min,
		    size_t max, const char *where, char *err, size_t errsz)
{
	const char *s = str_member(from, k);
	if (!s || !tee_hex_valid(s, min, max)) {
		char want[48];
		if (min == max)
			snprintf(want, sizeof(want), "%zu", min);
		else
			snprintf(want, sizeof(want), "%zu to %zu", min, max);
		snprintf(err, errsz, "dstack Info: %s%s is %s; want %s hex characters", where, k,
			 s ? "not hex of that length" : "missing or not a string", want);
		return -1;
	}
	if (!cJSON_AddStringToObject(to, k, s)) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	return 0;
}

static cJSON *event_copy(const cJSON *e, size_t i, char *err, size_t errsz)
{
	char where[48];
	double imr, type;
	cJSON *out = cJSON_CreateObject();
	const char *name = str_member(e, "event");

	snprintf(where, sizeof(where), "event_log[%zu].", i);
	if (!out)
		goto nomem;
	if (!cJSON_IsObject(e)) {
		snprintf(err, errsz, "dstack Info: event_log[%zu] is not an object", i);
		goto fail;
	}
	if (u32_member(e, "imr", &imr) < 0 || imr > 3 || u32_member(e, "event_type", &type) < 0) {
		snprintf(err, errsz, "dstack Info: %simr or event_type is not a u32 (imr 0..3)", where);
		goto fail;
	}
	if (!cJSON_AddNumberToObject(out, "imr", imr) ||
	    !cJSON_AddNumberToObject(out, "event_type", type))
		goto nomem;
	if (copy_hex(out, e, "digest", MEASUREMENT_HEX, MEASUREMENT_HEX, where, err, errsz) < 0)
		goto fail;
	if (!name || strlen(name) > EVENT_NAME_MAX) {
		snprintf(err, errsz, "dstack Info: %sevent is missing, not a string or over %d bytes",
			 where, EVENT_NAME_MAX);
		goto fail;
	}
	if (!cJSON_AddStringToObject(out, "event", name))
		goto nomem;
	if (copy_hex(out, e, "event_payload", 0, EVENT_PAYLOAD_HEX_MAX, where, err, errsz) < 0)
		goto fail;
	return out;
nomem:
	snprintf(err, errsz, "out of memory");
fail:
	cJSON_Delete(out);
	return NULL;
}

/* The contract's TcbInfo from dstack's tcb_info object. */
static cJSON *tcb_info_copy(const cJSON *t, char *err, size_t errsz)
{
	static const char *const regs[] = { "mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3" };
	cJSON *out = cJSON_CreateObject(), *events;
	const cJSON *log = cJSON_GetObjectItemCaseSensitive(t, "event_log");
	const char *compose = str_member(t, "app_compose");

	if (!out)
		goto nomem;
	for (size_t i = 0; i < 5; i++)
		if (copy_hex(out, t, regs[i], MEASUREMENT_HEX, MEASUREMENT_HEX, "tcb_info.",
			     err, errsz) < 0)
			goto fail;
	if (copy_hex(out, t, "os_image_hash", 0, 64, "tcb_info.", err, errsz) < 0 ||
	    copy_hex(out, t, "compose_hash", 64, 64, "tcb_info.", err, errsz) < 0 ||
	    copy_hex(out, t, "device_id", 0, 64, "tcb_info.", err, errsz) < 0)
		goto fail;
	if (!compose || strlen(compose) > APP_COMPOSE_MAX) {
		snprintf(err, errsz, "dstack Info: tcb_info.app_compose is missing, not a string "
			 "or over %u bytes", APP_COMPOSE_MAX);
		goto fail;
	}
	if (!cJSON_AddStringToObject(out, "app_compose", compose))
		goto nomem;
	if (!cJSON_IsArray(log) || cJSON_GetArraySize(log) > EVENTS_MAX) {
		snprintf(err, errsz, "dstack Info: tcb_info.event_log is not an array of at most %d events",
			 EVENTS_MAX);
		goto fail;
	}
	if (!(events = cJSON_AddArrayToObject(out, "event_log")))
		goto nomem;
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, log) {
		cJSON *c = event_copy(e, i++, err, errsz);
		if (!c)
			goto fail;
		cJSON_AddItemToArray(events, c);
	}
	return out;
nomem:
	snprintf(err, errsz, "out of memory");
fail:
	cJSON_Delete(out);
	return NULL;
}

cJSON *tee_dstack_info_parse(const char *body, size_t len, char *err, size_t errsz)
{
	cJSON *doc = NULL, *tcb = NULL, *out = NULL;
	const char *text;

	if (len > TEE_DSTACK_INFO_MAX) {
		snprintf(err, errsz, "dstack Info: answer of %zu bytes is over the %u limit",
			 len, TEE_DSTACK_INFO_MAX);
		return NULL;
	}
	doc = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(doc)) {
		snprintf(err, errsz, "dstack Info: the answer is not a JSON object");
		goto done;
	}
	if (!(text = str_member(doc, "tcb_info"))) {
		snprintf(err, errsz, "dstack Info: no tcb_info string in the answer");
		goto done;
	}
	tcb = cJSON_Parse(text);
	if (!cJSON_IsObject(tcb)) {
		snprintf(err, errsz, "dstack Info: tcb_info is not the text of a JSON object");
		goto done;
	}
	out = tcb_info_copy(tcb, err, errsz);
done:
	cJSON_Delete(tcb);
	cJSON_Delete(doc);
	return out;
}

int tee_dstack_quote_parse(const char *body, size_t len, uint8_t **quote,
			   size_t *quote_len, char *err, size_t errsz)
{
	cJSON *doc = NULL;
	const char *hex;
	int rc = -1;

	*quote = NULL;
	*quote_len = 0;
	if (len > TEE_DSTACK_QUOTE_MAX) {
		snprintf(err, errsz, "dstack GetQuote: answer of %zu bytes is over the %u limit",
			 len, TEE_DSTACK_QUOTE_MAX);
		return -1;
	}
	doc = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(doc)) {
		snprintf(err, errsz, "dstack GetQuote: the answer is not a JSON object");
		goto done;
	}
	if (!(hex = str_member(doc, "quote"))) {
		snprintf(err, errsz, "dstack GetQuote: no quote string in the answer");
		goto done;
	}
	size_t n = strlen(hex);
	if (n == 0 || n % 2 || n / 2 > TEE_QUOTE_MAX) {
		snprintf(err, errsz, "dstack GetQuote: quote of %zu hex characters (want an even "
			 "count, at most %d bytes)", n, TEE_QUOTE_MAX);
		goto done;
	}
	if (!(*quote = malloc(n / 2))) {
		snprintf(err, errsz, "out of memory");
		goto done;
	}
	if (tee_hex_decode(hex, n, *quote) < 0) {
		snprintf(err, errsz, "dstack GetQuote: quote is not hex");
		free(*quote);
		*quote = NULL;
		goto done;
	}
	*quote_len = n / 2;
	rc = 0;
done:
	cJSON_Delete(doc);
	return rc;
}

void tee_dstack_error_text(const char *body, size_t len, char *buf, size_t n)
{
	cJSON *doc = len <= 65536 ? cJSON_ParseWithLength(body, len) : NULL;
	const char *e = str_member(doc, "error");
	snprintf(buf, n, "%.200s", e ? e : "");
	cJSON_Delete(doc);
}
