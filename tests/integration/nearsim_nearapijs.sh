#!/bin/sh
# Acceptance 6: near-api-js (from npm, installed at test time) makes a view call, sends a
# signed function-call transaction and reads its status against nearsim. Skips when node,
# npm or the npm registry is unavailable. NEARSIM_NPM_DIR reuses an install between runs.
. "$top_srcdir/tests/tap.sh"
command -v node >/dev/null 2>&1 || skip_all "node is not installed"
command -v npm >/dev/null 2>&1 || skip_all "npm is not installed"
major=$(node -e 'console.log(process.versions.node.split(".")[0])')
[ "$major" -ge 18 ] || skip_all "near-api-js needs node >= 18 (have $major)"

dir=${NEARSIM_NPM_DIR:-$(mktemp -d)}
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
	[ -z "${NEARSIM_NPM_DIR:-}" ] && rm -rf "$dir"
}
trap cleanup EXIT
if [ ! -d "$dir/node_modules/near-api-js" ]; then
	(cd "$dir" && npm init -y >/dev/null 2>&1 &&
	 timeout 300 npm install --no-audit --no-fund --silent near-api-js@7 >"$tmp/npm.log" 2>&1) ||
		skip_all "npm install near-api-js failed (no registry?): $(tail -1 "$tmp/npm.log")"
fi
diag "near-api-js $(node -e "console.log(require('$dir/node_modules/near-api-js/package.json').version)")"
cp "$top_srcdir/tests/integration/nearsim_nearapijs.mjs" "$dir/check.mjs"

"$top_builddir/nearsim" --block-ms 100 --port 0 --port-file "$tmp/port" --quiet &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
[ -s "$tmp/port" ] || { not_ok "nearsim started"; finish; exit 1; }
"$top_builddir/nearsim" --print-key frodo.test.near >"$tmp/key.json"
node "$dir/check.mjs" "http://127.0.0.1:$(cat "$tmp/port")" "$tmp/key.json"
