/* Nonce rules: max(last + 1, access key + 1, final height x 1e6), strictly
 * increasing, persisted high-water mark, InvalidNonce, NonceTooLarge. */
#include "../tap.h"
#include "nonce.h"

int main(void)
{
	struct nonce_state st;

	nonce_init(&st, 0);
	is_int(nonce_next(&st, 0), 0, "no final height yet: no nonce");
	nonce_set_access_key(&st, 87000005);
	is_int(nonce_next(&st, 100), 100000000, "a fresh key starts at final height x 1e6");
	is_int(nonce_next(&st, 100), 100000001, "then + 1 within the same block");
	is_int(nonce_next(&st, 100), 100000002, "strictly increasing");
	is_int(nonce_next(&st, 101), 101000000, "a newer final block jumps ahead");
	is_int(nonce_next(&st, 100), 101000001, "an older final block (a lagging node) never goes back");

	nonce_init(&st, 0);
	nonce_set_access_key(&st, 250000007);
	is_int(nonce_next(&st, 200), 250000008, "above the access key's nonce when it is ahead");
	nonce_set_access_key(&st, 10);
	is_int(nonce_next(&st, 200), 250000009, "the access key's nonce never moves back");

	nonce_init(&st, 300000042);
	is_int(nonce_next(&st, 250), 300000043, "a persisted high-water mark is respected after a restart");

	nonce_init(&st, 0);
	nonce_next(&st, 100);
	nonce_invalid(&st, 100000050);
	is_int(nonce_next(&st, 100), 100000051, "InvalidNonce{ak_nonce}: above the chain's nonce");

	nonce_init(&st, 999000000000ULL); /* a journal from another chain */
	nonce_set_access_key(&st, 100000003);
	is_int(nonce_too_large(&st, 120000000), 1, "NonceTooLarge: the mark moves down");
	is_int(nonce_next(&st, 110), 110000000, "and nonces come from the chain again");
	is_int(nonce_too_large(&st, 120000000), 0, "a mark below the bound is kept");

	nonce_init(&st, UINT64_MAX);
	is_int(nonce_next(&st, 5), 0, "no nonce past 2^64-1");
	nonce_init(&st, 0);
	is_int(nonce_next(&st, UINT64_MAX / 1000), 0, "no nonce when height x 1e6 overflows");
	return done_testing();
}
