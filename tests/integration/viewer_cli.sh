# `mpc-indexer view` against nearsim: the state printed as JSON, contract errors
# as the contract gave them, usage errors, and --watch showing a resharing.
. "$top_srcdir/tests/tap.sh"
bin="$top_builddir/mpc-indexer"
sim="$top_builddir/nearsim"
t=$(mktemp -d /tmp/mpci-view-XXXXXX)
simpid=; watchpid=
cleanup() {
	[ -n "$watchpid" ] && kill "$watchpid" 2>/dev/null
	[ -n "$simpid" ] && kill "$simpid" 2>/dev/null && wait "$simpid" 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT
command -v python3 >/dev/null 2>&1 || skip_all "python3 is needed to check the JSON"

"$sim" --manual --port 0 --port-file "$t/port" --quiet --bg-tx 0 & simpid=$!
for _ in $(seq 100); do [ -s "$t/port" ] && break; sleep 0.05; done
[ -s "$t/port" ] || { echo "Bail out! nearsim did not start"; exit 99; }
url="http://127.0.0.1:$(cat "$t/port")"
admin() { curl -sf -XPOST -d '{}' "$url/admin/$1" >/dev/null; }
printf '[near]\nchain_id = nearsim\ncontract = mpc.test.near\nrpc_urls = %s\n' "$url" > "$t/conf"

run() { # run EXPECTED_RC DESCRIPTION ARGS...: stdout to $t/out, stderr to $t/err
	want=$1; d=$2; shift 2
	"$bin" "$@" > "$t/out" 2> "$t/err"; rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$d (exit $rc)"; else
		not_ok "$d: exit $rc, want $want"; sed 's/^/#   /' "$t/err"; fi
}
has() { # has FILE TEXT DESCRIPTION
	if grep -qF -- "$2" "$1"; then ok "$3"; else not_ok "$3"; sed 's/^/#   /' "$1" | head -20; fi
}

run 0 "view state" -c "$t/conf" view state
check "stdout is the state as JSON, Running" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if "Running" in s and s["Running"]["parameters"]["threshold"] == 2 else 1)' "$t/out"
has "$t/out" '  "Running": {' "pretty-printed with two-space indentation"
has "$t/err" "mpc.test.near.state({}) at block " "stderr says where it was observed"

run 0 "view without a config file, --rpc and --contract" -c "$t/none.conf" view state \
	--rpc "$url" --contract mpc.test.near
has "$t/out" '"Running"' "... prints the state"
run 0 "view with arguments" -c "$t/conf" view public_key '{"domain_id":0}'
has "$t/out" '"secp256k1:' "... prints the domain key"
run 0 "a dead endpoint first: the second answers" -c "$t/none.conf" view state \
	--rpc http://127.0.0.1:1 --rpc "$url" --contract mpc.test.near
has "$t/out" '"Running"' "... prints the state"

run 1 "a missing method fails" -c "$t/conf" view no_such_method
has "$t/err" "CONTRACT_EXECUTION_ERROR: wasm execution failed with error: FunctionCallError(MethodResolveError(MethodNotFound))" \
	"... shown as the contract gave it"
run 1 "an unknown account fails" -c "$t/conf" view state --contract nobody.test.near
has "$t/err" "UNKNOWN_ACCOUNT: account nobody.test.near does not exist while viewing" "... shown as the RPC gave it"
run 2 "ARGS_JSON that is not JSON" -c "$t/conf" view state '{nope'
has "$t/err" "ARGS_JSON must be a JSON object" "... says what is wrong"
run 2 "no contract anywhere" -c "$t/none.conf" view state --rpc "$url"
has "$t/err" "no contract" "... says so"
run 3 "no config file and no --rpc" -c "$t/none.conf" view state
run 0 "view --help" view --help
has "$t/out" "--watch" "help lists --watch"

sanitized=$MPCI_SANITIZED
ldd "$bin" 2>/dev/null | grep -q libasan && sanitized=1
if command -v valgrind >/dev/null 2>&1 && [ -z "$sanitized" ]; then
	for mode in "view state" "view no_such_method"; do
		# shellcheck disable=SC2086 # $mode is two words on purpose
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
			--error-exitcode=97 "$bin" -c "$t/conf" $mode > /dev/null 2> "$t/vg"
		if [ $? -ne 97 ]; then ok "$mode under valgrind: no errors, no leaks"
		else not_ok "$mode under valgrind"; sed 's/^/#   /' "$t/vg" | head -30; fi
	done
else
	ok "# SKIP valgrind not available or sanitizers on"
fi

# --watch: the Running state, then a resharing as it happens
"$bin" -c "$t/conf" view state --watch --interval 0.1 > "$t/watch" 2> "$t/watch.err" & watchpid=$!
for _ in $(seq 200); do grep -q '^--- block' "$t/watch" && break; sleep 0.05; done
has "$t/watch" '"Running": {' "--watch prints the current state first"
admin reshare
for _ in $(seq 40); do
	admin "produce?n=1"; sleep 0.3
	grep -q '"Resharing": {' "$t/watch" && break
done
has "$t/watch" '"Resharing": {' "--watch shows the resharing as it happens"
kill -INT "$watchpid"; wait "$watchpid"; rc=$?; watchpid=
if [ "$rc" -eq 0 ]; then ok "--watch ends cleanly on SIGINT"; else not_ok "--watch exit $rc on SIGINT"; fi
check "each change printed once, heights going up" python3 -c '
import re, sys
hs = [int(m) for m in re.findall(r"^--- block (\d+)", open(sys.argv[1]).read(), re.M)]
sys.exit(0 if len(hs) >= 2 and all(a < b for a, b in zip(hs, hs[1:])) else 1)' "$t/watch"
diag "watch: $(grep -c '^--- block' "$t/watch") values, $(grep '^--- block' "$t/watch" | tr '\n' ' ')"
finish
