/*
 * Vector indexes over FAISS's C API: exact and index-factory indexes, search, save and load
 * with a JSON sidecar that records what the vectors are.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/IndexIVF_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>

#include "fewshot/error.h"
#include "fewshot/index.h"
#include "retrieval_internal.h"

#define SIDECAR_FORMAT "libfewshot-index"
#define SIDECAR_VERSION 1

struct fewshot_index {
    FaissIndex *faiss;
    size_t dim;
    fewshot_metric metric;
    char *factory;
    unsigned int nprobe, ef_search;
    json_t *meta;
    float *flat;                /* "Flat" indexes: the vectors for index_exact.c, in panels */
    size_t n_flat, cap_flat;
    int flat_failed;            /* the copy could not be kept: FAISS searches */
};

static int is_flat(const fewshot_index *ix)
{
    return strcmp(ix->factory, "Flat") == 0;
}

/* Keep the flat copy in step with FAISS's vectors, in the exact search's panels of
 * FEWSHOT__PANEL points (retrieval_internal.h); without memory for it FAISS searches. */
static void flat_append(fewshot_index *ix, size_t n, const float *x)
{
    if (!is_flat(ix) || ix->flat_failed)
        return;
    if (ix->n_flat + n > ix->cap_flat) {
        size_t cap = ix->cap_flat ? ix->cap_flat : 1024;    /* a multiple of the panel */
        while (cap < ix->n_flat + n)
            cap *= 2;
        float *more = realloc(ix->flat, cap * ix->dim * sizeof *more);
        if (!more) {
            free(ix->flat);
            ix->flat = NULL;
            ix->flat_failed = 1;
            return;
        }
        ix->flat = more;
        ix->cap_flat = cap;
    }
    size_t d = ix->dim;
    for (size_t i = 0; i < n; i++) {
        size_t at = ix->n_flat + i;
        float *panel = ix->flat + (at / FEWSHOT__PANEL) * d * FEWSHOT__PANEL + at % FEWSHOT__PANEL;
        for (size_t t = 0; t < d; t++)
            panel[t * FEWSHOT__PANEL] = x[i * d + t];
    }
    ix->n_flat += n;
    /* the last panel's unused lanes hold zeros: searched, never returned */
    for (size_t at = ix->n_flat; at % FEWSHOT__PANEL; at++) {
        float *panel = ix->flat + (at / FEWSHOT__PANEL) * d * FEWSHOT__PANEL + at % FEWSHOT__PANEL;
        for (size_t t = 0; t < d; t++)
            panel[t * FEWSHOT__PANEL] = 0.0f;
    }
}

int fewshot__faiss_error(int rc, const char *what)
{
    const char *msg = faiss_get_last_error();
    return fewshot_error_set(rc == -4 || rc == -2 ? FEWSHOT_EINVAL : FEWSHOT_ERROR,
                             "%s: FAISS: %s", what, msg ? msg : "unknown error");
}

int fewshot_index_options_init(fewshot_index_options *opts, unsigned int version)
{
    if (!opts || version != FEWSHOT_INDEX_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_index_options_init: version %u is not "
                                 "%d", version, FEWSHOT_INDEX_OPTIONS_VERSION);
    *opts = (fewshot_index_options)FEWSHOT_INDEX_OPTIONS_INIT;
    return 0;
}

static int apply_params(fewshot_index *ix)
{
    if (ix->nprobe && strstr(ix->factory, "IVF")) {
        int rc = fewshot_index_set_param(ix, "nprobe", ix->nprobe);
        if (rc)
            return rc;
    }
    if (ix->ef_search && strstr(ix->factory, "HNSW"))
        return fewshot_index_set_param(ix, "efSearch", ix->ef_search);
    return 0;
}

/* IVF indexes can give back their vectors only with a direct map. */
static int enable_direct_map(fewshot_index *ix)
{
    FaissIndexIVF *ivf = faiss_IndexIVF_cast(ix->faiss);
    if (!ivf)
        return 0;
    int rc = faiss_IndexIVF_make_direct_map(ivf, 1);
    return rc ? fewshot__faiss_error(rc, "index") : 0;
}

static int index_alloc(fewshot_index **out, size_t dim, fewshot_metric metric,
                       const char *factory, unsigned nprobe, unsigned ef_search)
{
    fewshot_index *ix = calloc(1, sizeof *ix);
    if (!ix || !(ix->factory = strdup(factory)) || !(ix->meta = json_object())) {
        if (ix)
            free(ix->factory);
        free(ix);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    ix->dim = dim;
    ix->metric = metric;
    ix->nprobe = nprobe;
    ix->ef_search = ef_search;
    *out = ix;
    return 0;
}

int fewshot_index_new(fewshot_index **out, size_t dim, const fewshot_index_options *opts)
{
    fewshot_index_options def = FEWSHOT_INDEX_OPTIONS_INIT;
    *out = NULL;
    if (!opts)
        opts = &def;
    if (opts->version != FEWSHOT_INDEX_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "index options: version %u is not %d",
                                 opts->version, FEWSHOT_INDEX_OPTIONS_VERSION);
    if (dim == 0 || dim > 65536)
        return fewshot_error_set(FEWSHOT_EINVAL, "index: dimension %zu is out of range "
                                 "(1..65536)", dim);
    if (opts->metric != FEWSHOT_METRIC_L2 && opts->metric != FEWSHOT_METRIC_IP)
        return fewshot_error_set(FEWSHOT_EINVAL, "index: unknown metric %d", (int)opts->metric);
    const char *factory = opts->factory && *opts->factory ? opts->factory : "Flat";
    fewshot_index *ix;
    int rc = index_alloc(&ix, dim, opts->metric, factory, opts->nprobe, opts->ef_search);
    if (rc)
        return rc;
    rc = faiss_index_factory(&ix->faiss, (int)dim, factory,
                             opts->metric == FEWSHOT_METRIC_IP ? METRIC_INNER_PRODUCT : METRIC_L2);
    if (rc) {
        rc = fewshot__faiss_error(rc, "index");
        fewshot_error_prefix("index factory string '%s'", factory);
        fewshot_index_free(ix);
        return rc;
    }
    if ((rc = enable_direct_map(ix)) || (rc = apply_params(ix))) {
        fewshot_index_free(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

void fewshot_index_free(fewshot_index *ix)
{
    if (!ix)
        return;
    if (ix->faiss)
        faiss_Index_free(ix->faiss);
    free(ix->flat);
    free(ix->factory);
    json_decref(ix->meta);
    free(ix);
}

int fewshot__check_finite_rows(const float *x, size_t n, size_t dim, const char *what)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < dim; j++)
            if (!isfinite(x[i * dim + j]))
                return fewshot_error_set(FEWSHOT_ERANGE, "%s: vector %zu, element %zu is %s",
                                         what, i, j, isnan(x[i * dim + j]) ? "NaN" : "infinite");
    return 0;
}

int fewshot_index_add(fewshot_index *ix, size_t n, const float *x)
{
    if (!ix || (n && !x))
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_index_add: NULL argument");
    if (n == 0)
        return 0;
    int rc = fewshot__check_finite_rows(x, n, ix->dim, "index add");
    if (rc)
        return rc;
    if (!faiss_Index_is_trained(ix->faiss)) {
        rc = faiss_Index_train(ix->faiss, (idx_t)n, x);
        if (rc) {
            rc = fewshot__faiss_error(rc, "index");
            fewshot_error_prefix("training '%s' on %zu vectors", ix->factory, n);
            return rc;
        }
        if ((rc = apply_params(ix)))
            return rc;
    }
    rc = faiss_Index_add(ix->faiss, (idx_t)n, x);
    if (rc)
        return fewshot__faiss_error(rc, "index add");
    flat_append(ix, n, x);
    return 0;
}

int fewshot_index_search(const fewshot_index *ix, size_t nq, const float *q, size_t k,
                         float *distances, int64_t *labels)
{
    if (!ix || !labels || (nq && !q))
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_index_search: NULL argument");
    if (nq == 0 || k == 0)
        return 0;
    int rc = fewshot__check_finite_rows(q, nq, ix->dim, "index query");
    if (rc)
        return rc;
    float *d = distances;
    if (!d && !(d = malloc(nq * k * sizeof *d)))
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if (ix->flat && ix->n_flat == fewshot_index_count(ix))
        rc = fewshot__exact_search_panels(ix->flat, ix->n_flat, ix->dim,
                                   ix->metric == FEWSHOT_METRIC_IP, nq, q, k, d, labels);
    else
        rc = faiss_Index_search(ix->faiss, (idx_t)nq, q, (idx_t)k, d, (idx_t *)labels);
    if (d != distances)
        free(d);
    return rc ? fewshot__faiss_error(rc, "index search") : 0;
}

int fewshot_index_vector(const fewshot_index *ix, size_t i, float *out)
{
    if (!ix || !out)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_index_vector: NULL argument");
    if (i >= fewshot_index_count(ix))
        return fewshot_error_set(FEWSHOT_ERANGE, "index: vector %zu does not exist (%zu stored)",
                                 i, fewshot_index_count(ix));
    int rc = faiss_Index_reconstruct(ix->faiss, (idx_t)i, out);
    return rc ? fewshot__faiss_error(rc, "index vector") : 0;
}

size_t fewshot_index_count(const fewshot_index *ix)
{
    return ix ? (size_t)faiss_Index_ntotal(ix->faiss) : 0;
}

size_t fewshot_index_dim(const fewshot_index *ix)
{
    return ix ? ix->dim : 0;
}

fewshot_metric fewshot_index_metric(const fewshot_index *ix)
{
    return ix ? ix->metric : FEWSHOT_METRIC_L2;
}

const char *fewshot_index_factory(const fewshot_index *ix)
{
    return ix ? ix->factory : NULL;
}

int fewshot_index_set_param(fewshot_index *ix, const char *name, double value)
{
    if (!ix || !name)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_index_set_param: NULL argument");
    FaissParameterSpace *ps;
    int rc = faiss_ParameterSpace_new(&ps);
    if (rc)
        return fewshot__faiss_error(rc, "index parameter");
    rc = faiss_ParameterSpace_set_index_parameter(ps, ix->faiss, name, value);
    faiss_ParameterSpace_free(ps);
    if (rc) {
        rc = fewshot__faiss_error(rc, "index");
        fewshot_error_prefix("parameter %s=%g for '%s'", name, value, ix->factory);
        return rc;
    }
    if (strcmp(name, "nprobe") == 0)
        ix->nprobe = (unsigned)value;
    else if (strcmp(name, "efSearch") == 0)
        ix->ef_search = (unsigned)value;
    return 0;
}

int fewshot_index_set_meta(fewshot_index *ix, const char *key, json_t *value)
{
    if (!ix || !key || !value)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_index_set_meta: NULL argument");
    return json_object_set(ix->meta, key, value) ? fewshot_error_set(FEWSHOT_ENOMEM,
                                                                     "out of memory") : 0;
}

json_t *fewshot_index_meta(const fewshot_index *ix)
{
    return ix ? ix->meta : NULL;
}

static char *sidecar_path(const char *path)
{
    size_t n = strlen(path);
    char *s = malloc(n + 6);
    if (s)
        memcpy(s, path, n), memcpy(s + n, ".json", 6);
    return s;
}

int fewshot_index_save(const fewshot_index *ix, const char *path)
{
    if (!ix || !path)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_index_save: NULL argument");
    int rc = faiss_write_index_fname(ix->faiss, path);
    if (rc) {
        rc = fewshot__faiss_error(rc, "index save");
        fewshot_error_prefix("%s", path);
        return rc;
    }
    json_t *doc = json_pack("{s:s, s:i, s:I, s:s, s:s, s:I, s:i, s:i, s:O}", "format",
                            SIDECAR_FORMAT, "version", SIDECAR_VERSION, "dim",
                            (json_int_t)ix->dim, "metric",
                            ix->metric == FEWSHOT_METRIC_IP ? "ip" : "l2", "factory",
                            ix->factory, "count", (json_int_t)fewshot_index_count(ix), "nprobe",
                            (int)ix->nprobe, "ef_search", (int)ix->ef_search, "meta", ix->meta);
    char *side = sidecar_path(path);
    if (!doc || !side) {
        json_decref(doc);
        free(side);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    rc = json_dump_file(doc, side, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(9));
    if (rc)
        rc = fewshot_error_set_at(FEWSHOT_EIO, side, 0, 0, "cannot write the index sidecar");
    json_decref(doc);
    free(side);
    return rc;
}

/* Read and check the sidecar; *doc is a new reference on success. */
static int read_sidecar(const char *side, json_t **doc)
{
    json_error_t err;
    *doc = json_load_file(side, 0, &err);
    if (!*doc)
        return fewshot_error_set_at(FEWSHOT_EPARSE, side, err.line, err.column,
                                    "index sidecar: %s%s", err.text,
                                    strstr(err.text, "unable to open") ?
                                    " (an index needs its .json sidecar; rebuild it)" : "");
    const char *format = NULL, *metric = NULL, *factory = NULL;
    json_int_t version = 0, dim = 0, count = 0;
    json_t *meta = NULL;
    if (json_unpack_ex(*doc, &err, 0, "{s:s, s:I, s:I, s:s, s:s, s:I, s:o}", "format", &format,
                       "version", &version, "dim", &dim, "metric", &metric, "factory", &factory,
                       "count", &count, "meta", &meta) != 0 || strcmp(format, SIDECAR_FORMAT)) {
        json_decref(*doc);
        *doc = NULL;
        return fewshot_error_set_path(FEWSHOT_EPARSE, side, err.source[0] ? err.source : "$",
                                      "not a libfewshot index sidecar: %s", err.text);
    }
    if (version != SIDECAR_VERSION || (strcmp(metric, "l2") && strcmp(metric, "ip"))) {
        json_decref(*doc);
        *doc = NULL;
        return fewshot_error_set_path(FEWSHOT_EPARSE, side, "$", "unsupported sidecar version "
                                      "or metric");
    }
    return 0;
}

int fewshot_index_load(fewshot_index **out, const char *path)
{
    if (!out || !path)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_index_load: NULL argument");
    *out = NULL;
    char *side = sidecar_path(path);
    if (!side)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    json_t *doc;
    int rc = read_sidecar(side, &doc);
    if (rc) {
        free(side);
        return rc;
    }
    fewshot_index *ix = NULL;
    const char *metric = json_string_value(json_object_get(doc, "metric"));
    rc = index_alloc(&ix, (size_t)json_integer_value(json_object_get(doc, "dim")),
                     strcmp(metric, "ip") == 0 ? FEWSHOT_METRIC_IP : FEWSHOT_METRIC_L2,
                     json_string_value(json_object_get(doc, "factory")),
                     (unsigned)json_integer_value(json_object_get(doc, "nprobe")),
                     (unsigned)json_integer_value(json_object_get(doc, "ef_search")));
    if (rc)
        goto done;
    json_decref(ix->meta);
    ix->meta = json_deep_copy(json_object_get(doc, "meta"));
    rc = faiss_read_index_fname(path, 0, &ix->faiss);
    if (rc) {
        ix->faiss = NULL;
        rc = fewshot__faiss_error(rc, "index load");
        fewshot_error_prefix("%s", path);
        goto done;
    }
    size_t count = (size_t)json_integer_value(json_object_get(doc, "count"));
    int want_ip = ix->metric == FEWSHOT_METRIC_IP;
    if ((size_t)faiss_Index_d(ix->faiss) != ix->dim || fewshot_index_count(ix) != count ||
        (faiss_Index_metric_type(ix->faiss) == METRIC_INNER_PRODUCT) != want_ip) {
        rc = fewshot_error_set_at(FEWSHOT_EMISMATCH, path, 0, 0, "the index (dimension %d, %zu "
                                  "vectors) does not match its sidecar %s (dimension %zu, %zu "
                                  "vectors, metric %s)", faiss_Index_d(ix->faiss),
                                  fewshot_index_count(ix), side, ix->dim, count, metric);
        goto done;
    }
    rc = apply_params(ix);
    /* a loaded flat index gets its copy for the exact search back from FAISS */
    if (rc == 0 && is_flat(ix) && count) {
        float *x = malloc(count * ix->dim * sizeof *x);
        if (x && faiss_Index_reconstruct_n(ix->faiss, 0, (idx_t)count, x) == 0)
            flat_append(ix, count, x);
        free(x);
    }
done:
    if (rc)
        fewshot_index_free(ix);
    else
        *out = ix;
    json_decref(doc);
    free(side);
    return rc;
}
