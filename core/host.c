/* Loading plugins and running their lifecycle.  Plugins are opened
 * RTLD_NOW|RTLD_LOCAL, checked before anything of theirs runs, and every
 * registration they make is remembered so that unloading one leaves nothing
 * behind. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host_internal.h"
#include "log.h"
#include "plugin_abi.h"

#define HOST_LOG "host"

const struct cfg_key host_plugin_keys[] = {
	{ "path", CFG_PATH, NULL, "the plugin's shared object (default: PLUGIN_DIR/NAME.so)" },
	{ "required", CFG_BOOL, "no", "stop the daemon when this plugin fails to load or start" },
	{ "enabled", CFG_BOOL, "yes", "load this plugin" },
	{ NULL, 0, NULL, NULL },
};

void reg_add(struct mpci_plugin *p, struct reg *r)
{
	r->next = p->regs.next;
	r->prev = &p->regs;
	p->regs.next->prev = r;
	p->regs.next = r;
}

void reg_del(struct reg *r)
{
	r->prev->next = r->next;
	r->next->prev = r->prev;
	r->next = r->prev = r;
}

double host_call_begin(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void host_call_end(struct mpci_plugin *p, const char *what, double t0)
{
	double dt = host_call_begin() - t0;
	const char *labels[] = { p->name, what, NULL };
	metric_observe(p->host->cb_seconds, labels, dt);
	if (dt > p->host->o.slow_callback) {
		metric_add(p->host->cb_slow, labels, 1);
		log_warn(HOST_LOG,
			 "plugin %s: %s callback took %.3f s; callbacks run on the loop and must not block",
			 p->name, what, dt);
	}
}

static void post_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	host_post_drain(w->data);
}

struct host *host_new(const struct host_opts *o)
{
	static const double bounds[] = { 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3,
					 0.01, 0.05, 0.1, 0.5, 1 };
	static const char *const labels[] = { "plugin", "callback", NULL };
	char err[256];
	struct host *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->o = *o;
	if (h->o.slow_callback <= 0)
		h->o.slow_callback = 0.1;
	h->cb_seconds = metrics_histogram(o->metrics,
		"mpc_indexer_plugin_callback_seconds",
		"Time spent in plugin callbacks on the loop thread.",
		labels, bounds, sizeof(bounds) / sizeof(bounds[0]), err, sizeof(err));
	h->cb_slow = metrics_counter(o->metrics,
		"mpc_indexer_plugin_slow_callbacks_total",
		"Plugin callbacks that took longer than the slow-callback threshold.",
		labels, err, sizeof(err));
	pthread_mutex_init(&h->post_lock, NULL);
	h->post_tail = &h->post_head;
	ev_async_init(&h->post_wakeup, post_cb);
	h->post_wakeup.data = h;
	ev_async_start(o->loop, &h->post_wakeup);
	ev_unref(o->loop); /* a pending post alone must not keep the loop alive */
	return h;
}

void host_set_provider(struct host *h, struct provider p)
{
	h->o.provider = p;
}

/* Drop every registration of a plugin (subscriptions, timers, watchers,
 * requests), running each user-data destructor once. */
static void plugin_release_all(struct mpci_plugin *p)
{
	while (p->regs.next != &p->regs) {
		struct reg *r = p->regs.next;
		reg_del(r);
		r->release(r);
	}
	pthread_mutex_lock(&p->host->post_lock);
	for (struct post_item **it = &p->host->post_head; *it;) {
		struct post_item *pi = *it;
		if (pi->plugin == p) {
			*it = pi->next;
			free(pi);
		} else {
			it = &pi->next;
		}
	}
	p->host->post_tail = &p->host->post_head;
	while (*p->host->post_tail)
		p->host->post_tail = &(*p->host->post_tail)->next;
	pthread_mutex_unlock(&p->host->post_lock);
}

static void plugin_free(struct mpci_plugin *p)
{
	plugin_release_all(p);
	for (size_t i = 0; i < p->n_lists; i++) {
		free(p->list_keys[i]);
		cfg_list_free(p->list_vals[i]);
	}
	free(p->list_keys);
	free(p->list_vals);
	/* ASan and valgrind lose a closed object's symbols; keep it for them. */
	if (p->dl && !getenv("MPCI_NO_DLCLOSE"))
		dlclose(p->dl);
	free(p->schema);
	free(p->name);
	free(p->section);
	free(p->path);
	free(p);
}

static void plugin_unlink(struct host *h, struct mpci_plugin *p)
{
	for (struct mpci_plugin **it = &h->plugins; *it; it = &(*it)->next)
		if (*it == p) {
			*it = p->next;
			return;
		}
}

void host_free(struct host *h)
{
	if (!h)
		return;
	/* fini in reverse order: rebuild the list backwards first */
	struct mpci_plugin *rev = NULL;
	while (h->plugins) {
		struct mpci_plugin *p = h->plugins;
		h->plugins = p->next;
		p->next = rev;
		rev = p;
	}
	while (rev) {
		struct mpci_plugin *p = rev;
		rev = p->next;
		/* handles stay valid in fini(); leftovers are released after it */
		if (p->phase != PHASE_GONE && p->phase != PHASE_LOADED &&
		    p->desc->fini) {
			double t0 = host_call_begin();
			p->desc->fini(p->state);
			host_call_end(p, "fini", t0);
		}
		p->phase = PHASE_GONE;
		plugin_free(p);
	}
	ev_async_stop(h->o.loop, &h->post_wakeup);
	ev_ref(h->o.loop);
	struct post_item *pi = h->post_head;
	while (pi) {
		struct post_item *n = pi->next;
		free(pi);
		pi = n;
	}
	pthread_mutex_destroy(&h->post_lock);
	free(h);
}

/* Open a shared object and return its checked descriptor. */
static const struct mpci_plugin_desc *open_plugin(const char *path, void **dl,
						  char *why, size_t n)
{
	*dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!*dl) {
		snprintf(why, n, "cannot open it: %s (ldd(1) shows missing libraries)",
			 dlerror());
		return NULL;
	}
	mpci_plugin_entry_fn entry;
	*(void **)&entry = dlsym(*dl, MPCI_PLUGIN_ENTRY_NAME);
	if (!entry) {
		snprintf(why, n, "it exports no %s() function; is it an mpc-indexer plugin?",
			 MPCI_PLUGIN_ENTRY_NAME);
		dlclose(*dl);
		*dl = NULL;
		return NULL;
	}
	const struct mpci_plugin_desc *d = entry();
	if (plugin_abi_check(d, why, n) < 0) {
		dlclose(*dl);
		*dl = NULL;
		return NULL;
	}
	return d;
}

int host_probe(const char *path, struct plugin_probe *out, char *why, size_t n)
{
	void *dl;
	memset(out, 0, sizeof(*out));
	mpci_plugin_entry_fn entry;
	/* Report the versions even when the check refuses them. */
	void *peek = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (peek) {
		*(void **)&entry = dlsym(peek, MPCI_PLUGIN_ENTRY_NAME);
		const struct mpci_plugin_desc *d = entry ? entry() : NULL;
		if (d) {
			out->abi_major = d->abi_major;
			out->abi_minor = d->abi_minor;
			if (d->abi_major == MPCI_ABI_MAJOR &&
			    d->struct_size >= PLUGIN_DESC_MIN_SIZE) {
				snprintf(out->name, sizeof(out->name), "%s", d->name ? d->name : "");
				snprintf(out->version, sizeof(out->version), "%s",
					 d->version ? d->version : "");
				snprintf(out->description, sizeof(out->description), "%s",
					 d->description ? d->description : "");
			}
		}
		dlclose(peek);
	}
	if (!open_plugin(path, &dl, why, n))
		return -1;
	dlclose(dl);
	return 0;
}

/* Host keys plus the plugin's declared keys, as one config schema. */
static struct cfg_key *build_schema(const struct mpci_plugin_desc *d,
				    char *why, size_t n)
{
	size_t nk = 0, nh = 0;
	while (host_plugin_keys[nh].name)
		nh++;
	for (; d->config && d->config[nk].name; nk++) {
		const struct mpci_config_key *k = &d->config[nk];
		if (nk >= 256 || k->type < MPCI_CFG_STR || k->type > MPCI_CFG_PATH) {
			snprintf(why, n, "its config key %s has an unknown type %d",
				 k->name, k->type);
			return NULL;
		}
		for (size_t j = 0; j < nh; j++)
			if (strcmp(k->name, host_plugin_keys[j].name) == 0) {
				snprintf(why, n, "its config key '%s' is reserved for the host",
					 k->name);
				return NULL;
			}
	}
	struct cfg_key *s = calloc(nh + nk + 1, sizeof(*s));
	if (!s) {
		snprintf(why, n, "out of memory");
		return NULL;
	}
	memcpy(s, host_plugin_keys, nh * sizeof(*s));
	/* mpci_config_type and cfg_type list the same kinds in the same order */
	for (size_t i = 0; i < nk; i++)
		s[nh + i] = (struct cfg_key){ d->config[i].name,
					      (enum cfg_type)d->config[i].type,
					      d->config[i].def, d->config[i].help };
	return s;
}

static enum host_rc load_one(struct host *h, const char *section,
			     struct cfg_error *err)
{
	const char *name = section + strlen("plugin.");
	char why[512], path[4096];
	int required = 0, enabled = 1;
	void *dl = NULL;

	/* The host's own keys decide whether and where to load; plugin keys
	 * are checked once the plugin has declared them. */
	if (*name == 0) {
		snprintf(err->msg, sizeof(err->msg), "a plugin section needs a name: [plugin.NAME]");
		snprintf(err->file, sizeof(err->file), "%s", cfg_path(h->o.cfg));
		return HOST_CONFIG;
	}
	struct cfg *c = h->o.cfg;
	const char *p_path = NULL;
	struct cfg_key *probe = NULL;
	/* Before the check, cfg_get gives the raw text: resolve a relative
	 * path against the file's directory as the check will. */
	p_path = cfg_get(c, section, "path");
	if (!p_path) {
		snprintf(path, sizeof(path), "%s/%s.so", h->o.plugin_dir, name);
		p_path = path;
	} else if (p_path[0] != '/') {
		const char *cp = cfg_path(c), *slash = strrchr(cp, '/');
		snprintf(path, sizeof(path), "%.*s%s", slash ? (int)(slash - cp + 1) : 0,
			 cp, p_path);
		p_path = path;
	}
	const char *en = cfg_get(c, section, "enabled");
	if (en && cfg_parse_bool(en, &enabled) < 0) {
		cfg_where(c, section, "enabled", err->file, sizeof(err->file));
		snprintf(err->key, sizeof(err->key), "enabled");
		snprintf(err->msg, sizeof(err->msg), "not a boolean: '%s'", en);
		return HOST_CONFIG;
	}
	const char *rq = cfg_get(c, section, "required");
	if (rq && cfg_parse_bool(rq, &required) < 0) {
		cfg_where(c, section, "required", err->file, sizeof(err->file));
		snprintf(err->key, sizeof(err->key), "required");
		snprintf(err->msg, sizeof(err->msg), "not a boolean: '%s'", rq);
		return HOST_CONFIG;
	}
	if (!enabled) {
		log_info(HOST_LOG, "plugin %s: disabled in the configuration", name);
		return HOST_OK;
	}
	const struct mpci_plugin_desc *d = open_plugin(p_path, &dl, why, sizeof(why));
	if (!d)
		goto refused;
	if (strcmp(d->name, name) != 0)
		log_warn(HOST_LOG, "plugin %s: %s calls itself '%s'", name, p_path, d->name);
	probe = build_schema(d, why, sizeof(why));
	if (!probe)
		goto refused;
	const struct cfg_key *schemas[] = { probe, NULL };
	if (cfg_check_section(c, section, schemas, err) < 0) {
		free(probe);
		dlclose(dl);
		return HOST_CONFIG;
	}
	struct mpci_plugin *p = calloc(1, sizeof(*p));
	if (!p || !(p->name = strdup(name)) || !(p->section = strdup(section)) ||
	    !(p->path = strdup(p_path))) {
		snprintf(why, sizeof(why), "out of memory");
		if (p) {
			free(p->name);
			free(p->section);
			free(p);
		}
		free(probe);
		goto refused;
	}
	p->host = h;
	p->dl = dl;
	p->desc = d;
	p->schema = probe;
	p->required = required;
	p->regs.next = p->regs.prev = &p->regs;
	p->phase = PHASE_LOADED;
	struct mpci_plugin **tail = &h->plugins;
	while (*tail)
		tail = &(*tail)->next;
	*tail = p;
	log_info(HOST_LOG, "plugin %s %s loaded from %s (ABI %u.%u)", name,
		 d->version, p_path, d->abi_major, d->abi_minor);
	return HOST_OK;

refused:
	if (dl)
		dlclose(dl);
	if (required) {
		log_error(HOST_LOG, "required plugin %s (%s) refused: %s", name, p_path, why);
		return HOST_FATAL;
	}
	log_error(HOST_LOG, "plugin %s (%s) refused: %s; going on without it",
		  name, p_path, why);
	return HOST_OK;
}

enum host_rc host_load_all(struct host *h, struct cfg_error *err)
{
	size_t n = cfg_section_count(h->o.cfg);
	for (size_t i = 0; i < n; i++) {
		const char *s = cfg_section_name(h->o.cfg, i);
		if (strncmp(s, "plugin.", 7) != 0)
			continue;
		enum host_rc rc = load_one(h, s, err);
		if (rc != HOST_OK)
			return rc;
	}
	return HOST_OK;
}

/* init() or start() failed: undo the plugin, or report a fatal error. */
static enum host_rc plugin_failed(struct host *h, struct mpci_plugin *p,
				  const char *step, int rc)
{
	if (p->required) {
		log_error(HOST_LOG, "required plugin %s: %s failed (%d); stopping",
			  p->name, step, rc);
		return HOST_FATAL;
	}
	log_error(HOST_LOG, "plugin %s: %s failed (%d); unloading it and going on",
		  p->name, step, rc);
	if (strcmp(step, "start") == 0 && p->desc->fini) {
		double t0 = host_call_begin();
		p->desc->fini(p->state);
		host_call_end(p, "fini", t0);
	}
	p->phase = PHASE_GONE;
	plugin_unlink(h, p);
	plugin_free(p);
	return HOST_OK;
}

enum host_rc host_start_all(struct host *h)
{
	struct mpci_plugin *p, *next;

	for (p = h->plugins; p; p = next) {
		next = p->next;
		if (p->phase != PHASE_LOADED)
			continue;
		p->phase = PHASE_INIT;
		double t0 = host_call_begin();
		int rc = p->desc->init(host_api_table(), p, &p->state);
		host_call_end(p, "init", t0);
		if (rc != MPCI_OK) {
			/* init() owns its partial state; the host drops registrations */
			if (plugin_failed(h, p, "init", rc) == HOST_FATAL) {
				p->phase = PHASE_GONE;
				return HOST_FATAL;
			}
			continue;
		}
		p->phase = PHASE_READY;
	}
	for (p = h->plugins; p; p = next) {
		next = p->next;
		if (p->phase != PHASE_READY)
			continue;
		int rc = MPCI_OK;
		if (p->desc->start) {
			double t0 = host_call_begin();
			rc = p->desc->start(p->state);
			host_call_end(p, "start", t0);
		}
		if (rc != MPCI_OK) {
			p->phase = PHASE_STOPPED;
			if (plugin_failed(h, p, "start", rc) == HOST_FATAL)
				return HOST_FATAL;
			continue;
		}
		p->phase = PHASE_RUNNING;
	}
	return HOST_OK;
}

static void stop_rev(struct mpci_plugin *p)
{
	if (!p)
		return;
	stop_rev(p->next);
	if (p->phase == PHASE_RUNNING || p->phase == PHASE_READY) {
		if (p->desc->stop) {
			double t0 = host_call_begin();
			p->desc->stop(p->state);
			host_call_end(p, "stop", t0);
		}
		p->phase = PHASE_STOPPED;
	}
}

void host_stop_all(struct host *h)
{
	stop_rev(h->plugins);
}

size_t host_plugin_count(const struct host *h)
{
	size_t n = 0;
	for (const struct mpci_plugin *p = h->plugins; p; p = p->next)
		n++;
	return n;
}

const char *host_plugin_name(const struct host *h, size_t i)
{
	const struct mpci_plugin *p = h->plugins;
	while (p && i--)
		p = p->next;
	return p ? p->name : NULL;
}

void host_post_drain(struct host *h)
{
	pthread_mutex_lock(&h->post_lock);
	struct post_item *list = h->post_head;
	h->post_head = NULL;
	h->post_tail = &h->post_head;
	pthread_mutex_unlock(&h->post_lock);
	while (list) {
		struct post_item *pi = list;
		list = pi->next;
		double t0 = host_call_begin();
		pi->cb(pi->ud);
		host_call_end(pi->plugin, "post", t0);
		free(pi);
	}
}
