/*
 * Internal helpers shared by the retrieval modules (index, kmeans, embed, select). Not
 * installed; nothing here is exported.
 */
#ifndef FEWSHOT_RETRIEVAL_INTERNAL_H
#define FEWSHOT_RETRIEVAL_INTERNAL_H

#include <stddef.h>
#include "internal.h"

/* Record FAISS's last error (after a faiss_* call returned rc) as ours, prefixed by what. */
FEWSHOT_HIDDEN int fewshot__faiss_error(int rc, const char *what);

/* FEWSHOT_ERANGE naming the first non-finite element of n rows of dim floats. */
FEWSHOT_HIDDEN int fewshot__check_finite_rows(const float *x, size_t n, size_t dim,
                                              const char *what);

/* Squared L2 distance and inner product of two dim-vectors. */
FEWSHOT_HIDDEN float fewshot__l2sq(const float *a, const float *b, size_t dim);
FEWSHOT_HIDDEN float fewshot__dot(const float *a, const float *b, size_t dim);

/* Deep copy of a transition into dst (owning its arrays and JSON), and its release. */
struct fewshot_demo;
FEWSHOT_HIDDEN int fewshot__demo_copy(struct fewshot_demo *dst, const struct fewshot_demo *src);
FEWSHOT_HIDDEN void fewshot__demo_clear(struct fewshot_demo *d);

/* Check a transition before it is stored (what: "demonstration", "buffer"). */
FEWSHOT_HIDDEN int fewshot__demo_check(const struct fewshot_demo *d, const char *what);

/* Drop the transitions after the first n. */
struct fewshot_demos;
FEWSHOT_HIDDEN void fewshot__demos_truncate(struct fewshot_demos *ds, size_t n);

/* The built-in embedders: each fills its table and state from the options. */
struct fewshot_embedder_ops;
struct fewshot_embedder_options;
FEWSHOT_HIDDEN int fewshot__embed_features_new(const struct fewshot_embedder_ops **ops,
                                               void **self,
                                               const struct fewshot_embedder_options *o);
FEWSHOT_HIDDEN int fewshot__embed_text_hash_new(const struct fewshot_embedder_ops **ops,
                                                void **self,
                                                const struct fewshot_embedder_options *o);
FEWSHOT_HIDDEN int fewshot__embed_remote_new(const struct fewshot_embedder_ops **ops,
                                             void **self,
                                             const struct fewshot_embedder_options *o);

/* Exact search of nq queries over n vectors x (n x d) in plain C: the k best per query in
 * FAISS's result layout (ip: inner product, largest first; else squared L2, smallest first). */
#include <stdint.h>
FEWSHOT_HIDDEN int fewshot__exact_search(const float *x, size_t n, size_t d, int ip, size_t nq,
                                         const float *q, size_t k, float *dist,
                                         int64_t *labels);

/* The same over vectors stored in panels of FEWSHOT__PANEL points: coordinate t of point i at
 * x[(i / P) * d * P + t * P + i % P], the last panel's unused lanes anything. Each distance is
 * the same float arithmetic as fewshot__exact_search's, so results are equal to its. */
#define FEWSHOT__PANEL 8
/* Set: the panel search keeps to SSE2 even where AVX2 is (for the tests of both loops). */
FEWSHOT_HIDDEN extern int fewshot__exact_no_avx2;
FEWSHOT_HIDDEN int fewshot__exact_search_panels(const float *x, size_t n, size_t d, int ip,
                                                size_t nq, const float *q, size_t k,
                                                float *dist, int64_t *labels);

/* Scale each of n rows of dim floats to unit L2 norm (zero rows stay zero). */
FEWSHOT_HIDDEN void fewshot__l2_normalize(float *x, size_t n, size_t dim);

#endif
