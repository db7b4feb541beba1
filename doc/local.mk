# doc/: man pages and the plugin tutorial; etc/: sample configurations;
# contrib/systemd and contrib/container: operations files; ops_* tests.
dist_man_MANS += doc/mpc-indexer.conf.5 doc/mpc-indexer-plugin.3
dist_mpcisysconf_DATA += etc/monitoring.conf etc/mpc-node-bridge.conf etc/tee-backup.conf
EXTRA_DIST += doc/writing-plugins.md \
	contrib/systemd/mpc-indexer.service contrib/systemd/mpc-indexer.sysusers \
	contrib/container/Dockerfile contrib/container/entrypoint.sh \
	contrib/container/docker-compose.yml contrib/container/README.md

# Runs a command under the unit's seccomp restrictions, as systemd 252 builds them.
check_PROGRAMS += tests/integration/ops_sandbox
tests_integration_ops_sandbox_SOURCES = tests/integration/ops_sandbox.c

ops_tests = tests/integration/ops_systemd.sh tests/integration/ops_container.sh \
	tests/integration/ops_configs.sh tests/integration/ops_manpages.sh \
	tests/integration/ops_tutorial.sh
dist_check_SCRIPTS += $(ops_tests)
TESTS += $(ops_tests)
