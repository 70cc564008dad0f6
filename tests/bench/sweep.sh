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
XDG_CACHE_HOME=$TMP/xdg     # the demonstration store and any default cache stay in here
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT XDG_CACHE_HOME
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

# Per-decision CPU of an LLM arm on paper.json (OfficeMedium, 18 rooms, 8 demonstrations,
# 13 KB prompts), every reply cached, against a zero-action step (environment step and result
# storage) of the same episodes. Each is the difference between runs of 3 and 1 seeds (3
# scenarios x 24 steps each), so setup (weather, demonstrations, MPC) cancels out. Callgrind
# instruction counts are load-independent; CPU seconds are printed beside them. Under
# valgrind OpenSSL cannot use the SHA extensions, so its two SHA-256 passes over each prompt
# (the results' prompt_hash, the cache key) count about 0.4M instructions each for the whole
# 13 KB, natively about 7 us each (openssl speed sha256); both resume from the state kept at
# the prefix the episode's last prompt shares (llm_digest.c), about 0.17M each here.
paper="$top_srcdir/examples/configs/paper.json"
set_paper="--set llm.base_url=$url --set llm.api_key_env= --set llm.cache={\"path\":\"$TMP/pcache.sqlite\"} --set design.reference=same-building --set arms=[{\"name\":\"same-building\"}] --set baselines=[] --jobs 1 --no-report"
set_zero="--set design.reference=zero --set arms=[] --set baselines=[\"zero\"] --jobs 1 --no-report"
"$FEWSHOT" sweep "$paper" -o pfill $set_paper --set episodes.seeds.count=6 2>/dev/null
cpu_of() { # DIR ARGS...: CPU seconds (user + system) of one sweep
    d=$1; shift
    /usr/bin/time -f '%U %S' -o "$TMP/time" "$FEWSHOT" sweep "$paper" -o "$d" "$@" 2>/dev/null >/dev/null
    awk '{print $1 + $2}' "$TMP/time"
}
ir_of() { # DIR ARGS...: instructions of one sweep under callgrind (profile in DIR.cg)
    d=$1; shift
    "$top_builddir/libtool" --mode=execute valgrind --tool=callgrind --callgrind-out-file="$TMP/$d.cg" \
        "$FEWSHOT" sweep "$paper" -o "$d" "$@" 2>&1 | sed -n 's/.*Collected : //p'
}
incl() { # PROFILE FUNCTION: its inclusive instructions
    callgrind_annotate --inclusive=yes "$TMP/$1.cg" 2>/dev/null |
        awk -v f="$2" 'index($0, f " [") {gsub(/,/, "", $1); print $1; exit}'
}
n_paper=144   # 2 more seeds x 3 scenarios x 24 steps
if [ -x /usr/bin/time ]; then
    # CPU time has a 10 ms resolution: more seeds (LLM 6 - 1, zero 41 - 1)
    c_l1=$(cpu_of pl1 $set_paper --set episodes.seeds.count=1)
    c_l3=$(cpu_of pl3 $set_paper --set episodes.seeds.count=6)
    c_z1=$(cpu_of pz1 $set_zero --set episodes.seeds.count=1)
    c_z3=$(cpu_of pz3 $set_zero --set episodes.seeds.count=41)
    hits=$("$FEWSHOT" report pl3 --episodes | awk -F, 'NR > 1 {h += $13; n += $8} END {print h "/" n}')
    echo "paper.json per decision (every reply cached: $hits LLM calls from the cache):"
    awk -v a="$c_l1" -v b="$c_l3" -v c="$c_z1" -v d="$c_z3" 'BEGIN {
        l = (b - a) / 360 * 1e6; z = (d - c) / 2880 * 1e6
        printf "  CPU: LLM decision %.1f us, zero-action step %.1f us: %.1fx (noisy on a busy machine)\n", l, z, (z > 0 ? l / z : 0) }'
fi
if command -v valgrind > /dev/null 2>&1; then
    i_l1=$(ir_of cl1 $set_paper --set episodes.seeds.count=1)
    i_l3=$(ir_of cl3 $set_paper --set episodes.seeds.count=3)
    i_z1=$(ir_of cz1 $set_zero --set episodes.seeds.count=1)
    i_z3=$(ir_of cz3 $set_zero --set episodes.seeds.count=3)
    # the expert's MPC solve (the retrieval measures' agreement) is the plugin's: the decision
    # without it is what the sweep itself spends
    m_l1=0 m_l3=0
    if command -v callgrind_annotate > /dev/null 2>&1; then
        m_l1=$(incl cl1 :hvac_mpc_solve) m_l3=$(incl cl3 :hvac_mpc_solve)
    fi
    awk -v a="$i_l1" -v b="$i_l3" -v c="$i_z1" -v d="$i_z3" -v n=$n_paper \
        -v m1="${m_l1:-0}" -v m3="${m_l3:-0}" 'BEGIN {
        gsub(/,/, "", a); gsub(/,/, "", b); gsub(/,/, "", c); gsub(/,/, "", d)
        l = (b - a) / n; z = (d - c) / n; m = ((m3 + 0) - (m1 + 0)) / n
        printf "  callgrind: LLM decision %.2fM instructions, zero-action step %.3fM: %.1fx (aim <= 5x)\n", l / 1e6, z / 1e6, l / z
        printf "  callgrind: LLM decision without the MPC solve (hvac_mpc_solve %.2fM): %.2fM, %.1fx a zero-action step\n", m / 1e6, (l - m) / 1e6, (l - m) / z
        if (l / z > 5) print "WARNING: an LLM decision costs more than 5 zero-action steps" }'
    if command -v callgrind_annotate > /dev/null 2>&1; then
        printf '  of a decision:'
        for f in :fewshot_prompt_build :fewshot__llm_submit_keyed :fewshot__digest_text \
                 :fewshot_env_policy :fewshot__retriever_state_digest :fewshot__results_store; do
            awk -v a="$(incl cl1 "$f")" -v b="$(incl cl3 "$f")" -v n=$n_paper -v f="$f" \
                'BEGIN {printf " %s %.2fM", substr(f, 2), ((b + 0) - (a + 0)) / n / 1e6}'
        done
        echo
        echo "  (fewshot__llm_submit_keyed, the agent's fewshot_llm_submit: serialize, cache key, lookup;"
        echo "   fewshot__digest_text: the prompt_hash, hashed from where the episode's last prompt differs;"
        echo "   fewshot_env_policy and fewshot__retriever_state_digest: the retrieval measures' expert"
        echo "   action and demonstration texts, rendered only when shown actions tie; result storage"
        echo "   is per step, shared with the zero arm)"
    fi
else
    echo "  callgrind: SKIP (valgrind not installed)"
fi

# The quickstart's first and cached runs in instructions (load-independent), and where the
# cached rerun's go: weather (per environment or shared), demonstrations (generated or stored),
# the LLM client (serialize, key, cache lookup), result storage.
if command -v valgrind > /dev/null 2>&1 && command -v callgrind_annotate > /dev/null 2>&1; then
    set_qc="--set llm.base_url=$url --set llm.api_key_env= --set llm.cache={\"path\":\"$TMP/qcache2.sqlite\"}"
    for r in qa qb; do
        "$top_builddir/libtool" --mode=execute valgrind --tool=callgrind \
            --callgrind-out-file="$TMP/$r.cg" "$FEWSHOT" sweep "$qs" -o $r $set_qc --no-report \
            > /dev/null 2>&1
    done
    share() { callgrind_annotate --inclusive=yes "$TMP/qb.cg" 2>/dev/null |
              awk -v f="$1" 'index($0, f " [") {gsub(/,/, "", $1); print $1; exit}'; }
    total() { callgrind_annotate "$TMP/$1.cg" 2>/dev/null |
              awk '/PROGRAM TOTALS/ {gsub(/,/, "", $1); print $1; exit}'; }
    awk -v a="$(total qa)" -v b="$(total qb)" -v w="$(share ':load_weather')" \
        -v d="$(share ':fewshot_demos_generate')" -v l="$(share ':fewshot__llm_submit_keyed')" \
        -v s="$(share ':fewshot__results_store')" -v e="$(share ':fewshot_env_policy')" 'BEGIN {
        printf "  callgrind: first run %.0fM instructions, cached rerun %.0fM (%.2fx); of the rerun:\n", a / 1e6, b / 1e6, b / a
        printf "    weather (loaded or generated) %.0f%%, demonstrations %.0f%%, LLM client %.0f%%, result storage %.0f%%,\n",
               100 * w / b, 100 * d / b, 100 * l / b, 100 * s / b
        printf "    expert policy (the expert baseline and the retrieval measures) %.0f%%\n", 100 * e / b }'
fi
