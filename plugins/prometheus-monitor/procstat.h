/* The standard process_* metrics of the daemon's own process, read from
 * /proc at scrape time.  A value that cannot be read is omitted, never
 * guessed. */
#ifndef PROM_PROCSTAT_H
#define PROM_PROCSTAT_H

#include "pbuf.h"

struct procstat {
	double boot_time;       /* seconds since the epoch, from /proc/stat btime */
	long ticks;             /* clock ticks per second */
	long page_size;
	const char *proc_dir;   /* "/proc/self" (tests may point elsewhere) */
};

void procstat_init(struct procstat *ps, const char *proc_dir);
/* Append the families; skip(name) returning 1 leaves one out (it exists
 * in the registry already). */
void procstat_render(const struct procstat *ps, struct pbuf *b,
		     int (*skip)(const char *name, void *ud), void *ud);

#endif
