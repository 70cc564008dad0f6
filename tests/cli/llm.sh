#!/bin/sh
# `fewshot llm ...` and `fewshot cache ...` against the fault-injecting test server: output
# streams, exit codes, the cache, and that the API key never reaches the cache, stdout or stderr.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/llm-server/start.sh"
KEY=sk-cli-test-SECRET-9f8e7d6c5b4a
FEWSHOT_CLI_KEY=$KEY
export FEWSHOT_CLI_KEY
start_llm_server --key-env FEWSHOT_CLI_KEY --log "$TMP/server.log"
XDG_CACHE_HOME=$TMP/xdg
export XDG_CACHE_HOME
unset FEWSHOT_BASE_URL OPENAI_BASE_URL OPENAI_API_KEY FEWSHOT_MODEL
B="--base-url $LLM_BASE --api-key-env FEWSHOT_CLI_KEY --model test-model"
spec() { echo "--base-url http://127.0.0.1:$LLM_PORT/$1/v1 --api-key-env FEWSHOT_CLI_KEY --model test-model --retries 2"; }

# chat: reply on stdout, usage and latency on stderr
expect_status 0 "chat" -- run_fewshot llm chat $B "hello world"
expect_grep '^echo: hello world$' "$TMP/out" "chat reply on stdout"
[ "$(wc -l < "$TMP/out")" -eq 1 ] && pass || fail "chat: stdout has only the reply"
expect_grep '^usage: prompt_tokens=[0-9]+ completion_tokens=[0-9]+ total_tokens=[0-9]+ .*latency=[0-9.]+s attempts=1 cache=miss' "$TMP/err" "chat usage line"
cat "$TMP/out" "$TMP/err" > "$TMP/all-outputs"

# the same again: served from the default cache in $XDG_CACHE_HOME/fewshot
expect_status 0 "chat again" -- run_fewshot llm chat $B "hello world"
expect_grep 'cache=hit' "$TMP/err" "second chat is a cache hit"
expect_grep '^echo: hello world$' "$TMP/out" "cached reply"
[ -f "$XDG_CACHE_HOME/fewshot/llm.sqlite" ] && pass || fail "cache file in XDG_CACHE_HOME"
expect_status 0 "chat --no-cache" -- run_fewshot llm chat $B --no-cache "hello world"
expect_grep 'cache=miss' "$TMP/err" "--no-cache bypasses"

# stdin, completions, streaming, embeddings, models
echo "from stdin" | run_fewshot llm complete $B - > "$TMP/out" 2> "$TMP/err" && pass || fail "complete -"
expect_grep '^echo: from stdin$' "$TMP/out" "prompt from stdin"
expect_status 0 "stream" -- run_fewshot llm chat $B --no-cache --stream "streamed text"
expect_grep '^echo: streamed text$' "$TMP/out" "streamed reply"
expect_status 0 "embed" -- run_fewshot llm embed $B "vector please"
expect_grep '^\[-?[0-9.e-]+(, -?[0-9.e-]+){7}\]$' "$TMP/out" "8-dimensional embedding"
expect_status 0 "models" -- run_fewshot llm models $B
expect_grep '^fewshot-test$' "$TMP/out" "models lists ids"
cat "$TMP/out" "$TMP/err" >> "$TMP/all-outputs"

# controller mode: a proportional controller answers the HVAC state
expect_status 0 "controller" -- run_fewshot llm chat $(spec mode=controller) --no-cache \
    "Room 1: 20 degrees Celsius
Room 2: 24 degrees Celsius
Target Temperature: 22 degrees Celsius."
expect_grep '^Actions: \[100, -100\]$' "$TMP/out" "controller actions"

# faults: retried, then success (exit 0) or failure (exit 1) with the server's message
expect_status 0 "503 then ok" -- run_fewshot llm chat $(spec mode=status,code=503,fail=2) --no-cache "x"
expect_grep 'attempts=3' "$TMP/err" "two retries"
expect_status 1 "always 500" -- run_fewshot llm chat $(spec mode=status,code=500) --no-cache "x"
expect_grep 'HTTP 500 .*injected HTTP 500 from the test server \(after 3 attempts\)' "$TMP/err" "500 message"
expect_status 1 "400 is not retried" -- run_fewshot llm chat $(spec mode=status,code=400) --no-cache "x"
expect_grep 'injected HTTP 400' "$TMP/err" "400 message"
expect_status 1 "hang times out" -- run_fewshot llm chat $(spec mode=hang) --retries 0 --timeout 0.3 --no-cache "x"
expect_grep '[Tt]imeout|timed out' "$TMP/err" "timeout message"
expect_status 0 "length" -- run_fewshot llm chat $(spec mode=length) --no-cache "x"
expect_grep 'truncated' "$TMP/err" "truncation warning"
expect_status 1 "leaky server" -- run_fewshot llm chat $(spec mode=leak) --no-cache "x"
expect_grep 'Incorrect API key provided: \*+\.' "$TMP/err" "key redacted from the server's message"
cat "$TMP/out" "$TMP/err" >> "$TMP/all-outputs"

# usage errors: exit 2
expect_status 2 "no subcommand" -- run_fewshot llm
expect_status 2 "bad subcommand" -- run_fewshot llm talk
expect_status 2 "bad temperature" -- run_fewshot llm chat $B --temperature hot x
expect_status 2 "unset key variable" -- run_fewshot llm chat --base-url "$LLM_BASE" --model m --api-key-env FEWSHOT_NOT_SET_ANYWHERE x
expect_grep 'FEWSHOT_NOT_SET_ANYWHERE is not set' "$TMP/err" "names the variable"
expect_status 2 "no model" -- run_fewshot llm chat --base-url "$LLM_BASE" --api-key-env FEWSHOT_CLI_KEY x
expect_grep 'no model' "$TMP/err" "no model message"
printf '{"llm": {"model": "m", "temprature": 1}}' > "$TMP/bad.json"
expect_status 2 "bad config" -- run_fewshot llm chat --config "$TMP/bad.json" x
expect_grep "bad.json: \\\$\\.llm: unknown key 'temprature'" "$TMP/err" "config error names file and path"
printf '{"llm": {"model": "test-model", "base_url": "%s", "api_key_env": "FEWSHOT_CLI_KEY"}}' "$LLM_BASE" > "$TMP/good.json"
expect_status 0 "config" -- run_fewshot llm chat --config "$TMP/good.json" "via config"
expect_grep '^echo: via config$' "$TMP/out" "config reply"
# base URL from the environment
FEWSHOT_BASE_URL=$LLM_BASE run_fewshot llm models --api-key-env FEWSHOT_CLI_KEY > "$TMP/out" 2>&1 && pass || fail "FEWSHOT_BASE_URL"
OPENAI_BASE_URL=$LLM_BASE OPENAI_API_KEY=$KEY run_fewshot llm models > "$TMP/out" 2>&1 && pass || fail "OPENAI_BASE_URL + OPENAI_API_KEY"

# cache stats / prune / clear
expect_status 0 "cache stats" -- run_fewshot cache stats
expect_grep '^entries +[1-9]' "$TMP/out" "stats entries"
expect_grep '^hits +[1-9]' "$TMP/out" "stats hits"
expect_status 0 "cache stats --json" -- run_fewshot cache stats --json
expect_grep '"entries": [1-9]' "$TMP/out" "stats json"
expect_status 0 "prune nothing old" -- run_fewshot cache prune --older-than 1d
expect_grep '^removed 0 entries' "$TMP/out" "prune keeps fresh entries"
expect_status 0 "prune to 1" -- run_fewshot cache prune --max-entries 1
expect_grep '^removed [1-9][0-9]* entries' "$TMP/out" "prune by count"
cp "$XDG_CACHE_HOME/fewshot/llm.sqlite" "$TMP/cache-copy.sqlite"
expect_status 0 "cache clear" -- run_fewshot cache clear
expect_status 0 "stats after clear" -- run_fewshot cache stats
expect_grep '^entries +0$' "$TMP/out" "empty after clear"
expect_status 2 "prune needs a limit" -- run_fewshot cache prune
expect_status 2 "bad age" -- run_fewshot cache prune --older-than soon
expect_status 2 "cache bad subcommand" -- run_fewshot cache drop
expect_status 0 "cache at a path" -- run_fewshot cache stats --cache "$TMP/other.sqlite"

# the key never appears in the cache file, our outputs, or anything under $TMP but the server log
grep -c "auth\":\"bearer" "$TMP/server.log" > /dev/null && pass || fail "the key was sent as a bearer token"
for f in "$TMP/cache-copy.sqlite" "$XDG_CACHE_HOME/fewshot/llm.sqlite" "$TMP/all-outputs"; do
    if grep -aq -- "$KEY" "$f"; then fail "the API key appears in $(basename "$f")"; else pass; fi
done
if grep -rlaq -- "$KEY" "$XDG_CACHE_HOME"; then fail "the API key appears under the cache dir"; else pass; fi

finish
