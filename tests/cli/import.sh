#!/bin/sh
# `fewshot env import-energyplus`: a hand-made table, the shared EnergyPlus outputs (compared with
# the shipped building files), and the errors.
. "$top_srcdir/tests/lib.sh"

cat > "$TMP/Mini_Warehouse.table.htm" <<'HTML'
<html><body>
<b>Zone Information</b><br><br>
<table border="1">
<tr><td></td><td>Zone Name</td><td>Centroid Z-Coordinate {m}</td><td>Minimum X {m}</td>
<td>Maximum X {m}</td><td>Minimum Y {m}</td><td>Maximum Y {m}</td><td>Minimum Z {m}</td>
<td>Maximum Z {m}</td><td>Floor Area {m2}</td><td>Exterior Net Wall Area {m2}</td>
<td>Exterior Window Area {m2}</td></tr>
<tr><td>1</td><td>LOFT</td><td>4.5</td><td>0</td><td>10</td><td>0</td><td>10</td><td>3</td><td>6</td><td>100</td><td>0</td><td>0</td></tr>
<tr><td>2</td><td>HALL</td><td>1.5</td><td>0</td><td>10</td><td>0</td><td>10</td><td>0</td><td>3</td><td>100</td><td>120</td><td>12</td></tr>
</table></body></html>
HTML
expect_status 0 "import a small table" -- \
    run_fewshot env import-energyplus "$TMP/Mini_Warehouse.table.htm" -o "$TMP/mini.json"
expect_grep '"type": "Warehouse"' "$TMP/mini.json" "type from the file name"
expect_grep '"name": "HALL", "layer": 0' "$TMP/mini.json" "sorted by centroid Z, layer 0 first"
expect_grep '"name": "LOFT", "layer": 1' "$TMP/mini.json" "second layer"
expect_grep '2 zones in 2 layers' "$TMP/err" "summary line"

expect_status 0 "-t and -n, to stdout" -- \
    run_fewshot env import-energyplus "$TMP/Mini_Warehouse.table.htm" -t HotelSmall -n Shed -o -
expect_grep '"name": "Shed"' "$TMP/out" "-n names the building"
expect_grep '"type": "HotelSmall"' "$TMP/out" "-t picks the type"
expect_grep '"ground_floor": 0.1573' "$TMP/out" "HotelSmall U-values"

# errors: usage 2, with file and line where there is one
expect_status 2 "missing -o" -- run_fewshot env import-energyplus "$TMP/Mini_Warehouse.table.htm"
expect_grep 'o building.json is required' "$TMP/err" "missing -o message"
expect_status 2 "missing input" -- run_fewshot env import-energyplus -o "$TMP/x.json"
expect_status 2 "unknown type" -- \
    run_fewshot env import-energyplus "$TMP/Mini_Warehouse.table.htm" -t Igloo -o "$TMP/x.json"
expect_grep "unknown building type 'Igloo' \(known: OfficeSmall, .*SchoolSecondary\)" "$TMP/err" \
    "unknown type lists the types"
sed 's/<td>120<\/td>/<td>lots<\/td>/' "$TMP/Mini_Warehouse.table.htm" > "$TMP/Bad_Warehouse.table.htm"
expect_status 2 "non-numeric cell" -- \
    run_fewshot env import-energyplus "$TMP/Bad_Warehouse.table.htm" -o "$TMP/x.json"
expect_grep "Bad_Warehouse.table.htm:9: zone 'HALL': 'Exterior Net Wall Area' is 'lots'" \
    "$TMP/err" "non-numeric cell names file, line, zone and column"
[ ! -e "$TMP/x.json" ] && pass || fail "no output is written on error"
echo '<html><body>nothing</body></html>' > "$TMP/Empty_OfficeSmall.table.htm"
# inputs far larger than a building's are refused before they fill memory
"${PYTHON3:-/usr/bin/python3}" - "$TMP/Huge_Warehouse.table.htm" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("<html><body><b>Zone Information</b><table><tr><td>Zone Name</td></tr>\n")
    row = "<tr><td>" + "Z" * 1000 + "</td></tr>\n"
    for _ in range(17 * 1024):
        f.write(row)
    f.write("</table></body></html>\n")
PY
expect_status 2 "a zone table of 17 MiB" -- \
    run_fewshot env import-energyplus "$TMP/Huge_Warehouse.table.htm" -o "$TMP/x.json"
expect_grep "Huge_Warehouse.table.htm: the 'Zone Information' table holds more than 16 MiB of text" \
    "$TMP/err" "too large a table"
truncate -s 65M "$TMP/huge-building.json"
expect_status 2 "a building file of 65 MiB" -- \
    run_fewshot env rollout hvac -p building="$TMP/huge-building.json" --steps 1 --policy zero
expect_grep "huge-building.json: .*the file is 65 MiB; a building file is at most 64 MiB" \
    "$TMP/err" "too large a building file"
rm -f "$TMP/Huge_Warehouse.table.htm" "$TMP/huge-building.json"
expect_status 2 "no Zone Information table" -- \
    run_fewshot env import-energyplus "$TMP/Empty_OfficeSmall.table.htm" -o "$TMP/x.json"
expect_grep "Empty_OfficeSmall.table.htm: no 'Zone Information' table" "$TMP/err" "no table"
expect_status 1 "missing file" -- \
    run_fewshot env import-energyplus "$TMP/none_OfficeSmall.table.htm" -o "$TMP/x.json"
expect_grep "none_OfficeSmall.table.htm: cannot open" "$TMP/err" "missing file message"

# the shipped building files are exactly what the importer makes of the shared tables
dir="$FEWSHOT_SHARED/data/energyplus"
if [ -d "$dir" ]; then
    for name in OfficeSmall OfficeMedium RestaurantFastFood RestaurantSitDown RetailStandalone \
                RetailStripmall Warehouse; do
        run_fewshot env import-energyplus "$dir/ASHRAE901_${name}_STD2019_Tucson.table.htm" \
            -o "$TMP/$name.json" 2>/dev/null
        if cmp -s "$TMP/$name.json" "$top_srcdir/plugins/hvac/buildings/$name.json"; then pass
        else fail "$name: re-import differs from plugins/hvac/buildings/$name.json"; fi
    done
    # OfficeSmall zone order, as BEAR's QuickStart prints it
    grep -o '"name": "[A-Z_0-9]*", "layer"' "$TMP/OfficeSmall.json" | cut -d'"' -f4 | tr '\n' ' ' \
        > "$TMP/order"
    [ "$(cat "$TMP/order")" = "CORE_ZN PERIMETER_ZN_1 PERIMETER_ZN_2 PERIMETER_ZN_3 PERIMETER_ZN_4 ATTIC " ] \
        && pass || fail "OfficeSmall zone order: $(cat "$TMP/order")"
else
    echo "note: $dir absent, shipped-file comparison skipped"
fi
finish
