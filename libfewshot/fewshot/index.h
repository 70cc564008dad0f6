/*
 * libfewshot: vector indexes for demonstration retrieval, through FAISS's C API.
 *
 * An index holds n vectors of one dimension and answers k-nearest-neighbour queries, exactly
 * (factory "Flat", the default) or approximately with any FAISS index-factory string
 * ("HNSW32", "IVF1024,Flat", "IVF256,PQ16", ...), under squared L2 distance or inner product.
 * Vectors are labelled 0..n-1 in the order they were added, which is the order of the
 * demonstrations they embed.
 *
 * fewshot_index_save(ix, PATH) writes the FAISS index to PATH and a JSON sidecar PATH.json
 * holding the dimension, metric, factory string, count and the embedder's identity (see
 * <fewshot/embed.h>), so that an index is never queried with vectors from another embedder.
 * The convention is to keep both next to the dataset: demos.jsonl, demos.index,
 * demos.index.json.
 *
 * Thread-safety: searches on one index may run concurrently; adding, training, loading or
 * changing parameters must not overlap with anything else on that index.
 */
#ifndef FEWSHOT_INDEX_H
#define FEWSHOT_INDEX_H

#include <jansson.h>
#include "fewshot/common.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_index fewshot_index;

typedef enum fewshot_metric {
    FEWSHOT_METRIC_L2 = 0,      /* squared Euclidean distance, smaller is nearer */
    FEWSHOT_METRIC_IP = 1       /* inner product (cosine on normalized vectors), larger is nearer */
} fewshot_metric;

typedef struct fewshot_index_options {
    unsigned int version;       /* FEWSHOT_INDEX_OPTIONS_VERSION */
    const char *factory;        /* FAISS index-factory string; NULL or "Flat": exact search */
    fewshot_metric metric;
    unsigned int nprobe;        /* IVF: inverted lists visited per query (0: FAISS default) */
    unsigned int ef_search;     /* HNSW: search breadth (0: FAISS default) */
} fewshot_index_options;

#define FEWSHOT_INDEX_OPTIONS_VERSION 1
#define FEWSHOT_INDEX_OPTIONS_INIT {FEWSHOT_INDEX_OPTIONS_VERSION, NULL, FEWSHOT_METRIC_L2, 0, 0}

/* Fill opts with the defaults of this version. */
FEWSHOT_EXTERN(int) fewshot_index_options_init(fewshot_index_options *opts, unsigned int version);

/* An empty index of dimension dim. opts may be NULL (exact, L2). A bad factory string is
 * FEWSHOT_EINVAL with FAISS's reason. */
FEWSHOT_EXTERN(int) fewshot_index_new(fewshot_index **out, size_t dim,
                                      const fewshot_index_options *opts);
FEWSHOT_EXTERN(void) fewshot_index_free(fewshot_index *ix);

/* Add n vectors (n x dim floats, row-major). Indexes that need training (IVF, PQ) are trained
 * on the first batch added, which must then hold enough vectors (IVFk needs at least k).
 * Non-finite values are refused with the row and column named. */
FEWSHOT_EXTERN(int) fewshot_index_add(fewshot_index *ix, size_t n, const float *x);

/* The k nearest stored vectors of each of nq queries: labels[nq*k] (-1 where fewer than k
 * exist) and distances[nq*k] (squared L2, or inner products), best first. distances may be
 * NULL. */
FEWSHOT_EXTERN(int) fewshot_index_search(const fewshot_index *ix, size_t nq, const float *q,
                                         size_t k, float *distances, int64_t *labels);

/* Copy stored vector i (dim floats) into out. Exact for flat, HNSW and IVF-Flat indexes;
 * approximate for compressed ones. */
FEWSHOT_EXTERN(int) fewshot_index_vector(const fewshot_index *ix, size_t i, float *out);

FEWSHOT_EXTERN(size_t) fewshot_index_count(const fewshot_index *ix);
FEWSHOT_EXTERN(size_t) fewshot_index_dim(const fewshot_index *ix);
FEWSHOT_EXTERN(fewshot_metric) fewshot_index_metric(const fewshot_index *ix);
FEWSHOT_EXTERN(const char *) fewshot_index_factory(const fewshot_index *ix);

/* Change a search parameter by FAISS name ("nprobe", "efSearch", ...). */
FEWSHOT_EXTERN(int) fewshot_index_set_param(fewshot_index *ix, const char *name, double value);

/* Metadata saved in the sidecar under "meta" (the embedder's identity, the dataset's name).
 * set keeps its own reference; get returns a borrowed object (never NULL). */
FEWSHOT_EXTERN(int) fewshot_index_set_meta(fewshot_index *ix, const char *key, json_t *value);
FEWSHOT_EXTERN(json_t *) fewshot_index_meta(const fewshot_index *ix);

/* Write the index to path and its sidecar to path.json. */
FEWSHOT_EXTERN(int) fewshot_index_save(const fewshot_index *ix, const char *path);

/* Read an index written by fewshot_index_save(). The sidecar must exist and agree with the
 * FAISS file (dimension, count, metric), otherwise FEWSHOT_EMISMATCH or FEWSHOT_EPARSE. */
FEWSHOT_EXTERN(int) fewshot_index_load(fewshot_index **out, const char *path);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_INDEX_H */
