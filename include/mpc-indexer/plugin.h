/*
 * mpc-indexer plugin ABI — the one public header.
 *
 * A plugin is a shared object that exports one function, mpci_plugin_entry(),
 * returning a static descriptor.  The host hands the plugin a const table of
 * functions (struct mpci_host_api); plugins never link against the daemon.
 * Every struct that crosses the boundary starts with its size, so either side
 * can be newer than the other.
 *
 * Versioning (as Varnish's vrt.h): adding a function, an event or a trailing
 * field bumps MPCI_ABI_MINOR; removing or changing anything bumps
 * MPCI_ABI_MAJOR.  The host loads a plugin when its major equals the host's
 * and its minor is not newer.  A plugin that wants a function added after the
 * minor it requires checks MPCI_API_HAS(api, fn) first.
 *
 * Rules:
 *  - Every callback runs on the host's single loop thread and must not block.
 *    The host times each call and exports the timings.
 *  - Data passed to a callback is borrowed until the callback returns; copy
 *    what you keep.  Strings are NUL-terminated; binary values come with a length.
 *  - Whoever allocates frees: the host frees what it allocated, the plugin
 *    what it allocated.  A user-data destructor given to a register call is
 *    called exactly once: when the registration ends, at unload, or at once
 *    if the registration fails.
 *  - Handles (timers, watches, requests, subscriptions) stay valid until
 *    fini() returns, so fini() may close them; the host then releases what
 *    is left, running those destructors after fini().  A callback may end
 *    its own registration (timer_stop, fd_unwatch, unsubscribe) safely.
 *  - Registration functions (subscribe_*, config_*) may be called during
 *    init() only unless stated otherwise.  Runtime functions (view, tx_submit,
 *    timers, fd watches, http) from init() on.
 *  - Only post(), log() and the metric update functions may be called from a
 *    thread other than the loop thread.
 *
 * Changelog (newest first):
 *  2026-11-24  1.1  HTTP response headers: struct mpci_http_header, the
 *                   trailing headers/n_headers of struct mpci_http_response
 *                   and mpci_http_response_header() to look one up.
 *  2026-11-24  1.0  First ABI: descriptor, lifecycle, config, log, timers, fd
 *                   watches, post, outgoing HTTP, metrics registry and
 *                   collection, state subscriptions and views, block stream
 *                   with MPC events and filters, transactions, status.
 */
#ifndef MPC_INDEXER_PLUGIN_H
#define MPC_INDEXER_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MPCI_ABI_MAJOR 1
#define MPCI_ABI_MINOR 1

#if defined(__GNUC__)
#define MPCI_EXPORT __attribute__((visibility("default")))
#define MPCI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MPCI_EXPORT
#define MPCI_PRINTF(f, a)
#endif

/* Built into the plugin by its own compiler; the host refuses a mismatch. */
#define MPCI_FINGERPRINT                                                       \
	((uint32_t)(sizeof(void *) | (sizeof(long) << 4) |                     \
		    (sizeof(long long) << 8) | (sizeof(size_t) << 12) |        \
		    (sizeof(double) << 16) |                                   \
		    ((uint32_t)(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) << 20)))

/* ---- result codes ------------------------------------------------------- */

enum mpci_err {
	MPCI_OK = 0,
	MPCI_ERR = -1,             /* generic failure, see the log */
	MPCI_ERR_INVAL = -2,       /* bad argument */
	MPCI_ERR_NOMEM = -3,
	MPCI_ERR_UNSUPPORTED = -4, /* this host does not offer it */
	MPCI_ERR_PHASE = -5,       /* not allowed now (e.g. register after init) */
	MPCI_ERR_FULL = -6,        /* a bounded queue is full */
	MPCI_ERR_NOTFOUND = -7,    /* unknown key, signer, metric ... */
};

enum mpci_log_level {
	MPCI_LOG_ERROR = 0,
	MPCI_LOG_WARN = 1,
	MPCI_LOG_INFO = 2,
	MPCI_LOG_DEBUG = 3,
};

/* ---- opaque handles ------------------------------------------------------ */

typedef struct mpci_plugin mpci_plugin; /* the host's record of one plugin */
typedef struct mpci_timer mpci_timer;
typedef struct mpci_watch mpci_watch;
typedef struct mpci_http mpci_http;
typedef struct mpci_metric mpci_metric;
typedef struct mpci_sub mpci_sub;       /* a state or block subscription */

typedef void (*mpci_free_fn)(void *ud);

struct mpci_host_api;

/* ---- descriptor ----------------------------------------------------------- */

/* A configuration key the plugin accepts in its [plugin.NAME] section.  The
 * host rejects unknown keys and values of the wrong type before init(). */
enum mpci_config_type {
	MPCI_CFG_STR = 0,
	MPCI_CFG_INT = 1,
	MPCI_CFG_UINT = 2,
	MPCI_CFG_BOOL = 3,
	MPCI_CFG_DOUBLE = 4,
	MPCI_CFG_DURATION = 5, /* "500ms", "10s", "5m", "1h" -> seconds */
	MPCI_CFG_SIZE = 6,     /* "64k", "16M" -> bytes */
	MPCI_CFG_LIST = 7,     /* comma-separated strings */
	MPCI_CFG_PATH = 8,
};

struct mpci_config_key {
	const char *name;
	int type;          /* enum mpci_config_type */
	const char *def;   /* default as text, NULL = unset */
	const char *help;
};

enum mpci_plugin_flags {
	MPCI_PLUGIN_NEEDS_SIGNER = 1u << 0, /* refuse to load without [signer.*] */
};

struct mpci_plugin_desc {
	/* frozen prefix: never moves */
	uint32_t struct_size;
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t fingerprint;
	uint32_t flags;
	/* 1.0 */
	const char *name;
	const char *version;
	const char *description;
	const struct mpci_config_key *config; /* terminated by {NULL} */
	/* Create the plugin's state.  Return MPCI_OK or fail (the host unloads
	 * the plugin, or stops when it is required).  Registrations go here. */
	int (*init)(const struct mpci_host_api *api, mpci_plugin *self,
		    void **state);
	/* Every plugin has been initialised; the loop is about to run. */
	int (*start)(void *state);
	/* Shutdown has begun: stop accepting work, finish what is in flight. */
	void (*stop)(void *state);
	/* Free the state.  No host calls after this returns. */
	void (*fini)(void *state);
};

/* Fill a descriptor's frozen prefix. */
#define MPCI_DESC_HEADER                                                       \
	.struct_size = sizeof(struct mpci_plugin_desc),                        \
	.abi_major = MPCI_ABI_MAJOR, .abi_minor = MPCI_ABI_MINOR,              \
	.fingerprint = MPCI_FINGERPRINT

/* The plugin's one exported symbol. */
#define MPCI_PLUGIN_ENTRY_NAME "mpci_plugin_entry"
typedef const struct mpci_plugin_desc *(*mpci_plugin_entry_fn)(void);
#define MPCI_PLUGIN(desc)                                                      \
	MPCI_EXPORT const struct mpci_plugin_desc *mpci_plugin_entry(void);    \
	MPCI_EXPORT const struct mpci_plugin_desc *mpci_plugin_entry(void)     \
	{                                                                      \
		return &(desc);                                                \
	}

/* ---- outgoing HTTP --------------------------------------------------------- */

struct mpci_http_request {
	uint32_t struct_size;
	const char *method;            /* NULL = "GET" */
	const char *url;
	const char *const *headers;    /* "Name: value", NULL-terminated */
	const void *body;
	size_t body_len;
	double timeout;                /* seconds, 0 = 30 */
	size_t max_response;           /* bytes, 0 = 16 MiB */
	const char *unix_socket;       /* talk HTTP over this socket */
	const char *ca_file;           /* TLS: trust these roots */
	const char *client_cert;       /* TLS: our certificate (PEM file) */
	const char *client_key;        /* TLS: our key (PEM file) */
	const char *pinned_pubkey;     /* curl's "sha256//<base64>" form */
};

/* 1.1: one response header.  Both strings are NUL-terminated and borrowed
 * for the callback.  The name is as the server spelled it (compare without
 * case); the value has no surrounding whitespace, and a folded line is
 * joined with one space. */
struct mpci_http_header {
	const char *name;
	const char *value;
};

struct mpci_http_response {
	uint32_t struct_size;
	int status;                    /* 0 when the transfer failed */
	const char *error;             /* transport error text, else NULL */
	const char *body;              /* NUL-terminated */
	size_t body_len;
	const char *content_type;
	double elapsed;                /* seconds */
	/* 1.1: the headers of the final response (after redirects and 1xx
	 * answers), in the order received; a repeated name is repeated;
	 * trailers are not included.  None when the transfer failed.  A 1.0
	 * host's response ends before these, so read them only through
	 * mpci_http_response_header() or after checking struct_size with
	 * MPCI_HTTP_RESPONSE_HAS(res, n_headers).  A plugin built against 1.0
	 * never reads this far. */
	const struct mpci_http_header *headers;
	size_t n_headers;
};

/* Does this response carry `field` (it may come from an older host)? */
#define MPCI_HTTP_RESPONSE_HAS(res, field)                                     \
	((res)->struct_size >= offsetof(struct mpci_http_response, field) +    \
				       sizeof((res)->field))

/* The value of the first header called `name` (ASCII case-insensitive), or
 * NULL: absent, or a host older than 1.1.  Borrowed like the response. */
static inline const char *
mpci_http_response_header(const struct mpci_http_response *res, const char *name)
{
	size_t i, k;

	if (!res || !name || !MPCI_HTTP_RESPONSE_HAS(res, n_headers) || !res->headers)
		return NULL;
	for (i = 0; i < res->n_headers; i++) {
		const char *h = res->headers[i].name;

		for (k = 0; h; k++) {
			char a = h[k], b = name[k];

			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (b >= 'A' && b <= 'Z')
				b = (char)(b - 'A' + 'a');
			if (a != b)
				break;
			if (!a)
				return res->headers[i].value;
		}
	}
	return NULL;
}

typedef void (*mpci_http_fn)(const struct mpci_http_response *res, void *ud);

/* ---- metrics ------------------------------------------------------------------ */

enum mpci_metric_type {
	MPCI_METRIC_COUNTER = 0,
	MPCI_METRIC_GAUGE = 1,
	MPCI_METRIC_HISTOGRAM = 2,
};

/* One labelled series during collection.  For histograms, `buckets` holds
 * n_buckets cumulative counts for the family's bounds, then sum and count. */
struct mpci_metric_sample {
	const char *const *label_values; /* n_labels entries */
	double value;                    /* counter, gauge */
	const uint64_t *buckets;         /* histogram: cumulative counts */
	double sum;
	uint64_t count;
};

struct mpci_metric_family {
	uint32_t struct_size;
	const char *name;
	const char *help;
	int type;                        /* enum mpci_metric_type */
	const char *const *label_names;
	size_t n_labels;
	const double *bounds;            /* histogram upper bounds, ascending */
	size_t n_bounds;
	const struct mpci_metric_sample *samples;
	size_t n_samples;
};

typedef void (*mpci_metric_visit_fn)(const struct mpci_metric_family *f,
				     void *ud);

/* ---- contract views --------------------------------------------------------- */

enum mpci_retry {
	MPCI_RETRY_DEFAULT = 0,     /* the [view] section's policy */
	MPCI_RETRY_FAIL_FAST = 1,   /* first failure ends the subscription */
	MPCI_RETRY_FIXED = 2,
	MPCI_RETRY_EXPONENTIAL = 3,
};

/* How a subscription polls; zeros mean the configured defaults. */
struct mpci_poll_policy {
	double interval;            /* seconds between polls */
	int retry;                  /* enum mpci_retry */
	double backoff_initial;     /* seconds */
	double backoff_max;         /* seconds */
};

struct mpci_view_spec {
	uint32_t struct_size;
	const char *contract;       /* NULL = the configured MPC contract */
	const char *method;
	const char *args_json;      /* NULL = "{}" */
	const struct mpci_poll_policy *bootstrap; /* until the first success */
	const struct mpci_poll_policy *update;    /* afterwards */
};

struct mpci_view_result {
	uint32_t struct_size;
	const char *contract;
	const char *method;
	int ok;                     /* 1: value is set; 0: error is set */
	const char *value;          /* raw bytes the contract returned (JSON) */
	size_t value_len;
	const char *error;          /* "CAUSE: message" as the RPC gave it */
	uint64_t block_height;      /* where this was observed */
	const char *block_hash;
	int final;                  /* 1 when the subscription has ended */
};

typedef void (*mpci_view_fn)(const struct mpci_view_result *r, void *ud);

/* ---- block stream -------------------------------------------------------------- */

enum mpci_request_kind {
	MPCI_REQ_SIGN = 0,          /* sign */
	MPCI_REQ_CKD = 1,           /* request_app_private_key */
	MPCI_REQ_FOREIGN_TX = 2,    /* verify_foreign_transaction */
};

enum mpci_block_status {
	MPCI_BLOCK_FINAL = 0,
	MPCI_BLOCK_CANONICAL = 1,   /* optimistic, on the canonical chain */
	MPCI_BLOCK_FORK = 2,        /* optimistic, not canonical */
};

/* A request that reached the contract (the receipt that yielded). */
struct mpci_request {
	uint32_t struct_size;
	int kind;                   /* enum mpci_request_kind */
	const char *id;             /* base58: the yield receipt id */
	const char *receipt_id;     /* base58: the user's receipt */
	const char *predecessor_id;
	const char *args;           /* the call's raw JSON args */
	size_t args_len;
	const char *request;        /* the "request" member, as JSON */
	size_t request_len;
	uint8_t derived[32];        /* sign: tweak; ckd: app_id; else zero */
	uint32_t domain_id;
};

/* The yield callback receipt executed: the request is answered or timed out. */
struct mpci_completion {
	uint32_t struct_size;
	int kind;                   /* enum mpci_request_kind */
	const char *id;             /* base58: equals mpci_request.id */
	int success;                /* outcome was SuccessValue/SuccessReceiptId */
};

/* A receipt matched by one of the subscriber's filters. */
struct mpci_match {
	uint32_t struct_size;
	size_t filter;              /* index into mpci_block_sub.filters */
	const char *receipt_id;
	const char *predecessor_id;
	const char *receiver_id;
	const char *method;
	const char *args;           /* decoded args bytes */
	size_t args_len;
	const char *next_receipt_id; /* SuccessReceiptId, or NULL */
	int success;
	const char *status_json;    /* the outcome status, as JSON */
	const char *const *logs;
	size_t n_logs;
};

struct mpci_block {
	uint32_t struct_size;
	uint64_t height;
	const char *hash;
	const char *prev_hash;
	const char *last_final_block;
	uint8_t entropy[32];        /* header.random_value */
	uint64_t timestamp_nanosec;
	int status;                 /* enum mpci_block_status */
	uint64_t final_height;      /* newest final height known */
	uint64_t head_height;       /* newest height the sources report */
	const struct mpci_request *requests;
	size_t n_requests;
	const struct mpci_completion *completions;
	size_t n_completions;
	const struct mpci_match *matches;
	size_t n_matches;
	uint32_t n_timeouts;        /* fail_on_timeout receipts in this block */
};

enum mpci_filter_kind {
	/* executor == account, single FunctionCall `method`, SuccessReceiptId */
	MPCI_FILTER_EXECUTOR_PROMISE = 0,
	/* receiver == account, single FunctionCall `method` */
	MPCI_FILTER_RECEIVER = 1,
};

struct mpci_filter {
	int kind;                   /* enum mpci_filter_kind */
	const char *account;
	const char *method;         /* NULL = any method */
};

struct mpci_block_sub {
	uint32_t struct_size;
	uint64_t from_height;       /* 0 = the daemon's cursor */
	const struct mpci_filter *filters;
	size_t n_filters;
};

struct mpci_block_handlers {
	uint32_t struct_size;
	void (*block)(const struct mpci_block *b, void *ud);
	/* optimistic mode: a block delivered earlier left the canonical chain */
	void (*orphaned)(uint64_t height, const char *hash, void *ud);
	/* optimistic mode: blocks up to this one are final */
	void (*finalized)(uint64_t height, const char *hash, void *ud);
};

/* ---- transactions --------------------------------------------------------------- */

enum mpci_tx_wait {
	MPCI_TX_SEND = 0,           /* report once the network accepted it */
	MPCI_TX_WAIT = 1,           /* report the final outcome */
};

struct mpci_tx_request {
	uint32_t struct_size;
	const char *signer;         /* [signer.NAME]; NULL = the only signer */
	const char *receiver;       /* NULL = the MPC contract */
	const char *method;
	const char *args;           /* JSON (or raw) bytes */
	size_t args_len;
	uint64_t gas;               /* 0 = 300 Tgas */
	const char *deposit;        /* yoctoNEAR, decimal; NULL = "0" */
	int wait;                   /* enum mpci_tx_wait */
	double deadline;            /* seconds for MPCI_TX_WAIT; 0 = default */
};

enum mpci_tx_status {
	MPCI_TX_ACCEPTED = 0,       /* MPCI_TX_SEND: the network has it */
	MPCI_TX_SUCCEEDED = 1,      /* every receipt succeeded */
	MPCI_TX_FAILED = 2,         /* executed, and a receipt failed */
	MPCI_TX_UNKNOWN = 3,        /* deadline passed without an outcome */
	MPCI_TX_REJECTED = 4,       /* never executed (invalid, or shutdown) */
};

struct mpci_tx_result {
	uint32_t struct_size;
	uint64_t id;                /* as returned by tx_submit */
	int status;                 /* enum mpci_tx_status */
	const char *hash;           /* base58, NULL if never signed */
	const char *value;          /* SuccessValue bytes, decoded */
	size_t value_len;
	const char *error;          /* failure or rejection reason */
	uint64_t block_height;      /* where it executed, 0 if unknown */
};

typedef void (*mpci_tx_fn)(const struct mpci_tx_result *r, void *ud);

/* ---- status -------------------------------------------------------------------------- */

struct mpci_status {
	uint32_t struct_size;       /* set by the caller; the host fills what fits */
	const char *chain_id;       /* [near] chain_id, NULL when not configured */
	const char *contract;       /* [near] contract, NULL when not configured */
	uint64_t head_height;       /* newest height the sources report */
	uint64_t final_height;
	uint64_t processed_height;  /* last block delivered to subscribers */
	double lag_seconds;         /* head time minus processed block time */
	int following;              /* 1 when within the configured lag */
	size_t tx_queue_length;
};

struct mpci_signer_info {
	uint32_t struct_size;
	const char *name;
	const char *account_id;
	const char *public_key;     /* "ed25519:..." */
	int full_access;            /* -1 unknown, 0 function-call key, 1 full */
};

/* ---- the host's function table --------------------------------------------------------- */

struct mpci_host_api {
	uint32_t struct_size;
	uint16_t abi_major;
	uint16_t abi_minor;

	/* 1.0: logging, tagged with the plugin's name.  Any thread. */
	void (*log)(mpci_plugin *self, int level, const char *fmt, ...)
		MPCI_PRINTF(3, 4);

	/* 1.0: configuration of the plugin's own section.  The value, the
	 * declared default, or NULL; typed getters return MPCI_OK,
	 * MPCI_ERR_NOTFOUND (unset) or MPCI_ERR_INVAL. */
	const char *(*config_str)(mpci_plugin *self, const char *key);
	int (*config_int)(mpci_plugin *self, const char *key, int64_t *out);
	int (*config_bool)(mpci_plugin *self, const char *key, int *out);
	int (*config_double)(mpci_plugin *self, const char *key, double *out);
	/* a LIST key: the n-th element or NULL past the end */
	const char *(*config_list)(mpci_plugin *self, const char *key, size_t i);
	/* "file:line" of a key, for the plugin's own error messages */
	const char *(*config_where)(mpci_plugin *self, const char *key);

	/* 1.0: the loop.  Seconds on the loop's clock. */
	double (*now)(mpci_plugin *self);
	/* Fire after `after` s, then every `repeat` s (0 = once; the timer
	 * stays allocated until timer_stop).  The plugin frees with timer_stop. */
	mpci_timer *(*timer_start)(mpci_plugin *self, double after, double repeat,
				   void (*cb)(void *ud), void *ud);
	void (*timer_stop)(mpci_timer *t);
	/* events: 1 = readable, 2 = writable */
	mpci_watch *(*fd_watch)(mpci_plugin *self, int fd, int events,
				void (*cb)(int fd, int revents, void *ud),
				void *ud);
	void (*fd_watch_set)(mpci_watch *w, int events);
	void (*fd_unwatch)(mpci_watch *w);
	/* Run cb(ud) on the loop thread soon.  Any thread. */
	int (*post)(mpci_plugin *self, void (*cb)(void *ud), void *ud);

	/* 1.0: outgoing HTTP on the host's client.  The callback runs once,
	 * unless http_cancel came first. */
	mpci_http *(*http_request)(mpci_plugin *self,
				   const struct mpci_http_request *req,
				   mpci_http_fn cb, void *ud);
	void (*http_cancel)(mpci_http *h);

	/* 1.0: metrics.  Names follow Prometheus conventions; label_names is
	 * NULL-terminated (or NULL).  Registering an existing name with the
	 * same type and labels returns the same metric.  Updates take
	 * label_values in the order of label_names.  Any thread. */
	mpci_metric *(*metric_counter)(mpci_plugin *self, const char *name,
				       const char *help,
				       const char *const *label_names);
	mpci_metric *(*metric_gauge)(mpci_plugin *self, const char *name,
				     const char *help,
				     const char *const *label_names);
	mpci_metric *(*metric_histogram)(mpci_plugin *self, const char *name,
					 const char *help,
					 const char *const *label_names,
					 const double *bounds, size_t n_bounds);
	void (*metric_add)(mpci_metric *m, const char *const *label_values,
			   double v);
	void (*metric_set)(mpci_metric *m, const char *const *label_values,
			   double v);
	void (*metric_observe)(mpci_metric *m, const char *const *label_values,
			       double v);
	/* drop one labelled series (e.g. a participant that left) */
	void (*metric_remove)(mpci_metric *m, const char *const *label_values);
	/* Visit every family of the registry, core and plugins, in name order,
	 * from one consistent snapshot.  Loop thread. */
	void (*metrics_collect)(mpci_plugin *self, mpci_metric_visit_fn fn,
				void *ud);

	/* 1.0: contract views.  subscribe_state: init() only.  The first call
	 * of cb carries the current value (or error); later calls come only
	 * when the raw bytes change or the call starts, stops or changes
	 * failing.  Heights never go back.  Returns MPCI_OK and a handle. */
	int (*subscribe_state)(mpci_plugin *self,
			       const struct mpci_view_spec *spec,
			       mpci_view_fn cb, void *ud, mpci_free_fn ud_free,
			       mpci_sub **out);
	/* One-shot view at final finality; cb runs once. */
	int (*view)(mpci_plugin *self, const struct mpci_view_spec *spec,
		    mpci_view_fn cb, void *ud);

	/* 1.0: the block stream.  init() only. */
	int (*subscribe_blocks)(mpci_plugin *self,
				const struct mpci_block_sub *sub,
				const struct mpci_block_handlers *h, void *ud,
				mpci_free_fn ud_free, mpci_sub **out);
	/* End a state or block subscription (any time); ud_free runs. */
	void (*unsubscribe)(mpci_sub *s);

	/* 1.0: transactions.  Arguments are copied; cb runs exactly once on
	 * the loop thread, also at shutdown (MPCI_TX_REJECTED) if still
	 * pending.  *id (optional) identifies it in the result. */
	int (*tx_submit)(mpci_plugin *self, const struct mpci_tx_request *req,
			 mpci_tx_fn cb, void *ud, uint64_t *id);
	/* Describe a configured signer (name NULL = the only one). */
	int (*signer_info)(mpci_plugin *self, const char *name,
			   struct mpci_signer_info *out);

	/* 1.0: the indexer's position; fills min(out->struct_size, host's). */
	void (*status)(mpci_plugin *self, struct mpci_status *out);
	/* The daemon's state directory; plugins keep files under it. */
	const char *(*state_dir)(mpci_plugin *self);
};

/* Is `fn` in this host's table?  (It may be newer than the plugin's minor.) */
#define MPCI_API_HAS(api, fn)                                                  \
	((api)->struct_size >=                                                 \
		 offsetof(struct mpci_host_api, fn) + sizeof((api)->fn) &&     \
	 (api)->fn != NULL)

#ifdef __cplusplus
}
#endif
#endif /* MPC_INDEXER_PLUGIN_H */
