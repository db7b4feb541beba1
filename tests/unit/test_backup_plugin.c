/*
 * The backup-migration plugin, loaded by the real host, driven by a scripted
 * event source (state and migration_info results, signer, transactions) and
 * talking real mutual TLS 1.3 to fake MPC node migration endpoints
 * (tests/fakes/mpcnode_fake):
 *   - a backup at start-up and after a resharing, encrypted on disk;
 *   - a migration: the destination receives exactly the keyshares, again
 *     while the record lasts, and no more once it is gone;
 *   - a peer with another key, tampered ciphertext, a wrong transport key, a
 *     keyset the node lacks, a full disk, an unwritable directory: a clear
 *     error, the previous backup intact, a retry that succeeds later;
 *   - key files and a backup directory others can read: it refuses to start;
 *   - registration with a full-access signer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "../tap.h"
#include "backup_store.h"
#include "edkey.h"
#include "host.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "near/keys.h"

static char tmp[] = "/tmp/mpci-test-backup-plugin-XXXXXX";
static char logpath[300], plugin_path[4096], fake_bin[4096];
static unsigned char storage_key[32];
static uint8_t plugin_pub[32];
static const char tkey_hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char other_tkey_hex[] = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/* ---- files ---- */

static void put_file(const char *path, const char *text, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		bail_out("cannot write %s: %s", path, strerror(errno));
	fchmod(fd, mode);
	close(fd);
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	size_t dummy;
	if (!n)
		n = &dummy;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long l = ftell(f);
	rewind(f);
	char *s = malloc((size_t)l + 1);
	*n = fread(s, 1, (size_t)l, f);
	s[*n] = 0;
	fclose(f);
	return s;
}

static int exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int exists(const char *fmt, ...)
{
	char p[4200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	return access(p, F_OK) == 0;
}

static int log_has(const char *needle)
{
	char *s = slurp(logpath, NULL);
	int r = s && strstr(s, needle);
	free(s);
	return r;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* The keyshares a fake node holds for an epoch: domains 0-2, attempt 0. */
static char *keyshares_text(unsigned epoch)
{
	char *s = malloc(2048);
	size_t k = (size_t)sprintf(s, "[");
	for (int d = 0; d < 3; d++)
		k += (size_t)sprintf(s + k,
				     "%s{\"key_id\":{\"epoch_id\":%u,\"domain_id\":%d,\"attempt_id\":0},"
				     "\"data\":{\"Secp256k1\":{\"private_share\":\"5ec12e7%04u%02d00000000000000000000000000000000000000000000000000\","
				     "\"public_key\":\"02ab\"}}}", d ? "," : "", epoch, d, epoch, d);
	sprintf(s + k, "]");
	return s;
}

static int same_json(const char *a, const char *b)
{
	cJSON *x = cJSON_Parse(a), *y = cJSON_Parse(b);
	int r = x && y && cJSON_Compare(x, y, 1);
	cJSON_Delete(x);
	cJSON_Delete(y);
	return r;
}

/* ---- fake nodes ---- */

struct fake {
	pid_t pid;
	char host[32];
	unsigned port;
	uint8_t pub[32];
	char rcv[4096];
};

static void fake_start(struct fake *f, const char *host, unsigned port, uint8_t seed_byte,
		       const char *tkey, const char *mode)
{
	uint8_t seed[32], sk[64];
	char seed_hex[65], expect_hex[65], listen_at[64], portfile[4096], logf[4096], ks[4096];
	memset(seed, seed_byte, sizeof(seed));
	crypto_sign_seed_keypair(f->pub, sk, seed);
	hex(seed, 32, seed_hex);
	hex(plugin_pub, 32, expect_hex);
	snprintf(f->host, sizeof(f->host), "%s", host);
	snprintf(listen_at, sizeof(listen_at), "%s:%u", host, port);
	snprintf(portfile, sizeof(portfile), "%s/fake-%s.port", tmp, host);
	snprintf(logf, sizeof(logf), "%s/fake-%s.log", tmp, host);
	snprintf(ks, sizeof(ks), "%s/keyshares", tmp);
	snprintf(f->rcv, sizeof(f->rcv), "%s/received-%s", tmp, host);
	mkdir(f->rcv, 0700);
	unlink(portfile);
	f->pid = fork();
	if (f->pid == 0) {
		execl(fake_bin, fake_bin, "--listen", listen_at, "--port-file", portfile, "--seed", seed_hex,
		      "--expect-client-key", expect_hex, "--transport-key", tkey, "--keyshares-dir", ks,
		      "--received-dir", f->rcv, "--mode", mode, "--log", logf, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		char *p = slurp(portfile, NULL);
		if (p) {
			f->port = (unsigned)atoi(p);
			free(p);
			return;
		}
		int st;
		if (waitpid(f->pid, &st, WNOHANG) == f->pid)
			bail_out("the fake node on %s exited (%d)", listen_at, st);
		usleep(10000);
	}
	bail_out("the fake node on %s did not start", listen_at);
}

static void fake_stop(struct fake *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
	}
	f->pid = 0;
}

static int puts_received(const struct fake *f)
{
	int n = 0;
	while (exists("%s/put-%d.json", f->rcv, n + 1))
		n++;
	return n;
}

/* ---- a scripted event source ---- */

struct sub {
	provider_view_fn deliver;
	void *ctx;
	int active;
};

static struct {
	struct sub state, mig;
	uint64_t height;
	int n_tx;
	char tx_method[64], tx_args[512], tx_deposit[32];
	provider_tx_fn tx_done;
	void *tx_ctx;
} P;
static int signer_full_access;

static void *src_state_subscribe(void *src, const struct mpci_view_spec *spec,
				 provider_view_fn deliver, void *ctx, char *err, size_t n)
{
	struct sub *s = strcmp(spec->method, "state") == 0 ? &P.state :
			strcmp(spec->method, "migration_info") == 0 ? &P.mig : NULL;
	if (!s) {
		snprintf(err, n, "unexpected view %s", spec->method);
		return NULL;
	}
	s->deliver = deliver;
	s->ctx = ctx;
	s->active = 1;
	return s;
}

static void src_state_unsubscribe(void *src, void *handle)
{
	((struct sub *)handle)->active = 0;
}

static int src_tx(void *src, const struct mpci_tx_request *req, provider_tx_fn done, void *ctx,
		  uint64_t *id, char *err, size_t n)
{
	P.n_tx++;
	snprintf(P.tx_method, sizeof(P.tx_method), "%s", req->method);
	snprintf(P.tx_args, sizeof(P.tx_args), "%.*s", (int)req->args_len, req->args);
	snprintf(P.tx_deposit, sizeof(P.tx_deposit), "%s", req->deposit ? req->deposit : "0");
	P.tx_done = done;
	P.tx_ctx = ctx;
	if (id)
		*id = (uint64_t)P.n_tx;
	return MPCI_OK;
}

static int src_signer_info(void *src, const char *name, struct mpci_signer_info *out)
{
	out->name = "operator";
	out->account_id = "frodo.test.near";
	out->public_key = "ed25519:AU4k3hBsAU3s2W1cmzwhnztzPS2ebE5DukTbFBnaPpG8";
	out->full_access = signer_full_access;
	return MPCI_OK;
}

static const struct provider_ops script_ops = {
	.state_subscribe = src_state_subscribe,
	.state_unsubscribe = src_state_unsubscribe,
	.tx_submit = src_tx,
	.signer_info = src_signer_info,
};

static void deliver(struct sub *s, const char *json)
{
	struct mpci_view_result r = { .struct_size = sizeof(r), .ok = 1, .value = json,
				      .value_len = strlen(json), .block_height = ++P.height,
				      .block_hash = "h" };
	if (!s->active)
		bail_out("no subscription to deliver to");
	s->deliver(s->ctx, &r);
}

static char *running_json(unsigned epoch, const char *url, const uint8_t tls[32])
{
	char t[EDKEY_TEXT], *s = malloc(4096);
	edkey_format_public(tls, t);
	snprintf(s, 4096,
		 "{\"domains\":{\"domains\":[{\"id\":0,\"protocol\":\"CaitSith\",\"reconstruction_threshold\":2,\"purpose\":\"Sign\"},"
		 "{\"id\":1,\"protocol\":\"Frost\",\"reconstruction_threshold\":2,\"purpose\":\"Sign\"},"
		 "{\"id\":2,\"protocol\":\"ConfidentialKeyDerivation\",\"reconstruction_threshold\":2,\"purpose\":\"CKD\"}],\"next_domain_id\":3},"
		 "\"keyset\":{\"epoch_id\":%u,\"domains\":["
		 "{\"domain_id\":0,\"key\":{\"Secp256k1\":{\"near_public_key\":\"secp256k1:3tFRbMqmoa6AAALMrEFAYCEoHcqKxeW38YptwowBVBtXK1vo36HDbUWuR6EZmoK4JcH6HDkNMGGqP1ouV7VZUWya\"}},\"attempt\":0},"
		 "{\"domain_id\":1,\"key\":{\"Ed25519\":{\"near_public_key_compressed\":\"ed25519:G9hwngxWNKdmqMCmU1Yt6LPhFpayJeKFxyAV1HqMNLtF\",\"edwards_point\":[1,2,3]}},\"attempt\":0},"
		 "{\"domain_id\":2,\"key\":{\"Bls12381\":{\"public_key\":\"bls12381g2:3RQW\"}},\"attempt\":0}]},"
		 "\"parameters\":{\"participants\":{\"next_id\":2,\"participants\":["
		 "[\"frodo.test.near\",0,{\"url\":\"%s\",\"tls_public_key\":\"%s\"}],"
		 "[\"sam.test.near\",1,{\"url\":\"http://127.0.0.9:1\",\"tls_public_key\":\"ed25519:DjGbhZahbV7fBAkxhbeyaFq96eMj76JAqyX4aPJye8ct\"}]]},"
		 "\"threshold\":2},\"parameters_votes\":{\"proposal_by_account\":{}},"
		 "\"add_domains_votes\":{\"proposal_by_account\":{}},\"previously_cancelled_resharing_epoch_id\":null}",
		 epoch, url, t);
	return s;
}

static void give_state(const char *proto, unsigned epoch, const char *url, const uint8_t tls[32])
{
	char *run = running_json(epoch, url, tls), *s = malloc(8192);
	if (strcmp(proto, "Running") == 0)
		snprintf(s, 8192, "{\"Running\":%s}", run);
	else
		snprintf(s, 8192, "{\"Resharing\":{\"previous_running_state\":%s,\"reshared_keys\":[],"
			 "\"resharing_key\":null,\"cancellation_requests\":[],\"per_domain_thresholds\":null}}", run);
	deliver(&P.state, s);
	free(run);
	free(s);
}

static void give_migration(int registered, const char *dest_url, const uint8_t *dest_tls)
{
	char s[1024], pk[EDKEY_TEXT], dk[EDKEY_TEXT], dest[600] = "null";
	edkey_format_public(plugin_pub, pk);
	if (dest_url)
		snprintf(dest, sizeof(dest),
			 "{\"signer_account_pk\":\"ed25519:J992NeWhuaJXeUVJcDCVwfS5j1G26B5aJDUZ8iuBCYdc\","
			 "\"destination_node_info\":{\"url\":\"%s\",\"tls_public_key\":\"%s\"}}",
			 dest_url, edkey_format_public(dest_tls, dk));
	if (registered || dest_url) {
		char b[200] = "null";
		if (registered)
			snprintf(b, sizeof(b), "{\"public_key\":\"%s\"}", pk);
		snprintf(s, sizeof(s), "{\"frodo.test.near\":[%s,%s]}", b, dest);
	} else {
		snprintf(s, sizeof(s), "{}");
	}
	deliver(&P.mig, s);
}

/* ---- the host ---- */

struct world {
	struct ev_loop *loop;
	struct metrics *reg;
	struct http_client *http;
	struct cfg *cfg;
	struct host *host;
};

static int world_up(struct world *w, const char *extra, unsigned port, int required)
{
	char path[4200], text[8192];
	struct cfg_error err;
	snprintf(text, sizeof(text),
		 "[plugin.backup-migration]\npath = %s\nrequired = %s\naccount_id = frodo.test.near\n"
		 "tls_key_file = %s/tls.json\ntransport_key_file = %s/transport.key\n"
		 "storage_key_file = %s/storage.key\nbackup_dir = %s/backups\nmigration_port = %u\n"
		 "retention = 2\nretry_interval = 100ms\nretry_max = 300ms\nrepush_interval = 300ms\n"
		 "request_timeout = 5s\n%s",
		 plugin_path, required ? "yes" : "no", tmp, tmp, tmp, tmp, port, extra);
	snprintf(path, sizeof(path), "%s/test.conf", tmp);
	put_file(path, text, 0600);
	if (cfg_load(&w->cfg, path, &err) < 0) {
		char m[700];
		bail_out("config: %s", cfg_format_error(&err, m, sizeof(m)));
	}
	memset(&P, 0, sizeof(P));
	w->loop = ev_loop_new(EVFLAG_AUTO);
	w->reg = metrics_new();
	w->http = http_client_new(w->loop);
	struct host_opts o = { .loop = w->loop, .cfg = w->cfg, .metrics = w->reg, .http = w->http,
			       .state_dir = tmp, .plugin_dir = tmp, .slow_callback = 5 };
	o.provider.ops = &script_ops;
	w->host = host_new(&o);
	memset(&err, 0, sizeof(err));
	if (host_load_all(w->host, &err) != HOST_OK) {
		char m[700];
		bail_out("load: %s", cfg_format_error(&err, m, sizeof(m)));
	}
	return host_start_all(w->host);
}

static void world_down(struct world *w)
{
	host_stop_all(w->host);
	host_free(w->host);
	http_client_free(w->http);
	metrics_free(w->reg);
	cfg_free(w->cfg);
	ev_loop_destroy(w->loop);
}

static double metric(struct world *w, const char *name, const char *l1, const char *l2)
{
	char err[200];
	static const char *const fail_labels[] = { "operation", "cause", NULL };
	static const char *const push_labels[] = { "outcome", NULL };
	struct metric *m;
	if (l2) {
		m = metrics_counter(w->reg, name, "", fail_labels, err, sizeof(err));
		const char *v[] = { l1, l2, NULL };
		return m ? metric_value(m, v) : -1;
	}
	if (l1) {
		m = metrics_counter(w->reg, name, "", push_labels, err, sizeof(err));
		const char *v[] = { l1, NULL };
		return m ? metric_value(m, v) : -1;
	}
	m = strstr(name, "_total") ? metrics_counter(w->reg, name, "", NULL, err, sizeof(err)) :
				     metrics_gauge(w->reg, name, "", NULL, err, sizeof(err));
	return m ? metric_value(m, NULL) : -1;
}

/* Run the loop until cond(arg) holds (checked every 10 ms), at most `limit`
 * seconds; the limit only keeps a broken build from hanging. */
struct waiter {
	ev_timer check, limit;
	int (*cond)(struct world *, const void *);
	struct world *w;
	const void *arg;
	int met;
};

static void wait_check(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct waiter *x = t->data;
	if (x->cond && x->cond(x->w, x->arg)) {
		x->met = 1;
		ev_break(loop, EVBREAK_ALL);
	}
}

static void wait_limit(struct ev_loop *loop, ev_timer *t, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static int run_until(struct world *w, int (*cond)(struct world *, const void *), const void *arg,
		     double limit)
{
	struct waiter x = { .cond = cond, .w = w, .arg = arg };
	if (cond && cond(w, arg))
		return 1;
	ev_timer_init(&x.check, wait_check, 0.01, 0.01);
	ev_timer_init(&x.limit, wait_limit, limit, 0);
	x.check.data = x.limit.data = &x;
	ev_timer_start(w->loop, &x.check);
	ev_timer_start(w->loop, &x.limit);
	ev_run(w->loop, 0);
	ev_timer_stop(w->loop, &x.check);
	ev_timer_stop(w->loop, &x.limit);
	return x.met;
}

static int has_epoch_file(struct world *w, const void *arg)
{
	return exists("%s/backups/epoch-%u.mpcbak", tmp, *(const unsigned *)arg);
}

struct count_goal {
	const char *name, *l1, *l2;
	double at_least;
};

static int metric_reaches(struct world *w, const void *arg)
{
	const struct count_goal *g = arg;
	return metric(w, g->name, g->l1, g->l2) >= g->at_least;
}

static int fake_puts(struct world *w, const void *arg)
{
	const struct fake *f = *(const struct fake *const *)arg;
	return puts_received(f) >= (int)(intptr_t)((const void *const *)arg)[1];
}

/* The stored epoch file decrypts to exactly the keyshares of that epoch, and
 * the secret does not occur in it. */
static void check_backup(unsigned epoch)
{
	char path[4200], err[512] = "";
	struct backup_info info;
	char *ks = NULL;
	size_t n;
	snprintf(path, sizeof(path), "%s/backups/epoch-%u.mpcbak", tmp, epoch);
	char *file = slurp(path, &n);
	char *want = keyshares_text(epoch);
	char secret[40];
	snprintf(secret, sizeof(secret), "5ec12e7%04u", epoch);
	ok(file && !memmem(file, n, secret, strlen(secret)) && !memmem(file, n, "private_share", 13),
	   "epoch %u: the file does not contain the plaintext keyshares", epoch);
	is_int(backup_read(path, storage_key, &info, &ks, &n, err, sizeof(err)), BACKUP_OK,
	       "epoch %u: the file decrypts with the storage key: %s", epoch, err);
	ok(ks && same_json(ks, want), "epoch %u: to exactly the node's keyshares", epoch);
	struct stat st;
	ok(stat(path, &st) == 0 && (st.st_mode & 077) == 0, "epoch %u: the file is private to its owner", epoch);
	backup_secret_free(ks);
	free(file);
	free(want);
}

static char *file_of(unsigned epoch, size_t *n)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/backups/epoch-%u.mpcbak", tmp, epoch);
	return slurp(path, n);
}

/* ---- the scenario ---- */

static int tmpfs_ok;

static void mount_backups(void)
{
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/backups", tmp);
	mkdir(dir, 0700);
	tmpfs_ok = unshare(CLONE_NEWNS) == 0 && mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0 &&
		   mount("tmpfs", dir, "tmpfs", 0, "size=256k,mode=0700") == 0;
	if (!tmpfs_ok)
		diag("no tmpfs (%s): full disk by RLIMIT_FSIZE, unwritable by chmod", strerror(errno));
}

static void fill_disk(int on)
{
	char fill[4200];
	static struct rlimit old;
	snprintf(fill, sizeof(fill), "%s/backups/filler", tmp);
	if (tmpfs_ok) {
		if (on) {
			int fd = open(fill, O_WRONLY | O_CREAT, 0600);
			char block[4096] = { 0 };
			while (write(fd, block, sizeof(block)) > 0)
				;
			close(fd);
		} else {
			unlink(fill);
		}
	} else if (on) {
		struct rlimit lim;
		getrlimit(RLIMIT_FSIZE, &old);
		lim = old;
		lim.rlim_cur = 512;
		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &lim);
	} else {
		setrlimit(RLIMIT_FSIZE, &old);
	}
}

static void read_only(int on)
{
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/backups", tmp);
	if (tmpfs_ok)
		mount("tmpfs", dir, "tmpfs", MS_REMOUNT | (on ? MS_RDONLY : 0), "size=256k,mode=0700");
	else
		chmod(dir, on ? 0500 : 0700);
}

static void expect_failure(struct world *w, const char *what, const char *cause, const char *logtext,
			   unsigned intact_epoch, unsigned absent_epoch, const char *op)
{
	size_t n0, n1;
	char *before = file_of(intact_epoch, &n0);
	double base = metric(w, "mpc_indexer_backup_failures_total", op, cause);
	struct count_goal g = { "mpc_indexer_backup_failures_total", op, cause, base + 2 };
	ok(run_until(w, metric_reaches, &g, 20), "%s: fails with cause %s, and retries", what, cause);
	ok(log_has(logtext), "%s: the log says \"%s\"", what, logtext);
	char *after = file_of(intact_epoch, &n1);
	ok(before && after && n0 == n1 && memcmp(before, after, n0) == 0,
	   "%s: the backup of epoch %u is intact", what, intact_epoch);
	ok(!exists("%s/backups/epoch-%u.mpcbak", tmp, absent_epoch),
	   "%s: no backup of epoch %u appears", what, absent_epoch);
	free(before);
	free(after);
}

static void test_scenario(void)
{
	struct world w;
	struct fake src, dst, bad, wrongkey;
	char url[128], dst_url[128], bad_url[128], wk_url[128];
	unsigned e;

	mount_backups();
	fake_start(&src, "127.0.0.1", 0, 0x51, tkey_hex, "normal");
	fake_start(&dst, "127.0.0.2", src.port, 0x52, tkey_hex, "normal");
	fake_start(&bad, "127.0.0.3", src.port, 0x51, tkey_hex, "corrupt");
	fake_start(&wrongkey, "127.0.0.4", src.port, 0x51, other_tkey_hex, "normal");
	snprintf(url, sizeof(url), "http://127.0.0.1:13001");
	snprintf(dst_url, sizeof(dst_url), "http://127.0.0.2:13001");
	snprintf(bad_url, sizeof(bad_url), "http://127.0.0.3:13001");
	snprintf(wk_url, sizeof(wk_url), "http://127.0.0.4:13001");

	is_int(world_up(&w, "", src.port, 1), HOST_OK, "the plugin starts");
	ok(P.state.active && P.mig.active, "it subscribes to state and migration_info");

	/* start-up: nothing stored, the contract is at epoch 0 */
	give_state("Running", 0, url, src.pub);
	give_migration(1, NULL, NULL);
	e = 0;
	ok(run_until(&w, has_epoch_file, &e, 20), "start-up: the backup of epoch 0 appears");
	check_backup(0);
	is_int(metric(&w, "mpc_indexer_backup_last_epoch", NULL, NULL), 0, "last backup epoch metric: 0");
	ok(metric(&w, "mpc_indexer_backup_last_success_timestamp_seconds", NULL, NULL) > 1.7e9,
	   "last backup time metric is set");

	/* a resharing: nothing to do while it runs, a backup once epoch 1 runs */
	give_state("Resharing", 0, url, src.pub);
	give_state("Running", 1, url, src.pub);
	e = 1;
	ok(run_until(&w, has_epoch_file, &e, 20), "resharing concluded: the backup of epoch 1 appears");
	check_backup(1);
	ok(exists("%s/backups/epoch-0.mpcbak", tmp), "epoch 0 is kept (retention 2)");
	is_int(metric(&w, "mpc_indexer_backup_last_epoch", NULL, NULL), 1, "last backup epoch metric: 1");

	/* a migration whose destination presents another key */
	uint8_t stranger[32];
	memset(stranger, 0x99, sizeof(stranger));
	give_migration(1, dst_url, stranger);
	struct count_goal g = { "mpc_indexer_backup_failures_total", "migration", "peer_key", 1 };
	ok(run_until(&w, metric_reaches, &g, 20),
	   "a destination whose key is not the contract's is refused (peer_key)");
	is_int(puts_received(&dst), 0, "and receives nothing");

	/* the real destination */
	give_migration(1, dst_url, dst.pub);
	const void *goal1[] = { &dst, (void *)(intptr_t)1 };
	ok(run_until(&w, fake_puts, goal1, 20), "migration started: the destination receives keyshares");
	char path[4200];
	snprintf(path, sizeof(path), "%s/put-1.json", dst.rcv);
	char *got = slurp(path, NULL), *want = keyshares_text(1);
	ok(got && same_json(got, want), "exactly the keyshares of the current epoch");
	free(got);
	free(want);
	/* the fake stores the body before it answers: wait for the answer */
	struct count_goal served = { "mpc_indexer_backup_migrations_served_total", NULL, NULL, 1 };
	ok(run_until(&w, metric_reaches, &served, 20), "migrations served: 1");
	const void *goal3[] = { &dst, (void *)(intptr_t)3 };
	ok(run_until(&w, fake_puts, goal3, 20), "while the record lasts, the push is repeated");
	is_int(metric(&w, "mpc_indexer_backup_migrations_served_total", NULL, NULL), 1,
	       "still one migration served");

	/* the destination concludes: the record goes, the participant changes */
	give_migration(1, NULL, NULL);
	give_state("Running", 1, dst_url, dst.pub);
	run_until(&w, NULL, NULL, 0.3);     /* a PUT already on the wire may still land */
	int before = puts_received(&dst);
	run_until(&w, NULL, NULL, 1.5);     /* several repush intervals */
	is_int(puts_received(&dst), before, "migration concluded: no more pushes");
	ok(log_has("left migration_info"), "the log says the migration ended");
	ok(!exists("%s/backups/epoch-2.mpcbak", tmp), "no fetch: epoch 1 still covers the keyset");

	/* failures: each leaves epoch 1 alone and retries */
	uint8_t other[32];
	memset(other, 0x77, sizeof(other));
	give_state("Running", 2, url, other);
	expect_failure(&w, "a node presenting another key", "peer_key", "but the contract expects",
		       1, 2, "backup");
	give_state("Running", 2, bad_url, src.pub);
	expect_failure(&w, "tampered ciphertext", "decrypt", "authentication failed", 1, 2, "backup");
	give_state("Running", 2, wk_url, src.pub);
	expect_failure(&w, "a wrong transport key", "decrypt", "wrong transport key", 1, 2, "backup");
	give_state("Running", 7, url, src.pub);
	expect_failure(&w, "a keyset the node does not hold", "http_status",
		       "answered 500: Failed to get keyshares", 1, 7, "backup");

	fill_disk(1);
	give_state("Running", 2, url, src.pub);
	expect_failure(&w, "a full disk", "storage", tmpfs_ok ? "No space left" : "File too large",
		       1, 2, "backup");
	fill_disk(0);
	e = 2;
	ok(run_until(&w, has_epoch_file, &e, 20), "room again: the retry stores epoch 2");
	check_backup(2);

	if (tmpfs_ok || geteuid() != 0) {
		read_only(1);
		give_state("Running", 3, url, src.pub);
		expect_failure(&w, "an unwritable directory", "storage",
			       tmpfs_ok ? "Read-only file system" : "Permission denied", 2, 3, "backup");
		read_only(0);
		e = 3;
		ok(run_until(&w, has_epoch_file, &e, 20), "writable again: the retry stores epoch 3");
		ok(!exists("%s/backups/epoch-1.mpcbak", tmp), "retention 2 dropped epoch 1");
	} else {
		printf("ok %d - # SKIP unwritable directory: root without tmpfs\n", ++tap_count_);
	}

	/* a node answering with a chunked body */
	struct fake chunky;
	fake_start(&chunky, "127.0.0.6", src.port, 0x51, tkey_hex, "chunked");
	give_state("Running", 4, "http://127.0.0.6:13001", src.pub);
	e = 4;
	ok(run_until(&w, has_epoch_file, &e, 20), "a chunked answer is decoded: the backup of epoch 4 appears");
	check_backup(4);
	fake_stop(&chunky);

	/* a node that takes the connection and never answers */
	int mute = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)src.port) };
	inet_pton(AF_INET, "127.0.0.5", &sa.sin_addr);
	if (mute >= 0 && bind(mute, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(mute, 4) == 0) {
		give_state("Running", 6, "http://127.0.0.5:13001", src.pub);
		struct count_goal to = { "mpc_indexer_backup_failures_total", "backup", "timeout", 1 };
		ok(run_until(&w, metric_reaches, &to, 30) && log_has("timed out in the TLS handshake"),
		   "a node that never answers: cause timeout, the loop keeps running");
	} else {
		printf("ok %d - # SKIP cannot listen on 127.0.0.5\n", ++tap_count_);
	}
	if (mute >= 0)
		close(mute);

	/* host names are looked up off the loop; every address is tried in turn */
	give_state("Running", 6, "http://nonexistent.invalid:13001", src.pub);
	struct count_goal r = { "mpc_indexer_backup_failures_total", "backup", "resolve", 1 };
	ok(run_until(&w, metric_reaches, &r, 30), "a name that does not resolve: cause resolve");
	give_state("Running", 5, "http://localhost:13001", src.pub);
	e = 5;
	ok(run_until(&w, has_epoch_file, &e, 30), "a node named localhost: the backup of epoch 5 appears");

	world_down(&w);
	fake_stop(&src);
	fake_stop(&dst);
	fake_stop(&bad);
	fake_stop(&wrongkey);
	if (tmpfs_ok) {
		char dir[4200];
		snprintf(dir, sizeof(dir), "%s/backups", tmp);
		umount(dir);
	}
}

/* ---- refusing to start ---- */

static void test_refusals(void)
{
	struct world w;
	char path[4200], dir[4200];
	snprintf(path, sizeof(path), "%s/storage.key", tmp);
	snprintf(dir, sizeof(dir), "%s/backups", tmp);

	chmod(path, 0644);
	is_int(world_up(&w, "", 9, 0), HOST_OK, "an optional plugin that refuses is not fatal");
	is_int(host_plugin_count(w.host), 0, "a storage key file others can read: it refuses to start");
	ok(log_has("refusing to start: storage_key_file") && log_has("chmod 600"),
	   "and says why (mode, chmod 600)");
	world_down(&w);
	is_int(world_up(&w, "", 9, 1), HOST_FATAL, "when required, the daemon stops");
	world_down(&w);
	chmod(path, 0600);

	chmod(dir, 0755);
	world_up(&w, "", 9, 0);
	is_int(host_plugin_count(w.host), 0, "a backup directory others can read: it refuses to start");
	ok(log_has("mode 0755 lets group or others in; chmod 700 it"), "and says why");
	world_down(&w);
	chmod(dir, 0700);

	snprintf(path, sizeof(path), "%s/tls.json", tmp);
	chmod(path, 0640);
	world_up(&w, "", 9, 0);
	is_int(host_plugin_count(w.host), 0, "a TLS key file the group can read: it refuses to start");
	world_down(&w);
	chmod(path, 0600);
}

/* ---- registration ---- */

static int tx_seen(struct world *w, const void *arg)
{
	return P.n_tx >= 1;
}

static void test_register(void)
{
	struct world w;
	uint8_t tls[32];
	memset(tls, 0x51, sizeof(tls));
	signer_full_access = 1;
	world_up(&w, "register = yes\n", 9, 1);
	give_state("Running", 3, "http://127.0.0.1:1", tls);
	give_migration(0, NULL, NULL);
	ok(run_until(&w, tx_seen, NULL, 10), "register = yes and no key registered: a transaction");
	char pk[EDKEY_TEXT], want[200];
	snprintf(want, sizeof(want), "{\"backup_service_info\":{\"public_key\":\"%s\"}}",
		 edkey_format_public(plugin_pub, pk));
	is_str(P.tx_method, "register_backup_service", "to register_backup_service");
	is_str(P.tx_args, want, "with this service's public key");
	is_str(P.tx_deposit, "1", "and the 1 yoctoNEAR deposit");
	struct mpci_tx_result r = { .struct_size = sizeof(r), .id = 1, .status = MPCI_TX_SUCCEEDED,
				    .hash = "Tx1" };
	P.tx_done(P.tx_ctx, &r);
	give_migration(1, NULL, NULL);
	run_until(&w, NULL, NULL, 0.5);
	is_int(P.n_tx, 1, "once registered, no further transaction");
	ok(log_has("registered backup service key"), "the log says it registered");
	world_down(&w);

	signer_full_access = 0;
	world_up(&w, "register = yes\n", 9, 1);
	ok(log_has("holds a function-call key"), "a function-call signer: registration is refused at start");
	give_state("Running", 3, "http://127.0.0.1:1", tls);
	give_migration(0, NULL, NULL);
	run_until(&w, NULL, NULL, 0.5);
	is_int(P.n_tx, 0, "and no transaction is sent");
	ok(log_has("until its operator registers"), "the log tells the operator what to register");
	world_down(&w);
}

int main(void)
{
	const char *b = getenv("top_builddir");
	if (!b)
		bail_out("top_builddir is not set (run through make check)");
	snprintf(plugin_path, sizeof(plugin_path), "%s/plugins/backup-migration/.libs/backup-migration.so", b);
	snprintf(fake_bin, sizeof(fake_bin), "%s/tests/fakes/mpcnode_fake", b);
	if (!mkdtemp(tmp))
		bail_out("mkdtemp");
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		bail_out("sodium_init");
	snprintf(logpath, sizeof(logpath), "%s/log", tmp);
	log_open(logpath, LOG_LVL_DEBUG);

	/* keys */
	char path[4200], text[600], key_hex[65];
	uint8_t seed[32];
	struct near_secret sk;
	char sk_text[NEAR_SECRET_STR_MAX];
	memset(seed, 0x42, sizeof(seed));
	near_secret_from_seed(&sk, seed);
	near_secret_format(sk_text, &sk);
	memcpy(plugin_pub, sk.sk + 32, 32);
	snprintf(text, sizeof(text), "{\"account_id\":\"backup.test.near\",\"private_key\":\"%s\"}\n", sk_text);
	snprintf(path, sizeof(path), "%s/tls.json", tmp);
	put_file(path, text, 0600);
	randombytes_buf(storage_key, sizeof(storage_key));
	hex(storage_key, 32, key_hex);
	snprintf(path, sizeof(path), "%s/storage.key", tmp);
	put_file(path, key_hex, 0600);
	snprintf(path, sizeof(path), "%s/transport.key", tmp);
	put_file(path, tkey_hex, 0600);
	snprintf(path, sizeof(path), "%s/keyshares", tmp);
	mkdir(path, 0700);
	for (unsigned e = 0; e <= 5; e++) {
		char *ks = keyshares_text(e);
		snprintf(path, sizeof(path), "%s/keyshares/epoch_%u.json", tmp, e);
		put_file(path, ks, 0600);
		free(ks);
	}

	test_scenario();
	test_refusals();
	test_register();

	log_close();
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (getenv("MPCI_TEST_KEEP"))
		diag("kept %s", tmp);
	else if (system(cmd) != 0)
		diag("could not remove %s", tmp);
	return done_testing();
}
