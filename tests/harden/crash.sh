#!/bin/sh
# Plugins that crash or lie. A SIGSEGV or abort() inside a plugin call fails only its episode
# (recorded as failed with the signal and the plugin named); the other episodes complete and
# the exit status is 1. Space bounds with low > high and observations outside the space are
# clear errors.
. "$top_srcdir/tests/lib.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
export FEWSHOT_PLUGIN_PATH
cd "$TMP" || exit 1
# The crashing sweeps run the program directly, not under `make check-valgrind`: memcheck
# rightly reports the plugin's deliberate invalid write as an error.
cat > crash.json <<'JSON'
{"env": {"plugin": "crashy"},
 "scenarios": [{"name": "a"}, {"name": "b"}],
 "arms": [], "baselines": ["zero", "random"], "design": {"reference": "zero"},
 "episodes": {"seeds": [1, 2, 3, 4]}}
JSON
expect_status 1 "a sweep with crashing episodes" -- "$FEWSHOT" sweep crash.json -o run --jobs 2
expect_grep 'episode zero/a/2 failed: .*plugin crashy crashed in step\(\) with signal 11 \(SIGSEGV\)' "$TMP/err" "SIGSEGV in step named"
expect_grep 'episode zero/a/3 failed: .*plugin crashy crashed in step\(\) with signal 6 \(SIGABRT\)' "$TMP/err" "abort in step named"
expect_grep '8 episodes run, 0 already done, 8 failed' "$TMP/err" "the other episodes complete"
n=$(sqlite3 run/results.sqlite "SELECT count(*) FROM episodes WHERE status='failed' AND error LIKE '%crashy crashed in step() with signal%'" 2>/dev/null) || n=
if [ -n "$n" ]; then [ "$n" = 8 ] && pass || fail "results.sqlite holds $n crashed episodes, not 8"; fi
# a rerun retries the failed episodes (and they fail the same way), but does not die
expect_status 1 "the rerun" -- "$FEWSHOT" sweep crash.json -o run --jobs 2
expect_grep '0 episodes run, 8 already done, [0-9]+ failed' "$TMP/err" "the rerun completes too"

# a crash in create() during the run (the handle of a crashed episode is replaced) fails
# the one episode that needed the new handle
expect_status 1 "crash in create" -- env FEWSHOT_CRASHY_CREATE=3 "$FEWSHOT" sweep crash.json -o run2
expect_grep 'episode random/a/2 failed: scenario a: plugin crashy crashed in create\(\) with signal 11' "$TMP/err" "create crash named"
expect_grep '8 episodes run, 0 already done, 8 failed' "$TMP/err" "the other episodes of a create crash complete"
# one that crashes while the sweep checks its scenarios stops it with the same words, exit 2
expect_status 2 "crash in the first create" -- env FEWSHOT_CRASHY_CREATE=1 "$FEWSHOT" sweep crash.json -o run5
expect_grep 'scenario a: plugin crashy crashed in create\(\) with signal 11 \(SIGSEGV\)' "$TMP/err" "first create crash named"

# spaces that make no sense, observations outside the space
printf '{"env": {"plugin": "badspace"}, "arms": [], "baselines": ["zero"], "episodes": {"seeds": [1]}}' > bad.json
expect_status 2 "low > high" -- run_fewshot sweep bad.json -o run3
expect_grep 'plugin badspace: spaces\(\) reported observation element 0 with bounds \[1, -1\]: expected low <= high' "$TMP/err" "bad bounds named"
expect_status 2 "env info on a bad space" -- run_fewshot env info badspace
printf '{"env": {"plugin": "outside"}, "arms": [], "baselines": ["zero"], "episodes": {"seeds": [1], "steps": 2}}' > out.json
expect_status 1 "observation outside its space" -- run_fewshot sweep out.json -o run4
expect_grep 'outside: step\(\) returned a bad observation: observation element 0 is 5: above the upper bound' "$TMP/err" "outside observation named"
finish
