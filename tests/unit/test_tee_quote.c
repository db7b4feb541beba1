/* tee-attester: the real TDX quote is read (measurements, report_data, PCK
 * chain, FMSPC, CA type), and every damaged quote is refused with a message
 * instead of being read out of bounds. */
#include "test_tee_util.h"

#include "codec.h"
#include "pck.h"
#include "quote.h"

#define SIGNED_END (48 + 584 + 4 + 4300) /* the fixture's header, body, signature data */

static void test_real_quote(void)
{
	size_t n;
	uint8_t *q = tee_fixture_quote(&n);
	cJSON *coll = tee_fixture_json("collateral.json"), *tcb = tee_fixture_json("tcb_info.json");
	struct tee_quote tq;
	char err[256] = "", hex[97];

	is_int(tee_quote_parse(q, n, &tq, err, sizeof(err)), 0, "the real quote parses");
	if (*err)
		diag("%s", err);
	is_int(tq.version, 4, "version 4");
	is_int(tq.tee_type, 0x81, "TDX");
	ok(tq.report_data == q + 568, "report_data sits at offset 568");
	tee_hex_encode(tq.mrtd, 48, hex);
	is_str(hex, tee_str(tcb, "mrtd"), "MRTD equals tcb_info's");
	for (int i = 0; i < 4; i++) {
		char k[8];
		snprintf(k, sizeof(k), "rtmr%d", i);
		tee_hex_encode(tq.rtmr[i], 48, hex);
		is_str(hex, tee_str(tcb, k), "%s equals tcb_info's", k);
	}
	const char *want = tee_str(coll, "pck_certificate_chain");
	ok(tq.pck_chain_len == strlen(want) && memcmp(tq.pck_chain, want, strlen(want)) == 0,
	   "the PCK chain is the collateral's pck_certificate_chain (trailing NUL stripped)");

	struct tee_pck pck;
	is_int(tee_pck_read(tq.pck_chain, tq.pck_chain_len, &pck, err, sizeof(err)), 0,
	       "the PCK leaf is read");
	is_str(pck.fmspc, "B0C06F000000", "FMSPC from the SGX extension, upper-case hex");
	is_str(pck.ca, "platform", "CA type from the issuer");

	/* cut anywhere inside the signed part: refused, never read past the end */
	int cut_refused = 1, pad_ok = 1;
	for (size_t k = 0; k < n; k++) {
		int rc = tee_quote_parse(q, k, &tq, err, sizeof(err));
		if (k < SIGNED_END && rc == 0)
			cut_refused = 0;
		if (k >= SIGNED_END && rc != 0)
			pad_ok = 0;
	}
	ok(cut_refused, "every quote cut inside its signed data is refused");
	ok(pad_ok, "cutting only the trailing zero padding is fine");
	tee_quote_parse(q, 600, &tq, err, sizeof(err));
	ok(strstr(err, "truncated") && strstr(err, "TD report body"), "the message says what is cut: %s", err);

	free(q);
	cJSON_Delete(coll);
	cJSON_Delete(tcb);
}

static void damaged(const char *what, size_t off, const uint8_t *patch, size_t plen,
		    const char *expect)
{
	size_t n;
	uint8_t *q = tee_fixture_quote(&n);
	struct tee_quote tq;
	char err[256] = "";
	memcpy(q + off, patch, plen);
	int rc = tee_quote_parse(q, n, &tq, err, sizeof(err));
	ok(rc < 0 && strstr(err, expect), "%s: refused (%s)", what, err);
	free(q);
}

static void test_damaged(void)
{
	static const uint8_t v3[] = { 3, 0 }, sgx[] = { 0, 0, 0, 0 }, big[] = { 0xff, 0xff, 0xff, 0x7f };
	static const uint8_t type7[] = { 7, 0 }, auth[] = { 0xff, 0xff };
	damaged("version 3", 0, v3, 2, "version 3");
	damaged("an SGX quote", 4, sgx, 4, "not TDX");
	damaged("a signature length past the end", 632, big, 4, "truncated");
	damaged("an unknown certification data type", 632 + 4 + 128, type7, 2, "type 7");
	damaged("a certification size past the end", 632 + 4 + 128 + 2, big, 4, "truncated");
	damaged("a QE auth size past the end", 632 + 4 + 128 + 6 + 384 + 64, auth, 2, "QE auth");

	uint8_t *huge = calloc(1, TEE_QUOTE_MAX + 1);
	struct tee_quote tq;
	char err[256];
	ok(tee_quote_parse(huge, TEE_QUOTE_MAX + 1, &tq, err, sizeof(err)) < 0 &&
	   strstr(err, "allowed"), "an oversized quote is refused: %s", err);
	free(huge);

	struct tee_pck pck;
	ok(tee_pck_read("garbage", 7, &pck, err, sizeof(err)) < 0 && strstr(err, "PEM"),
	   "a PCK chain that is not PEM: %s", err);
	cJSON *coll = tee_fixture_json("collateral.json");
	const char *root = tee_str(coll, "pck_crl_issuer_chain");
	ok(tee_pck_read(root, strlen(root), &pck, err, sizeof(err)) < 0 && strstr(err, "SGX extension"),
	   "a certificate that is not a PCK certificate: %s", err);
	cJSON_Delete(coll);
}

int main(void)
{
	test_real_quote();
	test_damaged();
	return done_testing();
}
