/* libFuzzer: base58 and the parsers built on it (hashes, keys, signatures).
 * Base58 is a bijection, so decode(s) must encode back to s, and encode(b) decode to b. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "near/base58.h"
#include "near/hash.h"
#include "near/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t bin[256], back[256], h[NEAR_HASH_LEN], sig[NEAR_SIG_LEN];
	char str[B58_ENCODED_MAX(256)], *nul;
	struct near_pubkey pk;
	struct near_secret sk;
	size_t n, m, len;

	if (b58_decode(bin, sizeof(bin), (const char *)data, size, &n) == 0) {
		len = b58_encode(str, sizeof(str), bin, n);
		if (len != size || memcmp(str, data, size) != 0)
			abort();
	}
	if (size <= sizeof(bin)) {
		len = b58_encode(str, sizeof(str), data, size);
		if ((len == 0) != (size == 0) || strlen(str) != len)
			abort();
		if (b58_decode(back, sizeof(back), str, len, &m) != 0 || m != size ||
		    (size && memcmp(back, data, size) != 0))
			abort();
	}
	nul = malloc(size + 1);
	if (!nul)
		return 0;
	memcpy(nul, data, size);
	nul[size] = '\0';
	(void)near_hash_from_b58(h, nul);
	(void)near_pubkey_parse(&pk, nul);
	(void)near_signature_parse(sig, nul);
	if (near_secret_parse(&sk, nul) == 0)
		near_secret_wipe(&sk);
	free(nul);
	return 0;
}
