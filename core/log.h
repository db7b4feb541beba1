/* Leveled logging to stderr, a file, or systemd's journal; thread-safe, one line per record. */
#ifndef MPCI_CORE_LOG_H
#define MPCI_CORE_LOG_H
#include <stdarg.h>

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/*
 * Send records at or above `min` to `path` (opened O_APPEND, created 0640), or to stderr
 * when path is NULL. Before the first log_open() records go to stderr at LOG_LVL_INFO.
 * When stderr is systemd's journal (JOURNAL_STREAM matches fd 2) lines carry a "<N>"
 * syslog priority prefix instead of a timestamp:
 *   terminal/file:  2026-11-24T01:02:03.456Z INFO  component: message
 *   journal:        <6>component: message
 * Returns 0, or -errno (the previous destination is kept).
 */
int log_open(const char *path, enum log_level min);

/* SIGHUP: reopen the file by its path (after logrotate renamed it). On failure the old
 * fd is kept, the failure is logged to it, and -errno is returned. No-op for stderr. */
int log_reopen(void);

/* Back to stderr; closes the file. */
void log_close(void);

void log_set_level(enum log_level min);
enum log_level log_get_level(void);
/* 1 when a record at `lvl` would be written (to skip expensive formatting). */
int log_enabled(enum log_level lvl);

/* "error", "warn" (or "warning"), "info", "debug", case-insensitive. 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
/* "error", "warn", "info", "debug". */
const char *log_level_name(enum log_level lvl);

/*
 * One record = one line = one write(2). Newlines and other control characters in the
 * message are escaped (\n, \r, \xHH); records longer than LOG_LINE_MAX bytes are cut and
 * end in " [truncated]". `component` may be NULL. Safe from any thread.
 */
#define LOG_LINE_MAX 4096
void log_msg(enum log_level lvl, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level lvl, const char *component, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define log_error(comp, ...) log_msg(LOG_LVL_ERROR, (comp), __VA_ARGS__)
#define log_warn(comp, ...)  log_msg(LOG_LVL_WARN, (comp), __VA_ARGS__)
#define log_info(comp, ...)  log_msg(LOG_LVL_INFO, (comp), __VA_ARGS__)
#define log_debug(comp, ...) log_msg(LOG_LVL_DEBUG, (comp), __VA_ARGS__)

#endif
