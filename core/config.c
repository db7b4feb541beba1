/*
 * INI configuration: libinih tokenises; our line reader in front of it counts lines,
 * sees section headers (also empty sections), continuation lines and overlong lines, so
 * every entry keeps its line and every error names file:line.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CFG_FILE_MAX	(1 << 20)
#define CFG_SECTION_MAX	49	/* inih silently truncates longer section names */
#define ENV_PREFIX	"MPC_INDEXER_"

extern char **environ;

enum cfg_src { SRC_NONE, SRC_FILE, SRC_ENV, SRC_DEFAULT };

struct cfg_entry {		/* one key as written in the file */
	char *name;
	char *value;
	int line;
	int multiline;
};

struct cfg_val {		/* one schema key after cfg_check_section() */
	char *name;		/* copied: schemas may live in a plugin that gets unloaded */
	char *value;		/* NULL: unset */
	enum cfg_src src;
	int line;
	char *env;		/* variable name when src == SRC_ENV */
};

struct cfg_sect {
	char *name;
	int line;		/* first header; 0 when added by cfg_check_section() */
	int checked;
	struct cfg_entry *ents;
	size_t nents;
	struct cfg_val *vals;
	size_t nvals;
};

struct cfg {
	char *path;
	char *dir;		/* absolute directory of path, for relative CFG_PATH values */
	struct cfg_sect *sects;
	size_t nsects;
	char **peeked;		/* trimmed env values handed out before a check */
	size_t npeeked;
};

static void set_err(struct cfg_error *err, const char *file, int line, const char *key,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void set_err(struct cfg_error *err, const char *file, int line, const char *key,
		    const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	snprintf(err->key, sizeof(err->key), "%s", key ? key : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

const char *cfg_format_error(const struct cfg_error *e, char *buf, size_t n)
{
	size_t off = 0;

	if (!buf || n == 0)
		return buf;
	buf[0] = '\0';
#define APPEND(...) do { \
	int k_ = snprintf(buf + off, n - off, __VA_ARGS__); \
	if (k_ > 0) off = off + (size_t)k_ < n ? off + (size_t)k_ : n - 1; } while (0)
	if (e->file[0])
		APPEND("%s", e->file);
	if (e->file[0] && e->line > 0)
		APPEND(":%d", e->line);
	if (e->file[0])
		APPEND(": ");
	if (e->key[0])
		APPEND("%s: ", e->key);
	APPEND("%s", e->msg);
#undef APPEND
	return buf;
}

const char *cfg_env_name(const char *section, const char *key, char *buf, size_t n)
{
	size_t off = 0;
	const char *parts[2] = { section, key };

	if (!buf || n == 0)
		return buf;
	for (const char *p = ENV_PREFIX; *p && off + 1 < n; p++)
		buf[off++] = *p;
	for (int i = 0; i < 2; i++) {
		for (const char *p = parts[i] ? parts[i] : ""; *p && off + 1 < n; p++)
			buf[off++] = isalnum((unsigned char)*p) ?
				(char)toupper((unsigned char)*p) : '_';
		for (int k = 0; i == 0 && k < 2 && off + 1 < n; k++)
			buf[off++] = '_';
	}
	buf[off] = '\0';
	return buf;
}

/* ---- value parsers ---- */

int cfg_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; s && i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -EINVAL;
}

/* Plain decimal "12" or "1.5" (no sign, exponent or hex); returns chars used, 0 if none. */
static size_t scan_decimal(const char *s, double *out)
{
	char tmp[64];
	size_t n = 0, digits = 0;

	while (isdigit((unsigned char)s[n]))
		n++, digits++;
	if (s[n] == '.') {
		n++;
		while (isdigit((unsigned char)s[n]))
			n++, digits++;
	}
	if (!digits || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*out = strtod(tmp, NULL);
	return n;
}

int cfg_parse_duration(const char *s, double *out)
{
	static const struct { const char *unit; double mult; } units[] = {
		{ "ms", 1e-3 }, { "us", 1e-6 }, { "min", 60 }, { "s", 1 }, { "m", 60 },
		{ "h", 3600 }, { "d", 86400 },
	};
	double total = 0, v;
	int parts = 0;
	size_t n;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		size_t ulen = 0, u;

		if (!(n = scan_decimal(s, &v)))
			return -EINVAL;
		s += n;
		while (*s == ' ')
			s++;
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			ulen = strlen(units[u].unit);
			if (strncmp(s, units[u].unit, ulen) == 0 && !isalpha((unsigned char)s[ulen]))
				break;
		}
		if (u == sizeof(units) / sizeof(units[0])) {
			if (*s || parts)	/* a bare number only on its own: "10" */
				return -EINVAL;
			total = v;
			break;
		}
		total += v * units[u].mult;
		s += ulen;
		while (*s == ' ')
			s++;
		parts++;
	}
	if (!isfinite(total))
		return -EINVAL;
	*out = total;
	return 0;
}

int cfg_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmgt";
	uint64_t mult = 1, whole;
	const char *p, *u;
	char *end;
	double v;
	size_t n;

	if (!s || !isdigit((unsigned char)*s) || !(n = scan_decimal(s, &v)))
		return -EINVAL;
	p = s + n;
	while (*p == ' ')
		p++;
	if (*p && (u = strchr(units, tolower((unsigned char)*p))) != NULL) {
		for (long i = 0; i <= u - units; i++)
			mult *= 1024;
		p++;
		if (*p == 'i' || *p == 'I')	/* "MiB" */
			p++;
	}
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p)
		return -EINVAL;
	if (!memchr(s, '.', n)) {
		errno = 0;
		whole = strtoull(s, &end, 10);
		if (errno || (mult > 1 && whole > UINT64_MAX / mult))
			return -EINVAL;
		*out = whole * mult;
		return 0;
	}
	v *= (double)mult;
	if (!(v < 18446744073709551616.0))
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

static int parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end || end == s)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_uint(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	v = strtod(s, &end);
	if (*end || end == s || !isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- storage ---- */

static char *trimmed_dup(const char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

static struct cfg_sect *find_sect(const struct cfg *c, const char *name)
{
	for (size_t i = 0; i < c->nsects; i++)
		if (strcmp(c->sects[i].name, name) == 0)
			return &c->sects[i];
	return NULL;
}

/* Returns the section's index, or -1 when out of memory. */
static long add_sect(struct cfg *c, const char *name, int line)
{
	struct cfg_sect *ns;

	for (size_t i = 0; i < c->nsects; i++)
		if (strcmp(c->sects[i].name, name) == 0)
			return (long)i;
	if (!(ns = realloc(c->sects, (c->nsects + 1) * sizeof(*ns))))
		return -1;
	c->sects = ns;
	memset(&ns[c->nsects], 0, sizeof(*ns));
	if (!(ns[c->nsects].name = strdup(name)))
		return -1;
	ns[c->nsects].line = line;
	return (long)c->nsects++;
}

static void free_vals(struct cfg_sect *s)
{
	for (size_t i = 0; i < s->nvals; i++) {
		free(s->vals[i].name);
		free(s->vals[i].value);
		free(s->vals[i].env);
	}
	free(s->vals);
	s->vals = NULL;
	s->nvals = 0;
	s->checked = 0;
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nsects; i++) {
		struct cfg_sect *s = &c->sects[i];

		for (size_t k = 0; k < s->nents; k++) {
			free(s->ents[k].name);
			free(s->ents[k].value);
		}
		free(s->ents);
		free_vals(s);
		free(s->name);
	}
	free(c->sects);
	for (size_t i = 0; i < c->npeeked; i++)
		free(c->peeked[i]);
	free(c->peeked);
	free(c->path);
	free(c->dir);
	free(c);
}

const char *cfg_path(const struct cfg *c)
{
	return c ? c->path : NULL;
}

size_t cfg_section_count(const struct cfg *c)
{
	return c ? c->nsects : 0;
}

const char *cfg_section_name(const struct cfg *c, size_t i)
{
	return c && i < c->nsects ? c->sects[i].name : NULL;
}

int cfg_section_line(const struct cfg *c, size_t i)
{
	return c && i < c->nsects ? c->sects[i].line : 0;
}

int cfg_has_section(const struct cfg *c, const char *section)
{
	const struct cfg_sect *s = c && section ? find_sect(c, section) : NULL;

	return s && s->line > 0;
}

/* ---- loading ---- */

struct loader {
	struct cfg *c;
	FILE *fp;
	char *buf;
	size_t cap;
	int lineno;
	long sect;		/* current section index, -1 before the first header */
	long last_ent;		/* entry a continuation line extends, -1 for none */
	int continuation;	/* the line being parsed continues last_ent */
	int failed;
	struct cfg_error *err;
};

static void ld_fail(struct loader *ld, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ld_fail(struct loader *ld, const char *key, const char *fmt, ...)
{
	char msg[sizeof(ld->err->msg)];
	va_list ap;

	if (ld->failed)
		return;
	ld->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_err(ld->err, ld->c->path, ld->lineno, key, "%s", msg);
}

/* Classifies the line the way inih will parse it, then hands it over. */
static char *ld_reader(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	ssize_t got;
	size_t len;
	char *s, *t, *p;

	if (ld->failed)
		return NULL;
	got = getline(&ld->buf, &ld->cap, ld->fp);
	if (got < 0) {
		if (ferror(ld->fp))
			ld_fail(ld, NULL, "read error: %s", strerror(errno));
		return NULL;
	}
	ld->lineno++;
	s = ld->buf;
	len = (size_t)got;
	if (memchr(s, '\0', len)) {
		ld_fail(ld, NULL, "NUL byte in line");
		return NULL;
	}
	if (ld->lineno == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3, len -= 3;
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	s[len] = '\0';
	if (num < 3 || len > (size_t)num - 3) {
		ld_fail(ld, NULL, "line is longer than %d characters; a list can go on over "
			"indented continuation lines", num - 3);
		return NULL;
	}
	for (t = s; isspace((unsigned char)*t); t++)
		;
	ld->continuation = 0;
	if (!*t || *t == ';' || *t == '#') {
		/* blank or comment */
	} else if (t > s && ld->last_ent >= 0) {
		ld->continuation = 1;
	} else if (*t == '[') {
		char name[CFG_SECTION_MAX + 2];
		size_t n;
		long idx;

		for (p = t + 1; *p && *p != ']' && !(*p == ';' && isspace((unsigned char)p[-1])); p++)
			;
		if (*p != ']') {
			ld_fail(ld, NULL, "section header without closing ']'");
			return NULL;
		}
		for (t++; t < p && isspace((unsigned char)*t); t++)
			;
		while (p > t && isspace((unsigned char)p[-1]))
			p--;
		n = (size_t)(p - t);
		if (n == 0 || n > CFG_SECTION_MAX) {
			ld_fail(ld, NULL, n ? "section name longer than %d characters" :
				"empty section name", CFG_SECTION_MAX);
			return NULL;
		}
		memcpy(name, t, n);
		name[n] = '\0';
		if ((idx = add_sect(ld->c, name, ld->lineno)) < 0) {
			ld_fail(ld, NULL, "out of memory");
			return NULL;
		}
		ld->sect = idx;
		ld->last_ent = -1;
	} else {
		for (p = t; *p && *p != '=' && *p != ':' &&
		     !(*p == ';' && isspace((unsigned char)p[-1])); p++)
			;
		if (*p != '=' && *p != ':') {
			ld_fail(ld, NULL, "expected 'key = value', '[section]' or a comment");
			return NULL;
		}
		if (p == t) {
			ld_fail(ld, NULL, "missing key name before '%c'", *p);
			return NULL;
		}
	}
	memcpy(str, s, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

/* "name = value" glued onto the previous value is almost always an indentation mistake. */
static int looks_like_assignment(const char *v, char *name, size_t n)
{
	size_t k = 0;

	while (isalnum((unsigned char)v[k]) || v[k] == '_' || v[k] == '-' || v[k] == '.')
		k++;
	if (k == 0 || k >= n)
		return 0;
	memcpy(name, v, k);
	name[k] = '\0';
	while (v[k] == ' ' || v[k] == '\t')
		k++;
	return v[k] == '=';
}

static int ld_handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	struct cfg_sect *s;
	struct cfg_entry *e;
	char other[64];

	(void)section;	/* ours, from ld_reader: trimmed and never truncated */
	if (ld->failed)
		return 0;
	if (ld->sect < 0) {
		ld_fail(ld, name, "key outside any [section]");
		return 0;
	}
	s = &ld->c->sects[ld->sect];
	if (ld->continuation) {
		size_t a, b;
		char *nv;

		e = &s->ents[ld->last_ent];
		/* Some inih builds keep inline comments on continuation lines. */
		for (b = 0; value[b]; b++)
			if (value[b] == ';' && b > 0 && isspace((unsigned char)value[b - 1]))
				break;
		while (b > 0 && isspace((unsigned char)value[b - 1]))
			b--;
		if (looks_like_assignment(value, other, sizeof(other))) {
			ld_fail(ld, other, "indented line is read as a continuation of '%s' "
				"(line %d); remove the indentation", e->name, e->line);
			return 0;
		}
		a = strlen(e->value);
		if (!(nv = realloc(e->value, a + b + 2))) {
			ld_fail(ld, NULL, "out of memory");
			return 0;
		}
		nv[a] = '\n';
		memcpy(nv + a + 1, value, b);
		nv[a + 1 + b] = '\0';
		e->value = nv;
		e->multiline = 1;
		return 1;
	}
	for (size_t i = 0; i < s->nents; i++)
		if (strcmp(s->ents[i].name, name) == 0) {
			ld_fail(ld, name, "duplicate key in [%s] (first set at line %d)",
				s->name, s->ents[i].line);
			return 0;
		}
	if (!(e = realloc(s->ents, (s->nents + 1) * sizeof(*e)))) {
		ld_fail(ld, NULL, "out of memory");
		return 0;
	}
	s->ents = e;
	e = &s->ents[s->nents];
	memset(e, 0, sizeof(*e));
	e->line = ld->lineno;
	e->name = strdup(name);
	e->value = strdup(value);
	if (!e->name || !e->value) {
		free(e->name);
		free(e->value);
		ld_fail(ld, NULL, "out of memory");
		return 0;
	}
	ld->last_ent = (long)s->nents++;
	return 1;
}

static char *abs_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char cwd[PATH_MAX], *out;

	if (slash == path)
		return strdup("/");
	if (path[0] == '/')
		return strndup(path, (size_t)(slash - path));
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (!slash)
		return strdup(cwd);
	if (asprintf(&out, "%s/%.*s", strcmp(cwd, "/") ? cwd : "", (int)(slash - path), path) < 0)
		return NULL;
	return out;
}

int cfg_load(struct cfg **out, const char *path, struct cfg_error *err)
{
	struct loader ld = { .sect = -1, .last_ent = -1, .err = err };
	struct stat st;
	int rc;

	*out = NULL;
	if (!path || !*path) {
		set_err(err, NULL, 0, NULL, "no configuration file given");
		return -1;
	}
	if (!(ld.c = calloc(1, sizeof(*ld.c))) || !(ld.c->path = strdup(path)) ||
	    !(ld.c->dir = abs_dir_of(path))) {
		set_err(err, path, 0, NULL, "out of memory");
		cfg_free(ld.c);
		return -1;
	}
	if (!(ld.fp = fopen(path, "re"))) {
		set_err(err, path, 0, NULL, "cannot open: %s", strerror(errno));
		cfg_free(ld.c);
		return -1;
	}
	if (fstat(fileno(ld.fp), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CFG_FILE_MAX) {
		int fe = errno;

		if (fstat(fileno(ld.fp), &st) < 0)
			set_err(err, path, 0, NULL, "cannot stat: %s", strerror(fe));
		else
			set_err(err, path, 0, NULL, "%s", S_ISDIR(st.st_mode) ? "is a directory" :
				!S_ISREG(st.st_mode) ? "not a regular file" : "larger than 1 MiB");
		fclose(ld.fp);
		cfg_free(ld.c);
		return -1;
	}
	rc = ini_parse_stream(ld_reader, &ld, ld_handler, &ld);
	fclose(ld.fp);
	free(ld.buf);
	if (!ld.failed && rc != 0) {
		ld.lineno = rc > 0 ? rc : 0;
		ld_fail(&ld, NULL, rc > 0 ? "syntax error" : "out of memory");
	}
	if (ld.failed) {
		cfg_free(ld.c);
		return -1;
	}
	*out = ld.c;
	return 0;
}

/* ---- checking ---- */

static const struct cfg_key *schema_find(const struct cfg_key *const *schemas, const char *name)
{
	for (size_t i = 0; schemas && schemas[i]; i++)
		for (const struct cfg_key *k = schemas[i]; k->name; k++)
			if (strcmp(k->name, name) == 0)
				return k;
	return NULL;
}

static void valid_keys(const struct cfg_key *const *schemas, char *buf, size_t n)
{
	size_t off = 0;
	int first = 1;

	buf[0] = '\0';
	for (size_t i = 0; schemas && schemas[i]; i++)
		for (const struct cfg_key *k = schemas[i]; k->name; k++) {
			int w;

			if (schema_find(schemas, k->name) != k)
				continue;
			w = snprintf(buf + off, n - off, "%s%s", first ? "" : ", ", k->name);
			first = 0;
			if (w < 0 || (size_t)w >= n - off) {
				if (n > 4)
					strcpy(buf + n - 4, "...");
				return;
			}
			off += (size_t)w;
		}
	if (first)
		snprintf(buf, n, "(none)");
}

/* Checks (and for paths resolves) one value; NULL and *why on error. */
static char *check_value(const struct cfg *c, const struct cfg_key *k, const char *v,
			 enum cfg_src src, int multiline, const char **why, char *whybuf, size_t n)
{
	union { int64_t i; uint64_t u; int b; double d; } x;
	int rc = 0;

	if (multiline && k->type != CFG_LIST) {
		*why = "value spans several lines; only lists may";
		return NULL;
	}
	switch (k->type) {
	case CFG_STR:
	case CFG_LIST:
		break;
	case CFG_INT:
		if ((rc = parse_int(v, &x.i)) < 0)
			snprintf(whybuf, n, "'%s' is %s", v, rc == -ERANGE ?
				 "out of range for a 64-bit integer" : "not an integer");
		break;
	case CFG_UINT:
		if ((rc = parse_uint(v, &x.u)) < 0)
			snprintf(whybuf, n, "'%s' is %s", v, rc == -ERANGE ? "too large" :
				 "not a non-negative integer");
		break;
	case CFG_BOOL:
		if ((rc = cfg_parse_bool(v, &x.b)) < 0)
			snprintf(whybuf, n, "'%s' is not a boolean (yes/no, true/false, on/off, 1/0)", v);
		break;
	case CFG_DOUBLE:
		if ((rc = parse_double(v, &x.d)) < 0)
			snprintf(whybuf, n, "'%s' is not a number", v);
		break;
	case CFG_DURATION:
		if ((rc = cfg_parse_duration(v, &x.d)) < 0)
			snprintf(whybuf, n, "'%s' is not a duration (e.g. 500ms, 10s, 5m, 1h, 1h30m)", v);
		break;
	case CFG_SIZE:
		if ((rc = cfg_parse_size(v, &x.u)) < 0)
			snprintf(whybuf, n, "'%s' is not a size (e.g. 4096, 64k, 16M, 1G)", v);
		break;
	case CFG_PATH:
		if (!*v) {
			*why = "empty path";
			return NULL;
		}
		if (src == SRC_FILE && v[0] != '/') {
			char *p;

			while (v[0] == '.' && v[1] == '/')
				v += 2;
			if (asprintf(&p, "%s/%s", strcmp(c->dir, "/") ? c->dir : "", v) < 0)
				p = NULL;
			return p;
		}
		break;
	default:
		*why = "unknown type in schema";
		return NULL;
	}
	if (rc < 0) {
		*why = whybuf;
		return NULL;
	}
	return strdup(v);
}

static int check_unknown_env(const char *section, const struct cfg_key *const *schemas,
			     struct cfg_error *err)
{
	char prefix[256], name[384], keys[400];
	size_t plen;

	cfg_env_name(section, "", prefix, sizeof(prefix));
	plen = strlen(prefix);
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t nlen = eq ? (size_t)(eq - *e) : strlen(*e);
		int known = 0;

		if (strncmp(*e, prefix, plen) != 0 || nlen == plen || nlen >= sizeof(name))
			continue;
		for (size_t i = 0; schemas && schemas[i] && !known; i++)
			for (const struct cfg_key *k = schemas[i]; k->name && !known; k++) {
				cfg_env_name(section, k->name, name, sizeof(name));
				known = strlen(name) == nlen && strncmp(name, *e, nlen) == 0;
			}
		if (!known) {
			char file[300];

			snprintf(file, sizeof(file), "env %.*s", (int)nlen, *e);
			valid_keys(schemas, keys, sizeof(keys));
			set_err(err, file, 0, NULL, "no such key in [%s]; valid keys: %s",
				section, keys);
			return -1;
		}
	}
	return 0;
}

int cfg_check_section(struct cfg *c, const char *section,
		      const struct cfg_key *const *schemas, struct cfg_error *err)
{
	struct cfg_sect *s;
	char keys[400], envname[384], whybuf[400];
	long idx;

	if (!c || !section) {
		set_err(err, NULL, 0, NULL, "no configuration");
		return -1;
	}
	if ((idx = add_sect(c, section, 0)) < 0) {
		set_err(err, c->path, 0, NULL, "out of memory");
		return -1;
	}
	s = &c->sects[idx];
	free_vals(s);
	for (size_t i = 0; i < s->nents; i++)
		if (!schema_find(schemas, s->ents[i].name)) {
			valid_keys(schemas, keys, sizeof(keys));
			set_err(err, c->path, s->ents[i].line, s->ents[i].name,
				"unknown key in [%s]; valid keys: %s", section, keys);
			return -1;
		}
	if (check_unknown_env(section, schemas, err) < 0)
		return -1;

	for (size_t i = 0; schemas && schemas[i]; i++)
		for (const struct cfg_key *k = schemas[i]; k->name; k++) {
			struct cfg_val *nv, *val;
			const struct cfg_entry *ent = NULL;
			const char *raw = NULL, *why = NULL, *env;
			char *trim = NULL;
			enum cfg_src src = SRC_NONE;

			if (schema_find(schemas, k->name) != k)
				continue;
			for (size_t e = 0; e < s->nents; e++)
				if (strcmp(s->ents[e].name, k->name) == 0)
					ent = &s->ents[e];
			cfg_env_name(section, k->name, envname, sizeof(envname));
			if ((env = getenv(envname))) {
				if (!(trim = trimmed_dup(env)))
					goto oom;
				raw = trim;
				src = SRC_ENV;
			} else if (ent) {
				raw = ent->value;
				src = SRC_FILE;
			} else if (k->def) {
				raw = k->def;
				src = SRC_DEFAULT;
			}
			if (!(nv = realloc(s->vals, (s->nvals + 1) * sizeof(*nv)))) {
				free(trim);
				goto oom;
			}
			s->vals = nv;
			val = &s->vals[s->nvals++];
			memset(val, 0, sizeof(*val));
			if (!(val->name = strdup(k->name))) {
				free(trim);
				goto oom;
			}
			val->src = src;
			val->line = src == SRC_FILE ? ent->line : 0;
			if (src == SRC_ENV && !(val->env = strdup(envname))) {
				free(trim);
				goto oom;
			}
			if (raw) {
				val->value = check_value(c, k, raw, src,
							 src == SRC_FILE && ent->multiline,
							 &why, whybuf, sizeof(whybuf));
				free(trim);
				if (!val->value) {
					char file[400];

					if (!why)
						goto oom;
					if (src == SRC_ENV)
						snprintf(file, sizeof(file), "env %s", envname);
					else if (src == SRC_DEFAULT)
						snprintf(file, sizeof(file), "built-in default for [%s]",
							 section);
					else
						snprintf(file, sizeof(file), "%s", c->path);
					set_err(err, file, val->line, k->name, "%s", why);
					free_vals(s);
					return -1;
				}
			}
		}
	s->checked = 1;
	return 0;
oom:
	free_vals(s);
	set_err(err, c->path, 0, NULL, "out of memory");
	return -1;
}

/* ---- lookups ---- */

static const struct cfg_val *find_val(const struct cfg *c, const char *section, const char *key)
{
	const struct cfg_sect *s;

	if (!c || !section || !key || !(s = find_sect(c, section)) || !s->checked)
		return NULL;
	for (size_t i = 0; i < s->nvals; i++)
		if (strcmp(s->vals[i].name, key) == 0)
			return &s->vals[i];
	return NULL;
}

static int sect_checked(const struct cfg *c, const char *section)
{
	const struct cfg_sect *s = find_sect(c, section);

	return s && s->checked;
}

/* Before the check: the environment's or the file's text, unvalidated, no defaults. */
static const char *raw_value(const struct cfg *cc, const char *section, const char *key,
			     char *envname, size_t n, int *line)
{
	struct cfg *c = (struct cfg *)cc;	/* only the peek cache changes */
	const struct cfg_sect *s = find_sect(c, section);
	const char *env;
	char *t, **np;

	*line = 0;
	cfg_env_name(section, key, envname, n);
	if ((env = getenv(envname))) {
		if (!(t = trimmed_dup(env)))
			return NULL;
		for (size_t i = 0; i < c->npeeked; i++)
			if (strcmp(c->peeked[i], t) == 0) {
				free(t);
				return c->peeked[i];
			}
		if (!(np = realloc(c->peeked, (c->npeeked + 1) * sizeof(*np)))) {
			free(t);
			return NULL;
		}
		c->peeked = np;
		c->peeked[c->npeeked++] = t;
		return t;
	}
	envname[0] = '\0';
	for (size_t i = 0; s && i < s->nents; i++)
		if (strcmp(s->ents[i].name, key) == 0) {
			*line = s->ents[i].line;
			return s->ents[i].value;
		}
	return NULL;
}

const char *cfg_get(const struct cfg *c, const char *section, const char *key)
{
	const struct cfg_val *v;
	char envname[384];
	int line;

	if (!c || !section || !key)
		return NULL;
	if (!sect_checked(c, section))
		return raw_value(c, section, key, envname, sizeof(envname), &line);
	v = find_val(c, section, key);
	return v ? v->value : NULL;
}

#define TYPED_GETTER(fn, type, parse) \
int fn(const struct cfg *c, const char *section, const char *key, type *out) \
{ \
	const char *v = cfg_get(c, section, key); \
	type tmp; \
	if (!v) \
		return -ENOENT; \
	if (parse(v, &tmp) < 0) \
		return -EINVAL; \
	*out = tmp; \
	return 0; \
}

TYPED_GETTER(cfg_get_int, int64_t, parse_int)
TYPED_GETTER(cfg_get_uint, uint64_t, parse_uint)
TYPED_GETTER(cfg_get_bool, int, cfg_parse_bool)
TYPED_GETTER(cfg_get_double, double, parse_double)
TYPED_GETTER(cfg_get_duration, double, cfg_parse_duration)
TYPED_GETTER(cfg_get_size, uint64_t, cfg_parse_size)

void cfg_list_free(char **list)
{
	for (char **p = list; p && *p; p++)
		free(*p);
	free(list);
}

size_t cfg_get_list(const struct cfg *c, const char *section, const char *key, char ***out)
{
	const char *v = cfg_get(c, section, key), *p;
	char **list;
	size_t n = 0, cap = 1;

	*out = NULL;
	if (!v)
		return 0;
	for (p = v; *p; p++)
		if (*p == ',' || *p == '\n')
			cap++;
	if (!(list = calloc(cap + 1, sizeof(*list))))
		return 0;
	for (p = v;;) {
		size_t len = strcspn(p, ",\n");
		char *item = strndup(p, len), *t;

		if (!item || !(t = trimmed_dup(item))) {
			free(item);
			cfg_list_free(list);
			return 0;
		}
		free(item);
		if (*t)
			list[n++] = t;
		else
			free(t);
		if (!p[len])
			break;
		p += len + 1;
	}
	*out = list;
	return n;
}

int cfg_where(const struct cfg *c, const char *section, const char *key, char *buf, size_t n)
{
	const struct cfg_val *v = find_val(c, section, key);

	if (!buf || n == 0)
		return -1;
	if (c && section && key && !sect_checked(c, section)) {
		char envname[384];
		int line;

		if (!raw_value(c, section, key, envname, sizeof(envname), &line)) {
			snprintf(buf, n, "unset");
			return -1;
		}
		if (envname[0])
			snprintf(buf, n, "env %s", envname);
		else
			snprintf(buf, n, "%s:%d", c->path, line);
		return 0;
	}
	if (!v || !v->value) {
		snprintf(buf, n, "unset");
		return -1;
	}
	switch (v->src) {
	case SRC_FILE:
		snprintf(buf, n, "%s:%d", c->path, v->line);
		break;
	case SRC_ENV:
		snprintf(buf, n, "env %s", v->env);
		break;
	default:
		snprintf(buf, n, "default");
	}
	return 0;
}

int cfg_check_secret_file(const char *path, struct cfg_error *err)
{
	struct stat st;
	unsigned mode;

	if (!path || !*path) {
		set_err(err, NULL, 0, NULL, "key file: no path given");
		return -1;
	}
	if (stat(path, &st) < 0) {
		set_err(err, NULL, 0, NULL, "key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, NULL, 0, NULL, "key file %s: not a regular file", path);
		return -1;
	}
	mode = (unsigned)st.st_mode & 07777;
	if (mode & 077) {
		set_err(err, NULL, 0, NULL, "key file %s: mode %04o is %s by group or others; "
			"chmod 600 it", path, mode, (mode & 044) ? "readable" :
			(mode & 022) ? "writable" : "accessible");
		return -1;
	}
	return 0;
}
