#!/bin/sh
# Report benchmark: the cost of the robust statistics (IQM, normalized scores, probability of
# improvement, each with its stratified bootstrap interval) on a run of 12 arms x 8 scenarios
# x 16 seeds. Baseline timed in the same run: the same report with report.bootstrap=0 (reading
# results.sqlite, means, Student t intervals, paired differences, summary.csv, the table).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
FEWSHOT=${FEWSHOT:-$top_builddir/fewshot}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fewshot-bench.XXXXXX")
FEWSHOT_PLUGIN_PATH="$top_builddir/tests/plugins/.libs"
FEWSHOT_GNUPLOT=
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT
trap 'cd /; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }

cat > bench.json <<'JSON'
{"env": {"plugin": "room", "params": {"horizon": 4}},
 "scenarios": {"grid": {"outdoor": [-5, 0, 3, 6, 9, 12, 15, 18]}},
 "arms": [],
 "baselines": ["zero", "expert", "random", "const:0.1", "const:0.2", "const:0.3", "const:0.4",
               "const:0.5", "const:0.6", "const:0.7", "const:0.8", "const:0.9"],
 "report": {"plots": false},
 "episodes": {"seeds": {"count": 16}}}
JSON
"$FEWSHOT" sweep bench.json -o run --no-report 2>/dev/null || { echo "report bench: sweep failed"; exit 1; }
episodes=$("$FEWSHOT" report run --episodes | awk 'END {print NR - 1}')
# CPU seconds (user + system) per report, the mean of 3: steadier than wall time on a
# shared machine; wall time where GNU time is missing
time_report() {
    if [ -x /usr/bin/time ]; then
        for i in 1 2 3; do
            /usr/bin/time -f '%U %S' -o cpu.txt "$FEWSHOT" report run --no-plots -o out \
                --set report.bootstrap=$1 > /dev/null
            cat cpu.txt
        done | awk '{s += $1 + $2} END {printf "%.3f", s / 3}'
        return
    fi
    t0=$(now)
    for i in 1 2 3; do "$FEWSHOT" report run --no-plots -o out --set report.bootstrap=$1 > /dev/null; done
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 3}'
}
t0=$(time_report 0)
t2k=$(time_report 2000)
t10k=$(time_report 10000)
echo "report: $episodes episodes, 12 arms x 8 scenarios x 16 seeds, 108 rows (CPU seconds, mean of 3 runs)"
awk -v a="$t0" -v b="$t2k" -v c="$t10k" 'BEGIN {
    printf "  no bootstrap (baseline):        %7.3f s\n", a
    printf "  bootstrap 2000 (the default):   %7.3f s  %.1fx the baseline\n", b, b / a
    printf "  bootstrap 10000:                %7.3f s  %.1fx the baseline\n", c, c / a
}'
