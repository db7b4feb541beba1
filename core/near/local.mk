# NEAR primitives: encodings, Borsh, hashes, keys, account ids, amounts.
noinst_LTLIBRARIES += core/near/libnear.la
core_near_libnear_la_SOURCES = core/near/near.h \
	core/near/base58.h core/near/base64.h core/near/hash.h core/near/borsh.h \
	core/near/u128.h core/near/account_id.h core/near/keys.h core/near/tx.h
core_near_libnear_la_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS)
core_near_libnear_la_LIBADD = $(SODIUM_LIBS) $(CRYPTO_LIBS)
