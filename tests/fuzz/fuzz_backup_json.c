/* libFuzzer: what the backup-migration plugin parses from peers and the chain.  The first
 * byte picks the parser: keyshares JSON, a transport body, the state view, migration_info. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup_store.h"
#include "contract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char key[BACKUP_KEY_BYTES];
	char err[512], *pt = NULL;
	size_t n;
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	size--;
	switch (data[0] % 4) {
	case 0: {
		struct backup_info info;
		if (backup_keyshares_scan(text, size, &info, err, sizeof(err)) == 0 &&
		    info.n_domains != info.n_keyshares)
			abort();
		break;
	}
	case 1:
		memset(key, 0, sizeof(key));
		if (backup_transport_open(key, text, size, &pt, &n, err, sizeof(err)) == 0 &&
		    strlen(pt) > n)
			abort();
		backup_secret_free(pt);
		break;
	case 2: {
		struct contract_state s;
		if (contract_parse_state(text, size, "frodo.test.near", &s, err, sizeof(err)) == 0)
			contract_state_clear(&s);
		break;
	}
	default: {
		struct contract_migration m;
		contract_parse_migration(text, size, "alice.near", &m, err, sizeof(err));
		break;
	}
	}
	return 0;
}
