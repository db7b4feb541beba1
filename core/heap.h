/*
 * The heap between bursts. glibc keeps the memory a burst freed (a catch-up after a
 * stall, a switch to the RPC fallback), so RSS stays at the burst's peak; every
 * `interval` the freed memory beyond 1 MiB is given back (malloc_trim), and how much of
 * the heap is in use is exported, so RSS follows what is really in use and a leak shows
 * as growth of mpc_indexer_heap_in_use_bytes:
 *   mpc_indexer_heap_in_use_bytes     gauge: allocated and not freed
 *   mpc_indexer_heap_free_bytes       gauge: freed but kept by malloc, before a trim
 *   mpc_indexer_heap_trims_total      counter: times freed memory was given back
 * Without glibc >= 2.33 (mallinfo2) it does nothing.
 */
#ifndef MPCI_HEAP_H
#define MPCI_HEAP_H

struct ev_loop;
struct metrics;
struct heap;

struct heap *heap_new(struct ev_loop *loop, struct metrics *reg, double interval);
void heap_free(struct heap *h);

#endif
