/* nearsim: a deterministic NEAR chain with the MPC contract on loopback (JSON-RPC, the
 * neardata block API and an admin endpoint on one port). This file: flags and lifecycle. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "nearsim.h"
#include "server.h"

void contract_free_all(void);

static const char usage[] =
"Usage: nearsim [OPTION]...\n"
"A deterministic NEAR chain with the MPC (chain signatures) contract, served on one\n"
"loopback port: NEAR JSON-RPC (POST /), the neardata block API (GET /v0/...) and an\n"
"admin endpoint for tests (/admin/..., loopback clients only).\n"
"\n"
"Server:\n"
"  --listen ADDR            IPv4 address to bind (default 127.0.0.1)\n"
"  --port N                 TCP port, 0 = any free port (default 3030)\n"
"  --port-file FILE         write the bound port to FILE once listening\n"
"\n"
"Chain:\n"
"  --seed N                 seed of every hash and random choice (default 1)\n"
"  --block-ms N             produce a block every N ms (default 600);\n"
"                           0 = manual: blocks only on POST /admin/produce?n=K\n"
"  --manual                 same as --block-ms 0\n"
"  --shards N               shards per block, 1..64 (default 4; mainnet has 9)\n"
"  --genesis-height N       height of the first block (default 100)\n"
"  --genesis-time-ns N      timestamp of the first block; blocks are 600 ms apart\n"
"                           (default: wall clock when timed, fixed when manual)\n"
"  --initial-blocks N       blocks produced at start after genesis (default 3)\n"
"  --chain-id ID            chain_id reported by status (default nearsim)\n"
"  --keep-blocks N          blocks kept for queries; older ones are dropped (default 10000)\n"
"  --tx-validity N          transaction_validity_period in blocks (default 86400)\n"
"  --tx-timeout-ms N        how long send_tx/tx wait before TIMEOUT_ERROR (default 10000)\n"
"  --neardata-wait-ms N     how long /v0/block/{h} waits for a near-future height (default 10000)\n"
"\n"
"Accounts and contract:\n"
"  --genesis FILE           accounts, keys and contract set-up (JSON; see README);\n"
"                           default: a built-in genesis (see --dump-genesis)\n"
"  --dump-genesis           print the genesis in use as JSON and exit\n"
"  --contract ID            MPC contract account of the built-in genesis (default mpc.test.near)\n"
"  --participants N         MPC participants of the built-in genesis (default 3)\n"
"  --threshold N            signing threshold (default 2)\n"
"  --users N                simulated user accounts userI.test.near (default 4)\n"
"  --print-key ACCOUNT[:ROLE]  print a near-cli key file for ACCOUNT and exit; ROLE is\n"
"                           full (default), signer (function-call key for the contract)\n"
"                           or tls (the node's TLS/p2p key)\n"
"\n"
"Traffic:\n"
"  --bg-tx N                background (non-MPC) transactions per chunk (default 2)\n"
"  --bg-log-bytes N         bytes of log per background receipt outcome (default 64)\n"
"  --bg-target-bytes N      steer background traffic so a block document is ~N bytes\n"
"                           (e.g. 200000; mainnet blocks are 100 KB..1 MB)\n"
"  --sign-rate R            simulated sign requests per block (default 0)\n"
"  --ckd-rate R             simulated request_app_private_key calls per block (default 0)\n"
"  --auto-respond           play the MPC network: participants answer every request\n"
"  --respond-delay N        blocks between a request and its automatic answer (default 2)\n"
"  --reshare-every N        start a resharing every N blocks (default 0 = on command)\n"
"  --reshare-blocks N       blocks a resharing lasts before Running at epoch+1 (default 6)\n"
"\n"
"Faults (also switchable at run time: POST /admin/faults, /admin/chain, /admin/stall):\n"
"  --fault KIND:NAME=V[,NAME=V]  KIND is rpc, neardata or all; NAME is latency_ms,\n"
"                           lag_blocks, hang_ms or a rate 0..1 of 5xx, 429, timeout,\n"
"                           reset, truncate, invalid_json; repeatable\n"
"  --skip-rate R            probability that a height is skipped (default 0)\n"
"  --fork-rate R            probability that the optimistic head is replaced (default 0)\n"
"  --stall                  start with timed block production stalled\n"
"\n"
"  --quiet                  no start-up line on stderr\n"
"  --help                   this text\n"
"\n"
"Point the daemon at it: RPC http://127.0.0.1:PORT, neardata http://127.0.0.1:PORT.\n";

enum {
	O_LISTEN = 256, O_PORT, O_PORT_FILE, O_SEED, O_BLOCK_MS, O_MANUAL, O_SHARDS, O_GEN_H, O_GEN_T,
	O_INIT, O_CHAIN_ID, O_KEEP, O_VALIDITY, O_TX_TIMEOUT, O_ND_WAIT, O_GENESIS, O_DUMP, O_CONTRACT,
	O_PARTS, O_THRESH, O_USERS, O_PRINT_KEY, O_BG_TX, O_BG_LOG, O_BG_TARGET, O_SIGN_RATE, O_CKD_RATE,
	O_AUTO, O_DELAY, O_RESHARE_EVERY, O_RESHARE_BLOCKS, O_FAULT, O_SKIP, O_FORK, O_STALL, O_QUIET, O_HELP,
};

static const struct option opts[] = {
	{ "listen", 1, NULL, O_LISTEN }, { "port", 1, NULL, O_PORT }, { "port-file", 1, NULL, O_PORT_FILE },
	{ "seed", 1, NULL, O_SEED }, { "block-ms", 1, NULL, O_BLOCK_MS }, { "manual", 0, NULL, O_MANUAL },
	{ "shards", 1, NULL, O_SHARDS }, { "genesis-height", 1, NULL, O_GEN_H },
	{ "genesis-time-ns", 1, NULL, O_GEN_T }, { "initial-blocks", 1, NULL, O_INIT },
	{ "chain-id", 1, NULL, O_CHAIN_ID }, { "keep-blocks", 1, NULL, O_KEEP },
	{ "tx-validity", 1, NULL, O_VALIDITY }, { "tx-timeout-ms", 1, NULL, O_TX_TIMEOUT },
	{ "neardata-wait-ms", 1, NULL, O_ND_WAIT }, { "genesis", 1, NULL, O_GENESIS },
	{ "dump-genesis", 0, NULL, O_DUMP }, { "contract", 1, NULL, O_CONTRACT },
	{ "participants", 1, NULL, O_PARTS }, { "threshold", 1, NULL, O_THRESH }, { "users", 1, NULL, O_USERS },
	{ "print-key", 1, NULL, O_PRINT_KEY }, { "bg-tx", 1, NULL, O_BG_TX }, { "bg-log-bytes", 1, NULL, O_BG_LOG },
	{ "bg-target-bytes", 1, NULL, O_BG_TARGET }, { "sign-rate", 1, NULL, O_SIGN_RATE },
	{ "ckd-rate", 1, NULL, O_CKD_RATE }, { "auto-respond", 0, NULL, O_AUTO },
	{ "respond-delay", 1, NULL, O_DELAY }, { "reshare-every", 1, NULL, O_RESHARE_EVERY },
	{ "reshare-blocks", 1, NULL, O_RESHARE_BLOCKS }, { "fault", 1, NULL, O_FAULT },
	{ "skip-rate", 1, NULL, O_SKIP }, { "fork-rate", 1, NULL, O_FORK }, { "stall", 0, NULL, O_STALL },
	{ "quiet", 0, NULL, O_QUIET }, { "help", 0, NULL, O_HELP }, { NULL, 0, NULL, 0 },
};

static int num(const char *flag, const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || !*s || v < lo || v > hi || s[0] == '-') {
		fprintf(stderr, "nearsim: --%s wants an integer in %llu..%llu, got \"%s\"\n", flag, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int rate(const char *flag, const char *s, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || !*s || v < 0 || v > hi) {
		fprintf(stderr, "nearsim: --%s wants a number in 0..%g, got \"%s\"\n", flag, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void *producer(void *arg)
{
	struct ns_chain *c = arg;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		next.tv_nsec += (long)(c->cfg->block_ms % 1000) * 1000000L;
		next.tv_sec += c->cfg->block_ms / 1000;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		pthread_mutex_lock(&c->mu);
		if (c->stopping) {
			pthread_mutex_unlock(&c->mu);
			return NULL;
		}
		if (!c->stall)
			chain_produce(c, 1);
		pthread_mutex_unlock(&c->mu);
	}
}

int main(int argc, char **argv)
{
	struct ns_config cfg = {
		.listen = "127.0.0.1", .port = 3030, .seed = 1, .block_ms = 600, .shards = 4,
		.genesis_height = 100, .chain_id = "nearsim", .contract_id = "mpc.test.near",
		.participants = 3, .threshold = 2, .users = 4, .bg_tx = 2, .bg_log_bytes = 64,
		.respond_delay = 2, .reshare_blocks = 6, .tx_validity = 86400, .tx_timeout_ms = 10000,
		.neardata_wait_ms = 10000, .keep_blocks = 10000,
	};
	struct ns_faults pending_faults;
	const char *fault_specs[32];
	int nfaults = 0, o, i, bound = 0;
	unsigned long long v, initial = 3;
	bool dump = false;
	struct MHD_Daemon *d;
	pthread_t prod;
	sigset_t set;
	char err[256];

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case O_LISTEN: cfg.listen = optarg; break;
		case O_PORT: if (num("port", optarg, 0, 65535, &v)) return 2; cfg.port = (int)v; break;
		case O_PORT_FILE: cfg.port_file = optarg; break;
		case O_SEED: if (num("seed", optarg, 0, UINT64_MAX, &v)) return 2; cfg.seed = v; break;
		case O_BLOCK_MS: if (num("block-ms", optarg, 0, 3600000, &v)) return 2; cfg.block_ms = (unsigned)v; break;
		case O_MANUAL: cfg.block_ms = 0; break;
		case O_SHARDS: if (num("shards", optarg, 1, NS_MAX_SHARDS, &v)) return 2; cfg.shards = (int)v; break;
		case O_GEN_H: if (num("genesis-height", optarg, 1, 1ULL << 50, &v)) return 2; cfg.genesis_height = v; break;
		case O_GEN_T: if (num("genesis-time-ns", optarg, 1, UINT64_MAX / 2, &v)) return 2; cfg.genesis_time_ns = v; break;
		case O_INIT: if (num("initial-blocks", optarg, 0, 100000, &initial)) return 2; break;
		case O_CHAIN_ID: cfg.chain_id = optarg; break;
		case O_KEEP: if (num("keep-blocks", optarg, 100, 100000000, &v)) return 2; cfg.keep_blocks = v; break;
		case O_VALIDITY: if (num("tx-validity", optarg, 1, 100000000, &v)) return 2; cfg.tx_validity = v; break;
		case O_TX_TIMEOUT: if (num("tx-timeout-ms", optarg, 0, 600000, &v)) return 2; cfg.tx_timeout_ms = (unsigned)v; break;
		case O_ND_WAIT: if (num("neardata-wait-ms", optarg, 0, 600000, &v)) return 2; cfg.neardata_wait_ms = (unsigned)v; break;
		case O_GENESIS: cfg.genesis_path = optarg; break;
		case O_DUMP: dump = true; break;
		case O_CONTRACT: cfg.contract_id = optarg; break;
		case O_PARTS: if (num("participants", optarg, 1, 100, &v)) return 2; cfg.participants = (int)v; break;
		case O_THRESH: if (num("threshold", optarg, 1, 100, &v)) return 2; cfg.threshold = (int)v; break;
		case O_USERS: if (num("users", optarg, 0, 10000, &v)) return 2; cfg.users = (int)v; break;
		case O_PRINT_KEY: {
			char acct[128], *colon;
			snprintf(acct, sizeof(acct), "%s", optarg);
			colon = strchr(acct, ':');
			if (colon)
				*colon++ = 0;
			if (sodium_init() < 0)
				return 1;
			return print_key(acct, colon);
		}
		case O_BG_TX: if (num("bg-tx", optarg, 0, 5000, &v)) return 2; cfg.bg_tx = (int)v; break;
		case O_BG_LOG: if (num("bg-log-bytes", optarg, 0, 800, &v)) return 2; cfg.bg_log_bytes = (int)v; break;
		case O_BG_TARGET: if (num("bg-target-bytes", optarg, 0, 64 << 20, &v)) return 2; cfg.bg_target_bytes = v; break;
		case O_SIGN_RATE: if (rate("sign-rate", optarg, 1000, &cfg.sign_rate)) return 2; break;
		case O_CKD_RATE: if (rate("ckd-rate", optarg, 1000, &cfg.ckd_rate)) return 2; break;
		case O_AUTO: cfg.auto_respond = true; break;
		case O_DELAY: if (num("respond-delay", optarg, 0, 199, &v)) return 2; cfg.respond_delay = (int)v; break;
		case O_RESHARE_EVERY: if (num("reshare-every", optarg, 0, 100000000, &v)) return 2; cfg.reshare_every = v; break;
		case O_RESHARE_BLOCKS: if (num("reshare-blocks", optarg, 1, 100000, &v)) return 2; cfg.reshare_blocks = (int)v; break;
		case O_FAULT:
			if (nfaults == 32) {
				fprintf(stderr, "nearsim: at most 32 --fault flags\n");
				return 2;
			}
			fault_specs[nfaults++] = optarg;
			break;
		case O_SKIP: if (rate("skip-rate", optarg, 0.9, &cfg.skip_rate)) return 2; break;
		case O_FORK: if (rate("fork-rate", optarg, 1, &cfg.fork_rate)) return 2; break;
		case O_STALL: cfg.stall = true; break;
		case O_QUIET: cfg.quiet = true; break;
		case O_HELP: case 'h': fputs(usage, stdout); return 0;
		default: fputs("Try 'nearsim --help'.\n", stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nearsim: unexpected argument \"%s\"; try --help\n", argv[optind]);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	faults_init(&pending_faults, cfg.seed);
	for (i = 0; i < nfaults; i++) {
		if (faults_set_spec(&pending_faults, fault_specs[i], err, sizeof(err))) {
			fprintf(stderr, "nearsim: %s\n", err);
			return 2;
		}
	}
	if (chain_init(&g_chain, &cfg))
		return 1;
	{
		uint64_t rng = g_chain.faults.rng;
		g_chain.faults = pending_faults;
		g_chain.faults.rng = rng;
	}
	if (dump) {
		char *g = genesis_dump(&g_chain);
		puts(g ? g : "{}");
		free(g);
		chain_free(&g_chain);
		contract_free_all();
		return 0;
	}
	chain_produce(&g_chain, (int)initial);

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (!(d = server_start(&g_chain, cfg.listen, cfg.port, &bound))) {
		fprintf(stderr, "nearsim: cannot listen on %s:%d\n", cfg.listen, cfg.port);
		chain_free(&g_chain);
		contract_free_all();
		return 1;
	}
	if (cfg.port_file) {
		FILE *f = fopen(cfg.port_file, "w");
		if (!f || fprintf(f, "%d\n", bound) < 0 || fclose(f)) {
			fprintf(stderr, "nearsim: cannot write %s: %s\n", cfg.port_file, strerror(errno));
			MHD_stop_daemon(d);
			return 1;
		}
	}
	if (!cfg.quiet)
		fprintf(stderr, "nearsim: listening on http://%s:%d (chain %s, contract %s, %s)\n", cfg.listen, bound,
			g_chain.chain_id, g_chain.contract_id, cfg.block_ms ? "timed blocks" : "manual blocks");
	if (cfg.block_ms && pthread_create(&prod, NULL, producer, &g_chain)) {
		fprintf(stderr, "nearsim: cannot start the block producer\n");
		return 1;
	}
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	}
	while (!stop_flag)
		pause();
	pthread_mutex_lock(&g_chain.mu);
	g_chain.stopping = true;
	pthread_cond_broadcast(&g_chain.cv);
	pthread_mutex_unlock(&g_chain.mu);
	if (cfg.block_ms)
		pthread_join(prod, NULL);
	MHD_stop_daemon(d);
	chain_free(&g_chain);
	contract_free_all();
	return 0;
}
