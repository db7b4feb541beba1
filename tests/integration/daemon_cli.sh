# The daemon as an operator meets it: exit codes, one-line config errors with
# file:line, key-file permissions, required vs optional plugins, signals, and
# a start/stop under valgrind.
. "$top_srcdir/tests/tap.sh"
bin="$top_builddir/mpc-indexer"
plugins="$MPCI_TEST_PLUGINDIR"
# the ABI this tree's header declares, e.g. 1.1
abi=$(sed -n 's/^#define MPCI_ABI_MAJOR \([0-9]*\)$/\1/p' "$top_srcdir/include/mpc-indexer/plugin.h").$(sed -n 's/^#define MPCI_ABI_MINOR \([0-9]*\)$/\1/p' "$top_srcdir/include/mpc-indexer/plugin.h")
t=$(mktemp -d /tmp/mpci-cli-XXXXXX)
trap 'rm -rf "$t"' EXIT
# A public test key (vectors.md V2), never a real one.
key='ed25519:2wyRcSwSuHtRVmkMCGjPwnzZmQLeXLzLLyED1NDMt4BjnKgQL6tF85yBx6Jr26D2dUNeC716RBoTxntVHsegogYw'

conf() { # conf NAME BODY -> writes $t/NAME.conf with a common [indexer]
	printf '[indexer]\nstate_dir = %s/state\nplugin_dir = %s\nlog_level = debug\n%s' \
		"$t" "$plugins" "$2" > "$t/$1.conf"
}
run() { # run EXPECTED_RC DESCRIPTION ARGS...: stderr to $t/err
	want=$1; d=$2; shift 2
	"$bin" "$@" > "$t/out" 2> "$t/err"; rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$d (exit $rc)"; else
		not_ok "$d: exit $rc, want $want"; sed 's/^/#   /' "$t/err"; fi
}
err_has() { # err_has TEXT DESCRIPTION
	if grep -qF -- "$1" "$t/err"; then ok "$2"; else not_ok "$2"; sed 's/^/#   /' "$t/err"; fi
}
one_line() {
	n=$(grep -c . "$t/err"); if [ "$n" -eq 1 ]; then ok "$1"; else not_ok "$1 ($n lines)"; fi
}

run 0 "the shipped sample configuration checks out" -c "$top_srcdir/etc/mpc-indexer.conf" check-config
run 0 "--help" --help
grep -q "Exit status" "$t/out" && ok "help documents exit codes" || not_ok "help documents exit codes"
run 0 "version" version
grep -q "plugin ABI $abi" "$t/out" && ok "version names the ABI" || not_ok "version names the ABI"
run 2 "an unknown command is a usage error" frobnicate
run 2 "an unknown option is a usage error" --frob
run 3 "a missing config file is a config error" -c "$t/none.conf" check-config
err_has "$t/none.conf" "the message names the file"; one_line "missing file: one line"

conf unknown_key 'bogus_key = 1
'
run 3 "an unknown key is a config error" -c "$t/unknown_key.conf" check-config
err_has "unknown_key.conf:5" "the message names file:line"; err_has "bogus_key" "and the key"
one_line "unknown key: one line"

conf bad_value '[near]
finality = sometimes
'
run 3 "a bad value is a config error" -c "$t/bad_value.conf" check-config
err_has "bad_value.conf:6" "bad value: file:line"; one_line "bad value: one line"

conf bad_url '[near]
rpc_urls = http://127.0.0.1:3030, gopher://rpc.example
'
run 3 "an RPC URL the sources would refuse is a config error for check-config" -c "$t/bad_url.conf" check-config
err_has "bad_url.conf:6" "bad rpc_urls: file:line"; err_has "rpc_urls: item 2 is not an http(s) URL" "and which item"; one_line "bad rpc_urls: one line"
run 3 "and for run, before anything starts" -c "$t/bad_url.conf" run

conf bad_view '[near]
rpc_urls = http://127.0.0.1:3030
[view]
interval = 1ms
'
run 3 "a view interval below the minimum is a config error for check-config" -c "$t/bad_view.conf" check-config
err_has "bad_view.conf:8" "bad [view] interval: file:line"

conf bad_section '[nonsense]
'
run 3 "an unknown section is a config error" -c "$t/bad_section.conf" check-config
err_has "nonsense" "the section is named"

printf '%s\n' "$key" > "$t/key.json"; chmod 644 "$t/key.json"
conf key_open "[signer.node]
account_id = node.test.near
key_file = $t/key.json
"
run 3 "a group/world-readable key file is refused" -c "$t/key_open.conf" check-config
err_has "readable by group or others" "the message says why"; err_has "key_open.conf:7" "and where"
one_line "key mode: one line"
if grep -q "2wyRcSwSuHtRVmkM" "$t/err"; then not_ok "the key is not printed"; else ok "the key is not printed"; fi

chmod 600 "$t/key.json"
run 0 "a 0600 key file is accepted" -c "$t/key_open.conf" check-config

conf key_missing "[signer.node]
account_id = node.test.near
key_file = $t/absent.json
"
run 3 "a missing key file is a config error" -c "$t/key_missing.conf" check-config
err_has "absent.json" "the file is named"

if [ "$(id -u)" -ne 0 ]; then
	chmod 000 "$t/key.json"
	run 3 "an unreadable key file is a config error" -c "$t/key_open.conf" check-config
	chmod 600 "$t/key.json"
else
	mkdir "$t/keydir"; chmod 700 "$t/keydir"
	conf key_dir "[signer.node]
account_id = node.test.near
key_file = $t/keydir
"
	run 3 "a key file that cannot be read as a file is a config error" -c "$t/key_dir.conf" check-config
fi

printf 'ed25519:notakey\n' > "$t/bad.key"; chmod 600 "$t/bad.key"
conf key_bad "[signer.node]
account_id = node.test.near
key_file = $t/bad.key
"
run 3 "a malformed key is a config error" -c "$t/key_bad.conf" check-config
err_has "not a valid ed25519 secret key" "the message says what is wrong"

conf env_override '[near]
finality = final
'
MPC_INDEXER_NEAR__FINALITY=bogus run 3 "environment overrides the file" -c "$t/env_override.conf" check-config
err_has "MPC_INDEXER_NEAR__FINALITY" "and the error names the variable"

conf refuse '[plugin.abi_bad_major]
required = yes
'
run 4 "a required plugin with another major ABI stops the daemon" -c "$t/refuse.conf" run
err_has "2.0" "the message names the plugin's ABI"; err_has "speaks $abi" "and the host's"

conf req_init '[plugin.init_fails]
required = yes
'
run 4 "a required plugin whose init fails stops the daemon" -c "$t/req_init.conf" run
err_has "required plugin init_fails: init failed" "the message names the plugin"

run 0 "plugins lists installed plugins" plugins --plugin-dir "$plugins"
grep -q "recorder .*1.0 .*$abi .*loads" "$t/out" && ok "recorder: name, version, ABI, loads" || { not_ok "recorder listed"; cat "$t/out"; }
grep -q "refused: .*2.0" "$t/out" && ok "a refused plugin says why" || not_ok "a refused plugin says why"

# An optional plugin failing init does not stop the daemon; SIGTERM stops it cleanly.
conf opt_init '[plugin.init_fails]
[plugin.recorder]
'
"$bin" -c "$t/opt_init.conf" run > "$t/out" 2> "$t/err" &
pid=$!
for i in $(seq 100); do grep -q "running with 1 plugin" "$t/err" && break; sleep 0.1; done
grep -q "running with 1 plugin" "$t/err" && ok "optional init failure: the daemon goes on" || not_ok "daemon did not start"
kill -TERM $pid; wait $pid; rc=$?
[ $rc -eq 0 ] && ok "SIGTERM: clean exit 0" || not_ok "SIGTERM: exit $rc"
err_has "shutting down" "shutdown is logged"

# SIGHUP reopens the log file (logrotate moves it away first).
conf logfile "log_file = $t/daemon.log
[plugin.recorder]
"
"$bin" -c "$t/logfile.conf" run 2> "$t/err" &
pid=$!
for i in $(seq 100); do grep -q "running with" "$t/daemon.log" 2>/dev/null && break; sleep 0.1; done
mv "$t/daemon.log" "$t/daemon.log.1"
kill -HUP $pid
for i in $(seq 100); do [ -s "$t/daemon.log" ] && break; sleep 0.1; done
kill -TERM $pid; wait $pid
grep -q "log reopened" "$t/daemon.log" && ok "SIGHUP reopens the log file" || not_ok "SIGHUP reopens the log file"

# Under valgrind: starts, runs a plugin, stops on SIGTERM, no leaks or errors.
if command -v valgrind > /dev/null && [ -z "$MPCI_SANITIZED" ]; then
	MPCI_NO_DLCLOSE=1 valgrind --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --log-file="$t/vg" \
		"$bin" -c "$t/opt_init.conf" run 2> "$t/err" &
	pid=$!
	for i in $(seq 300); do grep -q "running with" "$t/err" && break; sleep 0.1; done
	sleep 0.5; kill -TERM $pid; wait $pid; rc=$?
	if [ $rc -eq 0 ] && grep -q "ERROR SUMMARY: 0 errors" "$t/vg"; then ok "valgrind: no errors, no leaks"
	else not_ok "valgrind: exit $rc"; grep -E "ERROR SUMMARY|definitely|indirectly" "$t/vg" | sed 's/^/#   /'; fi
else
	ok "# SKIP valgrind not available or sanitizers on"
fi
finish
