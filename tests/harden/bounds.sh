#!/bin/sh
# Bounds on outside input: line readers stop at a limit and say so (once /dev/zero was read
# until memory ran out, then "empty file"), and the remote embedder refuses a reply larger
# than 64 MiB as the LLM client does (once a 300 MB reply took 326 MB of memory).
. "$top_srcdir/tests/lib.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS:$top_builddir/plugins/.libs
FEWSHOT_GNUPLOT=
XDG_CACHE_HOME=$TMP/xdg
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT XDG_CACHE_HOME
cd "$TMP" || exit 1

expect_status 2 "demonstrations from /dev/zero" -- run_fewshot demos info /dev/zero
expect_grep '/dev/zero:1: line longer than 16 MiB: not a demonstrations file' "$TMP/err" "JSONL line cap"
expect_status 2 "an action file from /dev/zero" -- run_fewshot env rollout room --policy file:/dev/zero --steps 1
expect_grep '/dev/zero:1: line longer than 1048576 bytes: not an action file' "$TMP/err" "CSV line cap"
expect_status 2 "an EPW file from /dev/zero" -- run_fewshot env info hvac -p weather=/dev/zero
expect_grep '/dev/zero:1: .*a NUL byte: not an EPW weather file' "$TMP/err" "EPW of NUL bytes"
head -c 200000 /dev/zero | tr '\000' a > long.epw
expect_status 2 "an EPW file with an endless line" -- run_fewshot env info hvac -p weather="$TMP/long.epw"
expect_grep 'long.epw:1: .*line longer than 65536 bytes: not an EPW weather file' "$TMP/err" "EPW line cap"

# a binary dataset whose transition has no observation (found by fuzz_demos: UB in the reader)
expect_status 2 "binary demonstrations with empty dimensions" -- run_fewshot demos info "$top_srcdir/tests/fuzz/corpus/demos/crash-binary-zero-dims"
expect_grep 'transition 1 .*impossible dimensions' "$TMP/err" "empty dimensions refused"

# whole-file readers stop at 64 MiB
expect_status 2 "a template from /dev/zero" -- run_fewshot template render /dev/zero /dev/null
expect_grep '/dev/zero: larger than 64 MiB' "$TMP/err" "template size cap"
run_fewshot llm chat --base-url http://127.0.0.1:9/v1 --model m --no-cache < /dev/zero > /dev/null 2> "$TMP/err"
expect_grep 'standard input is larger than 64 MiB' "$TMP/err" "llm prompt size cap"

# an embeddings endpoint that answers with 80 MiB
py=${PYTHON3:-/usr/bin/python3}
command -v "$py" >/dev/null || py=/usr/bin/python3
cat > big.py <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        chunk = b" " * (1 << 20)
        try:
            for _ in range(80):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.timeout = 60
s.handle_request()
s.handle_request()
PY
"$py" big.py port &
bigpid=$!
trap 'kill $bigpid 2>/dev/null; rm -rf "$TMP"' EXIT
i=0; while [ ! -s port ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
cat > emb.json <<JSON
{"env": {"plugin": "room", "params": {"horizon": 2}},
 "demos": {"episodes": 1, "steps": 2, "seed": 100}, "selection": {"knn": 1},
 "embedding": {"kind": "remote", "base_url": "http://127.0.0.1:$(cat port)/v1", "model": "e", "dim": 4},
 "llm": {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
 "arms": [{"name": "llm"}], "baselines": [], "episodes": {"seeds": [1]}}
JSON
expect_status 1 "an 80 MiB embeddings reply" -- run_fewshot prompt emb.json
expect_grep 'remote embedder: http://127.0.0.1:[0-9]+/v1/embeddings: the reply is larger than 64 MiB; refused' "$TMP/err" "embedder reply cap"
finish
