#!/bin/sh
# Prompt render (8 demonstrations, 18 rooms) + reply parse per decision: libfewshot against the
# same work in Python (str.format and re), which must produce the identical prompt and action;
# then the prefix-cacheable share of an episode's prompt tokens on paper.json, with the
# default demonstration order and with the paper's.
set -eu
: "${top_builddir:?}" "${top_srcdir:?}"
PYTHON3=${PYTHON3:-/usr/bin/python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fewshot-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
set -- $("$top_builddir/tests/bench/bench_prompt" "$tmp/data.json")
c=$1 cold=$2
py=$("$PYTHON3" "$top_srcdir/tests/bench/prompt.py" "$tmp/data.json")
echo "prompt render + parse per decision (8 demonstrations, 18 rooms):"
echo "  libfewshot, demonstrations rendered once (the agent's case): $c us"
echo "  libfewshot, every demonstration rendered:                    $cold us"
echo "  python3, the same text:                                      $py us"
awk -v c="$c" -v k="$cold" -v p="$py" 'BEGIN {
    printf "  ratio: %.1fx faster than Python (%.1fx without the cache); aim <= 40 us and >= 10x: %s\n",
        p / c, p / k, (c <= 40 && p / c >= 10 ? "met" : "missed") }'
echo "prefix-cacheable share of an episode's prompt tokens, paper.json (same-building, winter):"
export XDG_CACHE_HOME="$tmp/cache"
for order in cache paper; do
    share=$("$top_builddir/fewshot" sweep "$top_srcdir/examples/configs/paper.json" --dry-run \
        --set llm.api_key_env= --set llm.base_url=http://127.0.0.1:9/v1 \
        --set prompt.demo_order=$order |
        sed -n 's/^  same-building .*max [0-9]*, \([0-9]*\)% a prefix.*/\1/p')
    echo "  demo_order $order: $share% (aim >= 80% with the default order)"
done
