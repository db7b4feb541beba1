/*
 * HTTP client on curl's multi-socket API: curl says which sockets to watch and when to
 * time out (sock_cb, timer_fn); libev watchers call back into curl_multi_socket_action().
 * Finished transfers go onto a queue that is drained from a loop callback, so user
 * callbacks never run inside curl or inside http_request().
 */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <ev.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_DEF_TIMEOUT	30.0
#define HTTP_DEF_CONNECT	10.0
#define HTTP_DEF_MAX_RESPONSE	((size_t)16 << 20)
#define HTTP_MAX_REDIRS		10L
#define HTTP_MAX_SECONDS	(30.0 * 86400)	/* keeps ms within a long */
/* Response buffers kept for the next responses: a fresh one past glibc's mmap threshold
 * costs an mmap, a page fault per page and an munmap, per response. */
#define HTTP_SPARES		16
#define HTTP_SPARE_MIN		((size_t)64 << 10)	/* below this malloc reuses cheaply */
#define HTTP_SPARE_MAX		((size_t)1 << 20)	/* above this not kept */
#define HTTP_SPARE_BYTES	((size_t)4 << 20)	/* all kept buffers together */

enum req_state {
	REQ_ACTIVE,		/* in the multi handle, on c->active */
	REQ_QUEUED,		/* finished or failed, on c->queue, callback pending */
	REQ_DISPATCHING,	/* callback running; freed by the dispatcher */
};

struct link {
	struct link *prev, *next;
};

struct http_req {
	struct link link;	/* first: a struct link * is a struct http_req * */
	struct http_client *c;
	enum req_state state;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	char *resp;
	size_t resp_len, resp_cap, max_response;
	int too_large, no_memory, follow;
	struct http_hdrs hdrs;	/* of the response being received */
	enum http_hdr_rc hdr_error;
	CURLcode result;
	double t0;
	http_done_fn cb;
	void *ud;
	char errbuf[CURL_ERROR_SIZE];
};

struct http_sock {
	ev_io io;		/* first: the watcher pointer is the http_sock pointer */
	struct link link;
	struct http_client *c;
};

struct http_client {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer timer;		/* curl's timeout */
	ev_timer defer;		/* drains the queue on the next loop iteration */
	struct link active, queue, socks;	/* circular lists with sentinels */
	size_t inflight;
	int busy;		/* depth of our own loop callbacks */
	int closing;		/* http_client_free() called; freed once busy drops to 0 */
	char *spare[HTTP_SPARES];	/* response buffers for reuse, spare_cap[i] bytes */
	size_t spare_cap[HTTP_SPARES], n_spare, spare_bytes;
};

static void list_init(struct link *h)
{
	h->prev = h->next = h;
}

static void list_add_tail(struct link *h, struct link *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static void list_del(struct link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

static int list_empty(const struct link *h)
{
	return h->next == h;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keeps a response buffer for reuse, or frees it; with the pool full the smallest go. */
static void spare_put(struct http_client *c, char *b, size_t cap)
{
	if (!b || cap < HTTP_SPARE_MIN || cap > HTTP_SPARE_MAX || c->closing) {
		free(b);
		return;
	}
	while (c->n_spare && (c->n_spare == HTTP_SPARES || c->spare_bytes + cap > HTTP_SPARE_BYTES)) {
		size_t small = 0;

		for (size_t i = 1; i < c->n_spare; i++)
			if (c->spare_cap[i] < c->spare_cap[small])
				small = i;
		if (c->spare_cap[small] >= cap) {
			free(b);
			return;
		}
		free(c->spare[small]);
		c->spare_bytes -= c->spare_cap[small];
		c->n_spare--;
		c->spare[small] = c->spare[c->n_spare];
		c->spare_cap[small] = c->spare_cap[c->n_spare];
	}
	c->spare[c->n_spare] = b;
	c->spare_cap[c->n_spare++] = cap;
	c->spare_bytes += cap;
}

/* The smallest kept buffer of at least want bytes (its size in *cap), or NULL. */
static char *spare_take(struct http_client *c, size_t want, size_t *cap)
{
	size_t best = c->n_spare;
	char *b;

	for (size_t i = 0; i < c->n_spare; i++)
		if (c->spare_cap[i] >= want && (best == c->n_spare || c->spare_cap[i] < c->spare_cap[best]))
			best = i;
	if (best == c->n_spare)
		return NULL;
	b = c->spare[best];
	*cap = c->spare_cap[best];
	c->spare_bytes -= *cap;
	c->n_spare--;
	c->spare[best] = c->spare[c->n_spare];
	c->spare_cap[best] = c->spare_cap[c->n_spare];
	return b;
}

static void req_free(struct http_req *r)
{
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->body);
	spare_put(r->c, r->resp, r->resp_cap);
	http_hdrs_free(&r->hdrs);
	free(r);
}

static void defer_arm(struct http_client *c)
{
	if (!ev_is_active(&c->defer))
		ev_timer_start(c->loop, &c->defer);
}

/* Moves r (already out of the multi handle) onto the completion queue. */
static void req_enqueue(struct http_req *r)
{
	list_del(&r->link);
	r->state = REQ_QUEUED;
	list_add_tail(&r->c->queue, &r->link);
}

static void collect_done(struct http_client *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		struct http_req *r;
		CURLcode res = m->data.result;
		CURL *e = m->easy_handle;
		char *priv = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
		curl_multi_remove_handle(c->multi, e);	/* m is invalid from here */
		if (!(r = (struct http_req *)(void *)priv))
			continue;
		r->result = res;
		req_enqueue(r);
	}
}

static void fill_response(struct http_req *r, struct http_response *res,
			  struct http_header hs[HTTP_MAX_HEADERS])
{
	memset(res, 0, sizeof(*res));
	res->elapsed = mono_now() - r->t0;
	res->body = "";
	if (r->hdr_error == HTTP_HDR_MALFORMED) {
		res->transport_error = CURLE_WEIRD_SERVER_REPLY;
		snprintf(r->errbuf, sizeof(r->errbuf), "malformed response header line");
	} else if (r->hdr_error == HTTP_HDR_TOO_MANY || r->hdr_error == HTTP_HDR_TOO_LARGE) {
		res->transport_error = CURLE_WEIRD_SERVER_REPLY;
		snprintf(r->errbuf, sizeof(r->errbuf), "response headers exceed the limit of %s",
			 r->hdr_error == HTTP_HDR_TOO_MANY ? "100 header lines" : "64 KiB");
	} else if (r->too_large || r->result == CURLE_FILESIZE_EXCEEDED) {
		res->transport_error = CURLE_FILESIZE_EXCEEDED;
		snprintf(r->errbuf, sizeof(r->errbuf),
			 "response body exceeds max_response (%zu bytes)", r->max_response);
	} else if (r->no_memory || r->hdr_error == HTTP_HDR_NOMEM) {
		res->transport_error = CURLE_OUT_OF_MEMORY;
		snprintf(r->errbuf, sizeof(r->errbuf), "out of memory for the response");
	} else if (r->result != CURLE_OK) {
		res->transport_error = (int)r->result;
		if (!r->errbuf[0])
			snprintf(r->errbuf, sizeof(r->errbuf), "%s", curl_easy_strerror(r->result));
	}
	if (res->transport_error) {
		res->error = r->errbuf;
		return;
	}
	long code = 0;
	char *ct = NULL, *loc = NULL;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct);
	res->status = (int)code;
	res->content_type = ct;
	if (code >= 300 && code < 400 && !r->follow &&
	    curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK)
		res->location = loc;
	if (r->resp) {
		r->resp[r->resp_len] = '\0';
		res->body = r->resp;
		res->body_len = r->resp_len;
	}
	res->n_headers = http_hdrs_export(&r->hdrs, hs);
	res->headers = res->n_headers ? hs : NULL;
}

static void req_drop(struct http_req *r);

/* Runs the callbacks queued before this call; later ones wait for the next iteration, so a
 * callback that keeps failing and retrying cannot starve the loop. */
static void dispatch(struct http_client *c)
{
	struct link batch;

	if (list_empty(&c->queue))
		return;
	batch.next = c->queue.next;
	batch.prev = c->queue.prev;
	batch.next->prev = &batch;
	batch.prev->next = &batch;
	list_init(&c->queue);
	while (!list_empty(&batch)) {
		struct http_req *r = (struct http_req *)batch.next;
		struct http_response res;
		struct http_header hs[HTTP_MAX_HEADERS];

		if (c->closing) {	/* freed from a callback: the rest never runs */
			req_drop(r);
			continue;
		}
		list_del(&r->link);
		r->state = REQ_DISPATCHING;
		c->inflight--;
		fill_response(r, &res, hs);
		r->cb(&res, r->ud);
		req_free(r);
	}
	if (!c->closing && !list_empty(&c->queue))
		defer_arm(c);
}

static void client_finalize(struct http_client *c)
{
	curl_multi_cleanup(c->multi);	/* may still call sock_cb for cached connections */
	ev_timer_stop(c->loop, &c->timer);
	ev_timer_stop(c->loop, &c->defer);
	while (!list_empty(&c->socks)) {
		struct link *l = c->socks.next;
		struct http_sock *s = (struct http_sock *)((char *)l - offsetof(struct http_sock, link));

		ev_io_stop(c->loop, &s->io);
		list_del(l);
		free(s);
	}
	while (c->n_spare)
		free(c->spare[--c->n_spare]);
	free(c);
}

/* Common tail of every loop callback: deliver what finished, then free if asked to. */
static void after_curl(struct http_client *c)
{
	if (!c->closing) {
		collect_done(c);
		dispatch(c);
	}
	if (--c->busy == 0 && c->closing)
		client_finalize(c);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_sock *s = (struct http_sock *)w;
	struct http_client *c = s->c;
	int fd = w->fd, running, action = 0;

	(void)loop;
	if (revents & EV_READ)
		action |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	if (revents & EV_ERROR)
		action |= CURL_CSELECT_ERR;
	c->busy++;
	curl_multi_socket_action(c->multi, fd, action, &running);	/* may free s */
	after_curl(c);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_client *c = (struct http_client *)((char *)w - offsetof(struct http_client, timer));
	int running;

	(void)loop;
	(void)revents;
	c->busy++;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	after_curl(c);
}

static void defer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_client *c = (struct http_client *)((char *)w - offsetof(struct http_client, defer));

	(void)loop;
	(void)revents;
	c->busy++;
	after_curl(c);
}

static int sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_client *c = userp;
	struct http_sock *s = socketp;
	int events = 0;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			ev_io_stop(c->loop, &s->io);
			list_del(&s->link);
			free(s);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;
	if (!s) {
		if (!(s = calloc(1, sizeof(*s))))
			return -1;
		s->c = c;
		list_init(&s->link);
		list_add_tail(&c->socks, &s->link);
		ev_init(&s->io, io_cb);
		curl_multi_assign(c->multi, fd, s);
	} else {
		ev_io_stop(c->loop, &s->io);
	}
	ev_io_set(&s->io, fd, events);
	ev_io_start(c->loop, &s->io);
	return 0;
}

static int timer_fn(CURLM *m, long timeout_ms, void *userp)
{
	struct http_client *c = userp;

	(void)m;
	ev_timer_stop(c->loop, &c->timer);
	if (timeout_ms >= 0 && !c->closing) {
		ev_timer_set(&c->timer, (double)timeout_ms / 1000.0, 0.0);
		ev_timer_start(c->loop, &c->timer);
	}
	return 0;
}

struct http_client *http_client_new(struct ev_loop *loop)
{
	struct http_client *c;

	if (!loop) {
		errno = EINVAL;
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c))))
		return NULL;
	if (!(c->multi = curl_multi_init())) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->loop = loop;
	list_init(&c->active);
	list_init(&c->queue);
	list_init(&c->socks);
	ev_timer_init(&c->timer, timer_cb, 0.0, 0.0);
	ev_timer_init(&c->defer, defer_cb, 0.0, 0.0);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return c;
}

static void req_drop(struct http_req *r)
{
	struct http_client *c = r->c;

	if (r->state == REQ_ACTIVE)
		curl_multi_remove_handle(c->multi, r->easy);
	list_del(&r->link);
	c->inflight--;
	req_free(r);
}

void http_client_free(struct http_client *c)
{
	if (!c || c->closing)
		return;
	c->closing = 1;
	while (!list_empty(&c->active))
		req_drop((struct http_req *)c->active.next);
	while (!list_empty(&c->queue))
		req_drop((struct http_req *)c->queue.next);
	ev_timer_stop(c->loop, &c->defer);
	if (c->busy == 0)
		client_finalize(c);
}

void http_cancel(struct http_req *r)
{
	if (!r || r->state == REQ_DISPATCHING)
		return;
	req_drop(r);
}

size_t http_inflight(const struct http_client *c)
{
	return c ? c->inflight : 0;
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct http_req *r = ud;
	size_t n = size * nmemb;

	if (n > r->max_response - r->resp_len) {
		r->too_large = 1;
		return 0;	/* aborts the transfer */
	}
	if (!r->resp) {
		/* room for the whole body at once when its length is announced */
		curl_off_t cl = -1;
		size_t want = n + 1;

		if (curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
		    cl > 0 && (uint64_t)cl <= r->max_response && (size_t)cl + 1 > want)
			want = (size_t)cl + 1;
		if (!(r->resp = spare_take(r->c, want, &r->resp_cap))) {
			/* slack, so the buffer kept fits the next, slightly larger body too */
			size_t cap = want < 4096 ? 4096 : want < HTTP_SPARE_MIN ? want :
				     ((want + want / 8) | (HTTP_SPARE_MIN - 1)) + 1;

			if (cap > r->max_response + 1)
				cap = r->max_response + 1;
			if (!(r->resp = malloc(cap))) {
				r->no_memory = 1;
				return 0;
			}
			r->resp_cap = cap;
		}
	}
	if (r->resp_len + n + 1 > r->resp_cap) {
		size_t cap = r->resp_cap ? r->resp_cap : 4096;
		char *nb;

		while (cap < r->resp_len + n + 1)
			cap *= 2;
		if (cap > r->max_response + 1)
			cap = r->max_response + 1;
		if (!(nb = realloc(r->resp, cap))) {
			r->no_memory = 1;
			return 0;
		}
		r->resp = nb;
		r->resp_cap = cap;
	}
	memcpy(r->resp + r->resp_len, p, n);
	r->resp_len += n;
	return n;
}

/* One header line: kept, or the transfer is aborted (the reason in r->hdr_error). */
static size_t header_cb(char *p, size_t size, size_t nitems, void *ud)
{
	struct http_req *r = ud;
	size_t n = size * nitems;

	r->hdr_error = http_hdrs_line(&r->hdrs, p, n);
	return r->hdr_error == HTTP_HDR_OK ? n : 0;
}

static int valid_method(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n > 16)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (m[i] < 'A' || m[i] > 'Z')
			return 0;
	return 1;
}

static int valid_header(const char *h)
{
	const char *colon = strchr(h, ':');

	return colon && colon != h && !strpbrk(h, "\r\n");
}

static int has_header(const char *const *hs, const char *name)
{
	size_t n = strlen(name);

	for (; hs && *hs; hs++)
		if (strncasecmp(*hs, name, n) == 0 && (*hs)[n] == ':')
			return 1;
	return 0;
}

static int valid_seconds(double s)
{
	return isfinite(s) && s >= 0;
}

static long to_ms(double s, double def)
{
	if (s == 0)
		s = def;
	if (s > HTTP_MAX_SECONDS)
		s = HTTP_MAX_SECONDS;
	return s < 0.001 ? 1 : (long)(s * 1000.0);
}

#define SETOPT(opt, val) do { \
	if (rc == CURLE_OK && (rc = curl_easy_setopt(e, opt, val)) != CURLE_OK) \
		failed_opt = #opt; } while (0)

/* Sets every option; on failure leaves a message in r->errbuf and returns the code. */
static CURLcode req_setup(struct http_req *r, const struct http_opts *o, const char *method)
{
	CURL *e = r->easy;
	CURLcode rc = CURLE_OK;
	const char *failed_opt = NULL;

	SETOPT(CURLOPT_PRIVATE, (void *)r);
	SETOPT(CURLOPT_ERRORBUFFER, r->errbuf);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_URL, o->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, (void *)r);
	SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(CURLOPT_HEADERDATA, (void *)r);
	SETOPT(CURLOPT_TIMEOUT_MS, to_ms(o->timeout, HTTP_DEF_TIMEOUT));
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, to_ms(o->connect_timeout, HTTP_DEF_CONNECT));
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(r->max_response > (size_t)INT64_MAX ?
						       INT64_MAX : (int64_t)r->max_response));
	SETOPT(CURLOPT_FOLLOWLOCATION, o->follow_redirects ? 1L : 0L);
	SETOPT(CURLOPT_MAXREDIRS, HTTP_MAX_REDIRS);
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(CURLOPT_ACCEPT_ENCODING, "");	/* whatever this libcurl can decode */
	SETOPT(CURLOPT_USERAGENT, "mpc-indexer");
	if (o->body_len || strcmp(method, "POST") == 0) {
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
		SETOPT(CURLOPT_POSTFIELDS, r->body ? r->body : "");
		if (strcmp(method, "POST") != 0)
			SETOPT(CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "HEAD") == 0) {
		SETOPT(CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		SETOPT(CURLOPT_CUSTOMREQUEST, method);
	}
	if (r->headers)
		SETOPT(CURLOPT_HTTPHEADER, r->headers);
	if (o->unix_socket)
		SETOPT(CURLOPT_UNIX_SOCKET_PATH, o->unix_socket);
	if (o->ca_file)
		SETOPT(CURLOPT_CAINFO, o->ca_file);
	if (o->client_cert)
		SETOPT(CURLOPT_SSLCERT, o->client_cert);
	if (o->client_key)
		SETOPT(CURLOPT_SSLKEY, o->client_key);
	if (o->pinned_pubkey)
		SETOPT(CURLOPT_PINNEDPUBLICKEY, o->pinned_pubkey);
	if (o->recv_buffer)
		SETOPT(CURLOPT_BUFFERSIZE, (long)(o->recv_buffer < CURL_MAX_READ_SIZE ?
						  o->recv_buffer : CURL_MAX_READ_SIZE));
	if (rc != CURLE_OK)
		snprintf(r->errbuf, sizeof(r->errbuf), "curl refused %s: %s",
			 failed_opt, curl_easy_strerror(rc));
	return rc;
}

static int build_headers(struct http_req *r, const struct http_opts *o)
{
	struct curl_slist *l;

	for (const char *const *h = o->headers; h && *h; h++) {
		if (!(l = curl_slist_append(r->headers, *h)))
			return -1;
		r->headers = l;
	}
	/* No "Expect: 100-continue" round trip before large bodies. */
	if (!has_header(o->headers, "Expect")) {
		if (!(l = curl_slist_append(r->headers, "Expect:")))
			return -1;
		r->headers = l;
	}
	/* Not curl's form-urlencoded default: callers say what they send. */
	if (o->body_len && !has_header(o->headers, "Content-Type")) {
		if (!(l = curl_slist_append(r->headers, "Content-Type: application/octet-stream")))
			return -1;
		r->headers = l;
	}
	return 0;
}

struct http_req *http_request(struct http_client *c, const struct http_opts *o,
			      http_done_fn cb, void *ud)
{
	const char *method;
	struct http_req *r;
	CURLcode rc;
	CURLMcode mrc;

	if (!c || !o || !o->url || !*o->url || !cb || c->closing ||
	    (o->body_len && !o->body) || !valid_seconds(o->timeout) ||
	    !valid_seconds(o->connect_timeout)) {
		errno = EINVAL;
		return NULL;
	}
	method = o->method ? o->method : "GET";
	if (!valid_method(method)) {
		errno = EINVAL;
		return NULL;
	}
	for (const char *const *h = o->headers; h && *h; h++)
		if (!valid_header(*h)) {
			errno = EINVAL;
			return NULL;
		}
	if (!(r = calloc(1, sizeof(*r))))
		return NULL;
	list_init(&r->link);
	r->c = c;
	r->cb = cb;
	r->ud = ud;
	r->t0 = mono_now();
	r->follow = !!o->follow_redirects;
	r->max_response = o->max_response ? o->max_response : HTTP_DEF_MAX_RESPONSE;
	if (o->body_len) {
		if (!(r->body = malloc(o->body_len)))
			goto oom;
		memcpy(r->body, o->body, o->body_len);
	}
	if (!(r->easy = curl_easy_init()) || build_headers(r, o) < 0)
		goto oom;

	c->inflight++;
	r->state = REQ_ACTIVE;
	list_add_tail(&c->active, &r->link);
	rc = req_setup(r, o, method);
	if (rc == CURLE_OK) {
		mrc = curl_multi_add_handle(c->multi, r->easy);
		if (mrc == CURLM_OK)
			return r;
		rc = CURLE_FAILED_INIT;
		snprintf(r->errbuf, sizeof(r->errbuf), "curl_multi_add_handle: %s",
			 curl_multi_strerror(mrc));
	}
	/* Curl refused it: report from the loop, never from here. */
	r->result = rc;
	req_enqueue(r);
	defer_arm(c);
	return r;

oom:
	req_free(r);
	errno = ENOMEM;
	return NULL;
}
