/* What the backup-migration plugin reads and presents: its TLS certificate
 * (byte-identical to the reconstructed rcgen leaf), NEAR key text and key
 * files, and the contract's state and migration_info views. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../tap.h"
#include "contract.h"
#include "edkey.h"
#include "mtls.h"

static char tmp[] = "/tmp/mpci-test-backup-wire-XXXXXX";

static char *fixture(const char *name, size_t *n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/tests/fixtures/backup/%s",
		 getenv("top_srcdir") ? getenv("top_srcdir") : "../..", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		bail_out("cannot read %s", path);
	fseek(f, 0, SEEK_END);
	long l = ftell(f);
	rewind(f);
	char *s = malloc((size_t)l + 1);
	*n = fread(s, 1, (size_t)l, f);
	s[*n] = 0;
	fclose(f);
	return s;
}

static void test_cert(void)
{
	uint8_t seed[32];
	unsigned char *der;
	size_t n, want_n;
	memset(seed, 0x01, sizeof(seed));
	char *want = fixture("mpc_tls_example_peer_cert.der", &want_n);
	is_int(mtls_make_cert(seed, &der, &n), 0, "a certificate is made from a seed");
	ok(n == want_n && memcmp(der, want, n) == 0,
	   "byte-identical to the rcgen-style leaf of the reference (seed 32 x 0x01)");
	free(der);
	free(want);
}

static void write_key(const char *path, const char *text, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT, mode);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		bail_out("write %s", path);
	fchmod(fd, mode);
	close(fd);
}

static void test_keys(void)
{
	uint8_t pub[32], seed[32], pub2[32];
	char text[EDKEY_TEXT], path[4200], err[300] = "";
	static const uint8_t ex[32] = { 0x8a, 0x88, 0xe3, 0xdd, 0x74, 0x09, 0xf1, 0x95, 0xfd, 0x52, 0xdb,
					0x2d, 0x3c, 0xba, 0x5d, 0x72, 0xca, 0x67, 0x09, 0xbf, 0x1d, 0x94,
					0x12, 0x1b, 0xf3, 0x74, 0x88, 0x01, 0xb4, 0x0f, 0x6f, 0x5c };
	is_int(edkey_parse_public("ed25519:AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9", pub), 0,
	       "a NEAR public key parses");
	ok(memcmp(pub, ex, 32) == 0, "to the example peer's raw key");
	is_str(edkey_format_public(pub, text), "ed25519:AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9",
	       "and formats back");
	ok(edkey_parse_public("secp256k1:AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9", pub) < 0 &&
	   edkey_parse_public("ed25519:0OIl", pub) < 0 && edkey_parse_public("ed25519:2", pub) < 0,
	   "other curves, bad base58 and short keys are refused");

	/* nearsim --print-key frodo.test.near:tls */
	snprintf(path, sizeof(path), "%s/tls.json", tmp);
	write_key(path, "{\"account_id\":\"frodo.test.near\",\"public_key\":\"ed25519:13qrU2M9Cws51TiUH7Nt5TMM3wNikk1ZSM4akTZeYE8v\","
			"\"private_key\":\"ed25519:4jGW28XK2FGHJuSbtmM5cet8Y6mpXR4UMaUALnW78C2gqkxD2jotJBZ7sXbxupan4aDiZBVuA93LQVzqYFj7aEd4\"}\n", 0600);
	is_int(edkey_load_secret(path, seed, pub, err, sizeof(err)), 0, "a NEAR key file loads: %s", err);
	edkey_parse_public("ed25519:13qrU2M9Cws51TiUH7Nt5TMM3wNikk1ZSM4akTZeYE8v", pub2);
	ok(memcmp(pub, pub2, 32) == 0, "its public key is derived from the seed");
	chmod(path, 0644);
	ok(edkey_load_secret(path, seed, pub, err, sizeof(err)) < 0 && strstr(err, "chmod 600"),
	   "a key file others can read is refused: %s", err);
	write_key(path, "ed25519:4jGW28XK2FGHJuSbtmM5cet8Y6mpXR4UMaUALnW78C2gqkxD2jotJBZ7sXbxupan4aDiZBVuA93LQVzqYFj7aEd5\n", 0600);
	ok(edkey_load_secret(path, seed, pub, err, sizeof(err)) < 0 && !strstr(err, "4jGW"),
	   "a key whose halves disagree is refused, without echoing it: %s", err);
}

static void test_state(void)
{
	struct contract_state s;
	char err[256];
	size_t n, bn;
	char *text = fixture("contract_state.json", &n);
	is_int(contract_parse_state(text, n, "lifted-mainnet.near", &s, err, sizeof(err)), 0,
	       "the mainnet Running state parses: %s", err);
	ok(s.protocol == PROTO_RUNNING && s.has_keyset && s.epoch_id == 4 && s.n_domains == 2 &&
	   s.domains[0].attempt_id == 240 && s.domains[1].domain_id == 1,
	   "Running, keyset epoch 4, domains 0 (attempt 240) and 1");
	ok(s.participant && strncmp(s.url, "http", 4) == 0, "the account is a participant with a URL: %s", s.url);
	char *body = fixture("get_keyshares_request_body.json", &bn);
	cJSON *a = cJSON_Parse(s.keyset_json), *b = cJSON_Parse(body);
	ok(cJSON_Compare(a, b, 1), "the keyset sent to /get_keyshares equals the reference body");
	cJSON_Delete(a);
	cJSON_Delete(b);
	free(body);
	contract_state_clear(&s);
	is_int(contract_parse_state(text, n, "nobody.near", &s, err, sizeof(err)), 0, "another account");
	ok(!s.participant, "is not a participant");
	contract_state_clear(&s);
	free(text);

	text = fixture("state_resharing.json", &n);
	is_int(contract_parse_state(text, n, "blacksandtech.near", &s, err, sizeof(err)), 0,
	       "a Resharing state parses: %s", err);
	ok(s.protocol == PROTO_RESHARING && s.epoch_id == 4 && s.participant,
	   "the keyset is previous_running_state's (epoch 4)");
	contract_state_clear(&s);
	free(text);

	is_int(contract_parse_state("\"NotInitialized\"", 16, "a", &s, err, sizeof(err)), 0,
	       "NotInitialized parses");
	ok(s.protocol == PROTO_NOT_INITIALIZED && !s.has_keyset, "with no keyset");
	static const char neg[] = "{\"Running\":{\"keyset\":{\"epoch_id\":-1,\"domains\":[]}}}";
	static const char huge[] = "{\"Running\":{\"keyset\":{\"epoch_id\":1e300,\"domains\":[]}}}";
	ok(contract_parse_state(neg, strlen(neg), "a", &s, err, sizeof(err)) < 0 &&
	   strstr(err, "epoch_id"), "a negative epoch is refused: %s", err);
	ok(contract_parse_state(huge, strlen(huge), "a", &s, err, sizeof(err)) < 0 &&
	   strstr(err, "epoch_id"), "a huge epoch is refused");
	ok(contract_parse_state("[1,", 3, "a", &s, err, sizeof(err)) < 0, "garbage is refused: %s", err);
}

static void test_migration(void)
{
	struct contract_migration m;
	char err[256], host[256];
	size_t n;
	uint8_t k[32];
	char *text = fixture("migration_info_result_example.json", &n);
	is_int(contract_parse_migration(text, n, "alice.near", &m, err, sizeof(err)), 0,
	       "migration_info parses");
	edkey_parse_public("ed25519:3FwWphCj47PA3D8ErKeVNzqn2ckAKrfuixrvvfGrDxUx", k);
	ok(m.has_backup && m.has_destination && memcmp(m.destination_tls_key, k, 32) == 0 &&
	   strcmp(m.destination_url, "http://new-node.example.com:80") == 0,
	   "alice: a backup service and a destination");
	contract_parse_migration(text, n, "bob.near", &m, err, sizeof(err));
	ok(m.has_backup && !m.has_destination, "bob: a backup service only");
	contract_parse_migration(text, n, "carol.near", &m, err, sizeof(err));
	ok(!m.has_backup && !m.has_destination, "carol: nothing");
	free(text);
	ok(contract_parse_migration("{\"a\":[null]}", 12, "a", &m, err, sizeof(err)) < 0,
	   "a malformed entry is refused: %s", err);
	static const char badkey[] = "{\"a\":[null,{\"destination_node_info\":{\"url\":\"x\",\"tls_public_key\":\"ed25519:1\"}}]}";
	ok(contract_parse_migration(badkey, strlen(badkey), "a", &m, err, sizeof(err)) < 0 &&
	   strstr(err, "tls_public_key"), "a bad destination key is refused: %s", err);

	ok(contract_url_host("http://new-node.example.com:80", host, sizeof(host)) == 0 &&
	   strcmp(host, "new-node.example.com") == 0, "host of a URL with a port");
	ok(contract_url_host("https://[::1]:3000/x", host, sizeof(host)) == 0 && strcmp(host, "::1") == 0,
	   "an IPv6 literal");
	ok(contract_url_host("http://u@10.0.0.2", host, sizeof(host)) == 0 && strcmp(host, "10.0.0.2") == 0,
	   "user info is skipped");
	ok(contract_url_host("http://", host, sizeof(host)) < 0, "no host is an error");
}

static void test_coverage(void)
{
	struct contract_state s = { .has_keyset = 1, .epoch_id = 5, .n_domains = 2,
				    .domains = { { 0, 1 }, { 1, 1 } } };
	struct backup_info b = { .epoch_id = 5, .n_domains = 2, .domains = { { 0, 1 }, { 1, 1 } } };
	ok(contract_covered(&s, &b), "same epoch, same domains: covered");
	b.n_domains = 1;
	ok(!contract_covered(&s, &b), "same epoch, a domain missing: not covered");
	b.epoch_id = 6;
	ok(contract_covered(&s, &b), "a newer stored epoch: covered");
	b.epoch_id = 4;
	b.n_domains = 2;
	ok(!contract_covered(&s, &b), "an older stored epoch: not covered");
}

int main(void)
{
	if (!mkdtemp(tmp))
		bail_out("mkdtemp");
	test_cert();
	test_keys();
	test_state();
	test_migration();
	test_coverage();
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		diag("cannot remove %s", tmp);
	return done_testing();
}
