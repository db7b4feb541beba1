/* Polling get_attestation for each participant (see attest.h).  Every view
 * in flight has a context on a list: the host drops answers for a plugin
 * that is going away, so fini frees what never came back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest.h"

struct ask {
	struct ask *prev, *next;
	struct attest *a;
	char account[CONTRACT_MAX_ACCOUNT + 1];
};

struct attest {
	const struct mpci_host_api *api;
	mpci_plugin *self;
	struct cmetrics *cm;
	mpci_timer *timer;
	struct ask head;            /* list of views in flight */
	int unsupported;
};

static void unlink_ask(struct ask *q)
{
	q->prev->next = q->next;
	q->next->prev = q->prev;
}

static void answered(const struct mpci_view_result *r, void *ud)
{
	struct ask *q = ud;
	unlink_ask(q);
	cmetrics_attestation(q->a->cm, q->account, r);
	free(q);
}

/* base58 keys with a curve prefix: safe to put in JSON as they are */
static int key_ok(const char *k)
{
	if (!*k)
		return 0;
	for (; *k; k++)
		if (!((*k >= '0' && *k <= '9') || (*k >= 'a' && *k <= 'z') ||
		      (*k >= 'A' && *k <= 'Z') || *k == ':'))
			return 0;
	return 1;
}

static void round_start(void *ud)
{
	struct attest *a = ud;
	const struct contract_state *s = cmetrics_state(a->cm);
	if (a->unsupported || a->head.next != &a->head)
		return; /* the previous round is still out */
	for (size_t i = 0; i < s->n_participants; i++) {
		const struct contract_participant *p = &s->participants[i];
		char args[CONTRACT_MAX_KEY + 40];
		if (!key_ok(p->tls_key))
			continue;
		struct ask *q = calloc(1, sizeof(*q));
		if (!q)
			return;
		q->a = a;
		memcpy(q->account, p->account, sizeof(q->account));
		snprintf(args, sizeof(args), "{\"tls_public_key\":\"%s\"}", p->tls_key);
		struct mpci_view_spec spec = { .struct_size = sizeof(spec),
					       .method = "get_attestation", .args_json = args };
		q->next = a->head.next;
		q->prev = &a->head;
		a->head.next->prev = q;
		a->head.next = q;
		int rc = a->api->view(a->self, &spec, answered, q);
		if (rc != MPCI_OK) {
			unlink_ask(q);
			free(q);
			if (rc == MPCI_ERR_UNSUPPORTED) {
				a->unsupported = 1;
				a->api->log(a->self, MPCI_LOG_INFO,
					    "no one-shot views on this host: attestation expiry not polled");
			}
			return;
		}
	}
}

struct attest *attest_new(const struct mpci_host_api *api, mpci_plugin *self,
			  struct cmetrics *cm, double interval)
{
	struct attest *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->api = api;
	a->self = self;
	a->cm = cm;
	a->head.next = a->head.prev = &a->head;
	/* the first round once the state has had time to arrive */
	a->timer = api->timer_start(self, interval < 5 ? interval : 5, interval,
				    round_start, a);
	if (!a->timer) {
		free(a);
		return NULL;
	}
	return a;
}

void attest_stop(struct attest *a)
{
	if (a && a->timer) {
		a->api->timer_stop(a->timer);
		a->timer = NULL;
	}
}

void attest_free(struct attest *a)
{
	if (!a)
		return;
	attest_stop(a);
	while (a->head.next != &a->head) {
		struct ask *q = a->head.next;
		unlink_ask(q);
		free(q);
	}
	free(a);
}
