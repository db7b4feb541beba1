/* Borsh: a growable little-endian writer and a bounds-checked reader. */
#ifndef MPCI_NEAR_BORSH_H
#define MPCI_NEAR_BORSH_H
#include <stddef.h>
#include <stdint.h>
#include "near/u128.h"

/*
 * Writer. Zero-initialise (BORSH_BUF_INIT) and append. An allocation failure or a length
 * that does not fit a u32 sets failed; later appends are then no-ops, so callers check
 * failed once at the end. The owner calls borsh_buf_free.
 */
struct borsh_buf {
	uint8_t *data;
	size_t len, cap;
	int failed;
};
#define BORSH_BUF_INIT { NULL, 0, 0, 0 }

void borsh_buf_free(struct borsh_buf *b);
void borsh_u8(struct borsh_buf *b, uint8_t v);
void borsh_u32(struct borsh_buf *b, uint32_t v);
void borsh_u64(struct borsh_buf *b, uint64_t v);
void borsh_u128(struct borsh_buf *b, near_u128 v);
/* Vec<u8>: u32 length then the bytes. */
void borsh_bytes(struct borsh_buf *b, const void *p, size_t n);
/* String from a NUL-terminated C string: u32 length then the bytes (no NUL). */
void borsh_string(struct borsh_buf *b, const char *s);
/* Fixed array ([u8; N]): the raw bytes, no length. */
void borsh_fixed(struct borsh_buf *b, const void *p, size_t n);

/*
 * Reader over borrowed bytes. A getter that would run past len sets failed, leaves off
 * where the failed read started and returns 0 / NULL; after a failure every getter fails.
 */
struct borsh_rd {
	const uint8_t *p;
	size_t len, off;
	int failed;
};

void borsh_rd_init(struct borsh_rd *r, const void *p, size_t len);
size_t borsh_rd_remaining(const struct borsh_rd *r);
uint8_t borsh_get_u8(struct borsh_rd *r);
uint32_t borsh_get_u32(struct borsh_rd *r);
uint64_t borsh_get_u64(struct borsh_rd *r);
near_u128 borsh_get_u128(struct borsh_rd *r);
/* Vec<u8> / String: the bytes (pointer into the input, not NUL-terminated) and *n. */
const uint8_t *borsh_get_bytes(struct borsh_rd *r, size_t *n);
/* n raw bytes (fixed array); pointer into the input. */
const uint8_t *borsh_get_fixed(struct borsh_rd *r, size_t n);
/*
 * String as a malloc'd NUL-terminated copy (caller frees). Fails (NULL, failed set) if it
 * is longer than maxlen bytes, holds a NUL byte or is not valid UTF-8 (Borsh String rule).
 */
char *borsh_get_string(struct borsh_rd *r, size_t maxlen);
/* 1 if the n bytes are strict UTF-8 (what a Borsh String must hold), else 0. */
int borsh_utf8_valid(const uint8_t *s, size_t n);

#endif
