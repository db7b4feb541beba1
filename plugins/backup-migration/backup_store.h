/*
 * The backup file format of the backup-migration plugin: keyshares encrypted
 * at rest, one file per epoch, plus the transport encryption the MPC node's
 * migration endpoint speaks.  Self-contained (libc, libsodium, libcrypto) so
 * that the daemon's `backup` command reads the same files without the plugin.
 *
 * File "epoch-<N>.mpcbak" (all integers little-endian):
 *   "MPCIBAK" 0x01            magic and format version
 *   u32 header_len            at most BACKUP_MAX_HEADER
 *   header                    JSON: format, epoch_id, domains[{domain_id,
 *                             attempt_id}], keyshares, created_unix,
 *                             account_id, key_check
 *   nonce[24]
 *   ciphertext || tag[16]     XChaCha20-Poly1305 of
 *                             {"epoch_id":N,"keyshares":[Keyshare,...]}
 * The additional data is every byte before the nonce, so the header cannot
 * change unnoticed.  key_check is a keyed BLAKE2b of a constant: it tells a
 * wrong key from a modified file without revealing the key.
 *
 * Transport (node <-> backup service): base64(nonce[12] || AES-256-GCM(JSON
 * Vec<Keyshare>) || tag[16]), no AAD.
 *
 * Secret plaintext is returned in sodium_malloc'd buffers: free it with
 * backup_secret_free(), which wipes it.  Keys never appear in messages.
 */
#ifndef BACKUP_STORE_H
#define BACKUP_STORE_H

#include <stddef.h>
#include <stdint.h>

#define BACKUP_KEY_BYTES 32
#define BACKUP_MAX_DOMAINS 64
#define BACKUP_MAX_HEADER 16384
#define BACKUP_MAX_FILE (64u << 20)       /* a file larger than this is refused */
#define BACKUP_MAX_KEYSHARES_JSON (32u << 20)
#define BACKUP_SUFFIX ".mpcbak"

enum backup_rc {
	BACKUP_OK = 0,
	BACKUP_ERR = -1,        /* see the message */
	BACKUP_STALE = -2,      /* refused: a newer (or fuller) backup exists */
	BACKUP_UNCHANGED = -3,  /* the same keyset is already stored */
	BACKUP_AUTH = -4,       /* authentication failed: modified file or wrong key */
	BACKUP_WRONG_KEY = -5,  /* the file was written with another storage key */
};

struct backup_domain {
	uint64_t domain_id;
	uint64_t attempt_id;
};

/* What a file's header (or a keyshares array) says. */
struct backup_info {
	uint64_t epoch_id;
	size_t n_domains;       /* sorted by domain_id, unique */
	struct backup_domain domains[BACKUP_MAX_DOMAINS];
	size_t n_keyshares;
	int64_t created_unix;
	char account_id[65];
	char key_check[17];     /* hex */
};

/* One file in a backup directory, as `list` shows it. */
struct backup_entry {
	char path[4096];
	uint64_t size;
	int ok;                 /* 0: the header could not be read (see error) */
	char error[256];
	struct backup_info info;
};

/* ---- keys and directories ---- */

/* A key file: 64 hex digits (whitespace around them allowed), a regular file
 * that neither group nor others may access.  0 or -1 with why. */
int backup_key_load(const char *path, unsigned char key[BACKUP_KEY_BYTES],
		    char *err, size_t errsz);
/* The backup directory exists (or is created, mode 0700, when create is
 * set), is a directory, and neither group nor others may access it. */
int backup_dir_check(const char *dir, int create, char *err, size_t errsz);
/* "<state_dir>/backup-migration" into buf. */
const char *backup_default_dir(const char *state_dir, char *buf, size_t n);

/* ---- the keyshares payload ---- */

/* Check that json is a JSON array of Keyshare objects with distinct
 * key_id.domain_id and one key_id.epoch_id, and fill info (epoch_id,
 * domains, n_keyshares).  The "data" members stay opaque.  An empty array
 * gives epoch_id 0 and no domains. */
int backup_keyshares_scan(const char *json, size_t len, struct backup_info *info,
			  char *err, size_t errsz);

/* ---- files ---- */

/* Every *.mpcbak file in dir, sorted by epoch (unreadable ones last).
 * *out is malloc'd.  0 or -1 (the directory cannot be read). */
int backup_list(const char *dir, struct backup_entry **out, size_t *n,
		char *err, size_t errsz);

/* Read and authenticate a file; on success *keyshares (may be NULL to only
 * verify) receives the keyshares array text, checked against the header. */
int backup_read(const char *path, const unsigned char key[BACKUP_KEY_BYTES],
		struct backup_info *info, char **keyshares, size_t *len,
		char *err, size_t errsz);

/* The same for a file's bytes already in memory; name is for messages. */
int backup_read_buffer(const unsigned char *buf, size_t n, const char *name,
		       const unsigned char key[BACKUP_KEY_BYTES], struct backup_info *info,
		       char **keyshares, size_t *len, char *err, size_t errsz);

/* The newest authenticated backup in dir: BACKUP_OK with *info and path filled, or
 * BACKUP_ERR when there is none (files that fail to
 * authenticate are named in warn, which may be NULL). */
int backup_newest(const char *dir, const unsigned char key[BACKUP_KEY_BYTES],
		  struct backup_info *info, char *path, size_t pathsz,
		  char *warn, size_t warnsz);

/* Store keyshares (a JSON array, see backup_keyshares_scan) for keyset epoch
 * `epoch`, crash-safely: temporary file, fsync, rename, fsync of the
 * directory.  Refuses (BACKUP_STALE) an older epoch than the newest stored
 * one, or the same epoch with a domain missing or a different attempt;
 * BACKUP_UNCHANGED when the same keyset is already stored.  Afterwards keeps
 * only the `retention` newest files (0 = keep all).  *written (optional)
 * describes the new file. */
int backup_write(const char *dir, const unsigned char key[BACKUP_KEY_BYTES],
		 const char *account_id, uint64_t epoch, const char *keyshares,
		 size_t len, unsigned retention, struct backup_info *written,
		 char *err, size_t errsz);

/* ---- transport encryption ---- */

/* base64(nonce || AES-256-GCM(pt) || tag) into a malloc'd, NUL-terminated
 * *out (not secret).  0 or -1. */
int backup_transport_seal(const unsigned char key[BACKUP_KEY_BYTES],
			  const char *pt, size_t len, char **out, size_t *outlen,
			  char *err, size_t errsz);
/* The inverse; surrounding whitespace is ignored.  *pt is a secret buffer,
 * NUL-terminated.  0 or -1 (not base64, too short, authentication failed). */
int backup_transport_open(const unsigned char key[BACKUP_KEY_BYTES],
			  const char *b64, size_t len, char **pt, size_t *ptlen,
			  char *err, size_t errsz);

/* Wipe and free a secret buffer returned above (NULL is fine). */
void backup_secret_free(char *p);

/* "YYYY-MM-DDTHH:MM:SSZ" */
const char *backup_format_time(int64_t unix_s, char *buf, size_t n);

#endif
