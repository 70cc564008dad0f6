#!/bin/sh
# The inventory plugin equals OR-Gym's InvManagement step for step (NumPy re-implementation
# in orgym_reference.py) on several demand lists and action sequences.
. "$top_srcdir/tests/lib.sh"
py=${PYTHON3:-/usr/bin/python3}
[ -x "$py" ] || py=/usr/bin/python3
"$py" -c 'import numpy' 2>/dev/null || skip "python3 with numpy is missing"
"$py" "$top_srcdir/tests/inventory/orgym_compare.py" "$top_builddir/tests/inventory/inv_trace" \
    "$FEWSHOT" "$TMP"
