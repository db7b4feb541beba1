/* The persisted position: save and load round trip, replace atomically, refuse damage
 * with a message naming the file and line, "no cursor yet" is not an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "cursor.h"

int main(void)
{
	char dir[] = "/tmp/cursor-test.XXXXXX", path[512], err[512];
	struct cursor_pos p = { 0 }, q;
	FILE *f;

	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	is_int(cursor_load(dir, &q, err, sizeof(err)), 1, "no cursor yet: 1, not an error");
	p.height = 187456272;
	snprintf(p.hash, sizeof(p.hash), "DEK7XjDsduvDwVidshcJWGBGby7XLXozPagCgQDKmeae");
	p.final_height = 187456270;
	snprintf(p.final_hash, sizeof(p.final_hash), "7xGpYhcTbpwRANU4qefPDgr8BjLj79YuevDAN86zuDMU");
	is_int(cursor_save(dir, &p, err, sizeof(err)), 0, "save");
	is_int(cursor_load(dir, &q, err, sizeof(err)), 0, "load");
	ok(q.height == p.height && !strcmp(q.hash, p.hash) && q.final_height == p.final_height &&
	   !strcmp(q.final_hash, p.final_hash), "round trip");
	p.height++;
	is_int(cursor_save(dir, &p, err, sizeof(err)), 0, "save again (replaces)");
	cursor_load(dir, &q, err, sizeof(err));
	is_int(q.height, 187456273, "the new position is read");
	snprintf(path, sizeof(path), "%s/.%s.tmp", dir, CURSOR_FILE);
	ok(access(path, F_OK) != 0, "no temporary file is left behind");

	snprintf(path, sizeof(path), "%s/%s", dir, CURSOR_FILE);
	f = fopen(path, "w");
	fputs("mpc-indexer blocks cursor 1\nheight 12\nhash not-base58!\n", f);
	fclose(f);
	ok(cursor_load(dir, &q, err, sizeof(err)) < 0 && strstr(err, path) && strstr(err, ":3:"),
	   "a damaged cursor is refused naming file and line (%s)", err);
	f = fopen(path, "w");
	fputs("mpc-indexer blocks cursor 1\nheight 12\n", f);
	fclose(f);
	ok(cursor_load(dir, &q, err, sizeof(err)) < 0 && strstr(err, "incomplete"), "an incomplete cursor is refused");
	f = fopen(path, "w");
	fputs("something else\n", f);
	fclose(f);
	ok(cursor_load(dir, &q, err, sizeof(err)) < 0, "a foreign file is refused");

	/* Text that does not say exactly one position is refused, not read in part
	 * (found by tests/fuzz/fuzz_cursor.c: a NUL byte ended a line early). */
	static const char head[] = "mpc-indexer blocks cursor 1\nhash DEK7XjDsduvDwVidshcJWGBGby7XLXozPagCgQDKmeae\n"
		"final_height 5\nfinal_hash DEK7XjDsduvDwVidshcJWGBGby7XLXozPagCgQDKmeae\n";
	char zeros[200];
	memset(zeros, '0', sizeof(zeros) - 1);
	zeros[sizeof(zeros) - 1] = 0;
	struct { const char *what, *line; size_t len; } bad[] = {
		{ "a NUL byte inside a value", "height 12\0" "34\n", 13 },
		{ "a second value", "height 12 34\n", 0 },
		{ "a value longer than any", zeros, 0 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = fopen(path, "w");
		fputs(head, f);
		if (bad[i].len)
			fwrite(bad[i].line, 1, bad[i].len, f);
		else if (bad[i].line == zeros)
			fprintf(f, "height %s7\n", zeros);
		else
			fputs(bad[i].line, f);
		fclose(f);
		ok(cursor_load(dir, &q, err, sizeof(err)) < 0 && strstr(err, ":5: damaged"),
		   "%s is refused (%s)", bad[i].what, err);
	}
	f = fopen(path, "w");
	fputs("mpc-indexer blocks cursor 10\nheight 5\n", f);
	fputs(head + strlen("mpc-indexer blocks cursor 1\n"), f);
	fclose(f);
	ok(cursor_load(dir, &q, err, sizeof(err)) < 0 && strstr(err, ":1: damaged"),
	   "another version's magic is refused");
	f = fopen(path, "w");
	fputs(head, f);
	for (int i = 0; i < 100; i++)
		fprintf(f, "note %s\n", zeros);
	fclose(f);
	ok(cursor_load(dir, &q, err, sizeof(err)) < 0 && strstr(err, "larger than a cursor"),
	   "a file far larger than a cursor is refused (%s)", err);
	f = fopen(path, "w");
	fputs("mpc-indexer blocks cursor 1\r\nheight 0007\r\nhash DEK7XjDsduvDwVidshcJWGBGby7XLXozPagCgQDKmeae\r\n"
	      "final_height 5\r\nfinal_hash 7xGpYhcTbpwRANU4qefPDgr8BjLj79YuevDAN86zuDMU\r\n", f);
	fclose(f);
	ok(cursor_load(dir, &q, err, sizeof(err)) == 0 && q.height == 7 && q.final_height == 5 &&
	   !strcmp(q.final_hash, "7xGpYhcTbpwRANU4qefPDgr8BjLj79YuevDAN86zuDMU"),
	   "an operator's edit with CRLF line ends and leading zeros still loads");
	unlink(path);
	rmdir(dir);
	return done_testing();
}
