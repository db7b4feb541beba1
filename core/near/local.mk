# NEAR primitives: encodings, Borsh, hashes, keys, account ids, amounts, transactions.
noinst_LTLIBRARIES += core/near/libnear.la
core_near_libnear_la_SOURCES = core/near/near.h \
	core/near/base58.c core/near/base58.h \
	core/near/base64.c core/near/base64.h \
	core/near/hash.c core/near/hash.h \
	core/near/borsh.c core/near/borsh.h \
	core/near/u128.c core/near/u128.h \
	core/near/account_id.c core/near/account_id.h \
	core/near/keys.c core/near/keys.h \
	core/near/tx.c core/near/tx_decode.c core/near/tx.h
core_near_libnear_la_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS)
core_near_libnear_la_LIBADD = $(SODIUM_LIBS) $(CRYPTO_LIBS)
