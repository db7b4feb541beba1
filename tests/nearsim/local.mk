# nearsim: the chain simulator (installed: plugin authors run it too).
bin_PROGRAMS += nearsim
nearsim_SOURCES = tests/nearsim/main.c tests/nearsim/nearsim.h tests/nearsim/server.c \
	tests/nearsim/server.h tests/nearsim/chain.c tests/nearsim/doc.c tests/nearsim/rpc.c \
	tests/nearsim/neardata.c tests/nearsim/admin.c tests/nearsim/accounts.c \
	tests/nearsim/txexec.c tests/nearsim/contract.c tests/nearsim/traffic.c \
	tests/nearsim/faults.c tests/nearsim/jw.c tests/nearsim/jw.h tests/nearsim/map.c \
	tests/nearsim/map.h tests/nearsim/prim.c tests/nearsim/prim.h
nearsim_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(CJSON_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS)
nearsim_LDADD = core/near/libnear.la $(MHD_LIBS) $(CJSON_LIBS) $(SODIUM_LIBS) $(CRYPTO_LIBS) $(PTHREAD_LIBS)
