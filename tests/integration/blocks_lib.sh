# Shared by tests/integration/blocks_*.sh: nearsim on a free port, the admin endpoint,
# and the PASS/FAIL lines of blocks_check.py turned into TAP.
. "$top_srcdir/tests/tap.sh"

PY=${PYTHON3:-python3}
command -v "$PY" >/dev/null 2>&1 || skip_all "no python3"
command -v curl >/dev/null 2>&1 || skip_all "no curl"
CHECK="$top_srcdir/tests/integration/blocks_check.py"
INDEXER="$top_builddir/mpc-indexer"
NEARSIM="$top_builddir/nearsim"
export MPC_INDEXER_NO_PROGRESS=1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/blocks-test.XXXXXX") || exit 99
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# start_sim ARGS...: SIM_PORT, SIM_URL
start_sim() {
	"$NEARSIM" --port 0 --port-file "$tmp/sim.port" --quiet "$@" &
	pids="$pids $!"
	SIM_PID=$!
	i=0
	while [ ! -s "$tmp/sim.port" ]; do
		i=$((i+1)); [ $i -gt 200 ] && { echo "Bail out! nearsim did not start"; exit 99; }
		sleep 0.05
	done
	SIM_PORT=$(cat "$tmp/sim.port")
	SIM_URL="http://127.0.0.1:$SIM_PORT"
}

post() { curl -sf -X POST "$SIM_URL/admin/$1" -d "${2:-{\}}" >/dev/null; }
produce() { post "produce?n=$1"; }
final_height() { curl -sf "$SIM_URL/admin/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["final"])'; }
# the height of FILE's last block event (0 if none); grep, not python: polled every 0.1 s
last_height() {
	h=$(grep '^{"event":"block","height":' "$1" 2> /dev/null | tail -n 1 |
	    sed -n 's/^{"event":"block","height":\([0-9]*\),.*/\1/p')
	echo "${h:-0}"
}

# wait_height FILE HEIGHT SECONDS: until FILE's last block is at least HEIGHT
wait_height() {
	n=0
	while [ "$(last_height "$1")" -lt "$2" ]; do
		n=$((n+1)); [ $n -gt $(($3 * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

# checks ARGS...: run blocks_check.py and report its lines as TAP
checks() {
	"$PY" "$CHECK" "$@" >"$tmp/check.out" 2>&1 || echo "FAIL blocks_check.py $1 crashed" >>"$tmp/check.out"
	while read -r st msg; do
		case $st in
		PASS) ok "$msg" ;;
		FAIL) not_ok "$msg" ;;
		INFO) diag "$msg" ;;
		*) diag "$st $msg" ;;
		esac
	done <"$tmp/check.out"
}
