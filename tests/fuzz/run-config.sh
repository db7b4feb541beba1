#!/bin/sh
# Builds the configuration parser's libFuzzer target with clang and runs it briefly.
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init config inih
trap 'rm -rf "$tmp" /tmp/fuzz-config-*.ini' EXIT INT TERM
fuzz_tally=
fuzz_seeds fuzz_config "$top_srcdir/etc"
fuzz_build fuzz_config -I"$top_srcdir/core" "$top_srcdir/core/config.c" &&
	fuzz_one fuzz_config 20000 2048
finish
