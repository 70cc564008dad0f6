#!/bin/sh
# Runs one Python test against this build tree: the package from the source tree, the library
# and plugins from the build tree, caches and outputs in a temporary directory. Exits 77
# (skipped) with the reason when Debian's python3-numpy or python3-cffi is missing.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
PY=${PYTHON3:-/usr/bin/python3}
[ -n "$PY" ] || { echo "SKIP: no python3 found by configure"; exit 77; }
for m in numpy cffi; do
    if ! "$PY" -c "import $m" 2>/dev/null; then
        echo "SKIP: $PY cannot import $m (install python3-$m)"
        exit 77
    fi
done
TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/fewshot-py.XXXXXX")
trap 'rm -rf "$TMPDIR"' EXIT
export TMPDIR
XDG_CACHE_HOME=$TMPDIR/cache
PYTHONPATH=$top_srcdir/python:$top_srcdir/tests/python
FEWSHOT_BUILDDIR=$top_builddir
PYTHONDONTWRITEBYTECODE=1
OMP_NUM_THREADS=1
export XDG_CACHE_HOME PYTHONPATH FEWSHOT_BUILDDIR PYTHONDONTWRITEBYTECODE OMP_NUM_THREADS
script=$1; shift
case $script in /*) ;; *) script=$PWD/$script ;; esac
cd "$TMPDIR" && "$PY" "$script" "$@"
