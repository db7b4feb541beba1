/* libFuzzer target: the configuration parser and its section checks on any
 * bytes.  Errors are fine; crashes, leaks and hangs are not. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static const struct cfg_key keys[] = {
	{ "s", CFG_STR, NULL, "" },       { "i", CFG_INT, "1", "" },
	{ "u", CFG_UINT, NULL, "" },      { "b", CFG_BOOL, "no", "" },
	{ "d", CFG_DOUBLE, NULL, "" },    { "t", CFG_DURATION, "1s", "" },
	{ "z", CFG_SIZE, NULL, "" },      { "l", CFG_LIST, NULL, "" },
	{ "p", CFG_PATH, NULL, "" },      { NULL, 0, NULL, NULL },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct cfg *c;
	struct cfg_error err;
	char line[1024];

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz-config-%d.ini", (int)getpid());
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (cfg_load(&c, path, &err) < 0) {
		cfg_format_error(&err, line, sizeof(line));
		return 0;
	}
	const struct cfg_key *schemas[] = { keys, NULL };
	for (size_t i = 0; i < cfg_section_count(c); i++) {
		const char *s = cfg_section_name(c, i);
		if (cfg_check_section(c, s, schemas, &err) == 0) {
			int64_t iv;
			double dv;
			char **l = NULL;
			(void)cfg_get_int(c, s, "i", &iv);
			(void)cfg_get_duration(c, s, "t", &dv);
			cfg_get_list(c, s, "l", &l);
			cfg_list_free(l);
		}
		cfg_format_error(&err, line, sizeof(line));
	}
	cfg_free(c);
	return 0;
}
