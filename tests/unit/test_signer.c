/* Signers: a key file readable by group or others is refused, keys from the
 * environment and NEAR's JSON key files, no key material in any message, and
 * vectors V5 (signed through the signer) and V7 (the sender's encoder) byte
 * for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "near/base58.h"
#include "near/tx.h"
#include "signer.h"
#include "test_near_util.h"

/* vectors.md V2/V5/V6: the public nearcore test key for "alice.near" */
static const char alice_secret[] =
	"ed25519:2wyRcSwSuHtRVmkMCGjPwnzZmQLeXLzLLyED1NDMt4BjnKgQL6tF85yBx6Jr26D2dUNeC716RBoTxntVHsegogYw";
static const char alice_public[] = "ed25519:22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbTV";
/* V5 */
static const char v5_tx[] =
	"0e0000007369676e65722e746573746e6574000f56a5f028dfc089ec7c39c1183b321b4d8f89ba5bec9e17"
	"62803cc2491f6ef879df0d864870000010000000636f6e74726163742e746573746e65740fa473fd26901d"
	"f296be6adc4cc4df34d040efa2435224b6986910e630c2fef60100000002040000007369676e3c0000007b"
	"2272657175657374223a7b227061796c6f6164223a2268656c6c6f222c2270617468223a226d2f30222c22"
	"6b65795f76657273696f6e223a307d7d00e057eb481b000001000000000000000000000000000000";
static const char v5_sig[] =
	"b6ee891d7b023a07b9a1c7120c195f6d0a5275db5b69ed1a033ca57dbe17630b5241afbcc09209193aefb290941b6d"
	"173bacc4edc1e4be2225c68411f455f109";
static const char v5_b64[] =
	"DgAAAHNpZ25lci50ZXN0bmV0AA9WpfAo38CJ7Hw5wRg7MhtNj4m6W+yeF2KAPMJJH274ed8NhkhwAAAQAAAAY29u"
	"dHJhY3QudGVzdG5ldA+kc/0mkB3ylr5q3EzE3zTQQO+iQ1IktphpEOYwwv72AQAAAAIEAAAAc2lnbjwAAAB7InJl"
	"cXVlc3QiOnsicGF5bG9hZCI6ImhlbGxvIiwicGF0aCI6Im0vMCIsImtleV92ZXJzaW9uIjowfX0A4FfrSBsAAAEA"
	"AAAAAAAAAAAAAAAAAAAAtu6JHXsCOge5occSDBlfbQpSddtbae0aAzylfb4XYwtSQa+8wJIJGTrvspCUG20XO6zE"
	"7cHkviIlxoQR9FXxCQ==";
static const char v5_args[] = "{\"request\":{\"payload\":\"hello\",\"path\":\"m/0\",\"key_version\":0}}";
/* V7 (near-api-js transaction1.json; the signer id is empty) */
static const char v7_tx[] =
	"0000000000795cb7b5f57222e742d1759092f0e20071a0cd2bf30e1f681d800e67935e1688010000000000"
	"00001000000073747564696f2d76776375396534316d4def837b838543990f3380af8e2a3817ddf70fe996"
	"0135b2add25a679b2a01ed01000000020a0000006164644d6573736167650b0000007b2274657874223a22"
	"227d80841e000000000000000000000000000000000000000000";

static char dir[] = "/tmp/mpci-signer-XXXXXX";

static const char *write_key(const char *name, const char *text, mode_t mode)
{
	static char path[8][256];
	static int k;
	char *p = path[k++ % 8];
	snprintf(p, 256, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (!f)
		bail_out("cannot write %s", p);
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
	return p;
}

/* No part of the secret (its text, or the seed's base58) in a message. */
static int clean(const char *msg)
{
	return !strstr(msg, alice_secret + 8) && !strstr(msg, "2wyRcSwSuHtRVmkMCGjPwnzZmQLeX");
}

int main(void)
{
	struct signer *s;
	char err[512];

	if (!mkdtemp(dir))
		bail_out("mkdtemp");

	const char *open644 = write_key("open.key", alice_secret, 0644);
	ok(signer_load(&s, "node", "alice.near", open644, NULL, err, sizeof(err)) < 0 && !s,
	   "a key file readable by others is refused");
	ok(strstr(err, "readable by group or others") && strstr(err, "chmod 600"),
	   "and the message says why and what to do: %s", err);
	ok(clean(err), "without the key in it");
	const char *group640 = write_key("group.key", alice_secret, 0640);
	ok(signer_load(&s, "node", "alice.near", group640, NULL, err, sizeof(err)) < 0 &&
	   strstr(err, "group"), "readable by the group: refused too");

	const char *good = write_key("alice.key", alice_secret, 0600);
	ok(signer_load(&s, "node", "alice.near", good, NULL, err, sizeof(err)) == 0 && s,
	   "a 0600 key file loads: %s", s ? "" : err);
	if (!s)
		bail_out("no signer");
	is_str(s->pk_str, alice_public, "the public key is derived from the secret");
	is_str(s->key_id, "alice.near:ed25519:22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbTV",
	       "the access key id is account:public key");
	is_int(s->full_access, -1, "access unknown until read from the chain");
	signer_free(s);

	const char *json = write_key("json.key",
		"{\"account_id\":\"alice.near\",\"public_key\":\"ed25519:22skMptHjFWNyuEWY22ftn2AbLPSYpmYwGJRGwpNHbTV\","
		"\"private_key\":\"ed25519:2wyRcSwSuHtRVmkMCGjPwnzZmQLeXLzLLyED1NDMt4BjnKgQL6tF85yBx6Jr26D2dUNeC716RBoTxntVHsegogYw\"}\n",
		0600);
	ok(signer_load(&s, "cli", NULL, json, NULL, err, sizeof(err)) == 0 && !strcmp(s->account_id, "alice.near"),
	   "NEAR's JSON key file: the account comes from it");
	signer_free(s);
	const char *bare = write_key("bare.key", alice_secret, 0600);
	ok(signer_load(&s, "cli", NULL, bare, NULL, err, sizeof(err)) < 0 && strstr(err, "no account id"),
	   "a bare key needs an account: %s", err);
	ok(signer_load(&s, "node", "Alice", good, NULL, err, sizeof(err)) < 0 &&
	   strstr(err, "'Alice' is not a valid NEAR account id"), "an invalid account id: %s", err);

	/* a damaged key: one character changed */
	char bad[sizeof(alice_secret)];
	memcpy(bad, alice_secret, sizeof(bad));
	bad[20] = bad[20] == 'x' ? 'y' : 'x';
	const char *damaged = write_key("damaged.key", bad, 0600);
	ok(signer_load(&s, "node", "alice.near", damaged, NULL, err, sizeof(err)) < 0, "a damaged key is refused");
	ok(!strstr(err, bad + 8) && clean(err), "without echoing it: %s", err);

	/* A key file that says two things is refused (found by
	 * tests/fuzz/fuzz_signer_key.c: a "public_key" of another key was ignored). */
	const char *pair = write_key("pair.key",
		"{\"account_id\":\"alice.near\",\"public_key\":\"ed25519:9BmAFNRTa5mRRXpSAm6MxSEeqRASDGNh2FuuwZ4gyxTw\","
		"\"secret_key\":\"ed25519:2wyRcSwSuHtRVmkMCGjPwnzZmQLeXLzLLyED1NDMt4BjnKgQL6tF85yBx6Jr26D2dUNeC716RBoTxntVHsegogYw\"}\n",
		0600);
	ok(signer_load(&s, "cli", NULL, pair, NULL, err, sizeof(err)) < 0 && !s &&
	   strstr(err, "\"public_key\" is not the public key of \"secret_key\"") && clean(err),
	   "a JSON key file whose public_key is another key's: %s", err);
	const char *notkey = write_key("notkey.key",
		"{\"account_id\":\"alice.near\",\"public_key\":7,"
		"\"secret_key\":\"ed25519:2wyRcSwSuHtRVmkMCGjPwnzZmQLeXLzLLyED1NDMt4BjnKgQL6tF85yBx6Jr26D2dUNeC716RBoTxntVHsegogYw\"}\n",
		0600);
	ok(signer_load(&s, "cli", NULL, notkey, NULL, err, sizeof(err)) < 0 &&
	   strstr(err, "\"public_key\" is not an ed25519 public key"), "a public_key that is no key: %s", err);
	const char *trailing = write_key("trailing.key",
		"{\"account_id\":\"alice.near\","
		"\"secret_key\":\"ed25519:2wyRcSwSuHtRVmkMCGjPwnzZmQLeXLzLLyED1NDMt4BjnKgQL6tF85yBx6Jr26D2dUNeC716RBoTxntVHsegogYw\"}"
		" {\"account_id\":\"bob.near\"}\n", 0600);
	ok(signer_load(&s, "cli", NULL, trailing, NULL, err, sizeof(err)) < 0 && strstr(err, "not valid JSON"),
	   "text after the JSON key: %s", err);
	char nul_path[300];
	snprintf(nul_path, sizeof(nul_path), "%s/nul.key", dir);
	FILE *nf = fopen(nul_path, "w");
	if (!nf)
		bail_out("cannot write %s", nul_path);
	fputs(alice_secret, nf);
	fputc(0, nf);
	fputs("ed25519:something else\n", nf);
	fclose(nf);
	chmod(nul_path, 0600);
	ok(signer_load(&s, "node", "alice.near", nul_path, NULL, err, sizeof(err)) < 0 &&
	   strstr(err, "NUL byte (at byte 96)") && clean(err), "a NUL byte and more after the key: %s", err);
	unlink(nul_path);
	char spaced[200];
	snprintf(spaced, sizeof(spaced), "\r\n %s\t\r\n", alice_secret);
	const char *blank = write_key("blank.key", spaced, 0600);
	ok(signer_load(&s, "node", "alice.near", blank, NULL, err, sizeof(err)) == 0 &&
	   !strcmp(s->pk_str, alice_public), "blank lines, CR and tabs around a bare key");
	signer_free(s);

	setenv("MPCI_TEST_SIGNER_KEY", alice_secret, 1);
	ok(signer_load(&s, "tee", "alice.near", NULL, "MPCI_TEST_SIGNER_KEY", err, sizeof(err)) == 0 &&
	   !strcmp(s->pk_str, alice_public), "a key from the environment (TEE images)");
	signer_free(s);
	ok(signer_load(&s, "tee", "alice.near", NULL, "MPCI_TEST_NO_SUCH_VAR", err, sizeof(err)) < 0 &&
	   strstr(err, "MPCI_TEST_NO_SUCH_VAR is not set"), "a missing variable: %s", err);
	ok(signer_load(&s, "tee", "alice.near", good, "X", err, sizeof(err)) < 0 &&
	   strstr(err, "exactly one"), "a file and a variable at once: %s", err);

	/* V5 through the signer, byte for byte */
	ok(signer_load(&s, "node", "signer.testnet", good, NULL, err, sizeof(err)) == 0, "V5 signer");
	uint8_t bh[32];
	size_t n;
	if (!s || b58_decode(bh, sizeof(bh), "244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM", 44, &n) != 0 || n != 32)
		bail_out("V5 block hash");
	struct near_fc_action act = { "sign", (const uint8_t *)v5_args, strlen(v5_args),
				      30000000000000ULL, 1 };
	struct near_signed_tx st;
	ok(signer_sign_call(s, &st, 123456789012345ULL, "contract.testnet", bh, &act) == 0, "V5 signs");
	size_t tx_n, sig_n;
	uint8_t *tx = hex_alloc(v5_tx, &tx_n), *sig = hex_alloc(v5_sig, &sig_n);
	ok(st.tx_len == tx_n && !memcmp(st.bytes, tx, tx_n), "V5 transaction bytes byte for byte (%zu)", tx_n);
	ok(!memcmp(st.signature, sig, sig_n) && st.bytes[tx_n] == 0 &&
	   !memcmp(st.bytes + tx_n + 1, sig, sig_n), "V5 signature byte for byte");
	is_str(st.hash_b58, "FPdJmK3VAE5xrKapsgvypQbYswURvy9E8XYue8KaPHVg", "V5 hash");
	is_str(st.base64, v5_b64, "V5 signed_tx_base64");
	near_signed_tx_free(&st);
	free(tx);
	free(sig);
	signer_free(s);

	/* V7: the encoder the sender signs with (its empty signer id is not one
	 * the sender would accept, so it goes through near_tx_encode directly) */
	struct near_pubkey pk;
	uint8_t bh7[32];
	ok(near_pubkey_parse(&pk, "ed25519:9AkLDhntwj9cGSwFPr1XtMFwP1aUFCVLNQXaKQZ3kN9m") == 0, "V7 key");
	if (b58_decode(bh7, sizeof(bh7), "6FEDkKHW44kiRP7JtDeARhQhz6343rGKeRa2fq47d8qr", 44, &n) != 0 || n != 32)
		bail_out("V7 block hash");
	struct near_fc_action a7 = { "addMessage", (const uint8_t *)"{\"text\":\"\"}", 11, 2000000, 0 };
	struct borsh_buf b = BORSH_BUF_INIT;
	uint8_t *t7 = hex_alloc(v7_tx, &tx_n);
	ok(near_tx_encode(&b, "", &pk, 1, "studio-vwcu9e41m", bh7, &a7, 1) == 0 && b.len == tx_n &&
	   !memcmp(b.data, t7, tx_n), "V7 transaction bytes byte for byte (%zu)", tx_n);
	uint8_t h[32];
	char hb[64];
	near_sha256(h, b.data, b.len);
	near_hash_to_b58(hb, h);
	is_str(hb, "7zv5vXAajgX7XvJorxmeMLE48EuJQdGjTHXSyFmhU2r7", "V7 hash");
	borsh_buf_free(&b);
	free(t7);

	for (const char *f = "open.key\0group.key\0alice.key\0json.key\0bare.key\0damaged.key\0"
			     "pair.key\0notkey.key\0trailing.key\0blank.key\0"; *f;
	     f += strlen(f) + 1) {
		char p[300];
		snprintf(p, sizeof(p), "%s/%s", dir, f);
		unlink(p);
	}
	rmdir(dir);
	return done_testing();
}
