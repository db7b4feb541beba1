/* Leveled logging: one write(2) per record, under a mutex so reopen never races a write. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TRUNC_MARK " [truncated]"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int log_min = LOG_LVL_INFO;
/* Guarded by log_lock. fd 2 until a file is opened. */
static int log_fd = STDERR_FILENO;
static char *log_path;
static int log_journal = -1;	/* -1: not yet probed */

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char *const level_tags[] = { "ERROR", "WARN ", "INFO ", "DEBUG" };
static const char level_prio[] = { '3', '4', '6', '7' };	/* syslog LOG_ERR.. LOG_DEBUG */

/* systemd sets JOURNAL_STREAM=dev:ino for the stream it connected to our stdout/stderr. */
static int stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (!e || sscanf(e, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static int open_log_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);

	return fd < 0 ? -errno : fd;
}

int log_open(const char *path, enum log_level min)
{
	char *copy = NULL;
	int fd = STDERR_FILENO, old;

	if (path) {
		if (!(copy = strdup(path)))
			return -ENOMEM;
		fd = open_log_file(path);
		if (fd < 0) {
			free(copy);
			return fd;
		}
	}
	pthread_mutex_lock(&log_lock);
	old = log_fd;
	log_fd = fd;
	free(log_path);
	log_path = copy;
	log_journal = path ? 0 : stderr_is_journal();
	pthread_mutex_unlock(&log_lock);
	if (old != STDERR_FILENO && old != fd)
		close(old);
	log_set_level(min);
	return 0;
}

int log_reopen(void)
{
	char *path;
	int fd, old, err;

	pthread_mutex_lock(&log_lock);
	path = log_path ? strdup(log_path) : NULL;
	pthread_mutex_unlock(&log_lock);
	if (!path)
		return 0;
	fd = open_log_file(path);
	if (fd < 0) {
		err = fd;
		log_error("log", "cannot reopen %s: %s; still writing to the old file",
			  path, strerror(-err));
		free(path);
		return err;
	}
	pthread_mutex_lock(&log_lock);
	old = log_fd;
	log_fd = fd;
	pthread_mutex_unlock(&log_lock);
	if (old != STDERR_FILENO)
		close(old);
	free(path);
	return 0;
}

void log_close(void)
{
	int old;

	pthread_mutex_lock(&log_lock);
	old = log_fd;
	log_fd = STDERR_FILENO;
	free(log_path);
	log_path = NULL;
	log_journal = -1;
	pthread_mutex_unlock(&log_lock);
	if (old != STDERR_FILENO)
		close(old);
}

void log_set_level(enum log_level min)
{
	if ((int)min < LOG_LVL_ERROR)
		min = LOG_LVL_ERROR;
	if (min > LOG_LVL_DEBUG)
		min = LOG_LVL_DEBUG;
	atomic_store_explicit(&log_min, (int)min, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&log_min, memory_order_relaxed);
}

int log_enabled(enum log_level lvl)
{
	return (int)lvl <= atomic_load_explicit(&log_min, memory_order_relaxed);
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; s && i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	if (s && strcasecmp(s, "warning") == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level lvl)
{
	return (unsigned)lvl <= LOG_LVL_DEBUG ? level_names[lvl] : "?";
}

/* Appends to a fixed buffer, remembering whether anything did not fit. */
struct line {
	char *buf;
	size_t len, cap;	/* cap excludes room reserved for the marker and '\n' */
	int cut;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (n > l->cap - l->len) {
		n = l->cap - l->len;
		l->cut = 1;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* Control characters become \n, \r, \t... so one record stays one line. */
static void put_escaped(struct line *l, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	for (size_t i = 0; i < n && !l->cut; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[4];
		size_t k = 0;

		if (ch >= 0x20 && ch != 0x7f)
			continue;
		put(l, s + run, i - run);
		run = i + 1;
		esc[k++] = '\\';
		switch (ch) {
		case '\n': esc[k++] = 'n'; break;
		case '\r': esc[k++] = 'r'; break;
		case '\t': esc[k++] = 't'; break;
		default:
			esc[k++] = 'x';
			esc[k++] = hex[ch >> 4];
			esc[k++] = hex[ch & 15];
		}
		if (k > l->cap - l->len)	/* never split an escape */
			l->cut = 1;
		else
			put(l, esc, k);
	}
	if (!l->cut)
		put(l, s + run, n - run);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;	/* nowhere left to report it */
		}
		p += w;
		n -= (size_t)w;
	}
}

void log_vmsg(enum log_level lvl, const char *component, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], out[LOG_LINE_MAX];
	struct line l = { out, 0, LOG_LINE_MAX - sizeof(TRUNC_MARK), 0 };
	int n, journal, saved_errno = errno;

	if ((unsigned)lvl > LOG_LVL_DEBUG)
		lvl = LOG_LVL_ERROR;
	if (!log_enabled(lvl))
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		n = snprintf(msg, sizeof(msg), "(bad log format \"%s\")", fmt);

	pthread_mutex_lock(&log_lock);
	if (log_journal < 0)
		log_journal = log_path ? 0 : stderr_is_journal();
	journal = log_journal;
	if (journal) {
		char prio[3] = { '<', level_prio[lvl], '>' };

		put(&l, prio, 3);
	} else {
		struct timespec ts;
		struct tm tm;
		char stamp[40];
		int k;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		k = snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_tags[lvl]);
		put(&l, stamp, (size_t)k);
	}
	if (component && *component) {
		put_escaped(&l, component, strlen(component));
		put(&l, ": ", 2);
	}
	put_escaped(&l, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	if ((size_t)n >= sizeof(msg))
		l.cut = 1;
	if (l.cut) {
		memcpy(out + l.len, TRUNC_MARK, sizeof(TRUNC_MARK) - 1);
		l.len += sizeof(TRUNC_MARK) - 1;
	}
	out[l.len++] = '\n';
	write_all(log_fd, out, l.len);
	pthread_mutex_unlock(&log_lock);
	errno = saved_errno;
}

void log_msg(enum log_level lvl, const char *component, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, component, fmt, ap);
	va_end(ap);
}
