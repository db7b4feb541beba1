# The out-of-tree example builds against the *installed* header through
# pkg-config alone, and the installed daemon loads it.
. "$top_srcdir/tests/tap.sh"
t=$(mktemp -d /tmp/mpci-example-XXXXXX)
trap 'rm -rf "$t"' EXIT
prefix="$t/prefix"
if ! make -s -C "$top_builddir" install prefix="$prefix" > "$t/install.log" 2>&1; then
	not_ok "make install prefix=..."; sed 's/^/#   /' "$t/install.log" | tail -20; finish; exit 1
fi
ok "make install into a temporary prefix"
for f in bin/mpc-indexer include/mpc-indexer/plugin.h lib/pkgconfig/mpc-indexer-plugin.pc; do
	check "installed $f" test -e "$prefix/$f"
done
# DESTDIR staging, as packagers do: everything under the configured prefix.
dest="$t/dest"
if make -s -C "$top_builddir" install DESTDIR="$dest" > "$t/dest.log" 2>&1; then
	ok "make install DESTDIR=..."
	p=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
	sc=$(sed -n 's/^sysconfdir = //p' "$top_builddir/Makefile" | sed "s|\${prefix}|$p|")
	for f in "$p/bin/mpc-indexer" "$p/include/mpc-indexer/plugin.h" \
		 "$p/lib/pkgconfig/mpc-indexer-plugin.pc" "$sc/mpc-indexer/mpc-indexer.conf" \
		 "$p/share/man/man8/mpc-indexer.8" "$p/bin/nearsim"; do
		check "DESTDIR has $f" test -e "$dest$f"
	done
	n=$(ls "$dest$p/lib/mpc-indexer/plugins/"*.so 2> /dev/null | wc -l)
	expect=$(find "$top_builddir/plugins" -path '*/.libs/*.so' | wc -l)
	[ "$n" -eq "$expect" ] && ok "DESTDIR has the $n built plugin(s) in lib/mpc-indexer/plugins" || not_ok "plugins: $n of $expect"
else
	not_ok "make install DESTDIR=..."; tail -20 "$t/dest.log" | sed 's/^/#   /'
fi

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
check "pkg-config knows mpc-indexer-plugin" pkg-config --exists mpc-indexer-plugin
case "$(pkg-config --cflags mpc-indexer-plugin)" in
	*"-I$prefix/include"*) ok "Cflags point at the installed header" ;;
	*) not_ok "Cflags: $(pkg-config --cflags mpc-indexer-plugin)" ;;
esac
[ -z "$(pkg-config --libs mpc-indexer-plugin)" ] && ok "no Libs: plugins do not link the daemon" || not_ok "Libs is not empty"
check "plugindir is under the prefix" test "$(pkg-config --variable=plugindir mpc-indexer-plugin)" = "$prefix/lib/mpc-indexer/plugins"

abi=$(sed -n 's/^#define MPCI_ABI_MAJOR \([0-9]*\)$/\1/p' "$top_srcdir/include/mpc-indexer/plugin.h").$(sed -n 's/^#define MPCI_ABI_MINOR \([0-9]*\)$/\1/p' "$top_srcdir/include/mpc-indexer/plugin.h")
cp "$top_srcdir/contrib/example-plugin/example.c" "$top_srcdir/contrib/example-plugin/Makefile" "$t/"
if make -s -C "$t" > "$t/build.log" 2>&1 && [ -f "$t/example.so" ]; then ok "the example builds with pkg-config alone"
else not_ok "the example builds"; sed 's/^/#   /' "$t/build.log"; fi
syms=$(nm -D --defined-only "$t/example.so" | awk '$2 == "T" {print $3}')
[ "$syms" = "mpci_plugin_entry" ] && ok "it exports exactly mpci_plugin_entry" || not_ok "exports: $syms"

"$prefix/bin/mpc-indexer" plugins --plugin-dir "$t" > "$t/out" 2>&1
grep -q "^example .*1.0.0 .*$abi .*loads" "$t/out" && ok "mpc-indexer plugins: example loads" || { not_ok "plugins output"; sed 's/^/#   /' "$t/out"; }

printf '[indexer]\nstate_dir = %s/state\n[plugin.example]\npath = %s/example.so\ngreeting = hello from the test\n' "$t" "$t" > "$t/conf"
"$prefix/bin/mpc-indexer" -c "$t/conf" run 2> "$t/err" &
pid=$!
for i in $(seq 100); do grep -q "running with" "$t/err" && break; sleep 0.1; done
kill -TERM $pid; wait $pid; rc=$?
grep -q "hello from the test" "$t/err" && ok "the daemon loads and initialises it with its config" || { not_ok "example init"; sed 's/^/#   /' "$t/err"; }
[ $rc -eq 0 ] && ok "and stops cleanly" || not_ok "exit $rc"
finish
