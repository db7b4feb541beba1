/* mpc-node-bridge: shared state of the plugin, its clients and their
 * subscriptions.  Everything runs on the host's loop thread. */
#ifndef BRIDGE_H
#define BRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mpc-indexer/plugin.h"
#include "listen.h"
#include "ring.h"

#define BRIDGE_PROTOCOL_VERSION 1
#define BRIDGE_VERSION "1.0.0"

struct bmsg;
struct bclient;

/* A state endpoint: one contract view method the plugin follows. */
struct endpoint {
	struct bridge *br;
	char *method;
	struct bmsg *current;       /* the last notification, sent first to new subscribers */
	mpci_sub *sub;
	int ended;
};

struct bridge_cfg {
	char socket_path[108];
	unsigned socket_mode;
	const char *socket_group;
	const char *tcp_listen;
	const char *port_file;
	int check_uid;
	uid_t *allowed_uids;        /* besides our own euid */
	size_t n_allowed_uids;
	size_t max_clients;
	size_t max_line;
	size_t max_pending;
	size_t max_inflight;
	size_t max_errors;
	size_t ring_size;
	size_t ring_bytes;
	double hello_timeout;
	double close_timeout;
	int allow_tx;
	uint64_t from_height;
};

/* A view or transaction in flight for a client. */
struct bop {
	struct bop *prev, *next;    /* in bridge.ops */
	struct bridge *br;
	struct bclient *c;          /* NULL once the client has gone */
	char *id_json;              /* the request's id, rendered */
	int is_tx;
};

struct bridge {
	const struct mpci_host_api *api;
	mpci_plugin *self;
	struct bridge_cfg cfg;
	struct unix_listener ul;
	mpci_watch *ul_watch;
	int tcp_fd;
	int tcp_port;
	mpci_watch *tcp_watch;
	mpci_timer *housekeeping;
	mpci_sub *blocks_sub;
	int have_blocks;            /* the host gave us a block stream */
	int have_state;
	struct ring ring;
	struct endpoint *endpoints;
	size_t n_endpoints;
	struct bclient *clients;    /* doubly linked */
	struct bclient *graveyard;  /* closed, watch not yet released (see bridge_reap) */
	size_t n_clients;
	uint64_t next_client_id;
	struct bop ops;             /* sentinel of the in-flight list */
	char run_id[17];
	int stopping;
	int handles_gone;           /* in fini: the host has already released our
				     * timers, watches and subscriptions */
	struct mpci_filter *filters;
	size_t n_filters;
	char **filter_strs;
	/* metrics */
	mpci_metric *m_clients;
	mpci_metric *m_disconnects;
	mpci_metric *m_requests;
	mpci_metric *m_block_msgs;
	mpci_metric *m_ring_updates;
	mpci_metric *m_ring_bytes;
};

/* client.c */
enum client_phase { CLIENT_HELLO, CLIENT_READY, CLIENT_CLOSING };

struct outq {
	struct bmsg **v;
	size_t cap, head, n;
	size_t bytes;               /* unsent bytes */
	size_t off;                 /* bytes of v[head] already written */
};

struct bclient {
	struct bclient *prev, *next;
	struct bridge *br;
	uint64_t id;
	int fd;
	int is_tcp;
	uid_t uid;
	int uid_known;
	mpci_watch *watch;
	int watch_events;
	enum client_phase phase;
	double since;               /* connect time, for the handshake timeout */
	double close_deadline;
	int shut_wr;                /* output done, draining input before close */
	char *rbuf;
	size_t rlen, rcap;
	struct outq oq;
	size_t inflight;
	size_t errors;
	/* block subscription */
	int blocks_on;
	uint64_t cursor;            /* next ring seq to queue */
	int catching_up;            /* replaying from the ring, not yet at its head */
	uint64_t min_height;
	uint64_t given_height;      /* last block queued to this client */
	uint64_t given_seq;         /* last update queued, +1 (0 = none) */
	/* state subscriptions: one flag per endpoint */
	unsigned char *state_on;
	/* in a fan-out loop: don't free, mark */
	int dead;
};

int client_accept(struct bridge *br, int lfd, int is_tcp);
/* Queue one line (a reference is taken); -1 when the client went over its
 * hard output limit and is being closed. */
int client_send(struct bclient *c, struct bmsg *m);
/* Queue a line built from text (copied). */
int client_send_text(struct bclient *c, const char *line, size_t len);
/* Write what can be written now; pull block updates from the ring. */
void client_flush(struct bclient *c);
/* Send a final notification (may be NULL), then close once it is out. */
void client_close(struct bclient *c, const char *reason, const char *message);
/* A block subscriber that fell too far behind: `lagged`, then close. */
void client_lagged(struct bclient *c);
/* Close at once (no flushing); the memory goes at the next bridge_reap. */
void client_destroy(struct bclient *c);
/* Called after each ring push: pull, check lag, write. */
void client_on_update(struct bclient *c);
/* The ring is about to drop entries below `seq`: a client that still needs
 * one of them is lagged now (loudly; it cannot resume past the hole). */
void client_before_evict(struct bclient *c, uint64_t seq);
void client_housekeeping(struct bclient *c, double now);
void bridge_count_disconnect(struct bridge *br, const char *reason);
/* Release the watches of destroyed clients.  Never from inside the watch's
 * own callback: the host still reads its watch after the callback returns. */
void bridge_reap(struct bridge *br);

/* proto.c: one complete line from a client. */
void proto_handle_line(struct bclient *c, char *line, size_t len);
/* Error reply: id_json NULL means "null". data_json may be NULL. */
void proto_error(struct bclient *c, const char *id_json, int code,
		 const char *message, const char *data_json);
void proto_result(struct bclient *c, const char *id_json, const char *result_json,
		  size_t len);
/* Detach a departing client from its in-flight operations. */
void proto_client_gone(struct bclient *c);

/* Stable error codes (doc/bridge-protocol.md §Errors). */
enum bridge_err {
	BE_PARSE = -32700,
	BE_INVALID_REQUEST = -32600,
	BE_METHOD_NOT_FOUND = -32601,
	BE_INVALID_PARAMS = -32602,
	BE_INTERNAL = -32603,
	BE_HANDSHAKE_REQUIRED = -32000,
	BE_UNSUPPORTED_VERSION = -32001,
	BE_UNAVAILABLE = -32002,
	BE_HEIGHT_UNAVAILABLE = -32003,
	BE_UNKNOWN_ENDPOINT = -32004,
	BE_ALREADY_SUBSCRIBED = -32005,
	BE_NOT_SUBSCRIBED = -32006,
	BE_BUSY = -32007,
	BE_TX_REJECTED = -32008,
	BE_VIEW_FAILED = -32010,
	BE_SHUTTING_DOWN = -32011,
	BE_FORBIDDEN = -32012,
	BE_NOT_READY = -32013,
};

#endif
