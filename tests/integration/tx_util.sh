# Helpers for the transaction sender's integration tests (sourced): start
# nearsim on a free port, switch its faults, write a configuration, run the
# driver, and count on nearsim's side how often each transaction executed.
. "$top_srcdir/tests/tap.sh"
sim="$top_builddir/nearsim"
drv="$top_builddir/tests/integration/tx_driver"
cli="$top_builddir/mpc-indexer"
PY=${PYTHON3:-python3}
command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v "$PY" >/dev/null 2>&1 || skip_all "python3 is not installed"

t=$(mktemp -d /tmp/mpci-tx-XXXXXX)
simpid=
txu_cleanup() {
	[ -n "$simpid" ] && kill "$simpid" 2>/dev/null
	[ -n "$extra_pids" ] && kill $extra_pids 2>/dev/null
	wait 2>/dev/null
	rm -rf "$t"
}
trap txu_cleanup EXIT

# start_sim ARGS...: a fresh nearsim on a free port; sets port, url, simpid.
start_sim() {
	[ -n "$simpid" ] && { kill "$simpid" 2>/dev/null; wait "$simpid" 2>/dev/null; }
	rm -f "$t/port"
	"$sim" --port 0 --port-file "$t/port" --quiet "$@" > "$t/sim.log" 2>&1 &
	simpid=$!
	i=0
	while [ ! -s "$t/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
	port=$(cat "$t/port")
	url="http://127.0.0.1:$port"
}

# admin PATH [JSON]: POST to nearsim's admin endpoint.
admin() { curl -s -X POST "$url/admin/$1" -H 'Content-Type: application/json' -d "${2:-{\}}"; }
faults() { admin faults "$1" > /dev/null; }
produce() { curl -s -X POST "$url/admin/produce?n=${1:-1}" -d '{}' > /dev/null; }
rpc() { curl -s -X POST "$url/" -H 'Content-Type: application/json' -d "$1"; }

# key ACCOUNT[:ROLE] FILE: a key file of a genesis account, mode 0600.
key() { "$sim" --print-key "$1" > "$2" && chmod 600 "$2"; }

# conf FILE [TX_LINES] [RPC_URLS]: [near] at nearsim, [signer.node] = frodo's
# function-call key for the contract, the given [tx] lines.
conf() {
	[ -f "$t/frodo.key" ] || key frodo.test.near:signer "$t/frodo.key"
	printf '[indexer]\nstate_dir = %s/state\n[near]\nrpc_urls = %s\ncontract = mpc.test.near\nrequest_timeout = 5s\n[signer.node]\naccount_id = frodo.test.near\nkey_file = %s/frodo.key\n[tx]\n%b\n' \
		"$t" "${3:-$url}" "$t" "${2:-}" > "$1"
}

# executions: "TOTAL MAX DISTINCT" over every transaction nearsim was sent
# ({"executions":{"<hash>":<count>,...}}).
executions() {
	curl -s "$url/admin/txs" | tr ',{}' '\n\n\n' | sed -n 's/^"[1-9A-HJ-NP-Za-km-z]*":\([0-9]*\)$/\1/p' |
		awk '{ n += $1; if ($1 > m) m = $1; if ($1 > 0) d++ } END { print n + 0, m + 0, d + 0 }'
}

# stat NAME: a number from nearsim's /admin/stats.
stat() { curl -s "$url/admin/stats" | sed -n "s/^{[^}]*\"$1\":\([0-9]*\).*/\1/p"; }

# exactly_once N DESC: N transactions executed, none twice.
exactly_once() {
	set -- "$1" "$2" $(executions)
	if [ "$3" -eq "$1" ] && [ "$4" -le 1 ] && [ "$5" -eq "$1" ]; then
		ok "$2: $1 executed, each exactly once"
	else
		not_ok "$2: executions total $3, max per hash $4, distinct $5; want $1, 1, $1"
	fi
}

# field NAME FILE: the value of NAME= on the driver's stats line.
field() { sed -n "s/^stats .*[ ]$1=\([0-9]*\).*/\1/p" "$2" | tail -1; }

# wait_for PATTERN FILE [SECONDS]: until a line matches (0) or time is up (1).
wait_for() {
	i=0; n=$(( ${3:-30} * 20 ))
	while ! grep -q -- "$1" "$2" 2>/dev/null; do
		i=$((i+1)); [ $i -ge $n ] && return 1; sleep 0.05
	done
	return 0
}

# key_forms KEYFILE...: every 16-character piece of every textual form of
# each secret key and its seed (base58, hex, base64), one a line, for
# grep -F -f: a partial leak is found too.
key_forms() {
	"$PY" - "$@" <<'PYEOF'
import base64, json, sys
A = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
def b58(b):
    n = int.from_bytes(b, 'big'); s = ''
    while n: n, r = divmod(n, 58); s = A[r] + s
    return '1' * (len(b) - len(b.lstrip(b'\0'))) + s
def unb58(s):
    n = 0
    for c in s: n = n * 58 + A.index(c)
    return n.to_bytes(64, 'big')
for f in sys.argv[1:]:
    text = open(f).read().strip()
    if text.startswith('{'):
        j = json.loads(text)
        text = j.get('secret_key') or j['private_key']
    raw = unb58(text.split(':', 1)[1])
    seed = raw[:32]
    for form in (text.split(':', 1)[1], b58(seed), seed.hex(), seed.hex().upper(),
                 base64.b64encode(raw).decode()[:40], base64.b64encode(seed).decode()[:40]):
        for i in range(len(form) - 15):
            print(form[i:i + 16])
PYEOF
}

# no_key_material DESC LOG KEYFILE...: no form of those keys in LOG.
no_key_material() {
	d=$1; log=$2; shift 2
	key_forms "$@" > "$t/secrets"
	forms=$(wc -l < "$t/secrets")
	leaks=$(grep -c -F -f "$t/secrets" "$log")
	if [ "$forms" -gt 0 ] && [ "$leaks" -eq 0 ]; then
		ok "$d: no key material in $(wc -l < "$log") log lines ($forms forms searched)"
	else
		not_ok "$d: $leaks log lines with key material ($forms forms searched)"
	fi
}
