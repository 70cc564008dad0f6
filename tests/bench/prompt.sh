#!/bin/sh
# Prompt render (8 demonstrations, 6 rooms) + reply parse per decision: libfewshot against the
# same work in Python (str.format and re), which must produce the identical prompt and action.
set -eu
: "${top_builddir:?}" "${top_srcdir:?}"
PYTHON3=${PYTHON3:-/usr/bin/python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fewshot-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
c=$("$top_builddir/tests/bench/bench_prompt" "$tmp/data.json")
py=$("$PYTHON3" "$top_srcdir/tests/bench/prompt.py" "$tmp/data.json")
echo "prompt render + parse per decision (8 demonstrations, 6 rooms):"
echo "  libfewshot: $c us"
echo "  python3:    $py us"
awk -v c="$c" -v p="$py" 'BEGIN { printf "  ratio:      %.1fx faster than Python (target: < 50 us: %s)\n", p / c, (c < 50 ? "met" : "missed") }'
