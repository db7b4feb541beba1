/* libFuzzer target: tee-attester's TDX quote reader and the PCK certificate
 * reader behind it.  Any bytes give a parsed quote whose pointers lie inside
 * the input, or an error with a message; never a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pck.h"
#include "quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tee_quote q;
	struct tee_pck pck;
	char err[512];
	/* an exact-size copy, so ASan sees any read past the end */
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (tee_quote_parse(buf, size, &q, err, sizeof(err)) == 0) {
		if ((const uint8_t *)q.pck_chain < buf ||
		    (const uint8_t *)q.pck_chain + q.pck_chain_len > buf + size ||
		    q.report_data + 64 > buf + size)
			abort();
		tee_pck_read(q.pck_chain, q.pck_chain_len, &pck, err, sizeof(err));
	} else if (!err[0]) {
		abort();
	}
	free(buf);
	return 0;
}
