/* libFuzzer target: a [signer.NAME] key as signer_load() takes it at start-up,
 * from a key file or an environment variable.  The first byte is flags:
 *   bit 0  the key comes from an environment variable (else a key file)
 *   bit 1  the section names account_id "alice.near" (else the file must)
 *   bit 2  the key file is group-readable (0640: must be refused)
 * the rest is the file's text (the variable's, up to a NUL byte).  Either the
 * load fails with a message that quotes no key, or the signer:
 *   - came from a file only its owner can read, holding no NUL byte;
 *   - has a valid account id: the section's, else the JSON's "account_id";
 *   - has the public key a JSON "public_key" names, if it names one;
 *   - has key_id "<account>:<its public key>";
 *   - signs a transaction that verifies under its public key. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_no_key.h"
#include "fuzz_scratch.h"
#include "near/account_id.h"
#include "signer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VAR "FUZZ_SIGNER_KEY"

static void fail(const char *why, const char *what)
{
	fprintf(stderr, "signer loaded, but %s: %s\n", why, what);
	abort();
}

/* What a JSON key file says, read independently of keyfile.c. */
static void check_json(const char *text, const struct signer *s, int named)
{
	const char *p = text + strspn(text, " \t\r\n");
	if (*p != '{')
		return;
	cJSON *j = cJSON_ParseWithOpts(p, NULL, 1);
	if (!j)
		fail("the JSON does not parse whole", text);
	const cJSON *pk = cJSON_GetObjectItemCaseSensitive(j, "public_key");
	const cJSON *acct = cJSON_GetObjectItemCaseSensitive(j, "account_id");
	if (cJSON_IsString(pk) && strcmp(pk->valuestring, s->pk_str) != 0)
		fail("\"public_key\" names another key than the secret's", pk->valuestring);
	if (!named && (!cJSON_IsString(acct) || strcmp(acct->valuestring, s->account_id) != 0))
		fail("the account is not the file's \"account_id\"", s->account_id);
	cJSON_Delete(j);
}

/* The secret's text (a JSON key file's "secret_key" or "private_key", else
 * the whole text) must not be quoted in err, unless the text holds it twice
 * (a message may quote the account id, whatever it holds). */
static void no_secret_in(const char *err, const char *text, size_t n)
{
	const char *p = text + strspn(text, " \t\r\n");
	cJSON *j = *p == '{' ? cJSON_Parse(p) : NULL;
	const cJSON *sk = cJSON_GetObjectItemCaseSensitive(j, "secret_key");
	if (!cJSON_IsString(sk))
		sk = cJSON_GetObjectItemCaseSensitive(j, "private_key");
	const char *secret = cJSON_IsString(sk) ? sk->valuestring : text;
	size_t len = cJSON_IsString(sk) ? strlen(secret) : n;
	const char *k = memmem(secret, len, "ed25519:", 8);
	if (k && (size_t)(secret + len - k) >= 8 + 12) {
		const char *first = memmem(text, n, k + 8, 12);
		if (!first || !memmem(first + 1, n - (size_t)(first + 1 - text), k + 8, 12))
			fuzz_no_key_in(err, secret, len);
	}
	cJSON_Delete(j);
}

static void check_signer(const struct signer *s, const char *text, int named)
{
	char want[NEAR_ACCOUNT_ID_MAX + NEAR_PUBKEY_STR_MAX + 2];
	static const uint8_t block[NEAR_HASH_LEN];
	struct near_signed_tx tx;
	struct near_fc_action act = { .method = "respond", .args = (const uint8_t *)"{}",
				      .args_len = 2, .gas = 1, .deposit = 0 };

	if (!near_account_id_valid(s->account_id, strlen(s->account_id)))
		fail("the account id is invalid", s->account_id);
	if (named && strcmp(s->account_id, "alice.near") != 0)
		fail("the account is not the section's", s->account_id);
	snprintf(want, sizeof(want), "%s:%s", s->account_id, s->pk_str);
	if (strcmp(s->key_id, want) != 0)
		fail("the key id is not account:public key", s->key_id);
	check_json(text, s, named);
	if (signer_sign_call(s, &tx, 7, "mpc.near", block, &act) != 0)
		fail("it cannot sign", s->name);
	if (near_verify(tx.signature, &s->pk, tx.hash, NEAR_HASH_LEN) != 0)
		fail("its signature does not verify", s->pk_str);
	near_signed_tx_free(&tx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct signer *s = NULL;
	char err[512] = "";

	if (size < 1)
		return 0;
	int env = data[0] & 1, named = data[0] & 2, loose = data[0] & 4;
	size_t n = size - 1;
	/* an exact-size copy with a NUL after it, so ASan sees any read past the end */
	char *text = malloc(n + 1);
	if (!text)
		return 0;
	memcpy(text, data + 1, n);
	text[n] = 0;
	if (env) {
		if (setenv(VAR, text, 1) != 0) {
			free(text);
			return 0;
		}
	} else {
		fuzz_scratch("signer", "key.json", 0);
		fuzz_scratch_write(text, n);
		chmod(fuzz_path, loose ? 0640 : 0600);
	}
	int rc = signer_load(&s, "fuzz", named ? "alice.near" : NULL, env ? NULL : fuzz_path,
			     env ? VAR : NULL, err, sizeof(err));
	if (rc < 0) {
		if (s || !err[0])
			abort();
		no_secret_in(err, text, n);
	} else {
		if (!env && loose)
			fail("the key file is group-readable", fuzz_path);
		if (!env && memchr(text, 0, n))
			fail("the key file holds a NUL byte", "");
		check_signer(s, text, named);
		signer_free(s);
	}
	free(text);
	return 0;
}
