/*
 * One HTTP/1.1 exchange with an MPC node's migration endpoint over mutual
 * TLS 1.3 with ed25519 certificates, as the node's crates/tls does it
 * (reference: backup-and-tee.md §2.2): our certificate is an rcgen-style leaf
 * signed by the public dummy CA key; the peer's chain is not validated (the
 * CA key is public, and OpenSSL sees the leaf as self-issued) but its raw
 * ed25519 key must equal the expected one before a byte of HTTP is sent.
 *
 * The host's HTTP client (curl) cannot do this: the ABI offers no way to
 * turn chain and host name checks off while pinning a key, nor to require
 * TLS 1.3.  So the TLS runs here, with OpenSSL on a non-blocking socket
 * driven by the host's fd watches; names are resolved on a short-lived
 * thread that reports back through api->post().
 */
#ifndef BACKUP_MTLS_H
#define BACKUP_MTLS_H

#include <stddef.h>
#include <stdint.h>

#include <mpc-indexer/plugin.h>

struct mtls;
struct mtls_call;

enum mtls_cause {
	MTLS_OK = 0,
	MTLS_RESOLVE,       /* name lookup failed */
	MTLS_CONNECT,       /* TCP connection failed */
	MTLS_HANDSHAKE,     /* TLS handshake failed */
	MTLS_PEER_KEY,      /* the peer's key is not the expected one */
	MTLS_IO,            /* the connection broke during the exchange */
	MTLS_TIMEOUT,
	MTLS_PROTOCOL,      /* not HTTP/1.x, or beyond the size limits */
};
const char *mtls_cause_name(int cause);

struct mtls_request {
	const char *host;
	unsigned port;
	const uint8_t *peer_key;    /* 32 bytes: the expected ed25519 key */
	const char *method;
	const char *path;
	const char *body;           /* copied */
	size_t body_len;
	double timeout;             /* whole exchange, seconds */
	size_t max_body;            /* response body limit */
};

struct mtls_response {
	int cause;                  /* enum mtls_cause */
	const char *error;          /* text when cause != MTLS_OK */
	int status;                 /* HTTP status when cause == MTLS_OK */
	const char *body;           /* NUL-terminated */
	size_t body_len;
};

typedef void (*mtls_done_fn)(const struct mtls_response *r, void *ud);

/* Our identity from the ed25519 seed.  NULL and why on failure. */
struct mtls *mtls_new(const struct mpci_host_api *api, mpci_plugin *self,
		      const uint8_t seed[32], char *err, size_t errsz);
/* Cancel every exchange and release host handles (from stop()). */
void mtls_stop(struct mtls *m);
/* Free everything without calling the host (from fini(), after the host
 * released the plugin's handles); waits for lookups still running. */
void mtls_free(struct mtls *m);
/* Drive timeouts and deferred work: call it from a periodic timer. */
void mtls_tick(struct mtls *m);

/* Start an exchange; cb runs exactly once, later, from the loop, unless
 * mtls_cancel() came first.  NULL only when memory ran out. */
struct mtls_call *mtls_call(struct mtls *m, const struct mtls_request *req,
			    mtls_done_fn cb, void *ud);
void mtls_cancel(struct mtls_call *c);

/* The DER certificate we present for this seed (malloc'd), for tests. */
int mtls_make_cert(const uint8_t seed[32], unsigned char **der, size_t *len);

#endif
