#!/bin/sh
# examples/controller.c builds against the library and controls an HVAC episode through the
# test LLM server (controller mode).
. "$top_srcdir/tests/lib.sh"
server="$top_builddir/tests/llm-server/llm-server"
[ -x "$server" ] || skip "the test LLM server was not built (libmicrohttpd missing)"
[ -f "$top_builddir/plugins/.libs/hvac.so" ] || skip "the hvac plugin was not built"
FEWSHOT_PLUGIN_PATH="$top_builddir/plugins/.libs"
export FEWSHOT_PLUGIN_PATH
cd "$TMP" || exit 1
if ! ${SHELL:-sh} "$top_builddir/libtool" --mode=link --tag=CC ${CC:-cc} ${SAN_FLAGS:-} -std=c11 -Wall -Wextra -Werror \
        -I"$top_srcdir/libfewshot" -I"$top_builddir/libfewshot" $(pkg-config --cflags jansson) \
        "$top_srcdir/examples/controller.c" "$top_builddir/libfewshot.la" \
        $(pkg-config --libs jansson) -o controller > build.log 2>&1; then
    fail "examples/controller.c does not build"; cat build.log >&2; finish; exit 1
fi
pass
"$server" --port 0 --port-file port --mode controller --gain 0.05 --lifetime 120 > server.log 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null; rm -rf "$TMP"' EXIT
for i in $(seq 1 100); do [ -s port ] && break; sleep 0.05; done
expect_status 0 "controller" -- ./controller --base-url "http://127.0.0.1:$(cat port)/v1" \
    --model test --api-key-env '' --steps 6
[ "$(grep -c '^step ' "$TMP/out")" -eq 6 ] && pass || fail "expected 6 steps"
expect_grep '^total reward: LLM -?[0-9.]+, expert \(MPC\) -?[0-9.]+$' "$TMP/out" "totals"
finish
