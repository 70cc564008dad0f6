#!/bin/sh
# LLM client throughput against the test server with 200 ms latency: decisions per second with
# 1, 8, 64 and 256 requests in flight as a fraction of the ideal in-flight/latency bound,
# client CPU per request and memory per in-flight request; then a cached rerun, which must
# make zero HTTP requests and serve >= 20,000 replies per second. Both prompt sizes: the
# 130-byte prompts (echo server) and paper-size prompts, the text `fewshot prompt` renders for
# examples/configs/paper.json (OfficeMedium, 18 rooms, 8 demonstrations, about 13 KB), against
# the controller server, which answers as a model does ("Actions: [...]", about 70 bytes) where
# echo would send the 13 KB back.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fewshot-bench.XXXXXX")
SERVER=$top_builddir/tests/llm-server/llm-server
LOAD=$top_builddir/tests/bench/llm-load
FEWSHOT=${FEWSHOT:-$top_builddir/fewshot}
PIDS=
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
[ -x "$SERVER" ] && [ -x "$LOAD" ] || { echo "llm bench: test server or llm-load not built"; exit 0; }
field() { sed -n "s/.*\"$1\": *\\([^,}]*\\).*/\\1/p" "$2"; }
start_server() { # MODE PORTFILE
    "$SERVER" --port-file "$2" --mode "$1" --delay-ms 200 > /dev/null &
    PIDS="$PIDS $!"
    while [ ! -s "$2" ]; do sleep 0.01; done
}
start_server echo "$TMP/port"
start_server controller "$TMP/port2"
status=0

# the paper-size prompt (text only: the test server reads Room lines, not roles)
XDG_CACHE_HOME=$TMP FEWSHOT_PLUGIN_PATH="$top_builddir/plugins/.libs" \
    "$FEWSHOT" prompt "$top_srcdir/examples/configs/paper.json" --step 4 > "$TMP/paper.txt" 2>/dev/null \
    || : > "$TMP/paper.txt"

run_sizes() { # LABEL PORT LEVELS [llm-load options]
    label=$1 port=$2 levels=$3
    shift 3
    echo "$label: server latency 200 ms; ideal = in_flight / 0.2 s; baseline = in_flight / (latency"
    echo "of one request alone, measured first in this run: the server's own overhead here)"
    printf '%9s %9s %9s %9s %9s %12s %13s\n' in_flight req/s ideal fraction vs_base cpu_us/req KB/in_flight
    base_latency=
    for k in $levels; do
        n=$((k * 8)); [ $n -lt 24 ] && n=24
        "$LOAD" --base-url "http://127.0.0.1:$port/v1" --requests $n --in-flight $k "$@" \
            > "$TMP/r.json" || status=1
        rate=$(field per_second "$TMP/r.json")
        [ -n "$base_latency" ] || base_latency=$(awk -v r="$rate" 'BEGIN {print 1 / r}')
        awk -v k=$k -v r="$rate" -v b="$base_latency" -v c="$(field cpu_us_per_request "$TMP/r.json")" \
            -v m="$(field kb_per_in_flight "$TMP/r.json")" -v l="$label" \
            'BEGIN {ideal = k / 0.2; f = r / ideal
                    printf "%9d %9.1f %9.1f %9.3f %9.3f %12.1f %13.2f\n", k, r, ideal, f, r * b / k, c, m
                    if (k >= 64 && f < 0.9) printf "WARNING: %s: in-flight fraction %.3f at %d is below 0.9\n", l, f, k}'
    done
    # the cache: fill it (no latency), then rerun the same calls
    N=20000
    rm -f "$TMP/cache.sqlite"*
    "$LOAD" --base-url "http://127.0.0.1:$port/delay=0/v1" --requests $N --in-flight 64 \
        --cache "$TMP/cache.sqlite" "$@" > "$TMP/fill.json" || status=1
    "$LOAD" --base-url "http://127.0.0.1:$port/delay=0/v1" --requests $N --in-flight 64 \
        --cache "$TMP/cache.sqlite" "$@" > "$TMP/rerun.json" || status=1
    fill=$(field per_second "$TMP/fill.json")
    rate=$(field per_second "$TMP/rerun.json")
    http=$(field http_requests "$TMP/rerun.json")
    hits=$(field cache_hits "$TMP/rerun.json")
    cpu=$(field cpu_us_per_request "$TMP/rerun.json")
    printf '%s cache: first run %.0f req/s over HTTP; rerun %s HTTP requests, %s hits, %.0f replies/s (%.1fx), %.1f us CPU per reply (%.0f/s on a core of its own)\n' \
        "$label" "$fill" "$http" "$hits" "$rate" "$(awk -v a="$rate" -v b="$fill" 'BEGIN {print a / b}')" \
        "$cpu" "$(awk -v c="$cpu" 'BEGIN {print (c > 0 ? 1e6 / c : 0)}')"
    [ "$http" = 0 ] || { echo "FAIL: the cached rerun made $http HTTP requests"; status=1; }
    awk -v r="$rate" 'BEGIN {exit !(r >= 20000)}' || echo "WARNING: $label: cached rerun below 20,000 replies/s"
}

run_sizes "130-byte prompts" "$(cat "$TMP/port")" "1 8 64 256"
if [ -s "$TMP/paper.txt" ]; then
    echo
    run_sizes "paper-size prompts ($(wc -c < "$TMP/paper.txt") bytes)" "$(cat "$TMP/port2")" "1 64 256" \
        --prompt-file "$TMP/paper.txt"
else
    echo "paper-size prompts: SKIP (fewshot prompt examples/configs/paper.json failed)"
fi
exit $status
