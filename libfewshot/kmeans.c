/*
 * k-means over FAISS's Clustering object, and representatives of each cluster.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include <faiss/c_api/Clustering_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>

#include "fewshot/error.h"
#include "fewshot/kmeans.h"
#include "retrieval_internal.h"

float fewshot__l2sq(const float *a, const float *b, size_t dim)
{
    float s = 0;
    for (size_t i = 0; i < dim; i++) {
        float d = a[i] - b[i];
        s += d * d;
    }
    return s;
}

float fewshot__dot(const float *a, const float *b, size_t dim)
{
    float s = 0;
    for (size_t i = 0; i < dim; i++)
        s += a[i] * b[i];
    return s;
}

int fewshot_kmeans_options_init(fewshot_kmeans_options *opts, unsigned int version)
{
    if (!opts || version != FEWSHOT_KMEANS_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_kmeans_options_init: version %u is "
                                 "not %d", version, FEWSHOT_KMEANS_OPTIONS_VERSION);
    *opts = (fewshot_kmeans_options)FEWSHOT_KMEANS_OPTIONS_INIT;
    return 0;
}

int fewshot_kmeans(const float *x, size_t n, size_t dim, size_t k,
                   const fewshot_kmeans_options *opts, float *centroids, int64_t *assign)
{
    fewshot_kmeans_options def = FEWSHOT_KMEANS_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    if (opts->version != FEWSHOT_KMEANS_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "k-means options: version %u is not %d",
                                 opts->version, FEWSHOT_KMEANS_OPTIONS_VERSION);
    if (!x || dim == 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "k-means: no data");
    if (k == 0 || k > n)
        return fewshot_error_set(FEWSHOT_EINVAL, "k-means: %zu clusters need between 1 and "
                                 "%zu points (%zu given)", k, k, n);
    int rc = fewshot__check_finite_rows(x, n, dim, "k-means");
    if (rc)
        return rc;
    FaissClusteringParameters cp;
    faiss_ClusteringParameters_init(&cp);
    cp.niter = opts->niter ? (int)opts->niter : 25;
    cp.nredo = opts->nredo ? (int)opts->nredo : 1;
    cp.seed = (int)(opts->seed & 0x7fffffff);
    cp.spherical = opts->spherical != 0;
    cp.min_points_per_centroid = 1;     /* small demonstration sets are normal here */
    cp.verbose = 0;
    FaissClustering *cl = NULL;
    FaissIndexFlatL2 *quantizer = NULL;
    if ((rc = faiss_Clustering_new_with_params(&cl, (int)dim, (int)k, &cp)) ||
        (rc = faiss_IndexFlatL2_new_with(&quantizer, (idx_t)dim)) ||
        (rc = faiss_Clustering_train(cl, (idx_t)n, x, quantizer))) {
        rc = fewshot__faiss_error(rc, "k-means");
        goto done;
    }
    float *c;
    size_t size;
    faiss_Clustering_centroids(cl, &c, &size);
    if (size != k * dim) {
        rc = fewshot_error_set(FEWSHOT_ERROR, "k-means: FAISS returned %zu centroid values, "
                               "expected %zu", size, k * dim);
        goto done;
    }
    if (centroids)
        for (size_t i = 0; i < size; i++)
            centroids[i] = c[i];
    if (assign) {
        /* the quantizer holds the final centroids: one exact search assigns every point */
        float *d = malloc(n * sizeof *d);
        if (!d) {
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
            goto done;
        }
        rc = faiss_Index_search(quantizer, (idx_t)n, x, 1, d, (idx_t *)assign);
        free(d);
        if (rc)
            rc = fewshot__faiss_error(rc, "k-means assignment");
    }
done:
    if (quantizer)
        faiss_Index_free(quantizer);
    if (cl)
        faiss_Clustering_free(cl);
    return rc;
}

int fewshot_kmeans_representatives(const float *x, size_t n, size_t dim, size_t k,
                                   const float *centroids, const int64_t *assign,
                                   const double *rewards, fewshot_representative how,
                                   int64_t *rep)
{
    if (!x || !assign || !rep || (how == FEWSHOT_REPRESENTATIVE_NEAREST && !centroids) ||
        (how == FEWSHOT_REPRESENTATIVE_BEST_REWARD && !rewards))
        return fewshot_error_set(FEWSHOT_EINVAL, "k-means representatives: missing %s",
                                 how == FEWSHOT_REPRESENTATIVE_BEST_REWARD && !rewards ?
                                 "rewards" : "argument");
    if (how != FEWSHOT_REPRESENTATIVE_NEAREST && how != FEWSHOT_REPRESENTATIVE_BEST_REWARD)
        return fewshot_error_set(FEWSHOT_EINVAL, "k-means representatives: unknown rule %d",
                                 (int)how);
    double *best = malloc(k * sizeof *best);
    if (!best)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t c = 0; c < k; c++) {
        rep[c] = -1;
        best[c] = how == FEWSHOT_REPRESENTATIVE_NEAREST ? INFINITY : -INFINITY;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t c = assign[i];
        if (c < 0 || (size_t)c >= k) {
            free(best);
            return fewshot_error_set(FEWSHOT_ERANGE, "k-means representatives: point %zu is "
                                     "assigned to cluster %lld of %zu", i, (long long)c, k);
        }
        if (how == FEWSHOT_REPRESENTATIVE_NEAREST) {
            double d = fewshot__l2sq(x + i * dim, centroids + (size_t)c * dim, dim);
            if (d < best[c])
                best[c] = d, rep[c] = (int64_t)i;
        } else if (rewards[i] > best[c] || rep[c] < 0) {
            best[c] = rewards[i], rep[c] = (int64_t)i;
        }
    }
    free(best);
    return 0;
}
