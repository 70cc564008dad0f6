/*
 * The "features" embedder: a plugin's fixed-size features, standardized per element with the
 * dataset's mean and standard deviation, or robustly with its median and interquartile range
 * under a floor, optionally weighted per element, optionally scaled to unit length.
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
    fewshot_scaling scaling;
    double floor;               /* robust: relative floor of the scale */
    double *mean, *std;         /* the centre and scale of each element */
    double *weights;            /* NULL: 1 each */
    size_t n_weights;
} features;

#define DEFAULT_FLOOR 0.1
#define IQR_PER_SIGMA 1.349     /* a normal distribution's IQR in standard deviations */

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

/* The q-quantile of v (reordered), interpolating between order statistics. */
static double quantile(double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t k = (size_t)pos;
    double a = fewshot__select_kth(v, n, k);
    if (k + 1 >= n || pos == (double)k)
        return a;
    /* the next order statistic is the smallest of the upper part */
    double b = v[k + 1];
    for (size_t i = k + 2; i < n; i++)
        if (v[i] < b)
            b = v[i];
    return a + (pos - (double)k) * (b - a);
}

static void fit_std(features *f, size_t n, const fewshot_embed_input *in, size_t j)
{
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

static void fit_robust(features *f, size_t n, const fewshot_embed_input *in, size_t j,
                       double *tmp)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = in[i].features[j];
    double median = quantile(tmp, n, 0.5);
    double q1 = quantile(tmp, n, 0.25), q3 = quantile(tmp, n, 0.75);
    double floor = f->floor * fmax(1.0, fabs(median));
    f->mean[j] = median;
    f->std[j] = fmax((q3 - q1) / IQR_PER_SIGMA, floor);
}

static int f_fit(void *self, size_t n, const fewshot_embed_input *in)
{
    features *f = self;
    if (n == 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "features embedder: nothing to fit on");
    size_t dim = in[0].dim;
    if (dim == 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "features embedder: input 0 has no features");
    if (f->weights && f->n_weights != dim)
        return fewshot_error_set(FEWSHOT_EMISMATCH, "features embedder: %zu weights for %zu "
                                 "features (give one weight per feature)", f->n_weights, dim);
    int rc = check_inputs(f, n, in, dim);
    if (rc || (rc = set_dim(f, dim)))
        return rc;
    double *tmp = f->scaling == FEWSHOT_SCALING_ROBUST ? malloc(n * sizeof *tmp) : NULL;
    if (f->scaling == FEWSHOT_SCALING_ROBUST && !tmp)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t j = 0; j < dim; j++) {
        if (tmp)
            fit_robust(f, n, in, j, tmp);
        else
            fit_std(f, n, in, j);
    }
    free(tmp);
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
            out[i * f->dim + j] = (float)((in[i].features[j] - f->mean[j]) / f->std[j] *
                                          (f->weights ? f->weights[j] : 1.0));
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
    /* version 1's identity stays as it was, so existing indexes keep their stamp */
    if (*out && f->scaling == FEWSHOT_SCALING_ROBUST)
        json_object_set_new(*out, "scaling", json_pack("{s:s, s:f}", "kind", "robust", "floor",
                                                       f->floor));
    if (*out && f->weights)
        json_object_set_new(*out, "weights", doubles(f->weights, f->n_weights));
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
    json_t *w = json_object_get(id, "weights");
    if (w) {
        if (json_array_size(w) != dim)
            return fewshot_error_set_path(FEWSHOT_EPARSE, NULL, "$.meta.embedder.weights",
                                          "features embedder: expected %zu weights", dim);
        free(f->weights);
        if (!(f->weights = malloc(dim * sizeof *f->weights)))
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        for (size_t j = 0; j < dim; j++)
            f->weights[j] = json_number_value(json_array_get(w, j));
        f->n_weights = dim;
    }
    return 0;
}

static void f_destroy(void *self)
{
    features *f = self;
    if (f) {
        free(f->mean);
        free(f->std);
        free(f->weights);
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
    f->scaling = o->scaling;
    f->floor = o->scale_floor > 0 ? o->scale_floor : DEFAULT_FLOOR;
    if (o->scaling != FEWSHOT_SCALING_STD && o->scaling != FEWSHOT_SCALING_ROBUST) {
        free(f);
        return fewshot_error_set(FEWSHOT_EINVAL, "features embedder: unknown scaling %d",
                                 (int)o->scaling);
    }
    if (o->weights && o->n_weights) {
        if (!(f->weights = malloc(o->n_weights * sizeof *f->weights))) {
            free(f);
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        }
        for (size_t j = 0; j < o->n_weights; j++) {
            if (!isfinite(o->weights[j]) || o->weights[j] < 0) {
                free(f->weights), free(f);
                return fewshot_error_set(FEWSHOT_EINVAL, "features embedder: weight %zu must be "
                                         "a finite number >= 0", j);
            }
            f->weights[j] = o->weights[j];
        }
        f->n_weights = o->n_weights;
    }
    *ops = &features_ops;
    *self = f;
    return 0;
}
