#!/bin/sh
# LLM client throughput against the test server with 200 ms latency: decisions per second with
# 1, 8, 64 and 256 requests in flight as a fraction of the ideal in-flight/latency bound,
# client CPU per request and memory per in-flight request; then a cached rerun, which must
# make zero HTTP requests and serve >= 20,000 replies per second.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fewshot-bench.XXXXXX")
SERVER=$top_builddir/tests/llm-server/llm-server
LOAD=$top_builddir/tests/bench/llm-load
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
[ -x "$SERVER" ] && [ -x "$LOAD" ] || { echo "llm bench: test server or llm-load not built"; exit 0; }
"$SERVER" --port-file "$TMP/port" --delay-ms 200 > /dev/null &
PID=$!
while [ ! -s "$TMP/port" ]; do sleep 0.01; done
PORT=$(cat "$TMP/port")
field() { sed -n "s/.*\"$1\": *\\([^,}]*\\).*/\\1/p" "$2"; }

echo "server latency 200 ms; ideal = in_flight / 0.2 s; baseline = in_flight / (latency of one"
echo "request alone, measured first in this run: the server's own overhead on this machine)"
printf '%9s %9s %9s %9s %9s %12s %13s\n' in_flight req/s ideal fraction vs_base cpu_us/req KB/in_flight
status=0
base_latency=
for k in 1 8 64 256; do
    n=$((k * 8)); [ $n -lt 24 ] && n=24
    "$LOAD" --base-url "http://127.0.0.1:$PORT/v1" --requests $n --in-flight $k > "$TMP/r.json" || status=1
    rate=$(field per_second "$TMP/r.json")
    [ -n "$base_latency" ] || base_latency=$(awk -v r="$rate" 'BEGIN {print 1 / r}')
    awk -v k=$k -v r="$rate" -v b="$base_latency" -v c="$(field cpu_us_per_request "$TMP/r.json")" \
        -v m="$(field kb_per_in_flight "$TMP/r.json")" \
        'BEGIN {ideal = k / 0.2; printf "%9d %9.1f %9.1f %9.3f %9.3f %12.1f %13.2f\n", k, r, ideal, r / ideal, r * b / k, c, m}'
done

# the cache: fill it (no latency), then rerun the same calls
N=20000
"$LOAD" --base-url "http://127.0.0.1:$PORT/delay=0/v1" --requests $N --in-flight 64 \
    --cache "$TMP/cache.sqlite" > "$TMP/fill.json" || status=1
"$LOAD" --base-url "http://127.0.0.1:$PORT/delay=0/v1" --requests $N --in-flight 64 \
    --cache "$TMP/cache.sqlite" > "$TMP/rerun.json" || status=1
fill=$(field per_second "$TMP/fill.json")
rate=$(field per_second "$TMP/rerun.json")
http=$(field http_requests "$TMP/rerun.json")
hits=$(field cache_hits "$TMP/rerun.json")
printf 'cache: first run %.0f req/s over HTTP; rerun %s HTTP requests, %s hits, %.0f replies/s (%.1fx)\n' \
    "$fill" "$http" "$hits" "$rate" "$(awk -v a="$rate" -v b="$fill" 'BEGIN {print a / b}')"
[ "$http" = 0 ] || { echo "FAIL: the cached rerun made $http HTTP requests"; status=1; }
awk -v r="$rate" 'BEGIN {exit !(r >= 20000)}' || echo "WARNING: cached rerun below 20,000 replies/s"
exit $status
