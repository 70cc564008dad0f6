#!/bin/sh
# Demonstration datasets at scale (tests/bench/demos.c): a year of hourly MPC demonstrations
# generated on all jobs against one job, and 100k OfficeMedium transitions loaded and indexed
# from the binary store format against JSONL, with time and peak memory, and the memory of
# building every context up front (the retriever's old way) against building them on use. Set
# FEWSHOT_BENCH_DEMOS_SIZES=100000,1000000 for the 1M figure (about 1.5 GB of temporary files).
: "${top_builddir:?}"
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
XDG_CACHE_HOME=${XDG_CACHE_HOME:-$(mktemp -d)}
FEWSHOT_PLUGIN_PATH=$top_builddir/plugins/.libs
export OMP_NUM_THREADS XDG_CACHE_HOME FEWSHOT_PLUGIN_PATH
exec "$top_builddir/tests/bench/demos" --sizes "${FEWSHOT_BENCH_DEMOS_SIZES:-100000}"
