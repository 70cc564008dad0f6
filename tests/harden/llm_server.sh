#!/bin/sh
# The test server itself (tests/llm-server): streaming with mode=empty does not crash it,
# then=leak is accepted, and streamed events do not leak memory (checked under valgrind when
# it is installed).
. "$top_srcdir/tests/lib.sh"
server="$top_builddir/tests/llm-server/llm-server"
[ -x "$server" ] || skip "the test LLM server was not built"
command -v curl >/dev/null || skip "curl is needed to talk to the test server"
cd "$TMP" || exit 1
chat='{"model": "m", "stream": true, "messages": [{"role": "user", "content": "hello there, general"}]}'
start() { # [runner...]
    rm -f port
    "$@" "$server" --port-file port --lifetime 120 > server.out 2>&1 &
    spid=$!
    i=0; while [ ! -s port ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i + 1)); done
    base="http://127.0.0.1:$(cat port)"
}
trap 'kill $spid 2>/dev/null; rm -rf "$TMP"' EXIT

start
curl -s -X POST "$base/mode=empty/v1/chat/completions" -d "$chat" > empty.txt
expect_grep '"choices":\[\]' empty.txt "an empty streamed reply"
expect_grep '^data: \[DONE\]' empty.txt "the empty stream ends"
curl -s -X POST "$base/v1/chat/completions" -d "$chat" > after.txt
expect_grep '^data: \[DONE\]' after.txt "the server still answers after mode=empty streaming"
curl -s -X POST "$base/fail=1,then=leak/v1/chat/completions" -H 'Authorization: Bearer sk-canary' \
    -d '{"model": "m", "messages": [{"role": "user", "content": "x"}]}' > first.txt
curl -s -X POST "$base/fail=1,then=leak/v1/chat/completions" -H 'Authorization: Bearer sk-canary' \
    -d '{"model": "m", "messages": [{"role": "user", "content": "x"}]}' > second.txt
expect_grep '"echo: x"' first.txt "then=leak: the first request is answered"
expect_grep 'Incorrect API key provided: sk-canary' second.txt "then=leak: the next one leaks"
kill $spid; wait $spid

if command -v valgrind >/dev/null 2>&1; then
    start valgrind --leak-check=full --log-file="$TMP/vg.log"
    i=0
    while [ $i -lt 10 ]; do
        curl -s -X POST "$base/v1/chat/completions" -d "$chat" > /dev/null
        curl -s -X POST "$base/mode=empty/v1/chat/completions" -d "$chat" > /dev/null
        i=$((i + 1))
    done
    kill $spid; wait $spid
    if grep -q 'definitely lost: [1-9]' vg.log; then
        fail "streamed events leak memory"; grep -A3 'definitely lost' vg.log | head -20 >&2
    else
        pass
    fi
    expect_grep 'ERROR SUMMARY: 0 errors' vg.log "no memory errors in the server"
fi
finish
