/* A small HTTP server (libmicrohttpd) driven by the host's loop: MHD runs
 * without threads of its own, in epoll mode; its epoll fd is watched with
 * fd_watch and its timeouts with a host timer.  Connections, idle time and
 * per-connection memory are bounded. */
#ifndef PROM_HTTPD_H
#define PROM_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "mpc-indexer/plugin.h"

struct httpd;

/* What a handler answers.  body is malloc'd and passes to the server. */
struct httpd_reply {
	unsigned status;
	const char *content_type;
	char *body;
	size_t len;
};

/* Called for GET and HEAD; other methods are answered 405 before this. */
typedef void (*httpd_handler_fn)(void *ud, const char *path, struct httpd_reply *out);

struct httpd_opts {
	const char *listen;        /* "127.0.0.1:9464", "[::1]:9464"; port 0 = any */
	unsigned max_connections;  /* 0 = 64 */
	unsigned timeout;          /* idle seconds before a connection is closed; 0 = 10 */
	size_t memory_limit;       /* per connection (request head); 0 = 32 KiB */
};

struct httpd *httpd_start(const struct mpci_host_api *api, mpci_plugin *self,
			  const struct httpd_opts *o, httpd_handler_fn fn,
			  void *ud, char *err, size_t errsz);
/* Close every connection and the socket; no callbacks after this. */
void httpd_stop(struct httpd *h);
/* The bound port (useful with port 0). */
unsigned httpd_port(const struct httpd *h);
unsigned httpd_connections(const struct httpd *h);
/* 1 when the address is loopback. */
int httpd_is_loopback(const struct httpd *h);

#endif
