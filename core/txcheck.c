/* Argument checks for function-call transactions. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json_scan.h"
#include "near/account_id.h"
#include "near/borsh.h"
#include "near/tx.h"
#include "txcheck.h"

int txcheck_json_error(const char *s, size_t n, char *why, size_t whysz)
{
	struct jscan j;
	const char *msg;
	size_t off = 0;

	if (!s || n == 0) {
		snprintf(why, whysz, "empty");
		return -1;
	}
	if (!borsh_utf8_valid((const uint8_t *)s, n)) {
		snprintf(why, whysz, "not valid UTF-8");
		return -1;
	}
	/* strict RFC 8259, as the contract's serde_json reads it (cJSON takes 01, 1., ...) */
	jscan_init(&j, s, n);
	if (jscan_skip(&j, NULL) == 0 && jscan_end(&j) == 0)
		return 0;
	msg = jscan_error(&j, &off);
	snprintf(why, whysz, "%s at byte %zu", msg ? msg : "invalid", off);
	return -1;
}

int txcheck_is_json(const char *s, size_t n)
{
	char why[120];

	return txcheck_json_error(s, n, why, sizeof(why)) == 0;
}

int txcheck_request(const struct txcheck_in *in, uint64_t default_gas,
		    uint64_t *gas, near_u128 *deposit, char *err, size_t errsz)
{
	if (!in->signer_id || !near_account_id_valid(in->signer_id, strlen(in->signer_id))) {
		snprintf(err, errsz, "signer account '%.80s' is not a valid NEAR account id",
			 in->signer_id ? in->signer_id : "");
		return -1;
	}
	if (!in->receiver || !near_account_id_valid(in->receiver, strlen(in->receiver))) {
		snprintf(err, errsz, "receiver '%.80s' is not a valid NEAR account id "
			 "(2..64 characters of a-z 0-9 - _ . with no separator first, last or doubled)",
			 in->receiver ? in->receiver : "");
		return -1;
	}
	if (!in->method || !*in->method) {
		snprintf(err, errsz, "method name is empty");
		return -1;
	}
	if (strlen(in->method) > NEAR_MAX_METHOD_NAME_LEN) {
		snprintf(err, errsz, "method name is %zu bytes; the limit is %d",
			 strlen(in->method), NEAR_MAX_METHOD_NAME_LEN);
		return -1;
	}
	if (in->args_len > NEAR_MAX_ARGS_LEN) {
		snprintf(err, errsz, "args are %zu bytes; the limit is %u",
			 in->args_len, NEAR_MAX_ARGS_LEN);
		return -1;
	}
	char why[120];
	if (txcheck_json_error(in->args, in->args_len, why, sizeof(why)) < 0) {
		int show = in->args ? (int)(in->args_len < 40 ? in->args_len : 40) : 0;
		snprintf(err, errsz, "args are not JSON (%s): '%.*s%s'", why, show,
			 in->args ? in->args : "", in->args_len > 40 ? "..." : "");
		return -1;
	}
	*gas = in->gas ? in->gas : default_gas;
	if (*gas == 0) {
		snprintf(err, errsz, "gas is 0; a function call needs some");
		return -1;
	}
	if (*gas > NEAR_MAX_GAS) {
		snprintf(err, errsz, "gas %" PRIu64 " is over the per-transaction limit of %" PRIu64
			 " (%" PRIu64 " Tgas)", *gas, (uint64_t)NEAR_MAX_GAS,
			 (uint64_t)(NEAR_MAX_GAS / NEAR_TGAS));
		return -1;
	}
	*deposit = 0;
	if (in->deposit && near_u128_parse(in->deposit, strlen(in->deposit), deposit) < 0) {
		snprintf(err, errsz, "deposit '%.60s' is not an amount of yoctoNEAR "
			 "(decimal digits only, at most 2^128-1)", in->deposit);
		return -1;
	}
	struct near_fc_action act = {
		.method = in->method, .args = (const uint8_t *)in->args,
		.args_len = in->args_len, .gas = *gas, .deposit = *deposit,
	};
	return near_tx_check(in->signer_id, in->receiver, &act, 1, err, errsz);
}

int txcheck_parse_gas(const char *s, uint64_t *out, char *err, size_t errsz)
{
	size_t n = s ? strspn(s, "0123456789") : 0;
	uint64_t v, mult = 1;

	if (n == 0 || near_u64_parse(s, n, &v) < 0) {
		snprintf(err, errsz, "gas '%.40s' is not a number (e.g. 300000000000000 or 300Tgas)",
			 s ? s : "");
		return -1;
	}
	const char *u = s + n;
	if (strcmp(u, "T") == 0 || strcmp(u, "Tgas") == 0 || strcmp(u, "TGas") == 0)
		mult = NEAR_TGAS;
	else if (strcmp(u, "P") == 0 || strcmp(u, "Pgas") == 0 || strcmp(u, "PGas") == 0)
		mult = NEAR_TGAS * 1000;
	else if (*u) {
		snprintf(err, errsz, "gas '%.40s': unknown unit '%.10s' (use T or P, or none)", s, u);
		return -1;
	}
	if (v > UINT64_MAX / mult) {
		snprintf(err, errsz, "gas '%.40s' does not fit in 64 bits", s);
		return -1;
	}
	*out = v * mult;
	return 0;
}
