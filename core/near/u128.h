/* yoctoNEAR amounts (u128) and gas (u64) as decimal strings. */
#ifndef MPCI_NEAR_U128_H
#define MPCI_NEAR_U128_H
#include <stddef.h>
#include <stdint.h>

typedef unsigned __int128 near_u128;

#define NEAR_U128_MAX (~(near_u128)0)
/* 2^128-1 has 39 digits, plus the NUL. */
#define NEAR_U128_STR_MAX 40
/* 1 NEAR = 10^24 yoctoNEAR. */
#define NEAR_ONE_NEAR ((near_u128)1000000000000ULL * 1000000000000ULL)
#define NEAR_TGAS 1000000000000ULL
/* Per-transaction prepaid gas limit since protocol 83 (1 PGas; 300 TGas before). */
#define NEAR_MAX_GAS 1000000000000000ULL

/*
 * Parse exactly n characters of decimal digits (no sign, space, prefix; not empty;
 * leading zeros allowed). Returns 0, or -1 on anything else or a value above 2^128-1.
 */
int near_u128_parse(const char *s, size_t n, near_u128 *out);
/* Write v in decimal, NUL-terminated; returns the length (1..39). */
size_t near_u128_format(char out[NEAR_U128_STR_MAX], near_u128 v);

/* Same rules for u64: n characters, or a NUL-terminated string for near_gas_parse. */
int near_u64_parse(const char *s, size_t n, uint64_t *out);
int near_gas_parse(const char *s, uint64_t *out);

#endif
