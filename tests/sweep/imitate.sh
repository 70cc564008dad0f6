#!/bin/sh
# The method's claim, tested with an LLM that can only imitate: the test server's imitate mode
# copies the actions of the demonstration in the prompt whose state is nearest the current
# one, and answers zeros without demonstrations. So an LLM arm beats zero only through the
# demonstrations it is shown, and comes close to the expert only when they fit the scenario:
#   1. the mode itself, on prompts of today's form and of the paper's Figure 2 form, chat and
#      completion;
#   2. quickstart.json and paper.json at small sizes: every LLM arm beats zero, the arms
#      whose demonstrations match the scenario beat zero on every scenario and close 70% of
#      the expert's gain over zero, and dropping the demonstrations loses that gain;
#   3. the control: demonstrations of the opposite season fail the same check, so the check
#      is of the demonstrations' fit, not of the plumbing.
# The full-size run is in tests/llm-server/README ("A full imitation run").
. "$top_srcdir/tests/lib.sh"
server="$top_builddir/tests/llm-server/llm-server"
[ -x "$server" ] || skip "the test LLM server was not built (libmicrohttpd missing)"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
FEWSHOT_GNUPLOT=
XDG_CACHE_HOME=$TMP/cache
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT XDG_CACHE_HOME
cd "$TMP" || exit 1

"$server" --port 0 --port-file port --mode imitate --lifetime 600 > server.log 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null; rm -rf "$TMP"' EXIT
for i in $(seq 1 100); do [ -s port ] && break; sleep 0.05; done
[ -s port ] || { fail "the test server did not start"; finish; exit 1; }
url="http://127.0.0.1:$(cat port)/v1"
llm() { run_fewshot llm "$@" --base-url "$url" --model imitate --api-key-env "" --no-cache; }

# ---------------------------------------------------------------- 1. the mode
# Figure 2 form: labels, feedback repeating the actions and listing temperatures after them
cat > fig2.txt <<'EOF'
You are an HVAC administrator.
For your reference, 2 demonstrations are provided below.
Demonstration 1:
Description: The building has 2 rooms in total. Currently, temperature in each room is as follows:
Room 1: 18 degrees Celsius
Room 2: 19 degrees Celsius
The external climate conditions are as follows:
Outside Temperature: -5 degrees Celsius. Global Horizontal Irradiance: 300. Target Temperature: 22 degrees Celsius.
Actions: [60, 55]
Feedbacks:
Reward: 8
Actions: [60, 55]
Comments: After taking the above actions, temperature in each room becomes: Room 1: 25 degree Celsius Room 2: 26 degree Celsius
The action for Room 1 shall be decreased as its temperature is higher than the target temperature.
Demonstration 2:
Description: The building has 2 rooms in total. Currently, temperature in each room is as follows:
Room 1: 26 degrees Celsius
Room 2: 27 degrees Celsius
The external climate conditions are as follows:
Outside Temperature: 31 degrees Celsius. Global Horizontal Irradiance: 0. Target Temperature: 22 degrees Celsius.
Actions: [-40, -45]
Feedbacks:
Reward: 3
Actions: [-40, -45]
Comments: After taking the above actions, temperature in each room becomes: Room 1: 18 degree Celsius Room 2: 19 degree Celsius
Please decide opening of the valve in each room based on the following description:
Description: The building has 2 rooms in total. Currently, temperature in each room is as follows:
Room 1: 25 degrees Celsius
Room 2: 26 degrees Celsius
The external climate conditions are as follows:
Outside Temperature: 29 degrees Celsius. Global Horizontal Irradiance: 250. Target Temperature: 22 degrees Celsius.
Actions:
EOF
expect_status 0 "imitate, completion" -- llm complete - < fig2.txt
expect_grep '^Actions: \[-40, -45\]$' "$TMP/out" "the nearest demonstration's actions (completion)"
# chat: the demonstrations and the current state in different messages
head -n 27 fig2.txt > demos-part.txt
tail -n +28 fig2.txt > current-part.txt
expect_status 0 "imitate, chat" -- llm chat --system "$(cat demos-part.txt)" "$(cat current-part.txt)"
expect_grep '^Actions: \[-40, -45\]$' "$TMP/out" "the nearest demonstration's actions (chat)"
# the first demonstration's feedback temperatures (25, 26) are not its state
sed 's/^Outside Temperature: 29/Outside Temperature: -4/; s/Irradiance: 250/Irradiance: 300/' \
    fig2.txt | sed '28,$ { s/Room 1: 25/Room 1: 18/; s/Room 2: 26/Room 2: 19/; }' > winter.txt
expect_status 0 "imitate, winter state" -- llm complete - < winter.txt
expect_grep '^Actions: \[60, 55\]$' "$TMP/out" "a winter state copies the heating demonstration"
# no Description: markers; a demonstration of 2 actions for a state of 3 rooms is fitted
expect_status 0 "imitate, no markers" -- llm complete "Room 1: 20, Room 2: 21. Outside: 5.
Actions: [10, 20]
Room 1: 24, Room 2: 26. Outside: 30.
Actions: [-5, -7]
Room 1: 21, Room 2: 20, Room 3: 19. Outside: 8.
Actions:"
expect_grep '^Actions: \[10, 20, 15\]$' "$TMP/out" "nearest without markers, fitted to 3 rooms"
expect_status 0 "imitate, no demonstrations" -- llm complete "Room 1: 20, Room 2: 21, Room 3: 19. Actions:"
expect_grep '^Actions: \[0, 0, 0\]$' "$TMP/out" "zeros without demonstrations"

# ---------------------------------------------------------------- 2. the shipped configs
configs="$top_srcdir/examples/configs"
SETS="--set llm.base_url=$url --set llm.model=imitate --set llm.api_key_env= --set llm.cache=off"
SETS="$SETS --set episodes.seeds=[1]"
sweep() {   # sweep CONFIG DIR [--set ...]
    c=$1; d=$2; shift 2
    expect_status 0 "sweep $(basename "$c") into $d" -- run_fewshot sweep "$c" -o "$d" --jobs 4 \
        --no-report $SETS "$@"
}
col() {     # col DIR ARM SCENARIO COLUMN
    awk -F, -v a="$2" -v s="$3" -v k="$4" 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i}
        $1 == a && $2 == s {print $c[k]}' "$1/summary.csv"
}
arms_of() { awk -F, 'NR > 1 {print $1}' "$1/summary.csv" | sort -u; }
scenarios_of() { awk -F, 'NR > 1 && $2 != "all" {print $2}' "$1/summary.csv" | sort -u; }
# fits DIR ARM SCENARIO SHARE: beats zero and closes at least SHARE of the expert's gain over
# zero on SCENARIO
fits() {
    l=$(col "$1" "$2" "$3" reward_mean); z=$(col "$1" zero "$3" reward_mean)
    e=$(col "$1" expert "$3" reward_mean)
    awk -v l="$l" -v z="$z" -v e="$e" -v s="$4" 'BEGIN {exit !(l > z && l - z >= s * (e - z))}'
}
# mean_of DIR ARM: the arm's mean reward over the scenarios
mean_of() {
    awk -F, -v a="$2" 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i}
        $1 == a && $2 != "all" {s += $c["reward_mean"]; n++} END {if (n) printf "%.6f\n", s / n}' "$1/summary.csv"
}
why() {     # why DIR ARM SCENARIO: the figures a failure message shows
    echo "(reward $(col "$1" "$2" "$3" reward_mean), zero $(col "$1" zero "$3" reward_mean)," \
         "expert $(col "$1" expert "$3" reward_mean), agreement $(col "$1" "$2" "$3" demos_agreement))"
}
# check_config CONFIG NAME MATCHING: every LLM arm beats zero over the scenarios; the MATCHING
# arms (demonstrations of the controlled building and climate) beat zero on every scenario and
# close 70% of the expert's gain over zero over the scenarios; without demonstrations every
# LLM arm equals zero
check_config() {
    c=$1; n=$2; matching=$3
    sweep "$c" "$n"
    sweep "$c" "$n-nodemos" --set 'prompt.drop=["demonstrations"]'
    [ -f "$n/summary.csv" ] && [ -f "$n-nodemos/summary.csv" ] || return
    z=$(mean_of "$n" zero); e=$(mean_of "$n" expert)
    for arm in $(arms_of "$n"); do
        case $arm in zero|expert|thermostat|knn-imitation) continue ;; esac
        l=$(mean_of "$n" "$arm")
        awk -v l="$l" -v z="$z" 'BEGIN {exit !(l > z)}' && pass \
            || fail "$n: arm $arm does not beat zero: $l against $z over the scenarios"
        case " $matching " in *" $arm "*)
            awk -v l="$l" -v z="$z" -v e="$e" 'BEGIN {exit !(l - z >= 0.7 * (e - z))}' && pass \
                || fail "$n: arm $arm is not close to the expert: $l, zero $z, expert $e" ;;
        esac
        for sc in $(scenarios_of "$n"); do
            case " $matching " in *" $arm "*)
                fits "$n" "$arm" "$sc" 0 && pass \
                    || fail "$n: arm $arm on $sc does not beat zero $(why "$n" "$arm" "$sc")" ;;
            esac
            # without demonstrations the imitator answers zeros: the gain is gone
            nd=$(col "$n-nodemos" "$arm" "$sc" reward_mean); zs=$(col "$n" zero "$sc" reward_mean)
            awk -v nd="$nd" -v z="$zs" 'BEGIN {d = nd - z; exit !(d < 1e-6 && d > -1e-6)}' \
                && pass || fail "$n: arm $arm on $sc without demonstrations: $nd, zero $zs"
            [ -z "$(col "$n-nodemos" "$arm" "$sc" demos_agreement)" ] && pass \
                || fail "$n: arm $arm on $sc shows no demonstrations but has measures"
        done
    done
}
check_config "$configs/quickstart.json" quickstart "llm"
check_config "$configs/paper.json" paper "same-building"

# the measures are recorded: LLM steps carry agreement and distinctness, baselines none
if command -v sqlite3 > /dev/null 2>&1; then
    n=$(sqlite3 paper/results.sqlite "SELECT count(*) FROM steps s JOIN episodes e ON
        s.episode = e.id WHERE e.arm = 'same-building' AND s.demos_agreement IS NOT NULL
        AND s.demos_distinct > 0 AND json_extract(s.demos, '\$[0].distance') IS NOT NULL")
    total=$(sqlite3 paper/results.sqlite "SELECT count(*) FROM steps s JOIN episodes e ON
        s.episode = e.id WHERE e.arm = 'same-building'")
    [ "$n" -gt 0 ] && [ "$n" = "$total" ] && pass || fail "paper: $n of $total steps measured"
    [ "$(sqlite3 paper/results.sqlite "SELECT count(*) FROM episodes WHERE arm = 'zero' AND
        demos_agreement IS NOT NULL")" = 0 ] && pass || fail "zero has retrieval measures"
fi
expect_status 0 "prompt --json" -- run_fewshot prompt "$configs/paper.json" --json --step 3 $SETS
expect_grep '"demos_agreement": [01]' "$TMP/out" "fewshot prompt --json prints the measures"
expect_grep '"distance": [0-9]' "$TMP/out" "fewshot prompt --json prints distances"
expect_status 0 "report" -- run_fewshot report paper
expect_grep 'distinct +agree' "$TMP/out" "the report prints the measures"

# ---------------------------------------------------------------- 3. the control
# summer demonstrations for a winter day: the same check fails, and the agreement says why
sweep "$configs/quickstart.json" opposite \
    --set 'scenarios=[{"name": "winter", "params": {"start_day": 15}}]' \
    --set 'demos={"policy": "expert", "episodes": 2, "steps": 24, "seed": 100, "params": {"start_day": 196}}'
if [ -f opposite/summary.csv ]; then
    fits opposite llm winter 0.7 && fail "summer demonstrations pass the winter check" \
        "$(why opposite llm winter)" || pass
    fits opposite llm winter 0 && fail "summer demonstrations beat zero in winter" \
        "$(why opposite llm winter)" || pass
    awk -v g="$(col opposite llm winter demos_agreement)" \
        -v m="$(col quickstart llm winter demos_agreement)" 'BEGIN {exit !(g < 0.5 && g < m)}' \
        && pass || fail "opposite-season agreement $(col opposite llm winter demos_agreement)" \
                        "is not low (fitting: $(col quickstart llm winter demos_agreement))"
fi
finish
