/*
 * libfewshot: embedders turn a state (a plugin's features, or the translated state text) into
 * a vector for the index and the selectors.
 *
 *   features    the plugin's fixed-size features, standardized per element with a mean and
 *               standard deviation fitted on the dataset (fewshot_embedder_fit) and stored
 *               with the index; optionally L2-normalized
 *   text-hash   hashed character n-grams of a text (signed feature hashing into dim buckets,
 *               deterministic, no model), L2-normalized by default
 *   remote      an OpenAI-compatible POST {base_url}/embeddings endpoint; the HTTP exchange is
 *               a replaceable transport function (default: libcurl), so it can be tested
 *               against recorded replies and later routed through the LLM client
 *
 * Every embedder is a function table (fewshot_embedder_ops); users can bring their own with
 * fewshot_embedder_new_ops(). An embedder's identity (kind, dimension, normalization, its
 * settings and fitted statistics) is stamped into the index built from its vectors, and an
 * index is refused (FEWSHOT_EMISMATCH) when queried through an embedder of another identity.
 *
 * Thread-safety: embed() of the built-in embedders may run concurrently on one embedder once
 * it is fitted; fit, restore and free must not overlap with anything else on it.
 */
#ifndef FEWSHOT_EMBED_H
#define FEWSHOT_EMBED_H

#include <jansson.h>
#include "fewshot/common.h"
#include "fewshot/demo.h"
#include "fewshot/index.h"

FEWSHOT_BEGIN_DECLS

/* One thing to embed: features for "features", text for "text-hash" and "remote". */
typedef struct fewshot_embed_input {
    const float *features;
    size_t dim;
    const char *text;
} fewshot_embed_input;

/* The table an embedder implements. self is the embedder's own state. */
typedef struct fewshot_embedder_ops {
    unsigned int version;       /* FEWSHOT_EMBEDDER_OPS_VERSION */
    const char *kind;           /* "features", "text-hash", "remote", or your own name */
    /* Write n vectors of dim(self) floats to out. */
    int (*embed)(void *self, size_t n, const fewshot_embed_input *in, float *out);
    /* Output dimension; 0 while unknown (an unfitted features embedder, a remote one before
     * its first reply). */
    size_t (*dim)(void *self);
    /* Learn statistics from a dataset (NULL: nothing to learn). */
    int (*fit)(void *self, size_t n, const fewshot_embed_input *in);
    /* The identity as a new JSON object: "kind", "dim", "normalize", the settings that change
     * the vectors, and fitted statistics under "state". */
    int (*identity)(void *self, json_t **out);
    /* Take back fitted statistics from an identity's "state" (NULL: none kept). */
    int (*restore)(void *self, const json_t *identity);
    void (*destroy)(void *self);
    void *reserved[4];          /* must be NULL */
} fewshot_embedder_ops;

#define FEWSHOT_EMBEDDER_OPS_VERSION 1

/* An HTTP POST of a JSON body for the remote embedder: sets *status and *reply (malloc'ed,
 * NUL-terminated, freed by the library with free()); returns 0, or a negative FEWSHOT_E* code
 * after fewshot_error_set() when no reply came. api_key may be NULL. */
typedef int (*fewshot_embed_transport)(void *data, const char *url, const char *api_key,
                                       const char *body, long timeout_ms, long *status,
                                       char **reply);

/* Standardization of the features embedder. STD: (x - mean) / standard deviation, a constant
 * feature left unscaled (version 1's). ROBUST: (x - median) / max(IQR / 1.349, floor), so a
 * feature whose spread in the dataset is tiny (the day of the year in a one-day dataset)
 * cannot dominate the distances. */
typedef enum fewshot_scaling {
    FEWSHOT_SCALING_STD = 0,
    FEWSHOT_SCALING_ROBUST = 1
} fewshot_scaling;

typedef struct fewshot_embedder_options {
    unsigned int version;       /* FEWSHOT_EMBEDDER_OPTIONS_VERSION */
    const char *kind;           /* "features" (default), "text-hash", "remote" */
    size_t dim;                 /* text-hash: buckets (0: 256); remote: expected (0: any) */
    int normalize;              /* 1: L2-normalize, 0: not, -1: the kind's default
                                 * (features: no; text-hash, remote: yes) */
    unsigned int ngram_min;     /* text-hash: shortest n-gram (0: 2) */
    unsigned int ngram_max;     /* text-hash: longest n-gram (0: 4) */
    uint64_t seed;              /* text-hash: hash seed */
    const char *base_url;       /* remote: e.g. "http://127.0.0.1:8080/v1" */
    const char *model;          /* remote: model name */
    const char *api_key_env;    /* remote: environment variable holding the key, or NULL */
    long timeout_ms;            /* remote: per request (0: 30000) */
    size_t batch;               /* remote: inputs per request (0: 64) */
    fewshot_embed_transport transport;  /* remote: NULL: libcurl */
    void *transport_data;
    /* version 2 */
    fewshot_scaling scaling;    /* features: how each element is standardized */
    double scale_floor;         /* features, robust: the smallest scale is this times
                                 * max(1, |median|) (0: 0.1) */
    const double *weights;      /* features: n_weights multipliers applied after scaling
                                 * (NULL: all 1); n_weights must equal the dimension */
    size_t n_weights;
} fewshot_embedder_options;

#define FEWSHOT_EMBEDDER_OPTIONS_VERSION 2
#define FEWSHOT_EMBEDDER_OPTIONS_INIT \
    {FEWSHOT_EMBEDDER_OPTIONS_VERSION, NULL, 0, -1, 0, 0, 0, NULL, NULL, NULL, 0, 0, NULL, NULL, \
     FEWSHOT_SCALING_STD, 0, NULL, 0}

FEWSHOT_EXTERN(int) fewshot_embedder_options_init(fewshot_embedder_options *opts,
                                                  unsigned int version);

typedef struct fewshot_embedder fewshot_embedder;

/* A built-in embedder. Unknown kinds and bad settings are FEWSHOT_EINVAL. */
FEWSHOT_EXTERN(int) fewshot_embedder_new(fewshot_embedder **out,
                                         const fewshot_embedder_options *opts);

/* An embedder from your own table; self is passed to every call and to destroy. */
FEWSHOT_EXTERN(int) fewshot_embedder_new_ops(fewshot_embedder **out,
                                             const fewshot_embedder_ops *ops, void *self);
FEWSHOT_EXTERN(void) fewshot_embedder_free(fewshot_embedder *e);

FEWSHOT_EXTERN(const char *) fewshot_embedder_kind(const fewshot_embedder *e);
FEWSHOT_EXTERN(size_t) fewshot_embedder_dim(const fewshot_embedder *e);

/* Fit statistics (the features embedder's means and deviations) on n inputs. */
FEWSHOT_EXTERN(int) fewshot_embedder_fit(fewshot_embedder *e, size_t n,
                                         const fewshot_embed_input *in);

/* Embed n inputs into out (n x dim floats). Inputs of the wrong kind or size, and NaN or
 * infinite features, are refused with the input and element named. */
FEWSHOT_EXTERN(int) fewshot_embedder_embed(fewshot_embedder *e, size_t n,
                                           const fewshot_embed_input *in, float *out);

/* The identity (a new JSON object). */
FEWSHOT_EXTERN(int) fewshot_embedder_identity(const fewshot_embedder *e, json_t **out);

/* Record the embedder's identity in the index's metadata (saved in its sidecar). */
FEWSHOT_EXTERN(int) fewshot_embedder_stamp(const fewshot_embedder *e, fewshot_index *ix);

/* Check that ix was built by an embedder of the same identity, and take its fitted
 * statistics. FEWSHOT_EMISMATCH says what differs ("index built by text-hash (dim 256), this
 * embedder is features (dim 3)"). */
FEWSHOT_EXTERN(int) fewshot_embedder_match(fewshot_embedder *e, const fewshot_index *ix);

/* The features of every demonstration of a dataset as inputs (n entries pointing into ds),
 * for fit and embed; FEWSHOT_EINVAL naming the first transition without features. Free the
 * array with free(). */
FEWSHOT_EXTERN(int) fewshot_embed_inputs_from_demos(const fewshot_demos *ds,
                                                    fewshot_embed_input **out);

/* The remote embedder's pieces, exposed for tests and other clients: the request body for n
 * texts, and the vectors of a reply (checked: count, order by "index", equal dimensions,
 * numbers only; errors name the JSON path). *dim is in/out: 0 to accept the reply's. */
FEWSHOT_EXTERN(int) fewshot_embed_remote_request(const char *model, size_t n,
                                                 const char *const *texts, char **body);
FEWSHOT_EXTERN(int) fewshot_embed_remote_parse(const char *reply, size_t n, size_t *dim,
                                               float **vectors);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_EMBED_H */
