# contrib/container: no container engine runs here, so the image definition is
# checked piece by piece. The Dockerfile's layout is the one `make install` gives
# with its configure flags, and its ENTRYPOINT is installed into it. The variables
# of the Dockerfile, the compose file and the entrypoint are the ones documented.
# The documented MPC_INDEXER_* variables configure etc/tee-backup.conf. The
# entrypoint files secrets without logging them, and hands over to the daemon.
. "$top_srcdir/tests/tap.sh"
c="$top_srcdir/contrib/container"
df="$c/Dockerfile"
readme="$c/README.md"
t=$(mktemp -d /tmp/mpci-ops-ctr-XXXXXX)
trap 'rm -rf "$t"' EXIT

# ---- the Dockerfile ----
# Join continuation lines: one instruction per line.
sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' "$df" | grep -v '^[[:space:]]*#' > "$t/df"
grep -q '^ARG DEBIAN=debian:bookworm-slim$' "$t/df" && [ "$(grep -c '^FROM \${DEBIAN}' "$t/df")" -eq 2 ] &&
	ok "both stages are debian:bookworm-slim" || not_ok "base images: $(grep '^FROM\|^ARG DEBIAN' "$t/df" | tr '\n' ' ')"
grep -q '^COPY mpc-indexer-\${VERSION}\.tar\.gz ' "$t/df" && grep -q 'tar -xzf mpc-indexer-\${VERSION}\.tar\.gz' "$t/df" &&
	ok "it builds from the release tarball" || not_ok "no release tarball"
entry=$(sed -n 's/^ENTRYPOINT \["\([^"]*\)"\]$/\1/p' "$t/df")
[ -n "$entry" ] && ok "ENTRYPOINT is exec form: $entry" || not_ok "no exec-form ENTRYPOINT"
grep -q '^CMD \["run"\]$' "$t/df" && ok "CMD is run" || not_ok "CMD"
user=$(sed -n 's/^USER //p' "$t/df")
case "$user" in
	""|root|root:*|0|0:*) not_ok "USER is '$user': the image must not run as root" ;;
	*) ok "the image runs as $user" ;;
esac
grep -q "useradd .*--uid 10001 .* ${user%%:*}\$" "$t/df" && ok "the user is created (uid 10001)" || not_ok "useradd for $user"
grep -q '^STOPSIGNAL SIGTERM$' "$t/df" && ok "STOPSIGNAL SIGTERM" || not_ok "STOPSIGNAL"
grep -q '^VOLUME \["/var/lib/mpc-indexer"\]$' "$t/df" && ok "the state directory is a volume" || not_ok "VOLUME"

# The layout: make install with the Dockerfile's configure flags, then its install line.
flags=$(sed -n 's/.*\.\/configure \(--prefix=[^ ]* --sysconfdir=[^ ]* --localstatedir=[^ ]*\).*/\1/p' "$t/df")
[ -n "$flags" ] && ok "configure flags: $flags" || not_ok "no configure flags in the Dockerfile"
mkvars=$(printf '%s' "$flags" | sed 's/--//g')
root="$t/image"
# shellcheck disable=SC2086 # the flags are words
if make -s -C "$top_builddir" install DESTDIR="$root" $mkvars > "$t/install.log" 2>&1; then
	ok "make install DESTDIR=... $mkvars"
else
	not_ok "make install"; tail -20 "$t/install.log" | sed 's/^/#   /'
fi
src=$(sed -n 's/.*install -D -m 0755 \(contrib\/container\/entrypoint\.sh\) \/staging\([^ ]*\).*/\1 \2/p' "$t/df")
set -- $src
if [ "${2:-}" = "$entry" ] && [ -f "$top_srcdir/$1" ]; then
	install -D -m 0755 "$top_srcdir/$1" "$root$2"
	ok "the ENTRYPOINT $entry is installed from $1"
else
	not_ok "the Dockerfile does not install $1 at the ENTRYPOINT ($entry)"
fi
cfg=$(sed -n 's/^ENV .*MPC_INDEXER_CONFIG=\([^ ]*\).*/\1/p' "$t/df")
for f in "$entry" /usr/bin/mpc-indexer "$cfg" /usr/lib/mpc-indexer/plugins/backup-migration.so \
	 /usr/lib/mpc-indexer/plugins/tee-attester.so; do
	case "$f" in
	*/backup-migration.so|*/tee-attester.so)
		p=$(basename "$f" .so)
		if [ ! -e "$top_builddir/plugins/$p/.libs/$p.so" ]; then
			ok "# SKIP plugin $p is not built"; continue
		fi ;;
	esac
	[ -n "$f" ] && [ -e "$root$f" ] && ok "the image has $f" || not_ok "the image lacks '$f'"
done
# The release tarball carries what the Dockerfile takes from it (make's DISTFILES).
printf 'ops-print-distfiles:\n\t@echo $(DISTFILES)\n' |
	make -s -C "$top_builddir" -f Makefile -f - ops-print-distfiles | tr ' ' '\n' > "$t/distfiles"
for f in contrib/container/entrypoint.sh etc/tee-backup.conf; do
	grep -qx "$f" "$t/distfiles" && ok "the tarball has $f" || not_ok "the tarball lacks $f"
done

# ---- the entrypoint script ----
sh -n "$c/entrypoint.sh" && ok "entrypoint.sh: sh -n" || not_ok "entrypoint.sh: sh -n"
if command -v shellcheck > /dev/null; then
	shellcheck -s sh "$c/entrypoint.sh" > "$t/sc.out" 2>&1 && ok "entrypoint.sh: shellcheck" ||
		{ not_ok "entrypoint.sh: shellcheck"; sed 's/^/#   /' "$t/sc.out"; }
else
	ok "# SKIP shellcheck is not installed"
fi

# ---- the documented variables ----
sed -n 's/^| `\([A-Z][A-Z0-9_]*\)` | `\([^`]*\)` |.*/\1=\2/p' "$readme" > "$t/documented"
sed -n 's/^| `\([A-Z][A-Z0-9_]*\)` | .*/\1/p' "$readme" | sort -u > "$t/documented.names"
[ "$(wc -l < "$t/documented.names")" -ge 10 ] && ok "README.md documents $(wc -l < "$t/documented.names") variables" ||
	not_ok "README.md: no variable table"
{
	sed -n 's/^ENV //p' "$t/df" | tr ' ' '\n' | sed -n 's/^\([A-Z][A-Z0-9_]*\)=.*/\1/p'
	sed -n 's/^ *\(MPC[A-Z0-9_]*\): .*/\1/p' "$c/docker-compose.yml"
	grep -o 'MPC[A-Z0-9_]*' "$c/entrypoint.sh" | grep -v '^MPC_INDEXER_$'
} | grep -v '_$' | sort -u > "$t/used"
missing=$(comm -23 "$t/used" "$t/documented.names" | tr '\n' ' ')
[ -z "$missing" ] && ok "every variable of the Dockerfile, compose file and entrypoint is documented ($(wc -l < "$t/used"))" ||
	not_ok "undocumented variables: $missing"

key="$t/frodo.json"
"$top_builddir/nearsim" --print-key frodo.test.near:signer > "$key" && chmod 600 "$key"
have_plugins=1
for p in backup-migration tee-attester; do
	[ -e "$top_builddir/plugins/$p/.libs/$p.so" ] || have_plugins=0
done
# check_tee [VAR=VALUE...]: check-config of etc/tee-backup.conf with the build's plugins.
check_tee() {
	env MPC_INDEXER_PLUGIN_BACKUP_MIGRATION__PATH="$top_builddir/plugins/backup-migration/.libs/backup-migration.so" \
	    MPC_INDEXER_PLUGIN_TEE_ATTESTER__PATH="$top_builddir/plugins/tee-attester/.libs/tee-attester.so" \
	    "$@" "$top_builddir/mpc-indexer" -c "$top_srcdir/etc/tee-backup.conf" check-config > "$t/check.out" 2>&1
}
if [ $have_plugins -eq 1 ]; then
	set --
	while IFS= read -r kv; do
		case "$kv" in MPC_INDEXER_*__*) set -- "$@" "$kv" ;; esac
	done < "$t/documented"
	n=$#
	if check_tee "$@" MPC_INDEXER_SIGNER_NODE__KEY_FILE="$key" && grep -q "configuration OK, 2 plugin(s)" "$t/check.out"; then
		ok "the $n documented MPC_INDEXER_* variables, set to their examples, configure tee-backup.conf"
	else
		not_ok "tee-backup.conf with the documented variables"; sed 's/^/#   /' "$t/check.out"
	fi
	check_tee "$@" MPC_INDEXER_SIGNER_NODE__KEY_FILE="$key" MPC_INDEXER_PLUGIN_TEE_ATTESTER__SOCKET=/x
	[ $? -eq 3 ] && grep -q "env MPC_INDEXER_PLUGIN_TEE_ATTESTER__SOCKET" "$t/check.out" &&
		ok "a misspelt variable is refused, naming it" || { not_ok "misspelt variable accepted"; sed 's/^/#   /' "$t/check.out"; }
else
	ok "# SKIP backup-migration or tee-attester is not built"
fi

# ---- the entrypoint at work ----
# A stand-in daemon records its arguments and environment.
mkdir -p "$t/fake"
cat > "$t/fake/mpc-indexer" <<EOF
#!/bin/sh
printf '%s\n' "\$*" > "$t/fake.args"
env > "$t/fake.env"
EOF
chmod 755 "$t/fake/mpc-indexer"
sec="$t/run/secrets"
MPCI_SIGNER_KEY=sekret-signer-1F0A MPCI_BACKUP_TLS_KEY=sekret-tls-2E1B \
MPCI_BACKUP_TRANSPORT_KEY=sekret-transport-3D2C MPCI_BACKUP_STORAGE_KEY=sekret-storage-4C3D \
MPC_INDEXER_NEAR__RPC_API_KEY=sekret-api-5B4E MPCI_SECRETS_DIR="$sec" PATH="$t/fake:$PATH" \
	sh "$c/entrypoint.sh" > "$t/ep.out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ "$(cat "$t/fake.args")" = "run" ] && ok "without arguments it runs mpc-indexer run" ||
	{ not_ok "entrypoint: exit $rc, args '$(cat "$t/fake.args" 2> /dev/null)'"; sed 's/^/#   /' "$t/ep.out"; }
grep -q "sekret" "$t/ep.out" && { not_ok "the entrypoint logged a secret"; sed 's/^/#   /' "$t/ep.out"; } ||
	ok "its output holds no secret value"
grep -q "MPC_INDEXER_NEAR__RPC_API_KEY" "$t/ep.out" && ok "it names the overrides in effect" || not_ok "overrides not named"
grep -q "^MPCI_[A-Z_]*_KEY=\|sekret-\(signer\|tls\|transport\|storage\)" "$t/fake.env" && { not_ok "secret variables reach the daemon"; grep "^MPCI_" "$t/fake.env" | sed 's/=.*/=.../; s/^/#   /'; } ||
	ok "the secret variables are removed from the daemon's environment"
ok_files=1
for f in signer_key:sekret-signer-1F0A backup_tls_key:sekret-tls-2E1B \
	 backup_transport_key:sekret-transport-3D2C backup_storage_key:sekret-storage-4C3D; do
	n=${f%%:*}; v=${f#*:}
	[ "$(cat "$sec/$n" 2> /dev/null)" = "$v" ] && [ "$(stat -c %a "$sec/$n")" = 600 ] || { ok_files=0; diag "$sec/$n"; }
done
[ $ok_files -eq 1 ] && ok "each secret is written to its file, mode 0600" || not_ok "secret files"
[ "$(stat -c %a "$sec")" = 700 ] && ok "the secrets directory is mode 0700" || not_ok "secrets dir mode $(stat -c %a "$sec")"
[ -z "$(ls -A "$sec" | grep '^\.')" ] && ok "no temporary file is left behind" || not_ok "leftovers: $(ls -A "$sec")"
grep -q "is not a socket" "$t/ep.out" && ok "it warns when the dstack socket is missing" || not_ok "no dstack warning"
MPC_INDEXER_PLUGIN_TEE_ATTESTER__MODE=mock MPCI_SECRETS_DIR="$sec" PATH="$t/fake:$PATH" \
	sh "$c/entrypoint.sh" check-config > "$t/ep2.out" 2>&1
[ "$(cat "$t/fake.args")" = "check-config" ] && ok "arguments replace run" || not_ok "args: $(cat "$t/fake.args")"
grep -q "is not a socket" "$t/ep2.out" && not_ok "mock mode warns about dstack" || ok "mock mode needs no dstack socket"

# The real daemon behind the entrypoint: the secrets it files configure tee-backup.conf.
if [ $have_plugins -eq 1 ]; then
	sec2="$t/run2/secrets"
	MPCI_SIGNER_KEY="$(cat "$key")" MPCI_BACKUP_TLS_KEY="$("$top_builddir/nearsim" --print-key backup.test.near)" \
	MPCI_BACKUP_TRANSPORT_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
	MPCI_BACKUP_STORAGE_KEY=1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100 \
	MPCI_SECRETS_DIR="$sec2" PATH="$top_builddir:$PATH" \
	MPC_INDEXER_CONFIG="$top_srcdir/etc/tee-backup.conf" \
	MPC_INDEXER_SIGNER_NODE__ACCOUNT_ID=frodo.test.near \
	MPC_INDEXER_SIGNER_NODE__KEY_FILE="$sec2/signer_key" \
	MPC_INDEXER_PLUGIN_BACKUP_MIGRATION__TLS_KEY_FILE="$sec2/backup_tls_key" \
	MPC_INDEXER_PLUGIN_BACKUP_MIGRATION__TRANSPORT_KEY_FILE="$sec2/backup_transport_key" \
	MPC_INDEXER_PLUGIN_BACKUP_MIGRATION__STORAGE_KEY_FILE="$sec2/backup_storage_key" \
	MPC_INDEXER_PLUGIN_BACKUP_MIGRATION__PATH="$top_builddir/plugins/backup-migration/.libs/backup-migration.so" \
	MPC_INDEXER_PLUGIN_TEE_ATTESTER__PATH="$top_builddir/plugins/tee-attester/.libs/tee-attester.so" \
		sh "$c/entrypoint.sh" check-config > "$t/ep3.out" 2>&1
	rc=$?
	[ $rc -eq 0 ] && grep -q "configuration OK, 2 plugin(s)" "$t/ep3.out" &&
		ok "entrypoint.sh check-config: the daemon accepts the secrets it filed" ||
		{ not_ok "entrypoint + daemon: exit $rc"; sed 's/^/#   /' "$t/ep3.out"; }
	grep -q "ed25519:[1-9A-HJ-NP-Za-km-z]\{40,\}\|0001020304" "$t/ep3.out" && not_ok "a key was logged" ||
		ok "and nobody logged a key"
fi
finish
