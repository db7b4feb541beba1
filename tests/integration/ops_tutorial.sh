# doc/writing-plugins.md compiles and runs as written: its C blocks, in order,
# are contrib/example-plugin/example.c; its Makefile builds them against an
# installed mpc-indexer with pkg-config alone; its configuration, run by the
# installed daemon against the installed nearsim, shows the plugin receive the
# contract state and blocks, count requests in its metric and call verify_tee.
. "$top_srcdir/tests/tap.sh"
md="$top_srcdir/doc/writing-plugins.md"
ex="$top_srcdir/contrib/example-plugin"
t=$(mktemp -d /tmp/mpci-ops-tut-XXXXXX)
ns_pid=""; d_pid=""
cleanup() {
	[ -n "$d_pid" ] && kill -KILL "$d_pid" 2> /dev/null
	[ -n "$ns_pid" ] && kill "$ns_pid" 2> /dev/null && wait "$ns_pid" 2> /dev/null
	rm -rf "$t"
}
trap cleanup EXIT

# The fenced blocks of one language, in order, one blank line between blocks.
blocks() {
	awk -v lang="$1" '$0 == "```" lang { on = 1; if (n++) print ""; next } /^```/ { on = 0 } on' "$md"
}
mkdir -p "$t/work"
blocks c > "$t/work/example.c"
blocks make > "$t/work/Makefile"
blocks ini > "$t/work/example.conf.in"
[ "$(grep -c '^```c$' "$md")" -ge 5 ] && ok "the tutorial has its code in C blocks" || not_ok "no C blocks"
cmp -s "$t/work/example.c" "$ex/example.c" && ok "its C blocks, put together, are contrib/example-plugin/example.c" ||
	{ not_ok "the tutorial's code differs from example.c"; diff "$t/work/example.c" "$ex/example.c" | head -20 | sed 's/^/#   /'; }
cmp -s "$t/work/Makefile" "$ex/Makefile" && ok "its Makefile block is contrib/example-plugin/Makefile" ||
	{ not_ok "the tutorial's Makefile differs"; diff "$t/work/Makefile" "$ex/Makefile" | sed 's/^/#   /'; }

prefix="$t/prefix"
if ! make -s -C "$top_builddir" install prefix="$prefix" > "$t/install.log" 2>&1; then
	not_ok "make install prefix=..."; tail -20 "$t/install.log" | sed 's/^/#   /'; finish; exit 1
fi
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
if make -C "$t/work" > "$t/build.log" 2>&1 && [ -f "$t/work/example.so" ]; then
	ok "the tutorial's code builds with its Makefile and pkg-config alone"
else
	not_ok "the tutorial's code builds"; sed 's/^/#   /' "$t/build.log"; finish; exit 1
fi
grep -q "example\.c:[0-9]*:[0-9]*: warning:" "$t/build.log" &&
	{ not_ok "it builds with warnings"; grep "warning:" "$t/build.log" | sed 's/^/#   /'; } ||
	ok "without warnings (-Wall -Wextra)"
syms=$(nm -D --defined-only "$t/work/example.so" | awk '$2 == "T" { print $3 }')
[ "$syms" = "mpci_plugin_entry" ] && ok "it exports only mpci_plugin_entry" || not_ok "exports: $syms"
"$prefix/bin/mpc-indexer" plugins --plugin-dir "$t/work" > "$t/plugins.out" 2>&1
grep -q "^example .*1\.0\.0 .*loads" "$t/plugins.out" && ok "mpc-indexer plugins --plugin-dir . shows it loads" ||
	{ not_ok "mpc-indexer plugins"; sed 's/^/#   /' "$t/plugins.out"; }

# The tutorial's chain: nearsim --auto-respond --sign-rate 1 (faster blocks, any free port).
"$prefix/bin/nearsim" --auto-respond --sign-rate 1 --block-ms 200 --port 0 \
	--port-file "$t/ns.port" --quiet &
ns_pid=$!
for _ in $(seq 100); do [ -s "$t/ns.port" ] && break; sleep 0.1; done
port=$(cat "$t/ns.port" 2> /dev/null)
[ -n "$port" ] || { not_ok "nearsim started"; finish; exit 1; }
(cd "$t/work" && "$prefix/bin/nearsim" --print-key frodo.test.near:signer > frodo.json && chmod 600 frodo.json)

# Its configuration, with nearsim's port, and prometheus-monitor on a free port.
have_prom=0
[ -e "$prefix/lib/mpc-indexer/plugins/prometheus-monitor.so" ] && have_prom=1
sed -e "s|127\.0\.0\.1:3030|127.0.0.1:$port|" \
    -e "s|^listen = 127\.0\.0\.1:9464\$|listen = 127.0.0.1:0\nport_file = prom.port|" \
	"$t/work/example.conf.in" > "$t/work/example.conf"
[ $have_prom -eq 1 ] || sed -i '/^\[plugin\.prometheus-monitor\]/,$d' "$t/work/example.conf"
grep -q "^path = \./example\.so" "$t/work/example.conf" && ok "the configuration loads ./example.so" ||
	not_ok "the tutorial's configuration: no [plugin.example] path"
# `make install prefix=` does not rebuild the daemon: point it at the installed plugins.
export MPC_INDEXER_INDEXER__PLUGIN_DIR="$prefix/lib/mpc-indexer/plugins"
nplug=$((1 + have_prom))
(cd "$t/work" && "$prefix/bin/mpc-indexer" -c example.conf check-config) > "$t/check.out" 2>&1
grep -q "^example.conf: configuration OK, $nplug plugin(s) would load" "$t/check.out" &&
	ok "mpc-indexer -c example.conf check-config" ||
	{ not_ok "check-config"; sed 's/^/#   /' "$t/check.out"; }

(cd "$t/work" && exec "$prefix/bin/mpc-indexer" -c example.conf run) 2> "$t/daemon.log" &
d_pid=$!
metric=""
for _ in $(seq 300); do
	if grep -q "example: contract state at height" "$t/daemon.log" &&
	   grep -q "example: verify_tee succeeded" "$t/daemon.log"; then
		if [ $have_prom -eq 0 ]; then break; fi
		pp=$(cat "$t/work/prom.port" 2> /dev/null)
		metric=$(curl -s "http://127.0.0.1:$pp/metrics" | sed -n 's/^example_mpc_requests_total{kind="sign"} //p')
		[ -n "$metric" ] && [ "$metric" != 0 ] && break
	fi
	kill -0 $d_pid 2> /dev/null || break
	sleep 0.1
done
kill -TERM $d_pid 2> /dev/null
wait $d_pid
rc=$?
d_pid=""
grep -q "example: hello from the tutorial" "$t/daemon.log" && ok "init read the greeting from the configuration" ||
	not_ok "no greeting in the log"
grep -q "example: contract state at height [0-9]*: {\"Running\"" "$t/daemon.log" &&
	ok "the state subscription delivered the contract's state" || not_ok "no state in the log"
grep -q "example: calling verify_tee every 5 s as frodo.test.near (ed25519:" "$t/daemon.log" &&
	ok "signer_info found the signer" || not_ok "no signer line"
grep -q "example: verify_tee succeeded (tx [1-9A-HJ-NP-Za-km-z]*): true" "$t/daemon.log" &&
	ok "the verify_tee transaction succeeded and returned true" || not_ok "no verify_tee outcome"
if [ $have_prom -eq 1 ]; then
	[ -n "$metric" ] && [ "$metric" != 0 ] && ok "/metrics: example_mpc_requests_total{kind=\"sign\"} $metric" ||
		not_ok "example_mpc_requests_total{kind=\"sign\"} not counting: '$metric'"
else
	ok "# SKIP prometheus-monitor is not built: the metric is not scraped"
fi
n=$(sed -n 's/.*example: saw \([0-9]*\) blocks.*/\1/p' "$t/daemon.log")
[ -n "$n" ] && [ "$n" -gt 0 ] && ok "stop() saw $n blocks" || not_ok "blocks seen: '$n'"
[ "$rc" -eq 0 ] && ok "SIGTERM: the daemon exits 0" || not_ok "daemon exit $rc"
grep -q "host: .*\(refused\|failed (\)" "$t/daemon.log" && { not_ok "a plugin failed"; grep "host: .*\(refused\|failed (\)" "$t/daemon.log" | sed 's/^/#   /'; }
[ "$tap_failed" -eq 0 ] || tail -30 "$t/daemon.log" | sed 's/^/#   /'
finish
