#!/bin/sh
# Prompt render (8 demonstrations, 18 rooms) + reply parse per decision: libfewshot against the
# same work in Python (str.format and re), which must produce the identical prompt and action;
# then the prefix-cacheable share of an episode's prompt tokens on paper.json, with the
# default order and content and with the paper's.
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
echo "prefix-cacheable share of an episode's prompt tokens, paper.json same-building, dry-run estimate (the expert's actions, one episode per scenario):"
export XDG_CACHE_HOME="$tmp/cache"
# the default (cache order, history as turns, selection.stick 2, block history), the paper's
# arm (its order, history as demonstrations, pure knn, sliding history), the restarting
# window, and each default change alone
arm_sets() {
    case $1 in
    default) ;;
    paper) echo "--set prompt.demo_order=paper --set prompt.history_layout=demonstrations --set selection.stick=1 --set selection.history_window=sliding" ;;
    restart) echo "--set selection.history_window=restart" ;;
    demos) echo "--set prompt.history_layout=demonstrations" ;;
    stick1) echo "--set selection.stick=1" ;;
    sliding) echo "--set selection.history_window=sliding" ;;
    esac
}
# the real datasets first: without them in the store a dry run estimates over a two-step
# stand-in set, whose few demonstrations inflate the share
"$top_builddir/fewshot" demos generate "$top_srcdir/examples/configs/paper.json" \
    --arm same-building > /dev/null
for arm in default paper restart stick1 sliding; do
    share=$("$top_builddir/fewshot" sweep "$top_srcdir/examples/configs/paper.json" --dry-run \
        --set llm.api_key_env= --set llm.base_url=http://127.0.0.1:9/v1 $(arm_sets $arm) |
        sed -n 's/^  same-building .*max [0-9]*, \([0-9]*\)% a prefix.*/\1/p')
    echo "  $arm: $share% (aim >= 80% with the default)"
done
# the same measured by a server: the strict test server keeps recent prompts and counts cached
# tokens as OpenAI does (prompts of 1024 tokens or more, in steps of 128); one episode per
# scenario of same-building with the server's proportional controller answering
SERVER=$top_builddir/tests/llm-server/llm-server
if [ -x "$SERVER" ] && command -v sqlite3 > /dev/null 2>&1; then
    echo "cached_tokens / prompt_tokens reported by the strict server, paper.json same-building:"
    # the server answers as its proportional controller; "-imitate" as a controller that
    # copies the demonstration nearest the state (controls better, so its states move
    # through the dataset and the nearest neighbours change more often); "-5seeds" the
    # config's 5 seeds per scenario in one sweep, whose episodes share prefixes too
    for order in default restart demos paper default-imitate default-5seeds \
                 default-imitate-5seeds; do
        answer= seeds='[1]'
        case $order in *-imitate*) answer="--answer imitate" ;; esac
        case $order in *-5seeds) seeds='[1,2,3,4,5]' ;; esac
        "$SERVER" --mode strict $answer --port-file "$tmp/port-$order" --lifetime 300 > /dev/null &
        pid=$!
        while [ ! -s "$tmp/port-$order" ]; do sleep 0.01; done
        "$top_builddir/fewshot" sweep "$top_srcdir/examples/configs/paper.json" -o "$tmp/run-$order" \
            --no-report --set "llm.base_url=http://127.0.0.1:$(cat "$tmp/port-$order")/v1" \
            --set llm.api_key_env= --set llm.cache.mode=off --set "episodes.seeds=$seeds" \
            $(arm_sets ${order%%-*}) --set 'arms=[{"name": "same-building"}]' \
            --set 'baselines=[]' > /dev/null 2>&1 || true
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
        sqlite3 "$tmp/run-$order/results.sqlite" "SELECT printf('  %s: %.1f%% (%d of %d)', '$order', 100.0 * sum(cached_tokens) / sum(prompt_tokens), sum(cached_tokens), sum(prompt_tokens)) FROM episodes"
    done
fi
