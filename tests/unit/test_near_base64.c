/* base64: RFC 4648 vectors, a NEAR signed tx (V5), strict rejection. */
#include "../tap.h"
#include "test_near_util.h"
#include "near/base64.h"

static const char *const rfc[][2] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

/* vectors.md V5: the 277 signed bytes and their base64. */
static const char v5_hex[] =
	"0e0000007369676e65722e746573746e6574000f56a5f028dfc089ec7c39c1183b321b4d8f89ba5bec9e"
	"1762803cc2491f6ef879df0d864870000010000000636f6e74726163742e746573746e65740fa473fd26"
	"901df296be6adc4cc4df34d040efa2435224b6986910e630c2fef60100000002040000007369676e3c00"
	"00007b2272657175657374223a7b227061796c6f6164223a2268656c6c6f222c2270617468223a226d2f"
	"30222c226b65795f76657273696f6e223a307d7d00e057eb481b00000100000000000000000000000000"
	"000000b6ee891d7b023a07b9a1c7120c195f6d0a5275db5b69ed1a033ca57dbe17630b5241afbcc09209"
	"193aefb290941b6d173bacc4edc1e4be2225c68411f455f109";
static const char v5_b64[] =
	"DgAAAHNpZ25lci50ZXN0bmV0AA9WpfAo38CJ7Hw5wRg7MhtNj4m6W+yeF2KAPMJJH274ed8NhkhwAAAQAAAA"
	"Y29udHJhY3QudGVzdG5ldA+kc/0mkB3ylr5q3EzE3zTQQO+iQ1IktphpEOYwwv72AQAAAAIEAAAAc2lnbjwA"
	"AAB7InJlcXVlc3QiOnsicGF5bG9hZCI6ImhlbGxvIiwicGF0aCI6Im0vMCIsImtleV92ZXJzaW9uIjowfX0A"
	"4FfrSBsAAAEAAAAAAAAAAAAAAAAAAAAAtu6JHXsCOge5occSDBlfbQpSddtbae0aAzylfb4XYwtSQa+8wJIJ"
	"GTrvspCUG20XO6zE7cHkviIlxoQR9FXxCQ==";

static int rejects(const char *s)
{
	uint8_t out[64];
	size_t n;
	uint8_t *p;
	int r1 = b64_decode(out, sizeof(out), s, strlen(s), &n) == -1;

	p = b64_decode_alloc(s, strlen(s), &n);
	free(p);
	return r1 && !p;
}

int main(void)
{
	uint8_t out[400], *bin, *dec;
	size_t i, n, bn;
	char *enc;

	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		const char *plain = rfc[i][0], *b64 = rfc[i][1];

		enc = b64_encode_alloc((const uint8_t *)plain, strlen(plain));
		is_str(enc, b64, "encode \"%s\"", plain);
		free(enc);
		ok(b64_decode(out, sizeof(out), b64, strlen(b64), &n) == 0 && n == strlen(plain) &&
		   memcmp(out, plain, n) == 0, "decode \"%s\"", b64);
	}

	bin = hex_alloc(v5_hex, &bn);
	is_int(bn, 277, "V5 signed tx is 277 bytes");
	enc = b64_encode_alloc(bin, bn);
	is_str(enc, v5_b64, "V5 signed_tx_base64 byte for byte");
	free(enc);
	dec = b64_decode_alloc(v5_b64, strlen(v5_b64), &n);
	ok(dec && n == bn && memcmp(dec, bin, bn) == 0, "V5 base64 decodes to the signed bytes");
	free(dec);
	free(bin);

	dec = b64_decode_alloc("", 0, &n);
	ok(dec && n == 0, "empty input decodes to an empty, non-NULL buffer");
	free(dec);

	ok(rejects("Zg"), "reject missing padding");
	ok(rejects("Zg="), "reject short padding");
	ok(rejects("Zg==="), "reject extra padding");
	ok(rejects("Zm9v\n"), "reject trailing newline");
	ok(rejects("Zm 9v"), "reject embedded space");
	ok(rejects("Zm9-"), "reject URL-safe '-'");
	ok(rejects("Zm9_"), "reject URL-safe '_'");
	ok(rejects("Zh=="), "reject non-zero trailing bits");
	ok(rejects("Zm9v!A=="), "reject '!'");
	ok(rejects("="), "reject lone '='");
	ok(b64_decode(out, 5, "Zm9vYmFy", 8, &n) == -1, "reject output buffer too small");
	ok(b64_decode(out, 6, "Zm9vYmFy", 8, &n) == 0 && n == 6, "output buffer exactly large");
	ok(b64_decode(out, sizeof(out), "Zm9vYmFy", 4, &n) == 0 && n == 3,
	   "decodes only inlen characters (no NUL needed)");
	return done_testing();
}
