/*
 * The INI configuration file (parsed by libinih), checked against schemas, with
 * environment overrides.
 *
 * Syntax: "[section]" headers and "key = value" lines (":" works too). Whole-line comments
 * start with ';' or '#'; inline comments start with ';' preceded by whitespace ('#' inside
 * a value is kept: URLs and secrets may contain it). Values are trimmed. A list may go on
 * over indented continuation lines:
 *     rpc_urls = https://rpc.example.org,
 *                https://backup.example.org
 * Lines are limited to CFG_LINE_MAX characters (split long lists as above), section names
 * to 49. Keys before any section, duplicate keys in a section, and indented "key = value"
 * lines (which INI would silently glue onto the previous value) are errors.
 *
 * Environment: MPC_INDEXER_<SECTION>__<KEY>, section and key upper-cased with every other
 * non-alphanumeric character turned into '_' ([plugin.tee-attester] mode ->
 * MPC_INDEXER_PLUGIN_TEE_ATTESTER__MODE). cfg_check_section() applies them to the keys its
 * schemas know, whether or not the section is in the file, and rejects unknown ones.
 *
 * CFG_PATH values from the file are made absolute relative to the file's directory.
 */
#ifndef MPCI_CORE_CONFIG_H
#define MPCI_CORE_CONFIG_H
#include <stddef.h>
#include <stdint.h>

#define CFG_LINE_MAX 197

enum cfg_type {
	CFG_STR,
	CFG_INT,	/* int64, decimal */
	CFG_UINT,	/* uint64, decimal */
	CFG_BOOL,	/* yes/no, true/false, on/off, 1/0 (any case) */
	CFG_DOUBLE,	/* finite */
	CFG_DURATION,	/* "500ms", "10s", "5m", "1h", "2d" or plain seconds ("1.5") -> seconds */
	CFG_SIZE,	/* "4096", "64k", "16M", "1G", "1T" (binary, optional "B"/"iB") -> bytes */
	CFG_LIST,	/* comma (or continuation line) separated, items trimmed, empty items skipped */
	CFG_PATH,	/* non-empty; relative paths from the file are resolved, see above */
};

struct cfg_key {
	const char *name;	/* NULL ends a schema array */
	enum cfg_type type;
	const char *def;	/* default value as it would be written in the file; NULL = unset */
	const char *help;	/* one line for --help-config and error messages */
};

struct cfg_error {
	char file[256];		/* config path, "env MPC_INDEXER_X__Y", or "" */
	int line;		/* 0 if none */
	char key[128];		/* "" if none */
	char msg[512];
};

struct cfg;

/* Parse `path`. Missing or unreadable file, syntax error, duplicate key: -1 with *err
 * naming file:line. 0 and *out on success. */
int cfg_load(struct cfg **out, const char *path, struct cfg_error *err);
void cfg_free(struct cfg *c);
const char *cfg_path(const struct cfg *c);

/* Sections of the file in order, then those cfg_check_section() added from the schema. */
size_t cfg_section_count(const struct cfg *c);
const char *cfg_section_name(const struct cfg *c, size_t i);
int cfg_section_line(const struct cfg *c, size_t i);	/* 0: not in the file */
int cfg_has_section(const struct cfg *c, const char *section);	/* in the file */

/*
 * Check [section] against `schemas`: a NULL-terminated list of cfg_key arrays, each ended
 * by an entry with name NULL (a key in two arrays: the first wins). Applies environment
 * overrides, then defaults. Unknown key -> "file:line: key: unknown key in [section];
 * valid keys: ..."; bad value -> "file:line: key: why". The section need not be in the
 * file. -1 with *err, or 0. May be called again (re-checks from the file and environment).
 * The schemas are not referenced afterwards.
 */
int cfg_check_section(struct cfg *c, const char *section,
		      const struct cfg_key *const *schemas, struct cfg_error *err);

/* Checked section: the schema key's value (env, file or default) or NULL.
 * Not yet checked (to peek at a few keys before the full schema is known): the raw
 * env or file text, unvalidated, with no defaults and relative paths unresolved.
 * Pointers stay valid until cfg_free() or the next cfg_check_section() of the section. */
const char *cfg_get(const struct cfg *c, const char *section, const char *key);
/* 0, -ENOENT (no value), or -EINVAL (the value does not parse as that type). */
int cfg_get_int(const struct cfg *c, const char *section, const char *key, int64_t *out);
int cfg_get_uint(const struct cfg *c, const char *section, const char *key, uint64_t *out);
int cfg_get_bool(const struct cfg *c, const char *section, const char *key, int *out);
int cfg_get_double(const struct cfg *c, const char *section, const char *key, double *out);
int cfg_get_duration(const struct cfg *c, const char *section, const char *key, double *out);
int cfg_get_size(const struct cfg *c, const char *section, const char *key, uint64_t *out);
/* Items into a NULL-terminated array (*out NULL and 0 when unset); free with cfg_list_free. */
size_t cfg_get_list(const struct cfg *c, const char *section, const char *key, char ***out);
void cfg_list_free(char **list);

/* Where a value came from, for messages: "file:line", "env MPC_INDEXER_X__Y" or "default"
 * (before the check: file or env as cfg_get sees it). 0, or -1 ("unset" in buf). */
int cfg_where(const struct cfg *c, const char *section, const char *key, char *buf, size_t n);

/* Refuse a key file that is missing, not a regular file, or group/world accessible:
 * "key file /x: mode 0644 is readable by group or others; chmod 600 it" in err->msg
 * (file/line/key left empty for the caller to fill from cfg_where). 0 or -1. */
int cfg_check_secret_file(const char *path, struct cfg_error *err);

/* One line "file:line: key: msg" (empty parts left out); returns buf. */
const char *cfg_format_error(const struct cfg_error *e, char *buf, size_t n);

/* The value parsers behind the typed getters, for values from elsewhere. 0 or -EINVAL. */
int cfg_parse_bool(const char *s, int *out);
int cfg_parse_duration(const char *s, double *out);
int cfg_parse_size(const char *s, uint64_t *out);

/* "MPC_INDEXER_<SECTION>__<KEY>" into buf; returns buf. */
const char *cfg_env_name(const char *section, const char *key, char *buf, size_t n);

#endif
