/* One bridge client: accepting it, reading its lines, its bounded output
 * queue, pulling block updates from the ring, lagging and closing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bridge.h"
#include "jbuf.h"
#include "msg.h"

#define READ_CHUNK 65536
#define MAX_IOV 64

/* ---- output queue ---- */

static int oq_push(struct outq *q, struct bmsg *m)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		struct bmsg **v = malloc(cap * sizeof(*v));
		if (!v)
			return -1;
		for (size_t i = 0; i < q->n; i++)
			v[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = v;
		q->cap = cap;
		q->head = 0;
	}
	q->v[(q->head + q->n) % q->cap] = bmsg_ref(m);
	q->n++;
	q->bytes += m->len;
	return 0;
}

static void oq_pop(struct outq *q)
{
	struct bmsg *m = q->v[q->head];
	q->bytes -= m->len - q->off;
	q->off = 0;
	bmsg_unref(m);
	q->head = (q->head + 1) % q->cap;
	q->n--;
}

static void oq_free(struct outq *q)
{
	while (q->n)
		oq_pop(q);
	free(q->v);
	memset(q, 0, sizeof(*q));
}

/* ---- lifecycle ---- */

static void on_io(int fd, int revents, void *ud);

static void set_watch(struct bclient *c)
{
	const struct bridge_cfg *cfg = &c->br->cfg;
	int ev = 0;
	if (c->oq.n && !c->shut_wr)
		ev |= 2;
	if (c->shut_wr || (c->phase != CLIENT_CLOSING && c->oq.bytes < cfg->max_pending))
		ev |= 1;
	if (ev != c->watch_events) {
		c->br->api->fd_watch_set(c->watch, ev);
		c->watch_events = ev;
	}
}

static int uid_allowed(const struct bridge *br, uid_t uid)
{
	if (uid == geteuid())
		return 1;
	for (size_t i = 0; i < br->cfg.n_allowed_uids; i++)
		if (br->cfg.allowed_uids[i] == uid)
			return 1;
	return 0;
}

static void refuse(struct bridge *br, int fd, const char *reason, const char *message)
{
	struct jbuf j;
	jb_init(&j);
	jb_str(&j, "{\"jsonrpc\":\"2.0\",\"method\":\"bye\",\"params\":{\"reason\":");
	jb_qstr(&j, reason);
	jb_key(&j, "message", 0);
	jb_qstr(&j, message);
	jb_str(&j, "}}\n");
	if (!j.oom && send(fd, j.p, j.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* best effort: the refusal is logged either way */
	}
	jb_free(&j);
	shutdown(fd, SHUT_WR);
	close(fd);
	bridge_count_disconnect(br, reason);
}

int client_accept(struct bridge *br, int lfd, int is_tcp)
{
	for (int k = 0; k < 64; k++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		uid_t uid = 0;
		int uid_known = !is_tcp && peer_uid(fd, &uid) == 0;
		if (br->stopping) {
			refuse(br, fd, "shutdown", "the indexer is shutting down");
			continue;
		}
		if (!is_tcp && br->cfg.check_uid && (!uid_known || !uid_allowed(br, uid))) {
			br->api->log(br->self, MPCI_LOG_WARN,
				     "refused a client with uid %ld: not allowed (check_uid)",
				     uid_known ? (long)uid : -1L);
			refuse(br, fd, "forbidden", "this uid may not use the bridge");
			continue;
		}
		if (br->n_clients >= br->cfg.max_clients) {
			br->api->log(br->self, MPCI_LOG_WARN,
				     "refused a client: max_clients (%zu) reached",
				     br->cfg.max_clients);
			refuse(br, fd, "max_clients", "too many clients");
			continue;
		}
		struct bclient *c = calloc(1, sizeof(*c));
		unsigned char *flags = br->n_endpoints ? calloc(br->n_endpoints, 1) : NULL;
		if (!c || (br->n_endpoints && !flags)) {
			free(c);
			free(flags);
			refuse(br, fd, "internal", "out of memory");
			continue;
		}
		c->br = br;
		c->fd = fd;
		c->is_tcp = is_tcp;
		c->uid = uid;
		c->uid_known = uid_known;
		c->id = ++br->next_client_id;
		c->phase = CLIENT_HELLO;
		c->since = br->api->now(br->self);
		c->state_on = flags;
		c->watch = br->api->fd_watch(br->self, fd, 1, on_io, c);
		if (!c->watch) {
			free(flags);
			free(c);
			refuse(br, fd, "internal", "cannot watch the connection");
			continue;
		}
		c->watch_events = 1;
		c->next = br->clients;
		if (br->clients)
			br->clients->prev = c;
		br->clients = c;
		br->n_clients++;
		br->api->metric_set(br->m_clients, NULL, (double)br->n_clients);
		br->api->log(br->self, MPCI_LOG_DEBUG, "client %llu connected (%s, uid %ld)",
			     (unsigned long long)c->id, is_tcp ? "tcp" : "unix",
			     uid_known ? (long)uid : -1L);
	}
	return 0;
}

void client_destroy(struct bclient *c)
{
	struct bridge *br = c->br;
	proto_client_gone(c);
	if (!br->handles_gone)
		br->api->fd_watch_set(c->watch, 0);
	close(c->fd);
	c->fd = -1;
	oq_free(&c->oq);
	free(c->rbuf);
	c->rbuf = NULL;
	free(c->state_on);
	c->state_on = NULL;
	c->blocks_on = 0;
	if (c->prev)
		c->prev->next = c->next;
	else
		br->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	br->n_clients--;
	if (!br->handles_gone) {
		br->api->metric_set(br->m_clients, NULL, (double)br->n_clients);
		br->api->log(br->self, MPCI_LOG_DEBUG, "client %llu gone",
			     (unsigned long long)c->id);
	}
	c->prev = NULL;
	c->next = br->graveyard;
	br->graveyard = c;
}

void bridge_reap(struct bridge *br)
{
	while (br->graveyard) {
		struct bclient *c = br->graveyard;
		br->graveyard = c->next;
		if (!br->handles_gone)
			br->api->fd_unwatch(c->watch);
		free(c);
	}
}

static void close_with(struct bclient *c, struct bmsg *final, const char *reason)
{
	if (c->phase == CLIENT_CLOSING) {
		bmsg_unref(final);
		return;
	}
	c->phase = CLIENT_CLOSING;
	c->blocks_on = 0;
	if (c->state_on)
		memset(c->state_on, 0, c->br->n_endpoints);
	proto_client_gone(c);
	c->close_deadline = c->br->api->now(c->br->self) + c->br->cfg.close_timeout;
	if (final) {
		if (oq_push(&c->oq, final) < 0)
			c->br->api->log(c->br->self, MPCI_LOG_WARN,
					"client %llu: no memory for the closing message",
					(unsigned long long)c->id);
		bmsg_unref(final);
	}
	bridge_count_disconnect(c->br, reason);
	c->br->api->log(c->br->self, MPCI_LOG_INFO, "client %llu: closing (%s)",
			(unsigned long long)c->id, reason);
}

void client_close(struct bclient *c, const char *reason, const char *message)
{
	struct bmsg *m = NULL;
	if (message) {
		struct jbuf j;
		jb_init(&j);
		jb_str(&j, "{\"jsonrpc\":\"2.0\",\"method\":\"bye\",\"params\":{\"reason\":");
		jb_qstr(&j, reason);
		jb_key(&j, "message", 0);
		jb_qstr(&j, message);
		jb_str(&j, "}}");
		m = bmsg_from(&j);
	}
	close_with(c, m, reason);
}

void client_lagged(struct bclient *c)
{
	struct bridge *br = c->br;
	struct jbuf j;
	jb_init(&j);
	jb_str(&j, "{\"jsonrpc\":\"2.0\",\"method\":\"lagged\",\"params\":{\"last_height\":");
	if (c->given_height)
		jb_u64(&j, c->given_height);
	else
		jb_str(&j, "null");
	jb_key(&j, "last_seq", 0);
	if (c->cursor)
		jb_u64(&j, c->cursor - 1);
	else
		jb_str(&j, "null");
	jb_key(&j, "resume_from_height", 0);
	jb_u64(&j, c->given_height ? c->given_height + 1 : c->min_height);
	jb_key(&j, "run_id", 0);
	jb_qstr(&j, br->run_id);
	jb_key(&j, "behind", 0);
	jb_u64(&j, br->ring.next_seq - c->cursor);
	jb_key(&j, "message", 0);
	jb_qstr(&j, "output fell too far behind the block stream; resume from last_seq or "
		    "resume_from_height");
	jb_str(&j, "}}");
	br->api->log(br->self, MPCI_LOG_WARN,
		     "client %llu lagged at height %llu (%llu updates behind)",
		     (unsigned long long)c->id, (unsigned long long)c->given_height,
		     (unsigned long long)(br->ring.next_seq - c->cursor));
	close_with(c, bmsg_from(&j), "lagged");
}

int client_send(struct bclient *c, struct bmsg *m)
{
	const struct bridge_cfg *cfg = &c->br->cfg;
	if (c->phase == CLIENT_CLOSING)
		return -1;
	/* Reading stops at max_pending, so only asynchronous results and state
	 * changes get here past it; a client that lets even those pile up goes. */
	if (c->oq.bytes + m->len > 2 * cfg->max_pending + cfg->max_line) {
		client_close(c, "overflow", "output queue limit exceeded");
		return -1;
	}
	if (oq_push(&c->oq, m) < 0) {
		client_close(c, "internal", "out of memory");
		return -1;
	}
	return 0;
}

int client_send_text(struct bclient *c, const char *line, size_t len)
{
	struct bmsg *m = bmsg_new(line, len);
	if (!m) {
		client_close(c, "internal", "out of memory");
		return -1;
	}
	int rc = client_send(c, m);
	bmsg_unref(m);
	return rc;
}

/* Move block updates from the ring into the queue while there is room. */
static void pump(struct bclient *c)
{
	struct bridge *br = c->br;
	while (c->blocks_on && c->oq.bytes < br->cfg.max_pending &&
	       c->cursor < br->ring.next_seq) {
		struct bmsg *m = ring_get(&br->ring, c->cursor);
		if (!m) {       /* evicted under us: only if limits are misconfigured */
			client_lagged(c);
			return;
		}
		if (m->height >= c->min_height) {
			if (oq_push(&c->oq, m) < 0) {
				client_close(c, "internal", "out of memory");
				return;
			}
			if (m->is_block)
				c->given_height = m->height;
			c->given_seq = m->seq + 1;
		}
		c->cursor++;
	}
	if (c->cursor == br->ring.next_seq)
		c->catching_up = 0;
}

static void process_lines(struct bclient *c);

/* Returns -1 when the client was destroyed. */
static int flush(struct bclient *c)
{
	struct iovec iov[MAX_IOV];
	for (;;) {
		pump(c);
		if (!c->oq.n)
			break;
		size_t k = 0;
		for (size_t i = 0; i < c->oq.n && k < MAX_IOV; i++, k++) {
			struct bmsg *m = c->oq.v[(c->oq.head + i) % c->oq.cap];
			size_t off = i == 0 ? c->oq.off : 0;
			iov[k].iov_base = m->data + off;
			iov[k].iov_len = m->len - off;
		}
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = k };
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (c->phase != CLIENT_CLOSING)
				bridge_count_disconnect(c->br, "write_error");
			client_destroy(c);
			return -1;
		}
		size_t left = (size_t)n;
		if (c->phase == CLIENT_CLOSING && n > 0) /* the deadline is for no progress */
			c->close_deadline = c->br->api->now(c->br->self) + c->br->cfg.close_timeout;
		while (left && c->oq.n) {
			struct bmsg *m = c->oq.v[c->oq.head];
			size_t rest = m->len - c->oq.off;
			if (left >= rest) {
				left -= rest;
				oq_pop(&c->oq);
			} else {
				c->oq.off += left;
				c->oq.bytes -= left;
				left = 0;
			}
		}
	}
	if (c->phase == CLIENT_CLOSING && !c->oq.n && !c->shut_wr) {
		/* Say EOF, then read until the peer closes: closing with unread
		 * input would reset the connection and could lose our last line. */
		shutdown(c->fd, SHUT_WR);
		c->shut_wr = 1;
	}
	set_watch(c);
	return 0;
}

void client_flush(struct bclient *c)
{
	if (flush(c) == 0 && c->phase != CLIENT_CLOSING && c->rlen &&
	    c->oq.bytes < c->br->cfg.max_pending) {
		process_lines(c);
		flush(c);
	}
}

/* A live client (caught up with the ring's head) whose queue has no room for
 * the newest update has fallen behind past its output queue: `lagged`.  Its
 * resume point is that newest update, so it has the whole ring to come back.
 * A client replaying from the ring is only lagged when the ring is about to
 * drop what it still needs (client_before_evict). */
void client_on_update(struct bclient *c)
{
	struct bridge *br = c->br;
	if (!c->blocks_on)
		return;
	if (flush(c) < 0 || !c->blocks_on)
		return;
	if (!c->catching_up && c->cursor < br->ring.next_seq) {
		client_lagged(c);
		flush(c);
	}
}

void client_before_evict(struct bclient *c, uint64_t seq)
{
	if (c->blocks_on && c->cursor < seq) {
		client_lagged(c);
		flush(c);
	}
}

void client_housekeeping(struct bclient *c, double now)
{
	if (c->phase == CLIENT_HELLO && now - c->since > c->br->cfg.hello_timeout) {
		client_close(c, "handshake_timeout", "no hello within hello_timeout");
		flush(c);
	} else if (c->phase == CLIENT_CLOSING && now > c->close_deadline) {
		client_destroy(c);
	}
}

/* ---- input ---- */

static void process_lines(struct bclient *c)
{
	const struct bridge_cfg *cfg = &c->br->cfg;
	size_t start = 0;
	while (c->phase != CLIENT_CLOSING && c->oq.bytes < cfg->max_pending) {
		char *nl = memchr(c->rbuf + start, '\n', c->rlen - start);
		if (!nl)
			break;
		size_t len = (size_t)(nl - (c->rbuf + start));
		char *line = c->rbuf + start;
		start += len + 1;
		if (len && line[len - 1] == '\r')
			len--;
		if (len > cfg->max_line) {
			client_close(c, "line_too_long", "a line exceeded max_line bytes");
			break;
		}
		if (!len)
			continue;
		line[len] = 0;
		proto_handle_line(c, line, len);
		if (c->errors > cfg->max_errors && c->phase != CLIENT_CLOSING)
			client_close(c, "too_many_errors",
				     "too many malformed or invalid requests");
	}
	if (start) {
		memmove(c->rbuf, c->rbuf + start, c->rlen - start);
		c->rlen -= start;
	}
	if (c->phase != CLIENT_CLOSING && c->rlen > cfg->max_line &&
	    !memchr(c->rbuf, '\n', c->rlen))
		client_close(c, "line_too_long", "a line exceeded max_line bytes");
}

static void on_read(struct bclient *c)
{
	const struct bridge_cfg *cfg = &c->br->cfg;
	if (c->shut_wr || c->phase == CLIENT_CLOSING) {
		char scratch[4096];
		ssize_t n = read(c->fd, scratch, sizeof(scratch));
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			client_destroy(c);
		return;
	}
	if (c->oq.bytes >= cfg->max_pending)
		return;         /* back-pressure: its answers are not being read */
	size_t want = cfg->max_line + 2;   /* a full line, its '\n', one more */
	if (c->rcap < want && c->rcap - c->rlen < READ_CHUNK / 4) {
		size_t cap = c->rcap ? c->rcap * 2 : 4096;
		if (cap > want)
			cap = want;
		char *p = realloc(c->rbuf, cap);
		if (!p) {
			client_close(c, "internal", "out of memory");
			flush(c);
			return;
		}
		c->rbuf = p;
		c->rcap = cap;
	}
	if (c->rlen + 1 >= c->rcap) {  /* lines wait for output room: read later */
		if (memchr(c->rbuf, '\n', c->rlen))
			return;
		client_close(c, "line_too_long", "a line exceeded max_line bytes");
		flush(c);
		return;
	}
	ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen - 1);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		bridge_count_disconnect(c->br, "read_error");
		client_destroy(c);
		return;
	}
	if (n == 0) {
		/* The peer is done sending: answer what it sent, then close. */
		process_lines(c);
		if (c->phase != CLIENT_CLOSING)
			close_with(c, NULL, "eof");
		flush(c);
		return;
	}
	c->rlen += (size_t)n;
	process_lines(c);
	flush(c);
}

static void on_io(int fd, int revents, void *ud)
{
	struct bclient *c = ud;
	struct bclient *g = c->br->graveyard;
	/* release the others' watches (not ours: we are inside its callback) */
	if (g && c->fd >= 0)
		bridge_reap(c->br);
	if (revents & 2) {
		if (flush(c) < 0)
			return;
		if (c->phase != CLIENT_CLOSING && c->rlen &&
		    c->oq.bytes < c->br->cfg.max_pending) {
			process_lines(c);
			if (flush(c) < 0)
				return;
		}
	}
	if (revents & 1)
		on_read(c);
}
