#!/bin/sh
# Builds the backup-migration libFuzzer targets with clang (ASan+UBSan) and runs each briefly.
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init backup libsodium libcjson libcrypto
pl="$top_srcdir/plugins/backup-migration"
fix="$top_srcdir/tests/fixtures/backup"

# seeds: real backup files written with the fuzzer's key, and the JSON fixtures
fuzz_seeds fuzz_backup_file
fuzz_seeds fuzz_backup_json
mkdir -p "$tmp/bk"
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

inc="-I$top_srcdir/include -I$pl"
# shellcheck disable=SC2086 # word splitting of $inc is intended
fuzz_build fuzz_backup_file $inc "$pl/backup_store.c" &&
	fuzz_run fuzz_backup_file 20000 8192
# shellcheck disable=SC2086
fuzz_build fuzz_backup_json $inc "$pl/backup_store.c" "$pl/contract.c" "$pl/edkey.c" &&
	fuzz_run fuzz_backup_json 20000 8192
finish
