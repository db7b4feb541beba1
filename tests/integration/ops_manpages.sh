# The man pages render without warnings and stay true: mpc-indexer.conf(5)
# documents exactly the keys the daemon and the built plugins accept, section by
# section; mpc-indexer(8) has every command; mpc-indexer-plugin(3) every function
# of the host table.
. "$top_srcdir/tests/tap.sh"
d="$top_srcdir/doc"
bin="$top_builddir/mpc-indexer"
t=$(mktemp -d /tmp/mpci-ops-man-XXXXXX)
trap 'rm -rf "$t"' EXIT

if command -v groff > /dev/null; then
	for m in mpc-indexer.8 mpc-indexer.conf.5 mpc-indexer-plugin.3; do
		groff -man -ww -z "$d/$m" > "$t/groff.out" 2>&1
		[ ! -s "$t/groff.out" ] && ok "$m renders without warnings" ||
			{ not_ok "$m: groff warnings"; sed 's/^/#   /' "$t/groff.out"; }
	done
else
	ok "# SKIP groff is not installed"
fi

# The keys the daemon accepts in a section: it lists them when one is unknown.
daemon_keys() { # SECTION [PLUGIN_PATH]
	{ printf '[%s]\n' "$1"; [ -n "${2:-}" ] && printf 'path = %s\n' "$2"
	  printf 'no_such_key_ops = 1\n'; } > "$t/probe.conf"
	"$bin" -c "$t/probe.conf" check-config > "$t/probe.out" 2>&1
	sed -n 's/.*; valid keys: //p' "$t/probe.out" | tr -d ' ' | tr ',' '\n' | sort
}
# The keys mpc-indexer.conf(5) documents under ".SS [SECTION]": each ".TP" then ".B key".
doc_keys() {
	awk -v want="$1" '
		/^\.S[SH] / { sec = $2; for (i = 3; i <= NF; i++) sec = sec " " $i; gsub(/"/, "", sec) }
		/^\.TP/ { tp = 1; next }
		tp && /^\.B / && sec == "[" want "]" { print $2 }
		{ tp = 0 }' "$d/mpc-indexer.conf.5" | sort
}
same_keys() { # DESCRIPTION DAEMON_FILE DOC_FILE
	if [ ! -s "$2" ]; then
		not_ok "$1: the daemon listed no keys"
		grep -h 'refused' "$t/probe.out" | sed 's/^/#   /'
	elif grep -q '\.\.\.' "$2"; then
		ok "$1 # SKIP the daemon's key list is truncated"
	elif cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		diff "$2" "$3" | sed -n 's/^< /#   undocumented: /p; s/^> /#   documented, not accepted: /p'
	fi
}

for s in indexer near view blocks tx; do
	daemon_keys "$s" > "$t/daemon"
	doc_keys "$s" > "$t/doc"
	same_keys "mpc-indexer.conf(5) [$s] documents exactly the daemon's keys" "$t/daemon" "$t/doc"
done
daemon_keys signer.x > "$t/daemon"
doc_keys signer.NAME > "$t/doc"
same_keys "mpc-indexer.conf(5) [signer.NAME] documents exactly the daemon's keys" "$t/daemon" "$t/doc"

doc_keys plugin.NAME > "$t/common"
[ "$(tr '\n' ' ' < "$t/common")" = "enabled path required " ] &&
	ok "[plugin.NAME] documents the host's keys path, required, enabled" ||
	not_ok "[plugin.NAME] keys: $(tr '\n' ' ' < "$t/common")"
for so in "$top_builddir"/plugins/*/.libs/*.so; do
	[ -e "$so" ] || continue
	p=$(basename "$so" .so)
	daemon_keys "plugin.$p" "$so" > "$t/daemon"
	doc_keys "plugin.$p" | cat - "$t/common" | sort > "$t/doc"
	same_keys "mpc-indexer.conf(5) [plugin.$p] documents exactly the plugin's keys" "$t/daemon" "$t/doc"
done
for p in prometheus-monitor mpc-node-bridge backup-migration tee-attester; do
	[ -e "$top_builddir/plugins/$p/.libs/$p.so" ] ||
		ok "# SKIP plugin $p is not built: its keys are not compared"
done

# Every command in `mpc-indexer --help` has an entry in mpc-indexer(8).
"$bin" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' > "$t/cmds"
[ -s "$t/cmds" ] || not_ok "mpc-indexer --help lists no commands"
while read -r c; do
	roff=$(printf '%s' "$c" | sed 's/-/\\\\-/g')
	grep -q "^\.B $roff\( \|$\)" "$d/mpc-indexer.8" && ok "mpc-indexer(8) describes '$c'" ||
		not_ok "mpc-indexer(8) lacks the command '$c'"
done < "$t/cmds"

# Every function of struct mpci_host_api is in mpc-indexer-plugin(3).
sed -n '/^struct mpci_host_api {/,/^};/p' "$top_srcdir/include/mpc-indexer/plugin.h" |
	sed -n 's/^	[^	(][^(]*(\*\([a-z_]*\))(.*/\1/p' > "$t/fns"
n=$(wc -l < "$t/fns")
[ "$n" -gt 30 ] && ok "plugin.h's host table has $n functions" || not_ok "parsed $n host functions"
missing=""
while read -r f; do
	grep -q "[ *\"]$f(" "$d/mpc-indexer-plugin.3" || missing="$missing $f"
done < "$t/fns"
[ -z "$missing" ] && ok "mpc-indexer-plugin(3) documents every host function" ||
	not_ok "mpc-indexer-plugin(3) lacks:$missing"
finish
