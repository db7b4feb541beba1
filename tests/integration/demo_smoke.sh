#!/bin/sh
# The main job as a user meets it: tools/run-demo against this build (nothing
# is rebuilt), its status read from stdout as a log reader would (stdout is not
# a terminal here), then Ctrl-C (SIGINT) and, in a second run, SIGTERM.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$top_srcdir/tests/tap.sh"

b=$(cd "$top_builddir" && pwd)
for f in mpc-indexer nearsim tests/fakes/mpcnode_fake plugins/prometheus-monitor/.libs/prometheus-monitor.so \
	plugins/mpc-node-bridge/.libs/mpc-node-bridge.so plugins/backup-migration/.libs/backup-migration.so \
	plugins/tee-attester/.libs/tee-attester.so; do
	[ -e "$b/$f" ] || skip_all "$f is not built"
done
for c in python3 openssl setsid curl pgrep; do
	command -v "$c" > /dev/null || skip_all "no $c"
done

set -m          # the demo runs as its own job: SIGINT reaches it as Ctrl-C would
t=$(mktemp -d /tmp/mpci-demo-XXXXXX)
demo_pid=""
leftovers() { pgrep -f -- "$t/" 2> /dev/null; }
cleanup() {
	[ -n "$demo_pid" ] && kill -KILL "$demo_pid" 2> /dev/null
	for p in $(leftovers); do kill -KILL "$p" 2> /dev/null; done
	rm -rf "$t"
}
trap cleanup EXIT

# run NAME: start the demo with a fast chain (a block every 200 ms, a resharing every 25 blocks)
run() {
	"$top_srcdir/tools/run-demo" --build-dir "$b" --no-build --dir "$t/$1" \
		--block-ms 200 --reshare-every 25 --initial-blocks 40 --status-every 1 > "$t/$1.out" 2>&1 &
	demo_pid=$!
}
# until SECONDS CMD...: CMD succeeds before the deadline (the demo still running)
until_ok() {
	local end=$(( $(date +%s) + $1 ))
	shift
	while [ "$(date +%s)" -lt "$end" ]; do
		"$@" && return 0
		kill -0 "$demo_pid" 2> /dev/null || { "$@"; return; }
		sleep 0.5
	done
	return 1
}
lines() { grep '^t=[0-9]*s ' "$t/$1.out"; }
field() { sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p"; }       # field NAME < lines: one value per line
num_of() { sed -n "s/.*$1:\\([0-9]*\\).*/\\1/p"; }      # num_of KEY < values
show() { diag "run-demo's output:"; tail -n 25 "$t/$1.out" | sed 's/^/#   /'; [ -e "$t/$1/daemon.log" ] &&
	{ diag "daemon.log:"; tail -n 15 "$t/$1/daemon.log" | sed 's/^/#   /'; }; }
stop_and_check() {      # stop_and_check NAME SIGNAL
	local rc
	kill -"$2" "$demo_pid"
	wait "$demo_pid"
	rc=$?
	demo_pid=""
	if [ $rc -eq 0 ] && grep -q "mpc-indexer stopped cleanly (exit 0)" "$t/$1.out" &&
		grep -q "logs are in $t/$1" "$t/$1.out"; then
		ok "SIG$2: run-demo exits 0, the daemon stopped cleanly, and it says where the logs are"
	else
		not_ok "SIG$2: run-demo exit $rc"; show "$1"
	fi
	local i
	for i in $(seq 50); do      # every service has been waited for; this only absorbs a slow /proc
		[ -z "$(leftovers)" ] && break
		sleep 0.2
	done
	if [ -z "$(leftovers)" ]; then
		ok "SIG$2: no process of the demo is left"
	else
		not_ok "SIG$2: processes left:"; ps -o pid,args -p "$(leftovers | paste -sd,)" | sed 's/^/#   /'
	fi
}

# ---- run 1: everything a user is told to look at, then Ctrl-C
run a
started() { lines a | grep -q 'metrics=ok bridge=ok'; }
if until_ok 120 started; then
	ok "status lines appear, with the metrics and the bridge answering"
else
	not_ok "no status line with metrics=ok bridge=ok"; show a
fi
metrics=$(sed -n 's/^metrics:  *//p' "$t/a.out")
socket=$(sed -n 's/^bridge:  *//p' "$t/a.out")

advanced() { local h; h=$(lines a | field head | grep -x '[0-9]*'); [ "$(echo "$h" | tail -1)" -gt "$(echo "$h" | head -1)" ] 2> /dev/null; }
until_ok 60 advanced && ok "the chain head advances ($(lines a | field head | head -1) -> $(lines a | field head | tail -1))" ||
	{ not_ok "the chain head does not advance"; show a; }
processed() { [ "$(lines a | tail -1 | field processed)" -gt 0 ] 2> /dev/null; }
check "processed height shown ($(lines a | tail -1 | field processed))" processed

traffic() { local l; l=$(lines a | tail -1)
	[ "$(echo "$l" | field requests | num_of sign)" -gt 0 ] 2> /dev/null &&
	[ "$(echo "$l" | field completions | num_of sign)" -gt 0 ] 2> /dev/null; }
until_ok 60 traffic && ok "requests and completions are counted: $(lines a | tail -1 | field requests) / $(lines a | tail -1 | field completions)" ||
	{ not_ok "no requests and completions counted"; show a; }

# A backup made after a resharing: the backed-up epoch grows while the demo runs.
first_backup() { lines a | field backup | num_of epoch | head -1; }
resharing_backup() { local e0 e; e0=$(first_backup); e=$(lines a | field backup | num_of epoch | tail -1)
	[ -n "$e0" ] && [ "$e" -gt "$e0" ] 2> /dev/null; }
if until_ok 180 resharing_backup; then
	e=$(lines a | field backup | num_of epoch | tail -1)
	ok "a backup is made after a resharing (epoch $(first_backup) -> $e)"
	check "and its file is on disk, private" test -f "$t/a/state/backup-migration/epoch-$e.mpcbak" -a \
		"$(stat -c %a "$t/a/state/backup-migration/epoch-$e.mpcbak" 2> /dev/null)" = 600
else
	not_ok "no backup after a resharing (backed-up epochs seen: $(lines a | field backup | sed 's/,age.*//' | uniq | paste -sd' '))"; show a
fi
attested() { lines a | tail -1 | field attestation | grep -q '^age:'; }
until_ok 60 attested && ok "an attestation is made (mock): $(lines a | tail -1 | field attestation)" ||
	{ not_ok "no attestation"; show a; }
lines a | tail -1 | grep -q 'state=\(Running\|Resharing\) epoch=[0-9]' && ok "the contract state and epoch are shown" ||
	{ not_ok "no contract state"; show a; }

if [ -n "$metrics" ] && curl -sf "$metrics" > "$t/metrics" &&
	grep -q '^mpc_indexer_block_head_height [1-9]' "$t/metrics"; then
	ok "the metrics URL it shows answers ($metrics)"
else
	not_ok "the metrics URL '$metrics' does not answer"
fi
check "the bridge socket it shows is there ($socket)" test -S "$socket"
stop_and_check a INT

# ---- run 2: SIGTERM as soon as the status is up
run b
started_b() { lines b | grep -q 'metrics=ok bridge=ok'; }
until_ok 120 started_b || { not_ok "run 2: no status line"; show b; }
stop_and_check b TERM
finish
