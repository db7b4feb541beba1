/* `plugins`: what is installed, and whether each one would load. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host.h"
#include "settings.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The plugin directory: --plugin-dir, else the configuration's, else the built-in. */
static char *plugin_dir(const char *opt, const char *config_path)
{
	if (opt)
		return strdup(opt);
	struct cfg *c;
	struct cfg_error err;
	char *dir = NULL;
	if (config_path && cfg_load(&c, config_path, &err) == 0) {
		const struct cfg_key *s[] = { settings_indexer_keys, NULL };
		if (cfg_check_section(c, "indexer", s, &err) == 0)
			dir = strdup(cfg_get(c, "indexer", "plugin_dir"));
		cfg_free(c);
	}
	return dir ? dir : strdup(MPCI_PLUGINDIR);
}

int cmd_plugins(int argc, char **argv, const char *config_path)
{
	static const struct option opts[] = {
		{ "plugin-dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *opt_dir = NULL;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:", opts, NULL)) != -1) {
		if (ch != 'd')
			return EXIT_USAGE;
		opt_dir = optarg;
	}
	if (optind < argc) {
		fprintf(stderr, "mpc-indexer plugins: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	char *dir = plugin_dir(opt_dir, config_path);
	DIR *dh = dir ? opendir(dir) : NULL;
	if (!dh) {
		fprintf(stderr, "mpc-indexer plugins: cannot read %s\n", dir ? dir : "(null)");
		free(dir);
		return EXIT_RUNTIME;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(dh))) {
		size_t l = strlen(e->d_name);
		if (l < 4 || strcmp(e->d_name + l - 3, ".so") != 0)
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(char *));
		if (!nn)
			break;
		names = nn;
		names[n++] = strdup(e->d_name);
	}
	closedir(dh);
	qsort(names, n, sizeof(char *), by_name);
	printf("%-22s %-10s %-6s %s\n", "NAME", "VERSION", "ABI", "STATUS");
	for (size_t i = 0; i < n; i++) {
		char path[4096], why[512], abi[16];
		struct plugin_probe pr;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		int ok = host_probe(path, &pr, why, sizeof(why)) == 0;
		snprintf(abi, sizeof(abi), "%u.%u", pr.abi_major, pr.abi_minor);
		printf("%-22s %-10s %-6s %s%s%s\n", pr.name[0] ? pr.name : names[i],
		       pr.version[0] ? pr.version : "-", pr.abi_major ? abi : "-",
		       ok ? "loads" : "refused: ", ok ? "" : why,
		       ok && pr.description[0] ? "" : "");
		if (ok && pr.description[0])
			printf("%-22s %s\n", "", pr.description);
		free(names[i]);
	}
	if (n == 0)
		printf("(no plugins in %s)\n", dir);
	free(names);
	free(dir);
	return EXIT_OK;
}
