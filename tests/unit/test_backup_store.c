/* The backup file format: encryption at rest, tamper detection, the
 * no-downgrade rule, retention, key and directory permissions, failed writes
 * (full disk, read-only directory) leaving the previous backup intact, and
 * the transport encryption against the reference vector. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../tap.h"
#include "backup_store.h"

static char tmp[] = "/tmp/mpci-test-backup-store-XXXXXX";
static unsigned char key[32], key2[32], tkey[32];

#define SECRET_SHARE "5ec2e7000000000000000000000000000000000000000000000000000000beef"

/* Keyshares JSON for an epoch and domains (attempt = 10 * domain). */
static char *keyshares(unsigned epoch, const unsigned *doms, size_t n, size_t pad)
{
	size_t cap = 512 * n + pad + 16;
	char *s = malloc(cap);
	size_t k = (size_t)snprintf(s, cap, "[");
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(s + k, cap - k,
				      "%s{\"key_id\":{\"epoch_id\":%u,\"domain_id\":%u,\"attempt_id\":%u},"
				      "\"data\":{\"Secp256k1\":{\"private_share\":\"" SECRET_SHARE
				      "\",\"public_key\":\"02aa\",\"pad\":\"%*s\"}}}",
				      i ? "," : "", epoch, doms[i], doms[i] * 10,
				      (int)(i == 0 ? pad : 0), "");
	snprintf(s + k, cap - k, "]");
	return s;
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long l = ftell(f);
	rewind(f);
	char *s = malloc((size_t)l + 1);
	*n = fread(s, 1, (size_t)l, f);
	s[*n] = 0;
	fclose(f);
	return s;
}

static int contains(const char *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}

static void put_file(const char *path, const char *text, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		bail_out("cannot write %s", path);
	fchmod(fd, mode);
	close(fd);
}

static int write_epoch(const char *dir, unsigned epoch, const unsigned *doms, size_t n,
		       unsigned retention, char *err, size_t errsz)
{
	char *ks = keyshares(epoch, doms, n, 0);
	int rc = backup_write(dir, key, "frodo.test.near", epoch, ks, strlen(ks), retention, NULL,
			      err, errsz);
	free(ks);
	return rc;
}

static void test_transport_vector(void)
{
	char path[4096], err[256];
	size_t n;
	snprintf(path, sizeof(path), "%s/tests/fixtures/backup/keyshare_encryption_vectors.json",
		 getenv("top_srcdir") ? getenv("top_srcdir") : "../..");
	char *text = slurp(path, &n);
	if (!text)
		bail_out("cannot read %s", path);
	cJSON *j = cJSON_Parse(text);
	const cJSON *t = cJSON_GetObjectItem(j, "transport");
	const char *khex = cJSON_GetObjectItem(t, "key_hex")->valuestring;
	const char *body = cJSON_GetObjectItem(t, "http_body_base64_standard_padded")->valuestring;
	const char *plain = cJSON_GetObjectItem(t, "plaintext_utf8")->valuestring;
	unsigned char k[32];
	for (int i = 0; i < 32; i++)
		sscanf(khex + 2 * i, "%2hhx", &k[i]);
	char *pt = NULL;
	size_t pl = 0;
	is_int(backup_transport_open(k, body, strlen(body), &pt, &pl, err, sizeof(err)), 0,
	       "the reference transport vector decrypts");
	ok(pt && pl == strlen(plain) && memcmp(pt, plain, pl) == 0, "to the reference keyshares");
	struct backup_info info;
	is_int(backup_keyshares_scan(pt, pl, &info, err, sizeof(err)), 0, "which scan as keyshares");
	ok(info.epoch_id == 4 && info.n_domains == 1 && info.domains[0].attempt_id == 240,
	   "epoch 4, domain 0, attempt 240");
	backup_secret_free(pt);

	char *sealed = NULL;
	is_int(backup_transport_seal(tkey, plain, strlen(plain), &sealed, &n, err, sizeof(err)), 0,
	       "sealing works");
	is_int(backup_transport_open(tkey, sealed, n, &pt, &pl, err, sizeof(err)), 0,
	       "and opens with the same key");
	ok(pt && pl == strlen(plain) && memcmp(pt, plain, pl) == 0, "round trip is exact");
	backup_secret_free(pt);
	ok(backup_transport_open(k, sealed, n, &pt, &pl, err, sizeof(err)) < 0 && !pt &&
	   strstr(err, "wrong transport key"), "a wrong transport key is named as such: %s", err);
	sealed[20] = sealed[20] == 'A' ? 'B' : 'A';
	ok(backup_transport_open(tkey, sealed, n, &pt, &pl, err, sizeof(err)) < 0,
	   "tampered ciphertext is refused");
	ok(backup_transport_open(tkey, "internal error serializing", 26, &pt, &pl, err,
				 sizeof(err)) < 0 && strstr(err, "not base64"),
	   "a non-base64 body is refused: %s", err);
	ok(backup_transport_open(tkey, "AAAA", 4, &pt, &pl, err, sizeof(err)) < 0 &&
	   strstr(err, "too short"), "a too-short body is refused: %s", err);
	free(sealed);
	cJSON_Delete(j);
	free(text);
}

static void test_scan(void)
{
	struct backup_info info;
	char err[256];
	static const struct {
		const char *json, *why;
	} bad[] = {
		{ "{}", "not an array" },
		{ "[{\"key_id\":{\"epoch_id\":1,\"domain_id\":0,\"attempt_id\":0}}]", "no data" },
		{ "[{\"data\":{}}]", "no key_id" },
		{ "[{\"key_id\":{\"epoch_id\":1,\"domain_id\":0},\"data\":1}]", "no attempt_id" },
		{ "[{\"key_id\":{\"epoch_id\":1,\"domain_id\":0,\"attempt_id\":0},\"data\":1},"
		  "{\"key_id\":{\"epoch_id\":1,\"domain_id\":0,\"attempt_id\":0},\"data\":1}]", "a domain twice" },
		{ "[{\"key_id\":{\"epoch_id\":1,\"domain_id\":0,\"attempt_id\":0},\"data\":1},"
		  "{\"key_id\":{\"epoch_id\":2,\"domain_id\":1,\"attempt_id\":0},\"data\":1}]", "mixed epochs" },
		{ "[{\"key_id\":{\"epoch_id\":-1,\"domain_id\":0,\"attempt_id\":0},\"data\":1}]", "negative epoch" },
		{ "[{\"key_id\":{\"epoch_id\":1.5,\"domain_id\":0,\"attempt_id\":0},\"data\":1}]", "fractional epoch" },
		{ "[{\"key_id\":{\"epoch_id\":18446744073709551616,\"domain_id\":0,\"attempt_id\":0},\"data\":1}]", "epoch over u64" },
		{ "[{\"key_id\":{\"epoch_id\":1,\"domain_id\":0,\"attempt_id\":0},\"data\":\"x]", "unterminated string" },
		{ "[{\"key_id\":{\"epoch_id\":1,\"domain_id\":0,\"attempt_id\":0},\"data\":1}] x", "trailing bytes" },
		{ "[{\"key_id\":{\"epoch_id\":1,\"domain_id\":0,\"attempt_id\":0},\"data\":tru}]", "bad literal" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(backup_keyshares_scan(bad[i].json, strlen(bad[i].json), &info, err, sizeof(err)) < 0,
		   "scan refuses %s: %s", bad[i].why, err);
	char deep[400];
	size_t k = (size_t)snprintf(deep, sizeof(deep), "[{\"key_id\":{\"epoch_id\":1,\"domain_id\":0,\"attempt_id\":0},\"data\":");
	for (int i = 0; i < 100; i++)
		deep[k++] = '[';
	deep[k] = 0;
	ok(backup_keyshares_scan(deep, k, &info, err, sizeof(err)) < 0 && strstr(err, "deep"),
	   "scan refuses deep nesting: %s", err);
	static const unsigned doms[] = { 2, 0, 1 };
	char *ks = keyshares(7, doms, 3, 0);
	is_int(backup_keyshares_scan(ks, strlen(ks), &info, err, sizeof(err)), 0, "valid keyshares scan");
	ok(info.epoch_id == 7 && info.n_domains == 3 && info.domains[0].domain_id == 0 &&
	   info.domains[2].domain_id == 2 && info.domains[2].attempt_id == 20,
	   "epoch, domains (sorted) and attempts are read");
	free(ks);
}

static void test_files(void)
{
	char dir[4096], path[4200], err[512];
	struct backup_info info;
	static const unsigned d01[] = { 0, 1 }, d012[] = { 0, 1, 2 }, d0[] = { 0 };
	snprintf(dir, sizeof(dir), "%s/store", tmp);
	is_int(backup_dir_check(dir, 1, err, sizeof(err)), 0, "a missing backup directory is created");
	struct stat st;
	stat(dir, &st);
	is_int(st.st_mode & 0777, 0700, "with mode 0700");

	is_int(write_epoch(dir, 4, d01, 2, 3, err, sizeof(err)), BACKUP_OK, "epoch 4 is stored");
	snprintf(path, sizeof(path), "%s/epoch-4.mpcbak", dir);
	stat(path, &st);
	is_int(st.st_mode & 0777, 0600, "the file is mode 0600");
	size_t n;
	char *file = slurp(path, &n);
	ok(file && !contains(file, n, SECRET_SHARE) && !contains(file, n, "private_share"),
	   "the plaintext keyshares do not occur in the file");
	free(file);

	char *ks = NULL;
	size_t kl;
	is_int(backup_read(path, key, &info, &ks, &kl, err, sizeof(err)), BACKUP_OK, "it reads back");
	char *want = keyshares(4, d01, 2, 0);
	ok(ks && kl == strlen(want) && memcmp(ks, want, kl) == 0, "to exactly the keyshares stored");
	backup_secret_free(ks);
	free(want);
	is_int(backup_read(path, key2, &info, NULL, NULL, err, sizeof(err)), BACKUP_WRONG_KEY,
	       "another storage key is recognised: %s", err);

	/* every byte matters */
	file = slurp(path, &n);
	int refused = 0;
	size_t positions[] = { 0, 7, 9, 20, n / 3, n - 60, n - 40, n - 17, n - 1 };
	for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
		char fpath[4300];
		snprintf(fpath, sizeof(fpath), "%s/flip.bin", tmp);
		file[positions[i]] ^= 0x01;
		FILE *f = fopen(fpath, "wb");
		fwrite(file, 1, n, f);
		fclose(f);
		file[positions[i]] ^= 0x01;
		if (backup_read(fpath, key, &info, NULL, NULL, err, sizeof(err)) != BACKUP_OK)
			refused++;
		else
			diag("a flip at byte %zu went unnoticed", positions[i]);
	}
	is_int(refused, (int)(sizeof(positions) / sizeof(positions[0])),
	       "a flipped bit anywhere in the file is detected");
	free(file);

	is_int(write_epoch(dir, 3, d01, 2, 3, err, sizeof(err)), BACKUP_STALE,
	       "an older epoch never replaces a newer one: %s", err);
	is_int(write_epoch(dir, 4, d01, 2, 3, err, sizeof(err)), BACKUP_UNCHANGED,
	       "the same keyset again is a no-op");
	is_int(write_epoch(dir, 4, d0, 1, 3, err, sizeof(err)), BACKUP_STALE,
	       "the same epoch with a domain fewer is refused: %s", err);
	{
		char *bad = keyshares(4, d012, 3, 0);
		char *p = strstr(bad, "\"attempt_id\":10");
		memcpy(p, "\"attempt_id\":11", 15);
		ok(backup_write(dir, key, "x", 4, bad, strlen(bad), 3, NULL, err, sizeof(err)) == BACKUP_STALE &&
		   strstr(err, "attempt"), "the same epoch with another attempt is refused: %s", err);
		free(bad);
	}
	is_int(write_epoch(dir, 4, d012, 3, 3, err, sizeof(err)), BACKUP_OK,
	       "the same epoch with an added domain replaces it");
	is_int(backup_newest(dir, key, &info, NULL, 0, NULL, 0), BACKUP_OK, "newest found");
	ok(info.epoch_id == 4 && info.n_domains == 3, "the newest is epoch 4 with 3 domains");
}

static void test_retention_and_list(void)
{
	char dir[4096], err[512];
	static const unsigned d01[] = { 0, 1 };
	snprintf(dir, sizeof(dir), "%s/ret", tmp);
	backup_dir_check(dir, 1, err, sizeof(err));
	for (unsigned e = 1; e <= 5; e++)
		write_epoch(dir, e, d01, 2, 2, err, sizeof(err));
	struct backup_entry *v;
	size_t n;
	is_int(backup_list(dir, &v, &n, err, sizeof(err)), 0, "list reads the directory");
	is_int(n, 2, "retention 2 keeps two files");
	ok(n == 2 && v[0].info.epoch_id == 4 && v[1].info.epoch_id == 5 && v[0].ok,
	   "the two newest epochs, sorted");
	ok(n == 2 && v[1].info.n_keyshares == 2 && strcmp(v[1].info.account_id, "frodo.test.near") == 0,
	   "list reads keyshare count and account without the key");
	free(v);

	/* a damaged newest file is skipped, and named */
	char path[4200], warn[512];
	snprintf(path, sizeof(path), "%s/epoch-9.mpcbak", dir);
	put_file(path, "MPCIBAK\001garbage", 0600);
	struct backup_info info;
	is_int(backup_newest(dir, key, &info, NULL, 0, warn, sizeof(warn)), BACKUP_OK,
	       "a damaged file does not hide the good ones");
	ok(info.epoch_id == 5 && strstr(warn, "epoch-9"), "epoch 5 is the newest good one; warned: %s", warn);
	is_int(write_epoch(dir, 6, d01, 2, 0, err, sizeof(err)), BACKUP_OK,
	       "and a damaged file with a higher number does not block new backups");
	backup_list(dir, &v, &n, err, sizeof(err));
	ok(n == 4 && !v[3].ok && strstr(v[3].error, "header"), "list reports the damaged file: %s",
	   n == 4 ? v[3].error : "?");
	free(v);
}

static void test_permissions(void)
{
	char path[4200], err[512], dir[4200];
	unsigned char k[32];
	snprintf(path, sizeof(path), "%s/key.hex", tmp);
	put_file(path, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0644);
	ok(backup_key_load(path, k, err, sizeof(err)) < 0 && strstr(err, "0644") && strstr(err, "chmod 600"),
	   "a key file readable by others is refused: %s", err);
	chmod(path, 0640);
	ok(backup_key_load(path, k, err, sizeof(err)) < 0, "a group-readable key file is refused");
	chmod(path, 0600);
	is_int(backup_key_load(path, k, err, sizeof(err)), 0, "a 0600 key file loads");
	ok(k[0] == 0 && k[31] == 0x1f, "and its hex is decoded");
	put_file(path, "xyz\n", 0600);
	ok(backup_key_load(path, k, err, sizeof(err)) < 0 && strstr(err, "64 hex digits"),
	   "a malformed key is refused: %s", err);
	ok(!strstr(err, "xyz"), "without echoing the key file's content");
	snprintf(dir, sizeof(dir), "%s/open", tmp);
	mkdir(dir, 0755);
	chmod(dir, 0755);
	ok(backup_dir_check(dir, 1, err, sizeof(err)) < 0 && strstr(err, "chmod 700"),
	   "a backup directory others can read is refused: %s", err);
}

/* Writes that fail leave the previous backup as it was. */
static void failed_write(const char *dir, const char *how, int expect_errno_text,
			 const char *errtext)
{
	char err[512], path[4200];
	static const unsigned d012[] = { 0, 1, 2 };
	snprintf(path, sizeof(path), "%s/epoch-1.mpcbak", dir);
	size_t n1, n2;
	char *before = slurp(path, &n1);
	char *ks = keyshares(2, d012, 3, 200000);
	int rc = backup_write(dir, key, "frodo.test.near", 2, ks, strlen(ks), 3, NULL, err, sizeof(err));
	free(ks);
	ok(rc == BACKUP_ERR && (!expect_errno_text || strstr(err, errtext)),
	   "%s: the write fails with a clear error: %s", how, err);
	char *after = slurp(path, &n2);
	ok(before && after && n1 == n2 && memcmp(before, after, n1) == 0,
	   "%s: the previous backup is intact", how);
	struct backup_entry *v;
	size_t n;
	backup_list(dir, &v, &n, err, sizeof(err));
	ok(n == 1 && v[0].info.epoch_id == 1, "%s: no partial epoch-2 file appears", how);
	free(v);
	free(before);
	free(after);
}

static void test_full_disk_rlimit(void)
{
	char dir[4096], err[512];
	static const unsigned d01[] = { 0, 1 };
	snprintf(dir, sizeof(dir), "%s/fsize", tmp);
	backup_dir_check(dir, 1, err, sizeof(err));
	write_epoch(dir, 1, d01, 2, 3, err, sizeof(err));
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 65536;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	failed_write(dir, "file size limit (EFBIG)", 1, "too large");
	setrlimit(RLIMIT_FSIZE, &old);
}

/* A real full disk and a read-only file system: a tiny tmpfs in a private
 * mount namespace (root, or an unprivileged user namespace). */
static void test_tmpfs(void)
{
	char dir[4096], err[512];
	static const unsigned d01[] = { 0, 1 };
	snprintf(dir, sizeof(dir), "%s/tmpfs", tmp);
	mkdir(dir, 0700);
	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=128k,mode=0700") < 0) {
		printf("ok %d - # SKIP no tmpfs here (%s): needs root\n", ++tap_count_, strerror(errno));
		return;
	}
	is_int(write_epoch(dir, 1, d01, 2, 3, err, sizeof(err)), BACKUP_OK, "tmpfs: epoch 1 stored");
	char fill[4200];
	snprintf(fill, sizeof(fill), "%s/filler", dir);
	int fd = open(fill, O_WRONLY | O_CREAT, 0600);
	char block[4096] = { 0 };
	while (write(fd, block, sizeof(block)) > 0)
		;
	close(fd);
	failed_write(dir, "full disk (ENOSPC)", 1, "No space left");
	unlink(fill);
	if (mount("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL) == 0) {
		failed_write(dir, "read-only directory (EROFS)", 1, "Read-only");
		mount("tmpfs", dir, "tmpfs", MS_REMOUNT, "size=128k,mode=0700");
	}
	is_int(write_epoch(dir, 2, d01, 2, 3, err, sizeof(err)), BACKUP_OK,
	       "tmpfs: once there is room again, the next write succeeds");
	umount(dir);
}

int main(void)
{
	if (!mkdtemp(tmp))
		bail_out("mkdtemp");
	memset(key, 0x11, sizeof(key));
	memset(key2, 0x22, sizeof(key2));
	memset(tkey, 0x33, sizeof(tkey));
	test_transport_vector();
	test_scan();
	test_files();
	test_retention_and_list();
	test_permissions();
	test_full_disk_rlimit();
	test_tmpfs();
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		diag("could not remove %s", tmp);
	return done_testing();
}
