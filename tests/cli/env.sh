#!/bin/sh
# `fewshot env list|info|rollout` with the test plugins: output shape, policies, errors, exit codes.
. "$top_srcdir/tests/lib.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
export FEWSHOT_PLUGIN_PATH

expect_status 0 "--version" -- run_fewshot --version
expect_grep '^fewshot [0-9]+\.[0-9]+\.[0-9]+' "$TMP/out" "--version"
expect_status 0 "help" -- run_fewshot help
expect_grep 'env' "$TMP/out" "help lists env"
expect_status 2 "no arguments" -- run_fewshot
expect_status 2 "unknown command" -- run_fewshot frobnicate
expect_grep "unknown command 'frobnicate'" "$TMP/err" "unknown command message"

# list: working plugins with summaries; broken ones reported on stderr, exit 1
expect_status 1 "env list with broken plugins" -- run_fewshot env list
expect_grep '^room +one-room thermal model for tests' "$TMP/out" "env list shows room"
expect_grep 'nosym.so: not a libfewshot plugin' "$TMP/err" "env list reports nosym"
expect_grep 'badabi.so: plugin ABI version 42' "$TMP/err" "env list reports badabi"

# info
expect_status 0 "env info room" -- run_fewshot env info room -p target=21
expect_grep '^observation: 2 real elements' "$TMP/out" "info observation"
expect_grep 'room_temperature' "$TMP/out" "info element names"
expect_grep '^  target +number += 21(\.0)? ' "$TMP/out" "info shows the given parameter"
expect_grep 'expert\(=thermostat\)' "$TMP/out" "info lists policies"

# rollout csv: header and one row per step
expect_status 0 "rollout zero" -- run_fewshot env rollout room --policy zero --steps 3
expect_grep '^step,reward,obs_0,obs_1,act_0$' "$TMP/out" "csv header"
[ "$(wc -l < "$TMP/out")" -eq 4 ] && pass || fail "rollout zero: expected 4 lines"
# T' = 5 + (15 - 5) e^{-1/4}: exact numbers, first row
expect_grep '^1,-[0-9.]+,12\.78800783071' "$TMP/out" "zero-action physics"

# the episode ends at the horizon when --steps is omitted
expect_status 0 "rollout to horizon" -- run_fewshot env rollout room -p horizon=5 --policy expert
[ "$(wc -l < "$TMP/out")" -eq 6 ] && pass || fail "rollout stops at horizon=5"

# the expert beats zero action
run_fewshot env rollout room --policy expert > "$TMP/expert.csv"
run_fewshot env rollout room --policy zero > "$TMP/zero.csv"
e=$(awk -F, 'NR>1 {s+=$2} END {print s}' "$TMP/expert.csv")
z=$(awk -F, 'NR>1 {s+=$2} END {print s}' "$TMP/zero.csv")
awk -v e="$e" -v z="$z" 'BEGIN {exit !(e > z)}' && pass || fail "expert ($e) <= zero ($z)"

# random is deterministic under a seed
run_fewshot env rollout room --policy random --seed 9 --steps 5 > "$TMP/r1"
run_fewshot env rollout room --policy random --seed 9 --steps 5 > "$TMP/r2"
run_fewshot env rollout room --policy random --seed 10 --steps 5 > "$TMP/r3"
cmp -s "$TMP/r1" "$TMP/r2" && pass || fail "random differs under the same seed"
cmp -s "$TMP/r1" "$TMP/r3" && fail "random ignores the seed" || pass

# jsonl
expect_status 0 "rollout jsonl" -- run_fewshot env rollout room --policy const:0.5 --steps 2 --format jsonl
expect_grep '^\{"step": ?1, ?"reward": ?-?[0-9.e-]+, ?"obs": ?\[' "$TMP/out" "jsonl row"
expect_grep '"terms": ?\{"comfort"' "$TMP/out" "jsonl terms"
expect_grep '"action": ?\[0\.5\]' "$TMP/out" "jsonl action"

# file: replay, with line-numbered errors
printf 'act_0\n0.1\n0.2\n' > "$TMP/a.csv"
expect_status 0 "rollout file" -- run_fewshot env rollout room --policy "file:$TMP/a.csv" --steps 2
expect_grep '^2,.*,0\.2$' "$TMP/out" "file replay row 2"
expect_status 1 "file runs out" -- run_fewshot env rollout room --policy "file:$TMP/a.csv" --steps 3
expect_grep 'step 3: .*no action row for step 3' "$TMP/err" "file runs out message"
printf '0.1\n0.1,0.3\n' > "$TMP/b.csv"
expect_status 2 "bad action file" -- run_fewshot env rollout room --policy "file:$TMP/b.csv"
expect_grep "b.csv:2: expected 1 actions, found 2" "$TMP/err" "action file line number"

# -p values: JSON when they parse, strings otherwise
expect_status 2 "string for a number" -- run_fewshot env rollout room -p target=warm --policy zero
expect_grep "parameter 'target' must be a number, not a string" "$TMP/err" "type error"
expect_status 2 "unknown parameter" -- run_fewshot env rollout room -p tagret=21 --policy zero
expect_grep "unknown parameter 'tagret' \(known: .*target" "$TMP/err" "unknown parameter"
expect_status 2 "plugin refuses a value" -- run_fewshot env rollout room -p tau=-1 --policy zero
expect_grep "room: parameter 'tau' must be positive" "$TMP/err" "plugin message reaches the CLI"

# usage errors
expect_status 2 "missing policy" -- run_fewshot env rollout room
expect_grep "policy is required" "$TMP/err" "missing policy message"
expect_status 2 "bad policy" -- run_fewshot env rollout room --policy magic
expect_grep "unknown policy 'magic'" "$TMP/err" "bad policy message"
expect_status 2 "bad steps" -- run_fewshot env rollout room --policy zero --steps ten
expect_status 2 "bad format" -- run_fewshot env rollout room --policy zero --format xml
expect_status 2 "unknown plugin" -- run_fewshot env rollout nosuch --policy zero
expect_grep "unknown environment 'nosuch'" "$TMP/err" "unknown plugin message"

# broken plugins
expect_status 2 "create fails" -- run_fewshot env rollout failcreate --policy zero
expect_grep "failcreate: the test plugin always refuses" "$TMP/err" "create failure message"
expect_status 2 "missing symbol" -- run_fewshot env info nosym
expect_grep "does not export the symbol fewshot_env_plugin_entry" "$TMP/err" "missing symbol"
expect_status 2 "wrong ABI" -- run_fewshot env info badabi
expect_grep "plugin ABI version 42, but this libfewshot expects 1" "$TMP/err" "ABI message"
expect_status 1 "NaN observation" -- run_fewshot env rollout nanobs --policy zero --steps 2
expect_grep "step 1: nanobs: step\(\) returned a bad observation: observation element 0 is nan" "$TMP/err" "NaN observation message"
expect_status 2 "missing file" -- run_fewshot env info "$TMP/none/x.so"
expect_grep "no such plugin file" "$TMP/err" "missing file"

finish
