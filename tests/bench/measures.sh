#!/bin/sh
# Retrieval-measure benchmark: what measuring every knn-imitation decision costs (distances,
# the expert's action for the agreement, distinctness) on paper.json's building (OfficeMedium,
# 18 zones), with the expert and zero policies timed in the same run as baselines: the expert
# call is the measure's largest part, the zero policy is the environment step and storage.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
FEWSHOT=${FEWSHOT:-$top_builddir/fewshot}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fewshot-bench.XXXXXX")
FEWSHOT_PLUGIN_PATH="$top_builddir/plugins/.libs"
FEWSHOT_GNUPLOT=
XDG_CACHE_HOME=$TMP/cache
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT XDG_CACHE_HOME
trap 'cd /; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
now() { date +%s.%N; }
seeds=20
steps=$((seeds * 3 * 24))
cfg="$top_srcdir/examples/configs/paper.json"
run() {     # run NAME POLICY: wall seconds of one sweep of POLICY alone
    "$FEWSHOT" sweep "$cfg" -o "$1" --jobs 1 --no-report --set llm.base_url= \
        --set "baselines=[\"$2\"]" --set "episodes.seeds={\"count\": $seeds}" 2>/dev/null
}
run warm knn-imitation      # generate the demonstrations into the store first
t0=$(now); run zero zero; t1=$(now); run expert expert; t2=$(now)
run knn knn-imitation; t3=$(now)
echo "retrieval measures: paper.json, $seeds seeds x 3 scenarios x 24 steps = $steps steps per arm"
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v n="$steps" 'BEGIN {
    z = b - a; e = c - b; k = d - c
    printf "  zero policy (env step + storage):         %7.3f s  %7.1f us/step\n", z, 1e6 * z / n
    printf "  expert policy (MPC):                      %7.3f s  %7.1f us/step\n", e, 1e6 * e / n
    printf "  knn-imitation, measured (incl. the index): %6.3f s  %7.1f us/step\n", k, 1e6 * k / n
    printf "  knn-imitation / expert: %.2fx   knn-imitation / zero: %.1fx\n", k / e, k / z
}'
