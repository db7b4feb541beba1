/* make bench: mpc-node-bridge fan-out.  The real plugin in the real host with
 * a scripted block source; 16 clients on the Unix socket read in another
 * thread.  Reports block-update messages per second delivered to all clients,
 * the same for a peer that writes pre-rendered lines to 16 sockets directly
 * (the ratio shows what the bridge costs), and the latency from the core's
 * callback to a client having the line (median, p99). */
#include <ev.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../unit/test_bridge_harness.h"

#define CLIENTS 16
#define MAX_LAT 4000

static struct bh_world W;

struct reader {
	int fds[CLIENTS];
	char *buf[CLIENTS];
	size_t len[CLIENTS];
	atomic_ullong got[CLIENTS];        /* block lines read */
	atomic_int stop;
	double (*recv_t)[MAX_LAT];         /* [client][i]: when line i arrived (latency phase) */
	atomic_int record;                 /* record arrival times for heights >= lat_base */
	unsigned long long lat_base;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct pollfd p[CLIENTS];
	for (int i = 0; i < CLIENTS; i++)
		p[i] = (struct pollfd){ .fd = r->fds[i], .events = POLLIN };
	while (!atomic_load(&r->stop)) {
		if (poll(p, CLIENTS, 50) <= 0)
			continue;
		for (int i = 0; i < CLIENTS; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			ssize_t n = read(r->fds[i], r->buf[i] + r->len[i], (1 << 20) - r->len[i]);
			if (n <= 0)
				continue;
			double now = mono();
			r->len[i] += (size_t)n;
			char *s = r->buf[i], *end = s + r->len[i], *nl;
			while ((nl = memchr(s, '\n', (size_t)(end - s)))) {
				/* both keys sit near the start of a block line */
				size_t head = (size_t)(nl - s) < 96 ? (size_t)(nl - s) : 96;
				char *h = memmem(s, head, "\"height\":", 9);
				if (h && memmem(s, head, "\"method\":\"block\"", 16)) {
					unsigned long long height = strtoull(h + 9, NULL, 10);
					if (atomic_load(&r->record) && height >= r->lat_base &&
					    height - r->lat_base < MAX_LAT)
						r->recv_t[i][height - r->lat_base] = now;
					atomic_fetch_add(&r->got[i], 1);
				}
				s = nl + 1;
			}
			r->len[i] = (size_t)(end - s);
			memmove(r->buf[i], s, r->len[i]);
		}
	}
	return NULL;
}

static unsigned long long min_got(struct reader *r)
{
	unsigned long long m = ~0ull;
	for (int i = 0; i < CLIENTS; i++) {
		unsigned long long g = atomic_load(&r->got[i]);
		if (g < m)
			m = g;
	}
	return m;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The peer: the same lines, written straight to 16 socket pairs. */
static double raw_fanout(const char *line, size_t len, unsigned long long n)
{
	struct reader r;
	int w[CLIENTS];
	pthread_t th;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < CLIENTS; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			return 0;
		w[i] = sv[0];
		r.fds[i] = sv[1];
		r.buf[i] = malloc(1 << 20);
	}
	pthread_create(&th, NULL, reader_main, &r);
	double t0 = mono();
	for (unsigned long long k = 0; k < n; k++)
		for (int i = 0; i < CLIENTS; i++) {
			size_t off = 0;
			while (off < len) {
				ssize_t m = write(w[i], line + off, len - off);
				if (m > 0)
					off += (size_t)m;
			}
		}
	while (min_got(&r) < n)
		usleep(100);
	double dt = mono() - t0;
	atomic_store(&r.stop, 1);
	pthread_join(th, NULL);
	for (int i = 0; i < CLIENTS; i++) {
		close(w[i]);
		close(r.fds[i]);
		free(r.buf[i]);
	}
	return (double)n * CLIENTS / dt;
}

int main(int argc, char **argv)
{
	unsigned long long n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000;
	unsigned long long lat_n = argc > 2 ? strtoull(argv[2], NULL, 10) : 2000;
	struct bh_client c[CLIENTS];
	struct reader r;
	pthread_t th;

	if (lat_n > MAX_LAT)
		lat_n = MAX_LAT;
	if (bh_up(&W, "max_clients = 32\nring_size = 8192\nmax_pending = 4M\n") != 0) {
		fprintf(stderr, "bridge_fanout: the bridge did not start\n");
		return 1;
	}
	memset(&r, 0, sizeof(r));
	r.recv_t = calloc(CLIENTS, sizeof(*r.recv_t));
	for (int i = 0; i < CLIENTS; i++) {
		if (bh_connect(&c[i], W.sock) < 0 || !bh_hello(&W, &c[i])) {
			fprintf(stderr, "bridge_fanout: client %d could not connect\n", i);
			return 1;
		}
		cJSON_Delete(bh_call(&W, &c[i], "subscribe_blocks", NULL));
		r.fds[i] = c[i].fd;
		r.buf[i] = malloc(1 << 20);
	}
	pthread_create(&th, NULL, reader_main, &r);

	/* throughput: as fast as the clients read, never more than 1024 ahead */
	uint64_t h = 1000;
	double t0 = mono();
	for (unsigned long long k = 0; k < n; k++) {
		while (k > min_got(&r) && k - min_got(&r) > 1024) {
			ev_run(W.loop, EVRUN_NOWAIT);
			usleep(20);     /* leave the core to the reader */
		}
		bh_emit_block(h++, 2, 1, 200);
	}
	while (min_got(&r) < n) {
		ev_run(W.loop, EVRUN_NOWAIT);
		usleep(20);
	}
	double dt = mono() - t0;
	double rate = (double)n * CLIENTS / dt;

	/* latency: one block at a time, each delivered to all before the next */
	double *t_emit = calloc(lat_n, sizeof(double));
	r.lat_base = h;
	atomic_store(&r.record, 1);
	for (unsigned long long k = 0; k < lat_n; k++) {
		unsigned long long want = n + k + 1;
		t_emit[k] = mono();
		bh_emit_block(h++, 2, 1, 200);
		while (min_got(&r) < want) {
			ev_run(W.loop, EVRUN_NOWAIT);
			sched_yield();
		}
	}
	double *lat = calloc(lat_n * CLIENTS, sizeof(double));
	size_t nl = 0;
	for (unsigned long long k = 0; k < lat_n; k++)
		for (int i = 0; i < CLIENTS; i++)
			if (r.recv_t[i][k] > 0)
				lat[nl++] = (r.recv_t[i][k] - t_emit[k]) * 1e6;
	qsort(lat, nl, sizeof(double), cmp_double);
	double med = nl ? lat[nl / 2] : -1, p99 = nl ? lat[(size_t)(nl * 0.99)] : -1;

	/* one rendered line, for the raw peer and the message size */
	cJSON *probe = NULL;
	struct bh_client pc;
	bh_connect(&pc, W.sock);
	bh_hello(&W, &pc);
	cJSON_Delete(bh_call(&W, &pc, "subscribe_blocks", NULL));
	bh_emit_block(h++, 2, 1, 200);
	probe = bh_recv(&W, &pc, 5);
	char *line = cJSON_PrintUnformatted(probe);
	size_t len = strlen(line);
	line = realloc(line, len + 2);
	line[len++] = '\n';
	line[len] = 0;
	cJSON_Delete(probe);
	bh_close(&pc);

	atomic_store(&r.stop, 1);
	pthread_join(th, NULL);
	double raw = raw_fanout(line, len, n);

	printf("bridge_fanout clients=%d blocks=%llu msgs=%llu seconds=%.3f msgs_per_s=%.0f "
	       "bytes_per_msg=%zu raw_peer_msgs_per_s=%.0f ratio=%.2f latency_samples=%zu "
	       "latency_median_us=%.1f latency_p99_us=%.1f\n",
	       CLIENTS, n, n * CLIENTS, dt, rate, len, raw, raw > 0 ? rate / raw : 0, nl, med, p99);
	for (int i = 0; i < CLIENTS; i++) {
		free(r.buf[i]);
		bh_close(&c[i]);
	}
	free(r.recv_t);
	free(t_emit);
	free(lat);
	free(line);
	bh_down(&W);
	return 0;
}
