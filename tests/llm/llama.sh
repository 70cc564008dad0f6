#!/bin/sh
# Integration with a real llama.cpp llama-server (built by .ci/build-llama-server from the
# node-llama-cpp 3.21.1 bundle) serving a tiny random-weight model: chat, completions,
# embeddings, structured output under a JSON schema, concurrency, and a sweep whose history
# turns the server serves from its prompt cache. Skips when not built.
. "$top_srcdir/tests/lib.sh"
LLAMA_DIR=${FEWSHOT_LLAMA_DIR:-$(sh "$top_srcdir/.ci/build-llama-server" --print-dir)}
LLAMA=$LLAMA_DIR/llama-server
MODEL=$LLAMA_DIR/test-model.gguf
[ -x "$LLAMA" ] && [ -s "$MODEL" ] || skip "no llama-server in $LLAMA_DIR (run .ci/build-llama-server)"
LOAD=$top_builddir/tests/bench/llm-load
[ -x "$LOAD" ] || skip "tests/bench/llm-load is not built"
PIDS=
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
XDG_CACHE_HOME=$TMP/xdg
export XDG_CACHE_HOME
unset OPENAI_API_KEY FEWSHOT_BASE_URL OPENAI_BASE_URL

# start_llama NAME ARGS...: on a free port, waits for /health; sets PORT_<NAME>
SERVERS=0
start_llama() {
    name=$1; shift
    SERVERS=$((SERVERS + 1))
    for try in 1 2 3 4 5; do
        port=$(( 20000 + ($$ * 7 + try * 131 + SERVERS * 1009) % 30000 ))
        # a port another server already answers on is taken
        if curl -s "http://127.0.0.1:$port/" > /dev/null 2>&1; then continue; fi
        "$LLAMA" -m "$MODEL" --host 127.0.0.1 --port "$port" --offline -t 2 -s 42 -c 2048 \
            "$@" > "$TMP/$name.log" 2>&1 &
        pid=$!
        i=0
        while [ $i -lt 600 ]; do
            if ! kill -0 "$pid" 2>/dev/null; then break; fi
            if curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && kill -0 "$pid" 2>/dev/null; then
                PIDS="$PIDS $pid"
                eval "PORT_$name=$port"
                return 0
            fi
            sleep 0.1
            i=$((i + 1))
        done
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    done
    tail -20 "$TMP/$name.log" >&2
    fail "llama-server ($name) did not start"
    finish
    exit 1
}

start_llama gen -np 4
start_llama emb --embeddings --pooling mean
GEN="--base-url http://127.0.0.1:$PORT_gen/v1 --api-key-env= --model test --no-cache"
EMB="--base-url http://127.0.0.1:$PORT_emb/v1 --api-key-env= --model test --no-cache"

expect_status 0 "models" -- run_fewshot llm models $GEN
[ -s "$TMP/out" ] && pass || fail "models lists the loaded model"

expect_status 0 "chat" -- run_fewshot llm chat $GEN --max-tokens 8 --temperature 0 --seed 42 "Hello"
expect_grep 'completion_tokens=[1-9]' "$TMP/err" "chat generated tokens"
expect_grep 'finish_reason=(length|stop)' "$TMP/err" "chat finish reason"
run_fewshot llm chat $GEN --max-tokens 8 --temperature 0 --seed 42 "Hello" > "$TMP/again" 2>/dev/null
cmp -s "$TMP/out" "$TMP/again" && pass || fail "temperature 0 with a seed is repeatable"

# the server's prefix cache: the same long prompt again is served mostly from its slot's cache,
# and the client reads llama.cpp's count (usage.prompt_tokens_details.cached_tokens)
long=$(seq 1 150 | tr '\n' ' ')
run_fewshot llm chat $GEN --max-tokens 2 --temperature 0 "Count: $long" > /dev/null 2>&1
expect_status 0 "chat again" -- run_fewshot llm chat $GEN --max-tokens 2 --temperature 0 "Count: $long"
expect_grep 'cached_tokens=[1-9]' "$TMP/err" "llama.cpp's cached prompt tokens are read"

expect_status 0 "completion" -- run_fewshot llm complete $GEN --max-tokens 8 --temperature 0 "Once upon a time"
expect_grep 'completion_tokens=[1-9]' "$TMP/err" "completion generated tokens"
expect_status 0 "stream" -- run_fewshot llm complete $GEN --max-tokens 8 --temperature 0 --stream "Once upon a time"
expect_grep 'completion_tokens=[0-9]' "$TMP/err" "streamed completion"

expect_status 0 "embed" -- run_fewshot llm embed $EMB "a sentence to embed"
expect_grep 'dimension=64 ' "$TMP/err" "embedding has the model's width"
expect_grep '^\[-?[0-9]' "$TMP/out" "embedding printed"

# structured output: even random weights must produce schema-valid actions
cat > "$TMP/schema.json" <<'JSON'
{"type": "object", "properties": {"actions": {"type": "array", "minItems": 3, "maxItems": 3,
 "items": {"type": "integer", "minimum": -100, "maximum": 100}}},
 "required": ["actions"], "additionalProperties": false}
JSON
expect_status 0 "json schema" -- run_fewshot llm chat $GEN --max-tokens 200 --temperature 0 \
    --json-schema "$TMP/schema.json" "Room 1: 20. Room 2: 23. Room 3: 22. Target: 22. Actions?"
"$PYTHON3" - "$TMP/out" "$TMP/schema.json" <<'PY' && pass || fail "structured output is not schema-valid: $(cat "$TMP/out")"
import json, sys
doc = json.load(open(sys.argv[1]))
a = doc["actions"]
assert set(doc) == {"actions"} and len(a) == 3
assert all(isinstance(x, int) and not isinstance(x, bool) and -100 <= x <= 100 for x in a)
PY

# concurrency: 16 requests, 4 in flight, over one client; each structured reply valid
if "$LOAD" --base-url "http://127.0.0.1:$PORT_gen/v1" --model test --requests 16 --in-flight 4 \
        --max-tokens 200 --schema "$TMP/schema.json" --check-actions 3 > "$TMP/load.json" 2> "$TMP/load.err"; then
    pass
else
    fail "concurrent requests: $(cat "$TMP/load.json" "$TMP/load.err")"
fi
expect_grep '"ok": ?16' "$TMP/load.json" "all 16 succeeded"
expect_grep '"max_in_flight_seen": ?4' "$TMP/load.json" "4 in flight at once"
cat "$TMP/load.json"

# A sweep against the real server, its history as turns (the default) and as demonstrations
# (the paper's): both run, every structured reply parses, and llama.cpp's own count of the
# prompt tokens it reused from its cache is higher with turns, where each prompt of a history
# window continues the previous one. One slot, so the cache is the previous request's.
start_llama sweep -np 1 -c 4096
cat > "$TMP/schema-room.json" <<'EOF2'
{"type": "object", "properties": {"actions": {"type": "array", "minItems": 1, "maxItems": 1,
 "items": {"type": "integer", "minimum": -100, "maximum": 100}}}, "required": ["actions"],
 "additionalProperties": false}
EOF2
cat > "$TMP/room.json" <<EOF2
{"env": {"plugin": "room", "params": {"horizon": 8}},
 "demos": {"episodes": 3, "steps": 8, "seed": 100},
 "selection": {"knn": 0, "clusters": 2, "history": 3},
 "prompt": {"action_scale": 100},
 "llm": {"base_url": "http://127.0.0.1:$PORT_sweep/v1", "api_key_env": "", "model": "test",
         "temperature": 0, "seed": 42, "max_tokens": 24, "cache": {"mode": "off"},
         "response_format": {"type": "json_schema", "json_schema": {"name": "actions",
                             "schema": $(cat "$TMP/schema-room.json")}}},
 "arms": [{"name": "turns"},
          {"name": "demonstrations", "prompt": {"history_layout": "demonstrations"}}],
 "report": {"plots": false},
 "episodes": {"seeds": [1]}}
EOF2
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
export FEWSHOT_PLUGIN_PATH
expect_status 0 "a sweep against llama-server" -- run_fewshot sweep "$TMP/room.json" \
    -o "$TMP/room" --no-report --jobs 1
"$PYTHON3" - "$TMP/room/results.sqlite" <<'PY' && pass || fail "llama-server sweep"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.row_factory = sqlite3.Row
rows = {r["arm"]: r for r in db.execute("SELECT * FROM episodes")}
for r in rows.values():
    assert r["status"] == "ok" and r["llm_calls"] == 8, dict(r)
    assert r["parse_failures"] == 0, dict(r)
def steps(arm):
    return [(r["prompt_tokens"], r["cached_tokens"]) for r in db.execute(
        "SELECT prompt_tokens, cached_tokens FROM steps WHERE episode LIKE ? ORDER BY t",
        (arm + "/%",))]
# within a history window (3 steps, block), the server reused the whole previous prompt
def continued(s):
    return [t for t in range(1, len(s)) if s[t][1] >= s[t - 1][0] - 1]
t, d = steps("turns"), steps("demonstrations")
print("llama.cpp prompt/cached tokens per step: turns", t, "demonstrations", d)
assert continued(t) == [1, 2, 3, 5, 6], continued(t)
assert continued(d) == [], continued(d)
assert sum(c for _, c in t) > sum(c for _, c in d)
PY

finish
