# make soak: the daemon with all four plugins and bridge clients against nearsim with every
# fault class switching on and off at random (tests/soak/README.md). Not part of make check.
# SOAK_DURATION=seconds (default 600), SOAK_SEED=N (default random, printed).
soak_files = tests/soak/soak.py tests/soak/chain.py tests/soak/world.py tests/soak/faults.py \
	tests/soak/events.py tests/soak/clients.py tests/soak/monitor.py tests/soak/checks.py \
	tests/soak/logrules.py tests/soak/README.md
EXTRA_DIST += $(soak_files)
CLEANFILES += soak-report.txt

soak: all tests/fakes/mpcnode_fake
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' PYTHON3='$(PYTHON3)' \
	  $(PYTHON3) $(srcdir)/tests/soak/soak.py
.PHONY: soak

# Regression tests for what the soak found; these are part of make check.
soak_found_tests = tests/soak/found_rpc_final.sh tests/soak/found_first_null.sh \
	tests/soak/found_rpc_fork.sh
dist_check_SCRIPTS += $(soak_found_tests)
TESTS += $(soak_found_tests)
# Too slow for make check on a loaded machine (minutes): run it by hand, as the README says.
EXTRA_DIST += tests/soak/found_rpc_completions.sh
