#!/bin/sh
# Retrieval benchmark (tests/bench/retrieval.c): KNN latency and throughput at 10k, 100k and 1M
# points of dimension 16 and 512, exact and approximate (with recall@4), and k-means, each
# against a plain C loop timed in the same run. One core (OMP_NUM_THREADS=1) unless set.
# The 1M x 512 case needs about 6 GB and is skipped unless FEWSHOT_BENCH_MAX_MB allows it.
: "${top_builddir:?}"
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export OMP_NUM_THREADS
exec "$top_builddir/tests/bench/retrieval" --max-mb "${FEWSHOT_BENCH_MAX_MB:-1024}" \
    ${FEWSHOT_BENCH_RETRIEVAL_ARGS:-}
