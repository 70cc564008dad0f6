# Shared helpers for the shell tests. Source it: . "$top_srcdir/tests/lib.sh"
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
FEWSHOT=${FEWSHOT:-$top_builddir/fewshot}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fewshot-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# caches (the demonstration store) per test: never the user's, never stale from a last run
XDG_CACHE_HOME=$TMP/xdg
export XDG_CACHE_HOME
failures=0
count=0

# Under `make check-valgrind` the program runs inside valgrind too.
run_fewshot() {
    if [ -n "${FEWSHOT_VALGRIND:-}" ]; then
        "$top_srcdir/tests/valgrind-wrapper" "$FEWSHOT" "$@"
    else
        "$FEWSHOT" "$@"
    fi
}

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

pass() {
    count=$((count + 1))
}

# expect_status WANT DESCRIPTION -- COMMAND...; output in $TMP/out, $TMP/err
expect_status() {
    want=$1; what=$2; shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" != "$want" ]; then
        fail "$what: exit $got, expected $want"
        sed 's/^/  stderr: /' "$TMP/err" | head -5 >&2
    else
        pass
    fi
}

# expect_grep PATTERN FILE DESCRIPTION
expect_grep() {
    if grep -Eq -- "$1" "$2"; then pass; else
        fail "$3: '$1' not found in $(basename "$2")"
        sed 's/^/  | /' "$2" | head -5 >&2
    fi
}

finish() {
    echo "$count checks passed, $failures failed"
    [ "$failures" -eq 0 ]
}

skip() {
    echo "SKIP: $*"
    exit 77
}
