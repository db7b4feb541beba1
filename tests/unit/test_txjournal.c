/* The transaction journal: replay (superseding SIGNED, DONE, high-water marks),
 * a torn last record, damage in the middle, compaction, the lock, and the
 * writer thread. */
#include <ev.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "log.h"
#include "txjournal.h"

static char dir[] = "/tmp/mpci-txj-XXXXXX";
static char path[256];

static struct txj_entry entry(uint64_t id, const char *method)
{
	static char args[64];
	snprintf(args, sizeof(args), "{\"i\":%llu}", (unsigned long long)id);
	struct txj_entry e = {
		.id = id, .signer = "node", .receiver = "mpc.test.near", .method = (char *)method,
		.args = (uint8_t *)args, .args_len = strlen(args), .gas = 300000000000000ULL,
		.deposit = (near_u128)1 << 100, .wait = 1, .deadline = 12.5, .created = 1700000000.25,
	};
	return e;
}

static void sign_entry(struct txj_entry *e, uint64_t nonce, uint8_t fill)
{
	static uint8_t bytes[8][100];
	static int k;
	uint8_t *b = bytes[k++ % 8];
	memset(b, fill, 100);
	e->is_signed = 1;
	e->key_id = "frodo.test.near:ed25519:AZxT69mk6LjMQMmUUFfrHGGQbip3cQwVVCkFcmCHkHXw";
	e->nonce = nonce;
	memset(e->hash, fill, sizeof(e->hash));
	e->base_height = nonce / 1000000;
	e->signed_tx = b;
	e->signed_len = 100;
}

static off_t file_size(void)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void append_raw(const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		bail_out("cannot append to %s", path);
	close(fd);
}

static void flip_byte(off_t at)
{
	int fd = open(path, O_RDWR);
	uint8_t b;
	if (fd < 0 || pread(fd, &b, 1, at) != 1)
		bail_out("cannot read %s", path);
	b ^= 0x40;
	if (pwrite(fd, &b, 1, at) != 1)
		bail_out("cannot write %s", path);
	close(fd);
}

static int reopen(struct txj_state *st, char *err, size_t errsz)
{
	struct txjournal *j;
	if (txjournal_open(&j, dir, st, err, errsz) < 0)
		return -1;
	txjournal_close(j);
	return 0;
}

static uint64_t durable_seen;
static void on_durable(void *ud, uint64_t seq)
{
	durable_seen = seq;
	ev_break(ud, EVBREAK_ALL);
}

int main(void)
{
	struct txjournal *j, *j2;
	struct txj_state st;
	char err[512];

	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	snprintf(path, sizeof(path), "%s/%s", dir, TXJOURNAL_FILE);

	/* a new journal */
	ok(txjournal_open(&j, dir, &st, err, sizeof(err)) == 0, "a new journal opens");
	is_int(st.n, 0, "nothing to replay");
	is_int(file_size(), 8, "the file holds the magic");
	struct stat sb;
	ok(stat(path, &sb) == 0 && (sb.st_mode & 077) == 0, "created without group/other access");
	ok(txjournal_open(&j2, dir, &st, err, sizeof(err)) < 0 && strstr(err, "in use"),
	   "a second open of the same journal is refused: %s", err);

	/* enqueue 1..4; 2 signed twice (the second wins), 3 signed once, 4 done */
	struct txj_entry e[5];
	for (int i = 1; i <= 4; i++) {
		e[i] = entry((uint64_t)i, i == 3 ? "respond" : "verify_tee");
		ok(txjournal_enqueue(j, &e[i]) == 0, "enqueue %d", i);
	}
	sign_entry(&e[2], 5000000001ULL, 0x22);
	txjournal_signed(j, &e[2]);
	sign_entry(&e[3], 5000000002ULL, 0x33);
	txjournal_signed(j, &e[3]);
	sign_entry(&e[2], 5000000003ULL, 0x2f); /* re-signed after InvalidNonce */
	txjournal_signed(j, &e[2]);
	txjournal_done(j, 4, 1);
	ok(txjournal_buffered(j) > 0, "records are buffered before the sync");
	is_int(file_size(), 8, "and not yet in the file");
	ok(txjournal_sync(j, err, sizeof(err)) == 0, "sync");
	is_int(txjournal_buffered(j), 0, "nothing buffered after the sync");
	off_t good = file_size();
	txjournal_close(j);

	ok(reopen(&st, err, sizeof(err)) == 0, "replay");
	is_int(st.n, 3, "three transactions pending (4 is done)");
	is_int(st.max_id, 4, "highest id 4");
	is_int(st.done, 1, "one DONE record");
	is_int(st.torn_bytes, 0, "nothing torn");
	if (st.n == 3) {
		struct txj_entry *a = st.entries[0], *b = st.entries[1], *c = st.entries[2];
		is_int(a->id, 1, "first is id 1");
		ok(!a->is_signed, "1 was never signed");
		is_str(a->signer, "node", "signer name kept");
		is_str(a->receiver, "mpc.test.near", "receiver kept");
		is_str(a->method, "verify_tee", "method kept");
		ok(a->args_len == 7 && !memcmp(a->args, "{\"i\":1}", 7), "args kept byte for byte");
		ok(a->gas == 300000000000000ULL, "gas kept");
		ok(a->deposit == (near_u128)1 << 100, "a u128 deposit above 2^64 kept");
		ok(a->wait == 1 && a->deadline == 12.5 && a->created == 1700000000.25,
		   "wait, deadline and creation time kept");
		ok(b->is_signed && b->nonce == 5000000003ULL && b->signed_tx[0] == 0x2f &&
		   b->hash[0] == 0x2f && b->signed_len == 100, "2: the later SIGNED supersedes the first");
		ok(c->is_signed && c->nonce == 5000000002ULL && c->base_height == 5000,
		   "3: signed bytes, nonce and base height kept");
	}
	ok(st.n_hwm == 1 && st.hwm[0].nonce == 5000000003ULL, "high-water mark = highest signed nonce");
	txj_state_free(&st);

	/* a torn last record: a crash in the middle of a write */
	ok(txjournal_open(&j, dir, &st, err, sizeof(err)) == 0, "open again");
	txj_state_free(&st);
	struct txj_entry e5 = entry(5, "vote_pk");
	txjournal_enqueue(j, &e5);
	txjournal_sync(j, err, sizeof(err));
	off_t whole = file_size();
	txjournal_close(j);
	if (truncate(path, whole - 5) < 0)
		bail_out("truncate");
	ok(reopen(&st, err, sizeof(err)) == 0, "a torn last record does not stop the start: %s", err);
	ok(st.torn_bytes > 0 && st.n == 3 && st.max_id == 4, "it is cut off (%zu bytes); the rest replays",
	   st.torn_bytes);
	is_int(file_size(), good, "the file ends at the last whole record");
	txj_state_free(&st);

	/* a torn header, and a zero-filled tail (file size grew, data did not land) */
	append_raw("\x20\x00\x00", 3);
	ok(reopen(&st, err, sizeof(err)) == 0 && st.torn_bytes == 3, "a torn record header is cut off");
	txj_state_free(&st);
	static const uint8_t zeros[64];
	append_raw(zeros, sizeof(zeros));
	ok(reopen(&st, err, sizeof(err)) == 0 && st.torn_bytes == 64 && st.n == 3,
	   "a zero-filled tail is cut off");
	txj_state_free(&st);
	is_int(file_size(), good, "back to the last whole record");

	/* damage in the middle is not a torn write: refuse to start */
	flip_byte(8 + 8 + 3);
	ok(reopen(&st, err, sizeof(err)) < 0 && strstr(err, "damaged record at byte 8"),
	   "a damaged record in the middle refuses the start: %s", err);
	flip_byte(8 + 8 + 3);
	ok(reopen(&st, err, sizeof(err)) == 0 && st.n == 3, "repaired, it replays again");
	txj_state_free(&st);
	/* a length that points past the end looks like a torn record, but whole records follow */
	flip_byte(8 + 2);
	ok(reopen(&st, err, sizeof(err)) < 0 && strstr(err, "damaged record at byte 8") &&
	   strstr(err, "a whole record follows at byte"),
	   "a damaged length in the middle refuses the start, not cut as a torn tail: %s", err);
	is_int(file_size(), good, "nothing was cut");
	flip_byte(8 + 2);
	ok(reopen(&st, err, sizeof(err)) == 0 && st.n == 3, "repaired, it replays again");
	txj_state_free(&st);

	/* compaction keeps the live records and the high-water marks */
	ok(txjournal_open(&j, dir, &st, err, sizeof(err)) == 0, "open for compaction");
	const struct txj_entry *live[] = { st.entries[2] };
	struct txj_hwm hwm[] = { { "frodo.test.near:ed25519:AZxT69mk6LjMQMmUUFfrHGGQbip3cQwVVCkFcmCHkHXw", 7000000000ULL },
				 { "other.near:ed25519:x", 42 } };
	ok(txjournal_compact(j, live, 1, hwm, 2, err, sizeof(err)) >= 0, "compact to one transaction");
	txj_state_free(&st);
	ok(file_size() < good, "the file shrank");
	/* later records go to the new file */
	txjournal_done(j, 3, 1);
	struct txj_entry e6 = entry(6, "respond");
	txjournal_enqueue(j, &e6);
	sign_entry(&e6, 7000000005ULL, 0x66);
	txjournal_signed(j, &e6);
	txjournal_sync(j, err, sizeof(err));
	txjournal_close(j);
	ok(reopen(&st, err, sizeof(err)) == 0, "replay after compaction");
	ok(st.n == 1 && st.entries[0]->id == 6 && st.entries[0]->nonce == 7000000005ULL,
	   "only what is live remains (3 done after compaction, 6 new)");
	int seen = 0;
	for (size_t i = 0; i < st.n_hwm; i++)
		seen += (st.hwm[i].nonce == 7000000005ULL) + 2 * (st.hwm[i].nonce == 42);
	ok(st.n_hwm == 2 && seen == 3, "marks survive compaction and rise with new signatures");
	txj_state_free(&st);

	/* the writer thread: the loop hears when the disk has the records */
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	ok(txjournal_open(&j, dir, &st, err, sizeof(err)) == 0, "open with a writer");
	txj_state_free(&st);
	ok(txjournal_start_writer(j, loop, on_durable, loop, err, sizeof(err)) == 0, "writer started");
	uint64_t next = txjournal_next_seq(j);
	for (int i = 7; i <= 9; i++) {
		struct txj_entry x = entry((uint64_t)i, "vote_reshared");
		txjournal_enqueue(j, &x);
	}
	uint64_t seq = txjournal_flush(j);
	is_int(seq, next, "the flush gets the promised sequence number");
	is_int(txjournal_flush(j), seq, "an empty flush hands out nothing new");
	for (int spins = 0; durable_seen < seq && spins < 100; spins++)
		ev_run(loop, EVRUN_ONCE);
	ok(durable_seen >= seq && txjournal_durable(j) >= seq, "the loop is told the records are durable");
	txjournal_done(j, 7, 1);
	ok(txjournal_sync(j, err, sizeof(err)) == 0, "a blocking sync through the writer");
	txjournal_close(j);
	ev_loop_destroy(loop);
	ok(reopen(&st, err, sizeof(err)) == 0 && st.n == 3 && st.max_id == 9,
	   "what the writer wrote replays (6, 8, 9)");
	txj_state_free(&st);

	/* outcome lines are logged by the writer once the records before them are on disk */
	char logp[300];
	snprintf(logp, sizeof(logp), "%s/log", dir);
	log_open(logp, LOG_LVL_INFO);
	loop = ev_loop_new(EVFLAG_AUTO);
	ok(txjournal_open(&j, dir, &st, err, sizeof(err)) == 0, "open for notes");
	txj_state_free(&st);
	txjournal_start_writer(j, loop, on_durable, loop, err, sizeof(err));
	txjournal_done(j, 8, 1);
	txjournal_note(j, LOG_LVL_INFO, "tx", "tx 8 succeeded: noted");
	struct stat lst;
	ok(stat(logp, &lst) == 0 && lst.st_size == 0, "a note is not logged while its record is buffered");
	ok(txjournal_sync(j, err, sizeof(err)) == 0, "sync");
	char line[256] = "";
	FILE *lf = fopen(logp, "r");
	if (lf) {
		if (!fgets(line, sizeof(line), lf))
			line[0] = 0;
		fclose(lf);
	}
	ok(strstr(line, "tx: tx 8 succeeded: noted") != NULL, "it is logged once the record is durable");
	txjournal_close(j);
	ev_loop_destroy(loop);
	log_close();
	unlink(logp);

	/* not a journal */
	int fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0 || write(fd, "hello, world", 12) != 12)
		bail_out("write");
	close(fd);
	ok(reopen(&st, err, sizeof(err)) < 0 && strstr(err, "bad magic"), "another file is refused: %s", err);

	/* times survive replay and compaction to the millisecond; absurd ones are
	 * clamped, not converted out of range (found by tests/fuzz/fuzz_txjournal.c) */
	unlink(path);
	ok(txjournal_open(&j, dir, &st, err, sizeof(err)) == 0, "a new journal for times");
	struct txj_entry t1 = entry(1, "respond"), t2 = entry(2, "respond");
	t1.deadline = 1.001;
	t1.created = 1700000000.001;
	t2.deadline = 1e300;
	t2.created = -5;
	txjournal_enqueue(j, &t1);
	txjournal_enqueue(j, &t2);
	txjournal_sync(j, err, sizeof(err));
	txjournal_close(j);
	for (int round = 0; round < 3; round++) {
		ok(txjournal_open(&j, dir, &st, err, sizeof(err)) == 0 && st.n == 2, "replay %d", round);
		if (st.n != 2)
			break;
		ok(st.entries[0]->deadline == 1.001 && st.entries[0]->created == 1700000000.001,
		   "deadline 1.001 s and a creation time in ms kept (%.6f, %.6f)",
		   st.entries[0]->deadline, st.entries[0]->created);
		ok(st.entries[1]->deadline == (double)UINT64_MAX / 1000.0 && st.entries[1]->created == 0,
		   "a deadline beyond u64 ms is the largest, a negative time 0 (%g, %g)",
		   st.entries[1]->deadline, st.entries[1]->created);
		const struct txj_entry *all[] = { st.entries[0], st.entries[1] };
		ok(txjournal_compact(j, all, 2, NULL, 0, err, sizeof(err)) >= 0, "compact %d", round);
		txj_state_free(&st);
		txjournal_close(j);
	}

	unlink(path);
	rmdir(dir);
	return done_testing();
}
