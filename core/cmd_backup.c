/* `backup list | verify | export`: the backup-migration plugin's files,
 * read without the daemon (the format lives in plugins/backup-migration/
 * backup_store.c, compiled into both). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../plugins/backup-migration/backup_config.h"
#include "../plugins/backup-migration/backup_store.h"
#include "cli.h"
#include "config.h"
#include "host.h"
#include "settings.h"

#define CMD "mpc-indexer backup"

struct opts {
	const char *dir, *storage_key, *transport_key, *section, *out, *format;
	int has_epoch;
	uint64_t epoch;
};

/* Where things are: the options, else the plugin's section, else defaults. */
struct where {
	char dir[4096];
	char storage_key[4096];
	char transport_key[4096];
};

#define SCHEMA_KEY(name, type, def, help) { name, CFG_##type, def, help },
static const struct cfg_key backup_keys[] = {
	BACKUP_CONFIG_KEYS(SCHEMA_KEY)
	{ NULL, 0, NULL, NULL },
};

static int resolve(const struct opts *o, const char *config_path, struct where *w)
{
	struct cfg *c = NULL;
	struct cfg_error err;
	char msg[1024];
	const char *state_dir = NULL, *dir = NULL, *sk = NULL, *tk = NULL;

	memset(w, 0, sizeof(*w));
	if (config_path && access(config_path, F_OK) == 0) {
		if (cfg_load(&c, config_path, &err) < 0) {
			fprintf(stderr, "%s\n", cfg_format_error(&err, msg, sizeof(msg)));
			return EXIT_CONFIG;
		}
		const struct cfg_key *is[] = { settings_indexer_keys, NULL };
		const struct cfg_key *ps[] = { host_plugin_keys, backup_keys, NULL };
		if (cfg_check_section(c, "indexer", is, &err) < 0 ||
		    cfg_check_section(c, o->section, ps, &err) < 0) {
			fprintf(stderr, "%s\n", cfg_format_error(&err, msg, sizeof(msg)));
			cfg_free(c);
			return EXIT_CONFIG;
		}
		state_dir = cfg_get(c, "indexer", "state_dir");
		dir = cfg_get(c, o->section, "backup_dir");
		sk = cfg_get(c, o->section, "storage_key_file");
		tk = cfg_get(c, o->section, "transport_key_file");
	} else if (!o->dir) {
		fprintf(stderr, CMD ": no configuration at %s; give --dir (and the key files)\n",
			config_path ? config_path : "(none)");
		return EXIT_CONFIG;
	}
	if (o->dir)
		snprintf(w->dir, sizeof(w->dir), "%s", o->dir);
	else if (dir)
		snprintf(w->dir, sizeof(w->dir), "%s", dir);
	else
		backup_default_dir(state_dir, w->dir, sizeof(w->dir));
	snprintf(w->storage_key, sizeof(w->storage_key), "%s",
		 o->storage_key ? o->storage_key : sk ? sk : "");
	snprintf(w->transport_key, sizeof(w->transport_key), "%s",
		 o->transport_key ? o->transport_key : tk ? tk : "");
	cfg_free(c);
	return EXIT_OK;
}

static int load_key(const char *path, const char *what, unsigned char key[BACKUP_KEY_BYTES])
{
	char err[512];
	if (!*path) {
		fprintf(stderr, CMD ": no %s: set %s_file in [%s] or give --%s-file\n", what, what,
			BACKUP_SECTION, strcmp(what, "storage_key") == 0 ? "storage-key" : "transport-key");
		return -1;
	}
	if (backup_key_load(path, key, err, sizeof(err)) < 0) {
		fprintf(stderr, CMD ": %s\n", err);
		return -1;
	}
	return 0;
}

static const char *domains_text(const struct backup_info *in, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = 0;
	for (size_t i = 0; i < in->n_domains && k + 48 < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%" PRIu64 ":%" PRIu64, i ? "," : "",
				      in->domains[i].domain_id, in->domains[i].attempt_id);
	return in->n_domains ? buf : "-";
}

static int do_list(const struct where *w)
{
	struct backup_entry *v;
	size_t n;
	char err[512], d[512], t[40];
	if (backup_list(w->dir, &v, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, CMD ": %s\n", err);
		return EXIT_RUNTIME;
	}
	if (n == 0) {
		printf("no backups in %s\n", w->dir);
		free(v);
		return EXIT_OK;
	}
	printf("%-8s %-24s %-9s %-21s %-20s %s\n", "EPOCH", "DOMAINS(id:attempt)", "KEYSHARES",
	       "CREATED", "ACCOUNT", "FILE");
	for (size_t i = 0; i < n; i++) {
		const struct backup_info *in = &v[i].info;
		if (!v[i].ok) {
			printf("%-8s %-24s %-9s %-21s %-20s %s: %s\n", "?", "-", "-", "-", "-",
			       v[i].path, v[i].error);
			continue;
		}
		printf("%-8" PRIu64 " %-24s %-9zu %-21s %-20s %s\n", in->epoch_id,
		       domains_text(in, d, sizeof(d)), in->n_keyshares,
		       backup_format_time(in->created_unix, t, sizeof(t)), in->account_id, v[i].path);
	}
	free(v);
	return EXIT_OK;
}

static int wanted(const uint64_t *epochs, size_t n, uint64_t e)
{
	for (size_t i = 0; i < n; i++)
		if (epochs[i] == e)
			return 1;
	return n == 0;
}

static int do_verify(const struct where *w, const uint64_t *epochs, size_t n_epochs)
{
	unsigned char *key = sodium_malloc(BACKUP_KEY_BYTES);
	struct backup_entry *v = NULL;
	size_t n, good = 0, bad = 0;
	char err[768], d[512];
	int rc = EXIT_RUNTIME;

	if (!key || load_key(w->storage_key, "storage_key", key) < 0)
		goto out;
	if (backup_list(w->dir, &v, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, CMD ": %s\n", err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct backup_info info;
		if (v[i].ok && !wanted(epochs, n_epochs, v[i].info.epoch_id))
			continue;
		if (!v[i].ok) {
			printf("FAILED  %s: %s\n", v[i].path, v[i].error);
			bad++;
		} else if (backup_read(v[i].path, key, &info, NULL, NULL, err, sizeof(err)) != BACKUP_OK) {
			printf("FAILED  epoch %" PRIu64 ": %s\n", v[i].info.epoch_id, err);
			bad++;
		} else {
			printf("ok      epoch %" PRIu64 ": %zu keyshares, domains %s, %s\n", info.epoch_id,
			       info.n_keyshares, domains_text(&info, d, sizeof(d)), v[i].path);
			good++;
		}
	}
	for (size_t k = 0; k < n_epochs; k++) {
		size_t i;
		for (i = 0; i < n; i++)
			if (v[i].ok && v[i].info.epoch_id == epochs[k])
				break;
		if (i == n) {
			printf("FAILED  epoch %" PRIu64 ": no backup of that epoch in %s\n", epochs[k], w->dir);
			bad++;
		}
	}
	if (good + bad == 0)
		printf("no backups in %s\n", w->dir);
	else
		printf("%zu verified, %zu failed\n", good, bad);
	rc = bad == 0 && good > 0 ? EXIT_OK : EXIT_RUNTIME;
out:
	free(v);
	if (key)
		sodium_free(key);
	return rc;
}

static int write_out(const char *path, const char *data, size_t n)
{
	int fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : STDOUT_FILENO;
	if (fd < 0) {
		fprintf(stderr, CMD ": %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (path && fchmod(fd, 0600) < 0) {
		fprintf(stderr, CMD ": %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	int rc = 0;
	while (n) {
		ssize_t k = write(fd, data, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			fprintf(stderr, CMD ": writing %s: %s\n", path ? path : "stdout", strerror(errno));
			rc = -1;
			break;
		}
		data += k;
		n -= (size_t)k;
	}
	if (path && close(fd) < 0 && rc == 0) {
		fprintf(stderr, CMD ": %s: %s\n", path, strerror(errno));
		rc = -1;
	}
	return rc;
}

static int do_export(const struct where *w, const struct opts *o)
{
	unsigned char *keys = sodium_malloc(2 * BACKUP_KEY_BYTES);
	char path[4200], err[768], *ks = NULL, *body = NULL;
	size_t ks_len = 0, body_len = 0;
	struct backup_info info;
	int wire = strcmp(o->format, "wire") == 0, rc = EXIT_RUNTIME;

	if (!wire && strcmp(o->format, "json") != 0) {
		fprintf(stderr, CMD " export: --format is wire or json, not '%s'\n", o->format);
		rc = EXIT_USAGE;
		goto out;
	}
	if (!keys || load_key(w->storage_key, "storage_key", keys) < 0 ||
	    (wire && load_key(w->transport_key, "transport_key", keys + BACKUP_KEY_BYTES) < 0))
		goto out;
	if (o->has_epoch) {
		snprintf(path, sizeof(path), "%s/epoch-%" PRIu64 BACKUP_SUFFIX, w->dir, o->epoch);
	} else if (backup_newest(w->dir, keys, &info, path, sizeof(path), err, sizeof(err)) != BACKUP_OK) {
		fprintf(stderr, CMD ": no backup in %s verifies%s%s\n", w->dir, *err ? ": " : "", err);
		goto out;
	}
	if (backup_read(path, keys, &info, &ks, &ks_len, err, sizeof(err)) != BACKUP_OK) {
		fprintf(stderr, CMD ": %s\n", err);
		goto out;
	}
	if (wire) {
		if (backup_transport_seal(keys + BACKUP_KEY_BYTES, ks, ks_len, &body, &body_len, err,
					  sizeof(err)) < 0) {
			fprintf(stderr, CMD ": %s\n", err);
			goto out;
		}
		body[body_len++] = '\n';    /* the terminating NUL's place */
		if (write_out(o->out, body, body_len) < 0)
			goto out;
	} else {
		ks[ks_len] = '\n';     /* the terminating NUL's place */
		if (write_out(o->out, ks, ks_len + 1) < 0)
			goto out;
	}
	fprintf(stderr, CMD ": exported epoch %" PRIu64 " (%zu keyshares) from %s%s%s\n",
		info.epoch_id, info.n_keyshares, path, o->out ? " to " : "", o->out ? o->out : "");
	if (!wire)
		fprintf(stderr, CMD ": these are the plaintext keyshares: keep them away from disks and logs\n");
	rc = EXIT_OK;
out:
	backup_secret_free(ks);
	free(body);
	if (keys)
		sodium_free(keys);
	return rc;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int cmd_backup(int argc, char **argv, const char *config_path)
{
	static const struct option lopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "storage-key-file", required_argument, NULL, 's' },
		{ "transport-key-file", required_argument, NULL, 't' },
		{ "section", required_argument, NULL, 'S' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "format", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .section = BACKUP_SECTION, .format = "wire" };
	int ch;
	if (argc < 2) {
		fprintf(stderr, CMD ": which one: list, verify or export? (try --help)\n");
		return EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "list") != 0 && strcmp(sub, "verify") != 0 && strcmp(sub, "export") != 0) {
		fprintf(stderr, CMD ": unknown subcommand '%s' (list, verify, export)\n", sub);
		return EXIT_USAGE;
	}
	optind = 2;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "d:o:", lopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o.dir = optarg; break;
		case 's': o.storage_key = optarg; break;
		case 't': o.transport_key = optarg; break;
		case 'S': o.section = optarg; break;
		case 'f': o.format = optarg; break;
		case 'o': o.out = optarg; break;
		case 'e':
			if (parse_u64(optarg, &o.epoch) < 0) {
				fprintf(stderr, CMD ": --epoch wants a number, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			o.has_epoch = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (strcmp(sub, "verify") != 0 && optind < argc) {
		fprintf(stderr, CMD " %s: unexpected argument '%s'\n", sub, argv[optind]);
		return EXIT_USAGE;
	}
	uint64_t epochs[64];
	size_t n_epochs = 0;
	for (; optind < argc; optind++) {
		if (n_epochs == 64 || parse_u64(argv[optind], &epochs[n_epochs]) < 0) {
			fprintf(stderr, CMD " verify: '%s' is not an epoch number\n", argv[optind]);
			return EXIT_USAGE;
		}
		n_epochs++;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, CMD ": libsodium failed to initialise\n");
		return EXIT_RUNTIME;
	}
	struct where w;
	int rc = resolve(&o, config_path, &w);
	if (rc != EXIT_OK)
		return rc;
	if (strcmp(sub, "list") == 0)
		return do_list(&w);
	if (strcmp(sub, "verify") == 0)
		return do_verify(&w, epochs, n_epochs);
	return do_export(&w, &o);
}
