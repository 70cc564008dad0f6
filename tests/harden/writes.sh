#!/bin/sh
# Written files: a unique temporary file per writer and an atomic rename (demonstrations,
# config.json), errors that blame the step that failed, and cache writes that fail (a full
# disk, simulated by a trigger refusing inserts) reported with exit status 1, not silently.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/llm-server/start.sh"
FEWSHOT_PLUGIN_PATH=$FEWSHOT_TEST_PLUGINS
FEWSHOT_GNUPLOT=
XDG_CACHE_HOME=$TMP/xdg
export FEWSHOT_PLUGIN_PATH FEWSHOT_GNUPLOT XDG_CACHE_HOME
cd "$TMP" || exit 1

# a stale PATH.tmp (even a directory) no longer blocks the writer: temporary names are unique
mkdir d.jsonl.tmp
expect_status 0 "demos beside a stale .tmp" -- run_fewshot demos generate room -p horizon=4 --episodes 2 -o d.jsonl
expect_status 0 "the file reads back" -- run_fewshot demos info d.jsonl
ls d.jsonl.?????? >/dev/null 2>&1 && fail "a temporary file was left behind" || pass
# concurrent writers of one file all succeed and leave one whole file
i=0; pids=
while [ $i -lt 12 ]; do
    "$FEWSHOT" demos generate room -p horizon=4 --episodes 2 --seed $i -o c.jsonl 2> "c$i.err" &
    pids="$pids $!"; i=$((i + 1))
done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
[ "$bad" = 0 ] && pass || { fail "$bad of 12 concurrent demos generate failed"; cat c*.err >&2; }
expect_status 0 "the concurrently written file reads back" -- run_fewshot demos info c.jsonl
# a directory where the file should go: the rename is blamed, not the write
mkdir isdir.jsonl
expect_status 1 "demos onto a directory" -- run_fewshot demos generate room -p horizon=4 --episodes 1 -o isdir.jsonl
expect_grep 'isdir.jsonl: cannot rename the temporary file over it: Is a directory' "$TMP/err" "the failing step named"

# What is not a regular file is written in place, never replaced by a rename: a FIFO (as a
# device like /dev/null is: run as root, the rename replaced /dev/null with a file) and a link
# into /proc (as /dev/stdout is). A link to a regular file is followed: the file is replaced,
# the link stays.
mkfifo fifo.jsonl
cat fifo.jsonl > from-fifo.jsonl &
reader=$!
expect_status 0 "demos into a FIFO" -- run_fewshot demos generate room -p horizon=4 --episodes 1 -o fifo.jsonl
i=0; while kill -0 $reader 2> /dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill $reader 2> /dev/null; wait $reader 2> /dev/null
[ -p fifo.jsonl ] && pass || fail "the FIFO was replaced by a regular file"
expect_status 0 "what went through the FIFO reads back" -- run_fewshot demos info from-fifo.jsonl
ls fifo.jsonl.?????? > /dev/null 2>&1 && fail "a temporary file was left beside the FIFO" || pass
ln -s /proc/self/fd/1 stdout-link
"$FEWSHOT" demos generate room -p horizon=4 --episodes 1 -o stdout-link > via-stdout.jsonl 2> link.err &&
    [ -L stdout-link ] && pass || fail "writing through a link to standard output: $(cat link.err)"
expect_status 0 "what went to standard output reads back" -- run_fewshot demos info via-stdout.jsonl
expect_status 0 "a file" -- run_fewshot demos generate room -p horizon=4 --episodes 1 -o real.jsonl
ln -s real.jsonl link.jsonl
expect_status 0 "through a link to it" -- run_fewshot demos generate room -p horizon=4 --episodes 3 -o link.jsonl
expect_status 0 "the same, directly" -- run_fewshot demos generate room -p horizon=4 --episodes 3 -o direct.jsonl
[ -L link.jsonl ] && cmp -s real.jsonl direct.jsonl && pass ||
    fail "a write through a link did not replace the file it names, or replaced the link"

# config.json is replaced by a rename (a new inode), never rewritten in place
cat > base.json <<'JSON'
{"env": {"plugin": "room", "params": {"horizon": 3}}, "arms": [], "baselines": ["zero"],
 "episodes": {"seeds": [1]}}
JSON
expect_status 0 "a sweep" -- run_fewshot sweep base.json -o run
before=$(stat -c %i run/config.json)
expect_status 0 "its resume" -- run_fewshot sweep base.json -o run
after=$(stat -c %i run/config.json)
[ "$before" != "$after" ] && pass || fail "config.json was rewritten in place"
ls run/config.json.?????? >/dev/null 2>&1 && fail "a temporary config was left behind" || pass

# cache writes that fail are reported and the exit status is 1
start_llm_server --mode echo
run_fewshot llm chat --base-url "$LLM_BASE" --model m --api-key-env '' --cache cache.sqlite warm > /dev/null 2>&1
sqlite3 cache.sqlite "CREATE TRIGGER full BEFORE INSERT ON responses BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;" \
    || skip "sqlite3 could not add the trigger"
expect_status 1 "llm chat with a failing cache" -- run_fewshot llm chat --base-url "$LLM_BASE" --model m --api-key-env '' --cache cache.sqlite hello
expect_grep '^echo: hello$' "$TMP/out" "the reply is still printed"
expect_grep 'the reply could not be stored in the cache: .*cache.sqlite.*disk is full' "$TMP/err" "llm chat says the cache failed"
cat > llm.json <<JSON
{"env": {"plugin": "room", "params": {"horizon": 2}},
 "demos": {"episodes": 1, "steps": 2, "seed": 100}, "selection": {"knn": 1},
 "llm": {"base_url": "$LLM_BASE", "model": "m", "cache": {"path": "$TMP/cache.sqlite"}},
 "arms": [{"name": "llm"}], "baselines": [], "episodes": {"seeds": [1]}}
JSON
expect_status 1 "a sweep with a failing cache" -- run_fewshot sweep llm.json -o run-llm
expect_grep 'arm llm: [0-9]+ replies could not be stored in the LLM cache: .*disk is full' "$TMP/err" "the sweep says the cache failed"
finish
