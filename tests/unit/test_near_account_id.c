/* Account id syntax: the near-account-id-rs accept/reject lists (vectors.md V9). */
#include "../tap.h"
#include "near/account_id.h"

static const char *const valid[] = {
	"aa", "a-a", "a-aa", "100", "0o", "com", "near", "bowen", "b-o_w_e-n", "b.owen",
	"bro.wen", "a.ha", "a.b-a.ra", "system", "over.9000", "google.com",
	"illia.cheapaccounts.near", "0o0ooo00oo00o", "alex-skidanov", "10-4.8-2", "no_lols",
	"0123456789012345678901234567890123456789012345678901234567890123",
	"near.a",
	/* implicit forms follow the same syntax */
	"0f56a5f028dfc089ec7c39c1183b321b4d8f89ba5bec9e1762803cc2491f6ef8",
	"0x1234567890abcdef1234567890abcdef12345678",
};

static const char *const invalid[] = {
	"a", "A", "Abc", "-near", "near-", "-near-", "near.", ".near", "near@", "@near",
	"\xd0\xbd\xd0\xb5\xd0\xb0\xd1\x80", "@@@@@", "0__0", "0_-_0", "..", "a..near", "nEar",
	"_bowen", "hello world",
	"abcdefghijklmnopqrstuvwxyz.abcdefghijklmnopqrstuvwxyz.abcdefghijklmnopqrstuvwxyz",
	"01234567890123456789012345678901234567890123456789012345678901234",
	"some-complex-address@gmail.com", "sub.buy_d1gitz@atata@b0-rg.c_0_m",
	/* extra edges */
	"", "a.", "a-", "a_", "a-.b", "a._b",
	"0x1234567890ABCDEF1234567890abcdef12345678",
};

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		ok(near_account_id_valid(valid[i], strlen(valid[i])) == 1, "valid: %s", valid[i]);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ok(near_account_id_valid(invalid[i], strlen(invalid[i])) == 0, "invalid: %s", invalid[i]);
	ok(near_account_id_valid("near\0x", 6) == 0, "embedded NUL is invalid");
	ok(near_account_id_valid("near.x", 4) == 1, "only n bytes are looked at");
	ok(near_account_id_valid(NULL, 4) == 0, "NULL is invalid");
	return done_testing();
}
