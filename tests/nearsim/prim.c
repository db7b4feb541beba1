/* prim: nearsim's short names for the project's NEAR primitives (core/near), a faster
 * base58 encoder, base64 encoding into a caller buffer (libsodium) and the PRNG. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "near/base58.h"
#include "near/base64.h"
#include "near/hash.h"
#include "near/keys.h"
#include "near/u128.h"

#include "prim.h"

/*
 * The same digits as core/near's b58_encode, computed five at a time: the number is
 * held in 32-bit limbs and divided by 58^5, so a 32-byte hash costs ~60 divisions
 * instead of ~1400.  Block documents encode every hash they mention, and this was a
 * fifth of nearsim's time under the chain lock at a few thousand transactions a second.
 */
#define B58_POW5 656356768u /* 58^5 < 2^32 */

size_t b58_enc(char *out, size_t cap, const uint8_t *in, size_t n)
{
	static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
	uint32_t limb[32];
	unsigned char dig[B58_ENCODED_MAX(128)];
	size_t zeros = 0, nl = 0, first = 0, nd = 0, i;

	if (n > 128)
		return 0;
	while (zeros < n && in[zeros] == 0)
		zeros++;
	/* big-endian limbs, the most significant one holding the odd bytes */
	for (i = zeros; i < n; i++) {
		if (i == zeros || (n - i) % 4 == 0)
			limb[nl++] = 0;
		limb[nl - 1] = limb[nl - 1] << 8 | in[i];
	}
	while (first < nl) {
		uint64_t rem = 0;
		for (i = first; i < nl; i++) {
			uint64_t cur = rem << 32 | limb[i];
			limb[i] = (uint32_t)(cur / B58_POW5);
			rem = cur % B58_POW5;
		}
		while (first < nl && limb[first] == 0)
			first++;
		for (int k = 0; k < 5; k++) {
			dig[nd++] = (unsigned char)(rem % 58);
			rem /= 58;
		}
	}
	while (nd && dig[nd - 1] == 0)
		nd--; /* the last group's leading zeros are not digits */
	if (zeros + nd > cap)
		return 0;
	memset(out, '1', zeros);
	for (i = 0; i < nd; i++)
		out[zeros + i] = alphabet[dig[nd - 1 - i]];
	return zeros + nd;
}

int b58_dec_exact(uint8_t *out, size_t want, const char *s, size_t n)
{
	uint8_t tmp[128];
	size_t got = 0;

	if (!n || want > sizeof(tmp) || b58_decode(tmp, sizeof(tmp), s, n, &got) || got != want)
		return -1;
	memcpy(out, tmp, want);
	return 0;
}

size_t b64_enc_len(size_t n)
{
	return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
}

size_t b64_enc(char *out, size_t cap, const uint8_t *in, size_t n)
{
	if (cap < b64_enc_len(n))
		return 0;
	sodium_bin2base64(out, cap, in, n, sodium_base64_VARIANT_ORIGINAL);
	return strlen(out);
}

long b64_dec(uint8_t *out, size_t cap, const char *s, size_t n)
{
	size_t len = 0;

	if (n == 0)
		return 0;
	if (b64_decode(out, cap, s, n, &len))
		return -1;
	return (long)len;
}

void sha256(uint8_t out[32], const void *d, size_t n)
{
	near_sha256(out, d, n);
}

void sha3_256(uint8_t out[32], const void *d, size_t n)
{
	near_sha3_256(out, d, n);
}

void ed_keypair(uint8_t pk[32], uint8_t sk[64], const uint8_t seed[32])
{
	struct near_secret s;

	near_secret_from_seed(&s, seed);
	memcpy(sk, s.sk, 64);
	memcpy(pk, s.sk + 32, 32);
	near_secret_wipe(&s);
}

void ed_keypair_from_name(uint8_t pk[32], uint8_t sk[64], const char *name)
{
	uint8_t seed[32];
	size_t n = strlen(name);

	memset(seed, ' ', 32);
	memcpy(seed, name, n > 32 ? 32 : n);
	ed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
}

void ed_sign(uint8_t sig[64], const uint8_t *msg, size_t n, const uint8_t sk[64])
{
	struct near_secret s;

	memcpy(s.sk, sk, 64);
	near_sign(sig, &s, msg, n);
	near_secret_wipe(&s);
}

bool ed_verify(const uint8_t sig[64], const uint8_t *msg, size_t n, const uint8_t pk[32])
{
	struct near_pubkey p = { .type = NEAR_KEY_ED25519 };

	memcpy(p.data, pk, 32);
	return near_verify(sig, &p, msg, n) == 0;
}

int pk_parse(uint8_t pk[32], const char *s)
{
	struct near_pubkey p;

	if (!s || near_pubkey_parse(&p, s))
		return -1;
	memcpy(pk, p.data, 32);
	return 0;
}

static void fmt_prefixed(char *out, size_t cap, const char *pfx, const uint8_t *d, size_t n)
{
	size_t p = strlen(pfx), m;

	if (cap < p + 2) {
		if (cap)
			out[0] = 0;
		return;
	}
	memcpy(out, pfx, p);
	m = b58_enc(out + p, cap - p - 1, d, n);
	out[p + m] = 0;
}

void pk_format(char *out, size_t cap, const uint8_t pk[32]) { fmt_prefixed(out, cap, "ed25519:", pk, 32); }
void sk_format(char *out, size_t cap, const uint8_t sk[64]) { fmt_prefixed(out, cap, "ed25519:", sk, 64); }
void hash_format(char *out, size_t cap, const uint8_t h[32]) { fmt_prefixed(out, cap, "", h, 32); }

int u128_parse(u128 *out, const char *s)
{
	return s ? near_u128_parse(s, strlen(s), out) : -1;
}

void u128_format(char *out, size_t cap, u128 v)
{
	char tmp[NEAR_U128_STR_MAX];

	near_u128_format(tmp, v);
	snprintf(out, cap, "%s", tmp);
}

void hex_enc(char *out, const uint8_t *d, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexd[d[i] >> 4];
		out[2 * i + 1] = hexd[d[i] & 15];
	}
	out[2 * n] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_dec(uint8_t *out, size_t cap, const char *s, size_t n)
{
	size_t i;

	if (n % 2 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double rng_unit(uint64_t *state)
{
	return (double)(rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}
