/* `run` and `check-config`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "settings.h"

struct cfg *cli_load_config(const char *path)
{
	struct cfg *c;
	struct cfg_error err;
	char msg[1024];
	if (cfg_load(&c, path, &err) < 0) {
		fprintf(stderr, "%s\n", cfg_format_error(&err, msg, sizeof(msg)));
		return NULL;
	}
	return c;
}

static int no_args(int argc, char **argv, const char *cmd)
{
	if (argc > 1) {
		fprintf(stderr, "mpc-indexer %s: unexpected argument '%s' (try --help)\n",
			cmd, argv[1]);
		return -1;
	}
	return 0;
}

int cmd_run(int argc, char **argv, const char *config_path)
{
	if (no_args(argc, argv, "run") < 0)
		return EXIT_USAGE;
	struct cfg *c = cli_load_config(config_path);
	if (!c)
		return EXIT_CONFIG;
	int rc = daemon_run(c, 0);
	cfg_free(c);
	return rc;
}

int cmd_check_config(int argc, char **argv, const char *config_path)
{
	if (no_args(argc, argv, "check-config") < 0)
		return EXIT_USAGE;
	struct cfg *c = cli_load_config(config_path);
	if (!c)
		return EXIT_CONFIG;
	int rc = daemon_run(c, 1);
	cfg_free(c);
	return rc;
}
