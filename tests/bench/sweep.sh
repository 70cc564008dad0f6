#!/bin/sh
# Sweep benchmark: the sweep's own overhead per decision (everything except waiting for the
# LLM) with 64 concurrent episodes against the test LLM server, and the cached-rerun wall time
# of the quickstart. Baselines timed in the same run: the same episodes with the zero policy
# (environment steps and result storage only), and the first, uncached quickstart run.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
FEWSHOT=${FEWSHOT:-$top_builddir/fewshot}
server="$top_builddir/tests/llm-server/llm-server"
if [ ! -x "$server" ]; then echo "sweep bench: SKIP (no test LLM server)"; exit 0; fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fewshot-bench.XXXXXX")
FEWSHOT_PLUGIN_PATH="$top_builddir/tests/plugins/.libs:$top_builddir/plugins/.libs"
FEWSHOT_GNUPLOT=
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT
cd "$TMP" || exit 1
"$server" --port 0 --port-file port --mode controller --gain 0.02 --lifetime 900 > server.log 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null; cd /; rm -rf "$TMP"' EXIT
for i in $(seq 1 100); do [ -s port ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat port)/v1"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }

episodes=64 horizon=48
decisions=$((episodes * horizon))
cat > bench.json <<JSON
{"env": {"plugin": "room", "params": {"horizon": $horizon}},
 "demos": {"episodes": 4, "steps": $horizon, "seed": 100},
 "selection": {"knn": 4, "history": 4},
 "prompt": {"action_scale": 100,
            "templates": {"state": "{{#rooms}}{{name}}: {{temperature}} degrees Celsius\n{{/rooms}}Outside Temperature: {{outdoor_temperature}} degrees Celsius.\nTarget Temperature: {{target}} degrees Celsius."}},
 "llm": {"base_url": "$url", "model": "bench", "temperature": 0, "concurrency": 64,
         "cache": {"path": "$TMP/cache.sqlite"}},
 "arms": [{"name": "llm"}],
 "report": {"plots": false},
 "episodes": {"seeds": {"count": $episodes}}}
JSON
sed 's/"arms": \[{"name": "llm"}\]/"arms": [], "baselines": ["zero"]/' bench.json > zero.json

t0=$(now); "$FEWSHOT" sweep zero.json -o zero --jobs 64 --no-report 2>/dev/null; t1=$(now)
t_zero=$(elapsed $t0 $t1)
t0=$(now); "$FEWSHOT" sweep bench.json -o first --jobs 64 --no-report 2>/dev/null; t1=$(now)
t_first=$(elapsed $t0 $t1)
t0=$(now); "$FEWSHOT" sweep bench.json -o cached --jobs 64 --no-report 2>/dev/null; t1=$(now)
t_cached=$(elapsed $t0 $t1)
hits=$("$FEWSHOT" report cached --episodes | awk -F, 'NR > 1 {h += $13} END {print h + 0}')
echo "sweep: $episodes episodes x $horizon steps = $decisions decisions, 64 in flight (room plugin)"
awk -v z="$t_zero" -v f="$t_first" -v c="$t_cached" -v n="$decisions" -v h="$hits" 'BEGIN {
    printf "  zero policy (env step + storage):        %7.3f s  %8.1f us/step\n", z, 1e6 * z / n
    printf "  LLM loop, test server:                   %7.3f s  %8.1f us/decision  %.0f decisions/s\n", f, 1e6 * f / n, n / f
    printf "  LLM loop, every reply cached:            %7.3f s  %8.1f us/decision (the sweep'"'"'s own overhead; %d of %d cache hits)\n", c, 1e6 * c / n, h, n
    printf "  overhead per decision vs zero-policy step: %.1fx\n", c / z
}'

# the quickstart: first run against the test server, then a cached rerun into a new directory
qs="$top_srcdir/examples/configs/quickstart.json"
set_qs="--set llm.base_url=$url --set llm.api_key_env= --set llm.cache={\"path\":\"$TMP/qcache.sqlite\"}"
t0=$(now); "$FEWSHOT" sweep "$qs" -o q1 $set_qs --no-report 2>/dev/null; t1=$(now)
q_first=$(elapsed $t0 $t1)
t0=$(now); "$FEWSHOT" sweep "$qs" -o q2 $set_qs --no-report 2>/dev/null; t1=$(now)
q_cached=$(elapsed $t0 $t1)
echo "quickstart (hvac, 18 episodes, 144 LLM decisions, report included):"
awk -v f="$q_first" -v c="$q_cached" 'BEGIN {
    printf "  first run against the test server: %.3f s\n  cached rerun:                      %.3f s  (%.2fx of the first)\n", f, c, c / f }'
