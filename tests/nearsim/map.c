/* map: linear probing over 32-byte keys; the key bytes are already uniformly random hashes. */
#include <stdlib.h>
#include <string.h>

#include "map.h"

static char tombstone;
#define TOMB ((void *)&tombstone)

static size_t slot_of(const uint8_t key[32], size_t cap)
{
	uint64_t h;

	memcpy(&h, key, 8);
	return (size_t)(h & (cap - 1));
}

static int rehash(struct ns_map *m, size_t cap)
{
	struct ns_map_slot *old = m->slots, *ns = calloc(cap, sizeof(*ns));
	size_t i, oldcap = m->cap;

	if (!ns)
		return -1;
	m->slots = ns;
	m->cap = cap;
	m->used = m->live = 0;
	for (i = 0; i < oldcap; i++)
		if (old[i].val && old[i].val != TOMB)
			map_put(m, old[i].key, old[i].val);
	free(old);
	return 0;
}

int map_put(struct ns_map *m, const uint8_t key[32], void *val)
{
	size_t i, tomb = SIZE_MAX;

	if ((m->used + 1) * 4 >= m->cap * 3 && rehash(m, m->cap ? m->cap * 2 : 64))
		return -1;
	for (i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		struct ns_map_slot *s = &m->slots[i];
		if (!s->val) {
			if (tomb != SIZE_MAX)
				s = &m->slots[tomb];
			else
				m->used++;
			memcpy(s->key, key, 32);
			s->val = val;
			m->live++;
			return 0;
		}
		if (s->val == TOMB) {
			if (tomb == SIZE_MAX)
				tomb = i;
			continue;
		}
		if (!memcmp(s->key, key, 32)) {
			s->val = val;
			return 0;
		}
	}
}

void *map_get(const struct ns_map *m, const uint8_t key[32])
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		const struct ns_map_slot *s = &m->slots[i];
		if (!s->val)
			return NULL;
		if (s->val != TOMB && !memcmp(s->key, key, 32))
			return s->val;
	}
}

void map_del(struct ns_map *m, const uint8_t key[32])
{
	size_t i;

	if (!m->cap)
		return;
	for (i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		struct ns_map_slot *s = &m->slots[i];
		if (!s->val)
			return;
		if (s->val != TOMB && !memcmp(s->key, key, 32)) {
			s->val = TOMB;
			m->live--;
			return;
		}
	}
}

void map_free(struct ns_map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
