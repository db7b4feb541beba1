/* neardata: the fastnear block API: /v0/block/{h}, /v0/block_opt/{h} (+ /headers,
 * /shard/{id}), /v0/last_block/{final,optimistic} and /v0/first_block as 302s, /health.
 * Skipped heights answer null; heights up to 10 ahead wait; further ahead 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nearsim.h"

#define AHEAD 10

static void not_found(struct ns_reply *r, const char *msg, const char *type)
{
	char b[200];

	snprintf(b, sizeof(b), "{\"error\":\"%s\",\"type\":\"%s\"}", msg, type);
	reply_json(r, 404, strdup(b), strlen(b));
}

static int parse_height(const char *s, const char **rest, uint64_t *h)
{
	uint64_t v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		if (v > 100000000000000000ULL)
			return -1;
		v = v * 10 + (uint64_t)(*s++ - '0');
		n++;
	}
	if (!n || (*s && *s != '/'))
		return -1;
	*h = v;
	*rest = s;
	return 0;
}

/* Serve part of a block: "" whole document, "/headers", "/shard/{id}". */
static void serve(struct ns_chain *c, struct ns_reply *r, struct ns_block *b, const char *suffix, const char *cache)
{
	uint64_t s;
	const char *rest;

	doc_ensure(c, b);

	if (!*suffix) {
		reply_buf(r, 200, b->doc);
	} else if (!strcmp(suffix, "/headers")) {
		reply_buf(r, 200, b->view);
	} else if (!strncmp(suffix, "/shard/", 7) && !parse_height(suffix + 7, &rest, &s) && !*rest) {
		if (s >= (uint64_t)b->nshards) {
			reply_json(r, 200, strdup("null"), 4);
			return;
		}
		reply_buf(r, 200, b->shard[s]);
	} else {
		reply_text(r, 404, "text/plain", "Not found");
		return;
	}
	r->cache_control = cache;
}

static void redirect(struct ns_reply *r, const char *fmt, uint64_t h, const char *suffix)
{
	snprintf(r->location, sizeof(r->location), fmt, (unsigned long long)h, suffix);
	reply_text(r, 302, "text/plain", "");
}

static void block(struct ns_chain *c, struct ns_reply *r, const char *arg, bool opt)
{
	const char *suffix;
	uint64_t h;
	unsigned waited = 0;

	if (parse_height(arg, &suffix, &h)) {
		reply_text(r, 400, "text/plain", "Invalid argument");
		return;
	}
	if (h > 1000000000000000ULL) {
		not_found(r, "The block height is too high", "BLOCK_HEIGHT_TOO_HIGH");
		return;
	}
	if (h < c->genesis_height) {
		not_found(r, "The block height is too low", "BLOCK_HEIGHT_TOO_LOW");
		return;
	}
	for (;;) {
		struct ns_block *fin = chain_visible_final(c, KIND_NEARDATA);
		struct ns_block *head = chain_visible_head(c, KIND_NEARDATA);
		uint64_t top = opt ? head->height : fin->height;
		if (opt && h <= fin->height) {
			redirect(r, "/v0/block/%llu%s", h, suffix);
			return;
		}
		if (h <= top) {
			struct ns_block *b = chain_at(c, h);
			if (h < c->gc_below) {
				not_found(r, "The block is no longer kept by nearsim (--keep-blocks)", "BLOCK_DOES_NOT_EXIST");
				return;
			}
			if (!b) {
				reply_json(r, 200, strdup("null"), 4);
				r->cache_control = "public, max-age=86400";
				return;
			}
			serve(c, r, b, suffix, opt ? "no-cache" : "public, max-age=31536000, immutable");
			return;
		}
		if (h > top + AHEAD || waited >= c->cfg->neardata_wait_ms || c->stopping) {
			not_found(r, "The block is too far in the future", "BLOCK_DOES_NOT_EXIST");
			return;
		}
		chain_wait(c, 50);
		waited += 50;
	}
}

void neardata_handle(struct ns_chain *c, const char *url, struct ns_reply *r)
{
	c->served[KIND_NEARDATA]++;
	if (!strcmp(url, "/health")) {
		reply_json(r, 200, strdup("{\"status\":\"ok\"}"), 15);
	} else if (!strncmp(url, "/v0/block/", 10)) {
		block(c, r, url + 10, false);
	} else if (!strncmp(url, "/v0/block_opt/", 14)) {
		block(c, r, url + 14, true);
	} else if (!strncmp(url, "/v0/last_block/final", 20)) {
		redirect(r, "/v0/block/%llu%s", chain_visible_final(c, KIND_NEARDATA)->height, url + 20);
	} else if (!strncmp(url, "/v0/last_block/optimistic", 25)) {
		redirect(r, "/v0/block_opt/%llu%s", chain_visible_head(c, KIND_NEARDATA)->height, url + 25);
	} else if (!strncmp(url, "/v0/first_block", 15)) {
		redirect(r, "/v0/block/%llu%s", c->genesis_height, url + 15);
	} else {
		reply_text(r, 404, "text/plain", "Not found");
	}
}
