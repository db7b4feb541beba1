/* The transaction journal: append, sync, replay, compact. */
#include <errno.h>
#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "near/borsh.h"
#include "txjournal.h"

#define MAGIC "MPCITXJ\001"
#define MAGIC_LEN 8
#define REC_HDR 8			/* u32 payload length, u32 crc32(payload) */
#define REC_MAX (16u << 20)		/* a 4 MiB args tx signed is < 9 MiB */
#define FILE_MAX ((off_t)1 << 32)	/* refuse to slurp anything absurd */

enum rec_type { REC_ENQUEUE = 1, REC_SIGNED = 2, REC_DONE = 3, REC_HWM = 4 };

/* A log line to write once the records before it are durable. */
struct jnote {
	int level;
	const char *component;
	char *text;
};

/* A flushed buffer on its way to the disk. */
struct jjob {
	struct jjob *next;
	uint8_t *data;
	size_t len;
	int replace;			/* compaction: data is the whole new file */
	uint64_t seq;
	struct jnote *notes;
	size_t n_notes;
};

struct txjournal {
	int fd;				/* the writer's (the loop's when there is none) */
	atomic_int failed;
	char *dir;
	char *path;
	uint64_t size;			/* loop side: what was flushed */
	struct borsh_buf buf;		/* loop side: not yet flushed */
	struct jnote *notes;		/* loop side: to log after the next flush */
	size_t n_notes, cap_notes;
	uint64_t flushed;		/* loop side: last sequence number handed out */
	/* the writer thread */
	int writer;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, progress;
	struct jjob *jobs, *jobs_tail;
	int quit;
	uint64_t durable;		/* under mu */
	char why[300];			/* under mu: the first failure */
	struct ev_loop *loop;
	ev_async async;
	txjournal_durable_fn cb;
	void *ud;
};

/* CRC-32 (IEEE 802.3, reflected), table built on first use. */
static uint32_t crc_table[256];

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
	if (!crc_table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			crc_table[i] = c;
		}
	}
	uint32_t c = 0xffffffffu;
	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Frame the record started at `start` (its 8 header bytes reserved). */
static int frame(struct borsh_buf *b, size_t start)
{
	if (b->failed)
		return -1;
	size_t n = b->len - start - REC_HDR;
	if (n > REC_MAX) {
		b->len = start;
		return -1;
	}
	put_u32(b->data + start, (uint32_t)n);
	put_u32(b->data + start + 4, crc32_of(b->data + start + REC_HDR, n));
	return 0;
}

static size_t begin(struct borsh_buf *b, uint8_t type)
{
	size_t start = b->len;
	borsh_u64(b, 0); /* header placeholder */
	borsh_u8(b, type);
	return start;
}

/* Seconds as whole milliseconds, rounded (1.001 * 1000.0 is 1000.9999...: a
 * compaction lost a millisecond) and clamped (a replayed u64 near 2^64 came
 * back above it, and converting that is undefined). */
static uint64_t to_ms(double s)
{
	double ms = s * 1000.0;

	if (!(ms > 0))
		return 0;
	if (ms >= 18446744073709551616.0)
		return UINT64_MAX;
	return (uint64_t)(ms + 0.5);
}

static void put_enqueue(struct borsh_buf *b, const struct txj_entry *e)
{
	size_t s = begin(b, REC_ENQUEUE);
	borsh_u64(b, e->id);
	borsh_string(b, e->signer);
	borsh_string(b, e->receiver);
	borsh_string(b, e->method);
	borsh_bytes(b, e->args, e->args_len);
	borsh_u64(b, e->gas);
	borsh_u128(b, e->deposit);
	borsh_u8(b, (uint8_t)e->wait);
	borsh_u64(b, to_ms(e->deadline));
	borsh_u64(b, to_ms(e->created));
	frame(b, s);
}

static void put_signed(struct borsh_buf *b, const struct txj_entry *e)
{
	size_t s = begin(b, REC_SIGNED);
	borsh_u64(b, e->id);
	borsh_string(b, e->key_id);
	borsh_u64(b, e->nonce);
	borsh_fixed(b, e->hash, NEAR_HASH_LEN);
	borsh_u64(b, e->base_height);
	borsh_bytes(b, e->signed_tx, e->signed_len);
	frame(b, s);
}

static void put_hwm(struct borsh_buf *b, const char *key_id, uint64_t nonce)
{
	size_t s = begin(b, REC_HWM);
	borsh_string(b, key_id);
	borsh_u64(b, nonce);
	frame(b, s);
}

static void fail(struct txjournal *j, const char *fmt, const char *what)
{
	if (j->writer)
		pthread_mutex_lock(&j->mu);
	if (!j->why[0])
		snprintf(j->why, sizeof(j->why), fmt, j->path, what);
	if (j->writer)
		pthread_mutex_unlock(&j->mu);
	atomic_store(&j->failed, 1);
}

static int buffered(struct txjournal *j)
{
	if (j->buf.failed)
		fail(j, "journal %s: %s", "out of memory");
	return atomic_load(&j->failed) ? -1 : 0;
}

int txjournal_enqueue(struct txjournal *j, const struct txj_entry *e)
{
	if (j->failed)
		return -1;
	put_enqueue(&j->buf, e);
	return buffered(j);
}

int txjournal_signed(struct txjournal *j, const struct txj_entry *e)
{
	if (j->failed)
		return -1;
	put_signed(&j->buf, e);
	return buffered(j);
}

int txjournal_done(struct txjournal *j, uint64_t id, int status)
{
	if (j->failed)
		return -1;
	size_t s = begin(&j->buf, REC_DONE);
	borsh_u64(&j->buf, id);
	borsh_u8(&j->buf, (uint8_t)status);
	frame(&j->buf, s);
	return buffered(j);
}

int txjournal_hwm(struct txjournal *j, const char *key_id, uint64_t nonce)
{
	if (j->failed)
		return -1;
	put_hwm(&j->buf, key_id, nonce);
	return buffered(j);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

size_t txjournal_buffered(const struct txjournal *j)
{
	return j->buf.len;
}

uint64_t txjournal_size(const struct txjournal *j)
{
	return j->size;
}

const char *txjournal_path(const struct txjournal *j)
{
	return j->path;
}

/* ---- replay ------------------------------------------------------------- */

void txj_entry_free(struct txj_entry *e)
{
	if (!e)
		return;
	free(e->signer);
	free(e->receiver);
	free(e->method);
	free(e->args);
	free(e->key_id);
	free(e->signed_tx);
	free(e);
}

void txj_state_free(struct txj_state *st)
{
	for (size_t i = 0; i < st->n; i++)
		txj_entry_free(st->entries[i]);
	free(st->entries);
	for (size_t i = 0; i < st->n_hwm; i++)
		free(st->hwm[i].key_id);
	free(st->hwm);
	memset(st, 0, sizeof(*st));
}

static struct txj_entry *find(struct txj_state *st, uint64_t id, size_t *at)
{
	size_t lo = 0, hi = st->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (st->entries[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return lo < st->n && st->entries[lo]->id == id ? st->entries[lo] : NULL;
}

static int raise_hwm(struct txj_state *st, const char *key_id, uint64_t nonce)
{
	for (size_t i = 0; i < st->n_hwm; i++) {
		if (strcmp(st->hwm[i].key_id, key_id) == 0) {
			if (nonce > st->hwm[i].nonce)
				st->hwm[i].nonce = nonce;
			return 0;
		}
	}
	struct txj_hwm *v = realloc(st->hwm, (st->n_hwm + 1) * sizeof(*v));
	if (!v)
		return -1;
	st->hwm = v;
	if (!(v[st->n_hwm].key_id = strdup(key_id)))
		return -1;
	v[st->n_hwm++].nonce = nonce;
	return 0;
}

/* Apply one record; "why" on failure. */
static const char *apply(struct txj_state *st, const uint8_t *p, size_t n)
{
	struct borsh_rd r;
	size_t at, len;
	const uint8_t *b;
	struct txj_entry *e, **v;

	borsh_rd_init(&r, p, n);
	switch (borsh_get_u8(&r)) {
	case REC_ENQUEUE:
		if (!(e = calloc(1, sizeof(*e))))
			return "out of memory";
		e->id = borsh_get_u64(&r);
		e->signer = borsh_get_string(&r, 256);
		e->receiver = borsh_get_string(&r, 256);
		e->method = borsh_get_string(&r, 1024);
		b = borsh_get_bytes(&r, &len);
		e->gas = borsh_get_u64(&r);
		e->deposit = borsh_get_u128(&r);
		e->wait = borsh_get_u8(&r);
		e->deadline = (double)borsh_get_u64(&r) / 1000.0;
		e->created = (double)borsh_get_u64(&r) / 1000.0;
		if (r.failed || borsh_rd_remaining(&r)) {
			txj_entry_free(e);
			return "bad ENQUEUE record";
		}
		if (!(e->args = malloc(len ? len : 1))) {
			txj_entry_free(e);
			return "out of memory";
		}
		memcpy(e->args, b, len);
		e->args_len = len;
		if (e->id <= st->max_id) {
			txj_entry_free(e);
			return "ENQUEUE ids do not increase";
		}
		if (!(v = realloc(st->entries, (st->n + 1) * sizeof(*v)))) {
			txj_entry_free(e);
			return "out of memory";
		}
		st->entries = v;
		st->entries[st->n++] = e;
		st->max_id = e->id;
		return NULL;
	case REC_SIGNED: {
		uint64_t id = borsh_get_u64(&r);
		char *key = borsh_get_string(&r, 512);
		uint64_t nonce = borsh_get_u64(&r);
		const uint8_t *h = borsh_get_fixed(&r, NEAR_HASH_LEN);
		uint64_t base = borsh_get_u64(&r);
		b = borsh_get_bytes(&r, &len);
		if (r.failed || borsh_rd_remaining(&r) || !key || len == 0) {
			free(key);
			return "bad SIGNED record";
		}
		if (raise_hwm(st, key, nonce) < 0) {
			free(key);
			return "out of memory";
		}
		/* A SIGNED of a finished (or compacted-away) id only raises the mark. */
		if (!(e = find(st, id, &at))) {
			free(key);
			return NULL;
		}
		uint8_t *copy = malloc(len);
		if (!copy) {
			free(key);
			return "out of memory";
		}
		memcpy(copy, b, len);
		free(e->key_id);
		free(e->signed_tx);
		e->key_id = key;
		e->signed_tx = copy;
		e->signed_len = len;
		e->nonce = nonce;
		e->base_height = base;
		memcpy(e->hash, h, NEAR_HASH_LEN);
		e->is_signed = 1;
		return NULL;
	}
	case REC_DONE: {
		uint64_t id = borsh_get_u64(&r);
		(void)borsh_get_u8(&r);
		if (r.failed || borsh_rd_remaining(&r))
			return "bad DONE record";
		st->done++;
		if ((e = find(st, id, &at))) {
			txj_entry_free(e);
			memmove(st->entries + at, st->entries + at + 1,
				(st->n - at - 1) * sizeof(*st->entries));
			st->n--;
		}
		return NULL;
	}
	case REC_HWM: {
		char *key = borsh_get_string(&r, 512);
		uint64_t nonce = borsh_get_u64(&r);
		const char *why = NULL;
		if (r.failed || borsh_rd_remaining(&r) || !key)
			why = "bad HWM record";
		else if (raise_hwm(st, key, nonce) < 0)
			why = "out of memory";
		free(key);
		return why;
	}
	default:
		return "unknown record type";
	}
}

static int all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

/* The offset of a whole, valid record that starts after off, or 0. A torn write leaves one
 * partial record at the end; a valid record behind a bad one means damage in the middle. */
static size_t valid_record_after(const uint8_t *buf, size_t off, size_t len)
{
	for (size_t p = off + 1; p + REC_HDR < len; p++) {
		uint32_t n = get_u32(buf + p);
		if (n && n <= REC_MAX && n <= len - p - REC_HDR &&
		    crc32_of(buf + p + REC_HDR, n) == get_u32(buf + p + 4))
			return p;
	}
	return 0;
}

/* Replay buf into st; *good = bytes of whole, valid records (incl. magic). */
static int replay(struct txj_state *st, const uint8_t *buf, size_t len,
		  size_t *good, const char *path, char *err, size_t errsz)
{
	size_t off = MAGIC_LEN;

	while (off < len) {
		size_t left = len - off;
		if (left < REC_HDR)
			break; /* torn header */
		uint32_t n = get_u32(buf + off), crc = get_u32(buf + off + 4);
		int bad = n == 0 || n > REC_MAX || n > left - REC_HDR ||
			  crc32_of(buf + off + REC_HDR, n) != crc;
		if (bad) {
			/* A torn write only ever damages the end of the file. */
			size_t next = all_zero(buf + off, left) ? 0 : valid_record_after(buf, off, len);
			if (!next && ((n <= REC_MAX && n >= left - REC_HDR) || all_zero(buf + off, left)))
				break;
			char follows[64] = "";
			if (next)
				snprintf(follows, sizeof(follows), ": a whole record follows at byte %zu", next);
			snprintf(err, errsz, "journal %s: damaged record at byte %zu "
				 "(not at the end, so not a torn write%s); move the file "
				 "aside to start without it", path, off, follows);
			return -1;
		}
		const char *why = apply(st, buf + off + REC_HDR, n);
		if (why) {
			snprintf(err, errsz, "journal %s: record at byte %zu: %s", path, off, why);
			return -1;
		}
		st->records++;
		off += REC_HDR + n;
	}
	*good = off;
	return 0;
}

static int read_file(int fd, uint8_t **out, size_t *len)
{
	struct stat sb;
	if (fstat(fd, &sb) < 0)
		return -1;
	if (sb.st_size > FILE_MAX) {
		errno = EFBIG;
		return -1;
	}
	size_t n = (size_t)sb.st_size, got = 0;
	uint8_t *b = malloc(n ? n : 1);
	if (!b)
		return -1;
	while (got < n) {
		ssize_t r = pread(fd, b + got, n - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(b);
			if (r == 0)
				errno = EIO;
			return -1;
		}
		got += (size_t)r;
	}
	*out = b;
	*len = n;
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int txjournal_open(struct txjournal **out, const char *dir,
		   struct txj_state *st, char *err, size_t errsz)
{
	struct txjournal *j = calloc(1, sizeof(*j));
	uint8_t *buf = NULL;
	size_t len = 0, good = MAGIC_LEN;

	memset(st, 0, sizeof(*st));
	*out = NULL;
	if (j)
		j->fd = -1;
	if (!j || !(j->dir = strdup(dir)) || !(j->path = join(dir, TXJOURNAL_FILE))) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	j->fd = open(j->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		snprintf(err, errsz, "journal %s: %s", j->path, strerror(errno));
		goto fail;
	}
	if (flock(j->fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errsz, "journal %s: %s", j->path,
			 errno == EWOULDBLOCK ? "in use by another process (a running daemon?)" :
			 strerror(errno));
		goto fail;
	}
	if (read_file(j->fd, &buf, &len) < 0) {
		snprintf(err, errsz, "journal %s: %s", j->path, strerror(errno));
		goto fail;
	}
	if (len >= MAGIC_LEN && memcmp(buf, MAGIC, MAGIC_LEN) == 0) {
		if (replay(st, buf, len, &good, j->path, err, errsz) < 0)
			goto fail;
	} else if (len < MAGIC_LEN && memcmp(buf, MAGIC, len) == 0) {
		good = 0; /* new, or the header itself was torn */
	} else {
		snprintf(err, errsz, "journal %s: not a transaction journal (bad magic)", j->path);
		goto fail;
	}
	st->torn_bytes = len - good;
	if (good == 0) {
		if (ftruncate(j->fd, 0) < 0 || pwrite(j->fd, MAGIC, MAGIC_LEN, 0) != MAGIC_LEN ||
		    fsync(j->fd) < 0 || fsync_dir(dir) < 0) {
			snprintf(err, errsz, "journal %s: %s", j->path, strerror(errno));
			goto fail;
		}
		good = MAGIC_LEN;
	} else if (good < len && (ftruncate(j->fd, (off_t)good) < 0 || fsync(j->fd) < 0)) {
		snprintf(err, errsz, "journal %s: cutting the torn tail: %s", j->path, strerror(errno));
		goto fail;
	}
	if (lseek(j->fd, (off_t)good, SEEK_SET) < 0) {
		snprintf(err, errsz, "journal %s: %s", j->path, strerror(errno));
		goto fail;
	}
	j->size = good;
	free(buf);
	*out = j;
	return 0;
fail:
	free(buf);
	txj_state_free(st);
	txjournal_close(j);
	return -1;
}

/* ---- writing: on the writer thread, or inline without one -------------------- */

/* Write the whole new file next to the old one and rename it over. */
static int replace_file(struct txjournal *j, const uint8_t *data, size_t len)
{
	char *tmp = join(j->dir, TXJOURNAL_FILE ".tmp");
	int fd = -1, rc = -1;

	if (!tmp) {
		fail(j, "journal %s: compacting: %s", "out of memory");
		return -1;
	}
	/* Locked before it gets the name: no other process may take it over. */
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || write_all(fd, data, len) < 0 ||
	    fsync(fd) < 0 || rename(tmp, j->path) < 0) {
		fail(j, "journal %s: compacting: %s", strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return -1;
	}
	/* The new file is complete; it is durable once its directory entry is. */
	if (fsync_dir(j->dir) < 0)
		fail(j, "journal %s: compacting, fsync of the directory: %s", strerror(errno));
	else
		rc = 0;
	close(j->fd);
	j->fd = fd;
	free(tmp);
	return rc;
}

/* Run jobs in order; one fdatasync covers the appends.  Returns the last
 * sequence number made durable, or 0 after a failure. */
static void free_notes(struct jnote *n, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(n[i].text);
	free(n);
}

static uint64_t run_jobs(struct txjournal *j, struct jjob *job)
{
	uint64_t last = 0;
	int dirty = 0;
	struct jjob *done = NULL, **tail = &done;

	while (job) {
		struct jjob *next = job->next;
		if (!atomic_load(&j->failed)) {
			if (job->replace) {
				if (dirty && fdatasync(j->fd) < 0)
					fail(j, "journal %s: %s", strerror(errno));
				dirty = 0;
				if (!atomic_load(&j->failed))
					replace_file(j, job->data, job->len);
			} else if (write_all(j->fd, job->data, job->len) < 0) {
				fail(j, "journal %s: %s", strerror(errno));
			} else {
				dirty = 1;
			}
			last = job->seq;
		}
		free(job->data);
		job->data = NULL;
		job->next = NULL;
		*tail = job;
		tail = &job->next;
		job = next;
	}
	if (dirty && !atomic_load(&j->failed) && fdatasync(j->fd) < 0)
		fail(j, "journal %s: %s", strerror(errno));
	int ok = !atomic_load(&j->failed);
	for (job = done; job; job = done) {
		done = job->next;
		for (size_t i = 0; ok && i < job->n_notes; i++)
			log_msg((enum log_level)job->notes[i].level, job->notes[i].component, "%s",
				job->notes[i].text);
		free_notes(job->notes, job->n_notes);
		free(job);
	}
	return ok ? last : 0;
}

static void *writer_main(void *arg)
{
	struct txjournal *j = arg;

	pthread_mutex_lock(&j->mu);
	for (;;) {
		while (!j->jobs && !j->quit)
			pthread_cond_wait(&j->work, &j->mu);
		if (!j->jobs)
			break;
		struct jjob *jobs = j->jobs;
		j->jobs = j->jobs_tail = NULL;
		pthread_mutex_unlock(&j->mu);
		uint64_t last = run_jobs(j, jobs);
		pthread_mutex_lock(&j->mu);
		if (last > j->durable)
			j->durable = last;
		pthread_cond_broadcast(&j->progress);
		if (j->loop)
			ev_async_send(j->loop, &j->async);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static void on_async(struct ev_loop *loop, ev_async *w, int revents)
{
	struct txjournal *j = w->data;
	if (j->cb)
		j->cb(j->ud, txjournal_durable(j));
}

int txjournal_start_writer(struct txjournal *j, struct ev_loop *loop,
			   txjournal_durable_fn durable, void *ud, char *err,
			   size_t errsz)
{
	if (j->writer)
		return 0;
	j->loop = loop;
	j->cb = durable;
	j->ud = ud;
	ev_async_init(&j->async, on_async);
	j->async.data = j;
	if (pthread_mutex_init(&j->mu, NULL) != 0 || pthread_cond_init(&j->work, NULL) != 0 ||
	    pthread_cond_init(&j->progress, NULL) != 0) {
		snprintf(err, errsz, "journal %s: cannot create the writer's locks", j->path);
		return -1;
	}
	j->durable = j->flushed;
	if (pthread_create(&j->thread, NULL, writer_main, j) != 0) {
		snprintf(err, errsz, "journal %s: cannot start the writer thread", j->path);
		pthread_cond_destroy(&j->progress);
		pthread_cond_destroy(&j->work);
		pthread_mutex_destroy(&j->mu);
		return -1;
	}
	ev_async_start(loop, &j->async);
	j->writer = 1;
	return 0;
}

static uint64_t submit_job(struct txjournal *j, uint8_t *data, size_t len, int replace)
{
	struct jjob *job = calloc(1, sizeof(*job));

	if (!job) {
		free(data);
		free_notes(j->notes, j->n_notes);
		j->notes = NULL;
		j->n_notes = j->cap_notes = 0;
		fail(j, "journal %s: %s", "out of memory");
		return j->flushed;
	}
	job->data = data;
	job->len = len;
	job->replace = replace;
	job->seq = ++j->flushed;
	job->notes = j->notes;
	job->n_notes = j->n_notes;
	j->notes = NULL;
	j->n_notes = j->cap_notes = 0;
	if (!j->writer) {
		uint64_t last = run_jobs(j, job);
		(void)last;
		return j->flushed;
	}
	pthread_mutex_lock(&j->mu);
	if (j->jobs_tail)
		j->jobs_tail->next = job;
	else
		j->jobs = job;
	j->jobs_tail = job;
	pthread_cond_signal(&j->work);
	pthread_mutex_unlock(&j->mu);
	return j->flushed;
}

int txjournal_note(struct txjournal *j, int level, const char *component,
		   const char *text)
{
	if (j->n_notes == j->cap_notes) {
		size_t cap = j->cap_notes ? 2 * j->cap_notes : 16;
		struct jnote *n = realloc(j->notes, cap * sizeof(*n));
		if (!n)
			return -1;
		j->notes = n;
		j->cap_notes = cap;
	}
	char *copy = strdup(text);
	if (!copy)
		return -1;
	j->notes[j->n_notes++] = (struct jnote){ level, component, copy };
	return 0;
}

uint64_t txjournal_flush(struct txjournal *j)
{
	if ((j->buf.len == 0 && j->n_notes == 0) || atomic_load(&j->failed))
		return j->flushed;
	uint8_t *data = j->buf.data;
	size_t len = j->buf.len;
	/* the buffer moves to the job; start a new one */
	memset(&j->buf, 0, sizeof(j->buf));
	j->size += len;
	return submit_job(j, data, len, 0);
}

uint64_t txjournal_next_seq(const struct txjournal *j)
{
	return j->flushed + 1;
}

uint64_t txjournal_durable(struct txjournal *j)
{
	uint64_t d;
	if (!j->writer)
		return atomic_load(&j->failed) ? 0 : j->flushed;
	pthread_mutex_lock(&j->mu);
	d = j->durable;
	pthread_mutex_unlock(&j->mu);
	return d;
}

int txjournal_failed(struct txjournal *j, char *err, size_t errsz)
{
	if (!atomic_load(&j->failed))
		return 0;
	if (err && errsz) {
		if (j->writer)
			pthread_mutex_lock(&j->mu);
		snprintf(err, errsz, "%s", j->why[0] ? j->why : "journal failed");
		if (j->writer)
			pthread_mutex_unlock(&j->mu);
	}
	return 1;
}

int txjournal_sync(struct txjournal *j, char *err, size_t errsz)
{
	uint64_t seq = txjournal_flush(j);

	if (j->writer) {
		pthread_mutex_lock(&j->mu);
		while (j->durable < seq && !atomic_load(&j->failed))
			pthread_cond_wait(&j->progress, &j->mu);
		pthread_mutex_unlock(&j->mu);
	}
	return txjournal_failed(j, err, errsz) ? -1 : 0;
}

int64_t txjournal_compact(struct txjournal *j, const struct txj_entry *const *live,
			  size_t n, const struct txj_hwm *hwm, size_t n_hwm,
			  char *err, size_t errsz)
{
	struct borsh_buf b = BORSH_BUF_INIT;

	if (txjournal_failed(j, err, errsz))
		return -1;
	borsh_fixed(&b, MAGIC, MAGIC_LEN);
	for (size_t i = 0; i < n_hwm; i++)
		put_hwm(&b, hwm[i].key_id, hwm[i].nonce);
	for (size_t i = 0; i < n; i++) {
		put_enqueue(&b, live[i]);
		if (live[i]->is_signed)
			put_signed(&b, live[i]);
	}
	if (b.failed) {
		borsh_buf_free(&b);
		snprintf(err, errsz, "journal %s: out of memory while compacting", j->path);
		return -1;
	}
	/* What is buffered is superseded by the live records. */
	j->buf.len = 0;
	j->size = b.len;
	uint64_t seq = submit_job(j, b.data, b.len, 1);
	if (!j->writer && txjournal_failed(j, err, errsz))
		return -1;
	return (int64_t)seq;
}

void txjournal_close(struct txjournal *j)
{
	if (!j)
		return;
	if (j->writer) {
		pthread_mutex_lock(&j->mu);
		j->quit = 1;
		pthread_cond_signal(&j->work);
		pthread_mutex_unlock(&j->mu);
		pthread_join(j->thread, NULL);
		ev_async_stop(j->loop, &j->async);
		pthread_cond_destroy(&j->progress);
		pthread_cond_destroy(&j->work);
		pthread_mutex_destroy(&j->mu);
	}
	if (j->fd >= 0)
		close(j->fd);
	borsh_buf_free(&j->buf);
	free_notes(j->notes, j->n_notes);
	free(j->dir);
	free(j->path);
	free(j);
}
