/* server: the one libmicrohttpd server (a thread per connection, keep-alive), routing to
 * rpc / neardata / admin, and the HTTP-level faults: latency, 5xx, 429, timeouts,
 * connection resets, truncated bodies and invalid JSON. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "nearsim.h"
#include "server.h"

#define MAX_BODY (10u << 20)

struct conn {
	char *body;
	size_t len, cap;
	bool too_big;
};

void reply_json(struct ns_reply *r, int status, char *body, size_t len)
{
	r->status = status;
	r->ctype = "application/json";
	free(r->body);
	r->body = body;
	r->len = body ? len : 0;
}

void reply_text(struct ns_reply *r, int status, const char *ctype, const char *text)
{
	reply_json(r, status, strdup(text), strlen(text));
	r->ctype = ctype;
}

void reply_buf(struct ns_reply *r, int status, struct ns_buf *b)
{
	r->status = status;
	r->ctype = "application/json";
	buf_unref(r->buf);
	r->buf = buf_ref(b);
}

static void free_buf_cb(void *cls)
{
	buf_unref(cls);
}

struct trunc {
	struct ns_buf *b;
	char *owned;
	const char *data;
	size_t send;              /* bytes sent before the connection is cut */
};

static ssize_t trunc_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct trunc *t = cls;
	size_t n;

	if (pos >= t->send)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = t->send - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, t->data + pos, n);
	return (ssize_t)n;
}

static void trunc_free(void *cls)
{
	struct trunc *t = cls;

	buf_unref(t->b);
	free(t->owned);
	free(t);
}

static bool is_loopback(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

static const char *get_arg(void *cls, const char *name)
{
	return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct ns_reply *r, bool truncate)
{
	struct MHD_Response *resp;
	const char *data = r->buf ? r->buf->data : r->body;
	size_t len = r->buf ? r->buf->len : r->len;
	enum MHD_Result ret;

	if (truncate && len > 1) {
		struct trunc *t = calloc(1, sizeof(*t));
		if (!t)
			return MHD_NO;
		t->b = r->buf;
		t->owned = r->body;
		t->data = data;
		t->send = len / 2;
		r->buf = NULL;
		r->body = NULL;
		resp = MHD_create_response_from_callback(len, 64 * 1024, trunc_reader, t, trunc_free);
	} else if (r->buf) {
		resp = MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)data, free_buf_cb, r->buf);
		r->buf = NULL;
	} else {
		if (r->body) {
			resp = MHD_create_response_from_buffer(len, r->body, MHD_RESPMEM_MUST_FREE);
			r->body = NULL;
		} else {
			resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		}
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype ? r->ctype : "application/json");
	if (r->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->cache_control)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache_control);
	if (r->retry_after)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, r->retry_after);
	ret = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void sleep_ms(struct ns_chain *c, unsigned ms)
{
	unsigned slept = 0;

	while (slept < ms && !c->stopping) {
		unsigned step = ms - slept < 50 ? ms - slept : 50;
		usleep(step * 1000);
		slept += step;
	}
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct ns_chain *c = cls;
	struct conn *cn = *con_cls;
	struct ns_reply r = { 0 };
	int kind, fault = F_COUNT;
	unsigned latency = 0;
	enum MHD_Result ret;

	(void)version;
	if (!cn) {
		if (!(cn = calloc(1, sizeof(*cn))))
			return MHD_NO;
		*con_cls = cn;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!cn->too_big && cn->len + *upload_size <= MAX_BODY) {
			if (cn->len + *upload_size + 1 > cn->cap) {
				size_t cap = (cn->len + *upload_size + 1) * 2;
				char *nb = realloc(cn->body, cap);
				if (!nb)
					return MHD_NO;
				cn->body = nb;
				cn->cap = cap;
			}
			memcpy(cn->body + cn->len, upload, *upload_size);
			cn->len += *upload_size;
		} else {
			cn->too_big = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (cn->too_big) {
		reply_text(&r, 413, "text/plain", "request body larger than 10 MiB");
		return send_reply(conn, &r, false);
	}

	if (!strncmp(url, "/admin/", 7)) {
		if (!is_loopback(conn)) {
			reply_text(&r, 403, "text/plain", "the admin endpoint answers loopback clients only");
			return send_reply(conn, &r, false);
		}
		pthread_mutex_lock(&c->mu);
		admin_handle(c, method, url, get_arg, conn, cn->body, cn->len, &r);
		pthread_mutex_unlock(&c->mu);
		return send_reply(conn, &r, false);
	}
	if (!strcmp(url, "/health") || !strncmp(url, "/v0/", 4))
		kind = KIND_NEARDATA;
	else if ((!strcmp(url, "/") && !strcmp(method, "POST")) || !strcmp(url, "/status"))
		kind = KIND_RPC;
	else {
		reply_text(&r, 404, "text/plain", "Not found: POST / for JSON-RPC, GET /v0/... for blocks, /admin/... for control");
		return send_reply(conn, &r, false);
	}

	pthread_mutex_lock(&c->mu);
	latency = c->faults.latency_ms[kind];
	fault = faults_roll(&c->faults, kind);
	pthread_mutex_unlock(&c->mu);
	if (latency)
		sleep_ms(c, latency);
	switch (fault) {
	case F_RESET:
		return MHD_NO; /* MHD closes the socket without an answer */
	case F_5XX:
		reply_text(&r, 503, "text/html", "<html><head><title>503 Service Temporarily Unavailable</title></head>"
			   "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>\n");
		return send_reply(conn, &r, false);
	case F_429:
		reply_text(&r, 429, "text/plain", "Too Many Requests");
		r.retry_after = "1";
		return send_reply(conn, &r, false);
	case F_TIMEOUT:
		if (kind == KIND_RPC) {
			char *id = rpc_request_id(cn->body ? cn->body : "", cn->len);
			char b[256];
			snprintf(b, sizeof(b), "{\"jsonrpc\":\"2.0\",\"error\":{\"name\":\"HANDLER_ERROR\",\"cause\":"
				 "{\"name\":\"TIMEOUT_ERROR\"},\"code\":-32000,\"message\":\"Server error\",\"data\":\"Timeout\"},\"id\":%s}",
				 id ? id : "null");
			free(id);
			reply_json(&r, 408, strdup(b), strlen(b));
		} else {
			sleep_ms(c, c->faults.hang_ms);
			reply_text(&r, 504, "text/plain", "Gateway Timeout");
		}
		return send_reply(conn, &r, false);
	case F_INVALID_JSON:
		reply_text(&r, 200, "application/json", kind == KIND_RPC
			   ? "{\"jsonrpc\":\"2.0\",\"result\":{\"oops\" \"not json\"},\"id\":"
			   : "<html><body>upstream returned garbage</body></html>");
		return send_reply(conn, &r, false);
	default:
		break;
	}
	if (kind == KIND_RPC && strcmp(url, "/status")) {
		rpc_handle(c, cn->body ? cn->body : "", cn->len, &r); /* locks after parsing */
	} else {
		pthread_mutex_lock(&c->mu);
		if (kind == KIND_NEARDATA)
			neardata_handle(c, url, &r);
		else
			rpc_status_get(c, &r);
		pthread_mutex_unlock(&c->mu);
	}
	ret = send_reply(conn, &r, fault == F_TRUNCATE);
	buf_unref(r.buf);
	free(r.body);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (cn) {
		free(cn->body);
		free(cn);
	}
	*con_cls = NULL;
}

struct MHD_Daemon *server_start(struct ns_chain *c, const char *listen, int port, int *bound)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, listen, &sa.sin_addr) != 1) {
		fprintf(stderr, "nearsim: --listen %s is not an IPv4 address\n", listen);
		return NULL;
	}
	/* injected faults make MHD log on purpose: its log only without --quiet */
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD
			     | (c->cfg->quiet ? 0 : MHD_USE_ERROR_LOG),
			     (uint16_t)port, NULL, NULL, handler, c,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
			     MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
			     MHD_OPTION_END);
	if (!d)
		return NULL;
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*bound = di ? (int)di->port : port;
	return d;
}
