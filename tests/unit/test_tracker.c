/* RecentBlocksTracker vectors: rebuild each scripted chain of the reference's tracker
 * snapshots (hashes derived as its README says), replay the adds, and compare the tree
 * printed after every add with the .snap file, byte for byte (trailing blanks aside).
 * Also: orphan / final events as the stream uses them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "near/hash.h"
#include "tracker.h"

/* ---- the reference test's block builder ---- */

struct bnode {
	uint8_t hash[32], prev[32], lf[32];
	uint64_t height;
	int parent;		/* builder index, -1 for a root */
	unsigned kids;		/* children created so far (the fork seed) */
};

static struct bnode nodes[64];
static int n_nodes;

static void u64be(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static int mk_root(uint64_t index, uint64_t height)
{
	struct bnode *b = &nodes[n_nodes];
	uint8_t in[12];

	memcpy(in, "root", 4);
	u64be(in + 4, index);
	near_sha256(b->hash, in, sizeof(in));
	b->height = height;
	b->parent = -1;
	b->kids = 0;
	uint8_t p[32 + 6];
	memcpy(p, b->hash, 32);
	memcpy(p + 32, "parent", 6);
	near_sha256(b->prev, p, sizeof(p));
	uint8_t l[32 + 16];
	memcpy(l, b->hash, 32);
	memcpy(l + 32, "last_final_block", 16);
	near_sha256(b->lf, l, sizeof(l));
	return n_nodes++;
}

static int mk_child(int parent, uint64_t height)
{
	struct bnode *b = &nodes[n_nodes], *p = &nodes[parent];
	uint8_t in[40];

	memcpy(in, p->hash, 32);
	u64be(in + 32, p->kids++);
	near_sha256(b->hash, in, sizeof(in));
	b->height = height;
	b->parent = parent;
	b->kids = 0;
	memcpy(b->prev, p->hash, 32);
	if (p->parent >= 0 && nodes[p->parent].height + 1 == p->height && p->height + 1 == height)
		memcpy(b->lf, nodes[p->parent].hash, 32);
	else
		memcpy(b->lf, p->lf, 32);
	return n_nodes++;
}

static char *slurp(const char *rel)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	FILE *f;
	long n;
	char *s;

	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", rel);
	if (!(f = fopen(path, "rb")))
		bail_out("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	if (!s || fread(s, 1, (size_t)n, f) != (size_t)n)
		bail_out("cannot read %s", path);
	s[n] = 0;
	fclose(f);
	return s;
}

/* Drop the insta header, trailing blanks of every line and trailing empty lines. */
static char *normalise(const char *s, int has_header)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	const char *p = s;

	if (has_header) {
		p = strstr(s, "\n---\n");
		p = p ? p + 5 : s;
	}
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\r'))
			n--;
		memcpy(o, p, n);
		o += n;
		*o++ = '\n';
		p = e ? e + 1 : p + strlen(p);
	}
	while (o > out && o[-1] == '\n')
		o--;
	*o = 0;
	return out;
}

static void add_and_print(struct tracker *t, int i, char **acc, size_t *len)
{
	struct tracker_block b;
	char name[NEAR_HASH_B58_MAX], head[64];
	char *dump;

	memset(&b, 0, sizeof(b));
	b.height = nodes[i].height;
	memcpy(b.hash, nodes[i].hash, 32);
	memcpy(b.prev_hash, nodes[i].prev, 32);
	memcpy(b.last_final, nodes[i].lf, 32);
	tracker_add(t, &b);
	near_hash_to_b58(name, nodes[i].hash);
	snprintf(head, sizeof(head), "--- after add(%.7s) ---\n", name);
	dump = tracker_dump(t);
	*acc = realloc(*acc, *len + strlen(head) + strlen(dump) + 2);
	memcpy(*acc + *len, head, strlen(head));
	*len += strlen(head);
	memcpy(*acc + *len, dump, strlen(dump));
	*len += strlen(dump);
	(*acc)[(*len)++] = '\n';
	(*acc)[*len] = 0;
	free(dump);
}

static void check_snapshot(const char *file, size_t window, const int *order, int n)
{
	char rel[256], *acc = calloc(1, 1), *want, *got, *raw;
	size_t len = 0;
	struct tracker *t = tracker_new(window, NULL, NULL);

	for (int i = 0; i < n; i++)
		add_and_print(t, order[i], &acc, &len);
	snprintf(rel, sizeof(rel), "tests/fixtures/blocks/%s", file);
	raw = slurp(rel);
	want = normalise(raw, 1);
	got = normalise(acc, 0);
	if (!ok(strcmp(want, got) == 0, "%s: the tree after each of %d adds matches", file, n)) {
		printf("# --- got:\n");
		for (char *l = strtok(got, "\n"); l; l = strtok(NULL, "\n"))
			printf("# %s\n", l);
	}
	free(raw);
	free(want);
	free(got);
	free(acc);
	tracker_free(t);
}

static void expect_hash(int i, const char *prefix)
{
	char s[NEAR_HASH_B58_MAX];

	near_hash_to_b58(s, nodes[i].hash);
	ok(strncmp(s, prefix, strlen(prefix)) == 0, "builder hash %s (got %.7s)", prefix, s);
}

static void no_forks(void)
{
	n_nodes = 0;
	int r = mk_root(0, 10);
	int a = mk_child(r, 11), b = mk_child(a, 12), c = mk_child(b, 13), d = mk_child(c, 14),
	    e = mk_child(d, 15);
	int order[] = { a, b, c, d, e };
	expect_hash(a, "F1BKWCC");
	check_snapshot("no_forks.snap", 4, order, 5);
}

static void simple_forks(void)
{
	n_nodes = 0;
	int r = mk_root(0, 10);
	int b11 = mk_child(r, 11), b12 = mk_child(b11, 12), b13 = mk_child(b12, 13);
	int b14 = mk_child(b12, 14), b16 = mk_child(b12, 16), b15 = mk_child(b13, 15);
	int b18 = mk_child(b14, 18), b19 = mk_child(b18, 19), b20 = mk_child(b19, 20);
	int order[] = { b11, b12, b13, b14, b16, b15, b18, b19, b20 };
	expect_hash(b14, "DC88XsX");
	check_snapshot("simple_forks.snap", 5, order, 9);
}

static void complex_forks(void)
{
	n_nodes = 0;
	int r = mk_root(0, 3);
	int f1 = mk_child(r, 4), w7 = mk_child(f1, 6), dt = mk_child(w7, 8), dc = mk_child(w7, 9);
	int fo = mk_child(f1, 7), jr = mk_child(fo, 9), cn = mk_child(fo, 10);
	int fs = mk_child(r, 5), s7 = mk_child(fs, 6), go = mk_child(s7, 8), ax = mk_child(s7, 8);
	int xh = mk_child(fs, 7), e2 = mk_child(xh, 9), cq = mk_child(xh, 10);
	int fk = mk_child(s7, 7), aq = mk_child(fk, 8), nw = mk_child(aq, 11), v4 = mk_child(nw, 12);
	int gk = mk_child(v4, 13);
	int order[] = { f1, w7, dt, dc, fo, jr, cn, fs, s7, go, ax, xh, e2, cq, fk, aq, nw, v4, gk };
	expect_hash(fs, "FsmQgeG");
	check_snapshot("complex_forks.snap", 5, order, 19);
}

static void prune_old(void)
{
	n_nodes = 0;
	int r = mk_root(0, 1);
	int f1 = mk_child(r, 2), w7 = mk_child(f1, 3), fo = mk_child(f1, 3), dt = mk_child(w7, 4);
	int jr = mk_child(fo, 4), q6 = mk_child(dt, 5);
	int order[] = { r, f1, w7, fo, dt, jr, q6 };
	check_snapshot("prune_old_blocks__should_drop_dead_fork_descendants_of_kept_nodes.snap", 4,
		       order, 7);
}

/* ---- events as the block stream uses them ---- */

struct evlog {
	int orphaned, finalised, pruned;
	uint64_t last_final;
};

static void on_event(void *ud, int ev, const struct tracker_block *b, int old, int st)
{
	struct evlog *l = ud;

	if (ev == TRK_EV_STATUS && old == TRK_CANONICAL && st == TRK_FORK)
		l->orphaned++;
	if (ev == TRK_EV_STATUS && st == TRK_FINAL) {
		l->finalised++;
		if (b->height > l->last_final)
			l->last_final = b->height;
	}
	if (ev == TRK_EV_PRUNED)
		l->pruned++;
}

static void events(void)
{
	struct evlog l = { 0 };
	struct tracker *t = tracker_new(200, on_event, &l);
	struct tracker_block b;
	uint8_t h[32];

	n_nodes = 0;
	int r = mk_root(1, 100);
	int a = mk_child(r, 101), b1 = mk_child(a, 102), b2 = mk_child(a, 102), c = mk_child(b2, 103);
	int d = mk_child(c, 104), e = mk_child(d, 105);
	int order[] = { r, a, b1, b2, c, d, e };
	for (int i = 0; i < 7; i++) {
		memset(&b, 0, sizeof(b));
		b.height = nodes[order[i]].height;
		memcpy(b.hash, nodes[order[i]].hash, 32);
		memcpy(b.prev_hash, nodes[order[i]].prev, 32);
		memcpy(b.last_final, nodes[order[i]].lf, 32);
		tracker_add(t, &b);
		if (order[i] == b2)
			is_int(tracker_status(t, nodes[b2].hash), TRK_FORK,
			       "a second block at the same height is not canonical (first seen wins)");
	}
	is_int(l.orphaned, 1, "the replaced block at 102 was orphaned once");
	is_int(tracker_status(t, nodes[b1].hash), TRK_UNKNOWN, "the orphan is pruned once finality passes it");
	is_int(tracker_status(t, nodes[b2].hash), TRK_FINAL, "its replacement is final");
	is_int(tracker_final_head(t, h), 103, "final head is 103 (the grandparent of 105)");
	is_int(tracker_canonical_head(t, h), 105, "canonical head is 105");
	ok(l.finalised >= 3 && l.last_final == 103, "finalisation reported up to 103");
	memset(&b, 0, sizeof(b));
	b.height = nodes[e].height;
	memcpy(b.hash, nodes[e].hash, 32);
	is_int(tracker_add(t, &b), 1, "a duplicate hash is refused");
	tracker_free(t);
}

int main(void)
{
	no_forks();
	simple_forks();
	complex_forks();
	prune_old();
	events();
	return done_testing();
}
