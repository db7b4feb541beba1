/* map: open-addressing hash map from a 32-byte hash (block, tx, receipt id) to a pointer. */
#ifndef NEARSIM_MAP_H
#define NEARSIM_MAP_H
#include <stddef.h>
#include <stdint.h>

struct ns_map_slot {
	uint8_t key[32];
	void *val;                /* NULL: empty; &map_tombstone: deleted */
};

struct ns_map {
	struct ns_map_slot *slots;
	size_t cap, used, live;
};

int map_put(struct ns_map *m, const uint8_t key[32], void *val);
void *map_get(const struct ns_map *m, const uint8_t key[32]);
void map_del(struct ns_map *m, const uint8_t key[32]);
void map_free(struct ns_map *m);
#endif
