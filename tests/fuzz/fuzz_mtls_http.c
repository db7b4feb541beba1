/* libFuzzer target: backup-migration's reader of the migration peer's HTTP/1.1
 * response (status line, Content-Length, chunked decoding, size limits).  The
 * parser lives in mtls.c next to the TLS state machine, as static functions,
 * so the real file is compiled into this target and its try_complete() is fed
 * the bytes as step() would after each SSL_read, then the end of the stream.
 *
 * Input: byte 0 = max_body (low 3 bits) and whether the stream ends (bit 7),
 * byte 1 = read size, byte 2 = what lies past the received bytes (step()
 * leaves that memory uninitialised), then the peer's bytes.  The receive
 * buffer is exactly as large as step() guarantees (one spare byte), so a
 * read past it is seen, and each input runs twice, with the byte past the
 * data as given and as a NUL, which must not change the answer.  Oracle: the
 * callback runs once; a success has a status of three digits and a
 * NUL-terminated body within max_body; a failure says why. */
#include "../../plugins/backup-migration/mtls.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one exchange came to, to compare two runs. */
struct outcome {
	int calls, cause, status;
	size_t body_len;
	char text[700];
};

static struct outcome got;
static size_t want_max;

static void done(const struct mtls_response *r, void *ud)
{
	got.calls++;
	got.cause = r->cause;
	got.status = r->status;
	got.body_len = r->body_len;
	if (r->cause == MTLS_OK) {
		if (r->status < 0 || r->status > 999 || !r->body || r->body_len > want_max ||
		    r->body[r->body_len] != 0)
			abort();
		snprintf(got.text, sizeof(got.text), "%.*s", (int)(r->body_len < 600 ? r->body_len : 600),
			 r->body);
	} else if (!r->error || !r->error[0]) {
		abort();
	} else {
		snprintf(got.text, sizeof(got.text), "%s", r->error);
	}
}

static void fd_watch_set(mpci_watch *w, int events)
{
	abort();        /* no connection here: nothing may watch */
}

static const struct mpci_host_api api = {
	.struct_size = sizeof(struct mpci_host_api),
	.fd_watch_set = fd_watch_set,
};

static void run(const uint8_t *data, size_t size, size_t step_len, int eof, char tail)
{
	struct mtls m = { .api = &api };
	struct mtls_call *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->m = &m;
	c->cb = done;
	c->fd = -1;
	c->phase = PH_RECV;
	c->port = 443;
	c->max_body = want_max;
	snprintf(c->host, sizeof(c->host), "peer.test");
	m.calls = c;
	memset(&got, 0, sizeof(got));

	size_t off = 0;
	int finished = 0;
	while (off < size && !finished) {
		size_t n = size - off < step_len ? size - off : step_len;
		char *in = realloc(c->in, c->in_len + n + 1);
		if (!in)
			abort();
		memcpy(in + c->in_len, data + off, n);
		c->in = in;
		c->in_len += n;
		c->in_cap = c->in_len + 1;
		c->in[c->in_len] = tail;
		off += n;
		finished = try_complete(c, 0);
	}
	if (!finished && eof) {
		if (!c->in && !(c->in = malloc(1)))
			abort();
		c->in[c->in_len] = tail;
		finished = try_complete(c, 1);
		if (!finished)
			abort();        /* at the end of the stream there is an answer */
	}
	if (!finished)
		mtls_cancel(c);
	else if (got.calls != 1)
		abort();
	reap(&m);
	free(m.dead);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t max_body[8] = { 1, 4, 16, 100, 1000, 4096, 65536, 1 << 20 };
	struct outcome first;

	if (size < 3)
		return 0;
	int eof = data[0] >> 7;
	size_t step_len = (size_t)data[1] * 37 % 4096 + 1;
	char tail = (char)data[2];
	want_max = max_body[data[0] & 7];
	data += 3;
	size -= 3;

	run(data, size, step_len, eof, tail);
	first = got;
	/* the same bytes with a NUL past them: the answer must not change */
	run(data, size, step_len, eof, 0);
	if (first.calls != got.calls || first.cause != got.cause || first.status != got.status ||
	    first.body_len != got.body_len || strcmp(first.text, got.text) != 0) {
		fprintf(stderr, "the answer depends on bytes past those received: '%s' vs '%s'\n",
			first.text, got.text);
		abort();
	}
	return 0;
}
