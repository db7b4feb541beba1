/* core/config: loading, schema checks, typed values, environment overrides, key files. */
#include "../tap.h"
#include "config.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test_config.XXXXXX";
static char path[300];

static const char *write_file(const char *name, const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0)
		bail_out("write %s", path);
	fclose(f);
	return path;
}

static char line[1024];

static const char *fmt(const struct cfg_error *e)
{
	return cfg_format_error(e, line, sizeof(line));
}

/* Loads `text`; expects failure at `want_line` with `want_msg` in the one-line message. */
static void load_fails(const char *name, const char *text, int want_line, const char *want_msg)
{
	struct cfg *c = (struct cfg *)1;
	struct cfg_error e;
	char prefix[400];

	memset(&e, 0, sizeof(e));
	write_file(name, text);
	is_int(cfg_load(&c, path, &e), -1, "%s: refused", name);
	ok(c == NULL, "%s: no cfg returned", name);
	is_int(e.line, want_line, "%s: error line", name);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, want_line);
	ok(strncmp(fmt(&e), prefix, strlen(prefix)) == 0 && strstr(line, want_msg) &&
	   !strchr(line, '\n'), "%s: \"%s\"", name, line);
}

static const struct cfg_key near_keys[] = {
	{ "rpc_urls", CFG_LIST, NULL, "JSON-RPC endpoints" },
	{ "network", CFG_STR, "mainnet", "chain id" },
	{ "poll_interval", CFG_DURATION, "1s", "view poll interval" },
	{ "max_body", CFG_SIZE, "16M", "response size limit" },
	{ "retries", CFG_UINT, "3", "retries" },
	{ "offset", CFG_INT, NULL, "signed" },
	{ "ratio", CFG_DOUBLE, NULL, "a number" },
	{ "final", CFG_BOOL, "yes", "final finality" },
	{ "key_file", CFG_PATH, NULL, "signer key" },
	{ NULL, 0, NULL, NULL },
};
static const struct cfg_key common_keys[] = {
	{ "enabled", CFG_BOOL, "yes", "load it" },
	{ "network", CFG_STR, "shadowed", "the first schema wins" },
	{ NULL, 0, NULL, NULL },
};
static const struct cfg_key *const near_schema[] = { near_keys, common_keys, NULL };

static void test_load_errors(void)
{
	struct cfg *c;
	struct cfg_error e;
	char missing[300];

	snprintf(missing, sizeof(missing), "%s/missing.ini", dir);
	is_int(cfg_load(&c, missing, &e), -1, "missing file refused");
	ok(strstr(fmt(&e), missing) && strstr(line, "No such file"), "missing: \"%s\"", line);
	is_int(cfg_load(&c, dir, &e), -1, "directory refused");
	ok(strstr(fmt(&e), "directory") != NULL, "directory: \"%s\"", line);

	load_fails("syntax.ini", "[near]\nnetwork = testnet\nthis is not ini\n", 3,
		   "expected 'key = value'");
	load_fails("bracket.ini", "; comment\n[near\nnetwork = x\n", 2, "without closing ']'");
	load_fails("dup.ini", "[near]\nnetwork = a\n\n# c\nnetwork = b\n", 5,
		   "network: duplicate key in [near] (first set at line 2)");
	load_fails("dup2.ini", "[near]\nnetwork = a\n[other]\nx = 1\n[near]\nnetwork = b\n", 6,
		   "duplicate key");
	load_fails("nosect.ini", "network = a\n[near]\n", 1, "outside any [section]");
	load_fails("indent.ini", "[near]\nrpc_urls = http://a\n  network = testnet\n", 3,
		   "network: indented line is read as a continuation of 'rpc_urls' (line 2)");
	load_fails("noname.ini", "[near]\n= 5\n", 2, "missing key name");
	char longl[400];
	snprintf(longl, sizeof(longl), "[near]\n\nrpc_urls = http://%0250d\n", 0);
	load_fails("long.ini", longl, 3, "longer than 197 characters");
	char longs[200];
	snprintf(longs, sizeof(longs), "[%060d]\n", 0);
	load_fails("longsect.ini", longs, 1, "section name longer than 49");
	load_fails("empty_sect.ini", "[ ]\n", 1, "empty section name");
}

static void test_values(void)
{
	struct cfg *c;
	struct cfg_error e;
	char **list, where[400], want[400];
	int64_t i;
	uint64_t u;
	double d;
	int b;
	size_t n;

	write_file("good.ini",
		   "\xEF\xBB\xBF; sample\n"
		   "[near]\n"
		   "rpc_urls = https://a.example/rpc, https://b.example/#frag,\n"
		   "           https://c.example ; the third\n"
		   "network = testnet ; inline comment\n"
		   "poll_interval = 1h30m\n"
		   "max_body = 64k\n"
		   "offset = -42\n"
		   "ratio = 0.25\n"
		   "final = off\n"
		   "key_file = ./keys/signer.json\n"
		   "\n"
		   "[plugin.tee-attester]\n"
		   "\n"
		   "[ spaced ]\n"
		   "k: v\n");
	if (cfg_load(&c, path, &e) != 0)
		bail_out("good.ini: %s", fmt(&e));
	is_int(cfg_section_count(c), 3, "three sections");
	is_str(cfg_section_name(c, 0), "near", "first section");
	is_int(cfg_section_line(c, 0), 2, "its line");
	is_str(cfg_section_name(c, 1), "plugin.tee-attester", "empty section kept");
	is_int(cfg_section_line(c, 1), 13, "empty section line");
	is_str(cfg_section_name(c, 2), "spaced", "section name trimmed");
	ok(cfg_has_section(c, "plugin.tee-attester") && !cfg_has_section(c, "nope"), "cfg_has_section");
	is_str(cfg_get(c, "near", "network"), "testnet", "before the check: the file's text");
	ok(cfg_get(c, "near", "retries") == NULL, "before the check: no defaults");
	cfg_where(c, "near", "network", where, sizeof(where));
	snprintf(want, sizeof(want), "%s:5", path);
	is_str(where, want, "before the check: where is file:line");
	is_int(cfg_get_bool(c, "near", "final", &b), 0, "typed peek before the check");
	is_int(b, 0, "peeked bool");

	memset(&e, 0, sizeof(e));
	is_int(cfg_check_section(c, "near", near_schema, &e), 0, "near checks: %s", e.msg);
	is_str(cfg_get(c, "near", "network"), "testnet", "string, inline comment stripped");
	n = cfg_get_list(c, "near", "rpc_urls", &list);
	is_int(n, 3, "list over a continuation line");
	if (n == 3) {
		is_str(list[0], "https://a.example/rpc", "item 1 trimmed");
		is_str(list[1], "https://b.example/#frag", "'#' inside a value kept");
		is_str(list[2], "https://c.example", "item 3, comment dropped");
		ok(list[3] == NULL, "list NULL-terminated");
	}
	cfg_list_free(list);
	is_int(cfg_get_duration(c, "near", "poll_interval", &d), 0, "duration");
	ok(d == 5400, "1h30m = 5400 s (%g)", d);
	is_int(cfg_get_size(c, "near", "max_body", &u), 0, "size");
	is_int(u, 65536, "64k");
	is_int(cfg_get_int(c, "near", "offset", &i), 0, "int");
	is_int(i, -42, "negative int");
	is_int(cfg_get_double(c, "near", "ratio", &d), 0, "double");
	ok(d == 0.25, "0.25");
	is_int(cfg_get_bool(c, "near", "final", &b), 0, "bool");
	is_int(b, 0, "off = 0");
	is_int(cfg_get_uint(c, "near", "retries", &u), 0, "default uint");
	is_int(u, 3, "default value 3");
	is_int(cfg_get_bool(c, "near", "enabled", &b), 0, "key from the second schema");
	is_int(b, 1, "its default");
	snprintf(want, sizeof(want), "%s/keys/signer.json", dir);
	is_str(cfg_get(c, "near", "key_file"), want, "relative path resolved against the file's dir");
	is_int(cfg_get_int(c, "near", "nonexistent", &i), -ENOENT, "unknown key: -ENOENT");
	is_int(cfg_get_int(c, "near", "network", &i), -EINVAL, "wrong type: -EINVAL");

	is_int(cfg_where(c, "near", "network", where, sizeof(where)), 0, "where");
	snprintf(want, sizeof(want), "%s:5", path);
	is_str(where, want, "where: file:line");
	cfg_where(c, "near", "retries", where, sizeof(where));
	is_str(where, "default", "where: default");
	is_int(cfg_where(c, "near", "offset_x", where, sizeof(where)), -1, "where: unset");

	/* Absent section checked: defaults only, counted after the file's sections. */
	static const struct cfg_key mon[] = { { "listen", CFG_STR, "127.0.0.1:9090", NULL },
					      { NULL, 0, NULL, NULL } };
	const struct cfg_key *const mon_s[] = { mon, NULL };
	is_int(cfg_check_section(c, "prometheus", mon_s, &e), 0, "absent section checks");
	is_str(cfg_get(c, "prometheus", "listen"), "127.0.0.1:9090", "its default");
	is_int(cfg_section_count(c), 4, "checked section added");
	is_int(cfg_section_line(c, 3), 0, "line 0: not in the file");
	ok(!cfg_has_section(c, "prometheus"), "not in the file");
	is_int(cfg_check_section(c, "spaced", (const struct cfg_key *const[]){
		(const struct cfg_key[]){ { "k", CFG_STR, NULL, NULL }, { NULL, 0, NULL, NULL } },
		NULL }, &e), 0, "name:value syntax");
	is_str(cfg_get(c, "spaced", "k"), "v", "k: v");
	cfg_free(c);
}

/* Writes "[near]\n<body>" and checks the section; expects failure naming line and key. */
static void value_fails(const char *body, int want_line, const char *want_key, const char *want_msg)
{
	struct cfg *c;
	struct cfg_error e;
	char text[512], prefix[400];

	snprintf(text, sizeof(text), "[near]\n%s", body);
	write_file("bad.ini", text);
	if (cfg_load(&c, path, &e) != 0) {
		ok(0, "bad.ini loads: %s", fmt(&e));
		return;
	}
	is_int(cfg_check_section(c, "near", near_schema, &e), -1, "%s: refused", want_key);
	snprintf(prefix, sizeof(prefix), "%s:%d: %s: ", path, want_line, want_key);
	ok(strncmp(fmt(&e), prefix, strlen(prefix)) == 0 && strstr(line, want_msg),
	   "\"%s\"", line);
	ok(cfg_get(c, "near", "enabled") == NULL, "failed section stays unchecked (no defaults)");
	cfg_free(c);
}

static void test_bad_values(void)
{
	value_fails("network = x\nrpc_url = http://a\n", 3, "rpc_url",
		    "unknown key in [near]; valid keys: rpc_urls, network, poll_interval, max_body, "
		    "retries, offset, ratio, final, key_file, enabled");
	value_fails("offset = 12abc\n", 2, "offset", "'12abc' is not an integer");
	value_fails("offset = 99999999999999999999\n", 2, "offset", "out of range");
	value_fails("retries = -1\n", 2, "retries", "'-1' is not a non-negative integer");
	value_fails("final = maybe\n", 2, "final", "'maybe' is not a boolean");
	value_fails("poll_interval = 10x\n", 2, "poll_interval", "'10x' is not a duration");
	value_fails("poll_interval = -5s\n", 2, "poll_interval", "not a duration");
	value_fails("max_body = 12q\n", 2, "max_body", "'12q' is not a size");
	value_fails("ratio = nan\n", 2, "ratio", "not a number");
	value_fails("key_file =\n", 2, "key_file", "empty path");
	value_fails("network = a,\n  b\n", 2, "network", "only lists may");
}

static void test_env(void)
{
	struct cfg *c;
	struct cfg_error e;
	char where[300], name[128], **list;
	uint64_t u;
	size_t n;

	is_str(cfg_env_name("plugin.tee-attester", "mode", name, sizeof(name)),
	       "MPC_INDEXER_PLUGIN_TEE_ATTESTER__MODE", "env name mapping");
	is_str(cfg_env_name("near", "rpc_urls", name, sizeof(name)),
	       "MPC_INDEXER_NEAR__RPC_URLS", "env name mapping 2");

	write_file("env.ini", "[near]\nrpc_urls = http://file\nretries = 5\n");
	setenv("MPC_INDEXER_NEAR__RPC_URLS", "  http://env1 , http://env2  ", 1);
	setenv("MPC_INDEXER_NEAR__MAX_BODY", "1M", 1);
	if (cfg_load(&c, path, &e) != 0)
		bail_out("env.ini: %s", fmt(&e));
	is_str(cfg_get(c, "near", "rpc_urls"), "http://env1 , http://env2",
	       "peek before the check sees the env override, trimmed");
	cfg_where(c, "near", "rpc_urls", where, sizeof(where));
	is_str(where, "env MPC_INDEXER_NEAR__RPC_URLS", "peek: where names the variable");
	is_int(cfg_check_section(c, "near", near_schema, &e), 0, "checks with env set");
	n = cfg_get_list(c, "near", "rpc_urls", &list);
	ok(n == 2 && strcmp(list[0], "http://env1") == 0 && strcmp(list[1], "http://env2") == 0,
	   "env beats the file, trimmed");
	cfg_list_free(list);
	cfg_where(c, "near", "rpc_urls", where, sizeof(where));
	is_str(where, "env MPC_INDEXER_NEAR__RPC_URLS", "where names the variable");
	cfg_get_size(c, "near", "max_body", &u);
	is_int(u, 1 << 20, "env sets a key absent from the file");
	cfg_get_uint(c, "near", "retries", &u);
	is_int(u, 5, "file value where no env");

	setenv("MPC_INDEXER_NEAR__MAX_BODY", "lots", 1);
	is_int(cfg_check_section(c, "near", near_schema, &e), -1, "bad env value refused");
	is_str(fmt(&e), "env MPC_INDEXER_NEAR__MAX_BODY: max_body: 'lots' is not a size "
	       "(e.g. 4096, 64k, 16M, 1G)", "error names the variable");
	unsetenv("MPC_INDEXER_NEAR__MAX_BODY");

	setenv("MPC_INDEXER_NEAR__RPC_URL", "typo", 1);
	is_int(cfg_check_section(c, "near", near_schema, &e), -1, "unknown env key refused");
	ok(strstr(fmt(&e), "env MPC_INDEXER_NEAR__RPC_URL: no such key in [near]") != NULL,
	   "\"%s\"", line);
	unsetenv("MPC_INDEXER_NEAR__RPC_URL");
	unsetenv("MPC_INDEXER_NEAR__RPC_URLS");

	/* A section only the environment fills (container set-up). */
	static const struct cfg_key tee[] = { { "mode", CFG_STR, "dstack", NULL },
					      { "interval", CFG_DURATION, "7d", NULL },
					      { NULL, 0, NULL, NULL } };
	const struct cfg_key *const tee_s[] = { tee, NULL };
	double d;
	setenv("MPC_INDEXER_PLUGIN_TEE_ATTESTER__MODE", "mock", 1);
	is_int(cfg_check_section(c, "plugin.tee-attester", tee_s, &e), 0, "env-only section");
	is_str(cfg_get(c, "plugin.tee-attester", "mode"), "mock", "env value in an absent section");
	cfg_get_duration(c, "plugin.tee-attester", "interval", &d);
	ok(d == 7 * 86400, "default duration 7d");
	unsetenv("MPC_INDEXER_PLUGIN_TEE_ATTESTER__MODE");
	cfg_free(c);
}

static void test_parsers(void)
{
	static const struct { const char *s; double v; } durs[] = {
		{ "500ms", 0.5 }, { "10s", 10 }, { "5m", 300 }, { "1h", 3600 }, { "1.5", 1.5 },
		{ "2d", 172800 }, { "1m30s", 90 }, { "250us", 0.00025 }, { "0", 0 }, { "3 min", 180 },
	};
	static const char *const bad_durs[] = { "", "s", "10x", "-1", "1e3", "0x10", "1s 2",
						"inf", "1.2.3s", "10 10" };
	static const struct { const char *s; uint64_t v; } sizes[] = {
		{ "4096", 4096 }, { "64k", 65536 }, { "16M", 16 << 20 }, { "1G", 1 << 30 },
		{ "1.5k", 1536 }, { "16MiB", 16 << 20 }, { "2KB", 2048 }, { "1T", 1ull << 40 },
		{ "10b", 10 },
	};
	static const char *const bad_sizes[] = { "", "k", "12q", "-1", "99999999999T", "1kk",
						 "18446744073709551616" };
	static const char *const yes[] = { "yes", "TRUE", "On", "1" };
	static const char *const no[] = { "no", "False", "OFF", "0" };
	double d;
	uint64_t u;
	int b, good = 0;

	for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++)
		good += cfg_parse_duration(durs[i].s, &d) == 0 && fabs(d - durs[i].v) < 1e-12;
	is_int(good, sizeof(durs) / sizeof(durs[0]), "durations parse");
	good = 0;
	for (size_t i = 0; i < sizeof(bad_durs) / sizeof(bad_durs[0]); i++) {
		int rc = cfg_parse_duration(bad_durs[i], &d);

		if (rc == 0)
			diag("duration '%s' accepted as %g", bad_durs[i], d);
		good += rc == -EINVAL;
	}
	is_int(good, sizeof(bad_durs) / sizeof(bad_durs[0]), "bad durations refused");
	good = 0;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		good += cfg_parse_size(sizes[i].s, &u) == 0 && u == sizes[i].v;
	is_int(good, sizeof(sizes) / sizeof(sizes[0]), "sizes parse");
	good = 0;
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		int rc = cfg_parse_size(bad_sizes[i], &u);

		if (rc == 0)
			diag("size '%s' accepted as %llu", bad_sizes[i], (unsigned long long)u);
		good += rc == -EINVAL;
	}
	is_int(good, sizeof(bad_sizes) / sizeof(bad_sizes[0]), "bad sizes refused");
	good = 0;
	for (int i = 0; i < 4; i++)
		good += cfg_parse_bool(yes[i], &b) == 0 && b == 1 && cfg_parse_bool(no[i], &b) == 0 && b == 0;
	is_int(good, 4, "booleans");
	is_int(cfg_parse_bool("maybe", &b), -EINVAL, "maybe is not a boolean");
}

static void test_secret_file(void)
{
	struct cfg_error e;
	char key[300], msg[600];

	snprintf(key, sizeof(key), "%s/key.json", dir);
	write_file("key.json", "{}");
	chmod(key, 0644);
	is_int(cfg_check_secret_file(key, &e), -1, "mode 0644 refused");
	snprintf(msg, sizeof(msg), "key file %s: mode 0644 is readable by group or others; "
		 "chmod 600 it", key);
	is_str(fmt(&e), msg, "says why and what to do");
	chmod(key, 0620);
	is_int(cfg_check_secret_file(key, &e), -1, "group-writable refused");
	ok(strstr(e.msg, "writable") != NULL, "\"%s\"", e.msg);
	chmod(key, 0600);
	is_int(cfg_check_secret_file(key, &e), 0, "mode 0600 accepted");
	chmod(key, 0400);
	is_int(cfg_check_secret_file(key, &e), 0, "mode 0400 accepted");
	unlink(key);
	is_int(cfg_check_secret_file(key, &e), -1, "missing key file refused");
	ok(strstr(e.msg, "No such file") != NULL, "\"%s\"", e.msg);
	is_int(cfg_check_secret_file(dir, &e), -1, "directory refused");
	ok(strstr(e.msg, "not a regular file") != NULL, "\"%s\"", e.msg);

	struct cfg_error fe = { "etc/x.ini", 7, "key_file", "boom" };
	is_str(fmt(&fe), "etc/x.ini:7: key_file: boom", "format with every part");
	struct cfg_error ne = { "", 0, "", "just this" };
	is_str(fmt(&ne), "just this", "format with message only");
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));
	test_load_errors();
	test_values();
	test_bad_values();
	test_env();
	test_parsers();
	test_secret_file();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
