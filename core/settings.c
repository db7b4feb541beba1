/* The core's configuration sections.  Modules that grow keys (the RPC client,
 * the viewer, the block stream, the sender) add them to these tables. */
#include <stdio.h>
#include <string.h>

#include "keyfile.h"
#include "near/account_id.h"
#include "settings.h"

const struct cfg_key settings_indexer_keys[] = {
	{ "log_level", CFG_STR, "info", "error, warn, info or debug" },
	{ "log_file", CFG_PATH, NULL, "append the log here instead of stderr (SIGHUP reopens it)" },
	{ "state_dir", CFG_PATH, MPCI_LOCALSTATEDIR "/lib/mpc-indexer", "where the cursor, the transaction journal and plugin files live" },
	{ "plugin_dir", CFG_PATH, MPCI_PLUGINDIR, "where [plugin.NAME] finds NAME.so" },
	{ "slow_callback", CFG_DURATION, "100ms", "warn when a plugin callback blocks the loop longer than this" },
	{ "max_lag", CFG_DURATION, "30s", "the indexer counts as following the chain within this lag" },
	{ "shutdown_timeout", CFG_DURATION, "10s", "how long SIGTERM waits for work in flight" },
	{ NULL, 0, NULL, NULL },
};

const struct cfg_key settings_near_keys[] = {
	{ "chain_id", CFG_STR, NULL, "refuse endpoints of another chain (mainnet, testnet, ...)" },
	{ "contract", CFG_STR, NULL, "the MPC contract account" },
	{ "rpc_urls", CFG_LIST, NULL, "NEAR JSON-RPC endpoints, in order of preference: URL, or URL|KEY for an endpoint with its own API key" },
	{ "rpc_api_key", CFG_STR, NULL, "sent as a Bearer token to the RPC endpoints" },
	{ "block_urls", CFG_LIST, NULL, "neardata-compatible block API endpoints" },
	{ "block_api_key", CFG_STR, NULL, "sent as ?apiKey= to the block endpoints" },
	{ "finality", CFG_STR, "final", "final or optimistic block stream" },
	{ "request_timeout", CFG_DURATION, "10s", "per HTTP request" },
	{ "rpc_max_attempts", CFG_UINT, "0", "HTTP attempts per RPC call over all endpoints; 0 = max(3, 2 x endpoints)" },
	{ "rpc_max_response", CFG_SIZE, "16M", "largest RPC response body accepted" },
	{ "rpc_max_lag_blocks", CFG_UINT, "10", "an endpoint this many final blocks behind the best is used last" },
	{ "rpc_probe_interval", CFG_DURATION, "10s", "how often idle endpoints are asked for their final height (0 = never)" },
	{ "rpc_cooldown_max", CFG_DURATION, "60s", "longest rest of a failing endpoint (rests double from 1 s)" },
	{ NULL, 0, NULL, NULL },
};

/* Sections owned by the event sources; each module fills in its own table. */
const struct cfg_key settings_view_keys[] = {
	{ "endpoints", CFG_LIST, "state, allowed_docker_image_hashes, allowed_launcher_compose_hashes, get_tee_accounts, migration_info", "views of [near] contract polled from the start, subscribed or not: METHOD or METHOD/INTERVAL; any others only while a plugin subscribes" },
	{ "interval", CFG_DURATION, "1s", "between polls of a view (the reference node's refresh interval)" },
	{ "retry", CFG_STR, "exponential", "after a failure once a view has a value: fail_fast, fixed or exponential" },
	{ "backoff_initial", CFG_DURATION, "1s", "first retry delay (fixed: every retry delay)" },
	{ "backoff_max", CFG_DURATION, "60s", "longest exponential retry delay" },
	{ "jitter", CFG_DURATION, "1s", "a random [0, jitter) added to every retry delay; 0 = none" },
	{ "bootstrap_retry", CFG_STR, "exponential", "after a failure before a view's first value: fail_fast, fixed or exponential" },
	{ "bootstrap_backoff_initial", CFG_DURATION, "1s", "first retry delay before the first value" },
	{ "bootstrap_backoff_max", CFG_DURATION, "60s", "longest retry delay before the first value" },
	{ NULL, 0, NULL, NULL },
};

const struct cfg_key settings_blocks_keys[] = {
	{ "start", CFG_STR, "cursor", "where a stream without a cursor begins: cursor (else the head), head, or a block height" },
	{ "fetch_ahead", CFG_UINT, "32", "heights fetched concurrently while catching up (1..1024)" },
	{ "fallback_after", CFG_UINT, "5", "consecutive failures of block_urls before the RPC-only fallback takes over" },
	{ "fallback_probe", CFG_DURATION, "10s", "how often the fallback checks whether block_urls answer again" },
	{ "cursor_interval", CFG_DURATION, "1s", "how often the position is saved (also at stop); a crash replays at most this much" },
	{ "head_interval", CFG_DURATION, "1s", "how often the chain head is asked for" },
	{ "retry_max", CFG_DURATION, "5s", "longest wait between retries of a failed height" },
	{ "max_block_size", CFG_SIZE, "32M", "refuse block documents larger than this" },
	{ "tracker_window", CFG_UINT, "200", "optimistic mode: recent blocks the fork tracker keeps" },
	{ NULL, 0, NULL, NULL },
};

const struct cfg_key settings_tx_keys[] = {
	{ "queue_max", CFG_UINT, "10000", "transactions a signer may have queued or in flight" },
	{ "in_flight_max", CFG_UINT, "256", "signed transactions per access key not yet finished (the pipeline)" },
	{ "submit_parallel", CFG_UINT, "1", "send_tx calls in flight per access key; above 1, sends that reach the node out of order around a block cost nonce errors (re-signed)" },
	{ "wait_deadline", CFG_DURATION, "2m", "default deadline: then a transaction is reported unknown (rejected if never sent)" },
	{ "default_gas", CFG_STR, "300T", "gas of a request that gives none: a number, or with T (Tgas) or P (Pgas)" },
	{ "wait_until", CFG_STR, "EXECUTED", "finality of a send_and_wait outcome: EXECUTED_OPTIMISTIC, EXECUTED or FINAL" },
	{ "accept_level", CFG_STR, "INCLUDED", "when a send counts as accepted: NONE (the node took it), INCLUDED or INCLUDED_FINAL" },
	{ "block_refresh", CFG_DURATION, "10s", "how often the final block hash that transactions are signed on is refreshed" },
	{ "retry_interval", CFG_DURATION, "1s", "pause before following, checking or sending again after a failure" },
	{ "sweep_interval", CFG_DURATION, "1s", "when the newest transaction of a key takes this long, look at the others without it" },
	{ "status_timeout", CFG_DURATION, "20s", "HTTP timeout of send_tx and tx calls (a node waits up to 10 s)" },
	{ "compact_bytes", CFG_SIZE, "8M", "rewrite the transaction journal when it grows past this" },
	{ "validity_blocks", CFG_UINT, "86400", "the chain's transaction_validity_period: an unknown transaction signed longer ago is signed again" },
	{ NULL, 0, NULL, NULL },
};

static const struct {
	const char *name;
	const struct cfg_key *keys;
} plain_sections[] = {
	{ "indexer", settings_indexer_keys },
	{ "view", settings_view_keys },
	{ "blocks", settings_blocks_keys },
	{ "tx", settings_tx_keys },
};

const struct cfg_key settings_signer_keys[] = {
	{ "account_id", CFG_STR, NULL, "the account that signs" },
	{ "key_file", CFG_PATH, NULL, "its secret key (mode 0600): NEAR JSON key file or ed25519:..." },
	{ "key_env", CFG_STR, NULL, "or: the environment variable holding the key" },
	{ NULL, 0, NULL, NULL },
};

static int fail(struct cfg *c, const char *section, const char *key,
		struct cfg_error *err, const char *msg)
{
	memset(err, 0, sizeof(*err));
	if (cfg_where(c, section, key, err->file, sizeof(err->file)) < 0)
		snprintf(err->file, sizeof(err->file), "%s", cfg_path(c));
	snprintf(err->key, sizeof(err->key), "%s", key);
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	return -1;
}

static int check_account(struct cfg *c, const char *section, const char *key,
			 struct cfg_error *err)
{
	const char *v = cfg_get(c, section, key);
	char msg[200];
	if (v && !near_account_id_valid(v, strlen(v))) {
		snprintf(msg, sizeof(msg), "'%.100s' is not a valid NEAR account id", v);
		return fail(c, section, key, err, msg);
	}
	return 0;
}

static int check_near(struct cfg *c, struct cfg_error *err)
{
	const struct cfg_key *s[] = { settings_near_keys, NULL };
	if (cfg_check_section(c, "near", s, err) < 0)
		return -1;
	const char *fin = cfg_get(c, "near", "finality");
	if (fin && strcmp(fin, "final") != 0 && strcmp(fin, "optimistic") != 0)
		return fail(c, "near", "finality", err, "want final or optimistic");
	return check_account(c, "near", "contract", err);
}

static int check_signer(struct cfg *c, const char *section, struct cfg_error *err)
{
	const struct cfg_key *s[] = { settings_signer_keys, NULL };
	struct near_secret sk;
	char msg[512];

	if (cfg_check_section(c, section, s, err) < 0)
		return -1;
	if (!cfg_get(c, section, "account_id"))
		return fail(c, section, "account_id", err, "a signer needs an account_id");
	if (check_account(c, section, "account_id", err) < 0)
		return -1;
	const char *file = cfg_get(c, section, "key_file");
	const char *env = cfg_get(c, section, "key_env");
	if (!file == !env)
		return fail(c, section, file ? "key_env" : "key_file", err,
			    "set exactly one of key_file and key_env");
	int rc = file ? keyfile_load(file, &sk, NULL, 0, msg, sizeof(msg)) :
			keyfile_from_env(env, &sk, msg, sizeof(msg));
	near_secret_wipe(&sk);
	if (rc < 0)
		return fail(c, section, file ? "key_file" : "key_env", err, msg);
	return 0;
}

int settings_check(struct cfg *c, struct cfg_error *err)
{
	char msg[300];
	size_t np = sizeof(plain_sections) / sizeof(plain_sections[0]);

	for (size_t i = 0; i < np; i++) {
		const struct cfg_key *sc[] = { plain_sections[i].keys, NULL };
		if (cfg_check_section(c, plain_sections[i].name, sc, err) < 0)
			return -1;
	}
	if (check_near(c, err) < 0)
		return -1;
	for (size_t i = 0; i < cfg_section_count(c); i++) {
		const char *s = cfg_section_name(c, i);
		int known = strcmp(s, "near") == 0 || strncmp(s, "plugin.", 7) == 0;
		for (size_t k = 0; k < np; k++)
			known |= strcmp(s, plain_sections[k].name) == 0;
		if (known)
			continue;
		if (strncmp(s, "signer.", 7) == 0 && s[7]) {
			if (check_signer(c, s, err) < 0)
				return -1;
			continue;
		}
		memset(err, 0, sizeof(*err));
		snprintf(err->file, sizeof(err->file), "%s", cfg_path(c));
		err->line = cfg_section_line(c, i);
		snprintf(msg, sizeof(msg),
			 "unknown section [%.100s] (known: indexer, near, view, blocks, tx, signer.NAME, plugin.NAME)", s);
		snprintf(err->msg, sizeof(err->msg), "%s", msg);
		return -1;
	}
	return 0;
}
