# Every sample configuration in etc/ passes `mpc-indexer check-config` with the
# build's plugins (their paths and the signers' key files set from the
# environment, as an operator would), and every plugin it names loads.
. "$top_srcdir/tests/tap.sh"
bin="$top_builddir/mpc-indexer"
t=$(mktemp -d /tmp/mpci-ops-conf-XXXXXX)
trap 'rm -rf "$t"' EXIT

# A signer key the daemon accepts: nearsim's public test key for frodo.
"$top_builddir/nearsim" --print-key frodo.test.near:signer > "$t/key.json" && chmod 600 "$t/key.json" ||
	{ not_ok "nearsim --print-key"; finish; exit 1; }
for c in "$top_srcdir"/etc/*.conf; do
	name=$(basename "$c")
	plugins=$(sed -n 's/^\[plugin\.\([^]]*\)\].*/\1/p' "$c")
	signers=$(sed -n 's/^\[signer\.\([^]]*\)\].*/\1/p' "$c")
	missing=""
	env_file="$t/$name.env"
	: > "$env_file"
	for p in $plugins; do
		so="$top_builddir/plugins/$p/.libs/$p.so"
		[ -e "$so" ] || missing="$missing $p"
		v=$(printf '%s' "$p" | tr 'a-z-' 'A-Z_')
		echo "MPC_INDEXER_PLUGIN_${v}__PATH=$so" >> "$env_file"
	done
	for s in $signers; do
		v=$(printf '%s' "$s" | tr 'a-z.-' 'A-Z__')
		echo "MPC_INDEXER_SIGNER_${v}__KEY_FILE=$t/key.json" >> "$env_file"
		# tee-backup.conf leaves the account to the environment
		grep -q '^account_id' "$c" || echo "MPC_INDEXER_SIGNER_${v}__ACCOUNT_ID=frodo.test.near" >> "$env_file"
	done
	if [ -n "$missing" ]; then
		ok "$name # SKIP plugin(s) not built:$missing"
		continue
	fi
	n=$(printf '%s\n' "$plugins" | grep -c .)
	( while IFS= read -r kv; do export "${kv?}"; done < "$env_file"
	  exec "$bin" -c "$c" check-config ) > "$t/out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q "configuration OK, $n plugin(s) would load" "$t/out"; then
		ok "$name passes check-config; its $n plugin(s) load"
	else
		not_ok "$name: check-config exit $rc"; sed 's/^/#   /' "$t/out"
	fi
	grep -q "refused" "$t/out" && { not_ok "$name: a plugin was refused"; grep refused "$t/out" | sed 's/^/#   /'; }
done

# The check can fail: an unknown key set from the environment is named.
MPC_INDEXER_PLUGIN_PROMETHEUS_MONITOR__PATH="$top_builddir/plugins/prometheus-monitor/.libs/prometheus-monitor.so" \
MPC_INDEXER_PLUGIN_PROMETHEUS_MONITOR__LISTEN_ADDRESS=127.0.0.1:1 \
	"$bin" -c "$top_srcdir/etc/monitoring.conf" check-config > "$t/out" 2>&1
rc=$?
if [ -e "$top_builddir/plugins/prometheus-monitor/.libs/prometheus-monitor.so" ]; then
	[ $rc -eq 3 ] && grep -q "env MPC_INDEXER_PLUGIN_PROMETHEUS_MONITOR__LISTEN_ADDRESS" "$t/out" &&
		ok "an unknown key from the environment is refused, naming the variable" ||
		{ not_ok "unknown env key: exit $rc"; sed 's/^/#   /' "$t/out"; }
fi
finish
