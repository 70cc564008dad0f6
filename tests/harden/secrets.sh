#!/bin/sh
# A canary API key never reaches output, logs, results or caches, even when the servers quote
# it back (tests/llm-server mode leak): the remote embedder's errors in `fewshot prompt` and
# `fewshot sweep`, and an LLM that starts answering 401s with the key in mid-run.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/llm-server/start.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
FEWSHOT_GNUPLOT=
XDG_CACHE_HOME=$TMP/xdg
FEWSHOT_CANARY_KEY=sk-canary-8c1f0e77d2
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT XDG_CACHE_HOME FEWSHOT_CANARY_KEY
cd "$TMP" || exit 1
start_llm_server --mode controller
url="http://127.0.0.1:$LLM_PORT"
no_canary() { # what
    if grep -rlaF "$FEWSHOT_CANARY_KEY" "$TMP" --exclude-dir=server 2>/dev/null | grep -v '/llm\.[0-9]*\.port$' > leaks; then
        fail "$1: the key appears in: $(tr '\n' ' ' < leaks)"
    else
        pass
    fi
}
cat > emb.json <<JSON
{"env": {"plugin": "room", "params": {"horizon": 3}},
 "demos": {"episodes": 1, "steps": 3, "seed": 100}, "selection": {"knn": 1},
 "embedding": {"kind": "remote", "base_url": "$url/mode=leak/v1", "model": "e",
               "api_key_env": "FEWSHOT_CANARY_KEY"},
 "llm": {"base_url": "$url/v1", "model": "m", "api_key_env": "FEWSHOT_CANARY_KEY",
         "cache": {"path": "$TMP/cache.sqlite"}},
 "arms": [{"name": "llm"}], "baselines": [], "episodes": {"seeds": [1]}}
JSON
expect_status 1 "prompt with a leaking embedder" -- run_fewshot prompt emb.json
expect_grep 'remote embedder: HTTP 401 .*Incorrect API key provided: \*{8}' "$TMP/err" "the embedder's 401 is shown masked"
no_canary "fewshot prompt"
expect_status 0 "dry run with a leaking embedder (it calls no endpoint)" -- run_fewshot sweep emb.json --dry-run -o dry
no_canary "fewshot sweep --dry-run"
run_fewshot sweep emb.json -o run-emb > out-emb 2> err-emb
no_canary "fewshot sweep with a leaking embedder"

# an LLM that answers 3 requests, then 401s quoting the key: errors stored in results.sqlite
cat > llm.json <<JSON
{"env": {"plugin": "room", "params": {"horizon": 3}},
 "demos": {"episodes": 1, "steps": 3, "seed": 100}, "selection": {"knn": 1},
 "llm": {"base_url": "$url/mode=controller,fail=3,then=leak/v1", "model": "m",
         "api_key_env": "FEWSHOT_CANARY_KEY", "cache": {"path": "$TMP/cache.sqlite"}},
 "arms": [{"name": "llm"}], "baselines": [], "episodes": {"seeds": [1, 2]}}
JSON
expect_status 1 "a sweep whose LLM turns to 401s" -- run_fewshot sweep llm.json -o run-llm --jobs 1
expect_grep 'Incorrect API key provided: \*{8}' "$TMP/err" "the 401 is reported masked"
if command -v sqlite3 >/dev/null; then
    sqlite3 run-llm/results.sqlite "SELECT error FROM episodes WHERE status = 'failed'" > errors.txt
    expect_grep 'Incorrect API key provided: \*{8}' errors.txt "episodes.error holds the masked message"
fi
no_canary "fewshot sweep with a 401 in mid-run"
finish
