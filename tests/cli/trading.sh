#!/bin/sh
# `fewshot env list|info|rollout` with the trading plugin: summaries, parameters, sane rows,
# policies, price files and clear errors.
. "$top_srcdir/tests/lib.sh"
unset FEWSHOT_PLUGIN_PATH

run_fewshot env list > "$TMP/list" 2>/dev/null
expect_grep '^trading +stock portfolio with transaction costs' "$TMP/list" "env list shows trading"

expect_status 0 "env info" -- run_fewshot env info trading
expect_grep '^observation: 7 real elements' "$TMP/out" "cash, 3 prices, 3 holdings"
expect_grep '^action: 3 real elements' "$TMP/out" "one trade per asset"
expect_grep 'trade_0 +\[-1, 1\]' "$TMP/out" "action bounds"
expect_grep 'expert\(=lookahead\).*macross.*hold.*buyhold' "$TMP/out" "policies"
expect_status 0 "env info indicators" -- run_fewshot env info trading -p assets=5 -p indicators=true
expect_grep '^observation: 21 real elements' "$TMP/out" "indicators add 2 x assets"

expect_status 0 "rollout expert" -- run_fewshot env rollout trading --policy expert --steps 30
[ "$(wc -l < "$TMP/out")" -eq 31 ] && pass || fail "rollout expert: expected 31 lines"
# cash never negative, whole shares, prices positive
awk -F, 'NR > 1 { if ($3 < 0) bad = 1; for (i = 4; i <= 6; i++) if ($i <= 0) bad = 1;
                  for (i = 7; i <= 9; i++) if ($i < 0 || $i != int($i)) bad = 1 }
         END { exit bad }' "$TMP/out" && pass || fail "rollout expert: bad cash, price or shares"
expect_status 0 "rollout to the end" -- run_fewshot env rollout trading -p days=40 --policy hold
[ "$(wc -l < "$TMP/out")" -eq 41 ] && pass || fail "episode ends after days=40"
awk -F, 'NR > 1 && ($2 != 0 || $3 != 1000000) { bad = 1 } END { exit bad }' "$TMP/out" && pass ||
    fail "holding cash earns nothing and keeps the cash"

# the lookahead expert beats holding cash; seeds are deterministic
e=$(run_fewshot env rollout trading --policy expert --seed 4 | awk -F, 'NR>1 {s+=$2} END {print s}')
awk -v e="$e" 'BEGIN {exit !(e > 0)}' && pass || fail "lookahead ($e) <= hold (0)"
run_fewshot env rollout trading --policy macross --seed 8 --steps 50 > "$TMP/a"
run_fewshot env rollout trading --policy macross --seed 8 --steps 50 > "$TMP/b"
run_fewshot env rollout trading --policy macross --seed 9 --steps 50 > "$TMP/c"
cmp -s "$TMP/a" "$TMP/b" && pass || fail "same seed, different rows"
cmp -s "$TMP/a" "$TMP/c" && fail "the seed does not change the prices" || pass

# a price file: one row per day, the asset names and the dates reach the context
{
    echo "date,asset,open,high,low,close,volume"
    for d in 01 02 03 04 05 06; do
        echo "2024-03-$d,ACME,10,11,9,1$d.5,1000"
        echo "2024-03-$d,GLOBEX,20,21,19,2$d.25,700"
    done
} > "$TMP/prices.csv"
expect_status 0 "rollout csv" -- run_fewshot env rollout trading -p "prices=$TMP/prices.csv" --policy buyhold
[ "$(wc -l < "$TMP/out")" -eq 6 ] && pass || fail "6 dates give 5 steps"
expect_grep '^1,[-0-9.e]+,969694\.72[0-9]*,102\.5,202\.25,100,100,1,1$' "$TMP/out" "first row: bought 100 each"
printf 'date,asset,open,high,low,close,volume\n2024-01-01,A,1,1,1,1,1\n2024-01-02,A,1,1,1,,1\n' > "$TMP/bad.csv"
expect_status 2 "bad price file" -- run_fewshot env info trading -p "prices=$TMP/bad.csv"
expect_grep "bad.csv:3:20: close must be a positive number" "$TMP/err" "price file line and column"

# bad parameters
expect_status 2 "cost" -- run_fewshot env info trading -p cost=0.9
expect_grep "parameter 'cost' must be in \[0, 0.5\)" "$TMP/err" "cost message"
expect_status 2 "hmax type" -- run_fewshot env info trading -p hmax=lots
expect_grep "parameter 'hmax' must be an integer" "$TMP/err" "hmax message"
expect_status 2 "missing price file" -- run_fewshot env info trading -p prices=/nonexistent.csv
expect_grep "cannot open price file /nonexistent.csv" "$TMP/err" "missing file message"

finish
