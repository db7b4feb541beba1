/* `mpc-indexer view METHOD [ARGS_JSON]`: one view call, or every change with
 * --watch, printed as indented JSON on stdout (numbers kept exactly as the
 * contract wrote them); where it was observed goes to stderr. */
#include <curl/curl.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "near/account_id.h"
#include "rpc.h"
#include "settings.h"
#include "viewer.h"

#define MAX_RPC 16

struct view_cli {
	const char *method, *args, *contract;
	const char *rpc_urls[MAX_RPC + 1];
	int n_rpc, watch;
	double interval;
	struct ev_loop *loop;
	int rc, done;
};

/* Re-indent JSON text by two spaces without re-encoding anything. */
static void print_pretty(FILE *f, const char *s, size_t n)
{
	int depth = 0, in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			fputc(c, f);
			if (c == '\\' && i + 1 < n)
				fputc(s[++i], f);
			else if (c == '"')
				in_str = 0;
			continue;
		}
		switch (c) {
		case '"':
			in_str = 1;
			fputc(c, f);
			break;
		case '{':
		case '[': {
			size_t j = i + 1;
			while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r'))
				j++;
			if (j < n && (s[j] == (c == '{' ? '}' : ']'))) {
				fputc(c, f);
				fputc(s[j], f);
				i = j;
				break;
			}
			fprintf(f, "%c\n%*s", c, 2 * ++depth, "");
			break;
		}
		case '}':
		case ']':
			depth--;
			fprintf(f, "\n%*s%c", 2 * (depth > 0 ? depth : 0), "", c);
			break;
		case ',':
			fprintf(f, ",\n%*s", 2 * depth, "");
			break;
		case ':':
			fputs(": ", f);
			break;
		case ' ': case '\t': case '\n': case '\r':
			break;
		default:
			fputc(c, f);
		}
	}
	fputc('\n', f);
}

/* JSON pretty-printed; anything else (borsh views) as text or hex. */
static void print_value(const char *v, size_t n)
{
	cJSON *j = cJSON_ParseWithLength(v, n);
	if (j) {
		cJSON_Delete(j);
		print_pretty(stdout, v, n);
	} else {
		int text = 1;
		for (size_t i = 0; i < n; i++)
			text &= (unsigned char)v[i] >= 0x20 || v[i] == '\n' || v[i] == '\t';
		if (text) {
			fwrite(v, 1, n, stdout);
			fputc('\n', stdout);
		} else {
			fprintf(stderr, "(%zu bytes, not JSON; shown as hex)\n", n);
			for (size_t i = 0; i < n; i++)
				printf("%02x%s", (unsigned char)v[i], (i % 32 == 31 || i + 1 == n) ? "\n" : "");
		}
	}
	fflush(stdout);
}

/* ---- one call ---- */

static void on_view(const struct rpc_view_result *r, void *ud)
{
	struct view_cli *vc = ud;
	vc->done = 1;
	if (!r->ok) {
		fprintf(stderr, "mpc-indexer view: %s.%s: %s", vc->contract, vc->method, r->message);
		if (r->block_height)
			fprintf(stderr, " (at block %llu)", (unsigned long long)r->block_height);
		fputc('\n', stderr);
		vc->rc = EXIT_RUNTIME;
		return;
	}
	const cJSON *l;
	cJSON_ArrayForEach(l, r->logs)
		if (cJSON_IsString(l))
			fprintf(stderr, "log: %s\n", l->valuestring);
	fprintf(stderr, "%s.%s(%s) at block %llu (%s)\n", vc->contract, vc->method, vc->args,
		(unsigned long long)r->block_height, r->block_hash);
	print_value(r->value, r->value_len);
	vc->rc = EXIT_OK;
}

/* ---- --watch ---- */

static void on_change(void *ctx, const struct mpci_view_result *r)
{
	struct view_cli *vc = ctx;
	if (r->ok) {
		printf("--- block %llu (%s)\n", (unsigned long long)r->block_height,
		       r->block_hash && *r->block_hash ? r->block_hash : "?");
		print_value(r->value, r->value_len);
	} else {
		printf("--- block %llu: error: %s\n", (unsigned long long)r->block_height, r->error);
		fflush(stdout);
	}
	if (r->final) {
		vc->rc = EXIT_RUNTIME;
		ev_break(vc->loop, EVBREAK_ALL);
	}
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

/* ---- the command ---- */

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "mpc-indexer view: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (try --help)\n");
	return EXIT_USAGE;
}

static int parse_args(struct view_cli *vc, int argc, char **argv)
{
	int pos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		if (!strcmp(a, "--watch") || !strcmp(a, "-w")) {
			vc->watch = 1;
			continue;
		}
		if (!strncmp(a, "--", 2) && a[2]) {
			const char *eq = strchr(a, '=');
			size_t klen = eq ? (size_t)(eq - a) : strlen(a);
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return usage_error("%s needs a value", a);
			if (!strncmp(a, "--contract", klen) && klen == 10) {
				vc->contract = val;
			} else if (!strncmp(a, "--rpc", klen) && klen == 5) {
				if (vc->n_rpc >= MAX_RPC)
					return usage_error("at most 16 --rpc%s", "");
				vc->rpc_urls[vc->n_rpc++] = val;
			} else if (!strncmp(a, "--interval", klen) && klen == 10) {
				if (cfg_parse_duration(val, &vc->interval) < 0 || vc->interval < 0.05)
					return usage_error("--interval '%s' is not a duration of at least 50ms", val);
			} else {
				return usage_error("unknown option '%s'", a);
			}
			continue;
		}
		if (pos == 0)
			vc->method = a;
		else if (pos == 1)
			vc->args = a;
		else
			return usage_error("unexpected argument '%s'", a);
		pos++;
	}
	if (!vc->method)
		return usage_error("which METHOD?%s", "");
	cJSON *j = cJSON_Parse(vc->args);
	int obj = cJSON_IsObject(j);
	cJSON_Delete(j);
	if (!obj)
		return usage_error("ARGS_JSON must be a JSON object, like '{\"domain_id\":0}', not '%s'",
				   vc->args);
	return 0;
}

static struct cfg *load_config(const struct view_cli *vc, const char *path, int *rc)
{
	struct cfg *cfg = NULL;
	struct cfg_error ce;
	char msg[1024];
	struct stat st;
	static const struct cfg_key *near_s[] = { settings_near_keys, NULL };
	static const struct cfg_key *view_s[] = { settings_view_keys, NULL };

	*rc = EXIT_OK;
	/* with --rpc the file is optional */
	if (vc->n_rpc && (!path || stat(path, &st) < 0))
		return NULL;
	if (!(cfg = cli_load_config(path))) {
		*rc = EXIT_CONFIG;
		return NULL;
	}
	if (cfg_check_section(cfg, "near", near_s, &ce) < 0 ||
	    cfg_check_section(cfg, "view", view_s, &ce) < 0) {
		fprintf(stderr, "%s\n", cfg_format_error(&ce, msg, sizeof(msg)));
		cfg_free(cfg);
		*rc = EXIT_CONFIG;
		return NULL;
	}
	return cfg;
}

int cmd_view(int argc, char **argv, const char *config_path)
{
	struct view_cli vc = { .args = "{}", .rc = EXIT_RUNTIME };
	struct http_client *http = NULL;
	struct rpc *rpc = NULL;
	struct viewer *v = NULL;
	struct cfg *cfg;
	char err[512];
	int rc;

	if ((rc = parse_args(&vc, argc, argv)) != 0)
		return rc;
	cfg = load_config(&vc, config_path, &rc);
	if (rc)
		return rc;
	if (!vc.contract && cfg)
		vc.contract = cfg_get(cfg, "near", "contract");
	if (!vc.contract) {
		fprintf(stderr, "mpc-indexer view: no contract: give --contract ID or set [near] contract\n");
		cfg_free(cfg);
		return EXIT_USAGE;
	}
	if (!near_account_id_valid(vc.contract, strlen(vc.contract))) {
		fprintf(stderr, "mpc-indexer view: '%s' is not a valid NEAR account id\n", vc.contract);
		cfg_free(cfg);
		return EXIT_USAGE;
	}
	if (!vc.interval && cfg)
		cfg_get_duration(cfg, "view", "interval", &vc.interval);

	log_set_level(LOG_LVL_WARN);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "mpc-indexer view: cannot initialise libcurl\n");
		cfg_free(cfg);
		return EXIT_RUNTIME;
	}
	vc.loop = ev_default_loop(EVFLAG_AUTO);
	http = http_client_new(vc.loop);
	if (vc.n_rpc) {
		struct rpc_config c = { .urls = vc.rpc_urls };
		if (cfg) {
			c.api_key = cfg_get(cfg, "near", "rpc_api_key");
			c.chain_id = cfg_get(cfg, "near", "chain_id");
			cfg_get_duration(cfg, "near", "request_timeout", &c.timeout);
		}
		c.probe_interval = -1;
		rpc = http ? rpc_new_with(vc.loop, http, NULL, &c, err, sizeof(err)) : NULL;
	} else {
		rpc = http ? rpc_new(vc.loop, http, NULL, cfg, err, sizeof(err)) : NULL;
	}
	if (!rpc) {
		fprintf(stderr, "mpc-indexer view: %s\n", http ? err : "out of memory");
		rc = http ? EXIT_CONFIG : EXIT_RUNTIME;
		goto out;
	}

	if (!vc.watch) {
		if (!rpc_view_call(rpc, vc.contract, vc.method, vc.args, "final", NULL, on_view, &vc)) {
			fprintf(stderr, "mpc-indexer view: cannot start the call\n");
			rc = EXIT_RUNTIME;
			goto out;
		}
		while (!vc.done)
			ev_run(vc.loop, EVRUN_ONCE);
		rc = vc.rc;
		goto out;
	}

	struct viewer_config wc = { .contract = vc.contract };
	wc.update.interval = vc.interval;
	if (!(v = viewer_new_with(vc.loop, rpc, &wc, NULL, err, sizeof(err)))) {
		fprintf(stderr, "mpc-indexer view: %s\n", err);
		rc = EXIT_RUNTIME;
		goto out;
	}
	struct mpci_view_spec spec = { sizeof(spec), vc.contract, vc.method, vc.args, NULL, NULL };
	void *h = viewer_subscribe(v, &spec, on_change, &vc, err, sizeof(err));
	if (!h) {
		fprintf(stderr, "mpc-indexer view: %s\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	ev_signal sint, sterm;
	ev_signal_init(&sint, on_signal, SIGINT);
	ev_signal_init(&sterm, on_signal, SIGTERM);
	ev_signal_start(vc.loop, &sint);
	ev_signal_start(vc.loop, &sterm);
	fprintf(stderr, "watching %s.%s(%s) every %g s; Ctrl-C stops\n", vc.contract, vc.method,
		vc.args, vc.interval > 0 ? vc.interval : 1.0);
	vc.rc = EXIT_OK;
	ev_run(vc.loop, 0);
	ev_signal_stop(vc.loop, &sint);
	ev_signal_stop(vc.loop, &sterm);
	viewer_unsubscribe(v, h);
	rc = vc.rc;
out:
	viewer_free(v);
	rpc_free(rpc);
	http_client_free(http);
	ev_loop_destroy(vc.loop);
	curl_global_cleanup();
	cfg_free(cfg);
	return rc;
}
