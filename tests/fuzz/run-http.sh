#!/bin/sh
# Builds the response-header fuzzer with clang (ASan+UBSan) and runs it briefly.
. "$top_srcdir/tests/tap.sh"

[ -n "$CLANG" ] || skip_all "no clang (configure found none)"
command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang '$CLANG' not runnable"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-http.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
target=fuzz_http_headers
mkdir -p "$tmp/corpus"
printf 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSGX-PCK-CRL-Issuer-Chain: -----BEGIN%%20CERTIFICATE-----%%0A\r\n\r\n' \
	>"$tmp/corpus/pccs"
printf 'HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\nHTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\n\tc\r\n\r\nX-Trailer: t\r\n' \
	>"$tmp/corpus/fold"
if ! "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -I"$top_srcdir/core" -o "$tmp/$target" \
	"$top_srcdir/tests/fuzz/$target.c" "$top_srcdir/core/http_headers.c" \
	>"$tmp/build.log" 2>&1; then
	sed 's/^/# /' "$tmp/build.log"
	not_ok "$target builds"
	finish
	exit
fi
ok "$target builds"
if "$tmp/$target" -runs=50000 -max_len=8192 -seed=1 "$tmp/corpus" >"$tmp/log" 2>&1; then
	ok "$target: 50000 runs clean"
else
	tail -n 30 "$tmp/log" | sed 's/^/# /'
	not_ok "$target: 50000 runs clean"
fi
finish
