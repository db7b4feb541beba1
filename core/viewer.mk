# The state viewer: the JSON-RPC client with failover, subscriptions, `mpc-indexer view`.
core_viewer_sources = core/rpc.c core/rpc.h core/rpc_parse.c core/viewer.c core/viewer.h
