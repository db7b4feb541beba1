/* libFuzzer target: the block-document parser and the MPC event matcher behind it.
 * Any input must give BD_OK, BD_NULL or BD_ERROR with a message, never a crash, and a
 * parsed document must reduce to events without reading outside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blockdoc.h"
#include "mpc_events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct blockdoc d;
	static struct mpc_matcher *m;
	char err[512];
	/* an exact-size copy, so ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (!m) {
		struct mpci_filter f[2] = { { MPCI_FILTER_RECEIVER, "c.near", NULL },
					    { MPCI_FILTER_EXECUTOR_PROMISE, "c.near", "sign" } };
		m = mpc_matcher_new("c.near");
		mpc_matcher_add(m, 1, f, 2, err, sizeof(err));
	}
	err[0] = 0;
	int r = blockdoc_parse(&d, buf, size, err, sizeof(err));
	if (r == BD_ERROR && !err[0])
		abort();	/* an error must say what */
	if (r == BD_OK)
		mpc_block_free(mpc_events_extract(m, &d));
	blockdoc_parse_header(&d, buf, size, err, sizeof(err));
	free(buf);
	return 0;
}
