# make bench: /metrics with 10,000 series - render time and the scrape cost
# on the loop (target: under 5 ms).  Figures go to stdout; BENCHMARKS.md
# records them with this command.
set -e
"$top_builddir/libtool" --mode=execute "$top_builddir/tests/bench/prom_scrape" 10000 200
