/* Write, fsync, rename: the project's crash-safe way to replace a file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outfile.h"

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
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

int tee_write_whole(const char *path, const char *data, size_t len, char *err,
		    size_t errsz)
{
	char *tmp = NULL;
	int fd = -1, saved;

	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		snprintf(err, errsz, "%s: out of memory", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, data, len) < 0 || write_all(fd, "\n", 1) < 0 ||
	    fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	snprintf(err, errsz, "%s: %s", path, strerror(saved));
	free(tmp);
	return -1;
}
