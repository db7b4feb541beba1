/* libFuzzer: the backup file reader (magic, header, AEAD, payload) on any bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the key run-backup.sh writes its seed files with */
	unsigned char key[BACKUP_KEY_BYTES];
	struct backup_info info;
	char err[512], *ks = NULL;
	size_t len;
	memset(key, 0x5a, sizeof(key));
	if (backup_read_buffer(data, size, "fuzz", key, &info, &ks, &len, err, sizeof(err)) == 0 &&
	    (!ks || strlen(ks) != len))
		abort();
	backup_secret_free(ks);
	return 0;
}
