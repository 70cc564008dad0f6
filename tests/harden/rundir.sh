#!/bin/sh
# A run directory is untrusted input: a results.sqlite whose config_hash is not a string (once
# strcmp(NULL)), whose run table holds text that is not JSON, that is not a database at all
# (once "0 already finished"), or whose episodes have NULL ids is reported or tolerated, never
# a crash. The sweep side; `fewshot report` has its own tests.
. "$top_srcdir/tests/lib.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
FEWSHOT_GNUPLOT=
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT
cd "$TMP" || exit 1
command -v sqlite3 >/dev/null || skip "the sqlite3 program is needed to damage databases"
cat > base.json <<'JSON'
{"env": {"plugin": "room", "params": {"horizon": 3}}, "arms": [], "baselines": ["zero"],
 "episodes": {"seeds": [1, 2]}}
JSON
expect_status 0 "a sweep" -- run_fewshot sweep base.json -o run

cp -r run inthash
sqlite3 inthash/results.sqlite "UPDATE run SET value = '5' WHERE key = 'config_hash'"
expect_status 2 "resume with an integer config_hash" -- run_fewshot sweep base.json -o inthash
expect_grep "inthash/results.sqlite: the run table's config_hash is not a string \\(an integer\\)" "$TMP/err" "integer hash named"
expect_status 2 "dry run with an integer config_hash" -- run_fewshot sweep base.json -o inthash --dry-run
expect_grep "config_hash is not a string \\(an integer\\)" "$TMP/err" "dry run says so too"
expect_status 2 "merge of an integer config_hash" -- run_fewshot merge inthash -o merged
expect_grep "config_hash is not a string \\(an integer\\)" "$TMP/err" "merge says so too"

cp -r run texthash
sqlite3 texthash/results.sqlite "UPDATE run SET value = 'not json{' WHERE key = 'config_hash'"
expect_status 2 "resume with a config_hash that is not JSON" -- run_fewshot sweep base.json -o texthash
expect_grep "config_hash is not a string \(not even JSON\)" "$TMP/err" "unparsable hash named"

mkdir corrupt
head -c 8192 /dev/urandom > corrupt/results.sqlite
expect_status 1 "dry run on a corrupt database" -- run_fewshot sweep base.json -o corrupt --dry-run
expect_grep 'corrupt/results.sqlite: .*(not a database|malformed)' "$TMP/err" "corrupt database named"
grep -q 'already finished' "$TMP/out" && fail "a corrupt database was counted as an empty run" || pass
expect_status 1 "sweep on a corrupt database" -- run_fewshot sweep base.json -o corrupt
expect_grep 'corrupt/results.sqlite: .*(not a database|malformed)' "$TMP/err" "sweep names it too"

cp -r run nullid
# (arm and scenario set: NULL ones in `fewshot report` are the report's own tests)
sqlite3 nullid/results.sqlite "INSERT INTO episodes(id, arm, scenario, status, steps, reward) VALUES (NULL, 'zero', 'default', 'ok', 3, 0)"
# the sweep ignores the row (it matches no planned episode); the report then refuses it
expect_status 1 "resume with a NULL episode id" -- run_fewshot sweep base.json -o nullid
expect_grep '0 episodes run, 2 already done' "$TMP/err" "the NULL row is ignored by the sweep"
expect_grep 'nullid/results.sqlite: episodes row 1: id is null' "$TMP/err" "the report names the row"
finish
