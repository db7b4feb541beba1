#!/bin/sh
# Builds the backup-migration libFuzzer targets with clang (ASan+UBSan) and runs each briefly.
. "$top_srcdir/tests/tap.sh"

[ -n "$CLANG" ] || skip_all "no clang (configure found none)"
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang '$CLANG' not runnable"
deps=$(pkg-config --cflags --libs libsodium libcjson libcrypto 2>/dev/null) ||
	skip_all "pkg-config cannot find libsodium/libcjson/libcrypto"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-backup.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
pl="$top_srcdir/plugins/backup-migration"
fix="$top_srcdir/tests/fixtures/backup"

# seeds: real backup files written with the fuzzer's key, and the JSON fixtures
mkdir -p "$tmp/fuzz_backup_file.corpus" "$tmp/fuzz_backup_json.corpus" "$tmp/bk"
chmod 700 "$tmp/bk"
(umask 077; printf '5a%.0s' $(seq 32) > "$tmp/key")
printf '[{"key_id":{"epoch_id":4,"domain_id":0,"attempt_id":240},"data":{"Secp256k1":{"private_share":"00","public_key":"02"}}}]' \
	> "$tmp/ks.json"
"$top_builddir/tests/integration/backup_write" "$tmp/bk" "$tmp/key" 4 frodo.test.near < "$tmp/ks.json" &&
	cp "$tmp/bk/epoch-4.mpcbak" "$tmp/fuzz_backup_file.corpus/"
i=0
for f in "$tmp/ks.json" "$fix/contract_state.json" "$fix/state_resharing.json" \
	"$fix/migration_info_result_example.json" "$fix/get_keyshares_request_body.json"; do
	for sel in 0 1 2 3; do
		{ printf "\\00$sel"; cat "$f"; } > "$tmp/fuzz_backup_json.corpus/seed$i.$sel"
	done
	i=$((i + 1))
done

build() {
	target=$1; shift
	# shellcheck disable=SC2086 # word splitting of $deps is intended
	"$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -I"$top_srcdir/include" -I"$pl" -o "$tmp/$target" \
		"$top_srcdir/tests/fuzz/$target.c" "$@" $deps >"$tmp/$target.build" 2>&1
}

for target in fuzz_backup_file fuzz_backup_json; do
	case $target in
	fuzz_backup_file) srcs="$pl/backup_store.c" ;;
	*) srcs="$pl/backup_store.c $pl/contract.c $pl/edkey.c" ;;
	esac
	# shellcheck disable=SC2086 # word splitting of $srcs is intended
	if ! build "$target" $srcs; then
		sed 's/^/# /' "$tmp/$target.build"
		not_ok "$target builds"
		continue
	fi
	if "$tmp/$target" -runs=20000 -max_len=8192 -seed=1 "$tmp/$target.corpus" \
		>"$tmp/$target.log" 2>&1; then
		ok "$target: 20000 runs clean, corpus of $(ls "$tmp/$target.corpus" | wc -l)"
	else
		tail -n 30 "$tmp/$target.log" | sed 's/^/# /'
		not_ok "$target: 20000 runs clean"
	fi
done
finish
