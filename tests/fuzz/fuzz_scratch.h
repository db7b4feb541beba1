/* For fuzz targets that read a file: one scratch file per process, in a
 * directory made on first use and removed at exit. */
#ifndef FUZZ_SCRATCH_H
#define FUZZ_SCRATCH_H
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir[200], fuzz_path[240];

static inline void fuzz_scratch_remove(void)
{
	unlink(fuzz_path);
	rmdir(fuzz_dir);
}

/* fuzz_dir/name, fuzz_dir made under $TMPDIR (or /dev/shm, if shm and it is
 * there: the reader fsyncs, and tmpfs makes that free) named after tag. */
static inline const char *fuzz_scratch(const char *tag, const char *name, int shm)
{
	if (!fuzz_path[0]) {
		const char *t = shm && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
		int k = snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/fuzz-%s.XXXXXX", t && *t ? t : "/tmp", tag);
		if (k < 0 || (size_t)k >= sizeof(fuzz_dir) || !mkdtemp(fuzz_dir))
			abort();
		snprintf(fuzz_path, sizeof(fuzz_path), "%s/%s", fuzz_dir, name);
		atexit(fuzz_scratch_remove);
	}
	return fuzz_path;
}

/* Replace the scratch file with these bytes. */
static inline void fuzz_scratch_write(const void *p, size_t n)
{
	unlink(fuzz_path);
	FILE *f = fopen(fuzz_path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		abort();
}

#endif
