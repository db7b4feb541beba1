/*
 * mpcnode_fake: the migration endpoint of an MPC node, for tests.
 *
 * Real TLS 1.3 with an ed25519 certificate made as the node's crates/tls
 * makes it (an rcgen-style leaf, CN=rcgen self signed cert, SAN dummy, signed
 * by the public dummy CA key); the client must present a certificate whose
 * raw ed25519 key equals --expect-client-key, or the connection is dropped
 * after the handshake, as the node does.  HTTP/1.1, one request per
 * connection:
 *   GET /hello            200 "Hello, world!"
 *   GET /get_keyshares    body: a Keyset.  Serves DIR/epoch_<N>.json (a JSON
 *                         Vec<Keyshare>) when it holds every domain of the
 *                         keyset with the same attempt, else 500.
 *                         base64(nonce12 || AES-256-GCM || tag16).
 *   PUT /set_keyshares    the same format; decrypted and checked, then written
 *                         to RECEIVED/put-<k>.json; 200 "Keyshares received."
 *                         or 400 "Invalid Json or encryption: ...".
 * --mode corrupt flips one byte of every encrypted answer; --mode chunked
 * answers with Transfer-Encoding: chunked.
 * --log FILE gets one line per connection.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "near/base58.h"

static const char dummy_ca_seed_hex[] =
	"690c3d011bd065f18055db8288cb79b9879c25294b7418a89ad871fc85a87b56";

static struct {
	uint8_t seed[32];
	uint8_t expect[32];
	uint8_t tkey[32];
	const char *keyshares_dir, *received_dir, *log_path;
	int corrupt, chunked;
	unsigned puts;
} F;

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	va_list ap;
	FILE *f = F.log_path ? fopen(F.log_path, "a") : stderr;
	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	if (f != stderr)
		fclose(f);
	else
		fflush(f);
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* "ed25519:<base58>" or 64 hex digits */
static int parse_key(const char *s, uint8_t out[32])
{
	size_t n;
	if (strncmp(s, "ed25519:", 8) == 0)
		return b58_decode(out, 32, s + 8, strlen(s + 8), &n) == 0 && n == 32 ? 0 : -1;
	return unhex(s, out, 32);
}

/* ---- certificate, written independently of the plugin's ---- */

static X509 *make_leaf(EVP_PKEY *key, EVP_PKEY *ca)
{
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();
	unsigned char *spki = NULL, h[32];
	X509_NAME_add_entry_by_NID(nm, NID_commonName, V_ASN1_UTF8STRING,
				   (const unsigned char *)"rcgen self signed cert", -1, -1, 0);
	int l = i2d_PUBKEY(key, &spki);
	SHA256(spki, (size_t)l, h);
	OPENSSL_free(spki);
	h[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(h, 20, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_set_issuer_name(x, nm);
	X509_set_subject_name(x, nm);
	ASN1_TIME_set_string_X509(X509_getm_notBefore(x), "19750101000000Z");
	ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "40960101000000Z");
	X509_set_pubkey(x, key);
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "DNS:dummy");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, ca, NULL);
	X509_NAME_free(nm);
	return x;
}

/* Any chain: the key is what authenticates, checked after the handshake. */
static int accept_any(int ok, X509_STORE_CTX *ctx)
{
	return 1;
}

static SSL_CTX *make_ctx(void)
{
	uint8_t ca_seed[32];
	unhex(dummy_ca_seed_hex, ca_seed, 32);
	EVP_PKEY *ca = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, ca_seed, 32);
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, F.seed, 32);
	X509 *leaf = make_leaf(key, ca);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate(ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
		ERR_print_errors_fp(stderr);
		exit(1);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
	SSL_CTX_set_num_tickets(ctx, 0);
	X509_free(leaf);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca);
	return ctx;
}

/* ---- transport encryption ---- */

static char *seal(const char *pt, size_t n)
{
	size_t bl = 12 + n + 16;
	unsigned char *bin = malloc(bl);
	int l = 0;
	RAND_bytes(bin, 12);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, F.tkey, bin);
	EVP_EncryptUpdate(c, bin + 12, &l, (const unsigned char *)pt, (int)n);
	EVP_EncryptFinal_ex(c, bin + 12 + l, &l);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, bin + 12 + n);
	EVP_CIPHER_CTX_free(c);
	if (F.corrupt)
		bin[12 + n / 2] ^= 0x20;
	char *b64 = malloc(4 * ((bl + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, bin, (int)bl);
	free(bin);
	return b64;
}

/* NULL and why on failure */
static char *open_body(const char *b64, size_t n, size_t *pt_len, const char **why)
{
	while (n && isspace((unsigned char)b64[n - 1]))
		n--;
	if (n == 0 || n % 4) {
		*why = "bad base64";
		return NULL;
	}
	unsigned char *bin = malloc(n);
	int bl = EVP_DecodeBlock(bin, (const unsigned char *)b64, (int)n);
	if (bl < 0) {
		free(bin);
		*why = "bad base64";
		return NULL;
	}
	bl -= (n >= 1 && b64[n - 1] == '=') + (n >= 2 && b64[n - 2] == '=');
	if (bl < 28) {
		free(bin);
		*why = "too short";
		return NULL;
	}
	size_t ct = (size_t)bl - 28;
	char *pt = malloc(ct + 1);
	int l = 0, ok;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, F.tkey, bin) == 1 &&
	     EVP_DecryptUpdate(c, (unsigned char *)pt, &l, bin + 12, (int)ct) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, bin + 12 + ct) == 1 &&
	     EVP_DecryptFinal_ex(c, (unsigned char *)pt + l, &l) == 1;
	EVP_CIPHER_CTX_free(c);
	free(bin);
	if (!ok) {
		free(pt);
		*why = "aead::Error";
		return NULL;
	}
	pt[ct] = 0;
	*pt_len = ct;
	return pt;
}

/* ---- HTTP ---- */

static void reply(SSL *ssl, int status, const char *ctype, const char *body)
{
	const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" :
			     status == 404 ? "Not Found" : "Internal Server Error";
	char head[256];
	if (F.chunked) {
		int hl = snprintf(head, sizeof(head),
				  "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ntransfer-encoding: chunked\r\n\r\n",
				  status, reason, ctype);
		SSL_write(ssl, head, hl);
		for (size_t off = 0, n = strlen(body); off < n; off += 100) {
			size_t k = n - off < 100 ? n - off : 100;
			hl = snprintf(head, sizeof(head), "%zx\r\n", k);
			SSL_write(ssl, head, hl);
			SSL_write(ssl, body + off, (int)k);
			SSL_write(ssl, "\r\n", 2);
		}
		SSL_write(ssl, "0\r\n\r\n", 5);
		return;
	}
	int hl = snprintf(head, sizeof(head),
			  "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %zu\r\nconnection: close\r\n\r\n",
			  status, reason, ctype, strlen(body));
	SSL_write(ssl, head, hl);
	if (*body)
		SSL_write(ssl, body, (int)strlen(body));
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *s = malloc((size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	s[n] = 0;
	fclose(f);
	return s;
}

static int number_eq(const cJSON *o, const char *k, double v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(x) && x->valuedouble == v;
}

static void get_keyshares(SSL *ssl, const char *body)
{
	cJSON *ks = cJSON_Parse(body), *d;
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(ks, "epoch_id");
	const cJSON *doms = cJSON_GetObjectItemCaseSensitive(ks, "domains");
	if (!cJSON_IsNumber(ep) || !cJSON_IsArray(doms)) {
		logline("GET /get_keyshares: invalid keyset -> 400");
		reply(ssl, 400, "text/plain", "Invalid keyset: missing field");
		cJSON_Delete(ks);
		return;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/epoch_%.0f.json", F.keyshares_dir ? F.keyshares_dir : ".",
		 ep->valuedouble);
	char *text = read_file(path);
	cJSON *held = text ? cJSON_Parse(text) : NULL;
	int ok = cJSON_IsArray(held);
	cJSON_ArrayForEach(d, doms) {
		const cJSON *dom = cJSON_GetObjectItemCaseSensitive(d, "domain_id");
		const cJSON *att = cJSON_GetObjectItemCaseSensitive(d, "attempt");
		int found = 0;
		const cJSON *h;
		cJSON_ArrayForEach(h, held) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(h, "key_id");
			if (cJSON_IsNumber(dom) && cJSON_IsNumber(att) &&
			    number_eq(id, "epoch_id", ep->valuedouble) &&
			    number_eq(id, "domain_id", dom->valuedouble) &&
			    number_eq(id, "attempt_id", att->valuedouble))
				found = 1;
		}
		ok = ok && found;
	}
	if (!ok) {
		logline("GET /get_keyshares epoch %.0f: not held -> 500", ep->valuedouble);
		reply(ssl, 500, "text/plain", "Failed to get keyshares");
	} else {
		char *b64 = seal(text, strlen(text));
		logline("GET /get_keyshares epoch %.0f -> 200%s", ep->valuedouble,
			F.corrupt ? " (corrupted)" : "");
		reply(ssl, 200, "application/json", b64);
		free(b64);
	}
	cJSON_Delete(held);
	cJSON_Delete(ks);
	free(text);
}

static void set_keyshares(SSL *ssl, const char *body, size_t n)
{
	const char *why = NULL;
	size_t pl;
	char *pt = open_body(body, n, &pl, &why);
	cJSON *arr = pt ? cJSON_Parse(pt) : NULL;
	if (!pt || !cJSON_IsArray(arr)) {
		char msg[200];
		snprintf(msg, sizeof(msg), "Invalid Json or encryption: %s", why ? why : "not a JSON array");
		logline("PUT /set_keyshares: %s -> 400", msg);
		reply(ssl, 400, "text/plain", msg);
		cJSON_Delete(arr);
		free(pt);
		return;
	}
	char path[4096], tmp[4200];
	unsigned k = ++F.puts;
	if (F.received_dir) {
		snprintf(path, sizeof(path), "%s/put-%u.json", F.received_dir, k);
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		FILE *f = fopen(tmp, "w");
		if (f) {
			fwrite(pt, 1, pl, f);
			fclose(f);
			rename(tmp, path);
		}
	}
	logline("PUT /set_keyshares #%u: %d keyshares -> 200", k, cJSON_GetArraySize(arr));
	reply(ssl, 200, "text/plain", "Keyshares received.");
	cJSON_Delete(arr);
	free(pt);
}

static void serve(SSL *ssl)
{
	char *buf = malloc(1 << 21);
	size_t have = 0, cap = (1 << 21) - 1;
	char *end = NULL;
	while (have < cap) {
		int r = SSL_read(ssl, buf + have, (int)(cap - have));
		if (r <= 0)
			goto out;
		have += (size_t)r;
		buf[have] = 0;
		if ((end = strstr(buf, "\r\n\r\n")))
			break;
	}
	if (!end)
		goto out;
	size_t hl = (size_t)(end - buf) + 4, clen = 0;
	for (char *p = buf; p < end; p = strchr(p, '\n') + 1)
		if (strncasecmp(p, "content-length:", 15) == 0)
			clen = strtoul(p + 15, NULL, 10);
	while (have < hl + clen && have < cap) {
		int r = SSL_read(ssl, buf + have, (int)(cap - have));
		if (r <= 0)
			goto out;
		have += (size_t)r;
	}
	buf[have] = 0;
	char *body = buf + hl;
	if (strncmp(buf, "GET /hello ", 11) == 0)
		reply(ssl, 200, "text/plain", "Hello, world!");
	else if (strncmp(buf, "GET /get_keyshares ", 19) == 0)
		get_keyshares(ssl, body);
	else if (strncmp(buf, "PUT /set_keyshares ", 19) == 0)
		set_keyshares(ssl, body, clen);
	else
		reply(ssl, 404, "text/plain", "Not Found");
out:
	free(buf);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: mpcnode_fake --listen ADDR:PORT --seed HEX --expect-client-key KEY\n"
		"                    --transport-key HEX [--port-file F] [--keyshares-dir D]\n"
		"                    [--received-dir D] [--mode normal|corrupt|chunked] [--log F]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "expect-client-key", required_argument, NULL, 'e' },
		{ "transport-key", required_argument, NULL, 't' },
		{ "keyshares-dir", required_argument, NULL, 'k' },
		{ "received-dir", required_argument, NULL, 'r' },
		{ "mode", required_argument, NULL, 'm' },
		{ "log", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_at = "127.0.0.1:0", *port_file = NULL;
	int have = 0, ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': listen_at = optarg; break;
		case 'p': port_file = optarg; break;
		case 's': if (unhex(optarg, F.seed, 32) < 0) usage(); have |= 1; break;
		case 'e': if (parse_key(optarg, F.expect) < 0) usage(); have |= 2; break;
		case 't': if (unhex(optarg, F.tkey, 32) < 0) usage(); have |= 4; break;
		case 'k': F.keyshares_dir = optarg; break;
		case 'r': F.received_dir = optarg; break;
		case 'm':
			F.corrupt = strcmp(optarg, "corrupt") == 0;
			F.chunked = strcmp(optarg, "chunked") == 0;
			break;
		case 'L': F.log_path = optarg; break;
		default: usage();
		}
	}
	if (have != 7)
		usage();
	signal(SIGPIPE, SIG_IGN);

	char host[64];
	const char *colon = strrchr(listen_at, ':');
	if (!colon || (size_t)(colon - listen_at) >= sizeof(host))
		usage();
	memcpy(host, listen_at, (size_t)(colon - listen_at));
	host[colon - listen_at] = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		usage();
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 16) < 0) {
		fprintf(stderr, "mpcnode_fake: %s: %s\n", listen_at, strerror(errno));
		return 1;
	}
	socklen_t sl = sizeof(sa);
	getsockname(ls, (struct sockaddr *)&sa, &sl);
	if (port_file) {
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		FILE *f = fopen(tmp, "w");
		fprintf(f, "%u\n", ntohs(sa.sin_port));
		fclose(f);
		rename(tmp, port_file);
	}
	SSL_CTX *ctx = make_ctx();
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		struct timeval tv = { .tv_sec = 10 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		SSL *ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1) {
			char e[200];
			ERR_error_string_n(ERR_get_error(), e, sizeof(e));
			logline("handshake failed: %s", e);
		} else {
			X509 *cert = SSL_get0_peer_certificate(ssl);
			uint8_t got[32];
			size_t gl = sizeof(got);
			EVP_PKEY *pk = cert ? X509_get0_pubkey(cert) : NULL;
			if (!pk || EVP_PKEY_get_raw_public_key(pk, got, &gl) != 1 || gl != 32 ||
			    memcmp(got, F.expect, 32) != 0) {
				/* as the node: drop the connection after the handshake */
				logline("client key mismatch: connection dropped");
			} else {
				serve(ssl);
				SSL_shutdown(ssl);
			}
		}
		ERR_clear_error();
		SSL_free(ssl);
		close(fd);
	}
}
