/* process_* metrics from /proc (see procstat.h).  Field numbers follow
 * proc(5): after the ")" that ends comm, field 3 is the state. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expo.h"
#include "procstat.h"

static int read_file(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t got = fread(buf, 1, n - 1, f);
	fclose(f);
	buf[got] = 0;
	return got ? 0 : -1;
}

void procstat_init(struct procstat *ps, const char *proc_dir)
{
	char buf[8192];
	memset(ps, 0, sizeof(*ps));
	ps->proc_dir = proc_dir ? proc_dir : "/proc/self";
	ps->ticks = sysconf(_SC_CLK_TCK);
	ps->page_size = sysconf(_SC_PAGESIZE);
	if (read_file("/proc/stat", buf, sizeof(buf)) == 0) {
		const char *p = strstr(buf, "\nbtime ");
		if (p)
			ps->boot_time = strtod(p + 7, NULL);
	}
}

struct stat_fields {
	double utime, stime, threads, start, vsize, rss;
	int ok;
};

static void read_stat(const struct procstat *ps, struct stat_fields *sf)
{
	char path[300], buf[2048];
	memset(sf, 0, sizeof(*sf));
	snprintf(path, sizeof(path), "%s/stat", ps->proc_dir);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return;
	char *p = strrchr(buf, ')');
	if (!p)
		return;
	/* fields 3.. separated by single spaces */
	double f[25] = { 0 };
	int field = 3;
	p++;
	while (*p == ' ')
		p++;
	while (*p && *p != ' ') /* field 3: the state letter */
		p++;
	while (field < 24) {
		char *end;
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p)
			return;
		f[++field] = (double)v;
		p = end;
	}
	sf->utime = f[14];
	sf->stime = f[15];
	sf->threads = f[20];
	sf->start = f[22];
	sf->vsize = f[23];
	sf->rss = f[24];
	sf->ok = 1;
}

static int count_fds(const struct procstat *ps)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/fd", ps->proc_dir);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream itself */
}

/* A soft limit from limits: -1 unknown, -2 unlimited. */
static double read_limit(const struct procstat *ps, const char *what)
{
	char path[300], buf[4096];
	snprintf(path, sizeof(path), "%s/limits", ps->proc_dir);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	const char *p = strstr(buf, what);
	if (!p)
		return -1;
	p += strlen(what);
	while (*p == ' ')
		p++;
	if (strncmp(p, "unlimited", 9) == 0)
		return -2;
	char *end;
	double v = strtod(p, &end);
	return end == p ? -1 : v;
}

struct emit {
	struct pbuf *b;
	int (*skip)(const char *name, void *ud);
	void *ud;
};

static void emit(struct emit *e, const char *name, const char *type,
		 const char *help, double v)
{
	if (e->skip && e->skip(name, e->ud))
		return;
	expo_header(e->b, name, type, help);
	expo_sample(e->b, name, v);
}

void procstat_render(const struct procstat *ps, struct pbuf *b,
		     int (*skip)(const char *name, void *ud), void *ud)
{
	struct emit e = { b, skip, ud };
	struct stat_fields sf;
	read_stat(ps, &sf);
	if (sf.ok && ps->ticks > 0) {
		emit(&e, "process_cpu_seconds_total", "counter",
		     "Total user and system CPU time spent in seconds.",
		     (sf.utime + sf.stime) / (double)ps->ticks);
		if (ps->boot_time > 0)
			emit(&e, "process_start_time_seconds", "gauge",
			     "Start time of the process since unix epoch in seconds.",
			     ps->boot_time + sf.start / (double)ps->ticks);
	}
	if (sf.ok) {
		emit(&e, "process_virtual_memory_bytes", "gauge",
		     "Virtual memory size in bytes.", sf.vsize);
		if (ps->page_size > 0)
			emit(&e, "process_resident_memory_bytes", "gauge",
			     "Resident memory size in bytes.",
			     sf.rss * (double)ps->page_size);
		emit(&e, "process_threads", "gauge", "Number of OS threads in the process.",
		     sf.threads);
	}
	int fds = count_fds(ps);
	if (fds >= 0)
		emit(&e, "process_open_fds", "gauge", "Number of open file descriptors.",
		     fds);
	double max_fds = read_limit(ps, "Max open files");
	if (max_fds >= 0)
		emit(&e, "process_max_fds", "gauge",
		     "Maximum number of open file descriptors.", max_fds);
	double max_as = read_limit(ps, "Max address space");
	if (max_as >= 0)
		emit(&e, "process_virtual_memory_max_bytes", "gauge",
		     "Maximum amount of virtual memory available in bytes.", max_as);
}
