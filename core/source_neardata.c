/* neardata block source: see source_neardata.h. Documents are parsed inside the HTTP
 * callback, straight from curl's buffer, and reduced to a compact mpc_block at once. */
#include "source_neardata.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"

#define ND_MAX_ENDPOINTS 16
/* curl's read size for documents of hundreds of KB: 4x fewer recv/poll calls than the
 * default; larger costs more than it saves (measured in make bench) */
#define ND_RECV_BUFFER ((size_t)64 << 10)

struct nd_endpoint {
	char *base;		/* without a trailing '/' */
	char name[128];		/* host:port, for messages and metrics */
	double down_until;	/* resting after failures until then (ev_now) */
	unsigned fails;
};

struct nd_source {
	struct ev_loop *loop;
	struct http_client *http;
	const struct mpc_matcher *matcher;
	struct nd_endpoint ep[ND_MAX_ENDPOINTS];
	size_t n_ep, rr;
	char *key_q;		/* "apiKey=..." url-encoded, or NULL */
	double timeout, wait_timeout;
	size_t max_size;
	struct blockdoc doc;	/* reused parse buffer */
};

struct nd_req {
	struct nd_source *s;
	struct http_req *http;
	size_t ep;
	uint64_t height;
	bsrc_done_fn cb;
	bsrc_head_fn head_cb;
	void *ud;
};

static void host_of(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	size_t l;

	p = p ? p + 3 : url;
	const char *at = strchr(p, '@'), *slash = strchr(p, '/');
	if (at && (!slash || at < slash))
		p = at + 1;	/* never show credentials */
	l = strcspn(p, "/?#");
	snprintf(out, n, "%.*s", (int)l, p);
}

static char *url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o = malloc(strlen(s) * 3 + 1), *p = o;

	if (!o)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = 0;
	return o;
}

static void nd_free(void *src)
{
	struct nd_source *s = src;

	if (!s)
		return;
	for (size_t i = 0; i < s->n_ep; i++)
		free(s->ep[i].base);
	free(s->key_q);
	blockdoc_free(&s->doc);
	free(s);
}

void *nd_new(struct ev_loop *loop, struct http_client *http, const struct nd_config *cfg,
	     const struct mpc_matcher *matcher, char *err, size_t errsz)
{
	struct nd_source *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	s->loop = loop;
	s->http = http;
	s->matcher = matcher;
	s->timeout = cfg->timeout > 0 ? cfg->timeout : 10;
	s->wait_timeout = cfg->wait_timeout > 0 ? cfg->wait_timeout : 15;
	s->max_size = cfg->max_size ? cfg->max_size : (size_t)32 << 20;
	for (size_t i = 0; cfg->urls && cfg->urls[i]; i++) {
		const char *u = cfg->urls[i];
		size_t l = strlen(u);
		if (s->n_ep == ND_MAX_ENDPOINTS) {
			snprintf(err, errsz, "more than %d block_urls", ND_MAX_ENDPOINTS);
			goto fail;
		}
		if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
			snprintf(err, errsz, "block url '%.100s' is not http:// or https://", u);
			goto fail;
		}
		while (l && u[l - 1] == '/')
			l--;
		if (!(s->ep[s->n_ep].base = strndup(u, l))) {
			snprintf(err, errsz, "out of memory");
			goto fail;
		}
		host_of(u, s->ep[s->n_ep].name, sizeof(s->ep[s->n_ep].name));
		s->n_ep++;
	}
	if (!s->n_ep) {
		snprintf(err, errsz, "no block_urls configured");
		goto fail;
	}
	if (cfg->api_key && *cfg->api_key) {
		char *enc = url_encode(cfg->api_key);
		if (!enc || !(s->key_q = malloc(strlen(enc) + 8))) {
			free(enc);
			snprintf(err, errsz, "out of memory");
			goto fail;
		}
		sprintf(s->key_q, "apiKey=%s", enc);
		free(enc);
	}
	return s;
fail:
	nd_free(s);
	return NULL;
}

/* The next endpoint that is not resting; if all rest, the one that wakes first. */
static size_t pick(struct nd_source *s)
{
	double now = ev_now(s->loop);
	size_t best = 0;

	for (size_t k = 0; k < s->n_ep; k++) {
		size_t i = (s->rr + k) % s->n_ep;
		if (s->ep[i].down_until <= now) {
			s->rr = i + 1;
			return i;
		}
	}
	for (size_t i = 1; i < s->n_ep; i++)
		if (s->ep[i].down_until < s->ep[best].down_until)
			best = i;
	return best;
}

static void ep_failed(struct nd_source *s, size_t i)
{
	struct nd_endpoint *e = &s->ep[i];
	double rest = 0.25;

	for (unsigned k = 0; k < e->fails && rest < 30; k++)
		rest *= 2;
	if (rest > 30)
		rest = 30;
	e->fails++;
	/* with one endpoint, resting only delays the retries the stream does anyway */
	if (s->n_ep > 1)
		e->down_until = ev_now(s->loop) + rest;
}

static void ep_ok(struct nd_source *s, size_t i)
{
	s->ep[i].fails = 0;
	s->ep[i].down_until = 0;
}

static int is_not_yet(const struct http_response *res)
{
	return res->status == 404 && strstr(res->body, "BLOCK_DOES_NOT_EXIST");
}

/* Transport and HTTP failures: class and message. 0 when the answer is a 200. */
static int classify(const struct http_response *res, const char **cls)
{
	if (res->transport_error) {
		*cls = res->transport_error == 28 /* CURLE_OPERATION_TIMEDOUT */ ? "timeout" :
		       res->transport_error == 63 /* CURLE_FILESIZE_EXCEEDED */ ? "too_large" :
										 "transport";
		return -1;
	}
	if (res->status == 200)
		return 0;
	*cls = res->status == 429 ? "http_429" : res->status >= 500 ? "http_5xx" : "http_status";
	return -1;
}

static void fetch_done(const struct http_response *res, void *ud)
{
	struct nd_req *r = ud;
	struct nd_source *s = r->s;
	struct bsrc_result out = { .endpoint = s->ep[r->ep].name };
	char err[600], perr[400];
	const char *cls = NULL;
	int rc;

	if (classify(res, &cls) < 0) {
		if (is_not_yet(res)) {
			out.status = BSRC_NOT_YET;
			ep_ok(s, r->ep);
		} else {
			ep_failed(s, r->ep);
			out.status = BSRC_ERROR;
			out.err_class = cls;
			if (res->transport_error)
				snprintf(err, sizeof(err), "block %llu from %s: %s",
					 (unsigned long long)r->height, out.endpoint, res->error);
			else
				snprintf(err, sizeof(err), "block %llu from %s: HTTP %d",
					 (unsigned long long)r->height, out.endpoint, res->status);
			out.error = err;
		}
		r->cb(r->ud, &out);
		free(r);
		return;
	}
	rc = blockdoc_parse(&s->doc, res->body, res->body_len, perr, sizeof(perr));
	if (rc == BD_NULL) {
		out.status = BSRC_SKIPPED;
	} else if (rc == BD_ERROR) {
		out.status = BSRC_ERROR;
		out.err_class = "invalid";
		snprintf(err, sizeof(err), "block %llu from %s: malformed document (%zu bytes): %s",
			 (unsigned long long)r->height, out.endpoint, res->body_len, perr);
		out.error = err;
	} else if (s->doc.height != r->height) {
		out.status = BSRC_ERROR;
		out.err_class = "wrong_height";
		snprintf(err, sizeof(err), "block %llu from %s: the document is for height %llu",
			 (unsigned long long)r->height, out.endpoint, (unsigned long long)s->doc.height);
		out.error = err;
	} else if (!(out.block = mpc_events_extract(s->matcher, &s->doc))) {
		out.status = BSRC_ERROR;
		out.err_class = "invalid";
		snprintf(err, sizeof(err), "block %llu from %s: out of memory",
			 (unsigned long long)r->height, out.endpoint);
		out.error = err;
	} else {
		out.status = BSRC_BLOCK;
	}
	if (out.status == BSRC_ERROR)
		ep_failed(s, r->ep);
	else
		ep_ok(s, r->ep);
	r->cb(r->ud, &out);
	mpc_block_free(out.block);	/* NULL unless the callee left it */
	free(r);
}

static void *nd_fetch(void *src, uint64_t height, int optimistic, int wait, bsrc_done_fn cb, void *ud)
{
	struct nd_source *s = src;
	struct nd_req *r = calloc(1, sizeof(*r));
	char url[2048];
	struct http_opts o = { 0 };

	if (!r)
		return NULL;
	r->s = s;
	r->ep = pick(s);
	r->height = height;
	r->cb = cb;
	r->ud = ud;
	snprintf(url, sizeof(url), "%s/v0/%s/%llu%s%s", s->ep[r->ep].base,
		 optimistic ? "block_opt" : "block", (unsigned long long)height,
		 s->key_q ? "?" : "", s->key_q ? s->key_q : "");
	o.url = url;
	o.timeout = s->timeout + (wait ? s->wait_timeout : 0);
	o.max_response = s->max_size;
	o.recv_buffer = ND_RECV_BUFFER;
	o.follow_redirects = 1;
	if (!(r->http = http_request(s->http, &o, fetch_done, r))) {
		free(r);
		return NULL;
	}
	return r;
}

static void nd_cancel(void *src, void *req)
{
	struct nd_req *r = req;

	(void)src;
	if (!r)
		return;
	http_cancel(r->http);
	free(r);
}

static void head_done(const struct http_response *res, void *ud)
{
	struct nd_req *r = ud;
	struct nd_source *s = r->s;
	const char *loc = res->location, *p;
	char err[400];
	unsigned long long h = 0;

	if (!res->transport_error && res->status >= 300 && res->status < 400 && loc &&
	    (p = strstr(loc, "/v0/block")) && (p = strchr(p + 9, '/'))) {
		char *end;
		h = strtoull(p + 1, &end, 10);
		if (end != p + 1 && (*end == 0 || *end == '/' || *end == '?')) {
			ep_ok(s, r->ep);
			r->head_cb(r->ud, 1, h, NULL);
			free(r);
			return;
		}
	}
	ep_failed(s, r->ep);
	if (res->transport_error)
		snprintf(err, sizeof(err), "head from %s: %s", s->ep[r->ep].name, res->error);
	else
		snprintf(err, sizeof(err), "head from %s: HTTP %d without a block location",
			 s->ep[r->ep].name, res->status);
	r->head_cb(r->ud, 0, 0, err);
	free(r);
}

static void *nd_head(void *src, int optimistic, bsrc_head_fn cb, void *ud)
{
	struct nd_source *s = src;
	struct nd_req *r = calloc(1, sizeof(*r));
	char url[2048];
	struct http_opts o = { 0 };

	if (!r)
		return NULL;
	r->s = s;
	r->ep = pick(s);
	r->head_cb = cb;
	r->ud = ud;
	snprintf(url, sizeof(url), "%s/v0/last_block/%s%s%s", s->ep[r->ep].base,
		 optimistic ? "optimistic" : "final", s->key_q ? "?" : "", s->key_q ? s->key_q : "");
	o.url = url;
	o.timeout = s->timeout;
	o.max_response = 1 << 20;
	if (!(r->http = http_request(s->http, &o, head_done, r))) {
		free(r);
		return NULL;
	}
	return r;
}

const struct bsrc_ops nd_ops = {
	.name = "neardata",
	.fetch = nd_fetch,
	.cancel = nd_cancel,
	.head = nd_head,
	.cancel_head = nd_cancel,
	.free = nd_free,
};
