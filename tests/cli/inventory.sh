#!/bin/sh
# `fewshot env list|info|rollout` with the inventory plugin: summaries, parameters, sane
# rows, policies, demand lists and files, clear errors.
. "$top_srcdir/tests/lib.sh"
unset FEWSHOT_PLUGIN_PATH

run_fewshot env list > "$TMP/list" 2>/dev/null
expect_grep '^inventory +multi-echelon supply chain' "$TMP/list" "env list shows inventory"

expect_status 0 "env info" -- run_fewshot env info inventory
expect_grep '^observation: 33 integer elements' "$TMP/out" "OR-Gym observation size"
expect_grep '^action: 3 integer elements' "$TMP/out" "three ordering stages"
expect_grep 'order_0 +\[0, 100\]' "$TMP/out" "capacity bounds the action"
expect_grep '^  lead_times +array += \[3,5,10\]' "$TMP/out" "lead times default"
expect_grep 'expert\(=basestock\).*nothing' "$TMP/out" "policies"
expect_status 0 "env info two stages" -- run_fewshot env info inventory -p 'capacity=[50,40]' \
    -p 'initial_inventory=[10,10]' -p 'holding_cost=[0.1,0.1]' -p 'lead_times=[1,2]' \
    -p 'replenishment_cost=[2,1,0.5]' -p 'backlog_cost=[0.1,0.1,0.1]'
expect_grep '^observation: 6 integer elements' "$TMP/out" "two-stage observation"

# 30 periods of base-stock: header + 30 rows, integer orders within capacity, and the episode
# ends at period 30 when --steps is omitted
expect_status 0 "rollout expert" -- run_fewshot env rollout inventory --policy expert --steps 30
[ "$(wc -l < "$TMP/out")" -eq 31 ] && pass || fail "rollout expert: expected 31 lines"
awk -F, 'NR > 1 { for (i = NF - 2; i <= NF; i++) if ($i != int($i) || $i < 0 || $i > 100) bad = 1;
                  if ($3 < 0) bad = 1 } END { exit bad }' "$TMP/out" && pass ||
    fail "rollout expert: orders or inventory out of range"
expect_status 0 "rollout to the end" -- run_fewshot env rollout inventory --policy nothing
[ "$(wc -l < "$TMP/out")" -eq 31 ] && pass || fail "episode ends after 30 periods"

# the expert beats ordering nothing, in both backlog and lost-sales modes
for mode in true false; do
    e=$(run_fewshot env rollout inventory -p backlog=$mode --policy expert --seed 4 |
        awk -F, 'NR>1 {s+=$2} END {print s}')
    z=$(run_fewshot env rollout inventory -p backlog=$mode --policy nothing --seed 4 |
        awk -F, 'NR>1 {s+=$2} END {print s}')
    awk -v e="$e" -v z="$z" 'BEGIN {exit !(e > z)}' && pass ||
        fail "backlog=$mode: expert ($e) <= nothing ($z)"
done

# seeds: same seed same rows; an explicit demand list makes the seed irrelevant
run_fewshot env rollout inventory --policy expert --seed 8 > "$TMP/a"
run_fewshot env rollout inventory --policy expert --seed 8 > "$TMP/b"
run_fewshot env rollout inventory --policy expert --seed 9 > "$TMP/c"
cmp -s "$TMP/a" "$TMP/b" && pass || fail "same seed, different rows"
cmp -s "$TMP/a" "$TMP/c" && fail "the seed does not change the demand" || pass
d='[20,18,25,30,12,40,0,22,19,21,20,18,25,30,12,40,0,22,19,21,20,18,25,30,12,40,0,22,19,21]'
run_fewshot env rollout inventory -p "demand=$d" --policy expert --seed 1 > "$TMP/a"
run_fewshot env rollout inventory -p "demand=$d" --policy expert --seed 2 > "$TMP/b"
cmp -s "$TMP/a" "$TMP/b" && pass || fail "explicit demand depends on the seed"

# a demand file equals the same list
printf 'period,demand\n' > "$TMP/demand.csv"
echo "$d" | tr -d '[]' | tr ',' '\n' | awk '{print NR "," $1}' >> "$TMP/demand.csv"
run_fewshot env rollout inventory -p "demand=$TMP/demand.csv" --policy expert > "$TMP/c"
cmp -s "$TMP/a" "$TMP/c" && pass || fail "demand file differs from the same list"

# jsonl: the terms add up to the reward
run_fewshot env rollout inventory --policy expert --format jsonl --steps 5 > "$TMP/j"
expect_grep '"terms": ?\{"revenue": ?[0-9.e+-]+, ?"procurement": ?-' "$TMP/j" "reward terms"

# bad parameters
expect_status 2 "short demand list" -- run_fewshot env rollout inventory -p 'demand=[1,2]' --policy zero
expect_grep "parameter 'demand' has 2 values, but periods is 30" "$TMP/err" "demand length"
expect_status 2 "negative demand" -- run_fewshot env info inventory -p periods=2 -p 'demand=[3,-1]'
expect_grep 'demand\[1\]: .*demand\[1\] must be a non-negative integer' "$TMP/err" "demand element"
printf 'demand\n20\nlots\n' > "$TMP/bad.csv"
expect_status 2 "bad demand file" -- run_fewshot env info inventory -p periods=2 -p "demand=$TMP/bad.csv"
expect_grep "bad.csv:3:1: expected a demand value, found 'lots'" "$TMP/err" "demand file line"
expect_status 2 "mismatched arrays" -- run_fewshot env info inventory -p 'lead_times=[1,2]'
expect_grep "'lead_times' must be an array of 3 numbers" "$TMP/err" "array length"
expect_status 2 "levels" -- run_fewshot env info inventory -p basestock_levels=best
expect_grep "must be \"auto\" or a list of 3 levels" "$TMP/err" "levels"
expect_status 2 "type" -- run_fewshot env info inventory -p backlog=maybe
expect_grep "parameter 'backlog' must be a boolean" "$TMP/err" "boolean"

finish
