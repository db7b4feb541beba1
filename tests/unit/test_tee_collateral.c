/* tee-attester: PCCS answers for the real collateral assemble into exactly
 * the fixture's Collateral; 404s, garbage, a foreign FMSPC, stale or future
 * dates and missing issuer chains are refused with their cause. */
#include "test_tee_util.h"

#include "collateral.h"
#include "json_span.h"

static struct tee_pccs_parts P;
static const struct tee_pck PCK = { "B0C06F000000", "platform" };
#define DAY 86400

static void answers(struct tee_pccs_answer a[TEE_PCCS_ITEMS])
{
	a[TEE_PCCS_PCK_CRL] = (struct tee_pccs_answer){ 200, NULL, (const char *)P.pck_crl,
							P.pck_crl_len, P.pck_crl_chain };
	a[TEE_PCCS_TCB_INFO] = (struct tee_pccs_answer){ 200, NULL, P.tcb_body,
							 strlen(P.tcb_body), P.tcb_chain };
	a[TEE_PCCS_QE_IDENTITY] = (struct tee_pccs_answer){ 200, NULL, P.qe_body,
							    strlen(P.qe_body), P.qe_chain };
	a[TEE_PCCS_ROOT_CA_CRL] = (struct tee_pccs_answer){ 200, NULL, P.root_body,
							    strlen(P.root_body), NULL };
}

static cJSON *build(struct tee_pccs_answer *a, time_t now, enum tee_cause *cause, char *err,
		    size_t n)
{
	struct tee_collateral_dates d;
	cJSON *coll = tee_fixture_json("collateral.json");
	const char *chain = tee_str(coll, "pck_certificate_chain");
	cJSON *out = tee_collateral_build(a, &PCK, chain, strlen(chain), now, 31.0 * DAY, &d,
					  cause, err, n);
	cJSON_Delete(coll);
	return out;
}

static void expect(struct tee_pccs_answer *a, time_t now, enum tee_cause want,
		   const char *needle, const char *what)
{
	enum tee_cause cause;
	char err[512] = "";
	cJSON *c = build(a, now, &cause, err, sizeof(err));
	ok(!c && cause == want && strstr(err, needle), "%s: %s (%s)", what,
	   tee_cause_name(want), err);
	if (c || cause != want)
		diag("got cause %s", tee_cause_name(cause));
	cJSON_Delete(c);
}

static void test_urls(void)
{
	static const char *const bases[] = { "https://pccs.phala.network",
		"https://pccs.phala.network/", "https://pccs.phala.network/sgx/certification/v4",
		"https://pccs.phala.network/tdx/certification/v4/" };
	static const char *const want[] = {
		"https://pccs.phala.network/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
		"https://pccs.phala.network/tdx/certification/v4/tcb?fmspc=B0C06F000000",
		"https://pccs.phala.network/tdx/certification/v4/qe/identity?update=standard",
		"https://pccs.phala.network/sgx/certification/v4/rootcacrl",
	};
	int all = 1;
	for (int b = 0; b < 4; b++)
		for (int i = 0; i < TEE_PCCS_ITEMS; i++) {
			char *u = tee_pccs_url(bases[b], i, &PCK);
			if (strcmp(u, want[i]) != 0) {
				all = 0;
				diag("%s -> %s", bases[b], u);
			}
			free(u);
		}
	ok(all, "the four PCCS URLs, whatever form the base URL takes");
}

static void test_real(void)
{
	struct tee_pccs_answer a[TEE_PCCS_ITEMS];
	struct tee_collateral_dates d;
	enum tee_cause cause;
	char err[512] = "";
	cJSON *want = tee_fixture_json("collateral.json");
	const char *chain = tee_str(want, "pck_certificate_chain");

	answers(a);
	cJSON *got = tee_collateral_build(a, &PCK, chain, strlen(chain), TEE_FIXTURE_NOW,
					  31.0 * DAY, &d, &cause, err, sizeof(err));
	ok(got != NULL, "the real PCCS answers assemble %s", err);
	ok(got && cJSON_Compare(got, want, 1), "into exactly the fixture's collateral");
	char *text = got ? cJSON_PrintUnformatted(got) : NULL;
	ok(text && strstr(text, "\"pck_crl_issuer_chain\":") == text + 1 &&
	   strstr(text, "\"pck_certificate_chain\":") > strstr(text, "\"qe_identity_signature\""),
	   "fields in the contract's order");
	free(text);
	is_int(d.tcb_info_issued, 1786617938, "TCB info issueDate 2026-08-13T10:45:38Z");
	ok(d.qe_identity_issued > 0 && d.pck_crl_this_update > 0, "QE identity and PCK CRL dates read");
	cJSON_Delete(got);

	/* the root CA CRL as DER instead of hex text is the same */
	size_t rlen;
	uint8_t *der = tee_unhex(P.root_body, &rlen);
	a[TEE_PCCS_ROOT_CA_CRL].body = (const char *)der;
	a[TEE_PCCS_ROOT_CA_CRL].body_len = rlen;
	got = tee_collateral_build(a, &PCK, chain, strlen(chain), TEE_FIXTURE_NOW, 31.0 * DAY, &d,
				   &cause, err, sizeof(err));
	ok(got && cJSON_Compare(got, want, 1), "a root CA CRL sent as DER gives the same");
	cJSON_Delete(got);
	free(der);
	cJSON_Delete(want);
}

static void test_refused(void)
{
	struct tee_pccs_answer a[TEE_PCCS_ITEMS];

	answers(a);
	a[TEE_PCCS_TCB_INFO].status = 404;
	expect(a, TEE_FIXTURE_NOW, TEE_PCCS_HTTP, "TCB info: HTTP status 404", "a 404 for the TCB info");
	answers(a);
	a[TEE_PCCS_PCK_CRL] = (struct tee_pccs_answer){ 0, "Connection refused", "", 0, NULL };
	expect(a, TEE_FIXTURE_NOW, TEE_PCCS_UNREACHABLE, "Connection refused", "no answer");

	answers(a);
	a[TEE_PCCS_PCK_CRL].body = "not a crl";
	a[TEE_PCCS_PCK_CRL].body_len = 9;
	expect(a, TEE_FIXTURE_NOW, TEE_PCCS_MALFORMED, "PCK CRL: the body is not a CRL", "a PCK CRL that is not one");
	answers(a);
	a[TEE_PCCS_TCB_INFO].body = "{\"tcbInfo\":[1],\"signature\":\"00\"}";
	a[TEE_PCCS_TCB_INFO].body_len = strlen(a[TEE_PCCS_TCB_INFO].body);
	expect(a, TEE_FIXTURE_NOW, TEE_PCCS_MALFORMED, "object tcbInfo", "tcbInfo not an object");
	answers(a);
	a[TEE_PCCS_QE_IDENTITY].body = "<html>";
	a[TEE_PCCS_QE_IDENTITY].body_len = 6;
	expect(a, TEE_FIXTURE_NOW, TEE_PCCS_MALFORMED, "QE identity", "an HTML QE identity");

	char *foreign = strdup(P.tcb_body);
	memcpy(strstr(foreign, "B0C06F000000"), "00606A000000", 12);
	answers(a);
	a[TEE_PCCS_TCB_INFO].body = foreign;
	expect(a, TEE_FIXTURE_NOW, TEE_PCCS_MALFORMED, "another FMSPC", "TCB info for another FMSPC");
	free(foreign);

	char *badsig = strdup(P.tcb_body);
	char *s = strstr(badsig, "\"signature\":\"") + 13;
	s[5] = 'x';
	answers(a);
	a[TEE_PCCS_TCB_INFO].body = badsig;
	expect(a, TEE_FIXTURE_NOW, TEE_PCCS_MALFORMED, "signature", "a signature that is not hex");
	free(badsig);

	answers(a);
	a[TEE_PCCS_ROOT_CA_CRL].body = "3082";
	a[TEE_PCCS_ROOT_CA_CRL].body_len = 4;
	expect(a, TEE_FIXTURE_NOW, TEE_PCCS_MALFORMED, "root CA CRL", "a cut root CA CRL");

	answers(a);
	expect(a, TEE_FIXTURE_NOW + 40 * DAY, TEE_COLLATERAL_STALE, "days old",
	       "collateral 40 days later");
	expect(a, TEE_FIXTURE_NOW - 2 * DAY, TEE_COLLATERAL_STALE, "in the future",
	       "collateral dated after our clock");
	struct tee_collateral_dates d;
	enum tee_cause cause;
	char err[512];
	cJSON *coll = tee_fixture_json("collateral.json");
	const char *chain = tee_str(coll, "pck_certificate_chain");
	cJSON *ok100 = tee_collateral_build(a, &PCK, chain, strlen(chain), TEE_FIXTURE_NOW + 40 * DAY,
					    100.0 * DAY, &d, &cause, err, sizeof(err));
	ok(ok100 != NULL, "the same collateral with collateral_max_age 100 days is fine");
	cJSON_Delete(ok100);
	cJSON_Delete(coll);

	/* a PCCS (or an ABI 1.0 host) that gives no issuer-chain headers */
	answers(a);
	for (int i = 0; i < TEE_PCCS_ITEMS; i++)
		a[i].issuer_chain = NULL;
	expect(a, TEE_FIXTURE_NOW, TEE_PCCS_ISSUER_CHAIN, "no issuer-chain header",
	       "answers without issuer-chain headers");
	expect(a, TEE_FIXTURE_NOW + 40 * DAY, TEE_COLLATERAL_STALE, "days old",
	       "staleness is found before the missing headers");
	answers(a);
	a[TEE_PCCS_QE_IDENTITY].issuer_chain = "%ZZ";
	expect(a, TEE_FIXTURE_NOW, TEE_PCCS_ISSUER_CHAIN, "not URL-encoded PEM", "a garbled issuer chain");
}

static void test_span(void)
{
	const char *j = " { \"a\" : \"x}\\\"{\" , \"tcbInfo\": {\"b\":[1,{\"c\":\"]\"}],\"d\":-1.5e3} ,\"z\":true}";
	size_t s, n;
	ok(tee_json_span(j, strlen(j), "tcbInfo", &s, &n) == 0 &&
	   n == strlen("{\"b\":[1,{\"c\":\"]\"}],\"d\":-1.5e3}") &&
	   strncmp(j + s, "{\"b\":[1,{\"c\":\"]\"}],\"d\":-1.5e3}", n) == 0,
	   "the exact text of an object member, past strings holding braces");
	ok(tee_json_span(j, strlen(j), "a", &s, &n) == 0 && n == 7, "a string member, quotes included");
	ok(tee_json_span(j, strlen(j), "z", &s, &n) == 0 && n == 4, "a literal at the end");
	ok(tee_json_span(j, strlen(j), "c", &s, &n) < 0, "a nested key is not a top-level member");
	ok(tee_json_span("[1]", 3, "a", &s, &n) < 0, "not an object");
}

int main(void)
{
	tee_pccs_parts_load(&P);
	test_urls();
	test_real();
	test_refused();
	test_span();
	tee_pccs_parts_free(&P);
	return done_testing();
}
