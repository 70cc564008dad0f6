#!/bin/sh
# `fewshot demos generate|info`: files, statistics, several scenarios in one file, errors.
. "$top_srcdir/tests/lib.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
export FEWSHOT_PLUGIN_PATH

expect_status 0 "help demos" -- run_fewshot help demos
expect_grep 'demos generate ENV' "$TMP/out" "usage"

expect_status 0 "generate" -- run_fewshot demos generate room -p horizon=6 --episodes 3 \
    --seed 4 -o "$TMP/d.jsonl"
[ "$(wc -l < "$TMP/d.jsonl")" -eq 19 ] && pass || fail "expected a header and 18 transitions"
expect_grep '^\{"fewshot_demos": ?1,.*"plugin": ?"room".*"policy": ?"expert"' "$TMP/d.jsonl" "header"
expect_grep '"episode": ?2, ?"step": ?5,' "$TMP/d.jsonl" "episode ids and steps"
expect_status 0 "info" -- run_fewshot demos info "$TMP/d.jsonl"
[ "$(head -1 "$TMP/out")" = "transitions: 18" ] && pass || fail "info first line: $(head -1 "$TMP/out")"
expect_grep '^episodes: 3$' "$TMP/out" "info episodes"
expect_grep '^scenarios: 1$' "$TMP/out" "info scenarios"
expect_grep '^reward: mean -?[0-9.e-]+ std [0-9.e-]+ min' "$TMP/out" "info reward"
expect_grep '^steps per episode: min 6 max 6$' "$TMP/out" "info steps"
# info's mean reward agrees with the file
mean=$(grep -o '"reward": \?-\?[0-9.e+-]*' "$TMP/d.jsonl" | sed 's/.*: *//' \
       | awk '{s+=$1} END {printf "%.6g", s/NR}')
expect_grep "^reward: mean $mean " "$TMP/out" "info mean reward = file's mean ($mean)"

# the same seed gives the same file; another seed another one
run_fewshot demos generate room -p horizon=6 --episodes 3 --seed 4 -o "$TMP/d2.jsonl"
cmp -s "$TMP/d.jsonl" "$TMP/d2.jsonl" && pass || fail "generate is not deterministic"
run_fewshot demos generate room -p horizon=6 --episodes 3 --seed 5 -o "$TMP/d3.jsonl"
cmp -s "$TMP/d.jsonl" "$TMP/d3.jsonl" && fail "generate ignores the seed" || pass

# several scenarios in one file; another plugin is refused
expect_status 0 "append" -- run_fewshot demos generate room -p outdoor=30 -p horizon=4 \
    --policy zero --append -o "$TMP/d.jsonl"
expect_status 0 "info after append" -- run_fewshot demos info "$TMP/d.jsonl"
expect_grep '^transitions: 22$' "$TMP/out" "appended transitions"
expect_grep '^scenarios: 2$' "$TMP/out" "two scenarios"
expect_grep '^source zero: 4$' "$TMP/out" "sources"
expect_status 2 "append another plugin" -- run_fewshot demos generate rooms --append -o "$TMP/d.jsonl"
expect_grep "plugin 'rooms' to a dataset of plugin 'room'" "$TMP/err" "mismatch message"
expect_status 0 "file unchanged" -- run_fewshot demos info "$TMP/d.jsonl"
expect_grep '^transitions: 22$' "$TMP/out" "nothing half-written"

# --steps limits episodes; rooms with N rooms
expect_status 0 "rooms" -- run_fewshot demos generate rooms -p rooms=5 --steps 2 -o "$TMP/r.jsonl"
expect_grep '"obs": ?\[[^]]*,[^]]*,[^]]*,[^]]*,[^]]*,[^]]*\]' "$TMP/r.jsonl" "5 rooms + outdoor"
[ "$(wc -l < "$TMP/r.jsonl")" -eq 3 ] && pass || fail "--steps 2"

# bad input: file and line named, exit 2
head -3 "$TMP/d3.jsonl" > "$TMP/trunc.jsonl"
sed -n 4p "$TMP/d3.jsonl" | cut -c1-40 | tr -d '\n' >> "$TMP/trunc.jsonl"
expect_status 2 "truncated file" -- run_fewshot demos info "$TMP/trunc.jsonl"
expect_grep "trunc.jsonl:4:[0-9]+: truncated last line" "$TMP/err" "truncation located"
sed '3s/"reward"/"rewards"/' "$TMP/d3.jsonl" > "$TMP/bad.jsonl"
expect_status 2 "unknown field" -- run_fewshot demos info "$TMP/bad.jsonl"
expect_grep "bad.jsonl:3: unknown field 'rewards'" "$TMP/err" "unknown field located"
sed '2s/"obs":\[/"obs":["x",/' "$TMP/d3.jsonl" > "$TMP/bad2.jsonl"
expect_status 2 "bad number" -- run_fewshot demos info "$TMP/bad2.jsonl"
expect_grep 'bad2.jsonl:2: \$\.obs: element 0 is not a number' "$TMP/err" "field named"
expect_status 2 "missing file" -- run_fewshot demos info "$TMP/none.jsonl"
expect_status 2 "missing -o" -- run_fewshot demos generate room
expect_status 2 "unknown env" -- run_fewshot demos generate nosuchenv -o "$TMP/x.jsonl"
[ -e "$TMP/x.jsonl" ] && fail "a failed generate left a file" || pass
expect_status 2 "bad policy" -- run_fewshot demos generate room --policy frobnicate -o "$TMP/x.jsonl"
expect_status 2 "bad subcommand" -- run_fewshot demos frob

# the shared store: a config's plan generated once into $XDG_CACHE_HOME/libfewshot/demos
XDG_CACHE_HOME=$TMP/xdg
export XDG_CACHE_HOME
cat > "$TMP/plan.json" <<'JSON'
{"env": {"plugin": "rooms", "params": {"horizon": 6}},
 "demos": {"episodes": 2, "steps": 3, "seed": 5, "jobs": 2,
           "scenarios": {"grid": {"rooms": [2, 3], "climate": [{"outdoor": -5}, {"outdoor": 30}]}}},
 "arms": [{"name": "a"}]}
JSON
expect_status 0 "demos path" -- run_fewshot demos path
expect_grep "^$TMP/xdg/libfewshot/demos\$" "$TMP/out" "store directory"
expect_status 0 "generate a plan into the store" -- run_fewshot demos generate "$TMP/plan.json"
stored=$(cat "$TMP/out")
expect_grep "^$TMP/xdg/libfewshot/demos/rooms-[0-9a-f]{32}\.fsdb\$" "$TMP/out" "stored path"
expect_status 0 "info of a stored dataset" -- run_fewshot demos info "$stored"
expect_grep '^transitions: 24$' "$TMP/out" "4 scenarios x 2 episodes x 3 steps"
expect_grep '^scenarios: 4$' "$TMP/out" "grid of 2 x 2"
expect_status 0 "path of a config" -- run_fewshot demos path "$TMP/plan.json"
[ "$(cat "$TMP/out")" = "$stored" ] && pass || fail "demos path CONFIG names the same dataset"
expect_status 0 "list" -- run_fewshot demos list
expect_grep "rooms-[0-9a-f]{32}\.fsdb	[0-9]+ bytes	rooms 1\.0	24 transitions	policy expert" "$TMP/out" "listed with its header"
# the job count does not change the dataset (nor its id)
sed 's/"jobs": 2/"jobs": 1/' "$TMP/plan.json" > "$TMP/plan1.json"
expect_status 0 "one job" -- run_fewshot demos generate "$TMP/plan1.json" -o "$TMP/one.jsonl"
run_fewshot demos generate "$TMP/plan.json" -o "$TMP/two.jsonl" >/dev/null 2>&1
cmp -s "$TMP/one.jsonl" "$TMP/two.jsonl" && pass || fail "jobs 1 and 2 give the same dataset"
# concurrent generators of one new dataset: both succeed, one file, nothing left behind
sed 's/"seed": 5/"seed": 6/' "$TMP/plan.json" > "$TMP/plan6.json"
run_fewshot demos generate "$TMP/plan6.json" > "$TMP/c1" 2>&1 &
p1=$!
run_fewshot demos generate "$TMP/plan6.json" > "$TMP/c2" 2>&1 &
p2=$!
wait $p1 && wait $p2 && pass || fail "concurrent generators"
cmp -s "$TMP/c1" "$TMP/c2" && pass || fail "concurrent generators name the same dataset"
[ "$(ls "$TMP/xdg/libfewshot/demos" | grep -c '\.fsdb$')" -eq 2 ] && pass || fail "one file per dataset"
ls -a "$TMP/xdg/libfewshot/demos" | grep -q '^\.tmp-' && fail "a temporary file was left" || pass
# no usable store (no HOME, no XDG_CACHE_HOME): the dataset is still generated, not stored
expect_status 0 "no store" -- env -u HOME -u XDG_CACHE_HOME "$FEWSHOT" demos generate "$TMP/plan.json" -o "$TMP/nostore.jsonl"
expect_grep "generated but not stored" "$TMP/err" "told it was not stored"
cmp -s "$TMP/nostore.jsonl" "$TMP/two.jsonl" && pass || fail "the same dataset as the stored one"
# clear empties the store; the next generate makes the same dataset again
expect_status 0 "clear" -- run_fewshot demos clear
expect_grep "removed 2 stored datasets" "$TMP/err" "cleared"
ls "$TMP/xdg/libfewshot/demos" | grep -q . && fail "the store is empty after clear" || pass
expect_status 0 "regenerate" -- run_fewshot demos generate "$TMP/plan.json"
[ "$(cat "$TMP/out")" = "$stored" ] && pass || fail "the same id after clear"
# embedding weights by feature name (the plugin's table names its features)
cat > "$TMP/wn.json" <<'JSON'
{"env": {"plugin": "rooms", "params": {"horizon": 4}},
 "demos": {"episodes": 2, "steps": 4, "seed": 5},
 "embedding": {"weights": {"outdoor_error": 0, "mean_error": 2}},
 "baselines": ["zero", "knn-imitation"], "arms": [],
 "episodes": {"seeds": [1], "steps": 4}}
JSON
expect_status 0 "weights by name" -- run_fewshot sweep "$TMP/wn.json" -o "$TMP/wn-run"
sed 's/"mean_error": 2/"mean_eror": 2/' "$TMP/wn.json" > "$TMP/wn2.json"
expect_status 2 "unknown feature name" -- run_fewshot sweep "$TMP/wn2.json" -o "$TMP/wn2-run"
expect_grep "embedding.weights.mean_eror: .*no feature 'mean_eror' \(its features: mean_error, min_error" "$TMP/err" "feature named"
sed 's/"plugin": "rooms"/"plugin": "room"/' "$TMP/wn.json" > "$TMP/wn4.json"
expect_status 2 "weights by name, features not named" -- run_fewshot sweep "$TMP/wn4.json" -o "$TMP/wn4-run"
expect_grep "plugin 'room' does not name its features" "$TMP/err" "unnamed features"
sed 's/"outdoor_error": 0, "mean_error": 2/"mean_error": -1/' "$TMP/wn.json" > "$TMP/wn3.json"
expect_status 2 "negative weight" -- run_fewshot sweep "$TMP/wn3.json" -o "$TMP/wn3-run"
expect_grep '\$\.embedding\.weights\.mean_error: expected a weight >= 0, found -1' "$TMP/err" "weight located"
# bad plans: the config file and JSON path named, exit 2
sed 's/"jobs": 2/"days": [15, 400]/' "$TMP/plan.json" > "$TMP/bad-days.json"
expect_status 2 "bad day" -- run_fewshot demos generate "$TMP/bad-days.json"
expect_grep 'bad-days.json: \$\.demos\.days\[1\]: expected a day of the year' "$TMP/err" "day located"
sed 's/"rooms": \[2, 3\]/"rooms": []/' "$TMP/plan.json" > "$TMP/bad-grid.json"
expect_status 2 "bad grid" -- run_fewshot demos generate "$TMP/bad-grid.json"
expect_grep '\$\.demos\.scenarios\.grid\.rooms: expected a non-empty list' "$TMP/err" "grid located"
sed 's/"jobs": 2/"days": {"every": 7, "by": 2}/' "$TMP/plan.json" > "$TMP/bad-every.json"
expect_status 2 "bad every" -- run_fewshot demos generate "$TMP/bad-every.json"
expect_grep "\\\$\.demos\.days\.by: unknown key 'by'" "$TMP/err" "every located"
# --scenarios for an environment
expect_status 0 "--scenarios" -- run_fewshot demos generate rooms --steps 2 --scenarios '{"grid": {"rooms": [2, 4]}}' --jobs 2 -o "$TMP/sc.jsonl"
expect_status 0 "info --scenarios" -- run_fewshot demos info "$TMP/sc.jsonl"
expect_grep '^scenarios: 2$' "$TMP/out" "two scenarios from the grid"
expect_status 2 "--scenarios not JSON" -- run_fewshot demos generate rooms --scenarios '[{' -o "$TMP/x.jsonl"
# --days for an environment: rooms has no start_day, so the plugin refuses it by name
expect_status 2 "--days on a plugin without start_day" -- run_fewshot demos generate rooms --days 1,2 -o "$TMP/x.jsonl"
expect_grep "start_day" "$TMP/err" "parameter named"
finish
