/* Writing a file whole: a reader sees the old contents or the new, never a
 * part (dry-run output). */
#ifndef TEE_OUTFILE_H
#define TEE_OUTFILE_H

#include <stddef.h>

/* data and a newline to path.tmp, fsync, rename over path.  0, or -1 with
 * a message naming the file. */
int tee_write_whole(const char *path, const char *data, size_t len, char *err,
		    size_t errsz);

#endif
