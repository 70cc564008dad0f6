#!/bin/sh
# Every shipped example config validates and plans, its scenarios build and every arm's
# agent (demonstrations generated, retrieval, prompt templates, parser) builds.
. "$top_srcdir/tests/lib.sh"
for name in hvac inventory trading; do
    [ -f "$top_builddir/plugins/.libs/$name.so" ] || skip "plugin $name not built"
done
cd "$TMP" || exit 1
# paper-rl.json loads one PPO policy per building and climate (mlp:ppo/{building}-{weather}.json,
# relative to the working directory): stand in all-zero networks of the right dimensions.
mkdir -p ppo
for b in OfficeSmall OfficeMedium RetailStandalone; do
    dims=$(run_fewshot env info hvac -p building=$b | awk '/^observation:/ {k = $2} /^action:/ {m = $2} END {print k, m}')
    for w in Hot_Dry Cool_Humid Mixed_Marine; do
        echo "$dims" | awk '{k = $1; m = $2; row = "[0"; for (i = 1; i < k; i++) row = row ",0"; row = row "]"
            w = row; for (j = 1; j < m; j++) w = w "," row; b = "[0"; for (j = 1; j < m; j++) b = b ",0"
            printf "{\"format\": \"fewshot-mlp\", \"version\": 1, \"obs_dim\": %d, \"act_dim\": %d, \"layers\": [{\"weight\": [%s], \"bias\": %s]}]}\n", k, m, w, b}' \
            > "ppo/$b-$w.json"
    done
done
for c in "$top_srcdir"/examples/configs/*.json; do
    n=$(basename "$c" .json)
    expect_status 0 "$n: dry run" -- run_fewshot sweep "$c" --dry-run -o "$TMP/$n" \
        --set llm.base_url=http://127.0.0.1:9/v1 --set llm.api_key_env=
    expect_grep '^episodes: [1-9][0-9]*, 0 already finished$' "$TMP/out" "$n: plan"
    grep -q 'SKIPPED' "$TMP/out" && fail "$n: an arm was skipped with an endpoint configured" || pass
    # what the LLM arms will cost, at the config's llm.price, before anything is sent
    expect_grep '^  [^ ]+ +[0-9]+ prompt tokens per decision \(max [0-9]+, [0-9]+% a prefix of an earlier prompt, [0-9]+ in every prompt\), [0-9]+ calls, [0-9]+ prompt \+ [0-9]+ completion tokens, cost [0-9]+\.[0-9]{2} \([0-9]+\.[0-9]{2} with the prefix cache\)$' \
        "$TMP/out" "$n: per-arm estimate"
    expect_grep '^  total +[1-9][0-9]* calls, [1-9][0-9]* prompt \+ [1-9][0-9]* completion tokens, cost [0-9]+\.[0-9]{2} ' \
        "$TMP/out" "$n: total estimate"
    grep -q 'exceeds llm.context' "$TMP/out" && fail "$n: a shipped prompt exceeds llm.context" || pass
done
# paper.json's numbers: about 3,900 tokens per decision, 1,440 calls at gpt-4o prices
run_fewshot sweep "$top_srcdir/examples/configs/paper.json" --dry-run -o "$TMP/paper" \
    --set llm.base_url=http://127.0.0.1:9/v1 --set llm.api_key_env= > "$TMP/paper.out"
awk '/^  same-building  +[0-9]+ prompt tokens/ {t = $2} /^  total / {c = $2}
     END {exit !(t > 3000 && t < 5000 && c == 1440)}' "$TMP/paper.out" \
    && pass || fail "paper: tokens per decision and calls ($(grep -E '^  (same-building|total) ' "$TMP/paper.out" | tail -2))"
# a prompt over the model's context is named before money is spent
expect_status 0 "context warning" -- run_fewshot sweep "$top_srcdir/examples/configs/quickstart.json" \
    --dry-run -o "$TMP/ctx" --set llm.base_url=http://127.0.0.1:9/v1 --set llm.api_key_env= \
    --set llm.context=500
expect_grep '^fewshot: warning: arm llm: a prompt of about [0-9]+ tokens exceeds llm.context 500$' \
    "$TMP/out" "context warning"
# without a price the cost is unknown, not 0
expect_status 0 "no price" -- run_fewshot sweep "$top_srcdir/examples/configs/quickstart.json" \
    --dry-run -o "$TMP/np" --set llm.base_url=http://127.0.0.1:9/v1 --set llm.api_key_env= \
    --set 'llm.price={"prompt": 0}'
expect_grep 'cost unknown \(no llm.price for gpt-4o-mini\)' "$TMP/out" "unpriced arm"
# with no key the LLM arms are skipped, the baselines are still planned
unset OPENAI_API_KEY
expect_status 0 "quickstart without a key" -- run_fewshot sweep "$top_srcdir/examples/configs/quickstart.json" --dry-run
expect_grep '^  llm +llm +SKIPPED: the API key variable OPENAI_API_KEY' "$TMP/out" "skipped LLM arm"
expect_grep '^  expert +policy expert$' "$TMP/out" "baseline planned"
# the quickstart's demonstrations from its config: every 14th day of the year (27 days), one
# expert episode of 24 steps each
expect_status 0 "demos from a config" -- run_fewshot demos generate "$top_srcdir/examples/configs/quickstart.json" -o "$TMP/qs.jsonl"
expect_status 0 "demos info" -- run_fewshot demos info "$TMP/qs.jsonl"
expect_grep '^transitions: 648$' "$TMP/out" "generated transitions"
expect_grep '^scenarios: 27$' "$TMP/out" "one scenario per day"
finish
