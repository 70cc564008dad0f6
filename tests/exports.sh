#!/bin/sh
# The library exports exactly the fewshot_ functions and variables its public headers declare.
. "$top_srcdir/tests/lib.sh"
lib="$top_builddir/.libs/libfewshot.so"
[ -f "$lib" ] || skip "no shared library built"
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' \
    | grep -v '^_' | sort -u > "$TMP/exported"
ls "$top_srcdir"/libfewshot/fewshot/*.h | grep -v '/common\.h$' | xargs cat \
    "$top_builddir/libfewshot/fewshot/version.h" 2>/dev/null \
    | tr '\n' ' ' | grep -o 'FEWSHOT_EXTERN([^)]*)[^(;]*' \
    | sed 's/FEWSHOT_EXTERN([^)]*)//; s/[ *]//g' | sort -u > "$TMP/declared"
if [ ! -s "$TMP/declared" ]; then fail "no declarations found"; fi
if diff -u "$TMP/declared" "$TMP/exported" > "$TMP/diff"; then pass; else
    fail "exported symbols differ from the headers (- declared only, + exported only)"
    cat "$TMP/diff" >&2
fi
# nothing outside the fewshot_ namespace leaks
if grep -v '^fewshot_' "$TMP/exported" > "$TMP/leaks"; then
    fail "symbols outside fewshot_ are exported: $(tr '\n' ' ' < "$TMP/leaks")"
else pass; fi
finish
