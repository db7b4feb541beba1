/* Mutual-TLS 1.3 HTTP exchanges with MPC migration endpoints (see mtls.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "edkey.h"
#include "mtls.h"

#define MAX_HEADERS 16384
#define CHUNK_SLACK 65536   /* room for chunk framing on top of max_body */

/* crates/tls: the public, hard-coded dummy CA key every MPC peer signs its
 * leaf with (reference §2.2).  Not a secret. */
static const uint8_t dummy_ca_seed[32] = {
	0x69, 0x0c, 0x3d, 0x01, 0x1b, 0xd0, 0x65, 0xf1, 0x80, 0x55, 0xdb, 0x82,
	0x88, 0xcb, 0x79, 0xb9, 0x87, 0x9c, 0x25, 0x29, 0x4b, 0x74, 0x18, 0xa8,
	0x9a, 0xd8, 0x71, 0xfc, 0x85, 0xa8, 0x7b, 0x56,
};
static const char rcgen_cn[] = "rcgen self signed cert";

enum phase { PH_RESOLVE, PH_CONNECT, PH_HANDSHAKE, PH_SEND, PH_RECV };

struct resolve_job {
	struct resolve_job *next;
	struct mtls *m;
	struct mtls_call *call;     /* NULL once the call went away */
	pthread_t thread;
	char host[256];
	char port[8];
	struct addrinfo *res;
	int rc;
};

struct mtls_call {
	struct mtls_call *next;
	struct mtls *m;
	int phase;
	mtls_done_fn cb;
	void *ud;
	char host[256];
	unsigned port;
	uint8_t peer_key[32];
	char *req;
	size_t req_len;
	double deadline;
	size_t max_body;
	struct resolve_job *job;
	struct addrinfo *addrs, *cur;
	int fd;
	mpci_watch *w;
	SSL *ssl;
	char *in;
	size_t in_len, in_cap;
	int failed;                 /* deliver at the next tick */
	int fail_cause;
	char err[640];
};

struct mtls {
	const struct mpci_host_api *api;
	mpci_plugin *self;
	SSL_CTX *ctx;
	struct mtls_call *calls;
	struct resolve_job *jobs;
	mpci_watch **dead;          /* stopped watches, released from the tick */
	size_t n_dead, cap_dead;
};

const char *mtls_cause_name(int cause)
{
	static const char *const names[] = { "ok", "resolve", "connect", "handshake",
					     "peer_key", "io", "timeout", "protocol" };
	return cause >= 0 && cause <= MTLS_PROTOCOL ? names[cause] : "unknown";
}

/* ---- certificates ---- */

static EVP_PKEY *ed25519_from_seed(const uint8_t seed[32])
{
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
}

static X509_NAME *rcgen_name(void)
{
	X509_NAME *n = X509_NAME_new();
	if (n && !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
					     (const unsigned char *)rcgen_cn, -1, -1, 0)) {
		X509_NAME_free(n);
		return NULL;
	}
	return n;
}

/* The leaf crates/tls makes with rcgen 0.13: v3, serial = SHA-256(SPKI)[0..20]
 * with the top bit cleared, issuer = subject = CN=rcgen self signed cert,
 * 1975-01-01 .. 4096-01-01, SAN DNS:dummy only, signed by the dummy CA. */
static X509 *make_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name = rcgen_name();
	EVP_PKEY *ca = ed25519_from_seed(dummy_ca_seed);
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
	unsigned char *spki = NULL, digest[SHA256_DIGEST_LENGTH];
	BIGNUM *bn = NULL;
	int ok = 0;

	if (!x || !name || !ca || !gens || !gn || !dns)
		goto out;
	int spki_len = i2d_PUBKEY(key, &spki);
	if (spki_len <= 0)
		goto out;
	SHA256(spki, (size_t)spki_len, digest);
	digest[0] &= 0x7f;
	bn = BN_bin2bn(digest, 20, NULL);
	ASN1_INTEGER *serial = bn ? BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) : NULL;
	if (!serial || !X509_set_version(x, 2) || !X509_set_issuer_name(x, name) ||
	    !X509_set_subject_name(x, name) ||
	    !ASN1_TIME_set_string_X509(X509_getm_notBefore(x), "19750101000000Z") ||
	    !ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "40960101000000Z") ||
	    !X509_set_pubkey(x, key) || !ASN1_STRING_set(dns, "dummy", 5))
		goto out;
	GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
	dns = NULL;
	if (!sk_GENERAL_NAME_push(gens, gn))
		goto out;
	gn = NULL;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1 ||
	    X509_sign(x, ca, NULL) <= 0)
		goto out;
	ok = 1;
out:
	OPENSSL_free(spki);
	BN_free(bn);
	ASN1_IA5STRING_free(dns);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	EVP_PKEY_free(ca);
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int mtls_make_cert(const uint8_t seed[32], unsigned char **der, size_t *len)
{
	EVP_PKEY *k = ed25519_from_seed(seed);
	X509 *x = k ? make_cert(k) : NULL;
	unsigned char *p = NULL;
	int n = x ? i2d_X509(x, &p) : -1;
	X509_free(x);
	EVP_PKEY_free(k);
	if (n <= 0)
		return -1;
	*der = malloc((size_t)n);
	if (*der)
		memcpy(*der, p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	return *der ? 0 : -1;
}

/* The chain is not what authenticates a peer (the CA key is public and the
 * leaf looks self-issued to OpenSSL): its raw key is, checked after the
 * handshake.  This callback only keeps the handshake going. */
static int accept_chain(int preverify_ok, X509_STORE_CTX *ctx)
{
	return 1;
}

static const char *ssl_error_text(char *buf, size_t n)
{
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, n);
	else
		snprintf(buf, n, "%s", errno ? strerror(errno) : "connection closed");
	ERR_clear_error();
	return buf;
}

struct mtls *mtls_new(const struct mpci_host_api *api, mpci_plugin *self,
		      const uint8_t seed[32], char *err, size_t errsz)
{
	struct mtls *m = calloc(1, sizeof(*m));
	EVP_PKEY *key = ed25519_from_seed(seed);
	X509 *cert = key ? make_cert(key) : NULL;
	char e[200];
	if (!m || !cert)
		goto fail;
	m->api = api;
	m->self = self;
	m->ctx = SSL_CTX_new(TLS_client_method());
	if (!m->ctx || !SSL_CTX_set_min_proto_version(m->ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(m->ctx, TLS1_3_VERSION) ||
	    SSL_CTX_use_certificate(m->ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(m->ctx, key) != 1 || SSL_CTX_check_private_key(m->ctx) != 1)
		goto fail;
	SSL_CTX_set_verify(m->ctx, SSL_VERIFY_PEER, accept_chain);
	SSL_CTX_set_options(m->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(m->ctx, SSL_SESS_CACHE_OFF);
	X509_free(cert);
	EVP_PKEY_free(key);
	return m;
fail:
	snprintf(err, errsz, "cannot set up TLS: %s", ssl_error_text(e, sizeof(e)));
	X509_free(cert);
	EVP_PKEY_free(key);
	if (m)
		SSL_CTX_free(m->ctx);
	free(m);
	return NULL;
}

/* ---- call bookkeeping ---- */

static void bury(struct mtls *m, mpci_watch *w)
{
	if (!w)
		return;
	m->api->fd_watch_set(w, 0);
	if (m->n_dead == m->cap_dead) {
		size_t cap = m->cap_dead ? 2 * m->cap_dead : 8;
		mpci_watch **d = realloc(m->dead, cap * sizeof(*d));
		if (!d)
			return;     /* stays registered until unload: harmless */
		m->dead = d;
		m->cap_dead = cap;
	}
	m->dead[m->n_dead++] = w;
}

static void reap(struct mtls *m)
{
	for (size_t i = 0; i < m->n_dead; i++)
		m->api->fd_unwatch(m->dead[i]);
	m->n_dead = 0;
}

static void unlink_call(struct mtls_call *c)
{
	for (struct mtls_call **it = &c->m->calls; *it; it = &(*it)->next)
		if (*it == c) {
			*it = c->next;
			return;
		}
}

/* Close the connection; host calls allowed unless `quiet` (fini). */
static void close_conn(struct mtls_call *c, int quiet)
{
	if (c->w && !quiet)
		bury(c->m, c->w);
	c->w = NULL;
	if (c->ssl)
		SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static void free_call(struct mtls_call *c)
{
	if (c->job)
		c->job->call = NULL;
	if (c->addrs)
		freeaddrinfo(c->addrs);
	free(c->req);
	free(c->in);
	free(c);
}

static void finish(struct mtls_call *c, int cause, const char *body, size_t body_len,
		   int status)
{
	struct mtls_response r = { .cause = cause, .status = status,
				   .body = body ? body : "", .body_len = body_len,
				   .error = cause == MTLS_OK ? NULL : c->err };
	unlink_call(c);
	close_conn(c, 0);
	c->cb(&r, c->ud);
	free_call(c);
}

static void fail_call(struct mtls_call *c, int cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail_call(struct mtls_call *c, int cause, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	finish(c, cause, NULL, 0, 0);
}

/* A failure found where the callback must not run yet: deliver at the tick. */
static void defer_failure(struct mtls_call *c, int cause)
{
	close_conn(c, 0);
	c->failed = 1;
	c->fail_cause = cause;
}

/* ---- connecting ---- */

static void on_io(int fd, int revents, void *ud);

static const char *addr_text(const struct addrinfo *a, char *buf, size_t n)
{
	char h[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (a->ai_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)a->ai_addr;
		inet_ntop(AF_INET, &s->sin_addr, h, sizeof(h));
		port = ntohs(s->sin_port);
		snprintf(buf, n, "%s:%u", h, port);
	} else if (a->ai_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)a->ai_addr;
		inet_ntop(AF_INET6, &s->sin6_addr, h, sizeof(h));
		port = ntohs(s->sin6_port);
		snprintf(buf, n, "[%s]:%u", h, port);
	} else {
		snprintf(buf, n, "?");
	}
	return buf;
}

/* Try c->cur and the addresses after it; 0 when one is in progress. */
static int start_connect(struct mtls_call *c)
{
	char at[80];
	for (; c->cur; c->cur = c->cur->ai_next) {
		int fd = socket(c->cur->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(c->err, sizeof(c->err), "connecting to %s: %s",
				 addr_text(c->cur, at, sizeof(at)), strerror(errno));
			continue;
		}
		if (connect(fd, c->cur->ai_addr, c->cur->ai_addrlen) < 0 && errno != EINPROGRESS) {
			snprintf(c->err, sizeof(c->err), "connecting to %s: %s",
				 addr_text(c->cur, at, sizeof(at)), strerror(errno));
			close(fd);
			continue;
		}
		c->fd = fd;
		c->phase = PH_CONNECT;
		if (c->w)
			bury(c->m, c->w);
		c->w = c->m->api->fd_watch(c->m->self, fd, 2, on_io, c);
		if (!c->w) {
			snprintf(c->err, sizeof(c->err), "cannot watch a socket (out of memory)");
			close(fd);
			c->fd = -1;
			return -1;
		}
		return 0;
	}
	return -1;
}

/* ---- the peer's key ---- */

static int check_peer(struct mtls_call *c)
{
	X509 *cert = SSL_get0_peer_certificate(c->ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c->ssl);
	uint8_t got[32];
	size_t len = sizeof(got);
	char want_s[EDKEY_TEXT], got_s[EDKEY_TEXT];

	if (!cert) {
		snprintf(c->err, sizeof(c->err), "%s:%u presented no certificate", c->host, c->port);
		return -1;
	}
	if (chain && sk_X509_num(chain) != 1) {
		snprintf(c->err, sizeof(c->err), "%s:%u presented %d certificates; exactly one is expected",
			 c->host, c->port, sk_X509_num(chain));
		return -1;
	}
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	if (!pk || EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(pk, got, &len) != 1 || len != 32) {
		snprintf(c->err, sizeof(c->err), "%s:%u presented a certificate without a raw ed25519 key",
			 c->host, c->port);
		return -1;
	}
	if (memcmp(got, c->peer_key, 32) != 0) {
		snprintf(c->err, sizeof(c->err),
			 "%s:%u presented key %s, but the contract expects %s; refusing to talk to it",
			 c->host, c->port, edkey_format_public(got, got_s),
			 edkey_format_public(c->peer_key, want_s));
		return -1;
	}
	return 0;
}

/* ---- the HTTP response ---- */

static const char *find_crlf2(const char *p, size_t n)
{
	for (size_t i = 0; i + 3 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
			return p + i;
	return NULL;
}

struct head {
	int status;
	size_t hdr_len;
	long long content_length;   /* -1: none */
	int chunked;
};

/* 1: headers parsed; 0: need more; -1: malformed (c->err). */
static int parse_head(struct mtls_call *c, struct head *h)
{
	const char *e = find_crlf2(c->in, c->in_len);
	if (!e) {
		if (c->in_len > MAX_HEADERS) {
			snprintf(c->err, sizeof(c->err), "response headers exceed %d bytes", MAX_HEADERS);
			return -1;
		}
		return 0;
	}
	h->hdr_len = (size_t)(e - c->in) + 4;
	h->content_length = -1;
	h->chunked = 0;
	if (h->hdr_len > MAX_HEADERS) {
		snprintf(c->err, sizeof(c->err), "response headers exceed %d bytes", MAX_HEADERS);
		return -1;
	}
	if (c->in_len < 12 || strncmp(c->in, "HTTP/1.", 7) != 0 || c->in[8] != ' ' ||
	    !isdigit((unsigned char)c->in[9]) || !isdigit((unsigned char)c->in[10]) ||
	    !isdigit((unsigned char)c->in[11])) {
		snprintf(c->err, sizeof(c->err), "the peer did not answer with HTTP/1.x");
		return -1;
	}
	h->status = (c->in[9] - '0') * 100 + (c->in[10] - '0') * 10 + (c->in[11] - '0');
	const char *line = memchr(c->in, '\n', h->hdr_len);
	while (line && (size_t)(line + 1 - c->in) < h->hdr_len - 2) {
		line++;
		const char *eol = memchr(line, '\n', (size_t)(c->in + h->hdr_len - line));
		if (!eol)
			break;
		size_t l = (size_t)(eol - line);
		if (l >= 15 && strncasecmp(line, "content-length:", 15) == 0) {
			const char *v = line + 15;
			while (*v == ' ' || *v == '\t')
				v++;
			long long n = 0;
			int digits = 0;
			for (; isdigit((unsigned char)*v) && n < (1LL << 40); v++, digits++)
				n = n * 10 + (*v - '0');
			if (!digits || (*v != '\r' && *v != ' ' && *v != '\t')) {
				snprintf(c->err, sizeof(c->err), "bad Content-Length in the response");
				return -1;
			}
			h->content_length = n;
		} else if (l >= 18 && strncasecmp(line, "transfer-encoding:", 18) == 0) {
			if (memmem(line, l, "chunked", 7))
				h->chunked = 1;
		}
		line = eol;
	}
	if (h->content_length > (long long)c->max_body) {
		snprintf(c->err, sizeof(c->err), "response body of %lld bytes exceeds the %zu allowed",
			 h->content_length, c->max_body);
		return -1;
	}
	return 1;
}

/* Decode a complete chunked body into *out; 1 done, 0 need more, -1 bad. */
static int dechunk(struct mtls_call *c, const struct head *h, char **out, size_t *out_len)
{
	const char *p = c->in + h->hdr_len, *end = c->in + c->in_len;
	size_t total = 0;
	char *buf = malloc(c->max_body + 1);
	if (!buf) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		return -1;
	}
	for (;;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol) {
			free(buf);
			return 0;
		}
		/* The size line by hand: strtoull would skip newlines past the
		 * line (and past the bytes received: c->in is not terminated)
		 * and take signs and "0x". */
		size_t n = 0;
		const char *q = p;
		for (; q < eol && isxdigit((unsigned char)*q) && n <= c->max_body; q++)
			n = n * 16 + (size_t)(isdigit((unsigned char)*q) ? *q - '0' :
					      (*q | 0x20) - 'a' + 10);
		if (q == p || n > c->max_body ||
		    (q < eol && *q != ';' && *q != ' ' && *q != '\t' && *q != '\r')) {
			free(buf);
			snprintf(c->err, sizeof(c->err), "bad chunk in the response");
			return -1;
		}
		p = eol + 1;
		if (n == 0) {
			*out = buf;
			*out_len = total;
			buf[total] = 0;
			return 1;
		}
		if ((size_t)(end - p) < n + 2) {
			free(buf);
			return 0;
		}
		if (total + n > c->max_body) {
			free(buf);
			snprintf(c->err, sizeof(c->err), "response body exceeds the %zu bytes allowed",
				 c->max_body);
			return -1;
		}
		if (p[n] != '\r' || p[n + 1] != '\n') {
			free(buf);
			snprintf(c->err, sizeof(c->err), "bad chunk in the response (no CRLF after its data)");
			return -1;
		}
		memcpy(buf + total, p, n);
		total += n;
		p += n + 2;
	}
}

/* After new bytes (or EOF): finish the call when the response is complete. */
static int try_complete(struct mtls_call *c, int eof)
{
	struct head h;
	int r = parse_head(c, &h);
	if (r < 0) {
		finish(c, MTLS_PROTOCOL, NULL, 0, 0);
		return 1;
	}
	if (r == 0) {
		if (!eof)
			return 0;
		if (c->in_len == 0)
			snprintf(c->err, sizeof(c->err),
				 "%s:%u closed the connection without answering (does it know this backup service's key?)",
				 c->host, c->port);
		else
			snprintf(c->err, sizeof(c->err), "%s:%u closed the connection in the middle of the headers",
				 c->host, c->port);
		finish(c, MTLS_IO, NULL, 0, 0);
		return 1;
	}
	size_t have = c->in_len - h.hdr_len;
	if (h.chunked) {
		char *body;
		size_t len;
		/* decode once the last chunk is in (or at EOF), not after every read */
		if (!eof && (have < 5 || memcmp(c->in + c->in_len - 5, "0\r\n\r\n", 5) != 0))
			return 0;
		int d = dechunk(c, &h, &body, &len);
		if (d < 0) {
			finish(c, MTLS_PROTOCOL, NULL, 0, 0);
			return 1;
		}
		if (d == 0 && !eof)
			return 0;
		if (d == 0) {
			snprintf(c->err, sizeof(c->err), "truncated chunked response");
			finish(c, MTLS_IO, NULL, 0, 0);
			return 1;
		}
		finish(c, MTLS_OK, body, len, h.status);
		free(body);
		return 1;
	}
	if (h.content_length >= 0) {
		if (have < (size_t)h.content_length) {
			if (!eof)
				return 0;
			snprintf(c->err, sizeof(c->err), "response truncated after %zu of %lld bytes",
				 have, h.content_length);
			finish(c, MTLS_IO, NULL, 0, 0);
			return 1;
		}
		c->in[h.hdr_len + (size_t)h.content_length] = 0;
		finish(c, MTLS_OK, c->in + h.hdr_len, (size_t)h.content_length, h.status);
		return 1;
	}
	if (have > c->max_body) {
		snprintf(c->err, sizeof(c->err), "response body exceeds the %zu bytes allowed",
			 c->max_body);
		finish(c, MTLS_PROTOCOL, NULL, 0, 0);
		return 1;
	}
	if (!eof)
		return 0;
	c->in[c->in_len] = 0;
	finish(c, MTLS_OK, c->in + h.hdr_len, have, h.status);
	return 1;
}

/* ---- the state machine ---- */

static int want(struct mtls_call *c, int rc, const char *what)
{
	char e[200];
	int err = SSL_get_error(c->ssl, rc);
	if (err == SSL_ERROR_WANT_READ) {
		c->m->api->fd_watch_set(c->w, 1);
		return 0;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		c->m->api->fd_watch_set(c->w, 2);
		return 0;
	}
	int cause = c->phase == PH_HANDSHAKE ? MTLS_HANDSHAKE : MTLS_IO;
	fail_call(c, cause, "%s %s:%u: %s", what, c->host, c->port, ssl_error_text(e, sizeof(e)));
	return -1;
}

static void step(struct mtls_call *c)
{
	char e[200];
	int rc;
	switch (c->phase) {
	case PH_HANDSHAKE:
		ERR_clear_error();
		rc = SSL_connect(c->ssl);
		if (rc != 1) {
			want(c, rc, "TLS handshake with");
			return;
		}
		if (check_peer(c) < 0) {
			finish(c, MTLS_PEER_KEY, NULL, 0, 0);
			return;
		}
		c->phase = PH_SEND;
		/* fall through */
	case PH_SEND:
		ERR_clear_error();
		rc = SSL_write(c->ssl, c->req, (int)c->req_len);
		if (rc <= 0) {
			want(c, rc, "sending to");
			return;
		}
		c->phase = PH_RECV;
		c->m->api->fd_watch_set(c->w, 1);
		/* fall through */
	case PH_RECV:
		for (;;) {
			size_t limit = MAX_HEADERS + c->max_body + CHUNK_SLACK;
			if (c->in_cap - c->in_len < 16384 + 1) {
				size_t cap = c->in_cap ? c->in_cap * 2 : 32768;
				if (cap > limit + 1)
					cap = limit + 1;
				if (cap <= c->in_len + 1) {
					snprintf(c->err, sizeof(c->err),
						 "response exceeds the %zu bytes allowed", c->max_body);
					finish(c, MTLS_PROTOCOL, NULL, 0, 0);
					return;
				}
				char *n = realloc(c->in, cap);
				if (!n) {
					snprintf(c->err, sizeof(c->err), "out of memory");
					finish(c, MTLS_IO, NULL, 0, 0);
					return;
				}
				c->in = n;
				c->in_cap = cap;
			}
			ERR_clear_error();
			size_t room = c->in_cap - c->in_len - 1;
			rc = SSL_read(c->ssl, c->in + c->in_len, (int)(room > 65536 ? 65536 : room));
			if (rc > 0) {
				c->in_len += (size_t)rc;
				if (try_complete(c, 0))
					return;
				continue;
			}
			int err = SSL_get_error(c->ssl, rc);
			if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
				c->m->api->fd_watch_set(c->w, err == SSL_ERROR_WANT_READ ? 1 : 2);
				return;
			}
			if (err == SSL_ERROR_ZERO_RETURN ||
			    (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
				ERR_clear_error();
				try_complete(c, 1);
				return;
			}
			fail_call(c, MTLS_IO, "reading from %s:%u: %s", c->host, c->port,
				  ssl_error_text(e, sizeof(e)));
			return;
		}
	default:
		return;
	}
}

static void on_io(int fd, int revents, void *ud)
{
	struct mtls_call *c = ud;
	if (c->phase == PH_CONNECT) {
		int soerr = 0;
		socklen_t l = sizeof(soerr);
		char at[80];
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l) < 0)
			soerr = errno;
		if (soerr == EINPROGRESS || soerr == EALREADY)
			return;
		if (soerr) {
			snprintf(c->err, sizeof(c->err), "connecting to %s: %s",
				 addr_text(c->cur, at, sizeof(at)), strerror(soerr));
			close_conn(c, 0);
			c->cur = c->cur->ai_next;
			if (start_connect(c) < 0)
				finish(c, MTLS_CONNECT, NULL, 0, 0);
			return;
		}
		c->ssl = SSL_new(c->m->ctx);
		if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1 ||
		    SSL_set_tlsext_host_name(c->ssl, "dummy") != 1) {
			char e[200];
			fail_call(c, MTLS_HANDSHAKE, "cannot start TLS: %s", ssl_error_text(e, sizeof(e)));
			return;
		}
		SSL_set_connect_state(c->ssl);
		c->phase = PH_HANDSHAKE;
	}
	step(c);
}

/* ---- name resolution ---- */

static void resolved(void *ud)
{
	struct resolve_job *j = ud;
	struct mtls *m = j->m;
	pthread_join(j->thread, NULL);
	for (struct resolve_job **it = &m->jobs; *it; it = &(*it)->next)
		if (*it == j) {
			*it = j->next;
			break;
		}
	struct mtls_call *c = j->call;
	if (!c) {
		if (j->res)
			freeaddrinfo(j->res);
		free(j);
		return;
	}
	c->job = NULL;
	if (j->rc != 0) {
		snprintf(c->err, sizeof(c->err), "cannot resolve %s: %s", j->host, gai_strerror(j->rc));
		free(j);
		finish(c, MTLS_RESOLVE, NULL, 0, 0);
		return;
	}
	c->addrs = c->cur = j->res;
	free(j);
	if (start_connect(c) < 0)
		finish(c, MTLS_CONNECT, NULL, 0, 0);
}

static void *resolve_main(void *arg)
{
	struct resolve_job *j = arg;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	j->rc = getaddrinfo(j->host, j->port, &hints, &j->res);
	if (j->m->api->post(j->m->self, resolved, j) != MPCI_OK) {
		/* left for mtls_free(); the call times out meanwhile */
	}
	return NULL;
}

static int start_resolve(struct mtls_call *c)
{
	struct resolve_job *j = calloc(1, sizeof(*j));
	sigset_t all, old;
	if (!j)
		return -1;
	j->m = c->m;
	j->call = c;
	snprintf(j->host, sizeof(j->host), "%s", c->host);
	snprintf(j->port, sizeof(j->port), "%u", c->port);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&j->thread, NULL, resolve_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		free(j);
		return -1;
	}
	j->next = c->m->jobs;
	c->m->jobs = j;
	c->job = j;
	return 0;
}

/* ---- public ---- */

struct mtls_call *mtls_call(struct mtls *m, const struct mtls_request *req,
			    mtls_done_fn cb, void *ud)
{
	struct mtls_call *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->m = m;
	c->cb = cb;
	c->ud = ud;
	c->fd = -1;
	c->port = req->port;
	c->max_body = req->max_body ? req->max_body : (16u << 20);
	c->deadline = m->api->now(m->self) + (req->timeout > 0 ? req->timeout : 30);
	snprintf(c->host, sizeof(c->host), "%s", req->host ? req->host : "");
	memcpy(c->peer_key, req->peer_key, 32);
	char head[512];
	int hl = snprintf(head, sizeof(head),
			  "%s %s HTTP/1.1\r\nHost: dummy\r\nContent-Type: application/json\r\n"
			  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			  req->method ? req->method : "GET", req->path ? req->path : "/",
			  req->body_len);
	if (hl < 0 || (size_t)hl >= sizeof(head) || !(c->req = malloc((size_t)hl + req->body_len + 1))) {
		free(c);
		return NULL;
	}
	memcpy(c->req, head, (size_t)hl);
	if (req->body_len)
		memcpy(c->req + hl, req->body, req->body_len);
	c->req_len = (size_t)hl + req->body_len;
	c->next = m->calls;
	m->calls = c;

	/* a literal address needs no lookup */
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	char port[8];
	snprintf(port, sizeof(port), "%u", c->port);
	if (!*c->host || c->port == 0 || c->port > 65535) {
		snprintf(c->err, sizeof(c->err), "no host or port for the migration endpoint");
		defer_failure(c, MTLS_CONNECT);
	} else if (getaddrinfo(c->host, port, &hints, &c->addrs) == 0) {
		c->cur = c->addrs;
		if (start_connect(c) < 0)
			defer_failure(c, MTLS_CONNECT);
	} else {
		c->addrs = NULL;
		c->phase = PH_RESOLVE;
		if (start_resolve(c) < 0) {
			snprintf(c->err, sizeof(c->err), "cannot start a lookup of %s", c->host);
			defer_failure(c, MTLS_RESOLVE);
		}
	}
	return c;
}

void mtls_cancel(struct mtls_call *c)
{
	if (!c)
		return;
	unlink_call(c);
	close_conn(c, 0);
	free_call(c);
}

void mtls_tick(struct mtls *m)
{
	double now = m->api->now(m->self);
	for (;;) {
		struct mtls_call *c;
		for (c = m->calls; c; c = c->next)
			if (c->failed || now >= c->deadline)
				break;
		if (!c)
			break;
		if (c->failed) {
			finish(c, c->fail_cause, NULL, 0, 0);
		} else {
			static const char *const what[] = { "resolving", "connecting to",
							    "in the TLS handshake with",
							    "sending to", "waiting for" };
			fail_call(c, MTLS_TIMEOUT, "timed out %s %s:%u", what[c->phase],
				  c->host, c->port);
		}
	}
	reap(m);
}

void mtls_stop(struct mtls *m)
{
	if (!m)
		return;
	while (m->calls)
		mtls_cancel(m->calls);
	reap(m);
}

void mtls_free(struct mtls *m)
{
	if (!m)
		return;
	while (m->calls) {
		struct mtls_call *c = m->calls;
		m->calls = c->next;
		close_conn(c, 1);
		free_call(c);
	}
	while (m->jobs) {
		struct resolve_job *j = m->jobs;
		m->jobs = j->next;
		pthread_join(j->thread, NULL);
		if (j->res)
			freeaddrinfo(j->res);
		free(j);
	}
	free(m->dead);
	SSL_CTX_free(m->ctx);
	free(m);
}
