#!/bin/sh
# hvac benchmark, CPU time (the machine may be shared): step rates against NumPy steps of the
# same matrices timed in the same run (model update alone; BEAR's per-step work against our
# library env step), model build time, MPC decision time for OfficeMedium with a 6-hour
# horizon, also in environment steps. Aims: >= 50x, MPC < 5 ms.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
PYTHON3=${PYTHON3:-/usr/bin/python3}
FEWSHOT_PLUGIN_PATH=$top_builddir/plugins/.libs
export FEWSHOT_PLUGIN_PATH
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fewshot-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$top_builddir/tests/bench/hvac_bench" "$tmp" > "$tmp/c.txt"
cat "$tmp/c.txt"
# environment creation: the first of a weather year against later ones sharing it
"$top_builddir/tests/bench/hvac_bench" create | awk '{split($3, f, "="); split($4, s, "=");
    printf "OfficeMedium create, %s: first %.3f ms (loads the year), then %.3f ms sharing it (%.1fx)\n",
        $2, f[2], s[2], (s[2] > 0 ? f[2] / s[2] : 0)}'
while read -r name zones build model env first mean max json context; do
    set -- $("$PYTHON3" "$top_srcdir/tests/bench/hvac_numpy.py" "$tmp/$name.matrices")
    awk -v name="$name" -v c="${model#*=}" -v e="${env#*=}" -v pm="$1" -v pe="$2" 'BEGIN {
        printf "%s: model step: C %.0f/s, NumPy %.0f/s, %.1fx; env step: C (library) %.0f/s, NumPy (BEAR step) %.0f/s, %.1fx\n",
            name, c, pm, c / pm, e, pe, e / pe}'
    echo "$name: $zones; model $build; MPC horizon 6: first decision (builds the QP) $first, $mean, $max"
    # the MPC expert against an environment step timed in the same run: the retrieval
    # measures consult it once per LLM decision (fewshot-selection(7), agreement)
    awk -v name="$name" -v e="${env#*=}" -v s="${mean#*=}" 'BEGIN {
        printf "%s: MPC expert solve %.1f us = %.0f env steps\n", name, 1e3 * s, 1e-3 * s * e}'
    awk -v name="$name" -v c="${model#*=}" -v e="${env#*=}" -v j="${json#*=}" 'BEGIN {
        printf "%s: env step %.3f us (terms as numbers; aim for OfficeMedium < 0.4 us), %.3f us with the terms as JSON (%.2fx), model step alone %.3f us (env/model %.2fx)\n",
            name, 1e6 / e, 1e6 / j, (j > 0 ? e / j : 0), 1e6 / c, c / e}'
    awk -v name="$name" -v e="${env#*=}" -v x="${context#*=}" 'BEGIN {
        printf "%s: translator context %.2f us (%.0fx an env step)\n", name, x, x * e / 1e6}'
done < "$tmp/c.txt"
