/* NEAR account id syntax (near-account-id `validate`). */
#ifndef MPCI_NEAR_ACCOUNT_ID_H
#define MPCI_NEAR_ACCOUNT_ID_H
#include <stddef.h>

#define NEAR_ACCOUNT_ID_MIN 2
#define NEAR_ACCOUNT_ID_MAX 64

/*
 * 1 if the n bytes of s are a valid account id: 2..64 of [a-z0-9-_.], a separator never
 * first, last or next to another. 0 otherwise (also for s == NULL).
 * Syntax only: implicit ids (64 hex, 0x+40 hex) pass because they follow the same rules.
 */
int near_account_id_valid(const char *s, size_t n);

#endif
