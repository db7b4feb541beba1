/*
 * NEAR JSON-RPC client on the core HTTP client: several endpoints with failover.
 *
 * Endpoints come from [near] rpc_urls (in order of preference), each optionally
 * with its own key written as "URL|KEY" (else [near] rpc_api_key), sent as
 * "Authorization: Bearer KEY".  A call goes to the preferred healthy endpoint;
 * on a transport error, our per-request timeout, HTTP 5xx, 408 or 429 it is
 * retried on the next endpoint, and after every endpoint failed once, again
 * after a backoff, until the attempts run out.  Nothing else is retried: a
 * JSON-RPC error (validation, handler, contract failure) or an unusable body is
 * the answer.  A failed endpoint cools down (exponentially) and is tried again
 * after it; an endpoint whose final height lags the best one is used last.
 *
 * Metrics (endpoint label = host:port, never a key or a path):
 *   mpc_indexer_rpc_requests_total{endpoint,method,outcome}   one per attempt
 *   mpc_indexer_rpc_request_duration_seconds{endpoint,method} histogram
 *   mpc_indexer_rpc_endpoint_final_height{endpoint}           gauge
 *   mpc_indexer_rpc_endpoint_healthy{endpoint}                gauge, 0/1
 * outcome is rpc_class_name() of the attempt: ok, transport, timeout, http_5xx,
 * rate_limited, http_status, too_large, malformed, validation, handler,
 * internal, contract.
 *
 * Every callback runs exactly once per call not cancelled, from the loop, never
 * from inside rpc_call() and friends.  Loop thread only.
 */
#ifndef MPCI_CORE_RPC_H
#define MPCI_CORE_RPC_H

#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct http_client;
struct metrics;
struct cfg;
struct cJSON;
struct rpc;
struct rpc_call;

/* Why a call failed; RPC_OK when it did not. */
enum rpc_error_class {
	RPC_OK = 0,
	RPC_ERR_TRANSPORT,	/* refused, reset, DNS, TLS, truncated transfer */
	RPC_ERR_TIMEOUT,	/* our per-request timeout, or HTTP 408 / TIMEOUT_ERROR */
	RPC_ERR_HTTP_5XX,	/* 5xx without a usable JSON-RPC error (or INTERNAL at 5xx) */
	RPC_ERR_RATE_LIMITED,	/* HTTP 429 */
	RPC_ERR_HTTP_STATUS,	/* another non-2xx without a JSON-RPC error body (401, 403...) */
	RPC_ERR_TOO_LARGE,	/* the body exceeded max_response */
	RPC_ERR_MALFORMED,	/* not a JSON-RPC response: bad JSON, wrong types, no result */
	RPC_ERR_VALIDATION,	/* REQUEST_VALIDATION_ERROR (PARSE_ERROR, METHOD_NOT_FOUND) */
	RPC_ERR_HANDLER,	/* HANDLER_ERROR: cause_name says which (UNKNOWN_ACCOUNT...) */
	RPC_ERR_INTERNAL,	/* INTERNAL_ERROR at HTTP 200 */
	RPC_ERR_CONTRACT,	/* view call failed in the contract (result.error quirk or
				   CONTRACT_EXECUTION_ERROR) */
	RPC_ERR_NO_ENDPOINT,	/* no endpoint configured, or the client is shutting down */
	RPC_ERR__COUNT
};

/* "ok", "transport", ... as in the outcome label above. */
const char *rpc_class_name(enum rpc_error_class cls);
/* Would rpc.c retry / fail over on this class? (transport, timeout, 5xx, 429) */
int rpc_class_retryable(enum rpc_error_class cls);

/* Everything is borrowed until the callback returns. */
struct rpc_result {
	int ok;				/* 1: result is set */
	const struct cJSON *result;	/* the "result" member (may be JSON null) */
	const char *raw;		/* the whole response body, NUL-terminated */
	size_t raw_len;
	enum rpc_error_class cls;
	const char *error_name;		/* error.name: HANDLER_ERROR, ...; or NULL */
	const char *cause_name;		/* error.cause.name: UNKNOWN_ACCOUNT, ...; or NULL */
	const struct cJSON *error;	/* the error object (its data holds e.g.
					   TxExecutionError for INVALID_TRANSACTION); or NULL */
	const char *message;		/* one line for people: "UNKNOWN_ACCOUNT: account x
					   does not exist while viewing", "HTTP 503",
					   "connection refused", ... never NULL */
	const char *endpoint;		/* host:port of the last attempt; "" if none */
	int http_status;		/* of the last attempt; 0 if none */
	unsigned attempts;		/* HTTP requests this call made */
};

typedef void (*rpc_done_fn)(const struct rpc_result *res, void *ud);

struct rpc_call_opts {
	double timeout;		/* per attempt, seconds; 0 = [near] request_timeout */
	unsigned max_attempts;	/* 0 = [near] rpc_max_attempts (default max(3, 2 x endpoints)) */
	int no_retry;		/* exactly one attempt, on the preferred endpoint */
	size_t max_response;	/* body limit in bytes; 0 = rpc_max_response (16 MiB) */
	int endpoint;		/* >= 1: only this endpoint (1-based index), no failover */
};

/*
 * Reads [near] rpc_urls, rpc_api_key, request_timeout, chain_id and the rpc_*
 * tuning keys (the section must have been checked).  A missing rpc_urls is an
 * error.  With chain_id set, each endpoint's `status` is checked once before
 * it is used for anything else; an endpoint of another chain is never used.
 * `reg` may be NULL (no metrics).  NULL and a message in err on failure.
 */
struct rpc *rpc_new(struct ev_loop *loop, struct http_client *http,
		    struct metrics *reg, const struct cfg *cfg, char *err,
		    size_t errsz);

/* Check [near] rpc_urls without creating anything: for check-config.
 * 0, or -1 and "file:line: rpc_urls: why" (an item's key is never echoed). */
int rpc_check_config(const struct cfg *cfg, char *err, size_t errsz);

/* The same without a config file: urls NULL-terminated ("URL" or "URL|KEY"). */
struct rpc_config {
	const char *const *urls;
	const char *api_key;		/* default key; NULL = none */
	const char *chain_id;		/* NULL = accept any */
	double timeout;			/* per attempt; 0 = 10 s */
	unsigned max_attempts;		/* 0 = max(3, 2 x endpoints) */
	size_t max_response;		/* 0 = 16 MiB */
	double backoff_initial;		/* between passes over the endpoints; 0 = 0.25 s */
	double backoff_max;		/* 0 = 5 s */
	double cooldown_initial;	/* a failed endpoint rests; 0 = 1 s */
	double cooldown_max;		/* 0 = 60 s */
	uint64_t max_lag_blocks;	/* behind the best final height = lagging; 0 = 10 */
	double probe_interval;		/* final height probe of idle endpoints; 0 = 10 s,
					   < 0 = never (only heights seen in answers count) */
};
struct rpc *rpc_new_with(struct ev_loop *loop, struct http_client *http,
			 struct metrics *reg, const struct rpc_config *rc,
			 char *err, size_t errsz);

/* Cancels every call in flight (no callbacks) and frees. Safe from a callback. */
void rpc_free(struct rpc *r);

/* Call `method` with `params_json` (an object or array as text; NULL = "[]").
 * NULL (and nothing runs) only when params_json is not valid JSON or memory
 * ran out. */
struct rpc_call *rpc_call(struct rpc *r, const char *method,
			  const char *params_json,
			  const struct rpc_call_opts *opts, rpc_done_fn cb,
			  void *ud);
/* The callback never runs after this; the handle is invalid. NULL is fine;
 * calling it from the call's own callback does nothing. */
void rpc_cancel(struct rpc_call *c);

/* ---- helpers on top of rpc_call ---------------------------------------------- */

/* query call_function.  On success value/value_len are the decoded result
 * bytes (NUL-terminated, not necessarily text).  A failing view has ok = 0,
 * cls = RPC_ERR_CONTRACT (also for the HTTP-200 result.error quirk) or another
 * class, and message = "CAUSE: text" as the RPC gave it, e.g.
 * "CONTRACT_EXECUTION_ERROR: wasm execution failed with error: ...".
 * block_height/hash are set whenever the answer carried them. */
struct rpc_view_result {
	const struct rpc_result *rpc;	/* the underlying call */
	int ok;
	const char *value;
	size_t value_len;
	const struct cJSON *logs;	/* array of strings, or NULL */
	uint64_t block_height;
	const char *block_hash;		/* "" when unknown */
	enum rpc_error_class cls;
	const char *message;		/* failure: "CAUSE: text"; success: "" */
};
typedef void (*rpc_view_fn)(const struct rpc_view_result *res, void *ud);

/* finality: "final", "near-final" or "optimistic" (NULL = "final").
 * args_json NULL = "{}" (sent as base64 of its bytes, unchanged). */
struct rpc_call *rpc_view_call(struct rpc *r, const char *contract,
			       const char *method, const char *args_json,
			       const char *finality,
			       const struct rpc_call_opts *opts, rpc_view_fn cb,
			       void *ud);

/* `block` at finality final: height and base58 hash of the latest final block. */
struct rpc_block_ref {
	const struct rpc_result *rpc;
	int ok;
	uint64_t height;
	const char *hash;		/* "" on failure */
};
typedef void (*rpc_block_fn)(const struct rpc_block_ref *res, void *ud);
struct rpc_call *rpc_final_block(struct rpc *r, const struct rpc_call_opts *opts,
				 rpc_block_fn cb, void *ud);

/* ---- pure parts, for tests and the fuzzer ----------------------------------- */

/* Classify one HTTP answer to a JSON-RPC request.  Fills *out (borrowing from
 * body and from *doc, which the caller frees with cJSON_Delete) and writes
 * the message into msg.  transport_error is the CURLcode (0 = none). */
void rpc_parse_response(int http_status, int transport_error,
			const char *transport_text, const char *body,
			size_t body_len, struct cJSON **doc,
			struct rpc_result *out, char *msg, size_t msgsz);

/* Decode a call_function result object (handles the result.error quirk).
 * 0: a malloc'd value (NUL-terminated, *len bytes).  -2: the view failed in
 * the contract (msg "CONTRACT_EXECUTION_ERROR: text").  -1: malformed (msg
 * says what and where).  *height / *hash are set whenever present; hash is
 * borrowed from res. */
int rpc_parse_view_result(const struct cJSON *res, char **value, size_t *len,
			  uint64_t *height, const char **hash, char *msg,
			  size_t msgsz);
/* block_height / block_hash of an object (a view answer or an error's
 * cause.info), left untouched when absent.  0, or -1 when malformed. */
int rpc_parse_view_where(const struct cJSON *obj, uint64_t *height,
			 const char **hash);
/* header.height and header.hash of a `block` result.  0, or -1 and msg. */
int rpc_parse_final_block(const struct cJSON *res, uint64_t *height,
			  const char **hash, char *msg, size_t msgsz);
/* A JSON number that is a whole number in 0..2^53.  0, or -1. */
int rpc_json_u64(const struct cJSON *j, uint64_t *out);

/* ---- endpoint state, for status pages and tests ------------------------------ */

size_t rpc_endpoint_count(const struct rpc *r);
/* host:port of endpoint i (0-based); NULL past the end. */
const char *rpc_endpoint_name(const struct rpc *r, size_t i);
/* Newest final height known for endpoint i (0 = none yet). */
uint64_t rpc_endpoint_final_height(const struct rpc *r, size_t i);
/* 1 when endpoint i is not cooling down, not lagging and on the right chain. */
int rpc_endpoint_healthy(const struct rpc *r, size_t i);
/* Newest final height seen from any endpoint. */
uint64_t rpc_best_final_height(const struct rpc *r);

#endif
