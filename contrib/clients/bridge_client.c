/* A minimal mpc-node-bridge client in C, libc only: connect to the Unix
 * socket, say hello, subscribe to blocks (from a height, if given), and print
 * every block's height with its request and completion counts.  On `lagged`
 * it reconnects and resumes from the height it was told.
 *
 *   cc -O2 -o bridge_client bridge_client.c
 *   ./bridge_client /var/lib/mpc-indexer/mpc-node-bridge.sock [FROM_HEIGHT]
 *
 * A real client would use a JSON library; the few fields read here are found
 * by key, which is enough because the bridge's key order is fixed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || strlen(path) >= sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_line(int fd, const char *line)
{
	size_t n = strlen(line), off = 0;
	while (off < n) {
		ssize_t k = send(fd, line + off, n - off, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

/* One line into buf (without '\n'); 0 at EOF, -1 on error or overflow. */
struct reader {
	int fd;
	char buf[1 << 20];
	size_t len;
};

static ssize_t read_line(struct reader *r, char *out, size_t cap)
{
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->len);
		if (nl) {
			size_t n = (size_t)(nl - r->buf);
			if (n + 1 > cap)
				return -1;
			memcpy(out, r->buf, n);
			out[n] = 0;
			memmove(r->buf, nl + 1, r->len - n - 1);
			r->len -= n + 1;
			return (ssize_t)n + 1;
		}
		if (r->len == sizeof(r->buf))
			return -1;
		ssize_t k = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k;
		r->len += (size_t)k;
	}
}

/* The unsigned number after "key": in line, or -1. */
static long long num_after(const char *line, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(line, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* Elements of the array "key":[...] counted by their "kind" members. */
static int count_kinds(const char *line, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":[", key);
	const char *p = strstr(line, pat);
	int n = 0, depth = 0;
	if (!p)
		return 0;
	for (p += strlen(pat); *p; p++) {
		if (*p == '"') {        /* skip strings: they may hold brackets */
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				break;
			continue;
		}
		if (*p == '[' || *p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			n++;
		else if (*p == ']' && depth-- == 0)
			break;
	}
	return n;
}

int main(int argc, char **argv)
{
	static struct reader r;
	static char line[1 << 20];
	long long from = argc > 2 ? atoll(argv[2]) : -1;

	if (argc < 2) {
		fprintf(stderr, "usage: %s SOCKET [FROM_HEIGHT]\n", argv[0]);
		return 2;
	}
	for (;;) {
		char req[256];
		r.fd = connect_to(argv[1]);
		r.len = 0;
		if (r.fd < 0) {
			perror(argv[1]);
			return 1;
		}
		send_line(r.fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\",\"params\":{\"version\":1,"
				"\"client\":\"bridge_client.c\"}}\n");
		if (from >= 0)
			snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"subscribe_blocks\","
				 "\"params\":{\"from_height\":%lld}}\n", from);
		else
			snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"subscribe_blocks\"}\n");
		send_line(r.fd, req);
		long long resume = -1;
		ssize_t n;
		while ((n = read_line(&r, line, sizeof(line))) > 0) {
			if (strstr(line, "\"error\":")) {
				fprintf(stderr, "error: %s\n", line);
				close(r.fd);
				return 1;
			}
			if (strncmp(line, "{\"jsonrpc\":\"2.0\",\"method\":\"block\"", 33) == 0) {
				long long h = num_after(line, "height");
				printf("block %lld: %d request(s), %d completion(s)\n", h,
				       count_kinds(line, "requests"), count_kinds(line, "completions"));
				fflush(stdout);
				from = h + 1;
			} else if (strstr(line, "\"method\":\"lagged\"")) {
				resume = num_after(line, "resume_from_height");
			} else if (strstr(line, "\"method\":\"bye\"")) {
				fprintf(stderr, "closed by the bridge: %s\n", line);
			}
		}
		close(r.fd);
		if (resume < 0)
			return n < 0 ? 1 : 0;
		fprintf(stderr, "lagged: resuming from height %lld\n", resume);
		from = resume;
	}
}
