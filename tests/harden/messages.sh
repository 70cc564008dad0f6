#!/bin/sh
# Messages keep their place: the config file and JSON path of a bad plugin parameter, the
# file and both plugins of foreign demonstrations, a number too large for --set, episodes.steps
# beyond the plugin's episode, a parameter outside its bounds, `help help`, a non-ELF plugin
# (no ldd hint), and man pages whose JSON examples keep their quotes.
. "$top_srcdir/tests/lib.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS:$top_builddir/plugins/.libs
FEWSHOT_GNUPLOT=
XDG_CACHE_HOME=$TMP/xdg
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT XDG_CACHE_HOME
cd "$TMP" || exit 1
cat > h.json <<'JSON'
{"env": {"plugin": "hvac"}, "scenarios": [{"name": "winter", "params": {"weather": "Cool_Humid"}}],
 "arms": [], "baselines": ["zero"], "episodes": {"seeds": [1]}}
JSON
expect_status 2 "a misspelt parameter" -- run_fewshot sweep h.json --dry-run --set env.params.buildng=OfficeSmall
expect_grep "^fewshot: h.json: \\\$\\.env\\.params\\.buildng: scenario winter: hvac: unknown parameter 'buildng'" "$TMP/err" "file and JSON path of the parameter"
expect_status 2 "a misspelt scenario parameter" -- run_fewshot sweep h.json --dry-run --set 'scenarios=[{"name": "w", "params": {"wether": "x"}}]'
expect_grep "^fewshot: h.json: \\\$\\.scenarios\\[0\\]\\.params\\.wether: scenario w: " "$TMP/err" "scenario parameter path"
expect_status 2 "a 20-digit integer" -- run_fewshot sweep h.json --dry-run --set selection.knn=12345678901234567890
expect_grep '^fewshot: h.json: \$\.selection\.knn: --set selection\.knn=12345678901234567890: a number out of range' "$TMP/err" "out of range, not a string"
# a key that is not UTF-8 (found by fuzz_config: once a use after free)
expect_status 2 "--set with a non-UTF-8 key" -- run_fewshot sweep h.json --dry-run --set "$(printf 'selection.\377x.k=1')"
expect_grep 'the key is not valid UTF-8' "$TMP/err" "non-UTF-8 --set key"
expect_status 2 "-p with a non-UTF-8 key" -- run_fewshot env info room -p "$(printf 'a\377.b=1')"
expect_grep 'the key is not valid UTF-8' "$TMP/err" "non-UTF-8 -p key"
expect_status 2 "a target of 1e308" -- run_fewshot sweep h.json --dry-run --set env.params.target=1e308
expect_grep "\\\$\\.env\\.params\\.target: scenario winter: hvac: parameter 'target' must be from -50 to 60, not 1e\\+308" "$TMP/err" "parameter bounds"
expect_status 2 "steps beyond the episode" -- run_fewshot sweep h.json --dry-run --set episodes.steps=48
expect_grep '^fewshot: h.json: \$\.episodes\.steps: 48 steps, but an episode of hvac in scenario winter ends after 24 \(its parameter episode_length\)' "$TMP/err" "steps beyond episode_length"
expect_status 0 "steps within a longer episode" -- run_fewshot sweep h.json --dry-run --set episodes.steps=48 --set env.params.episode_length=48

# demonstrations of another plugin
run_fewshot demos generate room -p horizon=3 --episodes 1 -o room.jsonl 2>/dev/null
cat > hd.json <<'JSON'
{"env": {"plugin": "hvac"}, "demos": {"file": "room.jsonl"},
 "llm": {"base_url": "http://127.0.0.1:9/v1", "model": "m"}, "baselines": [], "episodes": {"seeds": [1]}}
JSON
expect_status 2 "demonstrations of another plugin" -- run_fewshot sweep hd.json --dry-run
expect_grep 'room\.jsonl: arm llm: demonstrations of plugin room, but the config.s environment is hvac \(env\.plugin\)' "$TMP/err" "both plugins and the file named"

expect_status 0 "help help" -- run_fewshot help help
expect_grep '^usage: fewshot' "$TMP/out" "help help shows the usage"

mkdir junk && echo "not a plugin" > junk/junk.so
expect_status 2 "a non-ELF plugin" -- env FEWSHOT_PLUGIN_PATH="$TMP/junk" "$FEWSHOT" env info junk
expect_grep 'not a shared library \(no ELF header\)' "$TMP/err" "non-ELF named"
grep -q ldd "$TMP/err" && fail "the non-ELF message suggests ldd" || pass

# man pages: a .B line with several quoted strings loses its quotes; JSON must use \(dq
# (lines that start a JSON object or array; Mustache's {{...}} is not JSON)
bad=$(grep -n -e '^\.BR\? [{[][^{].*"' -e '^\.B ".*", "' "$top_srcdir"/man/*.[1-8] || true)
[ -z "$bad" ] && pass || { fail "man lines whose quotes groff strips:"; echo "$bad" >&2; }
if command -v man >/dev/null 2>&1; then
    MANWIDTH=100 man -l "$top_srcdir/man/fewshot-config.5" 2>/dev/null > config.txt
    expect_grep '\{"plugin": "hvac", "params": \{\.\.\.\}\}' config.txt "fewshot-config(5) renders its JSON with quotes"
fi
finish
