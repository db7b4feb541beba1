/* Bad arguments are refused before anything is signed, with a message that
 * names the problem: account ids, JSON args, gas, deposit, method. */
#include "../tap.h"
#include "near/u128.h"
#include "txcheck.h"

static char err[512];

static int check(const char *receiver, const char *method, const char *args, uint64_t gas,
		 const char *deposit)
{
	struct txcheck_in in = { "node.test.near", receiver, method, args,
				 args ? strlen(args) : 0, gas, deposit };
	uint64_t g;
	near_u128 d;
	err[0] = 0;
	return txcheck_request(&in, 300 * NEAR_TGAS, &g, &d, err, sizeof(err));
}

#define refused(desc, want, ...) do { \
	int rc_ = check(__VA_ARGS__); \
	ok(rc_ < 0 && strstr(err, want), "%s: %s", desc, err); } while (0)

int main(void)
{
	struct txcheck_in in = { "node.test.near", "mpc.test.near", "respond", "{\"a\":1}", 7, 0, NULL };
	uint64_t gas;
	near_u128 dep;

	ok(txcheck_request(&in, 300 * NEAR_TGAS, &gas, &dep, err, sizeof(err)) == 0, "a good request passes");
	ok(gas == 300 * NEAR_TGAS && dep == 0, "defaults: 300 Tgas, no deposit");
	in.deposit = "340282366920938463463374607431768211455";
	in.gas = 1000 * NEAR_TGAS;
	ok(txcheck_request(&in, 0, &gas, &dep, err, sizeof(err)) == 0 && dep == NEAR_U128_MAX &&
	   gas == NEAR_MAX_GAS, "2^128-1 yocto and exactly 1 Pgas are allowed");

	refused("receiver", "receiver 'Bad.Near' is not a valid NEAR account id", "Bad.Near", "m", "{}", 0, NULL);
	refused("receiver too short", "receiver 'a'", "a", "m", "{}", 0, NULL);
	refused("receiver with a doubled dot", "not a valid NEAR account id", "a..near", "m", "{}", 0, NULL);
	in.signer_id = "-node";
	ok(txcheck_request(&in, 0, &gas, &dep, err, sizeof(err)) < 0 &&
	   strstr(err, "signer account '-node'"), "signer account: %s", err);

	refused("args not JSON", "args are not JSON (", "mpc.test.near", "m", "nope", 0, NULL);
	refused("args not JSON: quoted", "'nope'", "mpc.test.near", "m", "nope", 0, NULL);
	/* cJSON accepts these, the contract's serde_json does not: refused before signing */
	refused("args with a leading zero", "args are not JSON (", "mpc.test.near", "m", "{\"a\":01}", 0, NULL);
	refused("args with a bare fraction dot", "bad number at byte 7", "mpc.test.near", "m", "{\"a\":1.}", 0, NULL);
	refused("args with a raw control byte", "control character in a string", "mpc.test.near", "m",
		"{\"a\":\"x\ty\"}", 0, NULL);
	refused("args that are not UTF-8", "not valid UTF-8", "mpc.test.near", "m", "{\"a\":\"\xff\"}", 0, NULL);
	{
		const char *good = " {\"a\":[1,-2.5e3,\"\\u00e9\\n\",null,true]} \n";
		ok(txcheck_is_json(good, strlen(good)),
		   "strict JSON with escapes, exponents and surrounding whitespace is accepted");
	}
	refused("args half an object", "args are not JSON", "mpc.test.near", "m", "{\"a\":", 0, NULL);
	refused("args with trailing junk", "args are not JSON", "mpc.test.near", "m", "{} x", 0, NULL);
	refused("empty args", "args are not JSON", "mpc.test.near", "m", "", 0, NULL);
	struct txcheck_in nul = { "node.test.near", "mpc.test.near", "m", "{}\0{}", 5, 0, NULL };
	ok(txcheck_request(&nul, 1, &gas, &dep, err, sizeof(err)) < 0 && strstr(err, "not JSON"),
	   "args with a NUL byte inside: %s", err);
	ok(check("mpc.test.near", "m", " [1, 2]\n", 0, NULL) == 0, "any JSON value, with whitespace");

	refused("gas over the limit", "over the per-transaction limit of 1000000000000000 (1000 Tgas)",
		"mpc.test.near", "m", "{}", NEAR_MAX_GAS + 1, NULL);
	struct txcheck_in zero = { "node.test.near", "mpc.test.near", "m", "{}", 2, 0, NULL };
	ok(txcheck_request(&zero, 0, &gas, &dep, err, sizeof(err)) < 0 && strstr(err, "gas is 0"),
	   "no gas and no default: %s", err);

	refused("deposit with a point", "deposit '1.5' is not an amount of yoctoNEAR", "mpc.test.near", "m", "{}", 0, "1.5");
	refused("negative deposit", "deposit '-1'", "mpc.test.near", "m", "{}", 0, "-1");
	refused("deposit in NEAR", "deposit '1 NEAR'", "mpc.test.near", "m", "{}", 0, "1 NEAR");
	refused("deposit of 2^128", "deposit '340282366920938463463374607431768211456'",
		"mpc.test.near", "m", "{}", 0, "340282366920938463463374607431768211456");
	refused("empty deposit", "deposit ''", "mpc.test.near", "m", "{}", 0, "");

	refused("empty method", "method name is empty", "mpc.test.near", "", "{}", 0, NULL);
	char longm[300];
	memset(longm, 'm', 257);
	longm[257] = 0;
	refused("method too long", "method name is 257 bytes; the limit is 256", "mpc.test.near", longm, "{}", 0, NULL);

	uint64_t g;
	ok(txcheck_parse_gas("300000000000000", &g, err, sizeof(err)) == 0 && g == 300 * NEAR_TGAS, "gas in units");
	ok(txcheck_parse_gas("30T", &g, err, sizeof(err)) == 0 && g == 30 * NEAR_TGAS, "30T");
	ok(txcheck_parse_gas("300Tgas", &g, err, sizeof(err)) == 0 && g == 300 * NEAR_TGAS, "300Tgas");
	ok(txcheck_parse_gas("1P", &g, err, sizeof(err)) == 0 && g == NEAR_MAX_GAS, "1P");
	ok(txcheck_parse_gas("12 T", &g, err, sizeof(err)) < 0 && strstr(err, "unknown unit"), "a space: %s", err);
	ok(txcheck_parse_gas("lots", &g, err, sizeof(err)) < 0 && strstr(err, "not a number"), "no digits: %s", err);
	ok(txcheck_parse_gas("99999999999999999999", &g, err, sizeof(err)) < 0, "more than 64 bits");
	ok(txcheck_parse_gas("20000000P", &g, err, sizeof(err)) < 0 && strstr(err, "64 bits"), "overflow with a unit");
	return done_testing();
}
