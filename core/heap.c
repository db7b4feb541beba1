/* Heap accounting and trimming on a loop timer: see heap.h. */
#include "heap.h"

#include <ev.h>
#include <malloc.h>
#include <stdlib.h>

#include "metrics.h"

#define TRIM_ABOVE (1u << 20)	/* freed bytes worth a malloc_trim */

#ifdef __GLIBC__
#if __GLIBC_PREREQ(2, 33)
#define HEAP_STATS 1
#endif
#endif

struct heap {
	struct ev_loop *loop;
	ev_timer timer;
	struct metric *in_use, *free_b, *trims;
};

static void heap_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct heap *h = w->data;

	(void)loop;
	(void)revents;
#ifdef HEAP_STATS
	struct mallinfo2 mi = mallinfo2();
	metric_set(h->in_use, NULL, (double)(mi.uordblks + mi.hblkhd));
	metric_set(h->free_b, NULL, (double)mi.fordblks);
	if (mi.fordblks > TRIM_ABOVE && malloc_trim(0))
		metric_add(h->trims, NULL, 1);
#else
	(void)h;
#endif
}

struct heap *heap_new(struct ev_loop *loop, struct metrics *reg, double interval)
{
	struct heap *h = calloc(1, sizeof(*h));
	char err[200];

	if (!h)
		return NULL;
	h->loop = loop;
	h->in_use = metrics_gauge(reg, "mpc_indexer_heap_in_use_bytes",
				  "Heap memory allocated and not freed", NULL, err, sizeof(err));
	h->free_b = metrics_gauge(reg, "mpc_indexer_heap_free_bytes",
				  "Heap memory freed but kept by malloc (before a trim)", NULL, err, sizeof(err));
	h->trims = metrics_counter(reg, "mpc_indexer_heap_trims_total",
				   "Times freed heap memory was given back to the system", NULL, err, sizeof(err));
	ev_timer_init(&h->timer, heap_tick, interval, interval);
	h->timer.data = h;
	ev_timer_start(loop, &h->timer);
	ev_unref(loop);	/* a timer for housekeeping does not keep the loop alive */
	return h;
}

void heap_free(struct heap *h)
{
	if (!h)
		return;
	ev_ref(h->loop);
	ev_timer_stop(h->loop, &h->timer);
	free(h);
}
