# plugins/mpc-node-bridge: the indexer API over a local socket (issue 8).
# Public header only: no core include path here.
plugin_LTLIBRARIES += plugins/mpc-node-bridge/mpc-node-bridge.la
plugins_mpc_node_bridge_mpc_node_bridge_la_SOURCES = \
	plugins/mpc-node-bridge/bridge.c plugins/mpc-node-bridge/bridge.h \
	plugins/mpc-node-bridge/client.c plugins/mpc-node-bridge/proto.c \
	plugins/mpc-node-bridge/render.c plugins/mpc-node-bridge/render.h \
	plugins/mpc-node-bridge/ring.c plugins/mpc-node-bridge/ring.h \
	plugins/mpc-node-bridge/msg.c plugins/mpc-node-bridge/msg.h \
	plugins/mpc-node-bridge/jbuf.c plugins/mpc-node-bridge/jbuf.h \
	plugins/mpc-node-bridge/listen.c plugins/mpc-node-bridge/listen.h
plugins_mpc_node_bridge_mpc_node_bridge_la_CPPFLAGS = -I$(top_srcdir)/include -D_GNU_SOURCE
plugins_mpc_node_bridge_mpc_node_bridge_la_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS)
plugins_mpc_node_bridge_mpc_node_bridge_la_LDFLAGS = $(plugin_link_flags)
plugins_mpc_node_bridge_mpc_node_bridge_la_LIBADD = $(CJSON_LIBS) -lm
