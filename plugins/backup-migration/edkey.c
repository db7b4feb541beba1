/* ed25519 keys in NEAR's text form. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "edkey.h"

static const char b58_alphabet[] =
	"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

int edkey_b58_decode(const char *s, size_t slen, uint8_t *out, size_t outsz,
		     size_t *outlen)
{
	uint8_t buf[128];
	size_t zeros = 0, len = 0;
	if (slen > 2 * sizeof(buf))
		return -1;
	while (zeros < slen && s[zeros] == '1')
		zeros++;
	for (size_t i = zeros; i < slen; i++) {
		const char *pos = s[i] ? strchr(b58_alphabet, s[i]) : NULL;
		if (!pos)
			return -1;
		unsigned carry = (unsigned)(pos - b58_alphabet);
		for (size_t j = 0; j < len; j++) {
			carry += (unsigned)buf[j] * 58;
			buf[j] = (uint8_t)carry;
			carry >>= 8;
		}
		while (carry) {
			if (len == sizeof(buf))
				return -1;
			buf[len++] = (uint8_t)carry;
			carry >>= 8;
		}
	}
	if (zeros + len > outsz)
		return -1;
	memset(out, 0, zeros);
	for (size_t i = 0; i < len; i++)
		out[zeros + i] = buf[len - 1 - i];
	*outlen = zeros + len;
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

int edkey_b58_encode(const uint8_t *in, size_t n, char *out, size_t outsz)
{
	uint8_t digits[160];
	size_t zeros = 0, len = 0;
	if (n > 100)
		return -1;
	while (zeros < n && in[zeros] == 0)
		zeros++;
	for (size_t i = zeros; i < n; i++) {
		unsigned carry = in[i];
		for (size_t j = 0; j < len; j++) {
			carry += (unsigned)digits[j] << 8;
			digits[j] = (uint8_t)(carry % 58);
			carry /= 58;
		}
		while (carry) {
			digits[len++] = (uint8_t)(carry % 58);
			carry /= 58;
		}
	}
	if (zeros + len + 1 > outsz)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < zeros; i++)
		out[k++] = '1';
	for (size_t i = 0; i < len; i++)
		out[k++] = b58_alphabet[digits[len - 1 - i]];
	out[k] = 0;
	return 0;
}

int edkey_parse_public(const char *s, uint8_t pub[EDKEY_PUB])
{
	size_t n;
	if (!s || strncmp(s, "ed25519:", 8) != 0)
		return -1;
	if (edkey_b58_decode(s + 8, strlen(s + 8), pub, EDKEY_PUB, &n) < 0 || n != EDKEY_PUB)
		return -1;
	return 0;
}

const char *edkey_format_public(const uint8_t pub[EDKEY_PUB], char buf[EDKEY_TEXT])
{
	memcpy(buf, "ed25519:", 8);
	if (edkey_b58_encode(pub, EDKEY_PUB, buf + 8, EDKEY_TEXT - 8) < 0)
		buf[8] = 0;
	return buf;
}

static void wipe_strings(cJSON *j)
{
	for (; j; j = j->next) {
		if (j->valuestring)
			sodium_memzero(j->valuestring, strlen(j->valuestring));
		wipe_strings(j->child);
	}
}

static int fail(char *err, size_t n, const char *path, const char *why)
{
	snprintf(err, n, "key file %s: %s", path, why);
	return -1;
}

int edkey_load_secret(const char *path, uint8_t seed[EDKEY_SEED],
		      uint8_t pub[EDKEY_PUB], char *err, size_t errsz)
{
	char text[4096];
	uint8_t raw[64], sk[crypto_sign_SECRETKEYBYTES], derived[EDKEY_PUB];
	struct stat st;
	cJSON *j = NULL;
	int rc = -1;
	size_t n = 0;

	if (!path || !*path) {
		snprintf(err, errsz, "no key file configured");
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(err, errsz, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errsz, path, "not a regular file");
	}
	if (st.st_mode & 077) {
		close(fd);
		snprintf(err, errsz, "key file %s: mode %04o lets group or others access it; chmod 600 it",
			 path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	ssize_t got = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (got < 0)
		return fail(err, errsz, path, strerror(errno));
	text[got] = 0;
	const char *s = text;
	while (isspace((unsigned char)*s))
		s++;
	char key[200];
	key[0] = 0;
	if (*s == '{') {
		j = cJSON_Parse(s);
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "private_key");
		if (!cJSON_IsString(v))
			v = cJSON_GetObjectItemCaseSensitive(j, "secret_key");
		if (!cJSON_IsString(v) || strlen(v->valuestring) >= sizeof(key)) {
			fail(err, errsz, path, "JSON without a \"private_key\" or \"secret_key\" string");
			goto out;
		}
		snprintf(key, sizeof(key), "%s", v->valuestring);
	} else {
		size_t l = strcspn(s, " \t\r\n");
		if (l >= sizeof(key)) {
			fail(err, errsz, path, "the key is too long");
			goto out;
		}
		memcpy(key, s, l);
		key[l] = 0;
	}
	if (strncmp(key, "ed25519:", 8) != 0 ||
	    edkey_b58_decode(key + 8, strlen(key + 8), raw, sizeof(raw), &n) < 0 ||
	    (n != 64 && n != 32)) {
		fail(err, errsz, path, "expected an ed25519:<base58> secret key of 64 (or 32) bytes");
		goto out;
	}
	memcpy(seed, raw, EDKEY_SEED);
	crypto_sign_seed_keypair(derived, sk, seed);
	if (n == 64 && sodium_memcmp(derived, raw + 32, EDKEY_PUB) != 0) {
		fail(err, errsz, path, "its public half does not belong to its seed");
		sodium_memzero(seed, EDKEY_SEED);
		goto out;
	}
	memcpy(pub, derived, EDKEY_PUB);
	rc = 0;
out:
	if (j) {
		wipe_strings(j);
		cJSON_Delete(j);
	}
	sodium_memzero(text, sizeof(text));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(sk, sizeof(sk));
	return rc;
}
