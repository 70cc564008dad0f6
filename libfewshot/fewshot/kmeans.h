/*
 * libfewshot: k-means clustering of demonstration embeddings (FAISS), and the choice of one
 * representative demonstration per cluster (the paper's "representative demonstrations").
 *
 * Results depend only on the data, k, the options and the seed: equal inputs give equal
 * centroids and assignments.
 *
 * Thread-safety: the functions keep no state; distinct calls may run concurrently.
 */
#ifndef FEWSHOT_KMEANS_H
#define FEWSHOT_KMEANS_H

#include "fewshot/common.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_kmeans_options {
    unsigned int version;       /* FEWSHOT_KMEANS_OPTIONS_VERSION */
    unsigned int niter;         /* iterations (0: 25) */
    unsigned int nredo;         /* restarts, the best kept (0: 1) */
    uint64_t seed;              /* seeds FAISS's initial sampling */
    int spherical;              /* nonzero: normalize centroids (for inner-product data) */
} fewshot_kmeans_options;

#define FEWSHOT_KMEANS_OPTIONS_VERSION 1
#define FEWSHOT_KMEANS_OPTIONS_INIT {FEWSHOT_KMEANS_OPTIONS_VERSION, 25, 1, 1234, 0}

FEWSHOT_EXTERN(int) fewshot_kmeans_options_init(fewshot_kmeans_options *opts,
                                                unsigned int version);

/* Cluster n vectors x (n x dim) into k clusters. centroids (k x dim) and assign (n labels in
 * 0..k-1) may each be NULL. k must be between 1 and n. opts may be NULL (defaults). */
FEWSHOT_EXTERN(int) fewshot_kmeans(const float *x, size_t n, size_t dim, size_t k,
                                   const fewshot_kmeans_options *opts, float *centroids,
                                   int64_t *assign);

typedef enum fewshot_representative {
    FEWSHOT_REPRESENTATIVE_NEAREST = 0,   /* the member nearest its centroid */
    FEWSHOT_REPRESENTATIVE_BEST_REWARD = 1 /* the member with the highest reward */
} fewshot_representative;

/* One member per cluster: rep[c] is the index (0..n-1) of cluster c's representative, or -1
 * for an empty cluster. rewards (n values) is needed for BEST_REWARD only; ties go to the
 * lower index. */
FEWSHOT_EXTERN(int) fewshot_kmeans_representatives(const float *x, size_t n, size_t dim,
                                                   size_t k, const float *centroids,
                                                   const int64_t *assign, const double *rewards,
                                                   fewshot_representative how, int64_t *rep);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_KMEANS_H */
