#!/bin/sh
# The installed plugin directory compiled into the library is the one configure chose last
# (`./configure && make; ./configure --prefix=P && make` once kept /usr/local).
. "$top_srcdir/tests/lib.sh"
: "${FEWSHOT_CONFIGURED_PLUGINDIR:?}"
cd "$TMP" || exit 1
expect_status 2 "an unknown plugin lists the search path" -- env FEWSHOT_PLUGIN_PATH= "$FEWSHOT" env info no-such-plugin
grep -F -q -- "$FEWSHOT_CONFIGURED_PLUGINDIR" "$TMP/err" && pass || {
    fail "the library searches another plugin directory than the configured $FEWSHOT_CONFIGURED_PLUGINDIR"
    cat "$TMP/err" >&2
}
finish
