# contrib: systemd unit, container files, alert rules, dashboard, example plugin, clients.
EXTRA_DIST += contrib/example-plugin/example.c contrib/example-plugin/Makefile
# tools/run-demo --config: following testnet or mainnet (tools/ itself is in EXTRA_DIST).
EXTRA_DIST += etc/demo-testnet.conf etc/demo-mainnet.conf
