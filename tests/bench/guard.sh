#!/bin/sh
# The cost of crash containment (plugin_guard.c): a sweep of the cheapest plugin (room, a
# zero policy, so plugin calls dominate) and of hvac, with FEWSHOT_PLUGIN_GUARD=0 as the
# baseline timed in the same run. Prints steps per second and the guarded/unguarded ratio.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
FEWSHOT=${FEWSHOT:-$top_builddir/fewshot}
FEWSHOT_PLUGIN_PATH=$top_builddir/tests/plugins/.libs:$top_builddir/plugins/.libs
export FEWSHOT_PLUGIN_PATH
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fewshot-bench-guard.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
seeds=$(seq -s, 1 200)
cat > "$tmp/room.json" <<JSON
{"env": {"plugin": "room", "params": {"horizon": 500}}, "arms": [], "baselines": ["zero"],
 "episodes": {"seeds": [$seeds]}}
JSON
cat > "$tmp/hvac.json" <<JSON
{"env": {"plugin": "hvac", "params": {"episode_length": 240}}, "arms": [], "baselines": ["zero"],
 "episodes": {"seeds": [$(seq -s, 1 20)], "steps": 240}}
JSON
now() { date +%s.%N; }
run() { # config guard -> seconds
    rm -rf "$tmp/run"
    t0=$(now)
    FEWSHOT_PLUGIN_GUARD=$2 "$FEWSHOT" sweep "$1" -o "$tmp/run" >/dev/null 2>&1
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }'
}
printf '%-34s %12s %12s %8s\n' "sweep" "unguarded s" "guarded s" "ratio"
for c in room:100000 hvac:4800; do
    name=${c%%:*}; steps=${c#*:}
    best0=999; best1=999
    run "$tmp/$name.json" 1 > /dev/null     # warm the page cache and the plugin's data
    for i in 1 2 3 4 5; do      # best of 5, the order alternating
        if [ $((i % 2)) = 1 ]; then
            a=$(run "$tmp/$name.json" 0); b=$(run "$tmp/$name.json" 1)
        else
            b=$(run "$tmp/$name.json" 1); a=$(run "$tmp/$name.json" 0)
        fi
        best0=$(awk -v x="$a" -v y="$best0" 'BEGIN { print (x < y) ? x : y }')
        best1=$(awk -v x="$b" -v y="$best1" 'BEGIN { print (x < y) ? x : y }')
    done
    printf '%-34s %12.3f %12.3f %7.3fx\n' "$name, zero policy, $steps steps" "$best0" "$best1" \
        "$(awk -v a="$best1" -v b="$best0" 'BEGIN { print a / b }')"
done
