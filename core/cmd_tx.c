/*
 * `mpc-indexer tx call CONTRACT METHOD ARGS_JSON`: sign, send and follow one
 * function call with a configured signer (or --key-file), printing its hash
 * and outcome; `mpc-indexer tx sign ... --nonce N --block-hash H`: sign
 * offline (air-gapped operators) and print the base64 and the hash.
 * Arguments are checked before anything is signed.
 */
#include <curl/curl.h>
#include <ev.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "near/hash.h"
#include "rpc.h"
#include "settings.h"
#include "signer.h"
#include "txcheck.h"
#include "txjournal.h"
#include "txsend.h"

#define MAX_RPC 16

struct tx_cli {
	int sign_only;
	const char *contract, *method, *args;
	const char *signer, *key_file, *account;
	const char *gas_text, *deposit, *block_hash, *nonce_text;
	const char *rpc_urls[MAX_RPC + 1];
	int n_rpc, wait;
	double deadline;
	/* the outcome */
	int done, rc, interrupted;
};

static const char *const status_names[] = { "accepted", "succeeded", "failed", "unknown",
					     "rejected" };

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "mpc-indexer tx: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (try --help)\n");
	return EXIT_USAGE;
}

static int parse_args(struct tx_cli *c, int argc, char **argv)
{
	int pos = 0;

	if (argc < 2)
		return usage_error("which subcommand? call or sign%s", "");
	if (!strcmp(argv[1], "sign"))
		c->sign_only = 1;
	else if (strcmp(argv[1], "call") != 0)
		return usage_error("unknown subcommand '%s' (call or sign)", argv[1]);
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		if (!strcmp(a, "--wait")) {
			c->wait = 1;
			continue;
		}
		if (!strncmp(a, "--", 2) && a[2]) {
			const char *eq = strchr(a, '=');
			size_t klen = eq ? (size_t)(eq - a) : strlen(a);
			char key[32];
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return usage_error("%s needs a value", a);
			snprintf(key, sizeof(key), "%.*s", (int)(klen < 31 ? klen : 31), a);
			if (!strcmp(key, "--signer"))
				c->signer = val;
			else if (!strcmp(key, "--gas"))
				c->gas_text = val;
			else if (!strcmp(key, "--deposit"))
				c->deposit = val;
			else if (!strcmp(key, "--key-file"))
				c->key_file = val;
			else if (!strcmp(key, "--account"))
				c->account = val;
			else if (!strcmp(key, "--nonce") && c->sign_only)
				c->nonce_text = val;
			else if (!strcmp(key, "--block-hash") && c->sign_only)
				c->block_hash = val;
			else if (!strcmp(key, "--deadline") && !c->sign_only) {
				if (cfg_parse_duration(val, &c->deadline) < 0 || c->deadline <= 0)
					return usage_error("--deadline '%s' is not a duration", val);
			} else if (!strcmp(key, "--rpc") && !c->sign_only) {
				if (c->n_rpc >= MAX_RPC)
					return usage_error("at most 16 --rpc%s", "");
				c->rpc_urls[c->n_rpc++] = val;
			} else {
				return usage_error("unknown option '%s'", a);
			}
			continue;
		}
		if (pos == 0)
			c->contract = a;
		else if (pos == 1)
			c->method = a;
		else if (pos == 2)
			c->args = a;
		else
			return usage_error("unexpected argument '%s'", a);
		pos++;
	}
	if (!c->args)
		return usage_error("want CONTRACT METHOD ARGS_JSON%s", "");
	if (c->sign_only && (!c->nonce_text || !c->block_hash))
		return usage_error("tx sign needs --nonce N and --block-hash H%s", "");
	if (c->signer && c->key_file)
		return usage_error("give --signer or --key-file, not both%s", "");
	if (c->account && !c->key_file)
		return usage_error("--account goes with --key-file%s", "");
	return 0;
}

/* The file is needed unless --key-file (and, for call, --rpc) say everything. */
static struct cfg *load_config(const struct tx_cli *c, const char *path, int *rc)
{
	struct cfg *cfg;
	struct cfg_error ce;
	char msg[1024], sec[64];
	struct stat st;
	static const struct cfg_key *near_s[] = { settings_near_keys, NULL };
	static const struct cfg_key *tx_s[] = { settings_tx_keys, NULL };
	static const struct cfg_key *signer_s[] = { settings_signer_keys, NULL };

	*rc = EXIT_OK;
	if (c->key_file && (c->sign_only || c->n_rpc) && (!path || stat(path, &st) < 0))
		return NULL;
	if (!(cfg = cli_load_config(path))) {
		*rc = EXIT_CONFIG;
		return NULL;
	}
	if (cfg_check_section(cfg, "near", near_s, &ce) < 0 ||
	    cfg_check_section(cfg, "tx", tx_s, &ce) < 0)
		goto bad;
	for (size_t i = 0; i < cfg_section_count(cfg); i++) {
		const char *s = cfg_section_name(cfg, i);
		if (strncmp(s, "signer.", 7) != 0)
			continue;
		snprintf(sec, sizeof(sec), "%s", s);
		if (cfg_check_section(cfg, sec, signer_s, &ce) < 0)
			goto bad;
	}
	return cfg;
bad:
	fprintf(stderr, "%s\n", cfg_format_error(&ce, msg, sizeof(msg)));
	cfg_free(cfg);
	*rc = EXIT_CONFIG;
	return NULL;
}

/* --key-file, or [signer.NAME] (NAME from --signer, or the only one). */
static struct signer *load_signer(const struct tx_cli *c, const struct cfg *cfg, int *rc)
{
	struct signer *s = NULL;
	char err[512];

	*rc = EXIT_OK;
	if (c->key_file) {
		if (signer_load(&s, "cli", c->account, c->key_file, NULL, err, sizeof(err)) < 0) {
			fprintf(stderr, "mpc-indexer tx: %s\n", err);
			*rc = EXIT_CONFIG;
		}
		return s;
	}
	const char *name = c->signer, *found = NULL;
	size_t n = 0;
	for (size_t i = 0; cfg && i < cfg_section_count(cfg); i++) {
		const char *sec = cfg_section_name(cfg, i);
		if (strncmp(sec, "signer.", 7) != 0 || !sec[7])
			continue;
		n++;
		if (!name || !strcmp(sec + 7, name))
			found = sec;
	}
	if (!found || (!name && n != 1)) {
		if (name)
			fprintf(stderr, "mpc-indexer tx: no [signer.%s] in the configuration\n", name);
		else
			fprintf(stderr, "mpc-indexer tx: %s; give --signer NAME or --key-file PATH\n",
				n ? "several signers are configured" : "no signer is configured");
		*rc = EXIT_USAGE;
		return NULL;
	}
	if (signer_load(&s, found + 7, cfg_get(cfg, found, "account_id"),
			cfg_get(cfg, found, "key_file"), cfg_get(cfg, found, "key_env"), err,
			sizeof(err)) < 0) {
		fprintf(stderr, "mpc-indexer tx: %s\n", err);
		*rc = EXIT_CONFIG;
	}
	return s;
}

static int sign_offline(struct tx_cli *c, struct signer *s, uint64_t gas, near_u128 deposit)
{
	uint8_t bh[NEAR_HASH_LEN];
	uint64_t nonce;
	struct near_signed_tx st;

	if (near_u64_parse(c->nonce_text, strlen(c->nonce_text), &nonce) < 0 || nonce == 0)
		return usage_error("--nonce '%s' is not a positive 64-bit number", c->nonce_text);
	if (near_hash_from_b58(bh, c->block_hash) < 0)
		return usage_error("--block-hash '%s' is not a base58 block hash (32 bytes)",
				   c->block_hash);
	struct near_fc_action act = {
		.method = c->method, .args = (const uint8_t *)c->args,
		.args_len = strlen(c->args), .gas = gas, .deposit = deposit,
	};
	if (signer_sign_call(s, &st, nonce, c->contract, bh, &act) < 0) {
		fprintf(stderr, "mpc-indexer tx: signing failed\n");
		return EXIT_RUNTIME;
	}
	printf("hash: %s\nsigned_tx_base64: %s\n", st.hash_b58, st.base64);
	fprintf(stderr, "signer %s (%s), nonce %" PRIu64 "; send it with send_tx or "
		"broadcast_tx_commit\n", s->account_id, s->pk_str, nonce);
	near_signed_tx_free(&st);
	return EXIT_OK;
}

static void on_outcome(void *ctx, const struct mpci_tx_result *r)
{
	struct tx_cli *c = ctx;

	c->done = 1;
	printf("hash: %s\nstatus: %s\n", r->hash ? r->hash : "-", status_names[r->status]);
	if (r->value && r->value_len)
		printf("value: %.*s\n", (int)r->value_len, r->value);
	if (r->error)
		printf("error: %s\n", r->error);
	fflush(stdout);
	c->rc = r->status == MPCI_TX_SUCCEEDED || r->status == MPCI_TX_ACCEPTED ?
		EXIT_OK : EXIT_RUNTIME;
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	((struct tx_cli *)w->data)->interrupted = 1;
}

static int call(struct tx_cli *c, struct cfg *cfg, struct signer *s, uint64_t gas)
{
	struct http_client *http = NULL;
	struct rpc *rpc = NULL;
	struct txsend *ts = NULL;
	struct ev_loop *loop;
	char dir[] = "/tmp/mpc-indexer-tx-XXXXXX", err[512];
	const char *tmp = getenv("TMPDIR");
	char tdir[4096];
	int rc = EXIT_RUNTIME;

	/* A private journal: the daemon's is locked while it runs. */
	snprintf(tdir, sizeof(tdir), "%s/mpc-indexer-tx-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	char *d = mkdtemp(tdir[0] ? tdir : dir);
	if (!d) {
		fprintf(stderr, "mpc-indexer tx: cannot create a temporary directory\n");
		signer_free(s);
		return EXIT_RUNTIME;
	}
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "mpc-indexer tx: cannot initialise libcurl\n");
		signer_free(s);
		rmdir(d);
		return EXIT_RUNTIME;
	}
	loop = ev_default_loop(EVFLAG_AUTO);
	http = http_client_new(loop);
	if (c->n_rpc) {
		struct rpc_config rc_ = { .urls = c->rpc_urls, .probe_interval = -1 };
		if (cfg) {
			rc_.api_key = cfg_get(cfg, "near", "rpc_api_key");
			rc_.chain_id = cfg_get(cfg, "near", "chain_id");
		}
		rpc = http ? rpc_new_with(loop, http, NULL, &rc_, err, sizeof(err)) : NULL;
	} else {
		rpc = http ? rpc_new(loop, http, NULL, cfg, err, sizeof(err)) : NULL;
	}
	if (!rpc) {
		fprintf(stderr, "mpc-indexer tx: %s\n", http ? err : "out of memory");
		signer_free(s);
		rc = http ? EXIT_CONFIG : EXIT_RUNTIME;
		goto out;
	}
	struct txsend_opts o = { .wait_deadline = c->deadline };
	if (cfg) {
		cfg_get_duration(cfg, "tx", "status_timeout", &o.status_timeout);
		cfg_get_duration(cfg, "tx", "retry_interval", &o.retry_interval);
		o.wait_until = cfg_get(cfg, "tx", "wait_until");
		o.accept_level = cfg_get(cfg, "tx", "accept_level");
	}
	ts = txsend_new_with(loop, rpc, s, &o, NULL, d, err, sizeof(err));
	if (!ts) {
		fprintf(stderr, "mpc-indexer tx: %s\n", err);
		goto out;
	}
	struct mpci_tx_request req = {
		.struct_size = sizeof(req), .receiver = c->contract, .method = c->method,
		.args = c->args, .args_len = strlen(c->args), .gas = gas, .deposit = c->deposit,
		.wait = c->wait ? MPCI_TX_WAIT : MPCI_TX_SEND, .deadline = c->deadline,
	};
	if (txsend_start(ts) < 0 ||
	    txsend_submit(ts, &req, on_outcome, c, NULL, err, sizeof(err)) != MPCI_OK) {
		fprintf(stderr, "mpc-indexer tx: %s\n", err);
		goto out;
	}
	ev_signal sint, sterm;
	ev_signal_init(&sint, on_signal, SIGINT);
	ev_signal_init(&sterm, on_signal, SIGTERM);
	sint.data = sterm.data = c;
	ev_signal_start(loop, &sint);
	ev_signal_start(loop, &sterm);
	while (!c->done && !c->interrupted)
		ev_run(loop, EVRUN_ONCE);
	ev_signal_stop(loop, &sint);
	ev_signal_stop(loop, &sterm);
	rc = c->done ? c->rc : EXIT_RUNTIME;
out:
	if (ts) {
		txsend_stop(ts);
		txsend_free(ts); /* an interrupted call reports "shutdown" here */
	}
	rpc_free(rpc);
	http_client_free(http);
	curl_global_cleanup();
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", d, TXJOURNAL_FILE);
	unlink(path);
	rmdir(d);
	return rc;
}

int cmd_tx(int argc, char **argv, const char *config_path)
{
	struct tx_cli c = { .rc = EXIT_RUNTIME };
	struct cfg *cfg;
	struct signer *s;
	char err[512];
	int rc;

	if ((rc = parse_args(&c, argc, argv)) != 0)
		return rc;
	cfg = load_config(&c, config_path, &rc);
	if (rc)
		return rc;
	s = load_signer(&c, cfg, &rc);
	if (!s) {
		cfg_free(cfg);
		return rc;
	}
	/* Every argument is checked before anything is signed. */
	uint64_t default_gas = 300 * NEAR_TGAS, gas = 0;
	const char *dg = cfg ? cfg_get(cfg, "tx", "default_gas") : NULL;
	if (dg && txcheck_parse_gas(dg, &default_gas, err, sizeof(err)) < 0) {
		fprintf(stderr, "mpc-indexer tx: [tx] default_gas: %s\n", err);
		rc = EXIT_CONFIG;
		goto out;
	}
	if (c.gas_text && txcheck_parse_gas(c.gas_text, &gas, err, sizeof(err)) < 0) {
		rc = usage_error("%s", err);
		goto out;
	}
	near_u128 deposit;
	struct txcheck_in in = {
		.signer_id = s->account_id, .receiver = c.contract, .method = c.method,
		.args = c.args, .args_len = strlen(c.args), .gas = gas, .deposit = c.deposit,
	};
	if (txcheck_request(&in, default_gas, &gas, &deposit, err, sizeof(err)) < 0) {
		fprintf(stderr, "mpc-indexer tx: refused: %s; nothing was signed\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	if (c.sign_only) {
		rc = sign_offline(&c, s, gas, deposit);
		goto out;
	}
	if (!cfg && !c.n_rpc) {
		fprintf(stderr, "mpc-indexer tx: no RPC endpoint: give --rpc URL or a configuration\n");
		rc = EXIT_USAGE;
		goto out;
	}
	rc = call(&c, cfg, s, gas); /* the signer now belongs to call() */
	s = NULL;
out:
	signer_free(s);
	cfg_free(cfg);
	return rc;
}
