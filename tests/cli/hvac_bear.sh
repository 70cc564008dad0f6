#!/bin/sh
# hvac reproduces BEAR's QuickStart figure (OfficeSmall, Tucson weather and ground, zero action,
# one step from 22 C on Jan 1 00:00) to 1e-6, from the EnergyPlus table and from the shipped
# building file. Needs the data beside the project ($FEWSHOT_SHARED).
. "$top_srcdir/tests/lib.sh"
FEWSHOT_PLUGIN_PATH=$top_builddir/plugins/.libs
export FEWSHOT_PLUGIN_PATH
ref=${FEWSHOT_SHARED:-}/data/bear-reference/quickstart.md
epw=${FEWSHOT_SHARED:-}/data/weather/USA_AZ_Tucson-Davis-Monthan.AFB.722745_TMY3.epw
htm=${FEWSHOT_SHARED:-}/data/energyplus/ASHRAE901_OfficeSmall_STD2019_Tucson.table.htm
[ -n "${FEWSHOT_SHARED:-}" ] && [ -f "$ref" ] && [ -f "$epw" ] && [ -f "$htm" ] ||
    skip "BEAR reference data not found (FEWSHOT_SHARED=${FEWSHOT_SHARED:-unset})"

# the six numbers on the line after "Zone temperatures after step 1"
ref_temps=$(awk '/^Zone temperatures after step 1/ {found = 1; next} found && NF {print; exit}' "$ref")
[ "$(echo "$ref_temps" | wc -w)" -eq 6 ] || fail "could not read the reference temperatures from $ref"

check() {   # check WHAT BUILDING
    expect_status 0 "$1" -- run_fewshot env rollout hvac -p "building=$2" -p "weather=$epw" \
        -p city=Tucson --policy zero --steps 1
    got=$(awk -F, 'NR == 2 {print $3, $4, $5, $6, $7, $8}' "$TMP/out")
    err=$(echo "$ref_temps $got" | awk '{m = 0; for (i = 1; i <= 6; i++) {d = $i - $(i + 6);
        if (d < 0) d = -d; if (d > m) m = d}; printf "%.3g", m}')
    echo "$1: max abs error $err"
    awk -v e="$err" 'BEGIN {exit !(e <= 1e-6)}' && pass ||
        fail "$1: temperatures $got differ from BEAR's $ref_temps by $err"
}
check "EnergyPlus table" "$htm"
check "shipped building file" OfficeSmall

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
