/*
 * The block stream's persisted position: the last block delivered to every subscriber
 * and the last final one. Written crash-safely (temporary file, fsync, rename, fsync of
 * the directory), so after a crash the file holds either the old or the new position.
 */
#ifndef MPCI_CURSOR_H
#define MPCI_CURSOR_H
#include <stddef.h>
#include <stdint.h>

#include "near/hash.h"

#define CURSOR_FILE "blocks.cursor"

struct cursor_pos {
	uint64_t height;			/* last delivered block */
	char hash[NEAR_HASH_B58_MAX];
	uint64_t final_height;			/* last delivered final block */
	char final_hash[NEAR_HASH_B58_MAX];
};

/* 0 and *out; 1 when there is no cursor yet; -1 and a message naming the file when it
 * is unreadable or damaged. */
int cursor_load(const char *dir, struct cursor_pos *out, char *err, size_t errsz);
/* 0, or -1 and a message (the previous cursor stays intact). Creates dir if missing. */
int cursor_save(const char *dir, const struct cursor_pos *pos, char *err, size_t errsz);

#endif
