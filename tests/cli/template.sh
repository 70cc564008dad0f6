#!/bin/sh
# `fewshot template render`: exact output (no added newline), partials, stdin, escaping, errors.
. "$top_srcdir/tests/lib.sh"
d="$top_srcdir/tests/data/template"

expect_status 0 "render with partials" -- run_fewshot template render "$d/rooms.mustache" \
    "$d/rooms.json" --partials "$d"
printf 'Rooms:\n  Room 1: 23.5\n  Room 2: 21\nTarget: 22, a&lt;b / a<b' > "$TMP/want"
cmp -s "$TMP/out" "$TMP/want" && pass || { fail "rendering differs"; od -c "$TMP/out" | head >&2; }

# data from standard input; --escape none
run_fewshot template render "$d/rooms.mustache" --partials "$d" --escape none \
    < "$d/rooms.json" > "$TMP/out2"
printf 'Rooms:\n  Room 1: 23.5\n  Room 2: 21\nTarget: 22, a<b / a<b' > "$TMP/want2"
cmp -s "$TMP/out2" "$TMP/want2" && pass || fail "stdin / --escape none differs"

# a missing partial renders as nothing (the Mustache rule)
expect_status 0 "missing partial" -- run_fewshot template render "$d/rooms.mustache" "$d/rooms.json"
expect_grep '^Target: 22' "$TMP/out" "missing partial is empty"

# errors name file:line:column and exit 2
printf 'ok\n{{#rooms}}\n{{name}}\n' > "$TMP/unclosed.mustache"
expect_status 2 "unclosed section" -- run_fewshot template render "$TMP/unclosed.mustache" "$d/rooms.json"
expect_grep 'unclosed.mustache:2:1: unclosed section .rooms.' "$TMP/err" "unclosed section position"
printf '{{#a}}\n  {{/b}}' > "$TMP/mismatch.mustache"
expect_status 2 "mismatched close" -- run_fewshot template render "$TMP/mismatch.mustache" "$d/rooms.json"
expect_grep 'mismatch.mustache:2:3: mismatched closing tag' "$TMP/err" "mismatch position"
printf 'x {{name' > "$TMP/open.mustache"
expect_status 2 "unclosed tag" -- run_fewshot template render "$TMP/open.mustache" "$d/rooms.json"
expect_grep 'open.mustache:1:3: unclosed tag' "$TMP/err" "unclosed tag position"
printf '{"a": [1,}' > "$TMP/bad.json"
expect_status 2 "bad data" -- run_fewshot template render "$d/rooms.mustache" "$TMP/bad.json"
expect_grep 'bad.json:1:' "$TMP/err" "bad JSON position"
expect_status 2 "missing template" -- run_fewshot template render
expect_status 2 "no such file" -- run_fewshot template render "$TMP/nope.mustache" "$d/rooms.json"
expect_status 2 "bad escape" -- run_fewshot template render "$d/rooms.mustache" "$d/rooms.json" --escape xml
finish
