/* tee-attester: report_data v1 and the key encodings it is built from,
 * against the vector derived from the real quote. */
#include "test_tee_util.h"

#include "codec.h"
#include "report_data.h"

static void test_vector(void)
{
	cJSON *v = tee_fixture_json("report_data_v1_vector.json");
	uint8_t tls[32], acct[32], rd[64];
	char hex[129];

	is_int(tee_ed25519_parse(tee_str(v, "tls_public_key"), tls), 0, "the TLS key parses");
	tee_hex_encode(tls, 32, hex);
	is_str(hex, tee_str(v, "tls_public_key_hex"), "to the bytes of the vector");
	is_int(tee_ed25519_parse(tee_str(v, "account_public_key"), acct), 0, "the signer key parses");
	tee_hex_encode(acct, 32, hex);
	is_str(hex, tee_str(v, "account_public_key_hex"), "to the bytes of the vector");

	is_int(tee_report_data_v1(tls, acct, rd), 0, "report_data v1 computes");
	tee_hex_encode(rd, 64, hex);
	is_str(hex, tee_str(v, "report_data_hex"), "report_data equals the vector");

	size_t qlen;
	uint8_t *q = tee_fixture_quote(&qlen);
	int off = cJSON_GetObjectItem(v, "quote_report_data_offset")->valueint;
	ok(qlen >= (size_t)off + 64 && memcmp(q + off, rd, 64) == 0,
	   "and the real quote carries it at offset %d", off);

	tee_report_data_v1(acct, tls, rd);
	tee_hex_encode(rd, 64, hex);
	ok(strcmp(hex, tee_str(v, "report_data_hex")) != 0, "the key order matters");
	free(q);
	cJSON_Delete(v);
}

static void test_key_parsing(void)
{
	uint8_t k[32];
	ok(tee_ed25519_parse("ed25519:3FwWphCj47PA3D8ErKeVNzqn2ckAKrfuixrvvfGrDxU", k) < 0,
	   "a key one character short is refused");
	ok(tee_ed25519_parse("ed25519:3FwWphCj47PA3D8ErKeVNzqn2ckAKrfuixrvvfGrDxUxx", k) < 0,
	   "a key one character long is refused");
	ok(tee_ed25519_parse("ed25519:3FwWphCj47PA3D8ErKeVNzqn2ckAKrfuixrvvfGrDxU0", k) < 0,
	   "a character outside base58 is refused");
	ok(tee_ed25519_parse("secp256k1:3FwWphCj47PA3D8ErKeVNzqn2ckAKrfuixrvvfGrDxUx", k) < 0,
	   "another curve is refused");
	ok(tee_ed25519_parse("ed25519:", k) < 0 && tee_ed25519_parse(NULL, k) < 0,
	   "empty and NULL are refused");
	is_int(tee_ed25519_parse("ed25519:11111111111111111111111111111111", k), 0,
	       "the all-zero key parses");
	ok(k[0] == 0 && k[31] == 0, "to zeros");

	char *d = tee_url_decode("a%2Fb%0A-+", 10);
	is_str(d, "a/b\n-+", "percent-decoding");
	free(d);
	ok(tee_url_decode("a%2", 3) == NULL, "a cut escape is refused");
	ok(tee_url_decode("a%zz", 4) == NULL, "a non-hex escape is refused");
	ok(tee_url_decode("a%00b", 5) == NULL, "an encoded NUL is refused");
	ok(tee_hex_valid("00aBff", 6, 6) && !tee_hex_valid("00aBf", 0, 6) &&
	   !tee_hex_valid("00aBfg", 0, 6) && !tee_hex_valid("00aBff00", 0, 6) &&
	   tee_hex_valid("", 0, 6), "hex shape checks");
}

int main(void)
{
	test_vector();
	test_key_parsing();
	return done_testing();
}
