#!/bin/sh
# `fewshot report`: every statistic against an independent NumPy computation
# (tests/report/stats_check.py), output formats and the 100-column table, read-only and
# copied run directories, hostile names (no command reaches gnuplot), NULL and non-string
# values in results.sqlite, --trace, --episodes with reward terms.
. "$top_srcdir/tests/lib.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
XDG_CACHE_HOME=$TMP/cache
export FEWSHOT_PLUGIN_PATH XDG_CACHE_HOME
PY=${PYTHON3:-/usr/bin/python3}
cd "$TMP" || exit 1

cat > base.json <<'JSON'
{
  "env": {"plugin": "room", "params": {"horizon": 6}},
  "scenarios": [{"name": "cold", "params": {"outdoor": 0}},
                {"name": "mild", "params": {"outdoor": 10}}],
  "baselines": ["zero", "expert", "random", "const:0.3"],
  "design": {"reference": "zero"},
  "episodes": {"seeds": [1, 2, 3, 4]}
}
JSON
expect_status 0 "sweep" -- run_fewshot sweep base.json -o run --no-report

# ---- formats; the default table fits 100 columns, --wide shows every column
expect_status 0 "table" -- run_fewshot report run --no-plots
awk 'length($0) > 100 {bad = 1} END {exit bad}' "$TMP/out" && pass || fail "table wider than 100 columns"
expect_grep '^expert +all +8 ' "$TMP/out" "table has all rows"
expect_grep '^reproduce: config [0-9a-f]{64}$' "$TMP/out" "table names the config hash"
expect_grep 'libfewshot [0-9.]+, plugin room [^ ]+, seeds \[1,2,3,4\]' "$TMP/out" "versions and seeds"
FEWSHOT_PLUGIN_PATH=$TMP/nowhere run_fewshot report run --no-plots > norepo.txt 2>&1
expect_grep 'plugin room [0-9][^ ]*, seeds' norepo.txt "the plugin version recorded by the sweep"
expect_status 0 "wide" -- run_fewshot report run --no-plots --wide
expect_grep 'prob_improvement_ci95' "$TMP/out" "--wide shows every column"
expect_status 0 "markdown" -- run_fewshot report run --no-plots --format markdown
expect_grep '^\| arm \| scenario \| n \|' "$TMP/out" "markdown header"
expect_grep '^\| :--- \| :--- \| ---: \|' "$TMP/out" "markdown alignment row"
expect_status 0 "latex" -- run_fewshot report run --no-plots --format latex
expect_grep '^\\begin\{tabular\}\{llr' "$TMP/out" "latex tabular"
expect_grep '\$\\pm\$' "$TMP/out" "latex plus-minus"
expect_status 0 "csv" -- run_fewshot report run --no-plots --format csv
cmp -s "$TMP/out" run/summary.csv && pass || fail "--format csv differs from summary.csv"
expect_status 2 "bad format" -- run_fewshot report run --format yaml
expect_grep 'expected table, csv, markdown, latex or json' "$TMP/err" "bad format message"
expect_status 2 "bad --set" -- run_fewshot report run --set episodes.seeds=[1]
expect_grep 'only report\.\* settings' "$TMP/err" "--set outside report"
expect_status 2 "bad --set value" -- run_fewshot report run --set report.bootstrap=-3
expect_grep '\$\.report\.bootstrap' "$TMP/err" "--set report value checked"
head -1 run/summary.csv | grep -q ',pairs,demos_distinct,demos_agreement,reward_iqm,reward_iqm_ci95,score_mean,score_ci_low,score_ci_high,prob_improvement,prob_improvement_ci95' \
    && pass || fail "summary.csv new columns: $(head -1 run/summary.csv)"
[ "$(grep -c ',all,' run/summary.csv)" -eq 4 ] && pass || fail "summary.csv: expected 4 all rows"

# ---- --episodes carries the reward terms
expect_status 0 "episodes" -- run_fewshot report run --episodes
expect_grep '^id,arm,scenario,seed,status,steps,reward,llm_calls,prompt_tokens,completion_tokens,cost,parse_failures,cache_hits,comfort,energy$' "$TMP/out" "episodes header with terms"
awk -F, 'NR > 1 && $2 == "zero" {d = $7 - ($14 + $15); if (d * d > 1e-12 * ($7 * $7 + 1)) bad = 1; n++}
         END {exit bad || n != 8}' "$TMP/out" && pass || fail "reward terms do not sum to the reward"

# ---- traces for a chosen episode, from the plugin's element names
FEWSHOT_GNUPLOT= run_fewshot report run --trace expert,mild,3 > /dev/null 2>"$TMP/err" && pass || fail "--trace"
[ -f run/trace-expert-mild-3.gp ] && [ -f run/trace-expert-mild-3.dat ] && pass || fail "--trace files"
[ "$(grep -vc '^#' run/trace-expert-mild-3.dat)" -eq 6 ] && pass || fail "trace has one line per step"
rm -rf tr && FEWSHOT_GNUPLOT= run_fewshot report run -o tr --set report.plots=false --trace zero,cold,1 > /dev/null
[ -f tr/trace-zero-cold-1.gp ] && [ ! -e tr/arms.gp ] && pass || fail "report.plots=false with --trace: $(ls tr)"
expect_status 2 "--trace without such an episode" -- run_fewshot report run --trace expert,mild,99
expect_grep "no successful episode of arm 'expert' on scenario 'mild' with seed 99" "$TMP/err" "--trace message"
expect_status 2 "--trace malformed" -- run_fewshot report run --trace expert
if command -v gnuplot > /dev/null 2>&1; then
    run_fewshot report run > /dev/null
    for p in arms diffs scores profile trace-zero; do
        grep -q '<svg' run/$p.svg && pass || fail "$p.svg not rendered"
    done
fi

# ---- statistics against NumPy
if "$PY" -c 'import numpy' 2>/dev/null; then
    cp -r run fixed
    if "$PY" "$top_srcdir/tests/report/stats_check.py" "$FEWSHOT" fixed fixed-out > check.txt 2>&1
    then pass; else fail "statistics differ from NumPy"; sed 's/^/  /' check.txt | head -20 >&2; fi
else
    echo "numpy not available: statistics check skipped"
fi

# ---- a read-only run directory: reported, outputs elsewhere; a clear message otherwise.
# As root (which ignores permissions) the reader runs as nobody when setpriv can do that.
cp -r run ro
chmod -R a-w ro
as_reader=
if [ "$(id -u)" = 0 ]; then
    if command -v setpriv > /dev/null 2>&1 && chmod 755 "$TMP" && mkdir -m 777 w; then
        as_reader="setpriv --reuid=65534 --regid=65534 --clear-groups"
    fi
else
    mkdir w
fi
if [ "$(id -u)" = 0 ] && [ -z "$as_reader" ]; then
    echo "root without setpriv: read-only checks skipped"
else
    expect_status 0 "read-only run directory with -o" -- $as_reader "$FEWSHOT" report ro --no-plots -o w/ro-out
    [ -s w/ro-out/summary.csv ] && pass || fail "no summary.csv in -o DIR"
    [ ! -e ro/results.sqlite-shm ] && [ ! -e ro/results.sqlite-wal ] && pass || fail "the reader wrote beside results.sqlite"
    expect_status 1 "read-only run directory without -o" -- $as_reader "$FEWSHOT" report ro --no-plots
    expect_grep 'read-only; give -o DIR' "$TMP/err" "read-only hint"
    # a killed sweep's directory: episodes still in the write-ahead log cannot be read there,
    # and the report says so
    if "$PY" -c 'import sqlite3' 2>/dev/null; then
        cp -r run walrun
        "$PY" -c "
import shutil, sqlite3
d = sqlite3.connect('walrun/results.sqlite')
d.execute('PRAGMA wal_autocheckpoint = 0')
d.execute(\"UPDATE episodes SET reward = reward + 1 WHERE arm = 'zero'\")
d.commit()
shutil.copytree('walrun', 'walcopy')
d.close()"
        # with its index (-shm) a log is read even here; without it, it cannot be
        $as_reader "$FEWSHOT" report walcopy --no-plots -o w/wal-out > wal1.txt 2>&1
        grep -q '^note: results.sqlite-wal' wal1.txt && fail "a readable log was reported missing" || pass
        rm -f walcopy/results.sqlite-shm
        chmod -R a-w walcopy
        expect_status 0 "read-only directory with a write-ahead log" -- $as_reader "$FEWSHOT" report walcopy --no-plots -o w/wal-out
        expect_grep '^note: results.sqlite-wal cannot be read' "$TMP/out" "missing log noted"
        chmod -R u+w walcopy
    fi
fi
chmod -R u+w ro

# ---- hostile names: nothing runs on sweep nor on report of a copied directory
# (a config's names are printable text; a name with a newline gets into a run directory only
# by editing it, done below)
cat > evil.json <<'JSON'
{
  "env": {"plugin": "room", "params": {"horizon": 3}},
  "scenarios": [{"name": "s`touch PWNED_S`'\" x", "params": {"outdoor": 0}},
                {"name": "t $(touch PWNED_T)", "params": {"outdoor": 5}}],
  "arms": [{"name": "a`touch PWNED_A`", "policy": "zero"},
           {"name": "b'`touch PWNED_B`'; system('touch PWNED_C') #", "policy": "expert"}],
  "baselines": ["zero", "expert"],
  "episodes": {"seeds": [1]}
}
JSON
if run_fewshot sweep evil.json -o evil > evil.out 2>&1; then pass; else
    fail "sweep with hostile names"; head -5 evil.out >&2; fi
sed 's/"t $(touch PWNED_T)"/"t\\n`touch PWNED_T`"/' evil.json > evil-nl.json
expect_status 2 "a newline in a name" -- run_fewshot sweep evil-nl.json -o evil-nl
cp -r evil evil-copy
rm -f evil-copy/*.svg evil-copy/*.gp
run_fewshot report evil-copy > /dev/null 2>&1
run_fewshot report evil-copy --trace "a\`touch PWNED_A\`,s\`touch PWNED_S\`'\" x,1" > /dev/null 2>&1
if command -v gnuplot > /dev/null 2>&1; then
    [ -s evil-copy/arms.svg ] && pass || fail "plots with hostile names not rendered"
fi
if "$PY" -c 'import sqlite3' 2>/dev/null; then
    # the second arm's name with newlines, everywhere a directory records it: the report
    # refuses the recorded config, naming the byte
    cp -r evil evil-nl-copy
    "$PY" - evil-nl-copy <<'PY'
import json, sqlite3, sys
d = sqlite3.connect(sys.argv[1] + "/results.sqlite")
old = "b'`touch PWNED_B`'; system('touch PWNED_C') #"
new = "b'`touch PWNED_B`'\nsystem('touch PWNED_C')\n#"
(text,) = d.execute("SELECT value FROM run WHERE key = 'config'").fetchone()
d.execute("UPDATE run SET value = ? WHERE key = 'config'", (text.replace(json.dumps(old)[1:-1],
          json.dumps(new)[1:-1]),))
for table, col in (("episodes", "id"), ("episodes", "arm"), ("steps", "episode")):
    d.execute("UPDATE %s SET %s = replace(%s, ?, ?)" % (table, col, col), (old, new))
d.commit()
PY
    expect_status 2 "report of a directory whose names were given newlines" -- \
        run_fewshot report evil-nl-copy
    expect_grep 'arms\[1\]: the arm name has a control character \(byte 0x0a' "$TMP/err" \
        "the edited name is refused"
fi
[ -z "$(find . -name 'PWNED_?')" ] && pass || fail "a name ran a command through gnuplot: $(find . -name 'PWNED_?')"

# ---- NULL and non-string values in results.sqlite: an error naming the row, no crash
if "$PY" -c 'import sqlite3' 2>/dev/null; then
    for change in "arm = NULL" "scenario = NULL" "status = NULL" "reward = 'x'" "seed = 'x'" "id = NULL" \
        "prompt_tokens = 9223372036854775807" "cost = 1e308 * 10"; do
        rm -rf bad && cp -r run bad
        "$PY" -c "import sqlite3, sys; d = sqlite3.connect('bad/results.sqlite'); d.execute(\"UPDATE episodes SET $change WHERE ord = 2\"); d.commit()"
        expect_status 2 "report with $change" -- run_fewshot report bad --no-plots
        expect_grep 'results\.sqlite: episodes row [0-9]+.*: (arm|scenario|status|reward|seed|id|prompt_tokens|cost) is (null|a string|an integer|a number), expected ' "$TMP/err" "message for $change"
    done
    rm -rf bad && cp -r run bad
    "$PY" -c "import sqlite3; d = sqlite3.connect('bad/results.sqlite'); d.execute(\"UPDATE run SET value = '7' WHERE key = 'config_hash'\"); d.commit()"
    expect_status 2 "non-string config hash" -- run_fewshot report bad --no-plots
    expect_grep 'config_hash is not a string' "$TMP/err" "config hash message"
    expect_status 2 "non-string config hash on sweep" -- run_fewshot sweep base.json -o bad --no-report
    rm -rf bad && cp -r run bad
    "$PY" -c "import sqlite3; d = sqlite3.connect('bad/results.sqlite'); d.execute(\"UPDATE run SET value = '[1]' WHERE key = 'config'\"); d.commit()"
    expect_status 2 "non-object config" -- run_fewshot report bad --no-plots
    expect_grep 'run\.config is an array, expected' "$TMP/err" "config message"
fi
finish
