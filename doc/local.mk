# doc/: man pages and the plugin tutorial; etc/: sample configurations;
# contrib/systemd and contrib/container: operations files; ops_* tests.
dist_man_MANS += doc/mpc-indexer.conf.5 doc/mpc-indexer-plugin.3
dist_mpcisysconf_DATA += etc/monitoring.conf etc/mpc-node-bridge.conf etc/tee-backup.conf
EXTRA_DIST += contrib/systemd/mpc-indexer.service contrib/systemd/mpc-indexer.sysusers \
	contrib/container/Dockerfile contrib/container/entrypoint.sh \
	contrib/container/docker-compose.yml contrib/container/README.md
