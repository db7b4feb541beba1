/* What host.c and host_api.c share: the plugin record and its registrations. */
#ifndef MPCI_HOST_INTERNAL_H
#define MPCI_HOST_INTERNAL_H

#include <ev.h>
#include <pthread.h>

#include "host.h"
#include "metrics.h"

/* Intrusive list of everything a plugin registered, freed when it unloads. */
struct reg {
	struct reg *prev, *next;
	void (*release)(struct reg *r); /* unlink done by the caller */
};

enum plugin_phase {
	PHASE_LOADED,
	PHASE_INIT,     /* inside init(): registrations allowed */
	PHASE_READY,    /* init() succeeded */
	PHASE_RUNNING,  /* start() succeeded */
	PHASE_STOPPED,
	PHASE_GONE,     /* fini() ran or init() failed */
};

struct mpci_plugin {
	struct host *host;
	char *name;
	char *section;
	char *path;
	void *dl;
	const struct mpci_plugin_desc *desc;
	void *state;
	int required;
	enum plugin_phase phase;
	struct reg regs;            /* list head */
	struct cfg_key *schema;     /* host keys + the plugin's keys */
	char **list_keys;           /* config_list cache: key names ... */
	char ***list_vals;          /* ... and their parsed values */
	size_t n_lists;
	char where[320];
	struct mpci_plugin *next;
};

struct post_item {
	struct post_item *next;
	struct mpci_plugin *plugin;
	void (*cb)(void *ud);
	void *ud;
};

struct host {
	struct host_opts o;
	struct mpci_plugin *plugins; /* file order */
	struct metric *cb_seconds;
	struct metric *cb_slow;
	pthread_mutex_t post_lock;
	struct post_item *post_head, **post_tail;
	ev_async post_wakeup;
};

void reg_add(struct mpci_plugin *p, struct reg *r);
void reg_del(struct reg *r);

/* Time a call into a plugin; warn and count when it is slow. */
double host_call_begin(void);
void host_call_end(struct mpci_plugin *p, const char *what, double t0);

const struct mpci_host_api *host_api_table(void);
void host_post_drain(struct host *h);

#endif
