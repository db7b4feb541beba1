/* Keys and signatures: nearcore seed keys (V6), V3/V4/V5 signatures, rejection of bad keys. */
#include "../tap.h"
#include "test_near_util.h"
#include "near/base58.h"
#include "near/keys.h"

static const struct {
	const char *seed, *pub, *secret;
} v6[] = {
	{ "alice.near", "ed25519:22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbTV",
	  "ed25519:2wyRcSwSuHtRVmkMCGjPwnzZmQLeXLzLLyED1NDMt4BjnKgQL6tF85yBx6Jr26D2dUNeC716RBoTxntVHsegogYw" },
	{ "test.near", "ed25519:9BmAFNRTa5mRRXpSAm6MxSEeqRASDGNh2FuuwZ4gyxTw",
	  "ed25519:3KyUucjfrjTbSmaN6d6Yvz9phqGDDNdP7eHKdYJxmEP3S2vRryPh9HviWVzTDFx6rbfr8bvyoBFVqFQ47S8rbUr1" },
	{ "test", "ed25519:DcA2MzgpJbrUATQLLceocVckhhAqrkingax4oJ9kZ847",
	  "ed25519:3KyUuch8pYP47krBq4DosFEVBMR5wDTMQ8AThzM8kAEcBQEpsPdYTZ2FPX5ZnSoLrerjwg66hwwJaW1wHzprd5k3" },
};

static int all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

int main(void)
{
	struct near_secret sk, sk2;
	struct near_pubkey pk, pk2;
	uint8_t seed[32], sig[64], want_sig[64], hash[32], raw[64];
	char buf[NEAR_SECRET_STR_MAX], mismatched[NEAR_SECRET_STR_MAX];
	size_t i, n;

	for (i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		/* nearcore: the seed string padded with spaces to 32 bytes. */
		memset(seed, ' ', sizeof(seed));
		memcpy(seed, v6[i].seed, strlen(v6[i].seed));
		near_secret_from_seed(&sk, seed);
		near_secret_pubkey(&pk, &sk);
		near_pubkey_format(buf, &pk);
		is_str(buf, v6[i].pub, "V6 %s: public key from seed", v6[i].seed);
		near_secret_format(buf, &sk);
		is_str(buf, v6[i].secret, "V6 %s: secret key string", v6[i].seed);
		is_int(near_secret_parse(&sk2, v6[i].secret), 0, "V6 %s: secret parses", v6[i].seed);
		ok(memcmp(sk.sk, sk2.sk, 64) == 0, "V6 %s: parsed secret equals derived", v6[i].seed);
		is_int(near_pubkey_parse(&pk2, v6[i].pub), 0, "V6 %s: public key parses", v6[i].seed);
		ok(near_pubkey_equal(&pk, &pk2), "V6 %s: parsed public key equals derived", v6[i].seed);
	}

	/* Bare base58 is an ed25519 public key (V1 uses this form). */
	ok(near_pubkey_parse(&pk, "22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbTV") == 0 &&
	   pk.type == NEAR_KEY_ED25519 && pk.data[0] == 0x0f && pk.data[31] == 0xf8,
	   "bare base58 public key parses as ed25519");

	/* Rejections, each with its own error. */
	is_int(near_pubkey_parse(&pk, "secp256k1:22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbTV"),
	       NEAR_KEY_ERR_TYPE, "secp256k1 public key refused as unsupported type");
	diag("secp256k1: %s", near_key_strerror(NEAR_KEY_ERR_TYPE));
	is_int(near_pubkey_parse(&pk, "ED25519:22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbTV"),
	       NEAR_KEY_ERR_TYPE, "prefix is case sensitive");
	is_int(near_pubkey_parse(&pk, "ed25519:22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbT0"),
	       NEAR_KEY_ERR_BASE58, "'0' in public key refused");
	is_int(near_pubkey_parse(&pk, "ed25519:22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbT"),
	       NEAR_KEY_ERR_LENGTH, "31-byte public key refused");
	is_int(near_pubkey_parse(&pk, v6[0].secret), NEAR_KEY_ERR_LENGTH,
	       "64-byte secret refused as a public key");
	is_int(near_pubkey_parse(&pk, "ed25519:"), NEAR_KEY_ERR_FORMAT, "empty key data refused");
	is_int(near_pubkey_parse(&pk, ""), NEAR_KEY_ERR_FORMAT, "empty string refused");
	is_int(near_pubkey_parse(&pk, ":abc"), NEAR_KEY_ERR_FORMAT, "empty type refused");
	is_int(near_pubkey_parse(&pk, NULL), NEAR_KEY_ERR_FORMAT, "NULL refused");
	is_int(near_secret_parse(&sk, v6[0].secret + 8), NEAR_KEY_ERR_FORMAT,
	       "secret without ed25519: prefix refused");
	is_int(near_secret_parse(&sk, v6[0].pub), NEAR_KEY_ERR_LENGTH,
	       "32-byte value refused as a secret");

	/* A secret whose public half belongs to another seed. */
	ok(near_secret_parse(&sk, v6[0].secret) == 0 && near_secret_parse(&sk2, v6[1].secret) == 0,
	   "two V6 secrets parse");
	memcpy(raw, sk.sk, 32);
	memcpy(raw + 32, sk2.sk + 32, 32);
	memcpy(mismatched, "ed25519:", 8);
	b58_encode(mismatched + 8, sizeof(mismatched) - 8, raw, 64);
	memset(sk.sk, 0x55, sizeof(sk.sk));
	is_int(near_secret_parse(&sk, mismatched), NEAR_KEY_ERR_MISMATCH,
	       "secret with mismatching public half refused");
	ok(all_zero(sk.sk, 64), "refused secret leaves the output wiped");
	diag("mismatch: %s", near_key_strerror(NEAR_KEY_ERR_MISMATCH));
	near_secret_wipe(&sk2);
	ok(all_zero(sk2.sk, 64), "near_secret_wipe zeroes the key");

	/* V5: signature over sha256(tx) with the alice.near key. */
	ok(near_secret_parse(&sk, v6[0].secret) == 0, "V5 secret parses");
	hex_fixed(hash, 32, "d5cf72479d9b91d888d1ead36f05ff66fb6307e6cb57625c41cb4cb494e636bf");
	hex_fixed(want_sig, 64, "b6ee891d7b023a07b9a1c7120c195f6d0a5275db5b69ed1a033ca57dbe17630b"
				"5241afbcc09209193aefb290941b6d173bacc4edc1e4be2225c68411f455f109");
	ok(near_sign(sig, &sk, hash, 32) == 0 && memcmp(sig, want_sig, 64) == 0,
	   "V5 signature byte for byte");
	near_signature_format(buf, sig);
	is_str(buf, "ed25519:4f8U7C7eFztzmeyLsM3A9hGug8e67XvQ7rAZpq2shFhR4SU2JfSqBFyC48snj3ZVZi9ATgAwMZ4tQPHjxSbwPtqn",
	       "V5 signature string");
	ok(near_signature_parse(raw, buf) == 0 && memcmp(raw, sig, 64) == 0, "signature parses back");
	near_secret_pubkey(&pk, &sk);
	is_int(near_verify(sig, &pk, hash, 32), 0, "V5 signature verifies");
	hash[0] ^= 1;
	is_int(near_verify(sig, &pk, hash, 32), -1, "signature over another digest does not verify");
	hash[0] ^= 1;
	sig[10] ^= 0x40;
	is_int(near_verify(sig, &pk, hash, 32), -1, "flipped signature bit does not verify");
	is_int(near_signature_parse(raw, "ed25519:4f8U7C7eFztzmeyLsM3A9hGug8e67XvQ7rAZpq2shFhR"),
	       NEAR_KEY_ERR_LENGTH, "short signature refused");
	near_secret_wipe(&sk);

	/* V4: the docs' signature string verifies over the recorded tx hash. */
	ok(near_pubkey_parse(&pk, "ed25519:Gowpa4kXNyTMRKgt5W7147pmcc2PxiFic8UHW9rsNvJ6") == 0 &&
	   near_signature_parse(sig, "ed25519:7oCBMfSHrZkT7tzPDBxxCd3tWFhTES38eks3MCZMpYPJRfPWKxJsvmwQiVBBxRLoxPTnXVaMU2jPV3MdFKZTobH") == 0,
	   "V4 key and signature parse");
	b58_decode(hash, 32, "ASS7oYwGiem9HaNwJe6vS2kznx2CxueKDvU9BAYJRjNR", 44, &n);
	is_int(near_verify(sig, &pk, hash, 32), 0, "V4 signature verifies over the tx hash");

	/* Fresh keys sign and verify; two of them differ. */
	ok(near_secret_generate(&sk) == 0 && near_secret_generate(&sk2) == 0 &&
	   memcmp(sk.sk, sk2.sk, 64) != 0, "random keys generated");
	near_secret_pubkey(&pk, &sk);
	near_secret_format(buf, &sk);
	ok(near_secret_parse(&sk2, buf) == 0 && memcmp(sk.sk, sk2.sk, 64) == 0,
	   "random secret round-trips through its string");
	ok(near_sign(sig, &sk, (const uint8_t *)"msg", 3) == 0 &&
	   near_verify(sig, &pk, (const uint8_t *)"msg", 3) == 0, "random key signs and verifies");
	near_secret_wipe(&sk);
	near_secret_wipe(&sk2);
	return done_testing();
}
