#!/bin/sh
# The hvac plugin from the command line, offline: the README's main command, synthetic weather,
# parameters and their errors, experts.
. "$top_srcdir/tests/lib.sh"
FEWSHOT_PLUGIN_PATH=$top_builddir/plugins/.libs
export FEWSHOT_PLUGIN_PATH

# the README's main command, verbatim
expect_status 0 "README command" -- run_fewshot env rollout hvac -p building=OfficeSmall \
    -p weather=Hot_Dry -p city=Tucson --policy expert --steps 24
[ "$(wc -l < "$TMP/out")" -eq 25 ] && pass || fail "README command: expected 24 rows"
expect_grep '^step,reward,obs_0,.*obs_9,act_0,.*act_5$' "$TMP/out" "6 zones + 4 exogenous values"
# the expert keeps every zone within 1.5 C of the target after the first hours
awk -F, 'NR > 3 {for (i = 3; i <= 8; i++) if ($i < 20.5 || $i > 23.5) bad = 1} END {exit bad}' \
    "$TMP/out" && pass || fail "MPC lets a zone drift from 22 C"

# synthetic weather: 24 rows to the end of the episode, Jan 1 first hour
expect_status 0 "Hot_Dry zero" -- run_fewshot env rollout hvac -p building=OfficeSmall \
    -p weather=Hot_Dry -p city=Tucson --policy zero --steps 1
expect_grep '^1,' "$TMP/out" "one step"

# info: spaces, parameters, policies
expect_status 0 "info" -- run_fewshot env info hvac
expect_grep '^observation: 10 real elements' "$TMP/out" "obs dim"
expect_grep 'temperature_CORE_ZN' "$TMP/out" "zone names"
expect_grep 'occupant_power_kw' "$TMP/out" "exogenous names"
expect_grep '^action: 6 real elements' "$TMP/out" "act dim"
expect_grep 'expert\(=mpc\) mpc thermostat' "$TMP/out" "policies"
expect_grep '^  alpha +number += 1 ' "$TMP/out" "alpha default"

# bear reward: -(0.024 |a| + 0.999 |t - T|) ; at a = 0, t = T the first step's reward is
# -0.999 |x1 - 22|, and with the paper reward the energy term is 1
expect_status 0 "bear reward" -- run_fewshot env rollout hvac -p reward=bear --policy zero \
    --steps 1 --format jsonl
awk 'BEGIN {FS = "[][]"} {split($2, o, ","); s = 0; for (i = 1; i <= 6; i++) s += (o[i] - 22) ^ 2;
    match($0, /"reward": ?-?[0-9.e-]+/); r = substr($0, RSTART, RLENGTH); sub(/.*: ?/, "", r);
    d = r + 0.999 * sqrt(s); exit !(d < 1e-9 && d > -1e-9)}' "$TMP/out" && pass ||
    fail "bear reward formula"
expect_grep '"terms": ?\{"energy": ?-?0(\.0)?, ?"comfort"' "$TMP/out" "bear terms"

# initial temperatures
expect_status 0 "initial list" -- run_fewshot env rollout hvac -p 'initial=[20,21,22,23,24,25]' \
    --policy zero --steps 1
expect_status 0 "initial uniform" -- run_fewshot env rollout hvac \
    -p 'initial={"uniform":[18,26]}' --policy zero --steps 1 --seed 3
cp "$TMP/out" "$TMP/u3"
run_fewshot env rollout hvac -p 'initial={"uniform":[18,26]}' --policy zero --steps 1 --seed 3 > "$TMP/u3b"
run_fewshot env rollout hvac -p 'initial={"uniform":[18,26]}' --policy zero --steps 1 --seed 4 > "$TMP/u4"
cmp -s "$TMP/u3" "$TMP/u3b" && pass || fail "uniform initial not reproducible under a seed"
cmp -s "$TMP/u3" "$TMP/u4" && fail "uniform initial ignores the seed" || pass

# errors name the parameter, file and line
expect_status 2 "unknown building" -- run_fewshot env rollout hvac -p building=Nope --policy zero
expect_grep "parameter 'building': unknown building 'Nope'" "$TMP/err" "unknown building message"
expect_status 2 "unknown city" -- run_fewshot env rollout hvac -p city=Atlantis --policy zero
expect_grep "parameter 'city'.*Atlantis" "$TMP/err" "unknown city message"
expect_status 2 "unknown weather" -- run_fewshot env rollout hvac -p weather=Sunny --policy zero
expect_grep "parameter 'weather': unknown weather condition 'Sunny'" "$TMP/err" "weather message"
expect_status 2 "bad reward" -- run_fewshot env rollout hvac -p reward=best --policy zero
expect_grep "parameter 'reward' must be" "$TMP/err" "reward message"
expect_status 2 "bad start_day" -- run_fewshot env rollout hvac -p start_day=400 --policy zero
expect_grep "start_day" "$TMP/err" "start_day message"
expect_status 2 "initial wrong length" -- run_fewshot env rollout hvac -p 'initial=[20,21]' --policy zero
expect_grep "initial: expected 6 temperatures" "$TMP/err" "initial length message"
printf 'LOCATION,Nowhere\nDESIGN CONDITIONS\n' > "$TMP/bad.epw"
expect_status 2 "bad EPW" -- run_fewshot env rollout hvac -p "weather=$TMP/bad.epw" -p city=Tucson --policy zero
expect_grep "bad.epw:[0-9]+" "$TMP/err" "bad EPW names file:line"
echo '<html><body><b>Zone Information</b><table><tr><td>x</td></tr></table></body></html>' \
    > "$TMP/ASHRAE901_OfficeSmall_STD2019_Tucson.table.htm"
expect_status 2 "bad EnergyPlus table" -- run_fewshot env rollout hvac \
    -p "building=$TMP/ASHRAE901_OfficeSmall_STD2019_Tucson.table.htm" --policy zero
expect_grep "ASHRAE901_OfficeSmall_STD2019_Tucson.table.htm" "$TMP/err" "bad table names the file"
# reward terms and feature names, declared by the plugin
expect_status 0 "info" -- run_fewshot env info hvac -p building=OfficeMedium
expect_grep "^reward terms: energy comfort$" "$TMP/out" "info lists the reward terms"
expect_grep "^features: outdoor_error mode irradiance error_mean error_min error_max hour_sin hour_cos outdoor_trend occupant_kw_per_room$" \
    "$TMP/out" "info lists the feature names"

# weather sources: the shipped TMY3 year by default, the synthetic generator on request
run_fewshot env rollout hvac -p weather=Cool_Humid -p start_day=196 --policy zero --steps 24 \
    > "$TMP/tmy3.csv" || fail "Cool_Humid TMY3 rollout"
run_fewshot env rollout hvac -p weather=Cool_Humid -p weather_source=tmy3 -p start_day=196 \
    --policy zero --steps 24 > "$TMP/tmy3b.csv" || fail "weather_source=tmy3 rollout"
run_fewshot env rollout hvac -p weather=Cool_Humid -p weather_source=synthetic -p start_day=196 \
    --policy zero --steps 24 > "$TMP/syn.csv" || fail "synthetic rollout"
cmp -s "$TMP/tmy3.csv" "$TMP/tmy3b.csv" && pass || fail "weather_source defaults to tmy3"
cmp -s "$TMP/tmy3.csv" "$TMP/syn.csv" && fail "synthetic year equals the TMY3 year" || pass
# the outdoor temperature of Cool_Humid hour by hour is Buffalo's TMY3 rows (EPW field 7)
run_fewshot env rollout hvac -p weather=Cool_Humid -p episode_length=48 --policy zero --steps 48 \
    | awk -F, 'NR > 1 {print $9}' > "$TMP/out48"
gzip -dc "$top_srcdir/plugins/hvac/weather/USA_NY_Buffalo.Niagara.Intl.AP.725280_TMY3.epw.gz" |
    awk -F, 'NR > 9 && NR <= 57 {print $7}' > "$TMP/epw48"
awk 'NR == FNR {a[FNR] = $1; next} {if ($1 + 0 != a[FNR] + 0) bad++} END {exit bad || FNR != 48}' \
    "$TMP/epw48" "$TMP/out48" && pass || fail "Cool_Humid outdoor temperatures are not Buffalo's TMY3 rows"
# Buffalo's TMY3 15 July (outdoor temperature column after the 6 zones): mean 24.77 C
awk -F, 'NR > 1 {s += $9} END {exit !(s / 24 > 24.5 && s / 24 < 25.2)}' "$TMP/tmy3.csv" && pass ||
    fail "Buffalo 15 July is not its TMY3 day"
# the shipped Chicago year by its file name (no condition has it), plain or .gz; its own ground
expect_status 0 "Chicago by file name" -- run_fewshot env rollout hvac \
    -p weather=USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw --policy zero --steps 2
cp "$TMP/out" "$TMP/chicago.csv"
expect_status 0 "Chicago by .gz name" -- run_fewshot env rollout hvac \
    -p weather=USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw.gz --policy zero --steps 2
cmp -s "$TMP/out" "$TMP/chicago.csv" && pass || fail "Chicago .epw and .epw.gz differ"
expect_status 2 "bad weather_source" -- run_fewshot env rollout hvac -p weather_source=real --policy zero
expect_grep "parameter 'weather_source' is 'real', expected \"tmy3\".*or \"synthetic\"" "$TMP/err" \
    "weather_source message"
expect_status 2 "synthetic from a file" -- run_fewshot env rollout hvac -p "weather=$TMP/bad.epw" \
    -p weather_source=synthetic --policy zero
expect_grep "'weather' is a file" "$TMP/err" "synthetic file message"
mkdir -p "$TMP/w"
printf 'LOCATION,Buffalo\n' | gzip > "$TMP/w/USA_NY_Buffalo.Niagara.Intl.AP.725280_TMY3.epw.gz"
FEWSHOT_WEATHER_PATH=$TMP/w expect_status 2 "damaged shipped year" -- run_fewshot env rollout \
    hvac -p weather=Cool_Humid --policy zero
expect_grep "USA_NY_Buffalo.Niagara.Intl.AP.725280_TMY3.epw.gz:1: .*LOCATION" "$TMP/err" \
    "damaged shipped year names file:line"
expect_status 2 "wrong-length action" -- run_fewshot env rollout hvac --policy const:0.1,0.2
expect_grep "expected 1 or 6 values, found 2" "$TMP/err" "wrong-length action message"
printf '0,0,0,nan,0,0\n' > "$TMP/nan.csv"
expect_status 2 "NaN action" -- run_fewshot env rollout hvac --policy "file:$TMP/nan.csv"
expect_grep "nan.csv:1: action 4 is not a finite number" "$TMP/err" "NaN action message"
# The same demonstrations on every processor: OpenBLAS (loaded with FAISS) picks its kernels
# for the CPU, OPENBLAS_CORETYPE forces another; the thermal model's solves must not depend on
# them (with LAPACK's dgesv this dataset differed in every row between these core types).
# Without OpenBLAS the variable is ignored and both runs are the same run.
for core in Prescott SandyBridge; do
    OPENBLAS_CORETYPE=$core "$FEWSHOT" demos generate hvac -p building=OfficeMedium \
        --days 15,196 --steps 6 -o "$TMP/core-$core.jsonl" 2> "$TMP/core.err" ||
        fail "demos generate under OPENBLAS_CORETYPE=$core: $(cat "$TMP/core.err")"
done
"$FEWSHOT" demos generate hvac -p building=OfficeMedium --days 15,196 --steps 6 \
    -o "$TMP/core-native.jsonl" 2> "$TMP/core.err" || fail "demos generate: $(cat "$TMP/core.err")"
cmp -s "$TMP/core-native.jsonl" "$TMP/core-Prescott.jsonl" &&
    cmp -s "$TMP/core-native.jsonl" "$TMP/core-SandyBridge.jsonl" && pass ||
    fail "the demonstrations depend on the processor's BLAS kernels"
# nor on the libm variants glibc picks for the processor (its FMA and AVX2 exp, log, pow, sin)
GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA,-AVX "$FEWSHOT" demos generate hvac \
    -p building=OfficeMedium --days 15,196 --steps 6 -o "$TMP/core-nofma.jsonl" 2> "$TMP/core.err" ||
    fail "demos generate without FMA: $(cat "$TMP/core.err")"
cmp -s "$TMP/core-native.jsonl" "$TMP/core-nofma.jsonl" && pass ||
    fail "the demonstrations depend on glibc's per-processor libm variants"
finish
