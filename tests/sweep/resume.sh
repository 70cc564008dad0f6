#!/bin/sh
# kill -9 in the middle of a sweep, rerun it on the same directory, and the results equal an
# uninterrupted run's: finished episodes kept, nothing duplicated or lost.
. "$top_srcdir/tests/lib.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
FEWSHOT_GNUPLOT=
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT
cd "$TMP" || exit 1

# long episodes (many step rows per transaction) so the kill lands mid-sweep
cat > long.json <<'JSON'
{
  "env": {"plugin": "room", "params": {"horizon": 1500}},
  "scenarios": [{"name": "cold", "params": {"outdoor": 0}},
                {"name": "mild", "params": {"outdoor": 10}}],
  "arms": [],
  "baselines": ["zero", "expert", "random", "const:0.2"],
  "episodes": {"seeds": {"count": 8}}
}
JSON
total=64

expect_status 0 "uninterrupted sweep" -- run_fewshot sweep long.json -o whole --no-report
run_fewshot report whole --episodes > whole.csv
[ "$(wc -l < whole.csv)" -eq $((total + 1)) ] && pass || fail "uninterrupted run: expected $total episodes"

killed=no
for attempt in 1 2 3; do
    rm -rf cut
    "$FEWSHOT" sweep long.json -o cut --jobs 8 --no-report 2> sweep.err &
    pid=$!
    # wait until a few episodes are committed, then kill -9 while others are in flight
    n=0
    for i in $(seq 1 400); do
        n=$(run_fewshot report cut --episodes 2>/dev/null | tail -n +2 | wc -l)
        [ "$n" -ge 3 ] && break
        sleep 0.02
    done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    done_now=$(run_fewshot report cut --episodes 2>/dev/null | tail -n +2 | wc -l)
    if [ "$done_now" -ge 1 ] && [ "$done_now" -lt $total ]; then killed=yes; break; fi
done
[ "$killed" = yes ] && pass || fail "could not kill the sweep mid-run ($done_now of $total done)"
echo "killed after $done_now of $total episodes"

expect_status 0 "resume after kill -9" -- run_fewshot sweep long.json -o cut --no-report
expect_grep "$((total - done_now)) episodes run, $done_now already done, 0 failed" "$TMP/err" "resume ran only the rest"
run_fewshot report cut --episodes > cut.csv
cmp -s whole.csv cut.csv && pass || { fail "resumed results differ from the uninterrupted run"; diff whole.csv cut.csv | head -5 >&2; }
# the ids are unique and the summaries agree
[ "$(cut -d, -f1 cut.csv | sort | uniq -d | wc -l)" -eq 0 ] && pass || fail "duplicated episodes"
run_fewshot report whole > /dev/null
run_fewshot report cut > /dev/null
cmp -s whole/summary.csv cut/summary.csv && pass || fail "summaries differ"
# every episode kept all its steps
if command -v sqlite3 > /dev/null 2>&1; then
    rows=$(sqlite3 cut/results.sqlite "SELECT count(*) FROM steps")
    [ "$rows" -eq $((total * 1500)) ] && pass || fail "steps table has $rows rows, expected $((total * 1500))"
fi

# a run directory made before the retrieval-measure columns (demos_distinct, demos_agreement,
# demos_distance) resumes and merges: its tables get the columns on open
if command -v sqlite3 > /dev/null 2>&1 && sqlite3 :memory: "CREATE TABLE t(a, b);
        ALTER TABLE t DROP COLUMN b" 2> /dev/null; then
    cp -r whole old
    sqlite3 old/results.sqlite "ALTER TABLE episodes DROP COLUMN demos_distinct;
        ALTER TABLE episodes DROP COLUMN demos_agreement; ALTER TABLE steps DROP COLUMN
        demos_distinct; ALTER TABLE steps DROP COLUMN demos_agreement; ALTER TABLE steps DROP
        COLUMN demos_distance; DELETE FROM steps WHERE episode LIKE 'zero/%';
        DELETE FROM episodes WHERE arm = 'zero'"
    expect_status 0 "resume a run made before the measure columns" -- \
        run_fewshot sweep long.json -o old --no-report
    expect_grep "16 episodes run, 48 already done, 0 failed" "$TMP/err" "the old run resumed"
    run_fewshot report old --episodes > old.csv
    cmp -s whole.csv old.csv && pass || fail "the upgraded run's results differ"
    cp -r whole old2
    sqlite3 old2/results.sqlite "ALTER TABLE episodes DROP COLUMN demos_distinct"
    cksum old2/results.sqlite > old2.sum
    expect_status 0 "merge an old run" -- run_fewshot merge old2 -o merged
    run_fewshot report merged --episodes > merged.csv
    cmp -s whole.csv merged.csv && pass || fail "the merged old run differs"
    # the old run is only read: it keeps its schema, the missing column merged as NULL
    cksum old2/results.sqlite | cmp -s old2.sum - && pass || fail "merge upgraded its input in place"
    [ "$(sqlite3 merged/results.sqlite "SELECT count(*) FROM episodes WHERE demos_distinct IS NOT NULL")" = 0 ] &&
        pass || fail "the old run's missing column did not merge as NULL"
fi
finish
