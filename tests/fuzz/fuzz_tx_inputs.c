/* libFuzzer target: what the transaction sender reads before and after it
 * signs.  The first byte picks the reader:
 *   0  a signer key from the environment (keyfile_from_env)
 *   1  a key file (keyfile_load: mode check, size limit, JSON or bare key)
 *   2  a gas value as people write it (txcheck_parse_gas)
 *   3  a whole function-call request: signer, receiver, method, args, gas,
 *      deposit separated by NUL bytes (txcheck_request)
 *   4  an RPC `tx` / send_tx result judged at a wanted level (txoutcome_judge)
 *   5  u128 deposits and u64 nonces (near_u128_parse, near_u64_parse)
 * Any input gives a value or an error with a message; never a crash, and a
 * key's text never appears in an error. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_no_key.h"
#include "fuzz_scratch.h"
#include "keyfile.h"
#include "near/tx.h"
#include "near/u128.h"
#include "txcheck.h"
#include "txoutcome.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void key_env(const char *text, size_t n)
{
	struct near_secret sk;
	char err[512] = "";
	if (setenv("FUZZ_SIGNER_KEY", text, 1) != 0)
		return;
	if (keyfile_from_env("FUZZ_SIGNER_KEY", &sk, err, sizeof(err)) == 0)
		near_secret_wipe(&sk);
	else if (!err[0])
		abort();
	else
		fuzz_no_key_in(err, text, strlen(text));
}

static void key_file(const uint8_t *data, size_t n, int loose)
{
	struct near_secret sk;
	char err[512] = "", account[80] = "x";
	const char *path = fuzz_scratch("tx", "key.json", 0);
	fuzz_scratch_write(data, n);
	chmod(path, loose ? 0644 : 0600);
	int rc = keyfile_load(path, &sk, account, sizeof(account), err, sizeof(err));
	if (rc == 0) {
		if (loose || strlen(account) >= sizeof(account))
			abort();        /* a group-readable key must be refused */
		near_secret_wipe(&sk);
	} else if (!err[0]) {
		abort();
	} else {
		fuzz_no_key_in(err, (const char *)data, n);
	}
}

static void gas(const char *s)
{
	uint64_t g = 0;
	char err[256] = "";
	if (txcheck_parse_gas(s, &g, err, sizeof(err)) == 0) {
		size_t d = strspn(s, "0123456789");
		const char *u = s + d;
		if (!d || (*u && strcmp(u, "T") && strcmp(u, "Tgas") && strcmp(u, "TGas") &&
			   strcmp(u, "P") && strcmp(u, "Pgas") && strcmp(u, "PGas")))
			abort();
	} else if (!err[0]) {
		abort();
	}
}

/* Field i of NUL-separated text, or NULL past the end. */
static const char *field(const char *buf, size_t n, int i, size_t *len)
{
	const char *p = buf, *end = buf + n;
	for (; i > 0 && p < end; i--)
		p += strlen(p) + 1;
	if (p >= end)
		return NULL;
	*len = strlen(p);
	return p;
}

static void request(const char *buf, size_t n)
{
	size_t l[6] = { 0 };
	const char *f[6];
	for (int i = 0; i < 6; i++)
		f[i] = field(buf, n, i, &l[i]);
	struct txcheck_in in = { .signer_id = f[0], .receiver = f[1], .method = f[2],
				 .args = f[3], .args_len = l[3], .deposit = f[5] };
	char err[512] = "";
	uint64_t g = 0, out_gas = 0;
	near_u128 dep = 0;
	if (f[4] && txcheck_parse_gas(f[4], &g, err, sizeof(err)) < 0)
		g = 1;
	in.gas = g;
	err[0] = 0;
	if (txcheck_request(&in, 300 * NEAR_TGAS, &out_gas, &dep, err, sizeof(err)) == 0) {
		if (!out_gas || out_gas > NEAR_MAX_GAS || !txcheck_is_json(in.args, in.args_len))
			abort();
	} else if (!err[0]) {
		abort();
	}
}

static void outcome(const char *buf, size_t n, int want)
{
	cJSON *j = cJSON_ParseWithLength(buf, n);
	struct txoutcome o;
	if (!j)
		return;
	int rc = txoutcome_judge(j, want, &o);
	if (rc < 0 && !o.error)
		abort();
	if (rc == 0 && o.kind == TXO_SUCCEEDED && (!o.value || o.value[o.value_len] != 0))
		abort();
	if (rc == 0 && (o.kind == TXO_FAILED || o.kind == TXO_INVALID) && !o.error)
		abort();
	txoutcome_free(&o);
	cJSON_Delete(j);
}

static void numbers(const char *buf, size_t n)
{
	near_u128 v, w;
	uint64_t u;
	char s[NEAR_U128_STR_MAX];
	if (near_u128_parse(buf, n, &v) == 0) {
		size_t k = near_u128_format(s, v);
		if (k != strlen(s) || near_u128_parse(s, k, &w) != 0 || w != v)
			abort();
	}
	if (near_u64_parse(buf, n, &u) == 0 && (near_u128_parse(buf, n, &v) != 0 || v != u))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t sel = data[0], arg = data[1];
	/* an exact-size copy with a NUL after it, so ASan sees any read past the end */
	char *buf = malloc(size - 1);
	if (!buf)
		return 0;
	size -= 2;
	memcpy(buf, data + 2, size);
	buf[size] = 0;
	switch (sel % 6) {
	case 0:
		key_env(buf, size);
		break;
	case 1:
		key_file(data + 2, size, arg == 0x44);
		break;
	case 2:
		gas(buf);
		break;
	case 3:
		request(buf, size);
		break;
	case 4:
		outcome(buf, size, arg % TXL_COUNT);
		break;
	default:
		numbers(buf, size);
	}
	free(buf);
	return 0;
}
