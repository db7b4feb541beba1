/* tee-attester: the dstack agent's Info and GetQuote answers.  The real
 * tcb_info comes out exactly as the contract's TcbInfo; anything malformed,
 * oversized or of the wrong shape is refused with a message naming it. */
#include "test_tee_util.h"

#include "dstack.h"
#include "quote.h"

static void refused(const char *body, const char *expect, const char *what)
{
	char err[512] = "";
	cJSON *t = tee_dstack_info_parse(body, strlen(body), err, sizeof(err));
	ok(!t && strstr(err, expect), "%s: refused (%s)", what, err);
	cJSON_Delete(t);
}

/* The fixture Info answer with one tcb_info member replaced (raw JSON). */
static char *info_with(const char *member, const char *raw_value)
{
	cJSON *tcb = tee_fixture_json("tcb_info.json"), *info = cJSON_CreateObject();
	if (raw_value)
		cJSON_ReplaceItemInObject(tcb, member, cJSON_Parse(raw_value));
	else
		cJSON_DeleteItemFromObject(tcb, member);
	char *text = cJSON_PrintUnformatted(tcb);
	cJSON_AddStringToObject(info, "tcb_info", text);
	char *body = cJSON_PrintUnformatted(info);
	free(text);
	cJSON_Delete(tcb);
	cJSON_Delete(info);
	return body;
}

static void test_info(void)
{
	char *body = tee_info_body(), err[512] = "";
	cJSON *want = tee_fixture_json("tcb_info.json");
	cJSON *got = tee_dstack_info_parse(body, strlen(body), err, sizeof(err));

	ok(got != NULL, "the fixture Info answer parses %s", err);
	ok(cJSON_Compare(got, want, 1), "tcb_info equals the fixture's, as JSON");
	free(body);

	/* newer agents add fields: only the contract's are kept */
	cJSON *tcb = tee_fixture_json("tcb_info.json"), *info = cJSON_CreateObject();
	cJSON_AddStringToObject(tcb, "mr_aggregated", "00");
	cJSON_AddStringToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(tcb, "event_log"), 0),
				"preimage", "abc");
	char *text = cJSON_PrintUnformatted(tcb);
	cJSON_AddStringToObject(info, "tcb_info", text);
	body = cJSON_PrintUnformatted(info);
	cJSON *got2 = tee_dstack_info_parse(body, strlen(body), err, sizeof(err));
	ok(got2 && cJSON_Compare(got2, want, 1), "extra fields of a newer agent are dropped");
	cJSON_Delete(got2);
	free(text);
	free(body);
	cJSON_Delete(tcb);
	cJSON_Delete(info);
	cJSON_Delete(got);
	cJSON_Delete(want);

	refused("<html>502</html>", "not a JSON object", "an HTML page");
	refused("{\"tcb_info\":{}}", "no tcb_info string", "tcb_info as an object, not text");
	refused("{\"tcb_info\":\"[1,2]\"}", "not the text of a JSON object", "tcb_info text of an array");

	static const struct { const char *member, *value, *expect, *what; } cases[] = {
		{ "mrtd", "\"abcd\"", "mrtd is not hex of that length", "a short MRTD" },
		{ "rtmr3", NULL, "rtmr3 is missing", "no RTMR3" },
		{ "rtmr1", "5", "rtmr1 is missing or not a string", "RTMR1 as a number" },
		{ "compose_hash", "\"zz11d\"", "compose_hash", "compose_hash not hex" },
		{ "app_compose", "7", "app_compose is missing", "app_compose not a string" },
		{ "event_log", "{}", "event_log is not an array", "event_log as an object" },
		{ "event_log", "[5]", "event_log[0] is not an object", "an event that is a number" },
		{ "event_log", "[{\"imr\":4,\"event_type\":1,\"digest\":\"00\",\"event\":\"\","
		  "\"event_payload\":\"\"}]", "imr or event_type", "imr 4" },
		{ "event_log", "[{\"imr\":3,\"event_type\":-1,\"digest\":\"00\",\"event\":\"\","
		  "\"event_payload\":\"\"}]", "imr or event_type", "a negative event_type" },
		{ "event_log", "[{\"imr\":3,\"event_type\":1.5,\"digest\":\"00\",\"event\":\"\","
		  "\"event_payload\":\"\"}]", "imr or event_type", "a fractional event_type" },
		{ "event_log", "[{\"imr\":3,\"event_type\":1,\"digest\":\"00\",\"event\":\"\","
		  "\"event_payload\":\"\"}]", "event_log[0].digest", "a digest that is not 48 bytes" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		body = info_with(cases[i].member, cases[i].value);
		refused(body, cases[i].expect, cases[i].what);
		free(body);
	}

	/* 4097 events */
	size_t cap = 4200 * 200;
	char *log = malloc(cap), *p = log;
	p += sprintf(p, "[");
	for (int i = 0; i < 4097; i++)
		p += sprintf(p, "%s{\"imr\":3,\"event_type\":1,\"digest\":\"%096d\",\"event\":\"e\","
			     "\"event_payload\":\"\"}", i ? "," : "", 0);
	sprintf(p, "]");
	body = info_with("event_log", log);
	refused(body, "at most 4096 events", "an event log of 4097 events");
	free(body);
	free(log);

	char *big = malloc(TEE_DSTACK_INFO_MAX + 2);
	memset(big, ' ', TEE_DSTACK_INFO_MAX + 1);
	big[TEE_DSTACK_INFO_MAX + 1] = 0;
	refused(big, "over the", "an answer over the size limit");
	free(big);
}

static void test_quote(void)
{
	size_t n, qlen;
	uint8_t *q = tee_fixture_quote(&n), *got = NULL;
	char *body = tee_quote_body(q, n), err[512] = "";

	is_int(tee_dstack_quote_parse(body, strlen(body), &got, &qlen, err, sizeof(err)), 0,
	       "the GetQuote answer parses");
	ok(qlen == n && memcmp(got, q, n) == 0, "to the quote's bytes, padding included");
	free(got);
	free(body);

	static const struct { const char *body, *expect, *what; } bad[] = {
		{ "garbage", "not a JSON object", "garbage" },
		{ "{\"error\":\"tdx guest device missing\"}", "no quote string", "an error object" },
		{ "{\"quote\":\"abc\"}", "even count", "an odd number of hex digits" },
		{ "{\"quote\":\"\"}", "even count", "an empty quote" },
		{ "{\"quote\":\"zz00\"}", "not hex", "a quote that is not hex" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		got = (uint8_t *)"x";
		int rc = tee_dstack_quote_parse(bad[i].body, strlen(bad[i].body), &got, &qlen, err,
						sizeof(err));
		ok(rc < 0 && !got && strstr(err, bad[i].expect), "%s: refused (%s)", bad[i].what, err);
	}
	size_t hn = 2 * (TEE_QUOTE_MAX + 1);
	char *hb = malloc(hn + 20);
	sprintf(hb, "{\"quote\":\"");
	memset(hb + 10, '0', hn);
	strcpy(hb + 10 + hn, "\"}");
	ok(tee_dstack_quote_parse(hb, strlen(hb), &got, &qlen, err, sizeof(err)) < 0 &&
	   strstr(err, "at most"), "a quote over 64 KiB: refused (%s)", err);
	free(hb);

	char text[256];
	const char *e = "{\"error\":\"failed to get quote: device busy\"}";
	tee_dstack_error_text(e, strlen(e), text, sizeof(text));
	is_str(text, "failed to get quote: device busy", "the agent's error text is kept");
	tee_dstack_error_text("<html>", 6, text, sizeof(text));
	is_str(text, "", "and is empty for a body without one");

	uint8_t rd[64];
	for (int i = 0; i < 64; i++)
		rd[i] = (uint8_t)i;
	char *req = tee_dstack_quote_request(rd);
	cJSON *j = cJSON_Parse(req);
	const char *hex = tee_str(j, "report_data");
	ok(strlen(hex) == 128 && strncmp(hex, "000102", 6) == 0 && strcmp(hex + 124, "3e3f") == 0,
	   "GetQuote asks for the 64 bytes as hex");
	cJSON_Delete(j);
	free(req);
	free(q);
}

int main(void)
{
	test_info();
	test_quote();
	return done_testing();
}
