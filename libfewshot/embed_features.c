/*
 * The "features" embedder: a plugin's fixed-size features, standardized per element with the
 * dataset's mean and standard deviation, optionally scaled to unit length.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "fewshot/embed.h"
#include "fewshot/error.h"
#include "retrieval_internal.h"

typedef struct features {
    size_t dim;                 /* 0 until fitted or restored */
    int normalize;
    double *mean, *std;
} features;

static size_t f_dim(void *self)
{
    return ((features *)self)->dim;
}

static int check_inputs(const features *f, size_t n, const fewshot_embed_input *in, size_t dim)
{
    for (size_t i = 0; i < n; i++) {
        if (!in[i].features)
            return fewshot_error_set(FEWSHOT_EINVAL, "features embedder: input %zu has no "
                                     "features", i);
        if (in[i].dim != dim)
            return fewshot_error_set(FEWSHOT_EMISMATCH, "features embedder: input %zu has %zu "
                                     "features, expected %zu%s", i, in[i].dim, dim,
                                     f->dim ? " (the dimension the embedder was fitted on)" : "");
        for (size_t j = 0; j < dim; j++)
            if (!isfinite(in[i].features[j]))
                return fewshot_error_set(FEWSHOT_ERANGE, "features embedder: input %zu, feature "
                                         "%zu is %s", i, j,
                                         isnan(in[i].features[j]) ? "NaN" : "infinite");
    }
    return 0;
}

static int set_dim(features *f, size_t dim)
{
    double *mean = calloc(dim, sizeof *mean), *std = calloc(dim, sizeof *std);
    if (!mean || !std) {
        free(mean), free(std);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    free(f->mean), free(f->std);
    f->mean = mean, f->std = std, f->dim = dim;
    return 0;
}

static int f_fit(void *self, size_t n, const fewshot_embed_input *in)
{
    features *f = self;
    if (n == 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "features embedder: nothing to fit on");
    size_t dim = in[0].dim;
    if (dim == 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "features embedder: input 0 has no features");
    int rc = check_inputs(f, n, in, dim);
    if (rc || (rc = set_dim(f, dim)))
        return rc;
    for (size_t j = 0; j < dim; j++) {
        double mean = 0, m2 = 0;
        for (size_t i = 0; i < n; i++) {
            double x = in[i].features[j], delta = x - mean;
            mean += delta / (double)(i + 1);
            m2 += delta * (x - mean);
        }
        double sd = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0;
        f->mean[j] = mean;
        f->std[j] = sd > 1e-12 ? sd : 1.0;   /* a constant feature stays centred, unscaled */
    }
    return 0;
}

static int f_embed(void *self, size_t n, const fewshot_embed_input *in, float *out)
{
    features *f = self;
    if (!f->dim)
        return fewshot_error_set(FEWSHOT_EINVAL, "features embedder: not fitted: fit it on the "
                                 "dataset or take the statistics from its index");
    int rc = check_inputs(f, n, in, f->dim);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < f->dim; j++)
            out[i * f->dim + j] = (float)((in[i].features[j] - f->mean[j]) / f->std[j]);
    if (f->normalize)
        fewshot__l2_normalize(out, n, f->dim);
    return 0;
}

static json_t *doubles(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

static int f_identity(void *self, json_t **out)
{
    features *f = self;
    *out = json_pack("{s:s, s:I, s:b}", "kind", "features", "dim", (json_int_t)f->dim,
                     "normalize", f->normalize);
    if (*out && f->dim)
        json_object_set_new(*out, "state", json_pack("{s:o, s:o}", "mean",
                                                     doubles(f->mean, f->dim), "std",
                                                     doubles(f->std, f->dim)));
    return *out ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
}

static int f_restore(void *self, const json_t *id)
{
    features *f = self;
    json_t *state = json_object_get(id, "state");
    json_t *mean = json_object_get(state, "mean"), *std = json_object_get(state, "std");
    size_t dim = json_array_size(mean);
    if (!dim || json_array_size(std) != dim)
        return fewshot_error_set_path(FEWSHOT_EPARSE, NULL, "$.meta.embedder.state",
                                      "features embedder: the index has no standardization "
                                      "statistics (mean and std of equal length)");
    int rc = set_dim(f, dim);
    if (rc)
        return rc;
    for (size_t j = 0; j < dim; j++) {
        f->mean[j] = json_number_value(json_array_get(mean, j));
        f->std[j] = json_number_value(json_array_get(std, j));
        if (!isfinite(f->mean[j]) || !(f->std[j] > 0))
            return fewshot_error_set_path(FEWSHOT_EPARSE, NULL, "$.meta.embedder.state",
                                          "features embedder: bad statistics at element %zu", j);
    }
    return 0;
}

static void f_destroy(void *self)
{
    features *f = self;
    if (f) {
        free(f->mean);
        free(f->std);
        free(f);
    }
}

static const fewshot_embedder_ops features_ops = {
    .version = FEWSHOT_EMBEDDER_OPS_VERSION,
    .kind = "features",
    .embed = f_embed,
    .dim = f_dim,
    .fit = f_fit,
    .identity = f_identity,
    .restore = f_restore,
    .destroy = f_destroy,
};

int fewshot__embed_features_new(const fewshot_embedder_ops **ops, void **self,
                                const fewshot_embedder_options *o)
{
    features *f = calloc(1, sizeof *f);
    if (!f)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    f->normalize = o->normalize == 1;
    *ops = &features_ops;
    *self = f;
    return 0;
}
