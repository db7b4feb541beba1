/* Signer keys from files and the environment. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "keyfile.h"

#define KEYFILE_MAX 4096

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A NEAR key file's "public_key", when it has one, must be the secret's: a
 * file that pairs two keys would sign with one while the operator adds the
 * other to the account. */
static int check_public_key(const cJSON *pk, const struct near_secret *sk,
			    char *err, size_t errsz, const char *where)
{
	struct near_pubkey named, derived;

	if (!pk)
		return 0;
	if (!cJSON_IsString(pk) || near_pubkey_parse(&named, pk->valuestring) != 0) {
		snprintf(err, errsz, "%s: \"public_key\" is not an ed25519 public key", where);
		return -1;
	}
	near_secret_pubkey(&derived, sk);
	if (!near_pubkey_equal(&named, &derived)) {
		snprintf(err, errsz, "%s: \"public_key\" is not the public key of \"secret_key\" "
			 "(the file pairs two different keys)", where);
		return -1;
	}
	return 0;
}

static int parse_key_text(char *text, size_t len, struct near_secret *out,
			  char *account, size_t account_sz, char *err, size_t errsz,
			  const char *where)
{
	char *s = text;
	if (memchr(text, 0, len)) {
		snprintf(err, errsz, "%s: holds a NUL byte (at byte %zu)", where,
			 (size_t)((char *)memchr(text, 0, len) - text));
		return -1;
	}
	while (len && is_blank(s[len - 1]))
		s[--len] = 0;
	while (is_blank(*s))
		s++;
	if (*s != '{') {
		if (near_secret_parse(out, s) != 0) {
			snprintf(err, errsz, "%s: not a valid ed25519 secret key "
				 "(want \"ed25519:<base58 of 64 bytes>\" or NEAR's JSON key file)",
				 where);
			return -1;
		}
		return 0;
	}
	/* The text and its NUL: nothing may follow the JSON value. */
	cJSON *j = cJSON_ParseWithLengthOpts(s, len - (size_t)(s - text) + 1, NULL, 1);
	if (!j) {
		snprintf(err, errsz, "%s: not valid JSON", where);
		return -1;
	}
	const cJSON *sk = cJSON_GetObjectItemCaseSensitive(j, "secret_key");
	if (!cJSON_IsString(sk))
		sk = cJSON_GetObjectItemCaseSensitive(j, "private_key");
	const cJSON *acct = cJSON_GetObjectItemCaseSensitive(j, "account_id");
	int rc = -1;
	if (!cJSON_IsString(sk))
		snprintf(err, errsz, "%s: no \"secret_key\" string in the JSON key file", where);
	else if (near_secret_parse(out, sk->valuestring) != 0)
		snprintf(err, errsz, "%s: \"secret_key\" is not a valid ed25519 secret key", where);
	else if (check_public_key(cJSON_GetObjectItemCaseSensitive(j, "public_key"), out, err,
				  errsz, where) < 0)
		near_secret_wipe(out);
	else
		rc = 0;
	if (rc == 0 && account && account_sz) {
		account[0] = 0;
		if (cJSON_IsString(acct))
			snprintf(account, account_sz, "%s", acct->valuestring);
	}
	if (cJSON_IsString(sk))
		sodium_memzero(sk->valuestring, strlen(sk->valuestring));
	cJSON_Delete(j);
	return rc;
}

int keyfile_load(const char *path, struct near_secret *out, char *account,
		 size_t account_sz, char *err, size_t errsz)
{
	struct cfg_error ce;
	char buf[KEYFILE_MAX + 1];
	char m[512];

	if (cfg_check_secret_file(path, &ce) < 0) {
		snprintf(err, errsz, "%s", cfg_format_error(&ce, m, sizeof(m)));
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errsz, "key file %s: %s", path, strerror(errno));
		return -1;
	}
	size_t len = 0;
	ssize_t r;
	while (len < sizeof(buf) - 1 &&
	       (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = 0;
	int rc;
	if (len >= KEYFILE_MAX) {
		snprintf(err, errsz, "key file %s: larger than %d bytes", path, KEYFILE_MAX);
		rc = -1;
	} else {
		snprintf(m, sizeof(m), "key file %s", path);
		rc = parse_key_text(buf, len, out, account, account_sz, err, errsz, m);
	}
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

int keyfile_from_env(const char *var, struct near_secret *out, char *err,
		     size_t errsz)
{
	const char *v = getenv(var);
	char m[300];
	if (!v || !*v) {
		snprintf(err, errsz, "environment variable %s is not set", var);
		return -1;
	}
	size_t len = strlen(v);
	char *copy = malloc(len + 1);
	if (!copy) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	memcpy(copy, v, len + 1);
	snprintf(m, sizeof(m), "environment variable %s", var);
	int rc = parse_key_text(copy, len, out, NULL, 0, err, errsz, m);
	sodium_memzero(copy, len);
	free(copy);
	return rc;
}
