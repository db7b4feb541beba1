/* Hashes: V8 CryptoHash vectors, SHA3 known answers, the MPC kdf tweak/app_id snapshots. */
#include "../tap.h"
#include "test_near_util.h"
#include "near/hash.h"

static const char *const kdf_accounts[] = { "dwefqwg", "qfweqwgwegqw", "fqwerijqw385", "fnwef0942534" };
static const char *const kdf_paths[] = { "frwewegwegweg", "fwei2.3f230", "f23fjwef8232", "fwefwo23fewfw" };

/* An insta snapshot: a "---" header block, then a JSON array of 32-number arrays. */
static size_t parse_snap(const char *rel, uint8_t out[][32], size_t max)
{
	char *text = read_srcdir_file(rel, NULL), *p;
	size_t rows = 0, col = 0;

	p = strstr(text, "---");
	p = p ? strstr(p + 3, "---") : NULL;
	if (!p)
		bail_out("%s: no insta header", rel);
	for (p += 3; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			long v = strtol(p, &p, 10);

			if (v > 255 || rows >= max || col >= 32)
				bail_out("%s: unexpected number %ld at row %zu", rel, v, rows);
			out[rows][col++] = (uint8_t)v;
			p--;
		} else if (*p == ']' && col) {
			if (col != 32)
				bail_out("%s: row %zu has %zu numbers", rel, rows, col);
			rows++;
			col = 0;
		}
	}
	free(text);
	return rows;
}

static void check_kdf(const char *rel, const char *prefix, const char *what)
{
	uint8_t want[32][32], got[32];
	size_t rows = parse_snap(rel, want, 32), a, p, matched = 0;
	char msg[256];

	is_int(rows, 16, "%s snapshot has 16 rows", what);
	for (a = 0; a < 4; a++)
		for (p = 0; p < 4; p++) {
			size_t i = a * 4 + p;

			snprintf(msg, sizeof(msg), "%s%s,%s", prefix, kdf_accounts[a], kdf_paths[p]);
			if (near_sha3_256(got, msg, strlen(msg)) == 0 && i < rows &&
			    memcmp(got, want[i], 32) == 0)
				matched++;
			else
				diag("%s mismatch for %s / %s", what, kdf_accounts[a], kdf_paths[p]);
		}
	is_int(matched, 16, "%s: SHA3-256(\"%s\" account \",\" path) matches all 16", what, prefix);
}

static void check_sha256_b58(const void *p, size_t n, const char *want, const char *what)
{
	uint8_t h[32], back[32];
	char b58[NEAR_HASH_B58_MAX];

	near_sha256(h, p, n);
	near_hash_to_b58(b58, h);
	is_str(b58, want, "V8 %s", what);
	ok(near_hash_from_b58(back, want) == 0 && memcmp(back, h, 32) == 0,
	   "V8 %s parses back", what);
}

int main(void)
{
	static const uint8_t v012[] = { 0, 1, 2 };
	static const uint8_t borsh_foo[] = { 3, 0, 0, 0, 'f', 'o', 'o' };
	uint8_t h[32], h48[48], want[48], zero[32] = { 0 };
	char b58[NEAR_HASH_B58_MAX];

	check_sha256_b58(v012, sizeof(v012), "CjNSmWXTWhC3EhRVtqLhRmWMTkRbU96wUACqxMtV1uGf",
			 "sha256([0,1,2])");
	check_sha256_b58("foo", 3, "3yMApqCuCjXDWPrbjfR5mjCPTHqFG8Pux1TxQrEM35jj", "sha256(\"foo\")");
	check_sha256_b58(borsh_foo, sizeof(borsh_foo), "CuoNgQBWsXnTqup6FY3UXNz6RRufnYyQVxx8HKZLUaRt",
			 "sha256(borsh \"foo\")");
	near_hash_to_b58(b58, zero);
	is_str(b58, "11111111111111111111111111111111", "V8 zero hash is 32 x '1'");
	ok(near_hash_from_b58(h, "11111111111111111111111111111111") == 0 &&
	   memcmp(h, zero, 32) == 0, "zero hash parses");

	/* V8 failure cases, plus a 33-byte value and a NULL. */
	memset(h, 0xaa, sizeof(h));
	ok(near_hash_from_b58(h, "foo-bar-baz") == -1, "reject invalid char (foo-bar-baz)");
	ok(near_hash_from_b58(h, "CjNSmWXTWhC3ELhRmWMTkRbU96wUACqxMtV1uGf") == -1,
	   "reject 31-byte decode");
	ok(near_hash_from_b58(h, "") == -1, "reject empty string");
	ok(near_hash_from_b58(h, "1CjNSmWXTWhC3EhRVtqLhRmWMTkRbU96wUACqxMtV1uGf") == -1,
	   "reject 33-byte decode (extra leading zero)");
	ok(near_hash_from_b58(h, NULL) == -1, "reject NULL");
	ok(h[0] == 0xaa, "failed parses leave the output alone");

	/* SHA3 known answers (FIPS 202 "abc"). */
	hex_fixed(want, 32, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
	ok(near_sha3_256(h, "abc", 3) == 0 && memcmp(h, want, 32) == 0, "SHA3-256(\"abc\")");
	hex_fixed(want, 32, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
	ok(near_sha3_256(h, "", 0) == 0 && memcmp(h, want, 32) == 0, "SHA3-256(\"\")");
	hex_fixed(want, 48, "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b2"
			    "98d88cea927ac7f539f1edf228376d25");
	ok(near_sha3_384(h48, "abc", 3) == 0 && memcmp(h48, want, 48) == 0, "SHA3-384(\"abc\")");

	check_kdf("tests/fixtures/near/kdf_derive_tweak.snap",
		  "near-mpc-recovery v0.1.0 epsilon derivation:", "derive_tweak");
	check_kdf("tests/fixtures/near/kdf_derive_app_id.snap",
		  "near-mpc v0.1.0 app_id derivation:", "derive_app_id");
	return done_testing();
}
