/* NEAR primitives: encodings, hashes, Borsh, amounts, account ids, keys, transactions. */
#ifndef MPCI_NEAR_NEAR_H
#define MPCI_NEAR_NEAR_H
#include "near/base58.h"
#include "near/base64.h"
#include "near/hash.h"
#include "near/borsh.h"
#include "near/u128.h"
#include "near/account_id.h"
#include "near/keys.h"
#include "near/tx.h"
#endif
