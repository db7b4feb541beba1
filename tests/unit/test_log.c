/* core/log: line format, journal mode, level filter, escaping, truncation, reopen, threads. */
#include "../tap.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test_log.XXXXXX";

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static int matches(const char *re, const char *s)
{
	regex_t rx;
	int rc;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
		return 0;
	rc = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return rc;
}

#define STAMP "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "

static void path_in(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static void test_format_and_levels(void)
{
	char path[256], *s;
	enum log_level lvl;

	path_in(path, sizeof(path), "fmt.log");
	is_int(log_open(path, LOG_LVL_INFO), 0, "log_open on a new file");
	log_info("rpc", "hello %d", 42);
	log_debug("rpc", "hidden at info");
	log_warn("viewer", "careful");
	log_error(NULL, "no component");
	s = slurp(path);
	ok(matches(STAMP "INFO  rpc: hello 42$", s), "info line: timestamp, padded level, component");
	ok(matches(STAMP "WARN  viewer: careful$", s), "warn line");
	ok(matches(STAMP "ERROR no component$", s), "record without component");
	ok(!strstr(s, "hidden"), "debug filtered at info");
	is_int(count_lines(s), 3, "three records, three lines");
	free(s);

	log_set_level(LOG_LVL_DEBUG);
	ok(log_enabled(LOG_LVL_DEBUG), "log_enabled follows log_set_level");
	log_debug("rpc", "now visible");
	log_set_level(LOG_LVL_ERROR);
	log_warn("rpc", "warn hidden at error");
	s = slurp(path);
	ok(matches(STAMP "DEBUG rpc: now visible$", s), "debug shown at debug");
	ok(!strstr(s, "warn hidden"), "warn filtered at error");
	free(s);
	struct stat st;
	stat(path, &st);
	is_int(st.st_mode & 0777, 0640, "log file created 0640");

	is_int(log_level_parse("debug", &lvl), 0, "parse debug");
	is_int(lvl, LOG_LVL_DEBUG, "debug value");
	is_int(log_level_parse("WARN", &lvl), 0, "parse is case-insensitive");
	is_int(lvl, LOG_LVL_WARN, "warn value");
	is_int(log_level_parse("error", &lvl), 0, "parse error");
	is_int(lvl, LOG_LVL_ERROR, "error value");
	is_int(log_level_parse("info", &lvl), 0, "parse info");
	is_int(log_level_parse("verbose", &lvl), -EINVAL, "unknown level refused");
	is_str(log_level_name(LOG_LVL_INFO), "info", "level name");
	log_close();
}

static void test_escaping_and_truncation(void)
{
	char path[256], *s, *big;

	path_in(path, sizeof(path), "esc.log");
	log_open(path, LOG_LVL_INFO);
	log_info("comp\nx", "line1\nline2\r\x01\ttab\\");
	s = slurp(path);
	is_int(count_lines(s), 1, "newlines in a message do not split the record");
	ok(matches(STAMP "INFO  comp\\\\nx: line1\\\\nline2\\\\r\\\\x01\\\\ttab\\\\$", s),
	   "control characters escaped");
	free(s);
	log_close();

	path_in(path, sizeof(path), "long.log");
	log_open(path, LOG_LVL_INFO);
	big = malloc(20000);
	memset(big, 'a', 19999);
	big[19999] = '\0';
	big[5000] = '\n';
	log_info("big", "%s", big);
	log_info("big", "after");
	s = slurp(path);
	is_int(count_lines(s), 2, "overlong record still one line");
	{
		char *nl = strchr(s, '\n');
		size_t first = nl ? (size_t)(nl - s) + 1 : 0;

		ok(first <= LOG_LINE_MAX, "line cut to LOG_LINE_MAX (%zu)", first);
		ok(first > LOG_LINE_MAX - 64, "but not much shorter");
		ok(nl && first > 12 && memcmp(nl - 12, " [truncated]", 12) == 0,
		   "truncation marker at the end");
	}
	ok(matches(STAMP "INFO  big: after$", s), "next record intact");
	free(s);
	free(big);
	log_close();
}

static void test_reopen(void)
{
	char path[256], rotated[256], *s;

	path_in(path, sizeof(path), "rot.log");
	path_in(rotated, sizeof(rotated), "rot.log.1");
	log_open(path, LOG_LVL_INFO);
	log_info("t", "first");
	ok(rename(path, rotated) == 0, "logrotate renames the file");
	log_info("t", "second");
	is_int(log_reopen(), 0, "log_reopen after rename");
	log_info("t", "third");
	s = slurp(rotated);
	ok(strstr(s, "first") && strstr(s, "second") && !strstr(s, "third"),
	   "old file has the records before the reopen");
	free(s);
	s = slurp(path);
	ok(strstr(s, "third") && !strstr(s, "second"), "new file gets records after reopen");
	free(s);

	/* The path becomes unopenable: the old fd stays and says so. */
	ok(rename(path, rotated) == 0 && mkdir(path, 0700) == 0, "path replaced by a directory");
	ok(log_reopen() < 0, "log_reopen fails");
	log_info("t", "fourth");
	s = slurp(rotated);
	ok(strstr(s, "cannot reopen") && strstr(s, "fourth"), "failure logged to the kept file");
	free(s);
	rmdir(path);
	log_close();
	is_int(log_open(path, LOG_LVL_INFO), 0, "log_open again");
	is_int(log_open("/nonexistent-dir/x.log", LOG_LVL_INFO), -ENOENT,
	       "log_open of an impossible path fails with -errno");
	log_info("t", "fifth");
	s = slurp(path);
	ok(strstr(s, "fifth") != NULL, "failed log_open kept the previous file");
	free(s);
	log_close();
}

/* Points fd 2 at a file, so what the logger writes to "stderr" can be read back. */
static int capture_stderr(const char *path, int *saved)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	*saved = dup(2);
	dup2(fd, 2);
	close(fd);
	return 0;
}

static void restore_stderr(int saved)
{
	dup2(saved, 2);
	close(saved);
}

static void test_journal(void)
{
	char path[256], env[64], *s;
	struct stat st;
	int saved;

	path_in(path, sizeof(path), "journal.out");
	capture_stderr(path, &saved);
	fstat(2, &st);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_open(NULL, LOG_LVL_DEBUG);
	log_error("a", "e");
	log_warn("b", "w");
	log_info("c", "i");
	log_debug("d", "d");
	restore_stderr(saved);
	s = slurp(path);
	is_str(s, "<3>a: e\n<4>b: w\n<6>c: i\n<7>d: d\n", "journal: priority prefix, no timestamp");
	free(s);

	capture_stderr(path, &saved);
	setenv("JOURNAL_STREAM", "1:2", 1);
	log_open(NULL, LOG_LVL_INFO);
	log_info("c", "plain");
	restore_stderr(saved);
	s = slurp(path);
	ok(matches(STAMP "INFO  c: plain$", s), "JOURNAL_STREAM for another stream: normal format");
	free(s);
	unsetenv("JOURNAL_STREAM");
	log_close();
}

#define THREADS 8
#define PER_THREAD 400

static void *writer(void *arg)
{
	long id = (long)arg;
	char pad[300];

	memset(pad, 'a' + (int)id, sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (int i = 0; i < PER_THREAD; i++)
		log_info("thr", "t%ld n%d %s end", id, i, pad);
	return NULL;
}

static void test_threads(void)
{
	char path[256], *s, *line, *save = NULL;
	pthread_t t[THREADS];
	int lines = 0, good = 0;

	path_in(path, sizeof(path), "threads.log");
	log_open(path, LOG_LVL_INFO);
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, writer, (void *)i);
	/* Reopen while writers run: no record may be lost or torn. */
	for (int i = 0; i < 20; i++)
		log_reopen();
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	log_close();
	s = slurp(path);
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lines++;
		good += matches(STAMP "INFO  thr: t[0-7] n[0-9]+ ([a-h])\\1{298} end$", line);
	}
	is_int(lines, THREADS * PER_THREAD, "every record from %d threads written", THREADS);
	is_int(good, THREADS * PER_THREAD, "no record torn or interleaved");
	free(s);
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));
	test_format_and_levels();
	test_escaping_and_truncation();
	test_reopen();
	test_journal();
	test_threads();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
