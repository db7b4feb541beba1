/* backup_write: store keyshares (JSON on stdin) as a backup file, the way the
 * backup-migration plugin does, so that CLI tests need no daemon.
 * usage: backup_write DIR STORAGE_KEY_FILE EPOCH ACCOUNT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup_store.h"

int main(int argc, char **argv)
{
	unsigned char key[BACKUP_KEY_BYTES];
	char err[512];
	static char buf[1 << 20];
	if (argc != 5) {
		fprintf(stderr, "usage: backup_write DIR STORAGE_KEY_FILE EPOCH ACCOUNT < keyshares.json\n");
		return 2;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);
	if (backup_key_load(argv[2], key, err, sizeof(err)) < 0 ||
	    backup_write(argv[1], key, argv[4], strtoull(argv[3], NULL, 10), buf, n, 0, NULL, err,
			 sizeof(err)) != BACKUP_OK) {
		fprintf(stderr, "backup_write: %s\n", err);
		return 1;
	}
	return 0;
}
