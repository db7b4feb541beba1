/* One attestation attempt, start to finish, on the host loop:
 *   dstack Info -> GetQuote(report_data) -> quote checks -> PCCS collateral
 *   (four requests at once) -> pre-check measurements -> arguments ->
 *   dry-run: print them | get_attestation (before) -> submit_participant_info
 *   -> get_attestation until it differs from before (confirmed).
 * Mock mode skips straight to the arguments.  Every failure ends the attempt
 * with a cause (metric, warning) and schedules a retry with backoff; a
 * success schedules the next refresh. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "attester.h"
#include "codec.h"
#include "collateral.h"
#include "dstack.h"
#include "measurements.h"
#include "outfile.h"
#include "pck.h"
#include "quote.h"
#include "report_data.h"
#include "stored.h"

#define GAS_300_TGAS 300000000000000ull
#define BACKOFF_FACTOR 1.5

struct pccs_slot {
	struct tee *t;
	mpci_http *h;
	int done;
	int status;
	char *body;
	size_t body_len;
	char *error;
	char *chain;
};

struct tee_attempt {
	const char *reason;
	mpci_http *dstack;
	uint8_t report_data[TEE_REPORT_DATA_LEN];
	cJSON *tcb_info;
	uint8_t *quote;
	size_t quote_len;
	struct tee_quote q;
	struct tee_pck pck;
	struct pccs_slot pccs[TEE_PCCS_ITEMS];
	int pccs_pending;
	char *args;
	struct tee_stored before;
	double confirm_deadline;
	mpci_timer *confirm_timer;
};

static void attempt_begin(struct tee *t, const char *reason);

static void attempt_free(struct tee *t)
{
	struct tee_attempt *a = t->at;
	if (!a)
		return;
	t->at = NULL;
	if (a->dstack)
		t->api->http_cancel(a->dstack);
	for (int i = 0; i < TEE_PCCS_ITEMS; i++) {
		struct pccs_slot *s = &a->pccs[i];
		if (s->h && !s->done)
			t->api->http_cancel(s->h);
		free(s->body);
		free(s->error);
		free(s->chain);
	}
	if (a->confirm_timer)
		t->api->timer_stop(a->confirm_timer);
	cJSON_Delete(a->tcb_info);
	free(a->quote);
	free(a->args);
	free(a);
}

static void on_next(void *ud)
{
	struct tee *t = ud;
	t->api->timer_stop(t->next);
	t->next = NULL;
	if (!t->stopping && !t->at)
		attempt_begin(t, t->next_reason);
}

void tee_schedule(struct tee *t, double delay, const char *reason)
{
	if (t->stopping)
		return;
	if (t->next)
		t->api->timer_stop(t->next);
	t->next_reason = reason;
	t->next = t->api->timer_start(t->self, delay, 0, on_next, t);
	if (!t->next)
		t->api->log(t->self, MPCI_LOG_ERROR,
			    "cannot start a timer: no further attestation attempts");
}

void tee_cycle_stop(struct tee *t)
{
	t->stopping = 1;
	if (t->next)
		t->api->timer_stop(t->next);
	t->next = NULL;
	attempt_free(t);
}

static void succeed(struct tee *t, const struct tee_stored *now_stored)
{
	t->api->metric_set(t->m_last_success, NULL, (double)time(NULL));
	if (now_stored && now_stored->expiry >= 0)
		t->api->metric_set(t->m_expiry, NULL, now_stored->expiry);
	t->failures = 0;
	attempt_free(t);
	tee_schedule(t, t->refresh_interval, "refresh");
}

static void fail(struct tee *t, enum tee_cause cause, const char *fmt, ...)
	MPCI_PRINTF(3, 4);

static void fail(struct tee *t, enum tee_cause cause, const char *fmt, ...)
{
	char msg[768];
	const char *label[] = { tee_cause_name(cause), NULL };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->failures++;
	double delay = t->backoff_initial;
	for (unsigned i = 1; i < t->failures && delay < t->backoff_max; i++)
		delay *= BACKOFF_FACTOR;
	if (delay > t->backoff_max)
		delay = t->backoff_max;
	t->api->metric_add(t->m_failures, label, 1);
	t->api->log(t->self, MPCI_LOG_WARN, "attestation attempt failed [%s]: %s; next try in "
		    "%.1fs", label[0], msg, delay);
	attempt_free(t);
	tee_schedule(t, delay, "retry");
}

/* ---- confirmation and submission ---- */

static void confirm_view(struct tee *t);

static void on_confirm_timer(void *ud)
{
	struct tee *t = ud;
	if (!t->at)
		return;
	t->api->timer_stop(t->at->confirm_timer);
	t->at->confirm_timer = NULL;
	confirm_view(t);
}

static void on_after(const struct mpci_view_result *r, void *ud)
{
	struct tee *t = ud;
	struct tee_attempt *a = t->at;
	struct tee_stored after;

	if (!a || t->stopping)
		return;
	if (r->ok && tee_stored_parse(r->value, r->value_len, &after) == 0 && after.present) {
		int changed = !a->before.present || after.expiry != a->before.expiry;
		/* a Mock attestation carries no expiry: its success is the proof */
		if (changed || after.expiry < 0) {
			if (after.expiry >= 0)
				t->api->log(t->self, MPCI_LOG_INFO,
					    "attestation stored (%s) at height %llu, expires at unix %.0f",
					    a->reason, (unsigned long long)r->block_height, after.expiry);
			else
				t->api->log(t->self, MPCI_LOG_INFO, "attestation stored (%s) at height %llu",
					    a->reason, (unsigned long long)r->block_height);
			succeed(t, &after);
			return;
		}
	} else if (!r->ok) {
		t->api->log(t->self, MPCI_LOG_DEBUG, "get_attestation: %s", r->error);
	}
	if (t->api->now(t->self) >= a->confirm_deadline) {
		fail(t, TEE_NOT_CONFIRMED, "the transaction succeeded but get_attestation did "
		     "not show a new attestation within %.0fs", t->confirm_timeout);
		return;
	}
	a->confirm_timer = t->api->timer_start(t->self, t->poll_interval, 0,
					       on_confirm_timer, t);
	if (!a->confirm_timer)
		fail(t, TEE_NOT_CONFIRMED, "cannot start a timer");
}

static int view_attestation(struct tee *t, mpci_view_fn cb)
{
	char args[128];
	snprintf(args, sizeof(args), "{\"tls_public_key\":\"%s\"}", t->tls_pk_text);
	struct mpci_view_spec spec = { .struct_size = sizeof(spec),
				       .method = "get_attestation", .args_json = args };
	return t->api->view(t->self, &spec, cb, t);
}

static void confirm_view(struct tee *t)
{
	int rc = view_attestation(t, on_after);
	if (rc != MPCI_OK)
		fail(t, TEE_VIEW, "get_attestation cannot be called (error %d)", rc);
}

static void on_tx(const struct mpci_tx_result *r, void *ud)
{
	struct tee *t = ud;
	struct tee_attempt *a = t->at;

	if (!a || t->stopping)
		return;
	switch (r->status) {
	case MPCI_TX_SUCCEEDED:
	case MPCI_TX_ACCEPTED:
		t->api->log(t->self, MPCI_LOG_INFO,
			    "submit_participant_info %s succeeded; confirming with get_attestation",
			    r->hash ? r->hash : "?");
		a->confirm_deadline = t->api->now(t->self) + t->confirm_timeout;
		confirm_view(t);
		return;
	case MPCI_TX_FAILED:
		fail(t, TEE_TX_FAILED, "submit_participant_info %s failed: %s",
		     r->hash ? r->hash : "?", r->error ? r->error : "?");
		return;
	case MPCI_TX_UNKNOWN:
		fail(t, TEE_TX_UNKNOWN, "submit_participant_info %s: no outcome before the "
		     "deadline", r->hash ? r->hash : "?");
		return;
	default:
		fail(t, TEE_TX_REJECTED, "submit_participant_info was rejected: %s",
		     r->error ? r->error : "?");
	}
}

static void on_before(const struct mpci_view_result *r, void *ud)
{
	struct tee *t = ud;
	struct tee_attempt *a = t->at;

	if (!a || t->stopping)
		return;
	if (!r->ok) {
		fail(t, TEE_VIEW, "get_attestation before submitting: %s", r->error);
		return;
	}
	if (tee_stored_parse(r->value, r->value_len, &a->before) < 0) {
		fail(t, TEE_VIEW, "get_attestation returned %.80s, not an attestation or null",
		     r->value);
		return;
	}
	struct mpci_tx_request tx = {
		.struct_size = sizeof(tx),
		.signer = t->signer,
		.method = "submit_participant_info",
		.args = a->args,
		.args_len = strlen(a->args),
		.gas = GAS_300_TGAS,
		.deposit = "0",
		.wait = MPCI_TX_WAIT,
	};
	const char *label[] = { a->reason, NULL };
	uint64_t id = 0;
	int rc = t->api->tx_submit(t->self, &tx, on_tx, t, &id);
	if (rc != MPCI_OK) {
		fail(t, TEE_TX_REJECTED, "the indexer refused the transaction (error %d)", rc);
		return;
	}
	t->api->metric_add(t->m_submissions, label, 1);
	t->api->log(t->self, MPCI_LOG_INFO, "submitting %s attestation (%s, %zu bytes of "
		    "arguments, tx %llu)", t->mode == TEE_MODE_MOCK ? "a Mock" : "the TDX",
		    a->reason, tx.args_len, (unsigned long long)id);
}

/* The arguments on stdout, or written whole to dry_run_output. */
static int write_args(struct tee *t, const char *args, char *err, size_t errsz)
{
	if (t->dry_run_output)
		return tee_write_whole(t->dry_run_output, args, strlen(args), err, errsz);
	if (printf("%s\n", args) < 0 || fflush(stdout) != 0) {
		snprintf(err, errsz, "stdout: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void deliver(struct tee *t)
{
	struct tee_attempt *a = t->at;
	char err[512];

	if (t->mode == TEE_MODE_DRY_RUN) {
		if (write_args(t, a->args, err, sizeof(err)) < 0) {
			fail(t, TEE_OUTPUT, "dry run: cannot write the arguments: %s", err);
			return;
		}
		struct mpci_status st = { .struct_size = sizeof(st) };
		const char *file = t->dry_run_output;
		t->api->status(t->self, &st);
		t->api->log(t->self, MPCI_LOG_INFO,
			    "dry run: submit_participant_info arguments (%zu bytes) written to %s; "
			    "nothing submitted.  To submit them: mpc-indexer tx call %s "
			    "submit_participant_info \"$(cat %s)\"%s%s --gas 300T --deposit 0 --wait",
			    strlen(a->args), file ? file : "stdout",
			    st.contract ? st.contract : "CONTRACT", file ? file : "FILE",
			    t->signer ? " --signer " : "", t->signer ? t->signer : "");
		succeed(t, NULL);
		return;
	}
	int rc = view_attestation(t, on_before);
	if (rc != MPCI_OK)
		fail(t, TEE_VIEW, "get_attestation cannot be called (error %d)", rc);
}

/* ---- collateral ---- */

/* The PCCS sends the issuer chains only as response headers (ABI 1.1);
 * names compare without case, and a 1.0 host's response has none. */
static const char *response_header(const struct mpci_http_response *res,
				   const char *name)
{
	return mpci_http_response_header(res, name);
}

static void pccs_finish(struct tee *t)
{
	struct tee_attempt *a = t->at;
	struct tee_pccs_answer ans[TEE_PCCS_ITEMS];
	struct tee_collateral_dates dates;
	enum tee_cause cause;
	char err[512];

	for (int i = 0; i < TEE_PCCS_ITEMS; i++) {
		struct pccs_slot *s = &a->pccs[i];
		ans[i] = (struct tee_pccs_answer){ s->status, s->error, s->body, s->body_len,
						   s->chain };
	}
	cJSON *coll = tee_collateral_build(ans, &a->pck, a->q.pck_chain, a->q.pck_chain_len,
					   time(NULL), t->collateral_max_age, &dates, &cause,
					   err, sizeof(err));
	if (!coll) {
		fail(t, cause, "%s", err);
		return;
	}
	a->args = tee_args_dstack(a->quote, a->quote_len, coll, a->tcb_info, t->tls_pk_text);
	cJSON_Delete(coll);
	if (!a->args) {
		fail(t, TEE_CONFIG, "out of memory building the arguments");
		return;
	}
	deliver(t);
}

static void on_pccs(const struct mpci_http_response *res, void *ud)
{
	struct pccs_slot *s = ud;
	struct tee *t = s->t;

	s->done = 1;
	s->status = res->status;
	if (res->status == 0)
		s->error = strdup(res->error ? res->error : "transport error");
	else if (res->status == 200 && (s->body = malloc(res->body_len + 1))) {
		memcpy(s->body, res->body, res->body_len);
		s->body[res->body_len] = 0;
		s->body_len = res->body_len;
	}
	int item = (int)(s - t->at->pccs);
	for (const char *const *h = tee_pccs_chain_headers(item); *h && !s->chain; h++) {
		const char *v = response_header(res, *h);
		if (v)
			s->chain = strdup(v);
	}
	if (--t->at->pccs_pending == 0)
		pccs_finish(t);
}

static void pccs_start(struct tee *t)
{
	struct tee_attempt *a = t->at;

	a->pccs_pending = TEE_PCCS_ITEMS;
	for (int i = 0; i < TEE_PCCS_ITEMS; i++) {
		struct pccs_slot *s = &a->pccs[i];
		char *url = tee_pccs_url(t->pccs_url, i, &a->pck);
		struct mpci_http_request req = {
			.struct_size = sizeof(req),
			.url = url,
			.timeout = t->pccs_timeout,
			.max_response = TEE_PCCS_BODY_MAX,
			.ca_file = t->pccs_ca_file,
		};
		s->t = t;
		s->h = url ? t->api->http_request(t->self, &req, on_pccs, s) : NULL;
		free(url);
		if (!s->h) {
			/* the others are cancelled by fail() */
			s->done = 1;
			fail(t, TEE_PCCS_UNREACHABLE, "cannot request the %s from %s",
			     tee_pccs_item_name(i), t->pccs_url);
			return;
		}
	}
}

/* ---- dstack ---- */

static int dstack_post(struct tee *t, const char *path, const char *body, size_t max,
		       mpci_http_fn cb)
{
	static const char *const headers[] = { "Content-Type: application/json", NULL };
	char url[64];
	snprintf(url, sizeof(url), "http://dstack%s", path);
	struct mpci_http_request req = {
		.struct_size = sizeof(req),
		.method = "POST",
		.url = url,
		.headers = headers,
		.body = body,
		.body_len = strlen(body),
		.timeout = t->dstack_timeout,
		.max_response = max,
		.unix_socket = t->dstack_socket,
	};
	t->at->dstack = t->api->http_request(t->self, &req, cb, t);
	return t->at->dstack ? 0 : -1;
}

/* 0 when the agent answered 200, else the attempt has failed. */
static int dstack_answered(struct tee *t, const struct mpci_http_response *res,
			   const char *what)
{
	char text[256];

	t->at->dstack = NULL;
	if (res->status == 0) {
		fail(t, TEE_DSTACK_UNREACHABLE, "dstack agent at %s: %s: %s", t->dstack_socket,
		     what, res->error ? res->error : "no answer");
		return -1;
	}
	if (res->status != 200) {
		tee_dstack_error_text(res->body, res->body_len, text, sizeof(text));
		fail(t, TEE_DSTACK_HTTP, "dstack agent %s: HTTP %d%s%s", what, res->status,
		     *text ? ": " : "", text);
		return -1;
	}
	return 0;
}

static void on_quote(const struct mpci_http_response *res, void *ud)
{
	struct tee *t = ud;
	struct tee_attempt *a = t->at;
	char err[512], got[129], want[129];

	if (dstack_answered(t, res, "GetQuote") < 0)
		return;
	if (tee_dstack_quote_parse(res->body, res->body_len, &a->quote, &a->quote_len, err,
				   sizeof(err)) < 0) {
		fail(t, TEE_DSTACK_MALFORMED, "%s", err);
		return;
	}
	if (tee_quote_parse(a->quote, a->quote_len, &a->q, err, sizeof(err)) < 0) {
		fail(t, TEE_QUOTE_MALFORMED, "%s", err);
		return;
	}
	if (memcmp(a->q.report_data, a->report_data, TEE_REPORT_DATA_LEN) != 0) {
		tee_hex_encode(a->q.report_data, TEE_REPORT_DATA_LEN, got);
		tee_hex_encode(a->report_data, TEE_REPORT_DATA_LEN, want);
		fail(t, TEE_REPORT_DATA_MISMATCH, "the quote's report_data %s is not ours (%s, "
		     "binding %s and %s)", got, want, t->tls_pk_text, t->signer_pk_text);
		return;
	}
	if (tee_pck_read(a->q.pck_chain, a->q.pck_chain_len, &a->pck, err, sizeof(err)) < 0) {
		fail(t, TEE_QUOTE_MALFORMED, "%s", err);
		return;
	}
	t->api->log(t->self, MPCI_LOG_DEBUG, "quote: %zu bytes, FMSPC %s, %s CA",
		    a->quote_len, a->pck.fmspc, a->pck.ca);
	pccs_start(t);
}

/* Compare this node's measurements with the contract's allowed lists and
 * say so when the contract would reject them. */
static void precheck(struct tee *t)
{
	static const char *const img[] = { "image", NULL }, *const lch[] = { "launcher_compose", NULL };
	struct {
		const char *const *label;
		const char *view;
		const char *list;
		int (*hash)(const cJSON *, char *, char *, size_t);
	} checks[] = {
		{ img, "allowed_docker_image_hashes", t->allowed_images, tee_image_hash },
		{ lch, "allowed_launcher_compose_hashes", t->allowed_launchers, tee_launcher_hash },
	};
	char hash[65], err[256];

	for (size_t i = 0; i < 2; i++) {
		if (checks[i].hash(t->at->tcb_info, hash, err, sizeof(err)) < 0) {
			t->api->metric_set(t->m_allowed, checks[i].label, 0);
			t->api->log(t->self, MPCI_LOG_WARN, "pre-check %s: %s; the contract will "
				    "reject this attestation", checks[i].label[0], err);
			continue;
		}
		if (!checks[i].list) {
			t->api->log(t->self, MPCI_LOG_DEBUG, "pre-check %s: %s not read yet",
				    checks[i].label[0], checks[i].view);
			continue;
		}
		int in = tee_allowed_contains(checks[i].list, strlen(checks[i].list), hash,
					      time(NULL));
		if (in < 0)
			continue;
		t->api->metric_set(t->m_allowed, checks[i].label, in);
		if (!in)
			t->api->log(t->self, MPCI_LOG_WARN, "pre-check: this node's %s hash %s is "
				    "not in the contract's %s: the contract will reject this "
				    "attestation", checks[i].label[0], hash, checks[i].view);
	}
}

static void on_info(const struct mpci_http_response *res, void *ud)
{
	struct tee *t = ud;
	struct tee_attempt *a = t->at;
	char err[512];

	if (dstack_answered(t, res, "Info") < 0)
		return;
	if (!(a->tcb_info = tee_dstack_info_parse(res->body, res->body_len, err, sizeof(err)))) {
		fail(t, TEE_DSTACK_MALFORMED, "%s", err);
		return;
	}
	precheck(t);
	char *body = tee_dstack_quote_request(a->report_data);
	if (!body || dstack_post(t, "/GetQuote", body, TEE_DSTACK_QUOTE_MAX, on_quote) < 0)
		fail(t, TEE_DSTACK_UNREACHABLE, "cannot send GetQuote to %s", t->dstack_socket);
	free(body);
}

static void attempt_begin(struct tee *t, const char *reason)
{
	char hex[129];
	struct tee_attempt *a = calloc(1, sizeof(*a));

	if (!a) {
		t->api->log(t->self, MPCI_LOG_ERROR, "out of memory");
		tee_schedule(t, t->backoff_max, "retry");
		return;
	}
	t->at = a;
	a->reason = reason;
	t->api->log(t->self, MPCI_LOG_DEBUG, "attestation attempt (%s)", reason);
	if (t->mode == TEE_MODE_MOCK) {
		if (!(a->args = tee_args_mock(t->tls_pk_text)))
			fail(t, TEE_CONFIG, "out of memory building the arguments");
		else
			deliver(t);
		return;
	}
	if (tee_report_data_v1(t->tls_pk, t->signer_pk, a->report_data) < 0) {
		fail(t, TEE_CONFIG, "SHA3-384 is not available from libcrypto");
		return;
	}
	tee_hex_encode(a->report_data, TEE_REPORT_DATA_LEN, hex);
	t->api->log(t->self, t->mode == TEE_MODE_DRY_RUN ? MPCI_LOG_INFO : MPCI_LOG_DEBUG,
		    "report_data %s", hex);
	if (dstack_post(t, "/Info", "{}", TEE_DSTACK_INFO_MAX, on_info) < 0)
		fail(t, TEE_DSTACK_UNREACHABLE, "cannot send Info to %s", t->dstack_socket);
}
