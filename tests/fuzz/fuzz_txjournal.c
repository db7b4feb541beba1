/* libFuzzer target: the transaction journal as txjournal_open() reads it
 * back from state_dir/tx.journal after a crash.  The first byte is a flag:
 *   bit 0  recompute the CRC of every record whose length fits, so that the
 *          records themselves (not only their framing) are fuzzed
 * the rest is the file.  Either the open fails with a message naming the
 * file, or it succeeds and then:
 *   - what it cut off is a tail (a torn write), the file is that much
 *     shorter, and opening it again cuts nothing and reads the same;
 *   - the transactions are in strictly increasing id order, none above the
 *     highest id read, and a signed one has a key and bytes;
 *   - a compaction of what was read, opened again, reads the same values
 *     (the daemon compacts what it replayed right after start-up).
 * ASan sees any read past the records or the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz_scratch.h"
#include "txjournal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static off_t file_size(void)
{
	struct stat sb;
	if (stat(fuzz_path, &sb) < 0)
		abort();
	return sb.st_size;
}

static void fix_crcs(uint8_t *p, size_t n)
{
	size_t off = 8;
	while (off + 8 <= n) {
		uint32_t len = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
			       (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
		if (len > n - off - 8)
			break;
		uint32_t c = (uint32_t)crc32(0, p + off + 8, len);
		for (int i = 0; i < 4; i++)
			p[off + 4 + i] = (uint8_t)(c >> (8 * i));
		off += 8 + len;
	}
}

static int same_prefix(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	FILE *f = fopen(fuzz_path, "rb");
	int same = b && f && fread(b, 1, n, f) == n && memcmp(b, p, n) == 0;
	if (f)
		fclose(f);
	free(b);
	return same;
}

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int mem_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* Milliseconds as written: exact below 2^50 (seconds as a double, times 1000). */
static int ms_eq(double a, double b)
{
	return a == b || a * 1000.0 >= 1125899906842624.0;
}

static void same_state(const struct txj_state *a, const struct txj_state *b, const char *what)
{
	int ok = a->n == b->n && a->n_hwm == b->n_hwm;
	for (size_t i = 0; ok && i < a->n; i++) {
		const struct txj_entry *x = a->entries[i], *y = b->entries[i];
		ok = x->id == y->id && str_eq(x->signer, y->signer) &&
		     str_eq(x->receiver, y->receiver) && str_eq(x->method, y->method) &&
		     mem_eq(x->args, x->args_len, y->args, y->args_len) && x->gas == y->gas &&
		     x->deposit == y->deposit && x->wait == y->wait &&
		     ms_eq(x->deadline, y->deadline) && ms_eq(x->created, y->created) &&
		     x->is_signed == y->is_signed;
		if (ok && x->is_signed)
			ok = str_eq(x->key_id, y->key_id) && x->nonce == y->nonce &&
			     !memcmp(x->hash, y->hash, NEAR_HASH_LEN) && x->base_height == y->base_height &&
			     mem_eq(x->signed_tx, x->signed_len, y->signed_tx, y->signed_len);
	}
	for (size_t i = 0; ok && i < a->n_hwm; i++) {
		size_t k = 0;
		while (k < b->n_hwm && strcmp(a->hwm[i].key_id, b->hwm[k].key_id) != 0)
			k++;
		ok = k < b->n_hwm && a->hwm[i].nonce == b->hwm[k].nonce;
	}
	if (!ok) {
		fprintf(stderr, "journal read differently %s\n", what);
		abort();
	}
}

static void check_state(const struct txj_state *st)
{
	for (size_t i = 0; i < st->n; i++) {
		const struct txj_entry *e = st->entries[i];
		if ((i && e->id <= st->entries[i - 1]->id) || e->id > st->max_id ||
		    !e->signer || !e->receiver || !e->method || (e->args_len && !e->args) ||
		    (e->is_signed && (!e->key_id || !e->signed_tx || !e->signed_len)))
			abort();
	}
	for (size_t i = 0; i < st->n_hwm; i++)
		if (!st->hwm[i].key_id)
			abort();
}

static int open_once(struct txj_state *st, char *err, size_t errsz)
{
	struct txjournal *j;
	if (txjournal_open(&j, fuzz_dir, st, err, errsz) < 0)
		return -1;
	txjournal_close(j);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct txj_state st, again;
	struct txjournal *j;
	char err[512] = "";

	if (size < 1)
		return 0;
	fuzz_scratch("txj", TXJOURNAL_FILE, 1);
	uint8_t *file = malloc(size);
	if (!file)
		return 0;
	size_t n = size - 1;
	memcpy(file, data + 1, n);
	if (data[0] & 1)
		fix_crcs(file, n);
	fuzz_scratch_write(file, n);

	if (txjournal_open(&j, fuzz_dir, &st, err, sizeof(err)) < 0) {
		if (!err[0] || !strstr(err, fuzz_path))
			abort();	/* a refusal names the file */
		free(file);
		return 0;
	}
	check_state(&st);
	off_t now = file_size();
	if (st.torn_bytes > n || (now != (off_t)(n - st.torn_bytes) && !(now == 8 && n - st.torn_bytes == 0)))
		abort();	/* the cut is the tail, and only the tail */
	if (now == (off_t)(n - st.torn_bytes) && !same_prefix(file, (size_t)now))
		abort();	/* what was kept is what was there */
	txjournal_close(j);

	/* What was kept reads the same, with nothing more to cut. */
	err[0] = 0;
	if (open_once(&again, err, sizeof(err)) < 0 || again.torn_bytes != 0) {
		fprintf(stderr, "reopening after the cut: %s (torn %zu)\n", err, again.torn_bytes);
		abort();
	}
	same_state(&st, &again, "after the torn tail was cut");
	txj_state_free(&again);

	/* Compact what was read (as the daemon does after replay), read it back. */
	if (txjournal_open(&j, fuzz_dir, &again, err, sizeof(err)) < 0)
		abort();
	txj_state_free(&again);
	if (txjournal_compact(j, (const struct txj_entry *const *)st.entries, st.n, st.hwm,
			      st.n_hwm, err, sizeof(err)) < 0) {
		fprintf(stderr, "compaction failed: %s\n", err);
		abort();
	}
	txjournal_close(j);
	if (open_once(&again, err, sizeof(err)) < 0) {
		fprintf(stderr, "the compacted journal is refused: %s\n", err);
		abort();
	}
	same_state(&st, &again, "after compaction");
	txj_state_free(&again);
	txj_state_free(&st);
	free(file);
	return 0;
}
