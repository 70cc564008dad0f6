#!/bin/sh
# One sweep per run directory, and signals. A second sweep on a directory in use exits 2
# naming the process that holds it; SIGTERM, SIGINT and SIGHUP end a sweep cleanly: the
# finished episodes are committed, a line says how to resume, the exit status is 128 + the
# signal (fewshot-sweep(1)). The LLM is the test server answering every request after 250 ms.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/llm-server/start.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
FEWSHOT_GNUPLOT=
XDG_CACHE_HOME=$TMP/cache
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT XDG_CACHE_HOME
cd "$TMP" || exit 1
start_llm_server --mode controller
cat > slow.json <<JSON
{"env": {"plugin": "room", "params": {"horizon": 3}},
 "demos": {"episodes": 1, "steps": 3, "seed": 100},
 "selection": {"knn": 1},
 "llm": {"base_url": "http://127.0.0.1:$LLM_PORT/mode=controller,delay=250/v1",
         "model": "test", "cache": {"mode": "off"}},
 "arms": [{"name": "llm"}], "baselines": [],
 "episodes": {"seeds": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]}}
JSON
expect_status 0 "the config checks" -- run_fewshot sweep slow.json --dry-run -o run

# start a sweep, wait until it holds the lock and has committed an episode (3 calls, 0.75 s)
start_sweep() { # signal-test-name
    # a background job of a script ignores SIGINT; give it the default a terminal would
    env --default-signal=INT,HUP "$FEWSHOT" sweep slow.json -o "$1" --jobs 1 > "$1.out" 2> "$1.err" &
    pid=$!
    i=0
    while ! grep -q "^process $pid," "$1/lock" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 500 ] || break; sleep 0.01
    done
    sleep 1.2
}

# one shard of the same sweep, to merge into the directory in use below
expect_status 0 "a shard" -- run_fewshot sweep slow.json -o shard --shard 1/16 --jobs 1 --no-report
start_sweep run
expect_status 2 "a second sweep on a directory in use" -- run_fewshot sweep slow.json -o run --jobs 1
expect_grep "^fewshot: run: this run directory is in use by another sweep \\(process $pid, since [0-9T:-]+Z\\)" "$TMP/err" "the holder is named"
expect_status 2 "a merge into a directory in use" -- run_fewshot merge shard -o run
expect_grep "^fewshot: run: this run directory is in use by another sweep \\(process $pid" "$TMP/err" "merge names the holder"
kill -TERM $pid
wait $pid
got=$?
[ "$got" = 143 ] && pass || fail "SIGTERM: exit $got, expected 143"
expect_grep '^fewshot: run: interrupted: [1-9][0-9]* episodes finished and committed in this run, 1 in flight dropped' "$TMP/run.err" "SIGTERM: what was kept"
expect_grep '^fewshot: resume with: fewshot sweep slow.json -o run --jobs 1$' "$TMP/run.err" "SIGTERM: how to resume"
expect_status 0 "dry run after SIGTERM" -- run_fewshot sweep slow.json --dry-run -o run
expect_grep '^episodes: 16, [1-9][0-9]* already finished$' "$TMP/out" "SIGTERM: finished episodes committed"
# the lock went with the process: the directory is free again
[ ! -s run/lock ] && pass || fail "the lock file still names a holder after the sweep ended"

for sig in INT:2 HUP:1; do
    num=${sig#*:}; sig=${sig%:*}
    start_sweep "run-$sig"
    kill -$sig $pid
    wait $pid
    got=$?
    want=$((128 + num))
    [ "$got" = "$want" ] && pass || fail "SIG$sig: exit $got, expected $want"
    expect_grep 'interrupted: [1-9][0-9]* episodes finished and committed' "$TMP/run-$sig.err" "SIG$sig: what was kept"
    expect_grep "resume with: fewshot sweep slow.json -o run-$sig --jobs 1" "$TMP/run-$sig.err" "SIG$sig: how to resume"
done
finish
