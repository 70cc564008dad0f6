#!/bin/sh
# The default prompts of the shipped plugins, word for word: `fewshot prompt` on shipped
# configs against tests/data/golden/CONFIG-ARM-SCENARIO-STEP.txt (the paper's HVAC prompt in
# heating and cooling, the decimals ablation, trading, inventory).
# FEWSHOT_REGEN_GOLDEN=1 rewrites the files from the current output.
. "$top_srcdir/tests/lib.sh"
for name in hvac inventory trading; do
    [ -f "$top_builddir/plugins/.libs/$name.so" ] || skip "plugin $name not built"
done
export XDG_CACHE_HOME="$TMP/cache"
for g in "$top_srcdir"/tests/data/golden/*.txt; do
    base=$(basename "$g" .txt)
    step=${base##*-}; rest=${base%-*}
    scenario=${rest##*-}; rest=${rest%-*}
    config=${rest%%-*}; arm=${rest#*-}
    # config names hold dashes too (prompt-ablation): take the longest that exists
    for c in "$top_srcdir"/examples/configs/*.json; do
        n=$(basename "$c" .json)
        case $rest in "$n"-*) config=$n; arm=${rest#"$n"-} ;; esac
    done
    if ! run_fewshot prompt "$top_srcdir/examples/configs/$config.json" --arm "$arm" \
        --scenario "$scenario" --step "$step" > "$TMP/got.txt" 2> "$TMP/err"; then
        fail "$base: fewshot prompt failed: $(cat "$TMP/err")"
        continue
    fi
    if [ -n "${FEWSHOT_REGEN_GOLDEN:-}" ]; then
        cp "$TMP/got.txt" "$g"
    fi
    if cmp -s "$TMP/got.txt" "$g"; then pass; else
        fail "$base: the prompt differs from the golden file"
        diff "$g" "$TMP/got.txt" | head -20 >&2
    fi
done
[ "$count" -ge 5 ] || fail "expected 5 or more golden prompts, checked $count"
finish
