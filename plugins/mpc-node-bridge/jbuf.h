/* A growable byte buffer with the few JSON writers the bridge needs.  A
 * failed allocation sets `oom` and turns later writes into no-ops, so
 * renderers check once at the end. */
#ifndef BRIDGE_JBUF_H
#define BRIDGE_JBUF_H

#include <stddef.h>
#include <stdint.h>

struct jbuf {
	char *p;
	size_t len;
	size_t cap;
	int oom;
};

void jb_init(struct jbuf *b);
void jb_free(struct jbuf *b);
/* Hand the bytes to the caller (NUL-terminated); the buffer is empty after. */
char *jb_take(struct jbuf *b, size_t *len);

/* The bytes as a C string (NULL after an allocation failure). */
const char *jb_cstr(struct jbuf *b);
void jb_put(struct jbuf *b, const void *s, size_t n);
void jb_str(struct jbuf *b, const char *s);          /* raw text */
void jb_u64(struct jbuf *b, uint64_t v);
void jb_i64(struct jbuf *b, int64_t v);
void jb_double(struct jbuf *b, double v);
/* A JSON string: quoted and escaped; NULL writes null. */
void jb_qstr(struct jbuf *b, const char *s);
void jb_qstrn(struct jbuf *b, const char *s, size_t n);
/* "key": (with a leading comma unless `first`). */
void jb_key(struct jbuf *b, const char *key, int first);
void jb_hex(struct jbuf *b, const uint8_t *p, size_t n); /* quoted lower-case hex */
void jb_base64(struct jbuf *b, const void *p, size_t n); /* quoted base64 */
/* A member whose bytes should be JSON: `"key":<bytes>` when they parse, else
 * `"key_base64":"..."`, so the line stays valid JSON whatever the chain held.
 * NULL writes `"key":null`. */
void jb_kv_json(struct jbuf *b, const char *key, const char *s, size_t n, int first);
/* Does s[0..n) hold exactly one JSON value? */
int jb_is_json(const char *s, size_t n);

#endif
