#!/bin/sh
# hvac reproduces BEAR's QuickStart figure (OfficeSmall, Tucson weather and ground, zero action,
# one step from 22 C on Jan 1 00:00) to 1e-6, from the EnergyPlus table and from the shipped
# building file, with the plugin's own TMY3 year (weather=Hot_Dry, no path) and with the EPW
# beside the project. Needs the reference beside the project ($FEWSHOT_SHARED); the shipped
# building with the shipped weather runs without it too.
. "$top_srcdir/tests/lib.sh"
FEWSHOT_PLUGIN_PATH=$top_builddir/plugins/.libs
export FEWSHOT_PLUGIN_PATH
ref=${FEWSHOT_SHARED:-}/data/bear-reference/quickstart.md
epw=${FEWSHOT_SHARED:-}/data/weather/USA_AZ_Tucson-Davis-Monthan.AFB.722745_TMY3.epw
htm=${FEWSHOT_SHARED:-}/data/energyplus/ASHRAE901_OfficeSmall_STD2019_Tucson.table.htm

# the six numbers on the line after "Zone temperatures after step 1" (BEAR's QuickStart,
# public; kept here so the shipped data is checked even without ../shared)
ref_temps="17.75179317 17.07085633 17.14668666 17.19433022 16.78964807 17.86825243"
if [ -f "$ref" ]; then
    ref_temps=$(awk '/^Zone temperatures after step 1/ {found = 1; next} found && NF {print; exit}' "$ref")
    [ "$(echo "$ref_temps" | wc -w)" -eq 6 ] || fail "could not read the reference temperatures from $ref"
fi

check() {   # check WHAT BUILDING WEATHER [MORE ARGUMENTS]
    what=$1 building=$2 weather=$3
    shift 3
    expect_status 0 "$what" -- run_fewshot env rollout hvac -p "building=$building" \
        -p "weather=$weather" "$@" --policy zero --steps 1
    got=$(awk -F, 'NR == 2 {print $3, $4, $5, $6, $7, $8}' "$TMP/out")
    err=$(echo "$ref_temps $got" | awk '{m = 0; for (i = 1; i <= 6; i++) {d = $i - $(i + 6);
        if (d < 0) d = -d; if (d > m) m = d}; printf "%.3g", m}')
    echo "$what: max abs error $err"
    awk -v e="$err" 'BEGIN {exit !(e <= 1e-6)}' && pass ||
        fail "$what: temperatures $got differ from BEAR's $ref_temps by $err"
}
# BEAR's QuickStart as BEAR runs it: weather condition and city, no path
check "shipped building and weather" OfficeSmall Hot_Dry -p city=Tucson
check "shipped weather, the condition's city" OfficeSmall Hot_Dry
check "shipped weather, lenient spelling" OfficeSmall "hot and dry" -p weather_source=tmy3
[ -n "${FEWSHOT_SHARED:-}" ] && [ -f "$ref" ] && [ -f "$epw" ] && [ -f "$htm" ] || {
    echo "skipping the EnergyPlus table and EPW path checks: data beside the project not found" \
        "(FEWSHOT_SHARED=${FEWSHOT_SHARED:-unset})"
    finish
    exit
}
# the shipped years are the TMY3 files beside the project, byte for byte
for f in "$FEWSHOT_SHARED"/data/weather/*.epw; do
    gzip -dc "$top_srcdir/plugins/hvac/weather/$(basename "$f").gz" | cmp -s - "$f" && pass ||
        fail "shipped $(basename "$f").gz differs from $f"
done
check "EnergyPlus table" "$htm" "$epw" -p city=Tucson
check "shipped building file" OfficeSmall "$epw" -p city=Tucson

# a bad number in the EnergyPlus table: the error names the file and line
bad=$TMP/ASHRAE901_OfficeSmall_STD2019_Tucson.table.htm
awk '!done && /<td align="right">PERIMETER_ZN_1<\/td>/ {seen = 1}
     seen && !done && /<td align="right">5.00<\/td>/ {sub(/5.00/, "abc"); done = 1} {print}' "$htm" > "$bad"
expect_status 2 "bad EnergyPlus cell" -- run_fewshot env rollout hvac -p "building=$bad" \
    -p "weather=$epw" --policy zero --steps 1
expect_grep "table.htm:[0-9]+: .*parameter 'building': zone .*is 'abc', expected a number" \
    "$TMP/err" "bad EnergyPlus cell names file:line"
# the EPW's own ground temperatures when no city is given
expect_status 0 "EPW without city" -- run_fewshot env rollout hvac -p "weather=$epw" --policy zero --steps 1
finish
