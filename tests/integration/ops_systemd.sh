# contrib/systemd/mpc-indexer.service: systemd-analyze verify accepts it (with
# ExecStart pointing at the built daemon) and rates its exposure; it has the
# hardening the issue asks for; TimeoutStopSec outlasts shutdown_timeout.
# Then the daemon, with the shipped plugins and the example loaded by dlopen(),
# runs against nearsim under the unit's seccomp restrictions as systemd 252
# builds them (NoNewPrivileges, MemoryDenyWriteExecute, RestrictAddressFamilies;
# tests/integration/ops_sandbox.c), and under strace: every system call it makes
# is in @system-service, it writes only below its state and runtime directories
# (ProtectSystem=strict), opens nothing that ProtectHome, PrivateDevices or
# ProtectProc hide, survives SIGHUP (ExecReload) and exits 0 on SIGTERM.
. "$top_srcdir/tests/tap.sh"
command -v systemd-analyze > /dev/null || skip_all "systemd-analyze is not installed (tools/install-deps installs systemd)"
unit="$top_srcdir/contrib/systemd/mpc-indexer.service"
bin="$top_builddir/mpc-indexer"
t=$(mktemp -d /tmp/mpci-ops-sd-XXXXXX)
ns_pid=""; s_pid=""
cleanup() {
	[ -n "$s_pid" ] && kill -KILL "$s_pid" 2> /dev/null
	[ -n "$ns_pid" ] && kill "$ns_pid" 2> /dev/null && wait "$ns_pid" 2> /dev/null
	rm -rf "$t"
}
trap cleanup EXIT

# ---- the unit file ----
mkdir -p "$t/unit" "$t/man/man3" "$t/man/man5" "$t/man/man8"
# Documentation=man:... must resolve: the pages of this tree.
cp "$top_srcdir/doc/mpc-indexer.8" "$t/man/man8/"
cp "$top_srcdir/doc/mpc-indexer.conf.5" "$t/man/man5/"
cp "$top_srcdir/doc/mpc-indexer-plugin.3" "$t/man/man3/"
sed "s|^ExecStart=/usr/bin/mpc-indexer |ExecStart=$bin |" "$unit" > "$t/unit/mpc-indexer.service"
grep -q "^ExecStart=$bin " "$t/unit/mpc-indexer.service" && ok "ExecStart points at the built daemon" ||
	not_ok "the unit has no ExecStart=/usr/bin/mpc-indexer"
(cd "$t/unit" && MANPATH="$t/man" SYSTEMD_LOG_COLOR=0 systemd-analyze verify ./mpc-indexer.service) > "$t/verify.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && ! grep -q "mpc-indexer" "$t/verify.out"; then
	ok "systemd-analyze verify accepts the unit"
else
	not_ok "systemd-analyze verify: exit $rc"
fi
sed 's/^/#   /' "$t/verify.out"
# The check can fail: a wrong setting is reported.
sed 's/^ProtectSystem=strict$/ProtectSystem=very/' "$t/unit/mpc-indexer.service" > "$t/unit/bad.service"
(cd "$t/unit" && MANPATH="$t/man" systemd-analyze verify ./bad.service) > "$t/bad.out" 2>&1
grep -q "bad.service:[0-9]*: .*very" "$t/bad.out" && ok "(and it reports a bad setting)" ||
	{ not_ok "verify did not notice ProtectSystem=very"; sed 's/^/#   /' "$t/bad.out"; }

for d in "User=mpc-indexer" "Group=mpc-indexer" "NoNewPrivileges=yes" "ProtectSystem=strict" \
	 "ProtectHome=yes" "PrivateTmp=yes" "CapabilityBoundingSet=" "MemoryDenyWriteExecute=yes" \
	 "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" "SystemCallFilter=@system-service" \
	 "StateDirectory=mpc-indexer" "RuntimeDirectory=mpc-indexer" "KillSignal=SIGTERM" \
	 'ExecReload=/bin/kill -HUP $MAINPID'; do
	grep -qxF "$d" "$unit" && ok "the unit sets $d" || not_ok "the unit lacks $d"
done
# TimeoutStopSec must outlast the drain: shutdown_timeout (10s by default, or as the samples set it).
secs() { case "$1" in *min) echo $(( ${1%min} * 60 )) ;; *ms) echo 0 ;; *s) echo "${1%s}" ;; *m) echo $(( ${1%m} * 60 )) ;; *) echo "$1" ;; esac; }
stop=$(secs "$(sed -n 's/^TimeoutStopSec=//p' "$unit")")
worst=10
for v in $(sed -n 's/^shutdown_timeout *= *\([0-9a-z]*\).*/\1/p' "$top_srcdir"/etc/*.conf); do
	s=$(secs "$v"); [ "$s" -gt "$worst" ] && worst=$s
done
[ -n "$stop" ] && [ "$stop" -ge $((worst + 5)) ] && ok "TimeoutStopSec=${stop}s outlasts shutdown_timeout (${worst}s) by 5s or more" ||
	not_ok "TimeoutStopSec=${stop:-unset} vs shutdown_timeout ${worst}s"
if (cd "$t/unit" && MANPATH="$t/man" systemd-analyze security --offline=true ./mpc-indexer.service) > "$t/sec.out" 2>&1; then
	level=$(sed -n 's/.*Overall exposure level for mpc-indexer.service: \([0-9.]*\).*/\1/p' "$t/sec.out")
	awk -v l="$level" 'BEGIN { exit !(l != "" && l + 0 <= 2.0) }' &&
		ok "systemd-analyze security: exposure $level (at most 2.0)" || not_ok "exposure level '$level'"
else
	ok "# SKIP systemd-analyze security --offline is not supported here"
fi
if command -v systemd-sysusers > /dev/null; then
	mkdir -p "$t/root/etc"
	systemd-sysusers --root="$t/root" "$top_srcdir/contrib/systemd/mpc-indexer.sysusers" > /dev/null 2>&1
	grep -q "^mpc-indexer:x:[0-9]*:[0-9]*:[^:]*:/var/lib/mpc-indexer:" "$t/root/etc/passwd" 2> /dev/null &&
		ok "mpc-indexer.sysusers creates the user mpc-indexer" || not_ok "sysusers"
fi

# ---- the daemon under the unit's restrictions ----
sandbox="$top_builddir/tests/integration/ops_sandbox"
"$sandbox" --selftest > "$t/self.out" 2>&1
rc=$?
if [ $rc -eq 77 ]; then
	ok "# SKIP no seccomp here: $(cat "$t/self.out")"
	finish; exit $?
fi
[ $rc -eq 0 ] && ok "the sandbox refuses W+X memory, PROT_EXEC and AF_NETLINK, as systemd does" ||
	{ not_ok "sandbox selftest"; sed 's/^/#   /' "$t/self.out"; }

# Plugins are mapped from files, which MemoryDenyWriteExecute allows; one that needs an
# executable stack cannot load under it. The built ones must not need it.
CC=${CC:-cc}
mkdir -p "$t/lib" "$t/xs"
if "$CC" -shared -fPIC -I"$top_srcdir/include" -o "$t/lib/example.so" "$top_srcdir/contrib/example-plugin/example.c" &&
   "$CC" -shared -fPIC -I"$top_srcdir/include" -Wl,-z,execstack -o "$t/xs/example.so" "$top_srcdir/contrib/example-plugin/example.c"; then
	"$sandbox" "$bin" plugins --plugin-dir "$t/xs" > "$t/xs.out" 2>&1
	grep -q "refused: .*executable stack.*not permitted" "$t/xs.out" &&
		ok "(a plugin with an executable stack is refused under MemoryDenyWriteExecute)" ||
		{ not_ok "the execstack plugin was not refused"; sed 's/^/#   /' "$t/xs.out"; }
else
	not_ok "cannot build the example plugin with $CC"
fi
plugins=""
for so in "$top_builddir"/plugins/*/.libs/*.so; do
	[ -e "$so" ] || continue
	plugins="$plugins $(basename "$so" .so)"
	if readelf -lW "$so" | grep -q "GNU_STACK.*RWE" || readelf -dW "$so" | grep -q TEXTREL; then
		not_ok "$(basename "$so") needs an executable stack or text relocations"
	else
		ok "$(basename "$so"): no executable stack, no text relocations"
	fi
done
for p in prometheus-monitor mpc-node-bridge backup-migration tee-attester; do
	case " $plugins " in *" $p "*) ;; *) ok "# SKIP plugin $p is not built: not run in the sandbox" ;; esac
done

"$top_builddir/nearsim" --auto-respond --sign-rate 1 --block-ms 200 --port 0 --port-file "$t/ns.port" --quiet &
ns_pid=$!
for _ in $(seq 100); do [ -s "$t/ns.port" ] && break; sleep 0.1; done
port=$(cat "$t/ns.port" 2> /dev/null)
[ -n "$port" ] || { not_ok "nearsim started"; finish; exit 1; }
# /etc/mpc-indexer, /var/lib/mpc-indexer and /run/mpc-indexer of the unit.
etc="$t/etc"; state="$t/state"; run="$t/run"
mkdir -p "$etc" "$run"
"$top_builddir/nearsim" --print-key frodo.test.near:signer > "$etc/node.json"
"$top_builddir/nearsim" --print-key backup.test.near > "$etc/backup_tls.json"
echo 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f > "$etc/transport.hex"
echo 1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100 > "$etc/storage.hex"
chmod 600 "$etc"/*
tls=$("$top_builddir/nearsim" --print-key frodo.test.near:tls | sed 's/.*"public_key":"\([^"]*\)".*/\1/')
cat > "$etc/mpc-indexer.conf" <<EOF
[indexer]
state_dir = $state
[near]
chain_id = nearsim
contract = mpc.test.near
rpc_urls = http://127.0.0.1:$port
block_urls = http://127.0.0.1:$port
[signer.node]
account_id = frodo.test.near
key_file = node.json
[plugin.example]
path = $t/lib/example.so
verify_tee_interval = 2s
EOF
pl="$top_builddir/plugins"
for p in $plugins; do
	printf '[plugin.%s]\npath = %s/%s/.libs/%s.so\n' "$p" "$pl" "$p" "$p"
	case $p in
	prometheus-monitor) printf 'listen = 127.0.0.1:0\nport_file = %s/prom.port\n' "$run" ;;
	mpc-node-bridge) printf 'socket = %s/bridge.sock\n' "$run" ;;
	backup-migration) printf 'account_id = frodo.test.near\ntls_key_file = backup_tls.json\ntransport_key_file = transport.hex\nstorage_key_file = storage.hex\nnode_host = 127.0.0.1\nmigration_port = 9\n' ;;
	tee-attester) printf 'mode = mock\ntls_public_key = %s\nsigner = node\n' "$tls" ;;
	esac
done >> "$etc/mpc-indexer.conf"
nplug=$(grep -c '^\[plugin\.' "$etc/mpc-indexer.conf")

use_strace=0
if command -v strace > /dev/null && strace -f -qq -o /dev/null true 2> /dev/null; then
	use_strace=1
	# LeakSanitizer cannot work under ptrace (a --enable-sanitizers build)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -o "$t/trace" "$sandbox" "$bin" -c "$etc/mpc-indexer.conf" run 2> "$t/daemon.log" &
else
	"$sandbox" "$bin" -c "$etc/mpc-indexer.conf" run 2> "$t/daemon.log" &
fi
s_pid=$!
d_pid=""
# the daemon under strace: strace's child that is running $bin (the sandbox execs it)
traced_daemon() {
	for p in $(ps -o pid= --ppid $s_pid); do
		[ "$(readlink -f /proc/$p/exe 2> /dev/null)" = "$(readlink -f "$bin")" ] && { echo $p; return; }
	done
}
for _ in $(seq 400); do
	[ -z "$d_pid" ] && [ $use_strace -eq 1 ] && d_pid=$(traced_daemon)
	grep -q "example: contract state at height" "$t/daemon.log" &&
	   grep -q "example: verify_tee succeeded" "$t/daemon.log" &&
	   [ "$(grep -c 'example: .* blocks\|example: verify_tee' "$t/daemon.log")" -ge 1 ] && break
	kill -0 $s_pid 2> /dev/null || break
	sleep 0.1
done
[ $use_strace -eq 1 ] || d_pid=$s_pid
grep -q "running with $nplug plugin(s)" "$t/daemon.log" && ok "under the sandbox all $nplug plugins load and start" ||
	not_ok "not all $nplug plugins are running"
grep -q "host: .*\(refused\|failed (\)" "$t/daemon.log" && { not_ok "a plugin failed"; grep "host: .*\(refused\|failed (\)" "$t/daemon.log" | sed 's/^/#   /'; }
grep -q "example: contract state at height" "$t/daemon.log" && ok "state views arrive" || not_ok "no state"
grep -q "example: verify_tee succeeded" "$t/daemon.log" && ok "a transaction is signed, sent and succeeds" || not_ok "no transaction"
case " $plugins " in *" mpc-node-bridge "*)
	[ -S "$run/bridge.sock" ] && ok "mpc-node-bridge listens in the runtime directory" || not_ok "no bridge socket" ;;
esac
case " $plugins " in *" prometheus-monitor "*)
	pp=$(cat "$run/prom.port" 2> /dev/null)
	curl -s "http://127.0.0.1:$pp/metrics" | grep -q '^example_mpc_requests_total{kind="sign"}' &&
		ok "prometheus-monitor serves the plugins' metrics" || not_ok "no metrics" ;;
esac
if [ -n "$d_pid" ]; then
	kill -HUP "$d_pid"
	for _ in $(seq 50); do grep -q "SIGHUP" "$t/daemon.log" && break; sleep 0.1; done
	kill -0 "$d_pid" 2> /dev/null && grep -q "SIGHUP: log reopened" "$t/daemon.log" &&
		ok "SIGHUP (ExecReload) reopens the log and the daemon goes on" || not_ok "SIGHUP"
	kill -TERM "$d_pid"
else
	not_ok "no daemon pid"; kill -TERM $s_pid
fi
# never wait for ever: a daemon that ignored TERM is killed after 60 s (and the test fails)
for _ in $(seq 600); do kill -0 $s_pid 2> /dev/null || break; sleep 0.1; done
kill -0 $s_pid 2> /dev/null && { diag "the daemon did not stop within 60 s of SIGTERM"; pkill -KILL -P $s_pid; kill -KILL $s_pid; }
wait $s_pid
rc=$?
s_pid=""
[ $rc -eq 0 ] && ok "SIGTERM (KillSignal): the daemon exits 0" || not_ok "exit $rc"
n=$(sed -n 's/.*example: saw \([0-9]*\) blocks.*/\1/p' "$t/daemon.log")
[ -n "$n" ] && [ "$n" -gt 0 ] && ok "blocks arrive ($n)" || not_ok "no blocks"

if [ $use_strace -eq 1 ]; then
	# From the daemon's exec on (the sandbox's own set-up does not count).
	awk -v b="$bin" '!on && index($0, "execve(\"" b "\"") { on = 1 } on' "$t/trace" > "$t/trace.d"
	awk '{ s = $2; if (s ~ /^[a-z_0-9]+\(/) { sub(/\(.*/, "", s); print s } else if (s == "<...") print $3 }' \
		"$t/trace.d" | sort -u > "$t/used"
	systemd-analyze syscall-filter > "$t/groups" 2> /dev/null
	awk '/^@/ { g = $1; next } /^ +#/ { next } /^ +[@a-z_0-9]/ { m[g] = m[g] " " $1 }
	     END { n = 1; st[1] = "@system-service"
		   while (n > 0) { x = st[n--]; if (seen[x]++) continue
			k = split(m[x], e, " "); for (i = 1; i <= k; i++) if (e[i] ~ /^@/) st[++n] = e[i]; else print e[i] } }' \
		"$t/groups" | sort -u > "$t/allowed"
	outside=$(comm -23 "$t/used" "$t/allowed" | tr '\n' ' ')
	[ "$(wc -l < "$t/allowed")" -gt 100 ] && [ "$(wc -l < "$t/used")" -gt 20 ] && [ -z "$outside" ] &&
		ok "all $(wc -l < "$t/used") system calls it made are in @system-service (SystemCallFilter)" ||
		not_ok "system calls outside @system-service: ${outside:-(none; parsed $(wc -l < "$t/used") used, $(wc -l < "$t/allowed") allowed)}"
	grep -E ' (open(at)?\(.*O_(WRONLY|RDWR|CREAT)|(mkdir|rename|unlink|link|symlink)(at2?)?\(|f?chmod(at)?\(|bind\(.*sun_path|truncate\()' \
		"$t/trace.d" | grep -o '"[^"]*"' | tr -d '"' | sort -u > "$t/written"
	bad=$(grep -v "^$state\(/\|\$\)\|^$run/" "$t/written" | tr '\n' ' ')
	[ -s "$t/written" ] && [ -z "$bad" ] &&
		ok "it writes only below state_dir and the runtime directory ($(wc -l < "$t/written") paths; ProtectSystem=strict)" ||
		not_ok "it writes elsewhere: ${bad:-nothing written at all?}"
	# ProtectHome, PrivateDevices, ProtectProc=invisible: nothing it reads is hidden there.
	grep -oE '(open|openat|stat|newfstatat|access|faccessat2?|readlink)\([^"]*"[^"]*"' "$t/trace.d" |
		grep -o '"[^"]*"' | tr -d '"' | sort -u > "$t/opened"
	hidden=$(grep -E '^/(home|root)(/|$)|^/dev/|^/proc/[0-9]' "$t/opened" |
		grep -vE '^/dev/(null|zero|full|random|urandom)$' | tr '\n' ' ')
	[ -s "$t/opened" ] && [ -z "$hidden" ] &&
		ok "it opens nothing in /home, /root, /dev or other processes' /proc (ProtectHome, PrivateDevices, ProtectProc)" ||
		not_ok "it opens ${hidden:-nothing at all?}"
else
	ok "# SKIP strace is not available: system calls and writes are not checked"
fi
[ "$tap_failed" -eq 0 ] || tail -30 "$t/daemon.log" | sed 's/^/#   /'
finish
