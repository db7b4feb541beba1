/*
 * backup-migration: keeps an encrypted, versioned backup of this node's
 * keyshares and hands them to the destination of a node migration, without
 * operator action (reference: backup-and-tee.md §1-2).
 *
 * It watches `state` and `migration_info`.  Whenever the stored backup does
 * not cover the keyset the node holds (a resharing concluded, a domain was
 * added, or nothing is stored yet), it fetches the keyshares from the node's
 * migration endpoint (GET /get_keyshares over mutual TLS) and stores them
 * encrypted.  While migration_info names a destination for the account, it
 * PUTs the keyshares of the current keyset to the destination, again and
 * again, until the record disappears (the new node concluded).  Optionally it
 * registers its own key with register_backup_service.
 *
 * One exchange runs at a time.  A periodic tick drives retries and timeouts,
 * and nothing here stops a timer or watch from inside its own callback: the
 * first 1.0 host read the handle after such a callback returned.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mpc-indexer/plugin.h>
#include <sodium.h>

#include "backup_config.h"
#include "backup_store.h"
#include "contract.h"
#include "edkey.h"
#include "mtls.h"

#define TICK 0.25

enum op { OP_NONE, OP_FETCH, OP_PUSH };

struct secrets {
	unsigned char storage[BACKUP_KEY_BYTES];
	unsigned char transport[BACKUP_KEY_BYTES];
	uint8_t tls_seed[EDKEY_SEED];
};

struct bm {
	const struct mpci_host_api *api;
	mpci_plugin *self;

	/* configuration */
	char account[65];
	char dir[4096];
	char node_host[256];
	char signer[64];
	unsigned retention, port;
	double timeout, retry, retry_max, repush;
	size_t max_response;
	int do_register;
	struct secrets *keys;       /* sodium_malloc'd */
	uint8_t tls_pub[EDKEY_PUB];
	char tls_pub_text[EDKEY_TEXT];

	struct mtls *tls;
	mpci_timer *tick;
	int stopping;

	/* the contract */
	int have_state, have_mig;
	struct contract_state st;
	struct contract_migration mig;

	/* the newest stored backup */
	int have_backup;
	struct backup_info stored;

	/* the exchange in flight */
	struct mtls_call *call;
	int op;
	struct contract_state call_keyset;  /* fetch: what was asked for */

	double fetch_next, push_next, reg_next;
	unsigned fetch_failures, push_failures, reg_failures;
	int served;                 /* the current destination got the keyshares */
	int reg_pending, reg_disabled;
	char warned[160];           /* the last once-only warning */

	mpci_metric *m_epoch, *m_time, *m_served, *m_pushes, *m_fail;
};

/* ---- small helpers ---- */

static void logf_once(struct bm *b, int level, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void logf_once(struct bm *b, int level, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (strcmp(b->warned, key) == 0)
		return;
	snprintf(b->warned, sizeof(b->warned), "%s", key);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	b->api->log(b->self, level, "%s", msg);
}

/* Peer text for a log line: printable ASCII, bounded. */
static const char *sanitize(const char *in, size_t n, char *out, size_t outsz)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 4 < outsz; i++) {
		unsigned char c = (unsigned char)in[i];
		out[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (n && k + 4 >= outsz)
		memcpy(out + k, "...", 3), k += 3;
	out[k] = 0;
	return out;
}

static const char *domains_text(const struct backup_domain *d, size_t n, char *buf, size_t sz)
{
	size_t k = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && k + 24 < sz; i++)
		k += (size_t)snprintf(buf + k, sz - k, "%s%" PRIu64, i ? "," : "", d[i].domain_id);
	if (!n)
		snprintf(buf, sz, "none");
	return buf;
}

static double backoff(struct bm *b, unsigned failures)
{
	double d = b->retry;
	for (unsigned i = 1; i < failures && d < b->retry_max; i++)
		d *= 2;
	return d < b->retry_max ? d : b->retry_max;
}

static void count_failure(struct bm *b, const char *operation, const char *cause)
{
	const char *v[] = { operation, cause, NULL };
	b->api->metric_add(b->m_fail, v, 1);
}

static void note_backup(struct bm *b, const struct backup_info *info, int fresh)
{
	b->have_backup = 1;
	b->stored = *info;
	b->api->metric_set(b->m_epoch, NULL, (double)info->epoch_id);
	b->api->metric_set(b->m_time, NULL, fresh ? (double)time(NULL) : (double)info->created_unix);
}

static int same_keyset(const struct contract_state *a, const struct contract_state *c)
{
	if (a->has_keyset != c->has_keyset || a->epoch_id != c->epoch_id ||
	    a->n_domains != c->n_domains)
		return 0;
	for (size_t i = 0; i < a->n_domains; i++)
		if (a->domains[i].domain_id != c->domains[i].domain_id ||
		    a->domains[i].attempt_id != c->domains[i].attempt_id)
			return 0;
	return 1;
}

static const char *endpoint_host(struct bm *b, const char *url, int own, char *buf, size_t n)
{
	if (own && *b->node_host)
		return b->node_host;
	return contract_url_host(url, buf, n) == 0 ? buf : NULL;
}

static void kick(struct bm *b);

/* ---- fetching a backup ---- */

static void fetch_failed(struct bm *b, const char *cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fetch_failed(struct bm *b, const char *cause, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	b->fetch_failures++;
	double wait = backoff(b, b->fetch_failures);
	b->fetch_next = b->api->now(b->self) + wait;
	count_failure(b, "backup", cause);
	b->api->log(b->self, MPCI_LOG_ERROR,
		    "backup of epoch %" PRIu64 " failed (%s): %s; the stored backup is untouched; retrying in %.3g s",
		    b->call_keyset.epoch_id, cause, msg, wait);
}

static int keyshares_match(const struct backup_info *got, const struct contract_state *ks,
			   char *why, size_t n)
{
	char a[256], c[256];
	if (got->n_domains != ks->n_domains || (got->n_keyshares && got->epoch_id != ks->epoch_id))
		goto mismatch;
	for (size_t i = 0; i < ks->n_domains; i++)
		if (got->domains[i].domain_id != ks->domains[i].domain_id ||
		    got->domains[i].attempt_id != ks->domains[i].attempt_id)
			goto mismatch;
	return 1;
mismatch:
	snprintf(why, n, "the node returned keyshares of epoch %" PRIu64 " for domains [%s], "
		 "but the keyset is epoch %" PRIu64 " with domains [%s] (or the attempts differ)",
		 got->epoch_id, domains_text(got->domains, got->n_domains, a, sizeof(a)),
		 ks->epoch_id, domains_text(ks->domains, ks->n_domains, c, sizeof(c)));
	return 0;
}

static void on_fetched(const struct mtls_response *r, void *ud)
{
	struct bm *b = ud;
	char text[160], err[768];
	char *pt = NULL;
	size_t pt_len = 0;
	struct backup_info got, written;

	b->call = NULL;
	b->op = OP_NONE;
	if (r->cause != MTLS_OK) {
		fetch_failed(b, mtls_cause_name(r->cause), "%s", r->error);
		goto out;
	}
	if (r->status != 200) {
		fetch_failed(b, "http_status", "the node answered %d: %s", r->status,
			     sanitize(r->body, r->body_len, text, sizeof(text)));
		goto out;
	}
	if (backup_transport_open(b->keys->transport, r->body, r->body_len, &pt, &pt_len, err,
				  sizeof(err)) < 0) {
		if (strstr(err, "authentication"))
			fetch_failed(b, "decrypt", "%s", err);
		else
			fetch_failed(b, "payload", "%s (the node said: %s)", err,
				     sanitize(r->body, r->body_len, text, 80));
		goto out;
	}
	if (backup_keyshares_scan(pt, pt_len, &got, err, sizeof(err)) < 0) {
		fetch_failed(b, "payload", "%s", err);
		goto out;
	}
	if (!keyshares_match(&got, &b->call_keyset, err, sizeof(err))) {
		fetch_failed(b, "payload", "%s", err);
		goto out;
	}
	int rc = backup_write(b->dir, b->keys->storage, b->account, b->call_keyset.epoch_id, pt,
			      pt_len, b->retention, &written, err, sizeof(err));
	if (rc == BACKUP_OK) {
		char d[256];
		b->fetch_failures = 0;
		b->fetch_next = 0;
		note_backup(b, &written, 1);
		b->api->log(b->self, MPCI_LOG_INFO,
			    "stored the backup of epoch %" PRIu64 " (%zu keyshares, domains %s) in %s",
			    written.epoch_id, written.n_keyshares,
			    domains_text(written.domains, written.n_domains, d, sizeof(d)), b->dir);
	} else if (rc == BACKUP_UNCHANGED) {
		b->fetch_failures = 0;
		b->fetch_next = 0;
		b->api->log(b->self, MPCI_LOG_INFO, "%s", err);
	} else {
		fetch_failed(b, rc == BACKUP_STALE ? "stale" : "storage", "%s", err);
	}
out:
	backup_secret_free(pt);
	kick(b);
}

static void start_fetch(struct bm *b)
{
	char hbuf[256];
	const char *host = endpoint_host(b, b->st.url, 1, hbuf, sizeof(hbuf));
	contract_state_clear(&b->call_keyset);
	b->call_keyset = b->st;
	b->call_keyset.keyset_json = NULL;      /* the request below copies it */
	if (!host) {
		fetch_failed(b, "config", "no host in this node's participant URL '%s'", b->st.url);
		return;
	}
	struct mtls_request req = {
		.host = host, .port = b->port, .peer_key = b->st.tls_public_key,
		.method = "GET", .path = "/get_keyshares",
		.body = b->st.keyset_json, .body_len = strlen(b->st.keyset_json),
		.timeout = b->timeout, .max_body = b->max_response,
	};
	b->api->log(b->self, MPCI_LOG_INFO,
		    "fetching the keyshares of epoch %" PRIu64 " from %s:%u", b->st.epoch_id, host,
		    b->port);
	b->call = mtls_call(b->tls, &req, on_fetched, b);
	if (b->call)
		b->op = OP_FETCH;
	else
		fetch_failed(b, "internal", "out of memory");
}

/* ---- pushing to a migration destination ---- */

static void push_failed(struct bm *b, const char *cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void push_failed(struct bm *b, const char *cause, const char *fmt, ...)
{
	char msg[768], key[EDKEY_TEXT];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	b->push_failures++;
	double wait = backoff(b, b->push_failures);
	b->push_next = b->api->now(b->self) + wait;
	count_failure(b, "migration", cause);
	const char *v[] = { "failed", NULL };
	b->api->metric_add(b->m_pushes, v, 1);
	b->api->log(b->self, MPCI_LOG_ERROR,
		    "pushing the keyshares to migration destination %s failed (%s): %s; retrying in %.3g s",
		    edkey_format_public(b->mig.destination_tls_key, key), cause, msg, wait);
}

static void on_pushed(const struct mtls_response *r, void *ud)
{
	struct bm *b = ud;
	char text[160], key[EDKEY_TEXT];
	b->call = NULL;
	b->op = OP_NONE;
	if (r->cause != MTLS_OK) {
		push_failed(b, mtls_cause_name(r->cause), "%s", r->error);
	} else if (r->status != 200) {
		push_failed(b, r->status == 400 ? "rejected" : "http_status",
			    "the destination answered %d: %s", r->status,
			    sanitize(r->body, r->body_len, text, sizeof(text)));
	} else {
		const char *v[] = { "ok", NULL };
		b->api->metric_add(b->m_pushes, v, 1);
		b->push_failures = 0;
		b->push_next = b->api->now(b->self) + b->repush;
		if (!b->served) {
			b->served = 1;
			b->api->metric_add(b->m_served, NULL, 1);
			b->api->log(b->self, MPCI_LOG_INFO,
				    "delivered the keyshares of epoch %" PRIu64 " to migration destination %s; "
				    "pushing again every %.3g s until it concludes",
				    b->stored.epoch_id,
				    edkey_format_public(b->mig.destination_tls_key, key), b->repush);
		}
	}
	kick(b);
}

static void start_push(struct bm *b)
{
	char path[4200], err[768], hbuf[256];
	char *ks = NULL, *body = NULL;
	size_t ks_len = 0, body_len = 0;
	struct backup_info info;

	const char *host = endpoint_host(b, b->mig.destination_url, 0, hbuf, sizeof(hbuf));
	if (!host) {
		push_failed(b, "config", "no host in the destination URL '%s'", b->mig.destination_url);
		return;
	}
	snprintf(path, sizeof(path), "%s/epoch-%" PRIu64 BACKUP_SUFFIX, b->dir, b->st.epoch_id);
	if (backup_read(path, b->keys->storage, &info, &ks, &ks_len, err, sizeof(err)) != BACKUP_OK) {
		push_failed(b, "storage", "%s", err);
		return;
	}
	int rc = backup_transport_seal(b->keys->transport, ks, ks_len, &body, &body_len, err,
				       sizeof(err));
	backup_secret_free(ks);
	if (rc < 0) {
		push_failed(b, "internal", "%s", err);
		return;
	}
	struct mtls_request req = {
		.host = host, .port = b->port, .peer_key = b->mig.destination_tls_key,
		.method = "PUT", .path = "/set_keyshares", .body = body, .body_len = body_len,
		.timeout = b->timeout, .max_body = 65536,
	};
	b->call = mtls_call(b->tls, &req, on_pushed, b);
	free(body);
	if (b->call)
		b->op = OP_PUSH;
	else
		push_failed(b, "internal", "out of memory");
}

/* ---- registration ---- */

static void on_registered(const struct mpci_tx_result *r, void *ud)
{
	struct bm *b = ud;
	b->reg_pending = 0;
	if (r->status == MPCI_TX_SUCCEEDED) {
		b->reg_failures = 0;
		b->reg_next = b->api->now(b->self) + b->retry;  /* let migration_info catch up */
		b->api->log(b->self, MPCI_LOG_INFO,
			    "registered backup service key %s for %s (transaction %s)",
			    b->tls_pub_text, b->account, r->hash ? r->hash : "?");
		return;
	}
	b->reg_failures++;
	double wait = backoff(b, b->reg_failures);
	b->reg_next = b->api->now(b->self) + wait;
	count_failure(b, "register", "transaction");
	b->api->log(b->self, MPCI_LOG_ERROR,
		    "register_backup_service failed (%s): %s; retrying in %.3g s",
		    r->status == MPCI_TX_FAILED ? "failed on chain" :
		    r->status == MPCI_TX_REJECTED ? "rejected" : "no outcome",
		    r->error ? r->error : "no reason given", wait);
}

static void maybe_register(struct bm *b, double now)
{
	if (!b->have_mig || (b->mig.has_backup && memcmp(b->mig.backup_public_key, b->tls_pub, 32) == 0))
		return;
	if (!b->do_register || b->reg_disabled) {
		char key[EDKEY_TEXT];
		if (b->mig.has_backup)
			logf_once(b, MPCI_LOG_WARN, "foreign-key",
				  "migration_info registers backup key %s for %s, but this service's key is %s: "
				  "the node will refuse it; register %s (or set register = yes)",
				  edkey_format_public(b->mig.backup_public_key, key), b->account,
				  b->tls_pub_text, b->tls_pub_text);
		else
			logf_once(b, MPCI_LOG_WARN, "no-key",
				  "no backup service is registered for %s: the node refuses every backup "
				  "service until its operator registers %s (or set register = yes)",
				  b->account, b->tls_pub_text);
		return;
	}
	if (b->reg_pending || now < b->reg_next)
		return;
	char args[160];
	snprintf(args, sizeof(args), "{\"backup_service_info\":{\"public_key\":\"%s\"}}",
		 b->tls_pub_text);
	struct mpci_tx_request tx = {
		.struct_size = sizeof(tx), .signer = *b->signer ? b->signer : NULL,
		.method = "register_backup_service", .args = args, .args_len = strlen(args),
		.deposit = "1", .wait = MPCI_TX_WAIT,
	};
	int rc = b->api->tx_submit(b->self, &tx, on_registered, b, NULL);
	if (rc == MPCI_OK) {
		b->reg_pending = 1;
		b->api->log(b->self, MPCI_LOG_INFO, "registering backup service key %s for %s",
			    b->tls_pub_text, b->account);
	} else if (rc == MPCI_ERR_UNSUPPORTED) {
		b->reg_disabled = 1;
		b->api->log(b->self, MPCI_LOG_ERROR,
			    "register = yes, but this daemon cannot send transactions; register %s by hand",
			    b->tls_pub_text);
	} else {
		b->reg_failures++;
		b->reg_next = now + backoff(b, b->reg_failures);
		count_failure(b, "register", "submit");
		b->api->log(b->self, MPCI_LOG_ERROR, "register_backup_service could not be submitted (%d)", rc);
	}
}

/* ---- deciding what to do next ---- */

static int push_wanted(struct bm *b)
{
	if (!b->have_mig || !b->mig.has_destination || !b->have_state ||
	    b->st.protocol != PROTO_RUNNING || !b->st.has_keyset)
		return 0;
	/* the participant already carries the destination's key: concluded */
	if (b->st.participant && memcmp(b->st.tls_public_key, b->mig.destination_tls_key, 32) == 0)
		return 0;
	return 1;
}

static void kick(struct bm *b)
{
	if (b->stopping || b->call || !b->have_state)
		return;
	double now = b->api->now(b->self);
	if (b->st.has_keyset && b->st.n_domains > 0) {
		if (!b->st.participant) {
			logf_once(b, MPCI_LOG_WARN, "not-participant",
				  "%s is not a participant of epoch %" PRIu64 ": nothing to back up",
				  b->account, b->st.epoch_id);
		} else if ((!b->have_backup || !contract_covered(&b->st, &b->stored)) &&
			   now >= b->fetch_next) {
			start_fetch(b);
			return;
		}
	}
	if (push_wanted(b) && now >= b->push_next && b->have_backup &&
	    b->stored.epoch_id == b->st.epoch_id && contract_covered(&b->st, &b->stored)) {
		start_push(b);
		return;
	}
	maybe_register(b, now);
}

static void on_tick(void *ud)
{
	struct bm *b = ud;
	mtls_tick(b->tls);
	kick(b);
}

/* ---- contract views ---- */

static void on_state(const struct mpci_view_result *r, void *ud)
{
	struct bm *b = ud;
	struct contract_state s;
	char err[256], d[256];
	if (!r->ok) {
		b->api->log(b->self, MPCI_LOG_WARN, "state view failing: %s",
			    r->error ? r->error : "?");
		return;
	}
	if (contract_parse_state(r->value, r->value_len, b->account, &s, err, sizeof(err)) < 0) {
		b->api->log(b->self, MPCI_LOG_ERROR, "cannot read the contract state at height %" PRIu64 ": %s",
			    r->block_height, err);
		return;
	}
	if (!b->have_state || !same_keyset(&s, &b->st) || s.protocol != b->st.protocol) {
		b->api->log(b->self, MPCI_LOG_INFO,
			    "contract %s at height %" PRIu64 ": keyset epoch %" PRIu64 ", domains %s",
			    contract_protocol_name(s.protocol), r->block_height, s.epoch_id,
			    domains_text(s.domains, s.n_domains, d, sizeof(d)));
		if (!b->have_state || !same_keyset(&s, &b->st)) {
			b->fetch_next = 0;      /* a new keyset: fetch now */
			b->fetch_failures = 0;
		}
	}
	contract_state_clear(&b->st);
	b->st = s;
	b->have_state = 1;
	kick(b);
}

static void on_migration(const struct mpci_view_result *r, void *ud)
{
	struct bm *b = ud;
	struct contract_migration m;
	char err[256], key[EDKEY_TEXT], host[256];
	if (!r->ok) {
		b->api->log(b->self, MPCI_LOG_WARN, "migration_info view failing: %s",
			    r->error ? r->error : "?");
		return;
	}
	if (contract_parse_migration(r->value, r->value_len, b->account, &m, err, sizeof(err)) < 0) {
		b->api->log(b->self, MPCI_LOG_ERROR, "cannot read migration_info at height %" PRIu64 ": %s",
			    r->block_height, err);
		return;
	}
	int had = b->have_mig && b->mig.has_destination;
	int same = had && m.has_destination &&
		   memcmp(m.destination_tls_key, b->mig.destination_tls_key, 32) == 0 &&
		   strcmp(m.destination_url, b->mig.destination_url) == 0;
	if (had && !same) {
		if (b->op == OP_PUSH) {
			mtls_cancel(b->call);
			b->call = NULL;
			b->op = OP_NONE;
		}
		b->api->log(b->self, MPCI_LOG_INFO,
			    "migration of %s to %s %s at height %" PRIu64 "; no more pushes to it",
			    b->account, edkey_format_public(b->mig.destination_tls_key, key),
			    m.has_destination ? "was replaced" : "left migration_info (concluded or cleaned up)",
			    r->block_height);
	}
	if (m.has_destination && !same) {
		b->served = 0;
		b->push_next = 0;
		b->push_failures = 0;
		b->api->log(b->self, MPCI_LOG_INFO,
			    "migration of %s started at height %" PRIu64 ": destination %s at %s",
			    b->account, r->block_height,
			    edkey_format_public(m.destination_tls_key, key),
			    contract_url_host(m.destination_url, host, sizeof(host)) == 0 ? host : m.destination_url);
	}
	b->mig = m;
	b->have_mig = 1;
	kick(b);
}

/* ---- lifecycle ---- */

static double cfg_double(struct bm *b, const char *key, double def)
{
	double v;
	return b->api->config_double(b->self, key, &v) == MPCI_OK ? v : def;
}

static int load_config(struct bm *b, char *err, size_t n)
{
	const struct mpci_host_api *api = b->api;
	const char *s;
	int64_t v;

	if (!(s = api->config_str(b->self, "account_id")) || !*s || strlen(s) >= sizeof(b->account)) {
		snprintf(err, n, "account_id is required (the participant account whose keyshares are kept)");
		return -1;
	}
	snprintf(b->account, sizeof(b->account), "%s", s);
	if ((s = api->config_str(b->self, "backup_dir")) && *s)
		snprintf(b->dir, sizeof(b->dir), "%s", s);
	else
		backup_default_dir(api->state_dir(b->self), b->dir, sizeof(b->dir));
	if ((s = api->config_str(b->self, "node_host")))
		snprintf(b->node_host, sizeof(b->node_host), "%s", s);
	if ((s = api->config_str(b->self, "signer")))
		snprintf(b->signer, sizeof(b->signer), "%s", s);
	b->retention = api->config_int(b->self, "retention", &v) == MPCI_OK && v >= 0 && v < 1000000 ?
			       (unsigned)v : 3;
	if (api->config_int(b->self, "migration_port", &v) != MPCI_OK || v < 1 || v > 65535) {
		snprintf(err, n, "migration_port must be a TCP port (1-65535)");
		return -1;
	}
	b->port = (unsigned)v;
	b->timeout = cfg_double(b, "request_timeout", 30);
	b->max_response = (size_t)cfg_double(b, "max_response", 16 << 20);
	b->retry = cfg_double(b, "retry_interval", 60);
	b->retry_max = cfg_double(b, "retry_max", 600);
	b->repush = cfg_double(b, "repush_interval", 30);
	if (b->retry <= 0)
		b->retry = 1;
	if (b->retry_max < b->retry)
		b->retry_max = b->retry;
	if (b->repush <= 0)
		b->repush = b->retry;
	if (api->config_bool(b->self, "register", &b->do_register) != MPCI_OK)
		b->do_register = 0;

	if (!(b->keys = sodium_malloc(sizeof(*b->keys)))) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	char e[512];
	if (backup_key_load(api->config_str(b->self, "storage_key_file"), b->keys->storage, e,
			    sizeof(e)) < 0) {
		snprintf(err, n, "storage_key_file (%s): %s", api->config_where(b->self, "storage_key_file"), e);
		return -1;
	}
	if (backup_key_load(api->config_str(b->self, "transport_key_file"), b->keys->transport, e,
			    sizeof(e)) < 0) {
		snprintf(err, n, "transport_key_file (%s): %s", api->config_where(b->self, "transport_key_file"), e);
		return -1;
	}
	if (edkey_load_secret(api->config_str(b->self, "tls_key_file"), b->keys->tls_seed, b->tls_pub,
			      e, sizeof(e)) < 0) {
		snprintf(err, n, "tls_key_file (%s): %s", api->config_where(b->self, "tls_key_file"), e);
		return -1;
	}
	edkey_format_public(b->tls_pub, b->tls_pub_text);
	if (backup_dir_check(b->dir, 1, e, sizeof(e)) < 0) {
		snprintf(err, n, "%s", e);
		return -1;
	}
	return 0;
}

static void bm_free(struct bm *b)
{
	if (!b)
		return;
	mtls_free(b->tls);
	contract_state_clear(&b->st);
	contract_state_clear(&b->call_keyset);
	if (b->keys)
		sodium_free(b->keys);
	free(b);
}

static int subscribe(struct bm *b, const char *method, mpci_view_fn cb)
{
	struct mpci_poll_policy pol = { 0 };
	struct mpci_view_spec spec = { .struct_size = sizeof(spec), .method = method };
	double iv;
	if (b->api->config_double(b->self, "poll_interval", &iv) == MPCI_OK && iv > 0) {
		pol.interval = iv;
		spec.update = &pol;
	}
	int rc = b->api->subscribe_state(b->self, &spec, cb, b, NULL, NULL);
	if (rc == MPCI_ERR_UNSUPPORTED)
		b->api->log(b->self, MPCI_LOG_ERROR,
			    "refusing to start: this daemon offers no contract views (subscribe_state is unsupported), so %s cannot be watched",
			    method);
	else if (rc != MPCI_OK)
		b->api->log(b->self, MPCI_LOG_ERROR, "refusing to start: cannot subscribe to %s (%d)",
			    method, rc);
	return rc;
}

static int bm_init(const struct mpci_host_api *api, mpci_plugin *self, void **state)
{
	static const char *const fail_labels[] = { "operation", "cause", NULL };
	static const char *const push_labels[] = { "outcome", NULL };
	char err[1024], warn[512], path[4200];
	struct bm *b = calloc(1, sizeof(*b));
	int rc = MPCI_ERR;

	if (!b || sodium_init() < 0)
		return MPCI_ERR_NOMEM;
	b->api = api;
	b->self = self;
	if (load_config(b, err, sizeof(err)) < 0) {
		api->log(self, MPCI_LOG_ERROR, "refusing to start: %s", err);
		goto fail;
	}
	b->tls = mtls_new(api, self, b->keys->tls_seed, err, sizeof(err));
	sodium_memzero(b->keys->tls_seed, sizeof(b->keys->tls_seed));
	if (!b->tls) {
		api->log(self, MPCI_LOG_ERROR, "refusing to start: %s", err);
		goto fail;
	}
	b->m_epoch = api->metric_gauge(self, "mpc_indexer_backup_last_epoch",
				       "Epoch of the newest keyshare backup on disk.", NULL);
	b->m_time = api->metric_gauge(self, "mpc_indexer_backup_last_success_timestamp_seconds",
				      "Unix time of the newest keyshare backup.", NULL);
	b->m_served = api->metric_counter(self, "mpc_indexer_backup_migrations_served_total",
					  "Migrations whose destination received the keyshares.", NULL);
	b->m_pushes = api->metric_counter(self, "mpc_indexer_backup_migration_pushes_total",
					  "PUT /set_keyshares attempts by outcome.", push_labels);
	b->m_fail = api->metric_counter(self, "mpc_indexer_backup_failures_total",
					"Backup, migration and registration failures by cause.",
					fail_labels);
	if (!b->m_epoch || !b->m_time || !b->m_served || !b->m_pushes || !b->m_fail)
		goto fail;
	if (backup_newest(b->dir, b->keys->storage, &b->stored, path, sizeof(path), warn,
			  sizeof(warn)) == BACKUP_OK)
		note_backup(b, &b->stored, 0);
	if (*warn)
		api->log(self, MPCI_LOG_WARN, "ignoring a backup that does not verify: %s", warn);
	if ((rc = subscribe(b, "state", on_state)) != MPCI_OK ||
	    (rc = subscribe(b, "migration_info", on_migration)) != MPCI_OK)
		goto fail;
	if (b->do_register && MPCI_API_HAS(api, signer_info)) {
		struct mpci_signer_info si = { .struct_size = sizeof(si) };
		int src = api->signer_info(self, *b->signer ? b->signer : NULL, &si);
		if (src == MPCI_OK && si.full_access == 0) {
			b->reg_disabled = 1;
			api->log(self, MPCI_LOG_ERROR,
				 "register = yes, but signer %s holds a function-call key; "
				 "register_backup_service needs a deposit, so only a full-access key can call it",
				 si.name ? si.name : "?");
		} else if (src == MPCI_OK && si.account_id && strcmp(si.account_id, b->account) != 0) {
			b->reg_disabled = 1;
			api->log(self, MPCI_LOG_ERROR,
				 "register = yes, but signer account %s is not account_id %s", si.account_id,
				 b->account);
		} else if (src == MPCI_ERR_NOTFOUND) {
			b->reg_disabled = 1;
			api->log(self, MPCI_LOG_ERROR, "register = yes, but there is no signer%s%s",
				 *b->signer ? " named " : "", b->signer);
		}
	}
	if (b->have_backup)
		api->log(self, MPCI_LOG_INFO, "backups in %s; newest: epoch %" PRIu64 " (%s)", b->dir,
			 b->stored.epoch_id, path);
	else
		api->log(self, MPCI_LOG_INFO, "backups in %s; none stored yet", b->dir);
	*state = b;
	return MPCI_OK;
fail:
	bm_free(b);
	return rc == MPCI_OK ? MPCI_ERR : rc;
}

static int bm_start(void *state)
{
	struct bm *b = state;
	b->tick = b->api->timer_start(b->self, TICK, TICK, on_tick, b);
	if (!b->tick)
		return MPCI_ERR_NOMEM;
	b->api->log(b->self, MPCI_LOG_INFO, "watching %s as backup service %s", b->account,
		    b->tls_pub_text);
	return MPCI_OK;
}

static void bm_stop(void *state)
{
	struct bm *b = state;
	b->stopping = 1;
	b->call = NULL;
	b->op = OP_NONE;
	mtls_stop(b->tls);
	if (b->tick)
		b->api->timer_stop(b->tick);
	b->tick = NULL;
}

static void bm_fini(void *state)
{
	bm_free(state);
}

#define KEY(name, type, def, help) { name, MPCI_CFG_##type, def, help },
static const struct mpci_config_key config_keys[] = {
	BACKUP_CONFIG_KEYS(KEY)
	{ NULL, 0, NULL, NULL },
};

static const struct mpci_plugin_desc desc = {
	MPCI_DESC_HEADER,
	.name = "backup-migration",
	.version = "1.0.0",
	.description = "encrypted keyshare backups after every resharing; pushes keyshares to a migrating node",
	.config = config_keys,
	.init = bm_init,
	.start = bm_start,
	.stop = bm_stop,
	.fini = bm_fini,
};

MPCI_PLUGIN(desc)
