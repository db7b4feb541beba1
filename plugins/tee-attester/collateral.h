/* Collateral from a PCCS (Intel's PCS API v4): the four requests, and the
 * answers assembled into the contract's Collateral shape. */
#ifndef TEE_COLLATERAL_H
#define TEE_COLLATERAL_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cause.h"
#include "pck.h"

#define TEE_PCCS_BODY_MAX (1u << 20)

enum tee_pccs_item {
	TEE_PCCS_PCK_CRL = 0,     /* sgx pckcrl?ca=...&encoding=der: DER */
	TEE_PCCS_TCB_INFO,        /* tdx tcb?fmspc=...: {"tcbInfo","signature"} */
	TEE_PCCS_QE_IDENTITY,     /* tdx qe/identity: {"enclaveIdentity","signature"} */
	TEE_PCCS_ROOT_CA_CRL,     /* sgx rootcacrl: hex text of DER */
	TEE_PCCS_ITEMS
};

/* The request URL (malloc'd) for an item.  `base` is the PCCS URL, with or
 * without a trailing /sgx|tdx/certification/v4. */
char *tee_pccs_url(const char *base, enum tee_pccs_item item,
		   const struct tee_pck *pck);
/* What the item is called in messages ("PCK CRL", ...). */
const char *tee_pccs_item_name(enum tee_pccs_item item);
/* Response headers that carry the item's issuer chain, NULL-terminated
 * (none for the root CA CRL). */
const char *const *tee_pccs_chain_headers(enum tee_pccs_item item);

struct tee_pccs_answer {
	int status;                   /* HTTP status, 0: no answer */
	const char *error;            /* transport error when status is 0 */
	const char *body;
	size_t body_len;
	const char *issuer_chain;     /* the header value (URL-encoded) or NULL */
};

/* When the collateral was issued (unix seconds). */
struct tee_collateral_dates {
	time_t tcb_info_issued;
	time_t qe_identity_issued;
	time_t pck_crl_this_update;
};

/* Assemble the Collateral object (fields in the contract's order) from the
 * four answers and the quote's PCK chain.  Checks in this order: each
 * answer (status, size, shape), freshness (every date at most max_age
 * seconds before `now` and at most 5 minutes after it), issuer chains.
 * NULL with *cause and a message naming the item. */
cJSON *tee_collateral_build(const struct tee_pccs_answer ans[TEE_PCCS_ITEMS],
			    const struct tee_pck *pck, const char *pck_chain,
			    size_t pck_chain_len, time_t now, double max_age,
			    struct tee_collateral_dates *dates,
			    enum tee_cause *cause, char *err, size_t errsz);

#endif
