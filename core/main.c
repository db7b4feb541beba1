/* mpc-indexer: follows a NEAR chain for the MPC contract and feeds plugins. */
#include <autoconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "mpc-indexer/plugin.h"
#include "settings.h"

static int cmd_version(int argc, char **argv, const char *config_path)
{
	printf("mpc-indexer %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
	       MPCI_ABI_MAJOR, MPCI_ABI_MINOR);
	return EXIT_OK;
}

static const struct cli_command commands[] = {
	{ "run", cmd_run, "run the daemon (the default)", "" },
	{ "check-config", cmd_check_config,
	  "check the configuration and every plugin it names, then exit", "" },
	{ "plugins", cmd_plugins,
	  "list installed plugins: name, version, ABI, and whether each loads",
	  "[--plugin-dir DIR]\n  --plugin-dir DIR  look here instead of the configured plugin_dir" },
	{ "view", cmd_view, "call a contract view method and print the result", "METHOD [ARGS_JSON] [--contract ID] [--watch]\n  ARGS_JSON       a JSON object (default {})\n  --contract ID   default: [near] contract\n  --watch, -w     print every change with its block height until interrupted\n  --interval DUR  --watch poll interval (default: [view] interval, 1s)\n  --rpc URL       JSON-RPC endpoint (repeatable; URL|KEY for an API key);\n                  default: [near] rpc_urls; with --rpc the config file is optional" },
	{ "blocks", cmd_blocks, "follow the chain and print each block's MPC events", "[--from H] [--to H] [--contract ID] [--match KIND:ACCOUNT[:METHOD] ...] [--json]\n  [--block-url URL ...] [--rpc-url URL ...] [--optimistic] [--output FILE] [--file FILE ...]\n  --from H, --to H        first and last height (default: the cursor, or the head)\n  --contract ID           the MPC contract (default [near] contract)\n  --match K:ACCOUNT[:M]   also report receipts: K = executor (SuccessReceiptId) or\n                          receiver; METHOD * or absent = any\n  --json                  one JSON object per block (and per orphaned/finalized event)\n  --block-url, --rpc-url  endpoints (no configuration file needed)\n  --optimistic, --final   finality of the stream (default [near] finality)\n  --output FILE           append to FILE; resume after its last block (exactly once)\n  --state-dir DIR         keep the cursor here\n  --fetch-ahead N         concurrent fetches while catching up\n  --file FILE ...         decode a block document (or Lake block.json + shards) and exit" },
	{ "backup", cmd_backup, "list, verify or export keyshare backups (backup-migration; no daemon needed)", "list | verify [EPOCH...] | export [--epoch N] [--format wire|json] [--out FILE]\n  list                   epochs, domains (id:attempt), keyshares, time, file; no key needed\n  verify [EPOCH...]      authenticate and decrypt every backup (or those epochs); exit 1 on any failure\n  export                 the newest (or --epoch N) backup's keyshares: --format wire (default) is the\n                         base64 body PUT /set_keyshares accepts (needs the transport key);\n                         json is the plaintext array (handle with care); --out FILE is created 0600\n  --dir DIR              backup directory (default [plugin.backup-migration] backup_dir,\n                         else STATE_DIR/backup-migration)\n  --storage-key-file F   at-rest key (default storage_key_file)\n  --transport-key-file F transport key (default transport_key_file)\n  --section NAME         the plugin's section (default plugin.backup-migration)" },
	{ "tx", cmd_tx, "sign and send a function call, or sign one offline", "call CONTRACT METHOD ARGS_JSON [--signer NAME] [--gas GAS] [--deposit YOCTO] [--wait]\n       | sign CONTRACT METHOD ARGS_JSON --nonce N --block-hash H [--signer NAME] [--gas] [--deposit]\n  call            sign, send and print the hash and the outcome (exit 0 when accepted\n                  or, with --wait, succeeded)\n  sign            sign offline (nothing is sent) and print the hash and signed_tx_base64\n  --signer NAME   the [signer.NAME] to use (default: the only one)\n  --key-file PATH a key file instead (mode 0600; NEAR JSON or ed25519:...), with\n  --account ID    its account (default: the key file's account_id)\n  --gas GAS       gas units, or with T / P (300T); default [tx] default_gas (300T)\n  --deposit YOCTO yoctoNEAR to attach (decimal; default 0)\n  --wait          wait for the outcome ([tx] wait_until) and print the value or error\n  --deadline DUR  give up waiting after DUR (default [tx] wait_deadline, 2m)\n  --rpc URL       JSON-RPC endpoint (repeatable); default [near] rpc_urls; with\n                  --rpc and --key-file the config file is optional" },
	{ "version", cmd_version, "print the version and the plugin ABI", "" },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char exit_codes[] =
	"Exit status: 0 success, 1 runtime error, 2 usage error, 3 configuration error,\n"
	"4 a required plugin failed to load, initialise or start.\n";

static void usage(FILE *f)
{
	fprintf(f, "usage: mpc-indexer [-c FILE] [COMMAND] [ARGS...]\n\n"
		   "Follows a NEAR chain for the MPC contract and feeds its plugins.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nOptions:\n"
		   "  -c, --config FILE  configuration file (default $MPC_INDEXER_CONFIG or\n"
		   "                     %s/mpc-indexer/mpc-indexer.conf)\n"
		   "  -h, --help         this help; COMMAND --help for a command's own\n\n%s",
		MPCI_SYSCONFDIR, exit_codes);
}

static void command_usage(const struct cli_command *c)
{
	printf("usage: mpc-indexer [-c FILE] %s %s\n\n%s\n\n%s", c->name,
	       c->usage, c->summary, exit_codes);
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *config = getenv("MPC_INDEXER_CONFIG");
	static char def[4096];
	int i = 1;

	snprintf(def, sizeof(def), "%s/mpc-indexer/mpc-indexer.conf", MPCI_SYSCONFDIR);
	if (!config || !*config)
		config = def;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return EXIT_OK;
		} else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
			   i + 1 < argc) {
			config = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			config = argv[i] + 9;
		} else if (strcmp(argv[i], "--version") == 0) {
			return cmd_version(0, NULL, NULL);
		} else {
			fprintf(stderr, "mpc-indexer: unknown option '%s'\n\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	const char *name = i < argc ? argv[i] : "run";
	for (size_t k = 0; k < N_COMMANDS; k++) {
		if (strcmp(commands[k].name, name) != 0)
			continue;
		char *none[] = { (char *)name, NULL };
		int sub_argc = i < argc ? argc - i : 1;
		char **sub_argv = i < argc ? argv + i : none;
		if (wants_help(sub_argc, sub_argv)) {
			command_usage(&commands[k]);
			return EXIT_OK;
		}
		return commands[k].run(sub_argc, sub_argv, config);
	}
	fprintf(stderr, "mpc-indexer: unknown command '%s'\n\n", name);
	usage(stderr);
	return EXIT_USAGE;
}
