/* Nonce rules for one access key. */
#include "nonce.h"

void nonce_init(struct nonce_state *st, uint64_t hwm)
{
	st->last = hwm;
	st->ak_nonce = 0;
}

void nonce_set_access_key(struct nonce_state *st, uint64_t ak_nonce)
{
	if (ak_nonce > st->ak_nonce)
		st->ak_nonce = ak_nonce;
}

uint64_t nonce_next(struct nonce_state *st, uint64_t final_height)
{
	uint64_t n = st->last > st->ak_nonce ? st->last : st->ak_nonce;

	if (final_height == 0 || n == UINT64_MAX ||
	    final_height > UINT64_MAX / NONCE_HEIGHT_MULT)
		return 0;
	n++;
	if (final_height * NONCE_HEIGHT_MULT > n)
		n = final_height * NONCE_HEIGHT_MULT;
	st->last = n;
	return n;
}

void nonce_invalid(struct nonce_state *st, uint64_t ak_nonce)
{
	nonce_set_access_key(st, ak_nonce);
}

int nonce_too_large(struct nonce_state *st, uint64_t upper_bound)
{
	if (upper_bound == 0 || st->last < upper_bound)
		return 0;
	/* Only nonces at or above the bound are impossible here; keep the rest. */
	st->last = st->ak_nonce < upper_bound ? st->ak_nonce : upper_bound - 1;
	return 1;
}
