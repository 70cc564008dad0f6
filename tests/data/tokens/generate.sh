#!/bin/sh
# Regenerates the token-count test data in this directory: shipped prompts as `fewshot prompt
# --json` prints them, each with its real o200k_base token count (gpt-4o, gpt-4o-mini) as
# OpenAI bills a chat request: the tokens of every message's content, 3 per message, 3 to
# prime the reply. The tokenizer comes from the npm registry, installed in a temporary
# directory (never committed): run it by hand when the calibration is redone.
#   tests/data/tokens/generate.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
build=${1:-$top}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm i --silent --no-audit --no-fund gpt-tokenizer@4.0.0 >/dev/null)
export XDG_CACHE_HOME="$work/cache"
n=0
while read -r config arm scenario step; do
    case $config in ''|'#'*) continue ;; esac
    n=$((n + 1))
    name=$(printf '%02d-%s-step%s' "$n" "$config" "$step")
    "$build/fewshot" prompt "$top/examples/configs/$config.json" --arm "$arm" \
        --scenario "$scenario" --step "$step" --json > "$work/prompt.json"
    NODE_PATH="$work/node_modules" node - "$work/prompt.json" "$config" "$arm" "$scenario" \
        "$step" > "$here/$name.json" <<'JS'
const fs = require('fs');
const { encode } = require('gpt-tokenizer/encoding/o200k_base');
const [file, config, arm, scenario, step] = process.argv.slice(2);
const p = JSON.parse(fs.readFileSync(file, 'utf8'));
const messages = p.messages.map(m => ({ role: m.role, content: m.content }));
const o200k = messages.reduce((n, m) => n + encode(m.content).length + 3, 3);
process.stdout.write(JSON.stringify({
    source: `fewshot prompt examples/configs/${config}.json --arm ${arm} --scenario ${scenario} --step ${step}`,
    tokenizer: 'o200k_base (gpt-tokenizer 4.0.0): contents + 3 per message + 3',
    o200k, messages }, null, 1) + '\n');
JS
    echo "$name: $(grep -o '"o200k": [0-9]*' "$here/$name.json")"
done <<'LIST'
paper same-building winter 0
paper same-building winter 5
paper other-building-climate summer 12
quickstart llm summer 3
selection knn+cluster+history weather=Hot_Dry,start_day=15 6
prompt-ablation decimals summer 4
inventory llm lost_sales 5
trading llm volatile 7
LIST
