/* Non-blocking HTTP client: one curl multi handle driven by the libev loop. */
#ifndef MPCI_CORE_HTTP_H
#define MPCI_CORE_HTTP_H
#include <stddef.h>

#include "http_headers.h"	/* response headers are bounded (HTTP_MAX_HEADERS, ..._BYTES):
				 * more, or a malformed line, fails the transfer rather than
				 * cutting the list short */

struct ev_loop;
struct http_client;
struct http_req;

/* Everything is copied by http_request(): nothing here needs to outlive the call. */
struct http_opts {
	const char *method;		/* "GET" when NULL; "POST", "PUT", "HEAD", ... */
	const char *url;		/* http:// or https:// only (also for redirects) */
	const char *const *headers;	/* "Name: value", NULL-terminated; may be NULL */
	const void *body;		/* request body (sent with any method), may be NULL */
	size_t body_len;
	double timeout;			/* whole transfer, seconds; 0 = 30 */
	double connect_timeout;		/* seconds; 0 = 10 */
	size_t max_response;		/* body limit in bytes after decoding; 0 = 16 MiB */
	int follow_redirects;		/* 0: a 3xx is reported with its location */
	const char *unix_socket;	/* speak HTTP over this unix socket; url gives host/path */
	const char *ca_file;		/* TLS, passed to curl as given; may be NULL */
	const char *client_cert;
	const char *client_key;
	const char *pinned_pubkey;	/* curl CURLOPT_PINNEDPUBLICKEY syntax */
	size_t recv_buffer;		/* bytes read per recv(); 0 = curl's 16 KiB. Larger
					 * for large bodies: fewer syscalls and callbacks */
};

struct http_response {
	int status;		/* HTTP status; 0 when the transfer failed */
	int transport_error;	/* 0 or a CURLcode (CURLE_FILESIZE_EXCEEDED: over max_response;
				 * CURLE_WEIRD_SERVER_REPLY: headers malformed or over the limits) */
	const char *error;	/* human text when transport_error != 0, else NULL */
	const char *body;	/* never NULL, NUL-terminated; "" when the transfer failed */
	size_t body_len;
	const char *content_type;	/* NULL when absent */
	const char *location;	/* 3xx not followed: target URL resolved against url; else NULL */
	double elapsed;		/* seconds from http_request() to completion */
	/* The final response's headers (after redirects and 1xx answers) in the order
	 * received, trailers not included; none when the transfer failed. */
	const struct http_header *headers;
	size_t n_headers;
};

/* Runs exactly once per request that was not cancelled, always from the loop, never from
 * inside http_request(). Everything in `res` is borrowed until it returns. It may call
 * http_request(), http_cancel() and http_client_free(). */
typedef void (*http_done_fn)(const struct http_response *res, void *ud);

/* curl_global_init(CURL_GLOBAL_DEFAULT) is the caller's job, once, before any client
 * exists (and curl_global_cleanup() after the last is freed). Loop thread only. */
struct http_client *http_client_new(struct ev_loop *loop);
/* Cancels every request in flight (no callback runs for them; their handles become
 * invalid) and frees the client. Safe from inside a callback. */
void http_client_free(struct http_client *c);

/* NULL (errno set) when the options are invalid (no url, bad method, a header without
 * ':' or with CR/LF) or memory ran out; the callback then never runs. Any other failure
 * (bad URL, refused connection, ...) arrives through the callback. */
struct http_req *http_request(struct http_client *c, const struct http_opts *o,
			      http_done_fn cb, void *ud);
/* The callback never runs after this; the handle is invalid afterwards. NULL is fine.
 * Calling it on the request whose callback is running is allowed and does nothing. */
void http_cancel(struct http_req *r);
/* Requests started and neither completed nor cancelled. */
size_t http_inflight(const struct http_client *c);

#endif
