#!/bin/sh
# examples/env-plugin builds against an installed libfewshot with nothing but pkg-config,
# loads through FEWSHOT_PLUGIN_PATH and runs with `fewshot env rollout`.
#
# Under `make check` it stages an install of the library, headers and libfewshot.pc into a
# temporary DESTDIR and points pkg-config at it (PKG_CONFIG_PATH + PKG_CONFIG_SYSROOT_DIR).
# Under `make installcheck` (and so `make distcheck`) the Makefile sets FEWSHOT_INSTALLED=1,
# PKG_CONFIG_PATH and FEWSHOT to the real install and this script uses them as they are.
. "$top_srcdir/tests/lib.sh"
make_cmd=${FEWSHOT_MAKE:-make}
command -v pkg-config >/dev/null 2>&1 || skip "pkg-config is missing"
# a clean make for the nested builds: not the jobserver or variables of the make running us
nested_make() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES $make_cmd "$@"
}

if [ -z "${FEWSHOT_INSTALLED:-}" ]; then
    stage=$TMP/stage
    nested_make -s -C "$top_builddir" DESTDIR="$stage" install-libLTLIBRARIES \
        install-includeHEADERS install-fewshotincludeHEADERS \
        install-nodist_fewshotincludeHEADERS install-pkgconfigDATA >"$TMP/install.log" 2>&1 ||
        { cat "$TMP/install.log" >&2; fail "staged install failed"; finish; exit 1; }
    pc=$(find "$stage" -name libfewshot.pc | head -1)
    [ -n "$pc" ] && pass || { fail "no libfewshot.pc in the staged install"; finish; exit 1; }
    PKG_CONFIG_PATH=$(dirname "$pc")
    PKG_CONFIG_SYSROOT_DIR=$stage
    export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
    # the flags name the staged tree, not the build tree
    pkg-config --cflags --libs libfewshot > "$TMP/flags"
    expect_grep "^-I$stage/.*-L$stage/.* -lfewshot" "$TMP/flags" "pkg-config points at the stage"
    plugin_path=$TMP/src
else
    plugin_path=$TMP/src:${FEWSHOT_INSTALLED_PLUGINS:-}
fi

mkdir -p "$TMP/src"
cp "$top_srcdir/examples/env-plugin/tank.c" "$top_srcdir/examples/env-plugin/Makefile" "$TMP/src/"
chmod u+w "$TMP/src/"*
if nested_make -C "$TMP/src" CC="${CC:-cc}" >"$TMP/build.log" 2>&1; then pass; else
    cat "$TMP/build.log" >&2
    fail "building the example with pkg-config failed"
    finish
    exit 1
fi
grep -q 'warning' "$TMP/build.log" && fail "the example builds with warnings" || pass
if command -v nm >/dev/null 2>&1; then
    nm -D --defined-only "$TMP/src/tank.so" > "$TMP/syms"
    expect_grep ' T fewshot_env_plugin_entry$' "$TMP/syms" "tank.so exports the entry point"
fi

FEWSHOT_PLUGIN_PATH=$plugin_path
export FEWSHOT_PLUGIN_PATH
run_fewshot env list > "$TMP/list" 2>"$TMP/err"
expect_grep '^tank +water tank level control' "$TMP/list" "env list shows the example"
if [ -n "${FEWSHOT_INSTALLED:-}" ]; then
    expect_grep '^inventory ' "$TMP/list" "installed inventory plugin"
    expect_grep '^trading ' "$TMP/list" "installed trading plugin"
fi
expect_status 0 "env info tank" -- run_fewshot env info tank
expect_grep "^file: $TMP/src/tank.so" "$TMP/out" "loaded from FEWSHOT_PLUGIN_PATH"
expect_grep 'expert\(=proportional\)' "$TMP/out" "the example's policies"
expect_status 0 "rollout tank" -- run_fewshot env rollout tank --policy expert --steps 10
[ "$(wc -l < "$TMP/out")" -eq 11 ] && pass || fail "rollout tank: expected 11 lines"
e=$(run_fewshot env rollout tank --policy expert | awk -F, 'NR>1 {s+=$2} END {print s}')
z=$(run_fewshot env rollout tank --policy closed | awk -F, 'NR>1 {s+=$2} END {print s}')
awk -v e="$e" -v z="$z" 'BEGIN {exit !(e > z)}' && pass || fail "expert ($e) <= closed ($z)"
expect_status 2 "bad parameter" -- run_fewshot env rollout tank -p area=0 --policy expert
expect_grep "tank: need area > 0" "$TMP/err" "the example's error reaches the CLI"

finish
