#!/bin/sh
# Output directories that are not directories: an empty name (once a heap overflow in
# make_dir), a regular file, a path under a regular file. Each is a clear error, exit 2 or 1,
# and nothing is created.
. "$top_srcdir/tests/lib.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
export FEWSHOT_PLUGIN_PATH
cd "$TMP" || exit 1
cat > base.json <<'JSON'
{"env": {"plugin": "room", "params": {"horizon": 3}},
 "scenarios": [{"name": "cold", "params": {"outdoor": 0}}],
 "arms": [], "baselines": ["zero"], "episodes": {"seeds": [1]}}
JSON
expect_status 2 "sweep -o ''" -- run_fewshot sweep base.json -o ''
expect_grep 'the run directory name is empty' "$TMP/err" "sweep: empty -o named"
expect_status 0 "a run to merge" -- run_fewshot sweep base.json -o run
expect_status 2 "merge -o ''" -- run_fewshot merge run -o ''
expect_grep 'the run directory name is empty' "$TMP/err" "merge: empty -o named"
: > plain
expect_status 2 "sweep -o FILE" -- run_fewshot sweep base.json -o plain
expect_grep '^fewshot: plain: not a directory$' "$TMP/err" "sweep -o FILE says not a directory"
expect_status 2 "merge -o FILE" -- run_fewshot merge run -o plain
expect_grep '^fewshot: plain: not a directory$' "$TMP/err" "merge -o FILE says not a directory"
[ -f plain ] && [ ! -s plain ] && pass || fail "the file given as -o was changed"
# a directory without a run may hold other files, but not one the run would replace: a config
# kept as DIR/config.json, a summary or plot of something else
mkdir kept && cp base.json kept/config.json
expect_status 2 "sweep into a directory holding config.json" -- run_fewshot sweep kept/config.json -o kept
expect_grep '^fewshot: kept: not a run directory \(no results.sqlite\), and it holds config.json, which a run would replace' "$TMP/err" "the file named"
cmp -s base.json kept/config.json && [ ! -e kept/results.sqlite ] && pass || fail "the kept config was changed, or a run was started"
mkdir plots && echo '# mine' > plots/trace-zero.gp
expect_status 2 "merge into a directory holding a plot" -- run_fewshot merge run -o plots
expect_grep 'plots: not a run directory .*holds trace-zero.gp' "$TMP/err" "the plot named"
mkdir notes && echo mine > notes/NOTES.md
expect_status 0 "a directory with other files" -- run_fewshot sweep base.json -o notes
[ "$(cat notes/NOTES.md)" = mine ] && [ -s notes/results.sqlite ] && pass || fail "a run beside other files"
expect_status 0 "and its resume" -- run_fewshot sweep base.json -o notes
finish
