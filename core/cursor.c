/* Crash-safe cursor file: see cursor.h. Text, one "key value" per line, so an operator
 * can read (and, stopped, edit) it. */
#include "cursor.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "mpc-indexer blocks cursor 1"
#define CURSOR_MAX 4096		/* what cursor_save writes is < 200 bytes */

static int valid_hash(const char *s)
{
	uint8_t h[32];

	return near_hash_from_b58(h, s) == 0;
}

/* The first line: the magic, then at most whitespace (an editor's \r). */
static int magic_line(const char *line)
{
	size_t m = strlen(MAGIC);

	if (strncmp(line, MAGIC, m) != 0)
		return 0;
	for (line += m; isspace((unsigned char)*line); line++)
		;
	return !*line;
}

int cursor_load(const char *dir, struct cursor_pos *out, char *err, size_t errsz)
{
	char path[4096], key[32], val[128], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	struct stat sb;
	FILE *f;
	int have = 0, lineno = 0;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/%s", dir, CURSOR_FILE);
	if (!(f = fopen(path, "r"))) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &sb) == 0 && sb.st_size > CURSOR_MAX) {
		fclose(f);
		snprintf(err, errsz, "%s: %lld bytes, larger than a cursor can be (delete the file to "
			 "start from [blocks] start)", path, (long long)sb.st_size);
		return -1;
	}
	/* Each line whole: one "key value", no more words, no NUL byte, no value cut short. */
	while ((len = getline(&line, &cap, f)) >= 0) {
		int end = 0;

		lineno++;
		if ((size_t)len != strlen(line))
			goto bad;
		if (lineno == 1) {
			if (!magic_line(line))
				goto bad;
			continue;
		}
		if (sscanf(line, "%31s %127s %n", key, val, &end) != 2 || line[end] ||
		    strlen(key) == sizeof(key) - 1)
			goto bad;
		char *e;
		if (!strcmp(key, "height") || !strcmp(key, "final_height")) {
			errno = 0;
			unsigned long long v = strtoull(val, &e, 10);
			if (errno || *e || val[0] == '-')
				goto bad;
			if (key[0] == 'h')
				out->height = v, have |= 1;
			else
				out->final_height = v, have |= 4;
		} else if (!strcmp(key, "hash") || !strcmp(key, "final_hash")) {
			if (strlen(val) >= NEAR_HASH_B58_MAX || !valid_hash(val))
				goto bad;
			if (key[0] == 'h')
				snprintf(out->hash, sizeof(out->hash), "%s", val), have |= 2;
			else
				snprintf(out->final_hash, sizeof(out->final_hash), "%s", val), have |= 8;
		}
	}
	free(line);
	fclose(f);
	if (have != 15) {
		snprintf(err, errsz, "%s: incomplete cursor (want height, hash, final_height, final_hash)", path);
		return -1;
	}
	return 0;
bad:
	free(line);
	fclose(f);
	snprintf(err, errsz, "%s:%d: damaged cursor line (delete the file to start from [blocks] start)",
		 path, lineno);
	return -1;
}

int cursor_save(const char *dir, const struct cursor_pos *pos, char *err, size_t errsz)
{
	char path[4096], tmp[4096], buf[512];
	int fd, dfd, n;

	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, CURSOR_FILE);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, CURSOR_FILE);
	n = snprintf(buf, sizeof(buf), MAGIC "\nheight %llu\nhash %s\nfinal_height %llu\nfinal_hash %s\n",
		     (unsigned long long)pos->height, pos->hash, (unsigned long long)pos->final_height,
		     pos->final_hash);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) {
		snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, buf, (size_t)n) != n || fsync(fd) < 0) {
		snprintf(err, errsz, "%s: %s", tmp, strerror(errno ? errno : EIO));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		snprintf(err, errsz, "rename to %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}
