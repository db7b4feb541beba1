/* Reference-counted protocol lines. */
#include "msg.h"

#include <stdlib.h>
#include <string.h>

#include "jbuf.h"

struct bmsg *bmsg_new(const char *line, size_t len)
{
	if (len > SIZE_MAX - sizeof(struct bmsg) - 1)
		return NULL;
	struct bmsg *m = malloc(sizeof(*m) + len + 1);
	if (!m)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->refs = 1;
	memcpy(m->data, line, len);
	m->data[len] = '\n';
	m->len = len + 1;
	return m;
}

struct bmsg *bmsg_from(struct jbuf *b)
{
	struct bmsg *m = b->oom ? NULL : bmsg_new(b->p ? b->p : "", b->len);
	jb_free(b);
	return m;
}

struct bmsg *bmsg_ref(struct bmsg *m)
{
	m->refs++;
	return m;
}

void bmsg_unref(struct bmsg *m)
{
	if (m && --m->refs == 0)
		free(m);
}
