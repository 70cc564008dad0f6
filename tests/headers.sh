#!/bin/sh
# Every public header compiles on its own, as C (strict) and as C++.
. "$top_srcdir/tests/lib.sh"
cflags="-I$top_srcdir/libfewshot -I$top_builddir/libfewshot $(pkg-config --cflags jansson)"
for h in "$top_srcdir/libfewshot/fewshot.h" "$top_srcdir"/libfewshot/fewshot/*.h \
         "$top_builddir/libfewshot/fewshot/version.h"; do
    [ -f "$h" ] || continue
    name=${h#"$top_srcdir/libfewshot/"}
    name=${name#"$top_builddir/libfewshot/"}
    printf '#include <%s>\n#include <%s>\nint fewshot_header_test_dummy;\n' "$name" "$name" > "$TMP/t.c"
    if ${CC:-cc} -std=c11 -Wall -Wextra -Werror -pedantic $cflags -c "$TMP/t.c" -o "$TMP/t.o" 2>"$TMP/err"
    then pass; else fail "$name does not compile alone as C11"; cat "$TMP/err" >&2; fi
    cp "$TMP/t.c" "$TMP/t.cpp"
    if ${CXX:-c++} -Wall -Werror $cflags -c "$TMP/t.cpp" -o "$TMP/t.o" 2>"$TMP/err"
    then pass; else fail "$name does not compile alone as C++"; cat "$TMP/err" >&2; fi
done
finish
