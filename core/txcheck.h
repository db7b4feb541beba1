/* Checks on a function-call request before anything is signed: account ids,
 * method, JSON arguments, gas and deposit.  The messages name the argument
 * and say what is wrong with it; they are meant for the person or plugin
 * that made the request. */
#ifndef MPCI_TXCHECK_H
#define MPCI_TXCHECK_H

#include <stddef.h>
#include <stdint.h>
#include "near/u128.h"

/* The request as given; gas 0 and deposit NULL mean the defaults. */
struct txcheck_in {
	const char *signer_id;	/* the signing account */
	const char *receiver;
	const char *method;
	const char *args;	/* must be JSON */
	size_t args_len;
	uint64_t gas;
	const char *deposit;	/* yoctoNEAR, decimal */
};

/* 0 with *gas (the default when 0) and *deposit set, or -1 and err. */
int txcheck_request(const struct txcheck_in *in, uint64_t default_gas,
		    uint64_t *gas, near_u128 *deposit, char *err, size_t errsz);

/* 1 when the n bytes are one JSON value (surrounding whitespace allowed), valid UTF-8
 * and strict RFC 8259 (no 01, 1., control characters in strings, ...). */
int txcheck_is_json(const char *s, size_t n);
/* The same: 0, or -1 and why ("unterminated string at byte 7"). */
int txcheck_json_error(const char *s, size_t n, char *why, size_t whysz);

/* Gas as people write it: "300000000000000", "300T", "300Tgas", "1P",
 * "1Pgas".  0 or -1 (err says why). */
int txcheck_parse_gas(const char *s, uint64_t *out, char *err, size_t errsz);

#endif
