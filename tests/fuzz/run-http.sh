#!/bin/sh
# Builds the response-header fuzzer with clang (ASan+UBSan) and runs it briefly.
. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
fuzz_init http
fuzz_tally=
fuzz_seeds fuzz_http_headers
printf 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSGX-PCK-CRL-Issuer-Chain: -----BEGIN%%20CERTIFICATE-----%%0A\r\n\r\n' \
	>"$fuzz_corpus/pccs"
printf 'HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\nHTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\n\tc\r\n\r\nX-Trailer: t\r\n' \
	>"$fuzz_corpus/fold"
fuzz_build fuzz_http_headers -I"$top_srcdir/core" "$top_srcdir/core/http_headers.c" &&
	fuzz_one fuzz_http_headers 50000 8192
finish
