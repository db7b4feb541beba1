/* One rendered protocol line, shared by every client it goes to.  Rendered
 * once, referenced by the ring and by each client's output queue, freed when
 * the last reference goes. */
#ifndef BRIDGE_MSG_H
#define BRIDGE_MSG_H

#include <stddef.h>
#include <stdint.h>

struct jbuf;

struct bmsg {
	unsigned refs;
	size_t len;                 /* bytes in data, the final '\n' included */
	uint64_t seq;               /* block updates: position in the stream */
	uint64_t height;            /* block updates: the block's height */
	uint64_t off;               /* block updates: stream bytes before this one */
	int is_block;               /* a "block" notification (not orphaned/finalized) */
	char data[];
};

/* Take the buffer's bytes, add the newline; NULL on allocation failure
 * (the buffer is emptied either way). */
struct bmsg *bmsg_from(struct jbuf *b);
struct bmsg *bmsg_new(const char *line, size_t len);  /* copies, adds '\n' */
struct bmsg *bmsg_ref(struct bmsg *m);
void bmsg_unref(struct bmsg *m);

#endif
