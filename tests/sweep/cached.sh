#!/bin/sh
# A cached rerun changes nothing: the first run fills the LLM cache from the test server, a
# rerun into another directory is served from it (no HTTP request), and its results.sqlite
# (every column but the timings and the cache-hit flags), its summary.csv (but cache_hits) and
# `fewshot report --steps` equal the first run's, as do the steps of shards run one episode at
# a time. Observations and actions are stored as BLOBs of doubles; --steps gives them back as
# the numbers stepped.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/llm-server/start.sh"
command -v sqlite3 > /dev/null 2>&1 || skip "sqlite3 (the command) is not installed"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
FEWSHOT_GNUPLOT=
XDG_CACHE_HOME=$TMP/xdg
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT XDG_CACHE_HOME
cd "$TMP" || exit 1

start_llm_server --mode controller --log "$TMP/requests.log"
url=$LLM_BASE

cat > cached.json <<JSON
{
  "name": "cached",
  "env": {"plugin": "room", "params": {"horizon": 10}},
  "scenarios": [{"name": "cold", "params": {"outdoor": 0}},
                {"name": "mild", "params": {"outdoor": 10}}],
  "demos": {"episodes": 2, "steps": 10, "seed": 7},
  "selection": {"knn": 2, "history": 2},
  "prompt": {"action_scale": 100,
             "templates": {"state": "{{#rooms}}{{name}}: {{temperature}} degrees Celsius\n{{/rooms}}Outside Temperature: {{outdoor_temperature}} degrees Celsius.\nTarget Temperature: {{target}} degrees Celsius."}},
  "llm": {"base_url": "$url", "model": "test-controller", "temperature": 0,
          "cache": {"path": "$TMP/cache.sqlite"}},
  "arms": [{"name": "llm", "prompt": {"style": "completion"}}, {"name": "chat", "prompt": {"style": "chat"}}],
  "baselines": ["zero"],
  "design": {"reference": "zero"},
  "episodes": {"seeds": [1, 2]}
}
JSON
requests() { wc -l < requests.log; }   # the server logs one line per request

expect_status 0 "first run" -- run_fewshot sweep cached.json -o first --jobs 4
before=$(requests)
expect_status 0 "cached rerun" -- run_fewshot sweep cached.json -o again --jobs 4
[ "$(requests)" = "$before" ] && pass || fail "the cached rerun sent $(($(requests) - before)) requests"

# results.sqlite: equal but for timings (seconds, finished, latency) and cache hits
steps="SELECT episode, t, hex(obs), hex(action), reward, terms, prompt_hash, reply, demos, parse,
       prompt_tokens, completion_tokens FROM steps ORDER BY episode, t"
episodes="SELECT id, ord, arm, scenario, seed, status, steps, reward, terms, llm_calls,
          prompt_tokens, completion_tokens, cost, parse_failures, error FROM episodes ORDER BY id"
for d in first again; do
    sqlite3 $d/results.sqlite "$steps" > $d.steps
    sqlite3 $d/results.sqlite "$episodes" > $d.episodes
    sqlite3 $d/results.sqlite "SELECT sum(cache_hit) FROM steps" > $d.hits
    # summary.csv without its cache_hits column
    awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "cache_hits") h = i}
             {s = ""; for (i = 1; i <= NF; i++) if (i != h) s = s (s == "" ? "" : ",") $i; print s}' \
        $d/summary.csv > $d.summary
    run_fewshot report $d --steps | sed 's/"latency":[^,]*,//; s/"cache_hit":[01]//' > $d.jsonl
done
[ "$(wc -l < first.steps)" -eq 120 ] && pass || fail "expected 120 steps, got $(wc -l < first.steps)"
cmp -s first.steps again.steps && pass || { fail "steps differ"; diff first.steps again.steps | head -4 >&2; }
cmp -s first.episodes again.episodes && pass || { fail "episodes differ"; diff first.episodes again.episodes | head -4 >&2; }
cmp -s first.summary again.summary && pass || { fail "summary.csv differs"; diff first.summary again.summary | head -4 >&2; }
cmp -s first.jsonl again.jsonl && pass || fail "report --steps differs"
[ "$(cat first.hits)" = 0 ] && [ "$(cat again.hits)" = 80 ] && pass \
    || fail "cache hits: first run $(cat first.hits), rerun $(cat again.hits) (expected 0 and 80)"

# observations and actions: BLOBs of 8-byte doubles, and --steps gives numbers back
[ "$(sqlite3 first/results.sqlite "SELECT DISTINCT typeof(obs) || typeof(action) FROM steps")" = blobblob ] \
    && pass || fail "obs and action are not stored as BLOBs"
sqlite3 first/results.sqlite "SELECT length(action) FROM steps WHERE episode = 'llm/cold/1' AND t = 0" > len
head -1 first.jsonl > line
expect_grep '^\{"episode":"[^"]*","t":0,"obs":\[-?[0-9]' line "--steps prints observations as numbers"
n=$(sed 's/.*"action":\[\([^]]*\)\].*/\1/' line | tr ',' '\n' | wc -l)
[ "$(cat len)" -eq $((8 * n)) ] && pass || fail "action BLOB of $(cat len) bytes for $n values"
# and every stepped action is the one the parser read from the reply, times the scale
awk 'BEGIN {ok = 1} /"episode":"llm\// {
         a = $0; sub(/.*"action":\[/, "", a); sub(/\].*/, "", a)
         r = $0; sub(/.*"reply":"Actions: \[/, "", r); sub(/\].*/, "", r)
         na = split(a, av, ","); nr = split(r, rv, ", ")
         if (na != nr) ok = 0
         for (i = 1; i <= na; i++) if (av[i] * 100 - rv[i] > 1e-9 || rv[i] - av[i] * 100 > 1e-9) ok = 0
     } END {exit !ok}' first.jsonl && pass || fail "stored actions differ from the replies"
# an episode's prompts do not depend on the arm's other episodes: an arm's agents share the
# dataset demonstrations' renderings, and each shard (one at a time, in another order) renders
# others before its own; every step equals the whole run's, prompt_hash included
for i in 1 2; do
    expect_status 0 "shard $i/2" -- run_fewshot sweep cached.json -o part$i --shard $i/2 --jobs 1 \
        --no-report
done
for d in part1 part2; do sqlite3 $d/results.sqlite "$steps"; done | sort > parts.steps
sort first.steps > first.sorted
cmp -s first.sorted parts.steps && pass || { fail "sharded steps differ from the whole run's";
                                              diff first.sorted parts.steps | head -4 >&2; }
# run directories of earlier versions hold obs and action as JSON text: read the same way
cp -r first old
sqlite3 old/results.sqlite "UPDATE steps SET obs = '[1.5,-2.0]', action = '[0.25]'
                             WHERE episode = 'zero/cold/1' AND t = 3"
run_fewshot report old --steps | grep '"episode":"zero/cold/1","t":3,' > old.line
expect_grep '"obs":\[1.5,-2.0\],"action":\[0.25\],' old.line "JSON text columns are read as arrays"
finish
