/* backup-migration's reader of the migration peer's HTTP/1.1 answer, on
 * chunked bodies: the chunk-size line is read within its line and within the
 * bytes received, strictly.  Found by tests/fuzz/fuzz_mtls_http.c.  The
 * reader is static in mtls.c, so the file is compiled in here. */
#include "../../plugins/backup-migration/mtls.c"

#include "../tap.h"

static struct mtls_response got;
static char got_text[700];

static void done(const struct mtls_response *r, void *ud)
{
	got = *r;
	snprintf(got_text, sizeof(got_text), "%s", r->cause == MTLS_OK ? r->body : r->error);
}

/* The answer to these bytes received, then the end of the stream; `past`
 * stands for whatever the buffer holds after them (step() does not clear it). */
static int answer(const char *bytes, char past)
{
	static struct mtls m;
	struct mtls_call *c = calloc(1, sizeof(*c));
	size_t n = strlen(bytes);
	if (!c || !(c->in = malloc(n + 2)))
		bail_out("out of memory");
	memcpy(c->in, bytes, n);
	c->in[n] = past;
	c->in[n + 1] = 0;
	c->in_len = n;
	c->in_cap = n + 1;
	c->m = &m;
	c->cb = done;
	c->fd = -1;
	c->max_body = 1 << 20;
	snprintf(c->host, sizeof(c->host), "peer.test");
	m.calls = c;
	memset(&got, 0, sizeof(got));
	got.cause = -1;
	if (!try_complete(c, 0) && !try_complete(c, 1))
		bail_out("no answer at the end of the stream");
	return got.cause;
}

#define HEAD "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"

int main(void)
{
	is_int(answer(HEAD "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 0), MTLS_OK,
	       "chunks as the node sends them");
	is_str(got_text, "hello world", "are joined");
	is_int(answer(HEAD "5;name=x\r\nhello\r\n0\r\n\r\n", 0), MTLS_OK, "a chunk extension");
	is_str(got_text, "hello", "is ignored");
	is_int(answer(HEAD "A\r\n0123456789\r\n0\r\n\r\n", 0), MTLS_OK, "sizes are hex");

	/* an empty size line: strtoull skipped the newline and read on past the
	 * bytes received, so the answer depended on memory that was never written */
	is_int(answer(HEAD "\n", '5'), MTLS_PROTOCOL, "an empty size line is a bad chunk");
	is_str(got_text, "bad chunk in the response", "and says so");
	is_int(answer(HEAD "\n", 0), MTLS_PROTOCOL, "whatever lies past the bytes received");
	is_int(answer(HEAD "\r\n5\r\nhello\r\n0\r\n\r\n", 0), MTLS_PROTOCOL,
	       "a size is not looked for on the next line");
	is_int(answer(HEAD "0x5\r\nhello\r\n0\r\n\r\n", 0), MTLS_PROTOCOL, "no 0x prefix");
	is_int(answer(HEAD "+5\r\nhello\r\n0\r\n\r\n", 0), MTLS_PROTOCOL, "no sign");
	is_int(answer(HEAD "-1\r\nhello\r\n0\r\n\r\n", 0), MTLS_PROTOCOL, "no negative size");
	is_int(answer(HEAD " 5\r\nhello\r\n0\r\n\r\n", 0), MTLS_PROTOCOL, "no leading space");
	is_int(answer(HEAD "5\r\nhelloXY0\r\n\r\n", 0), MTLS_PROTOCOL,
	       "chunk data must end with CRLF");
	is_int(answer(HEAD "ffffffffffffffffffff1\r\nx\r\n0\r\n\r\n", 0), MTLS_PROTOCOL,
	       "a size past max_body");
	is_int(answer(HEAD "5\r\nhel", 0), MTLS_IO, "a body cut short is truncated");
	return done_testing();
}
