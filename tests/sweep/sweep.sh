#!/bin/sh
# `fewshot sweep|report|merge` with baselines on the test plugin `room`: config errors with
# JSON paths, --set, the plan, summary.csv checked against a direct computation from
# `fewshot env rollout`, resume, refusing another config's directory, shards + merge equal
# an unsharded run, skipped LLM arms, plots.
. "$top_srcdir/tests/lib.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
export FEWSHOT_PLUGIN_PATH
cd "$TMP" || exit 1

cat > base.json <<'JSON'
{
  "name": "baselines",
  "env": {"plugin": "room", "params": {"horizon": 10}},
  "scenarios": [{"name": "cold", "params": {"outdoor": 0}},
                {"name": "mild", "params": {"outdoor": 10}}],
  "arms": [],
  "baselines": ["zero", "expert", "random", "const:0.3"],
  "design": {"reference": "zero"},
  "episodes": {"seeds": [1, 2, 3, 4]}
}
JSON

# ---- config errors: JSON path, file:line:column, exit 2
printf '{\n  "env": {"plugin": "room"},\n  "selection": {"knn": "four"}\n}\n' > bad1.json
expect_status 2 "wrong type" -- run_fewshot sweep bad1.json
expect_grep '^fewshot: bad1.json: \$\.selection\.knn: expected an integer, found a string$' "$TMP/err" "type error names the path"
printf '{\n  "env": {"plugin": "room"},\n  "llm": {"model": "x",}\n}\n' > bad2.json
expect_status 2 "syntax error" -- run_fewshot sweep bad2.json
expect_grep '^fewshot: bad2.json:3:[0-9]+: ' "$TMP/err" "syntax error names line and column"
printf '{"env": {"plugin": "room"}, "baselines": ["zero"], "episodes": {"sedes": [1]}}' > bad3.json
expect_status 2 "unknown key" -- run_fewshot sweep bad3.json
expect_grep "\\\$\\.episodes\\.sedes: unknown key 'sedes' \\(known: seeds, steps, reset\\)" "$TMP/err" "unknown key"
# names go into tables and terminals: no control characters; and no error message passes
# a control byte from a file on to the terminal
printf '{"env": {"plugin": "room"}, "scenarios": [{"name": "a\\u001b[31mred"}], "baselines": ["zero"]}' > badname.json
expect_status 2 "a control character in a scenario name" -- run_fewshot sweep badname.json --dry-run
expect_grep '\$\.scenarios\[0\]\.name: the scenario name has a control character \(byte 0x1b at 1\)' "$TMP/err" "the name's byte is named"
printf '{"env": {"plugin": "room"}, "baselines": ["zero"], "x\\u001b[2J": 1}' > badkey.json
expect_status 2 "a control character in an unknown key" -- run_fewshot sweep badkey.json --dry-run
expect_grep "unknown key 'x\?\[2J'" "$TMP/err" "the key is printed without its control byte"
if grep -q "$(printf '\033')" "$TMP/err"; then fail "an escape byte reached stderr"; else pass; fi
expect_status 2 "bad --set" -- run_fewshot sweep base.json --set selection.knn=-1 --dry-run
expect_grep '\$\.selection\.knn: --set selection\.knn=-1: must not be negative' "$TMP/err" "--set error"
expect_status 2 "bad baseline" -- run_fewshot sweep base.json --set 'baselines=["zero","magic"]' -o run-bad
expect_grep "arm magic: unknown policy 'magic'" "$TMP/err" "bad baseline policy"
[ ! -e run-bad ] && pass || fail "a refused config created its run directory"
expect_status 2 "bad env parameter" -- run_fewshot sweep base.json --set env.params.tau='"x"' --dry-run
expect_grep "scenario cold: room: parameter 'tau' must be a number" "$TMP/err" "env parameter error"
expect_status 2 "missing config" -- run_fewshot sweep nosuch.json
expect_grep 'nosuch.json: cannot open config' "$TMP/err" "missing config"
expect_status 2 "bad shard" -- run_fewshot sweep base.json --shard 3/2
expect_status 2 "no config" -- run_fewshot sweep

# ---- dry run: the plan, nothing written
expect_status 0 "dry run" -- run_fewshot sweep base.json --dry-run -o dry
expect_grep '^episodes: 32, 0 already finished$' "$TMP/out" "dry run episode count"
expect_grep '^  const:0\.3 +policy const:0\.3$' "$TMP/out" "dry run lists arms"
[ ! -e dry ] && pass || fail "dry run wrote a directory"
expect_status 0 "dry run with --set" -- run_fewshot sweep base.json --dry-run --set 'episodes.seeds=[7]'
expect_grep '^episodes: 8, ' "$TMP/out" "--set changes the plan"

# ---- the sweep and its report
expect_status 0 "sweep" -- run_fewshot sweep base.json -o run
expect_grep '32 episodes run, 0 already done, 0 failed, 0 skipped' "$TMP/err" "sweep summary line"
expect_grep '^arm +scenario +n +reward \(95% CI\) +IQM +vs zero \(95% CI\) +P\(>zero\) +score \[95% CI\]$' "$TMP/out" "table header"
expect_grep '^expert +all +8 ' "$TMP/out" "table has per-arm totals"
[ -f run/config.json ] && pass || fail "no resolved config in the run directory"
head -1 run/summary.csv | grep -q '^arm,scenario,episodes,reward_mean,reward_ci95,llm_calls,comfort_mean,energy_mean,prompt_tokens,completion_tokens,cost,parse_failure_rate,cache_hits' \
    && pass || fail "summary.csv header: $(head -1 run/summary.csv)"
[ "$(wc -l < run/summary.csv)" -eq 13 ] && pass || fail "summary.csv: expected 8 rows and 4 all rows"
run_fewshot report run --episodes > episodes.csv
[ "$(wc -l < episodes.csv)" -eq 33 ] && pass || fail "expected 32 episodes"

# Direct computation: each episode's reward equals a rollout of the same policy and seed, and
# the summary's mean, 95% CI (t = 3.18244631 for 3 degrees of freedom) and paired difference
# follow from those rewards.
for arm in zero expert; do
    for s in 1 2 3 4; do
        run_fewshot env rollout room -p horizon=10 -p outdoor=0 --policy $arm --seed $s \
            | awk -F, -v a=$arm -v s=$s 'NR > 1 {r += $2} END {printf "%s %s %.12g\n", a, s, r}'
    done
done > direct.txt
awk -F, '$3 == "cold" && ($2 == "zero" || $2 == "expert") {printf "%s %s %.12g\n", $2, $4, $7}' \
    episodes.csv > stored.txt
if awk 'NR == FNR {d[$1 " " $2] = $3; next}
        {x = d[$1 " " $2]; if (x == "" || (x - $3) ^ 2 > 1e-12 * (x ^ 2 + 1)) bad = 1; n++}
        END {exit bad || n != 8}' direct.txt stored.txt
then pass; else fail "episode rewards differ from direct rollouts"; paste direct.txt stored.txt >&2; fi
awk -v t=3.18244631 '
    $1 == "zero" {z[$2] = $3} $1 == "expert" {e[$2] = $3}
    END {
        for (s = 1; s <= 4; s++) {m += e[s]; d = e[s] - z[s]; dm += d}
        m /= 4; dm /= 4
        for (s = 1; s <= 4; s++) {v += (e[s] - m) ^ 2; d = e[s] - z[s] - dm; dv += d ^ 2}
        printf "%.10g %.10g %.10g %.10g\n", m, t * sqrt(v / 3) / 2, dm, t * sqrt(dv / 3) / 2
    }' direct.txt > want.txt
awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i}
         $1 == "expert" && $2 == "cold" {print $c["reward_mean"], $c["reward_ci95"], $c["diff_mean"], $c["diff_ci95"], $c["pairs"]}' \
    run/summary.csv > got.txt
if awk 'NR == FNR {for (i = 1; i <= 4; i++) w[i] = $i; next}
        {for (i = 1; i <= 4; i++) if ((w[i] - $i) ^ 2 > 1e-14 * (w[i] ^ 2 + 1)) bad = 1; if ($5 != 4) bad = 1}
        END {exit bad}' want.txt got.txt
then pass; else fail "summary statistics: want $(cat want.txt), got $(cat got.txt)"; fi
# the reference row has no difference columns
awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i}
         $1 == "zero" && $2 == "cold" {exit !($c["diff_mean"] == "" && $c["pairs"] == 0)}' run/summary.csv \
    && pass || fail "the reference row compares with itself"

# ---- plots
[ -f run/arms.dat ] && [ -f run/arms.gp ] && [ -f run/trace-expert.gp ] && [ -f run/trace-const_0.3.dat ] \
    && pass || fail "plot data and scripts missing"
grep -q "22 with lines dashtype 2" run/trace-zero.gp && pass || fail "trace plot lacks the target"
if command -v gnuplot > /dev/null 2>&1; then
    grep -q '<svg' run/arms.svg && grep -q '<svg' run/trace-zero.svg && pass || fail "gnuplot did not render SVGs"
fi
rm -f run/*.svg
FEWSHOT_GNUPLOT= run_fewshot report run > /dev/null
[ ! -e run/arms.svg ] && pass || fail "FEWSHOT_GNUPLOT= still rendered"

# ---- resume: nothing to do; another config's directory is refused
expect_status 0 "rerun" -- run_fewshot sweep base.json -o run
expect_grep '0 episodes run, 32 already done' "$TMP/err" "rerun resumes"
run_fewshot report run --episodes > episodes2.csv
cmp -s episodes.csv episodes2.csv && pass || fail "rerun changed the results"
expect_status 2 "other config" -- run_fewshot sweep base.json -o run --set 'episodes.seeds=[1,2]'
expect_grep 'holds results of a different config .*differing sections: episodes' "$TMP/err" "mismatch message"
expect_status 2 "other config, dry run" -- run_fewshot sweep base.json -o run --set 'episodes.seeds=[1,2]' --dry-run
# execution-only LLM settings may change between runs; what a reply depends on may not
expect_status 0 "rerun with other LLM limits" -- run_fewshot sweep base.json -o run --set llm.concurrency=2 --set llm.rpm=60 --set llm.api_key_env=OTHER_KEY
expect_grep '0 episodes run, 32 already done' "$TMP/err" "execution settings keep the run's identity"
# so may the report's settings; a run recorded under another hash of the same identity (made
# before a setting stopped counting) resumes and takes this config's record
expect_status 0 "rerun with other report settings" -- run_fewshot sweep base.json -o run \
    --set report.plots=false --no-report
expect_grep '0 episodes run, 32 already done' "$TMP/err" "report settings keep the run's identity"
if command -v sqlite3 > /dev/null 2>&1; then
    sqlite3 run/results.sqlite "SELECT value FROM run WHERE key = 'config'" | grep -q '"plots": *false' &&
        pass || fail "the run's record does not follow the resumed config's report settings"
fi
if command -v sqlite3 > /dev/null 2>&1; then
    hash=$(sqlite3 run/results.sqlite "SELECT value FROM run WHERE key = 'config_hash'")
    sqlite3 run/results.sqlite \
        "UPDATE run SET value = '\"$(printf '%064d' 0)\"' WHERE key = 'config_hash'"
    expect_status 0 "rerun of a run recorded under an older hash" -- run_fewshot sweep \
        base.json -o run --no-report
    expect_grep '0 episodes run, 32 already done' "$TMP/err" "the same identity resumes"
    [ "$(sqlite3 run/results.sqlite "SELECT value FROM run WHERE key = 'config_hash'")" = \
      "$hash" ] && pass || fail "the run did not take this config's hash"
fi
expect_status 2 "other temperature" -- run_fewshot sweep base.json -o run --set llm.temperature=0.7
expect_grep 'differing sections: llm' "$TMP/err" "a result-changing LLM setting is refused"

# ---- shards and merge equal the unsharded run
for i in 1 2 3; do
    expect_status 0 "shard $i/3" -- run_fewshot sweep base.json --shard $i/3 -o shard$i --no-report
done
# the shards are only read: their files stay as they were
tree_state() { for d in "$@"; do (cd "$d" && ls -a && cksum results.sqlite); done; }
tree_state shard1 shard2 shard3 > shards.before
expect_status 0 "merge" -- run_fewshot merge shard1 shard2 shard3 -o merged
tree_state shard1 shard2 shard3 > shards.after
cmp -s shards.before shards.after && pass || { fail "merge changed its input shards"; diff shards.before shards.after >&2; }
expect_grep 'merged 32 episodes into merged' "$TMP/err" "merge count"
run_fewshot report merged --episodes > merged.csv
cmp -s episodes.csv merged.csv && pass || fail "merged shards differ from the unsharded run"
cmp -s run/summary.csv merged/summary.csv && pass || fail "merged summary differs"
# a shard killed with episodes still in its write-ahead log, in a directory its reader cannot
# write (an archive, another user's run; run as nobody, since root writes anywhere): with the
# log's index (-shm) beside it the log is read; without it the log cannot be read there, so
# the merge is refused instead of silently leaving those episodes out
PY=${PYTHON3:-/usr/bin/python3}
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null 2>&1 && command -v sqlite3 > /dev/null 2>&1 &&
        "$PY" -c 'import sqlite3' 2> /dev/null; then
    chmod 711 "$TMP"
    for shm in kept removed; do
        rm -rf walshard && cp -r shard1 walshard && rm -f walshard/lock
        "$PY" -c "import os, sqlite3
d = sqlite3.connect('walshard/results.sqlite')
d.execute('PRAGMA journal_mode=WAL')
d.execute(\"UPDATE episodes SET error = 'from the log'\")
d.commit()
os._exit(0)    # no checkpoint: the change stays in results.sqlite-wal"
        [ -s walshard/results.sqlite-wal ] || fail "the test could not leave a write-ahead log"
        [ $shm = kept ] || rm -f walshard/results.sqlite-shm
        chmod -R a-w walshard && chmod a+rx walshard && chmod a+r walshard/*
        out=$(mktemp -d "$TMP/nobody.XXXXXX") && chmod 777 "$out"
        setpriv --reuid=nobody --regid=nogroup --clear-groups "$FEWSHOT" merge "$TMP/walshard" \
            -o "$out/m" > "$TMP/out" 2> "$TMP/err"
        rc=$?
        if [ $shm = kept ]; then
            [ $rc = 0 ] && [ "$(sqlite3 "$out/m/results.sqlite" "SELECT count(*) FROM episodes
                WHERE error = 'from the log'")" -gt 0 ] && pass ||
                fail "the shard's write-ahead log was not merged (exit $rc): $(cat "$TMP/err")"
        else
            [ $rc -ne 0 ] && grep -q "write-ahead log cannot be read here" "$TMP/err" && pass ||
                fail "a shard with an unreadable write-ahead log merged (exit $rc): $(cat "$TMP/err")"
        fi
        chmod -R u+w walshard
    done
    chmod 700 "$TMP"
fi
# merging again adds nothing; a partial merge can be completed by resuming the sweep
expect_status 0 "merge again" -- run_fewshot merge shard1 shard2 -o merged
expect_grep 'merged 0 episodes' "$TMP/err" "merge is idempotent"
expect_status 0 "partial merge" -- run_fewshot merge shard1 -o partial
expect_status 0 "complete a partial merge" -- run_fewshot sweep base.json -o partial --no-report
run_fewshot report partial --episodes > partial.csv
cmp -s episodes.csv partial.csv && pass || fail "completed partial merge differs"
# the datasets the shards' arms used (demos.json) merge too, as the unsharded run noted them
cat > demos.json.cfg <<'JSON'
{"name": "note", "env": {"plugin": "room", "params": {"horizon": 6}},
 "demos": {"episodes": 2, "steps": 6, "seed": 5},
 "scenarios": [{"name": "cold", "params": {"outdoor": 0}},
               {"name": "warm", "params": {"outdoor": 30}}],
 "arms": [], "baselines": ["zero", "knn-imitation"], "design": {"reference": "zero"},
 "episodes": {"seeds": [1, 2]}}
JSON
run_fewshot sweep demos.json.cfg -o note-all --no-report 2>/dev/null
for i in 1 2; do run_fewshot sweep demos.json.cfg --shard $i/2 -o note$i --no-report 2>/dev/null; done
expect_status 0 "merge shards with datasets" -- run_fewshot merge note1 note2 -o note-merged
[ -s note-all/demos.json ] && cmp -s note-all/demos.json note-merged/demos.json && pass ||
    fail "merged demos.json differs from the unsharded run's: $(cat note-merged/demos.json)"
run_fewshot sweep base.json --set 'episodes.seeds=[9]' -o other --no-report 2>/dev/null
expect_status 2 "merge mismatched configs" -- run_fewshot merge shard1 other -o merged2
expect_grep 'other: this run was made by a different config' "$TMP/err" "merge mismatch message"
expect_status 2 "merge into a mismatched directory" -- run_fewshot merge shard1 -o other
expect_status 2 "merge a non-run" -- run_fewshot merge nosuch -o merged3
expect_grep 'nosuch: not a run directory' "$TMP/err" "merge non-run message"
expect_status 2 "report a non-run" -- run_fewshot report nosuch

# ---- an LLM arm with no LLM configured is skipped; the baselines still run
cat > llm.json <<'JSON'
{"env": {"plugin": "room", "params": {"horizon": 5}}, "baselines": ["zero", "expert"],
 "episodes": {"seeds": [1, 2]}}
JSON
expect_status 0 "skipped LLM arm" -- run_fewshot sweep llm.json -o llmrun
expect_grep 'arm llm skipped: no LLM endpoint is configured: set llm\.base_url and llm\.model' "$TMP/err" "skip reason"
expect_grep '4 episodes run, 0 already done, 0 failed, 2 skipped' "$TMP/err" "skip count"
expect_grep '^expert +default +2 .* \+[0-9.]+ \+- ' "$TMP/out" "baselines compared with the first arm that ran"
expect_grep '^skipped arm llm: ' "$TMP/out" "report names the skipped arm"
OPENAI_API_KEY= ; unset OPENAI_API_KEY
expect_status 0 "missing API key" -- run_fewshot sweep llm.json -o llmrun2 --set llm.base_url=https://api.openai.com/v1 --set llm.model=gpt-4o --set llm.api_key_env=OPENAI_API_KEY
expect_grep 'arm llm skipped: the API key variable OPENAI_API_KEY \(llm\.api_key_env\) is not set' "$TMP/err" "key skip reason"

# a scenario grid whose keys are not in sorted order: the report names its scenarios as the
# sweep did (the stored config keeps the key order), so summary.csv has a row per scenario
# (and the arm's all row)
cat > grid.json <<'JSON'
{"env": {"plugin": "room", "params": {"horizon": 3}},
 "scenarios": {"grid": {"outdoor": [0, 10], "initial": [15, 25]}},
 "arms": [], "baselines": ["zero"], "episodes": {"seeds": [1]}}
JSON
expect_status 0 "grid sweep" -- run_fewshot sweep grid.json -o gridrun --no-report
[ "$(grep -c '^zero,' gridrun/summary.csv)" -eq 5 ] && pass \
    || fail "grid summary rows: $(cat gridrun/summary.csv | head -3)"
grep -q '^zero,"outdoor=0,initial=15",' gridrun/summary.csv && pass \
    || fail "grid scenario names: $(cut -d, -f1-3 gridrun/summary.csv | head -3)"

finish
