/* libmicrohttpd on the host loop (see httpd.h).
 *
 * MHD runs in "external" epoll mode: it owns one epoll fd with its sockets
 * (edge-triggered) and never blocks; we watch that fd for readability and
 * call MHD_run, and after every run re-arm one host timer at
 * MHD_get_timeout (connection timeouts, and work MHD left pending, which it
 * reports as a zero timeout). */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "httpd.h"

struct httpd {
	const struct mpci_host_api *api;
	mpci_plugin *self;
	struct MHD_Daemon *d;
	mpci_watch *watch;
	mpci_timer *timer;       /* armed for timer_at */
	double timer_at;
	httpd_handler_fn fn;
	void *ud;
	int loopback;
};

static void run(struct httpd *h);

static void on_timer(void *ud)
{
	struct httpd *h = ud;
	h->api->timer_stop(h->timer); /* one-shot: ended from its own callback */
	h->timer = NULL;
	run(h);
}

static void on_epoll(int fd, int revents, void *ud)
{
	run(ud);
}

static void schedule(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(h->d, &ms) != MHD_YES)
		return; /* nothing timed; a timer already armed fires harmlessly */
	double after = (double)ms / 1000.0, now = h->api->now(h->self);
	if (h->timer && h->timer_at <= now + after)
		return;
	if (h->timer)
		h->api->timer_stop(h->timer);
	h->timer = h->api->timer_start(h->self, after, 0, on_timer, h);
	h->timer_at = now + after;
}

static void run(struct httpd *h)
{
	MHD_run(h->d);
	schedule(h);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct httpd *h = cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = 0;
	/* clients can provoke these at will: keep them out of the normal log */
	h->api->log(h->self, MPCI_LOG_DEBUG, "http: %s", msg);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
			     const char *type, char *body, size_t len,
			     const char *allow)
{
	struct MHD_Response *r;
	if (body)
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(body);
		return MHD_NO; /* MHD closes the connection */
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static char *text(const char *s, size_t *len)
{
	*len = strlen(s);
	char *p = malloc(*len + 1);
	if (p)
		memcpy(p, s, *len + 1);
	return p;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct httpd *h = cls;
	size_t len;
	/* The first call sees the head.  Errors are answered at once (MHD then
	 * closes the connection); a good request is answered on the second
	 * call, once the request is complete, which keeps the connection alive. */
	if (!*con_cls) {
		*con_cls = h;
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
			char *b = text("method not allowed: use GET\n", &len);
			return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				     "text/plain; charset=utf-8", b, len, "GET, HEAD");
		}
		if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						MHD_HTTP_HEADER_CONTENT_LENGTH) ||
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
			char *b = text("a GET request has no body\n", &len);
			return reply(c, MHD_HTTP_BAD_REQUEST, "text/plain; charset=utf-8",
				     b, len, NULL);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* cannot happen without a body; ignore it */
		return MHD_YES;
	}
	struct httpd_reply out = { 0 };
	h->fn(h->ud, url, &out);
	if (!out.body && out.status != 204) {
		out.body = text("out of memory\n", &out.len);
		out.status = MHD_HTTP_SERVICE_UNAVAILABLE;
		out.content_type = "text/plain; charset=utf-8";
	}
	return reply(c, out.status, out.content_type ? out.content_type : "text/plain",
		     out.body, out.len, NULL);
}

/* "HOST:PORT" or "[V6]:PORT", numeric only (no resolver on the loop). */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl,
			char *err, size_t errsz)
{
	char host[128], port[16];
	const char *colon;
	if (!s || !*s)
		goto bad;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(close - s - 1), s + 1);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	}
	if (strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof(port))
		goto bad;
	snprintf(port, sizeof(port), "%s", colon + 1);
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM }, *ai = NULL;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
		goto bad;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sl = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
bad:
	snprintf(err, errsz, "listen = '%s': want ADDRESS:PORT with a numeric address "
		 "(127.0.0.1:9464, [::1]:9464)", s ? s : "");
	return -1;
}

static int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 0;
}

struct httpd *httpd_start(const struct mpci_host_api *api, mpci_plugin *self,
			  const struct httpd_opts *o, httpd_handler_fn fn,
			  void *ud, char *err, size_t errsz)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (parse_listen(o->listen, &ss, &sl, err, errsz) < 0)
		return NULL;
	struct httpd *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	h->api = api;
	h->self = self;
	h->fn = fn;
	h->ud = ud;
	h->loopback = is_loopback(&ss);
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, o->max_connections ? o->max_connections : 64u,
		MHD_OPTION_CONNECTION_TIMEOUT, o->timeout ? o->timeout : 10u,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		o->memory_limit ? o->memory_limit : (size_t)32768,
		MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errsz, "cannot listen on %s (in use, or not an address of this host)",
			 o->listen);
		free(h);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0 ||
	    !(h->watch = api->fd_watch(self, info->epoll_fd, 1, on_epoll, h))) {
		snprintf(err, errsz, "cannot watch the HTTP server's epoll fd");
		MHD_stop_daemon(h->d);
		free(h);
		return NULL;
	}
	schedule(h);
	return h;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	/* unwatch before MHD closes the fd under the loop */
	h->api->fd_unwatch(h->watch);
	if (h->timer)
		h->api->timer_stop(h->timer);
	MHD_stop_daemon(h->d);
	free(h);
}

unsigned httpd_port(const struct httpd *h)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	return info ? info->port : 0;
}

unsigned httpd_connections(const struct httpd *h)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return info ? info->num_connections : 0;
}

int httpd_is_loopback(const struct httpd *h)
{
	return h->loopback;
}
