/*
 * The transaction journal: an append-only file that makes the sender's queue
 * crash-safe.  Records (each length-prefixed and CRC-checked):
 *   ENQUEUE  a request was accepted (everything needed to sign it)
 *   SIGNED   it was signed: nonce, hash and the exact bytes (supersedes an
 *            earlier SIGNED of the same id after a re-sign)
 *   DONE     its outcome was reported; it is forgotten at the next compaction
 *   HWM      an access key's nonce high-water mark (written by compaction)
 * Appends are buffered.  txjournal_flush() hands the buffer to a writer
 * thread that writes and fdatasync()s it, and tells the loop (through an
 * ev_async) how far the file is durable, so the loop never waits for the
 * disk; several flushes share one fdatasync when the disk is slow.  The
 * sender waits for durability before a signed transaction is first sent and
 * before an outcome is reported, so a crash can lose neither.  A torn last record (a crash in
 * the middle of a write) is cut off at open; damage anywhere else refuses to
 * start.  Compaction writes the live records to a new file, fsyncs it and
 * renames it over the old one.  The file is locked (flock) while open: two
 * processes never share one journal.  No key material is ever written.
 */
#ifndef MPCI_TXJOURNAL_H
#define MPCI_TXJOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include "near/hash.h"
#include "near/u128.h"

#define TXJOURNAL_FILE "tx.journal"

struct ev_loop;

/* One transaction as the journal knows it. */
struct txj_entry {
	uint64_t id;
	char *signer;		/* signer name */
	char *receiver;
	char *method;
	uint8_t *args;
	size_t args_len;
	uint64_t gas;
	near_u128 deposit;
	int wait;		/* enum mpci_tx_wait */
	double deadline;	/* seconds the caller allowed (relative) */
	double created;		/* wall clock, seconds since the epoch */
	/* set once SIGNED */
	int is_signed;
	char *key_id;		/* "account:ed25519:..." */
	uint64_t nonce;
	uint8_t hash[NEAR_HASH_LEN];
	uint64_t base_height;	/* height of the block hash it was signed on */
	uint8_t *signed_tx;	/* borsh(SignedTransaction) */
	size_t signed_len;
};

struct txj_hwm {
	char *key_id;
	uint64_t nonce;
};

/* What a replay found: the transactions without DONE, in id order, and the
 * nonce high-water mark of every key (from HWM and SIGNED records). */
struct txj_state {
	struct txj_entry **entries;
	size_t n;
	struct txj_hwm *hwm;
	size_t n_hwm;
	uint64_t max_id;	/* highest id ever enqueued */
	size_t records;		/* records read */
	size_t done;		/* of which DONE */
	size_t torn_bytes;	/* cut off the end */
};

struct txjournal;

/* Open (creating dir/tx.journal if needed), lock, replay into *st and cut off
 * a torn tail.  -1 with a message naming the file and offset. */
int txjournal_open(struct txjournal **out, const char *dir,
		   struct txj_state *st, char *err, size_t errsz);
/* Stop the writer after what was flushed is written; what is still
 * buffered is lost (as in a crash). */
void txjournal_close(struct txjournal *j);
const char *txjournal_path(const struct txjournal *j);

/* Buffer a record.  0, or -1 (out of memory; the journal is then failed). */
int txjournal_enqueue(struct txjournal *j, const struct txj_entry *e);
int txjournal_signed(struct txjournal *j, const struct txj_entry *e);
int txjournal_done(struct txjournal *j, uint64_t id, int status);
int txjournal_hwm(struct txjournal *j, const char *key_id, uint64_t nonce);

/* Start the writer thread; durable(ud, seq) then runs on the loop whenever
 * more of the journal is on disk (seq as returned by txjournal_flush), or
 * when the writer failed (txjournal_failed says why).  Without a writer,
 * txjournal_flush writes synchronously.  0, or -1 with err. */
typedef void (*txjournal_durable_fn)(void *ud, uint64_t seq);
int txjournal_start_writer(struct txjournal *j, struct ev_loop *loop,
			   txjournal_durable_fn durable, void *ud, char *err,
			   size_t errsz);
/* A log line (copied) to be written by the writer right after the records
 * buffered before it are on disk: an outcome is logged the moment its DONE
 * record is durable, not later, so that a crash in between loses (almost)
 * nothing.  `component` must be a static string.  0, or -1. */
int txjournal_note(struct txjournal *j, int level, const char *component,
		   const char *text);
/* Hand what is buffered to the writer.  Returns the sequence number that is
 * durable once txjournal_durable() reaches it (the last one again when
 * nothing was buffered). */
uint64_t txjournal_flush(struct txjournal *j);
/* The sequence number the next flush of something buffered will get. */
uint64_t txjournal_next_seq(const struct txjournal *j);
/* Everything flushed up to this sequence number is on disk. */
uint64_t txjournal_durable(struct txjournal *j);
/* Flush and wait until it is on disk (start-up, shutdown, tests).  0, or -1
 * with err (the journal is then failed: every later call fails too). */
int txjournal_sync(struct txjournal *j, char *err, size_t errsz);
/* 1 once a write failed; err (may be NULL) says why. */
int txjournal_failed(struct txjournal *j, char *err, size_t errsz);
/* Bytes buffered, not yet written. */
size_t txjournal_buffered(const struct txjournal *j);
/* Bytes in the file (and flushed to it). */
uint64_t txjournal_size(const struct txjournal *j);

/* Replace the file with these live records (and nothing buffered): write a
 * temporary file, fsync, rename, fsync the directory.  With a writer this
 * is queued behind the flushes before it (failures arrive as with a flush)
 * and the returned value is its sequence number; without, it happens now.
 * 0 / a sequence number, or -1 with err. */
int64_t txjournal_compact(struct txjournal *j, const struct txj_entry *const *live,
			  size_t n, const struct txj_hwm *hwm, size_t n_hwm,
			  char *err, size_t errsz);

void txj_entry_free(struct txj_entry *e);
void txj_state_free(struct txj_state *st);

#endif
