# Start the fault-injecting test server for a shell test; source after tests/lib.sh.
#   start_llm_server [llm-server flags...]   sets LLM_PORT, LLM_PID, LLM_BASE (…/v1)
# Skips the test (77) when the server was not built. The server stops when the test exits.
LLM_SERVER="$top_builddir/tests/llm-server/llm-server"
LLM_PID=
stop_llm_server() {
    if [ -n "$LLM_PID" ]; then
        kill "$LLM_PID" 2>/dev/null
        wait "$LLM_PID" 2>/dev/null
        LLM_PID=
    fi
}
trap 'stop_llm_server; rm -rf "$TMP"' EXIT
start_llm_server() {
    [ -x "$LLM_SERVER" ] || skip "tests/llm-server/llm-server is not built (libmicrohttpd missing?)"
    rm -f "$TMP/llm.port"
    "$LLM_SERVER" --port-file "$TMP/llm.port" --lifetime 900 "$@" > /dev/null &
    LLM_PID=$!
    i=0
    while [ ! -s "$TMP/llm.port" ]; do
        i=$((i + 1))
        [ $i -lt 500 ] || { echo "llm-server did not start" >&2; exit 99; }
        sleep 0.01
    done
    LLM_PORT=$(cat "$TMP/llm.port")
    LLM_BASE="http://127.0.0.1:$LLM_PORT/v1"
}
