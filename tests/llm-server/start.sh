# Start the fault-injecting test server for a shell test; source after tests/lib.sh.
#   start_llm_server [llm-server flags...]   sets LLM_PORT, LLM_PID, LLM_BASE (…/v1)
# Each call starts another server (a test may need a fast and a slow one); the variables name
# the last one started. Skips the test (77) when the server was not built. Every server stops
# when the test exits, or all at once with stop_llm_server.
LLM_SERVER="$top_builddir/tests/llm-server/llm-server"
LLM_PID=
LLM_PIDS=
LLM_STARTED=0
stop_llm_server() {
    for p in $LLM_PIDS; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    LLM_PIDS=
    LLM_PID=
}
trap 'stop_llm_server; rm -rf "$TMP"' EXIT
start_llm_server() {
    [ -x "$LLM_SERVER" ] || skip "tests/llm-server/llm-server is not built (libmicrohttpd missing?)"
    LLM_STARTED=$((LLM_STARTED + 1))
    port_file="$TMP/llm.$LLM_STARTED.port"
    rm -f "$port_file"
    "$LLM_SERVER" --port-file "$port_file" --lifetime 900 "$@" > /dev/null &
    LLM_PID=$!
    LLM_PIDS="$LLM_PIDS $LLM_PID"
    i=0
    while [ ! -s "$port_file" ]; do
        i=$((i + 1))
        [ $i -lt 500 ] || { echo "llm-server did not start" >&2; exit 99; }
        sleep 0.01
    done
    LLM_PORT=$(cat "$port_file")
    LLM_BASE="http://127.0.0.1:$LLM_PORT/v1"
}
