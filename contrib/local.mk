# contrib: systemd unit, container files, alert rules, dashboard, example plugin, clients.
EXTRA_DIST += contrib/example-plugin/example.c contrib/example-plugin/Makefile
