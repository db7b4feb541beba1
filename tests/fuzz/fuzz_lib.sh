# What every tests/fuzz/run-*.sh does, sourced by them: skip without clang or
# a library, build a libFuzzer target with ASan+UBSan, run it a fixed number of
# times from a seed corpus, and say so in TAP.  A runner names its target(s),
# sources and seeds:
#	. "$top_srcdir/tests/fuzz/fuzz_lib.sh"
#	fuzz_init NAME [PKG...]        # skips; sets $tmp (removed at exit), $deps
#	fuzz_seeds TARGET [DIR...]     # $tmp/TARGET.corpus with DIR's files
#	fuzz_build TARGET [CC-ARG...] && fuzz_run TARGET RUNS MAX_LEN [OPTION...]
#	finish
# FUZZ_RUNS=N runs every target N times instead of the runner's count.
. "$top_srcdir/tests/tap.sh"

libs=			# linked after $deps (-lm, -lpthread)
fuzz_tally=1		# say how large the corpus grew

fuzz_init() {
	fuzz_name=$1
	shift
	[ -n "$CLANG" ] || skip_all "no clang (configure found none)"
	command -v "$CLANG" >/dev/null 2>&1 || skip_all "clang '$CLANG' not runnable"
	deps=
	if [ $# -gt 0 ]; then
		deps=$(pkg-config --cflags --libs "$@" 2>/dev/null) ||
			skip_all "pkg-config cannot find $(echo "$@" | tr ' ' /)"
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$fuzz_name.XXXXXX") || exit 99
	trap 'rm -rf "$tmp"' EXIT INT TERM
}

# The corpus directory, with the files of each seed directory that exists.
fuzz_seeds() {
	fuzz_corpus="$tmp/$1.corpus"
	shift
	mkdir -p "$fuzz_corpus"
	for d in "$@"; do
		[ -d "$d" ] && cp "$d"/* "$fuzz_corpus/" 2>/dev/null
	done
	return 0
}

# 0 when $tmp/TARGET is built from tests/fuzz/TARGET.c and the other arguments;
# else the compiler's output as TAP comments and a failed "TARGET builds".
fuzz_build() {
	target=$1
	shift
	# shellcheck disable=SC2086 # word splitting of $deps and $libs is intended
	if "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -o "$tmp/$target" "$top_srcdir/tests/fuzz/$target.c" "$@" \
		$deps $libs >"$tmp/$target.build" 2>&1; then
		return 0
	fi
	sed 's/^/# /' "$tmp/$target.build"
	not_ok "$target builds"
	return 1
}

# Run TARGET RUNS times (FUZZ_RUNS overrides) from its corpus, inside $tmp (its
# TMPDIR too), with inputs up to MAX_LEN bytes and any further libFuzzer options.
fuzz_run() {
	target=$1 runs=${FUZZ_RUNS:-$2} max_len=$3
	shift 3
	mkdir -p "$tmp/$target.corpus"
	if (cd "$tmp" && TMPDIR="$tmp" "./$target" -runs="$runs" -max_len="$max_len" -seed=1 \
		"$@" "$target.corpus" >"$target.log" 2>&1); then
		ok "$target: $runs runs clean${fuzz_tally:+, corpus of $(ls "$tmp/$target.corpus" | wc -l)}"
	else
		tail -n 30 "$tmp/$target.log" | sed 's/^/# /'
		# the input that failed outlives $tmp, in the directory the test ran in
		for a in "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$tmp"/oom-*; do
			[ -f "$a" ] && cp "$a" "./$target-${a##*/}" && diag "kept as $target-${a##*/}"
		done
		not_ok "$target: $runs runs clean"
	fi
}

# A runner of one target says it built before it runs it.
fuzz_one() {
	target=$1 runs=$2 max_len=$3
	shift 3
	ok "$target builds"
	fuzz_run "$target" "$runs" "$max_len" "$@"
}
