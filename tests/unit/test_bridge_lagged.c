/* mpc-node-bridge slow clients: a client that stops reading is sent `lagged`
 * with the last height it was given and disconnected; it resumes from there
 * (by height, then by seq) and the union of what it received is every
 * update, once.  Other clients keep up; the bridge's buffers stay bounded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "metrics.h"
#include "test_bridge_harness.h"

#define RING 64
#define MAX_PENDING 4096
#define PAD 2000

static struct bh_world W;
static unsigned char seen[4096];     /* times the slow client got each height */
static uint64_t emitted;             /* heights 1..emitted exist */

static double lagged_count(void)
{
	char err[200];
	static const char *const l[] = { "reason", NULL };
	struct metric *m = metrics_counter(W.reg, "mpc_indexer_bridge_disconnects_total", "",
					   l, err, sizeof(err));
	const char *v[] = { "lagged", NULL };
	return m ? metric_value(m, v) : -1;
}

/* Read whatever is there on c without waiting; count blocks in `fast_next`. */
static int drain_fast(struct bh_client *c, uint64_t *fast_next)
{
	int bad = 0;
	cJSON *m;
	while ((m = bh_recv(&W, c, 0))) {
		const char *meth = bh_method(m);
		if (meth && strcmp(meth, "block") == 0) {
			if (bh_num(m, "params.height") != (double)*fast_next)
				bad++;
			(*fast_next)++;
		} else {
			bad++;
		}
		cJSON_Delete(m);
	}
	return bad;
}

/* Emit blocks until the slow client is lagged (or `limit` blocks). */
static uint64_t emit_until_lagged(struct bh_client *fast, uint64_t *fast_next, int *fast_bad,
				  uint64_t limit, size_t *max_ring, size_t *max_queued)
{
	double before = lagged_count();
	uint64_t n = 0;
	while (n < limit && lagged_count() == before) {
		bh_emit_block(++emitted, 1, 1, PAD);
		n++;
		bh_pump(&W);
		*fast_bad += drain_fast(fast, fast_next);
		if (n % 2 == 0) {
			cJSON *r = bh_call(&W, fast, "status", NULL);
			/* a status call on the fast client interleaves with its blocks */
			while (r && !cJSON_GetObjectItem(r, "result")) {
				if (bh_method(r) && strcmp(bh_method(r), "block") == 0) {
					if (bh_num(r, "params.height") != (double)*fast_next)
						(*fast_bad)++;
					(*fast_next)++;
				}
				cJSON_Delete(r);
				r = bh_recv(&W, fast, 5);
			}
			size_t ring = (size_t)bh_num(r, "result.ring.updates");
			size_t q = (size_t)bh_num(r, "result.queued_bytes");
			if (ring > *max_ring)
				*max_ring = ring;
			if (q > *max_queued)
				*max_queued = q;
			cJSON_Delete(r);
		}
	}
	return n;
}

/* Read everything the slow client was sent until it is closed; returns the
 * lagged notification (or NULL) and records heights. */
static cJSON *read_slow(struct bh_client *s, int *dups, uint64_t *last_block)
{
	cJSON *lagged = NULL, *m;
	while ((m = bh_recv(&W, s, 5))) {
		const char *meth = bh_method(m);
		if (meth && strcmp(meth, "block") == 0) {
			uint64_t h = (uint64_t)bh_num(m, "params.height");
			if (h < sizeof(seen) && seen[h]++)
				(*dups)++;
			*last_block = h;
			cJSON_Delete(m);
		} else if (meth && strcmp(meth, "lagged") == 0) {
			cJSON_Delete(lagged);
			lagged = m;
		} else {
			cJSON_Delete(m);
		}
		if (lagged && s->eof)
			break;
	}
	return lagged;
}

int main(void)
{
	struct bh_client fast, slow;
	char keys[300];
	uint64_t fast_next = 1, last_block = 0;
	int fast_bad = 0, dups = 0;
	size_t max_ring = 0, max_queued = 0;

	snprintf(keys, sizeof(keys), "ring_size = %d\nmax_pending = %d\n", RING, MAX_PENDING);
	if (bh_up(&W, keys) != 0)
		bail_out("the bridge did not start (log in %s)", W.log);
	bh_connect(&fast, W.sock);
	bh_connect(&slow, W.sock);
	bh_hello(&W, &fast);
	bh_hello(&W, &slow);
	cJSON_Delete(bh_call(&W, &fast, "subscribe_blocks", NULL));
	cJSON *r = bh_call(&W, &slow, "subscribe_blocks", NULL);
	ok(bh_str(r, "result.subscription") != NULL, "a slow client subscribes to blocks");
	cJSON_Delete(r);

	/* round 1: the slow client reads nothing */
	uint64_t n = emit_until_lagged(&fast, &fast_next, &fast_bad, 3000, &max_ring, &max_queued);
	ok(lagged_count() == 1, "it is disconnected as lagged after %llu blocks",
	   (unsigned long long)n);
	cJSON *lag = read_slow(&slow, &dups, &last_block);
	ok(lag != NULL, "its last message is `lagged`");
	ok(slow.eof, "and then the connection closes");
	uint64_t lh = (uint64_t)bh_num(lag, "params.last_height");
	is_int((int)lh, (int)last_block, "lagged names the last height it was given (%llu)",
	       (unsigned long long)lh);
	is_int((int)bh_num(lag, "params.resume_from_height"), (int)lh + 1, "and where to resume");
	ok(lh < emitted, "it had fallen behind (%llu of %llu)", (unsigned long long)lh,
	   (unsigned long long)emitted);
	uint64_t resume = (uint64_t)bh_num(lag, "params.resume_from_height");
	cJSON_Delete(lag);
	bh_close(&slow);

	/* round 2: resume by height, then stop reading again */
	bh_connect(&slow, W.sock);
	bh_hello(&W, &slow);
	char params[200];
	snprintf(params, sizeof(params), "{\"from_height\":%llu}", (unsigned long long)resume);
	r = bh_call(&W, &slow, "subscribe_blocks", params);
	ok(bh_str(r, "result.subscription") != NULL, "it resumes from that height");
	cJSON_Delete(r);
	/* it catches up with the replay, then stops reading again */
	cJSON *m;
	while (last_block < emitted && (m = bh_recv(&W, &slow, 5))) {
		if (bh_method(m) && strcmp(bh_method(m), "block") == 0) {
			uint64_t h = (uint64_t)bh_num(m, "params.height");
			if (h < sizeof(seen) && seen[h]++)
				dups++;
			last_block = h;
		}
		cJSON_Delete(m);
	}
	is_int((int)last_block, (int)emitted, "the replay brings it to the head");
	n = emit_until_lagged(&fast, &fast_next, &fast_bad, 3000, &max_ring, &max_queued);
	ok(lagged_count() == 2, "falls behind again and is lagged again");
	lag = read_slow(&slow, &dups, &last_block);
	ok(lag && (uint64_t)bh_num(lag, "params.last_height") == last_block,
	   "again told its last height");
	char run_id[40];
	snprintf(run_id, sizeof(run_id), "%s", lag ? bh_str(lag, "params.run_id") : "");
	uint64_t last_seq = (uint64_t)bh_num(lag, "params.last_seq");
	cJSON_Delete(lag);
	bh_close(&slow);

	/* round 3: resume by seq, and this time keep up */
	bh_connect(&slow, W.sock);
	bh_hello(&W, &slow);
	snprintf(params, sizeof(params), "{\"after_seq\":%llu,\"run_id\":\"%s\"}",
		 (unsigned long long)last_seq, run_id);
	r = bh_call(&W, &slow, "subscribe_blocks", params);
	ok(bh_str(r, "result.subscription") != NULL, "it resumes after the last seq");
	cJSON_Delete(r);
	for (int i = 0; i < 10; i++) {
		bh_emit_block(++emitted, 1, 1, PAD);
		bh_pump(&W);
		fast_bad += drain_fast(&fast, &fast_next);
	}
	while ((m = bh_recv(&W, &slow, 1))) {
		if (bh_method(m) && strcmp(bh_method(m), "block") == 0) {
			uint64_t h = (uint64_t)bh_num(m, "params.height");
			if (h < sizeof(seen) && seen[h]++)
				dups++;
			last_block = h;
		}
		cJSON_Delete(m);
		if (last_block == emitted)
			break;
	}
	uint64_t missing = 0;
	for (uint64_t h = 1; h <= emitted; h++)
		missing += !seen[h];
	ok(missing == 0 && emitted > RING,
	   "the union of what the slow client received is every height 1..%llu (%llu missing)",
	   (unsigned long long)emitted, (unsigned long long)missing);
	is_int(dups, 0, "and nothing twice");
	fast_bad += drain_fast(&fast, &fast_next);
	ok(fast_bad == 0 && fast_next == emitted + 1, "the fast client got every block in order, "
	   "undisturbed (%llu)", (unsigned long long)(fast_next - 1));
	ok(max_ring > 0 && max_ring <= RING, "the ring never held more than ring_size (%zu)", max_ring);
	ok(max_queued > 0 && max_queued <= 2 * (2 * MAX_PENDING + 4096 + PAD + 512),
	   "queued output stayed within the per-client limits (%zu bytes at most)", max_queued);
	bh_close(&slow);

	/* A client replaying from the ring's oldest update that never reads is
	 * lagged when the ring is about to drop what it needs: told, not skipped. */
	bh_connect(&slow, W.sock);
	bh_hello(&W, &slow);
	r = bh_call(&W, &fast, "status", NULL);
	while (r && !cJSON_GetObjectItem(r, "result")) {
		fast_next += bh_method(r) && strcmp(bh_method(r), "block") == 0;
		cJSON_Delete(r);
		r = bh_recv(&W, &fast, 5);
	}
	snprintf(params, sizeof(params), "{\"from_height\":%llu}",
		 (unsigned long long)bh_num(r, "result.ring.oldest_height"));
	cJSON_Delete(r);
	r = bh_call(&W, &slow, "subscribe_blocks", params);
	ok(bh_str(r, "result.subscription") != NULL, "a replay from the oldest held height starts");
	cJSON_Delete(r);
	double before = lagged_count();
	for (int i = 0; i < 2 * RING && lagged_count() == before; i++) {
		bh_emit_block(++emitted, 1, 1, PAD);
		bh_pump(&W);
		fast_bad += drain_fast(&fast, &fast_next);
	}
	ok(lagged_count() == before + 1, "it is lagged before the ring drops its next update");
	last_block = 0;
	lag = read_slow(&slow, &dups, &last_block);
	ok(lag && (uint64_t)bh_num(lag, "params.last_height") == last_block,
	   "with the last height it really got (%llu)", (unsigned long long)last_block);
	cJSON_Delete(lag);
	bh_close(&slow);
	bh_close(&fast);
	bh_down(&W);
	return done_testing();
}
