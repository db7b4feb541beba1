/* The mpc-indexer command line: one function per subcommand. */
#ifndef MPCI_CLI_H
#define MPCI_CLI_H

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv, const char *config_path);
	const char *summary;
	const char *usage; /* the rest of the usage line and option help */
};

int cmd_run(int argc, char **argv, const char *config_path);
int cmd_check_config(int argc, char **argv, const char *config_path);
int cmd_plugins(int argc, char **argv, const char *config_path);
int cmd_blocks(int argc, char **argv, const char *config_path);
int cmd_view(int argc, char **argv, const char *config_path);
int cmd_backup(int argc, char **argv, const char *config_path);
int cmd_tx(int argc, char **argv, const char *config_path);

/* Load the configuration or print why not; NULL means exit EXIT_CONFIG. */
struct cfg *cli_load_config(const char *path);

#endif
