/* jw: a small, fast JSON writer into a growing buffer (nearsim renders every document with it). */
#ifndef NEARSIM_JW_H
#define NEARSIM_JW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 64

struct jw {
	char *buf;
	size_t len, cap;
	int depth;
	bool pending_key;       /* a key was written; the next value takes no comma */
	bool oom;
	uint8_t need_comma[JW_MAX_DEPTH];
};

void jw_init(struct jw *w, size_t cap);
void jw_free(struct jw *w);
/* Hand the NUL-terminated buffer to the caller (who frees it); the writer is reset. */
char *jw_take(struct jw *w, size_t *len);
void jw_reset(struct jw *w);

void jw_obj(struct jw *w);
void jw_end_obj(struct jw *w);
void jw_arr(struct jw *w);
void jw_end_arr(struct jw *w);
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_u64(struct jw *w, uint64_t v);
void jw_i64(struct jw *w, int64_t v);
void jw_u64_str(struct jw *w, uint64_t v);          /* "123" */
void jw_u128_str(struct jw *w, unsigned __int128 v); /* "123" */
void jw_double(struct jw *w, double v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
void jw_raw(struct jw *w, const char *json, size_t n); /* an already-rendered JSON value */
void jw_hash(struct jw *w, const uint8_t h[32]);       /* base58 string */
void jw_pk(struct jw *w, const uint8_t pk[32]);        /* "ed25519:<base58>" */
void jw_sig(struct jw *w, const uint8_t sig[64]);      /* "ed25519:<base58>" */
void jw_b64(struct jw *w, const uint8_t *d, size_t n);  /* base64 string */
void jw_bytes_arr(struct jw *w, const uint8_t *d, size_t n); /* [1,2,3] */
void jw_hex(struct jw *w, const uint8_t *d, size_t n);

/* key + value shorthands */
void jw_kstr(struct jw *w, const char *k, const char *s);
void jw_ku64(struct jw *w, const char *k, uint64_t v);
void jw_ku64s(struct jw *w, const char *k, uint64_t v);
void jw_ku128(struct jw *w, const char *k, unsigned __int128 v);
void jw_kbool(struct jw *w, const char *k, bool v);
void jw_knull(struct jw *w, const char *k);
void jw_khash(struct jw *w, const char *k, const uint8_t h[32]);
void jw_kpk(struct jw *w, const char *k, const uint8_t pk[32]);
void jw_kraw(struct jw *w, const char *k, const char *json, size_t n);
void jw_kempty_arr(struct jw *w, const char *k);

/* Append raw bytes without any structure bookkeeping (for splicing documents). */
void jw_append(struct jw *w, const char *s, size_t n);
#endif
