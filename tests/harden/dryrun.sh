#!/bin/sh
# --dry-run has no side effects: no cache file, no call to the remote embedder, no
# demonstrations generated; and it checks the llm section of every arm, those skipped for
# lack of a key included.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/llm-server/start.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
FEWSHOT_GNUPLOT=
XDG_CACHE_HOME=$TMP/xdg
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT XDG_CACHE_HOME
cd "$TMP" || exit 1
command -v curl >/dev/null || skip "curl is needed to read the test server's counters"
start_llm_server --mode controller
cat > dry.json <<JSON
{"env": {"plugin": "room", "params": {"horizon": 4}},
 "demos": {"episodes": 2, "steps": 4, "seed": 100}, "selection": {"knn": 2},
 "embedding": {"kind": "remote", "base_url": "$LLM_BASE", "model": "e"},
 "llm": {"base_url": "$LLM_BASE", "model": "m", "cache": {"path": "$TMP/cache.sqlite"}},
 "arms": [{"name": "llm"}], "baselines": ["zero"], "episodes": {"seeds": [1]}}
JSON
expect_status 0 "dry run" -- run_fewshot sweep dry.json --dry-run -o run
expect_grep '^episodes: 2, 0 already finished$' "$TMP/out" "the plan"
[ ! -e cache.sqlite ] && pass || fail "the dry run created the cache file"
[ ! -e xdg ] && pass || fail "the dry run created a cache directory"
[ ! -e run ] && pass || fail "the dry run created the run directory"
curl -s "http://127.0.0.1:$LLM_PORT/stats" > stats.json
expect_grep '"requests": *0[,}]' stats.json "the dry run sent no request (embeddings, chat)"
# and the real run does use them (the counters can fail)
expect_status 0 "the run" -- run_fewshot sweep dry.json -o run --no-report
curl -s "http://127.0.0.1:$LLM_PORT/stats" > stats.json
expect_grep '"embeddings": *[1-9]' stats.json "the run embeds remotely"
[ -e cache.sqlite ] && pass || fail "the run made no cache"

# an arm skipped for lack of a key still has its llm section checked
unset FEWSHOT_NO_SUCH_KEY
cat > skip.json <<'JSON'
{"env": {"plugin": "room", "params": {"horizon": 4}},
 "llm": {"base_url": "https://api.example.com/v1", "model": "m", "api_key_env": "FEWSHOT_NO_SUCH_KEY",
         "temperature": "hot"},
 "arms": [{"name": "remote"}], "baselines": ["zero"], "episodes": {"seeds": [1]}}
JSON
expect_status 2 "a skipped arm with a bad llm section" -- run_fewshot sweep skip.json --dry-run
expect_grep 'skip.json: \$\.llm\.temperature: arm remote: expected a number' "$TMP/err" "the skipped arm's error is named"
finish
