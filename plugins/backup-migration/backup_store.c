/* The backup file format and the transport encryption (see backup_store.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "backup_store.h"

#define MAGIC "MPCIBAK"
#define MAGIC_LEN 7
#define FORMAT_VERSION 1
#define PREFIX_LEN (MAGIC_LEN + 1 + 4)
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define GCM_NONCE 12
#define GCM_TAG 16
#define JSON_MAX_DEPTH 64

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	if (err && n) {
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return BACKUP_ERR;
}

static int ensure_sodium(char *err, size_t n)
{
	if (sodium_init() < 0)
		return fail(err, n, "libsodium failed to initialise");
	return 0;
}

/* A secret buffer of n + 1 bytes, NUL-terminated. */
static char *secret_alloc(size_t n)
{
	if (n >= SIZE_MAX - 1 || sodium_init() < 0)
		return NULL;
	char *p = sodium_malloc(n + 1);
	if (p)
		p[n] = 0;
	return p;
}

void backup_secret_free(char *p)
{
	if (p)
		sodium_free(p);
}

const char *backup_format_time(int64_t unix_s, char *buf, size_t n)
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "%" PRId64, unix_s);
	return buf;
}

const char *backup_default_dir(const char *state_dir, char *buf, size_t n)
{
	snprintf(buf, n, "%s/backup-migration", state_dir && *state_dir ? state_dir : ".");
	return buf;
}

/* ---- keys and directories ---- */

int backup_key_load(const char *path, unsigned char key[BACKUP_KEY_BYTES],
		    char *err, size_t errsz)
{
	char buf[256];
	struct stat st;
	int rc = BACKUP_ERR;

	if (!path || !*path)
		return fail(err, errsz, "no key file configured");
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(err, errsz, "key file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		fail(err, errsz, "key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(err, errsz, "key file %s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		fail(err, errsz, "key file %s: mode %04o lets group or others access it; chmod 600 it",
		     path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	ssize_t got = read(fd, buf, sizeof(buf) - 1);
	if (got < 0) {
		fail(err, errsz, "key file %s: %s", path, strerror(errno));
		goto out;
	}
	buf[got] = 0;
	const char *s = buf, *e = buf + got;
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	size_t bin_len = 0;
	if (e - s != 2 * BACKUP_KEY_BYTES ||
	    sodium_hex2bin(key, BACKUP_KEY_BYTES, s, (size_t)(e - s), NULL, &bin_len, NULL) != 0 ||
	    bin_len != BACKUP_KEY_BYTES) {
		fail(err, errsz, "key file %s: expected %d hex digits (a %d-byte key)",
		     path, 2 * BACKUP_KEY_BYTES, BACKUP_KEY_BYTES);
		sodium_memzero(key, BACKUP_KEY_BYTES);
		goto out;
	}
	rc = BACKUP_OK;
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

int backup_dir_check(const char *dir, int create, char *err, size_t errsz)
{
	struct stat st;
	if (!dir || !*dir)
		return fail(err, errsz, "no backup directory configured");
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT || !create)
			return fail(err, errsz, "backup directory %s: %s", dir, strerror(errno));
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return fail(err, errsz, "backup directory %s: cannot create it: %s",
				    dir, strerror(errno));
		if (stat(dir, &st) < 0)
			return fail(err, errsz, "backup directory %s: %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return fail(err, errsz, "backup directory %s: not a directory", dir);
	if (st.st_mode & 077)
		return fail(err, errsz, "backup directory %s: mode %04o lets group or others in; chmod 700 it",
			    dir, (unsigned)(st.st_mode & 07777));
	return BACKUP_OK;
}

/* ---- a strict JSON scanner for the keyshares (secret: nothing is copied) ---- */

struct scan {
	const char *p, *end;
	char *err;
	size_t errsz;
	const char *start;
};

static int scan_fail(struct scan *s, const char *what)
{
	return fail(s->err, s->errsz, "keyshares JSON, byte %zu: %s",
		    (size_t)(s->p - s->start), what);
}

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int lit(struct scan *s, char c)
{
	ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return 1;
	}
	return 0;
}

/* A string; [*a, *b) is its raw content, without the quotes. */
static int str(struct scan *s, const char **a, const char **b)
{
	ws(s);
	if (s->p >= s->end || *s->p != '"')
		return scan_fail(s, "expected a string");
	s->p++;
	*a = s->p;
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;
		if (c < 0x20)
			return scan_fail(s, "control character in a string");
		if (c == '\\') {
			s->p++;
			if (s->p >= s->end)
				break;
			if (*s->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (s->p + i >= s->end || !isxdigit((unsigned char)s->p[i]))
						return scan_fail(s, "bad \\u escape");
				s->p += 4;
			} else if (!strchr("\"\\/bfnrt", *s->p)) {
				return scan_fail(s, "bad escape");
			}
		}
		s->p++;
	}
	if (s->p >= s->end)
		return scan_fail(s, "unterminated string");
	*b = s->p++;
	return 0;
}

static int number(struct scan *s)
{
	const char *q = s->p;
	if (q < s->end && *q == '-')
		q++;
	if (q >= s->end || !isdigit((unsigned char)*q))
		return scan_fail(s, "expected a value");
	if (*q == '0')
		q++;
	else
		while (q < s->end && isdigit((unsigned char)*q))
			q++;
	if (q < s->end && *q == '.') {
		q++;
		if (q >= s->end || !isdigit((unsigned char)*q))
			return scan_fail(s, "bad number");
		while (q < s->end && isdigit((unsigned char)*q))
			q++;
	}
	if (q < s->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < s->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= s->end || !isdigit((unsigned char)*q))
			return scan_fail(s, "bad number");
		while (q < s->end && isdigit((unsigned char)*q))
			q++;
	}
	s->p = q;
	return 0;
}

static int value(struct scan *s, int depth);

static int skip_container(struct scan *s, int depth, char close, int object)
{
	if (depth > JSON_MAX_DEPTH)
		return scan_fail(s, "nested too deeply");
	s->p++;
	if (lit(s, close))
		return 0;
	for (;;) {
		if (object) {
			const char *a, *b;
			if (str(s, &a, &b) < 0)
				return BACKUP_ERR;
			if (!lit(s, ':'))
				return scan_fail(s, "expected ':'");
		}
		if (value(s, depth + 1) < 0)
			return BACKUP_ERR;
		if (lit(s, close))
			return 0;
		if (!lit(s, ','))
			return scan_fail(s, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int value(struct scan *s, int depth)
{
	ws(s);
	if (s->p >= s->end)
		return scan_fail(s, "unexpected end");
	const char *a, *b;
	switch (*s->p) {
	case '{':
		return skip_container(s, depth, '}', 1);
	case '[':
		return skip_container(s, depth, ']', 0);
	case '"':
		return str(s, &a, &b);
	case 't':
	case 'f':
	case 'n': {
		static const char *const words[] = { "true", "false", "null" };
		for (int i = 0; i < 3; i++) {
			size_t l = strlen(words[i]);
			if ((size_t)(s->end - s->p) >= l && memcmp(s->p, words[i], l) == 0) {
				s->p += l;
				return 0;
			}
		}
		return scan_fail(s, "bad literal");
	}
	default:
		return number(s);
	}
}

static int u64(struct scan *s, uint64_t *out)
{
	ws(s);
	uint64_t v = 0;
	const char *q = s->p;
	if (q >= s->end || !isdigit((unsigned char)*q))
		return scan_fail(s, "expected an unsigned integer");
	if (*q == '0' && q + 1 < s->end && isdigit((unsigned char)q[1]))
		return scan_fail(s, "leading zero");
	for (; q < s->end && isdigit((unsigned char)*q); q++) {
		unsigned d = (unsigned)(*q - '0');
		if (v > (UINT64_MAX - d) / 10)
			return scan_fail(s, "integer out of range");
		v = v * 10 + d;
	}
	if (q < s->end && (*q == '.' || *q == 'e' || *q == 'E'))
		return scan_fail(s, "expected an unsigned integer");
	s->p = q;
	*out = v;
	return 0;
}

static int key_is(const char *a, const char *b, const char *name)
{
	return (size_t)(b - a) == strlen(name) && memcmp(a, name, (size_t)(b - a)) == 0;
}

static int key_id(struct scan *s, uint64_t v[3])
{
	static const char *const names[] = { "epoch_id", "domain_id", "attempt_id" };
	int seen[3] = { 0, 0, 0 };
	if (!lit(s, '{'))
		return scan_fail(s, "key_id is not an object");
	if (!lit(s, '}')) {
		for (;;) {
			const char *a, *b;
			if (str(s, &a, &b) < 0)
				return BACKUP_ERR;
			if (!lit(s, ':'))
				return scan_fail(s, "expected ':'");
			int k = -1;
			for (int i = 0; i < 3; i++)
				if (key_is(a, b, names[i]))
					k = i;
			if (k >= 0) {
				if (seen[k]++)
					return scan_fail(s, "duplicate member in key_id");
				if (u64(s, &v[k]) < 0)
					return BACKUP_ERR;
			} else if (value(s, 3) < 0) {
				return BACKUP_ERR;
			}
			if (lit(s, '}'))
				break;
			if (!lit(s, ','))
				return scan_fail(s, "expected ',' or '}'");
		}
	}
	for (int i = 0; i < 3; i++)
		if (!seen[i])
			return fail(s->err, s->errsz, "keyshares JSON: key_id lacks %s", names[i]);
	return 0;
}

static int cmp_domain(const void *a, const void *b)
{
	const struct backup_domain *x = a, *y = b;
	return x->domain_id < y->domain_id ? -1 : x->domain_id > y->domain_id;
}

int backup_keyshares_scan(const char *json, size_t len, struct backup_info *info,
			  char *err, size_t errsz)
{
	struct scan s = { .p = json, .end = json + len, .err = err, .errsz = errsz, .start = json };
	memset(info, 0, sizeof(*info));
	if (!json)
		return fail(err, errsz, "keyshares JSON: missing");
	if (!lit(&s, '['))
		return scan_fail(&s, "expected an array of keyshares");
	if (!lit(&s, ']')) {
		for (;;) {
			uint64_t v[3] = { 0, 0, 0 };
			int have_id = 0, have_data = 0;
			if (!lit(&s, '{'))
				return scan_fail(&s, "a keyshare is not an object");
			if (!lit(&s, '}')) {
				for (;;) {
					const char *a, *b;
					if (str(&s, &a, &b) < 0)
						return BACKUP_ERR;
					if (!lit(&s, ':'))
						return scan_fail(&s, "expected ':'");
					if (key_is(a, b, "key_id")) {
						if (have_id++)
							return scan_fail(&s, "duplicate key_id");
						if (key_id(&s, v) < 0)
							return BACKUP_ERR;
					} else {
						if (key_is(a, b, "data") && have_data++)
							return scan_fail(&s, "duplicate data");
						if (value(&s, 2) < 0)
							return BACKUP_ERR;
					}
					if (lit(&s, '}'))
						break;
					if (!lit(&s, ','))
						return scan_fail(&s, "expected ',' or '}'");
				}
			}
			if (!have_id || !have_data)
				return fail(err, errsz, "keyshares JSON: keyshare %zu lacks %s",
					    info->n_keyshares, have_id ? "data" : "key_id");
			if (info->n_keyshares == 0)
				info->epoch_id = v[0];
			else if (v[0] != info->epoch_id)
				return fail(err, errsz, "keyshares JSON: keyshares of epochs %" PRIu64
					    " and %" PRIu64 " mixed", info->epoch_id, v[0]);
			for (size_t i = 0; i < info->n_domains; i++)
				if (info->domains[i].domain_id == v[1])
					return fail(err, errsz, "keyshares JSON: domain %" PRIu64
						    " appears twice", v[1]);
			if (info->n_domains == BACKUP_MAX_DOMAINS)
				return fail(err, errsz, "keyshares JSON: more than %d domains",
					    BACKUP_MAX_DOMAINS);
			info->domains[info->n_domains++] =
				(struct backup_domain){ .domain_id = v[1], .attempt_id = v[2] };
			info->n_keyshares++;
			if (lit(&s, ']'))
				break;
			if (!lit(&s, ','))
				return scan_fail(&s, "expected ',' or ']'");
		}
	}
	ws(&s);
	if (s.p != s.end)
		return scan_fail(&s, "trailing bytes after the array");
	qsort(info->domains, info->n_domains, sizeof(info->domains[0]), cmp_domain);
	return BACKUP_OK;
}

/* ---- the header ---- */

static void key_check(const unsigned char key[BACKUP_KEY_BYTES], char out[17])
{
	static const char msg[] = "mpc-indexer backup key check v1";
	unsigned char h[8];
	crypto_generichash(h, sizeof(h), (const unsigned char *)msg, sizeof(msg) - 1,
			   key, BACKUP_KEY_BYTES);
	sodium_bin2hex(out, 17, h, sizeof(h));
}

static char *header_json(const struct backup_info *info)
{
	cJSON *o = cJSON_CreateObject(), *d = cJSON_CreateArray();
	char *text = NULL;
	if (!o || !d) {
		cJSON_Delete(o);
		cJSON_Delete(d);
		return NULL;
	}
	cJSON_AddItemToObject(o, "domains", d);
	/* u64 as JSON numbers would lose precision above 2^53: write strings of
	 * digits for the wide fields, numbers when small. */
	cJSON_AddNumberToObject(o, "format", FORMAT_VERSION);
	char num[24];
	snprintf(num, sizeof(num), "%" PRIu64, info->epoch_id);
	cJSON_AddStringToObject(o, "epoch_id", num);
	for (size_t i = 0; i < info->n_domains; i++) {
		cJSON *e = cJSON_CreateObject();
		if (!e)
			goto out;
		cJSON_AddItemToArray(d, e);
		snprintf(num, sizeof(num), "%" PRIu64, info->domains[i].domain_id);
		cJSON_AddStringToObject(e, "domain_id", num);
		snprintf(num, sizeof(num), "%" PRIu64, info->domains[i].attempt_id);
		cJSON_AddStringToObject(e, "attempt_id", num);
	}
	cJSON_AddNumberToObject(o, "keyshares", (double)info->n_keyshares);
	snprintf(num, sizeof(num), "%" PRId64, info->created_unix);
	cJSON_AddStringToObject(o, "created_unix", num);
	cJSON_AddStringToObject(o, "account_id", info->account_id);
	cJSON_AddStringToObject(o, "key_check", info->key_check);
	text = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return text;
}

static int digits_u64(const cJSON *j, uint64_t *out)
{
	if (!cJSON_IsString(j) || !*j->valuestring || strlen(j->valuestring) > 20)
		return -1;
	uint64_t v = 0;
	for (const char *c = j->valuestring; *c; c++) {
		if (!isdigit((unsigned char)*c))
			return -1;
		unsigned d = (unsigned)(*c - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int header_parse(const char *text, size_t len, struct backup_info *info,
			char *err, size_t errsz)
{
	memset(info, 0, sizeof(*info));
	cJSON *o = cJSON_ParseWithLength(text, len);
	int rc = BACKUP_ERR;
	uint64_t created;
	if (!o || !cJSON_IsObject(o)) {
		fail(err, errsz, "header is not a JSON object");
		goto out;
	}
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(o, "format");
	if (!cJSON_IsNumber(fmt) || fmt->valuedouble != FORMAT_VERSION) {
		fail(err, errsz, "header: unknown format (this version reads format %d)",
		     FORMAT_VERSION);
		goto out;
	}
	const cJSON *ks = cJSON_GetObjectItemCaseSensitive(o, "keyshares");
	const cJSON *acct = cJSON_GetObjectItemCaseSensitive(o, "account_id");
	const cJSON *kc = cJSON_GetObjectItemCaseSensitive(o, "key_check");
	const cJSON *doms = cJSON_GetObjectItemCaseSensitive(o, "domains");
	if (digits_u64(cJSON_GetObjectItemCaseSensitive(o, "epoch_id"), &info->epoch_id) < 0 ||
	    digits_u64(cJSON_GetObjectItemCaseSensitive(o, "created_unix"), &created) < 0 ||
	    created > INT64_MAX || !cJSON_IsNumber(ks) || ks->valuedouble < 0 ||
	    ks->valuedouble > BACKUP_MAX_DOMAINS || ks->valuedouble != (double)(size_t)ks->valuedouble ||
	    !cJSON_IsString(acct) || strlen(acct->valuestring) >= sizeof(info->account_id) ||
	    !cJSON_IsString(kc) || strlen(kc->valuestring) != 16 || !cJSON_IsArray(doms) ||
	    cJSON_GetArraySize(doms) > BACKUP_MAX_DOMAINS) {
		fail(err, errsz, "header: a field is missing or has the wrong type");
		goto out;
	}
	info->created_unix = (int64_t)created;
	info->n_keyshares = (size_t)ks->valuedouble;
	snprintf(info->account_id, sizeof(info->account_id), "%s", acct->valuestring);
	snprintf(info->key_check, sizeof(info->key_check), "%s", kc->valuestring);
	const cJSON *d;
	cJSON_ArrayForEach(d, doms) {
		struct backup_domain *bd = &info->domains[info->n_domains++];
		if (digits_u64(cJSON_GetObjectItemCaseSensitive(d, "domain_id"), &bd->domain_id) < 0 ||
		    digits_u64(cJSON_GetObjectItemCaseSensitive(d, "attempt_id"), &bd->attempt_id) < 0) {
			fail(err, errsz, "header: a domain entry is malformed");
			goto out;
		}
	}
	rc = BACKUP_OK;
out:
	cJSON_Delete(o);
	return rc;
}

/* ---- reading ---- */

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Read the whole file (or only its header part when header_only). */
static int slurp(const char *path, int header_only, unsigned char **out, size_t *len,
		 uint64_t *size, char *err, size_t errsz)
{
	struct stat st;
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(err, errsz, "%s", strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errsz, "not a regular file");
	}
	*size = (uint64_t)st.st_size;
	if ((uint64_t)st.st_size > BACKUP_MAX_FILE) {
		close(fd);
		return fail(err, errsz, "%" PRIu64 " bytes, more than the %u allowed",
			    (uint64_t)st.st_size, BACKUP_MAX_FILE);
	}
	size_t want = (size_t)st.st_size;
	if (header_only && want > PREFIX_LEN + BACKUP_MAX_HEADER)
		want = PREFIX_LEN + BACKUP_MAX_HEADER;
	unsigned char *buf = malloc(want ? want : 1);
	if (!buf) {
		close(fd);
		return fail(err, errsz, "out of memory");
	}
	size_t have = 0;
	while (have < want) {
		ssize_t r = read(fd, buf + have, want - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : 0;
			free(buf);
			close(fd);
			return fail(err, errsz, "%s", e ? strerror(e) : "the file shrank while reading");
		}
		have += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = have;
	return 0;
}

/* Check magic and version; *hdr_len is the header length. */
static int prefix_check(const unsigned char *buf, size_t len, uint32_t *hdr_len,
			char *err, size_t errsz)
{
	if (len < PREFIX_LEN || memcmp(buf, MAGIC, MAGIC_LEN) != 0)
		return fail(err, errsz, "not a backup file (bad magic)");
	if (buf[MAGIC_LEN] != FORMAT_VERSION)
		return fail(err, errsz, "backup format version %u; this version reads %d",
			    buf[MAGIC_LEN], FORMAT_VERSION);
	*hdr_len = get_le32(buf + MAGIC_LEN + 1);
	if (*hdr_len == 0 || *hdr_len > BACKUP_MAX_HEADER || PREFIX_LEN + (size_t)*hdr_len > len)
		return fail(err, errsz, "header length %" PRIu32 " is out of range (truncated file?)",
			    *hdr_len);
	return 0;
}

static int same_domains(const struct backup_info *a, const struct backup_info *b)
{
	if (a->n_domains != b->n_domains || a->n_keyshares != b->n_keyshares)
		return 0;
	for (size_t i = 0; i < a->n_domains; i++)
		if (a->domains[i].domain_id != b->domains[i].domain_id ||
		    a->domains[i].attempt_id != b->domains[i].attempt_id)
			return 0;
	return 1;
}

int backup_read_buffer(const unsigned char *buf, size_t n, const char *name,
		       const unsigned char key[BACKUP_KEY_BYTES], struct backup_info *info,
		       char **keyshares, size_t *len, char *err, size_t errsz)
{
	uint32_t hlen;
	char *pt = NULL, e2[256];
	int rc = BACKUP_ERR;

	if (keyshares)
		*keyshares = NULL;
	if (ensure_sodium(err, errsz) < 0)
		return BACKUP_ERR;
	if (n > BACKUP_MAX_FILE)
		return fail(err, errsz, "%s: %zu bytes, more than the %u allowed", name, n,
			    BACKUP_MAX_FILE);
	if (prefix_check(buf, n, &hlen, e2, sizeof(e2)) < 0 ||
	    header_parse((const char *)buf + PREFIX_LEN, hlen, info, e2, sizeof(e2)) < 0)
		return fail(err, errsz, "%s: %s", name, e2);
	size_t ad_len = PREFIX_LEN + hlen;
	if (n < ad_len + NONCE_LEN + TAG_LEN)
		return fail(err, errsz, "%s: truncated (no room for the ciphertext)", name);
	size_t ct_len = n - ad_len - NONCE_LEN;
	pt = secret_alloc(ct_len - TAG_LEN);
	if (!pt)
		return fail(err, errsz, "%s: out of memory", name);
	unsigned long long pt_len;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    (unsigned char *)pt, &pt_len, NULL, buf + ad_len + NONCE_LEN, ct_len,
		    buf, ad_len, buf + ad_len, key) != 0) {
		char kc[17];
		key_check(key, kc);
		if (strcmp(kc, info->key_check) != 0) {
			rc = BACKUP_WRONG_KEY;
			fail(err, errsz, "%s: written with another storage key (or its header was modified)",
			     name);
		} else {
			rc = BACKUP_AUTH;
			fail(err, errsz, "%s: authentication failed: the file was modified or damaged",
			     name);
		}
		goto out;
	}
	pt[pt_len] = 0;
	/* We wrote {"epoch_id":N,"keyshares":ARRAY}: anything else is not ours. */
	char pre[64];
	int pl = snprintf(pre, sizeof(pre), "{\"epoch_id\":%" PRIu64 ",\"keyshares\":", info->epoch_id);
	if (pt_len < (size_t)pl + 1 || memcmp(pt, pre, (size_t)pl) != 0 || pt[pt_len - 1] != '}') {
		fail(err, errsz, "%s: the decrypted payload does not match the header's epoch", name);
		goto out;
	}
	const char *arr = pt + pl;
	size_t arr_len = pt_len - (size_t)pl - 1;
	struct backup_info got;
	if (backup_keyshares_scan(arr, arr_len, &got, e2, sizeof(e2)) < 0) {
		fail(err, errsz, "%s: %s", name, e2);
		goto out;
	}
	if ((got.n_keyshares && got.epoch_id != info->epoch_id) || !same_domains(&got, info)) {
		fail(err, errsz, "%s: the keyshares do not match the header", name);
		goto out;
	}
	if (keyshares) {
		char *copy = secret_alloc(arr_len);
		if (!copy) {
			fail(err, errsz, "%s: out of memory", name);
			goto out;
		}
		memcpy(copy, arr, arr_len);
		*keyshares = copy;
		if (len)
			*len = arr_len;
	}
	rc = BACKUP_OK;
out:
	backup_secret_free(pt);
	return rc;
}

int backup_read(const char *path, const unsigned char key[BACKUP_KEY_BYTES],
		struct backup_info *info, char **keyshares, size_t *len,
		char *err, size_t errsz)
{
	unsigned char *buf;
	size_t n;
	uint64_t size;
	char e2[256];
	if (keyshares)
		*keyshares = NULL;
	if (slurp(path, 0, &buf, &n, &size, e2, sizeof(e2)) < 0)
		return fail(err, errsz, "%s: %s", path, e2);
	int rc = backup_read_buffer(buf, n, path, key, info, keyshares, len, err, errsz);
	free(buf);
	return rc;
}

/* ---- listing ---- */

static int parse_name(const char *name, uint64_t *epoch)
{
	size_t l = strlen(name), sl = strlen(BACKUP_SUFFIX);
	if (strncmp(name, "epoch-", 6) != 0 || l <= 6 + sl ||
	    strcmp(name + l - sl, BACKUP_SUFFIX) != 0)
		return -1;
	uint64_t v = 0;
	for (const char *c = name + 6; c < name + l - sl; c++) {
		if (!isdigit((unsigned char)*c))
			return -1;
		unsigned d = (unsigned)(*c - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*epoch = v;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct backup_entry *x = a, *y = b;
	if (x->ok != y->ok)
		return y->ok - x->ok;
	if (x->info.epoch_id != y->info.epoch_id)
		return x->info.epoch_id < y->info.epoch_id ? -1 : 1;
	return strcmp(x->path, y->path);
}

int backup_list(const char *dir, struct backup_entry **out, size_t *n,
		char *err, size_t errsz)
{
	*out = NULL;
	*n = 0;
	DIR *dh = opendir(dir);
	if (!dh)
		return fail(err, errsz, "backup directory %s: %s", dir, strerror(errno));
	struct dirent *de;
	struct backup_entry *v = NULL;
	size_t cnt = 0;
	while ((de = readdir(dh))) {
		uint64_t epoch;
		if (parse_name(de->d_name, &epoch) < 0)
			continue;
		struct backup_entry *nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			closedir(dh);
			return fail(err, errsz, "out of memory");
		}
		v = nv;
		struct backup_entry *e = &v[cnt++];
		memset(e, 0, sizeof(*e));
		snprintf(e->path, sizeof(e->path), "%s/%s", dir, de->d_name);
		unsigned char *buf;
		size_t len;
		uint32_t hlen;
		if (slurp(e->path, 1, &buf, &len, &e->size, e->error, sizeof(e->error)) < 0)
			continue;
		if (prefix_check(buf, len, &hlen, e->error, sizeof(e->error)) == 0 &&
		    header_parse((const char *)buf + PREFIX_LEN, hlen, &e->info, e->error,
				 sizeof(e->error)) == 0) {
			if (e->info.epoch_id != epoch)
				snprintf(e->error, sizeof(e->error),
					 "the header says epoch %" PRIu64 " but the name says %" PRIu64,
					 e->info.epoch_id, epoch);
			else
				e->ok = 1;
		}
		free(buf);
	}
	closedir(dh);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_entry);
	*out = v;
	*n = cnt;
	return BACKUP_OK;
}

int backup_newest(const char *dir, const unsigned char key[BACKUP_KEY_BYTES],
		  struct backup_info *info, char *path, size_t pathsz,
		  char *warn, size_t warnsz)
{
	struct backup_entry *v;
	size_t n;
	char e[512];
	if (warn && warnsz)
		*warn = 0;
	if (backup_list(dir, &v, &n, e, sizeof(e)) < 0)
		return fail(warn, warnsz, "%s", e);
	int rc = BACKUP_ERR;
	for (size_t i = n; i-- > 0;) {
		if (!v[i].ok) {
			if (warn && !*warn)
				snprintf(warn, warnsz, "%s: %s", v[i].path, v[i].error);
			continue;
		}
		if (backup_read(v[i].path, key, info, NULL, NULL, e, sizeof(e)) != BACKUP_OK) {
			if (warn && !*warn)
				snprintf(warn, warnsz, "%s", e);
			continue;
		}
		if (path)
			snprintf(path, pathsz, "%s", v[i].path);
		rc = BACKUP_OK;
		break;
	}
	free(v);
	return rc;
}

/* ---- writing ---- */

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* Leftovers of an interrupted write. */
static void remove_temporaries(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	if (!dh)
		return;
	while ((de = readdir(dh)))
		if (strncmp(de->d_name, ".epoch-", 7) == 0 && strstr(de->d_name, ".tmp-")) {
			char p[4096];
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
	closedir(dh);
}

static void apply_retention(const char *dir, unsigned retention, uint64_t keep_epoch)
{
	struct backup_entry *v;
	size_t n, valid = 0;
	char e[256];
	if (!retention || backup_list(dir, &v, &n, e, sizeof(e)) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		valid += v[i].ok;
	int removed = 0;
	/* entries are sorted: valid ones first, oldest epoch first */
	for (size_t i = 0; i < n && valid > retention; i++) {
		if (!v[i].ok || v[i].info.epoch_id >= keep_epoch)
			continue;
		if (unlink(v[i].path) == 0) {
			valid--;
			removed = 1;
		}
	}
	if (removed)
		fsync_dir(dir);
	free(v);
}

/* Is `cur` (stored) compatible with `nw` at the same epoch: every stored
 * domain is present with the same attempt?  1 = nw is a strict superset. */
static int same_epoch_rule(const struct backup_info *cur, const struct backup_info *nw,
			   char *err, size_t errsz)
{
	for (size_t i = 0; i < cur->n_domains; i++) {
		size_t j;
		for (j = 0; j < nw->n_domains; j++)
			if (nw->domains[j].domain_id == cur->domains[i].domain_id)
				break;
		if (j == nw->n_domains) {
			fail(err, errsz, "refusing to replace the backup of epoch %" PRIu64
			     ": domain %" PRIu64 " would be lost", cur->epoch_id,
			     cur->domains[i].domain_id);
			return BACKUP_STALE;
		}
		if (nw->domains[j].attempt_id != cur->domains[i].attempt_id) {
			fail(err, errsz, "refusing to replace the backup of epoch %" PRIu64
			     ": domain %" PRIu64 " has attempt %" PRIu64 " stored but %" PRIu64
			     " offered", cur->epoch_id, cur->domains[i].domain_id,
			     cur->domains[i].attempt_id, nw->domains[j].attempt_id);
			return BACKUP_STALE;
		}
	}
	if (nw->n_domains == cur->n_domains) {
		fail(err, errsz, "the backup of epoch %" PRIu64 " already holds these keyshares",
		     cur->epoch_id);
		return BACKUP_UNCHANGED;
	}
	return BACKUP_OK;
}

int backup_write(const char *dir, const unsigned char key[BACKUP_KEY_BYTES],
		 const char *account_id, uint64_t epoch, const char *keyshares,
		 size_t len, unsigned retention, struct backup_info *written,
		 char *err, size_t errsz)
{
	struct backup_info nw, cur;
	char tmp[4096], final[4096];
	char *pt = NULL, *hdr = NULL;
	unsigned char *file = NULL;
	int rc = BACKUP_ERR, fd = -1;

	if (ensure_sodium(err, errsz) < 0)
		return BACKUP_ERR;
	if (len > BACKUP_MAX_KEYSHARES_JSON)
		return fail(err, errsz, "keyshares of %zu bytes exceed the %u allowed", len,
			    BACKUP_MAX_KEYSHARES_JSON);
	if (backup_keyshares_scan(keyshares, len, &nw, err, errsz) < 0)
		return BACKUP_ERR;
	if (nw.n_keyshares == 0)
		return fail(err, errsz, "no keyshares to store for epoch %" PRIu64, epoch);
	if (nw.epoch_id != epoch)
		return fail(err, errsz, "the keyshares belong to epoch %" PRIu64 ", not %" PRIu64,
			    nw.epoch_id, epoch);
	if (backup_newest(dir, key, &cur, NULL, 0, NULL, 0) == BACKUP_OK) {
		if (cur.epoch_id > epoch) {
			fail(err, errsz, "refusing to store epoch %" PRIu64
			     ": the backup of the newer epoch %" PRIu64 " is kept", epoch,
			     cur.epoch_id);
			return BACKUP_STALE;
		}
		if (cur.epoch_id == epoch && (rc = same_epoch_rule(&cur, &nw, err, errsz)) != BACKUP_OK)
			return rc;
		rc = BACKUP_ERR;
	}
	remove_temporaries(dir);

	nw.created_unix = (int64_t)time(NULL);
	snprintf(nw.account_id, sizeof(nw.account_id), "%s", account_id ? account_id : "");
	key_check(key, nw.key_check);
	if (!(hdr = header_json(&nw))) {
		fail(err, errsz, "out of memory");
		goto out;
	}
	size_t hlen = strlen(hdr);
	char pre[64];
	int pl = snprintf(pre, sizeof(pre), "{\"epoch_id\":%" PRIu64 ",\"keyshares\":", epoch);
	size_t pt_len = (size_t)pl + len + 1;
	if (!(pt = secret_alloc(pt_len))) {
		fail(err, errsz, "out of memory");
		goto out;
	}
	memcpy(pt, pre, (size_t)pl);
	memcpy(pt + pl, keyshares, len);
	pt[pt_len - 1] = '}';
	size_t ad_len = PREFIX_LEN + hlen, total = ad_len + NONCE_LEN + pt_len + TAG_LEN;
	if (!(file = malloc(total))) {
		fail(err, errsz, "out of memory");
		goto out;
	}
	memcpy(file, MAGIC, MAGIC_LEN);
	file[MAGIC_LEN] = FORMAT_VERSION;
	for (int i = 0; i < 4; i++)
		file[MAGIC_LEN + 1 + i] = (unsigned char)(hlen >> (8 * i));
	memcpy(file + PREFIX_LEN, hdr, hlen);
	randombytes_buf(file + ad_len, NONCE_LEN);
	unsigned long long ct_len;
	crypto_aead_xchacha20poly1305_ietf_encrypt(file + ad_len + NONCE_LEN, &ct_len,
						   (const unsigned char *)pt, pt_len, file, ad_len,
						   NULL, file + ad_len, key);

	snprintf(final, sizeof(final), "%s/epoch-%" PRIu64 BACKUP_SUFFIX, dir, epoch);
	snprintf(tmp, sizeof(tmp), "%s/.epoch-%" PRIu64 BACKUP_SUFFIX ".tmp-XXXXXX", dir, epoch);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		fail(err, errsz, "writing the backup of epoch %" PRIu64 " in %s: %s", epoch, dir,
		     strerror(errno));
		goto out;
	}
	if (write_all(fd, file, total) < 0 || fsync(fd) < 0) {
		fail(err, errsz, "writing the backup of epoch %" PRIu64 " in %s: %s", epoch, dir,
		     strerror(errno));
		goto out_unlink;
	}
	int c = close(fd);
	fd = -1;
	if (c < 0) {
		fail(err, errsz, "writing the backup of epoch %" PRIu64 " in %s: %s", epoch, dir,
		     strerror(errno));
		goto out_unlink;
	}
	if (rename(tmp, final) < 0) {
		fail(err, errsz, "renaming the backup of epoch %" PRIu64 " into place in %s: %s",
		     epoch, dir, strerror(errno));
		goto out_unlink;
	}
	if (fsync_dir(dir) < 0) {
		fail(err, errsz, "syncing %s after writing epoch %" PRIu64 ": %s", dir, epoch,
		     strerror(errno));
		goto out;
	}
	apply_retention(dir, retention, epoch);
	if (written)
		*written = nw;
	rc = BACKUP_OK;
	goto out;
out_unlink:
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	backup_secret_free(pt);
	free(hdr);
	free(file);
	return rc;
}

/* ---- transport encryption (AES-256-GCM, as the MPC node) ---- */

int backup_transport_seal(const unsigned char key[BACKUP_KEY_BYTES],
			  const char *pt, size_t len, char **out, size_t *outlen,
			  char *err, size_t errsz)
{
	*out = NULL;
	if (ensure_sodium(err, errsz) < 0)
		return BACKUP_ERR;
	if (len > BACKUP_MAX_KEYSHARES_JSON)
		return fail(err, errsz, "payload of %zu bytes is too large", len);
	size_t bin_len = GCM_NONCE + len + GCM_TAG;
	unsigned char *bin = malloc(bin_len);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int ok = 0, l1 = 0, l2 = 0;
	if (bin && c) {
		randombytes_buf(bin, GCM_NONCE);
		ok = EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, GCM_NONCE, NULL) == 1 &&
		     EVP_EncryptInit_ex(c, NULL, NULL, key, bin) == 1 &&
		     EVP_EncryptUpdate(c, bin + GCM_NONCE, &l1, (const unsigned char *)pt,
				       (int)len) == 1 &&
		     EVP_EncryptFinal_ex(c, bin + GCM_NONCE + l1, &l2) == 1 &&
		     (size_t)(l1 + l2) == len &&
		     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG, bin + GCM_NONCE + len) == 1;
	}
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		free(bin);
		return fail(err, errsz, "AES-256-GCM encryption failed");
	}
	size_t b64_len = sodium_base64_ENCODED_LEN(bin_len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(b64_len);
	if (!b64) {
		free(bin);
		return fail(err, errsz, "out of memory");
	}
	sodium_bin2base64(b64, b64_len, bin, bin_len, sodium_base64_VARIANT_ORIGINAL);
	free(bin);
	*out = b64;
	if (outlen)
		*outlen = strlen(b64);
	return BACKUP_OK;
}

int backup_transport_open(const unsigned char key[BACKUP_KEY_BYTES],
			  const char *b64, size_t len, char **pt_out, size_t *ptlen,
			  char *err, size_t errsz)
{
	*pt_out = NULL;
	if (ensure_sodium(err, errsz) < 0)
		return BACKUP_ERR;
	while (len && isspace((unsigned char)*b64)) {
		b64++;
		len--;
	}
	while (len && isspace((unsigned char)b64[len - 1]))
		len--;
	if (len > (size_t)BACKUP_MAX_KEYSHARES_JSON * 4 / 3 + 64)
		return fail(err, errsz, "body of %zu bytes is too large", len);
	size_t cap = len / 4 * 3 + 3, bin_len = 0;
	unsigned char *bin = malloc(cap ? cap : 1);
	if (!bin)
		return fail(err, errsz, "out of memory");
	const char *end = NULL;
	if (sodium_base642bin(bin, cap, b64, len, NULL, &bin_len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || end != b64 + len) {
		free(bin);
		return fail(err, errsz, "the body is not base64");
	}
	if (bin_len < GCM_NONCE + GCM_TAG) {
		free(bin);
		return fail(err, errsz, "the body is too short to be encrypted keyshares (%zu bytes)",
			    bin_len);
	}
	size_t ct_len = bin_len - GCM_NONCE - GCM_TAG;
	char *pt = secret_alloc(ct_len);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int ok = 0, l1 = 0, l2 = 0;
	if (pt && c) {
		ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, GCM_NONCE, NULL) == 1 &&
		     EVP_DecryptInit_ex(c, NULL, NULL, key, bin) == 1 &&
		     EVP_DecryptUpdate(c, (unsigned char *)pt, &l1, bin + GCM_NONCE,
				       (int)ct_len) == 1 &&
		     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG,
					 bin + GCM_NONCE + ct_len) == 1 &&
		     EVP_DecryptFinal_ex(c, (unsigned char *)pt + l1, &l2) == 1;
	}
	EVP_CIPHER_CTX_free(c);
	free(bin);
	if (!pt)
		return fail(err, errsz, "out of memory");
	if (!ok) {
		backup_secret_free(pt);
		return fail(err, errsz, "AES-256-GCM authentication failed: wrong transport key or a modified body");
	}
	pt[ct_len] = 0;
	*pt_out = pt;
	if (ptlen)
		*ptlen = ct_len;
	return BACKUP_OK;
}
