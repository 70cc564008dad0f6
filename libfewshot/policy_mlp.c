/*
 * The mlp:FILE policy: a feed-forward network with observation normalization and action
 * scaling, read from the JSON file `python3 -m fewshot.ppo` exports:
 *
 *   {"format": "fewshot-mlp", "version": 1, "obs_dim": K, "act_dim": M,
 *    "obs_norm": {"mean": [K], "std": [K], "clip": C},            (optional)
 *    "layers": [{"weight": [[in] x out], "bias": [out],
 *                "activation": "tanh"|"relu"|"linear"}, ...],
 *    "action": {"squash": "clip"|"tanh"|"none", "low": [M], "high": [M]},  (optional)
 *    "meta": {...}}                                                (free-form, ignored)
 *
 * The forward pass runs in double precision on buffers allocated once at load, so acting is
 * allocation-free and takes microseconds.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "policy_mlp.h"

typedef enum { ACT_LINEAR, ACT_TANH, ACT_RELU } activation;
typedef enum { SQUASH_NONE, SQUASH_CLIP, SQUASH_TANH } squash;

typedef struct layer {
    size_t in, out;
    double *weight;             /* out rows of in values */
    double *bias;
    activation act;
} layer;

struct fewshot_mlp {
    size_t obs_dim, act_dim, n_layers, widest;
    double *mean, *std, clip;   /* mean NULL: no normalization; clip 0: none */
    layer *layers;
    squash squash;
    double *low, *high;         /* NULL: the network's output is the action */
    double *buf_a, *buf_b;      /* activations, widest values each */
    const char *file;           /* for messages while loading */
};

static int bad(const fewshot_mlp *m, const char *path, const char *what)
{
    return fewshot_error_set_path(FEWSHOT_EPARSE, m->file, path, "%s", what);
}

/* Read an array of exactly n finite numbers into a new buffer. */
static int read_vector(const fewshot_mlp *m, const json_t *v, size_t n, const char *path,
                       double **out)
{
    char msg[96];
    if (!json_is_array(v) || json_array_size(v) != n) {
        snprintf(msg, sizeof msg, "expected an array of %zu numbers", n);
        return bad(m, path, msg);
    }
    double *buf = malloc((n ? n : 1) * sizeof *buf);
    if (!buf)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_array_get(v, i);
        if (!json_is_number(x) || !isfinite(json_number_value(x))) {
            free(buf);
            char sub[160];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            return bad(m, sub, "expected a finite number");
        }
        buf[i] = json_number_value(x);
    }
    *out = buf;
    return 0;
}

static int read_size(const fewshot_mlp *m, const json_t *doc, const char *key, size_t *out)
{
    char path[64];
    snprintf(path, sizeof path, "$.%s", key);
    const json_t *v = json_object_get(doc, key);
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return bad(m, path, "expected a positive integer");
    *out = (size_t)json_integer_value(v);
    return 0;
}

static int check_keys(const fewshot_mlp *m, const json_t *obj, const char *path,
                      const char *const *known, const char *list)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        int ok = 0;
        for (size_t i = 0; known[i] && !ok; i++)
            ok = strcmp(known[i], key) == 0;
        if (!ok) {
            char sub[160], msg[200];
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            snprintf(msg, sizeof msg, "unknown key (known: %s)", list);
            return bad(m, sub, msg);
        }
    }
    return 0;
}

static int read_norm(fewshot_mlp *m, const json_t *norm)
{
    static const char *const keys[] = {"mean", "std", "clip", NULL};
    int rc;
    if (!json_is_object(norm))
        return bad(m, "$.obs_norm", "expected an object {mean, std, clip}");
    if ((rc = check_keys(m, norm, "$.obs_norm", keys, "mean, std, clip")) != 0 ||
        (rc = read_vector(m, json_object_get(norm, "mean"), m->obs_dim, "$.obs_norm.mean",
                          &m->mean)) != 0 ||
        (rc = read_vector(m, json_object_get(norm, "std"), m->obs_dim, "$.obs_norm.std",
                          &m->std)) != 0)
        return rc;
    for (size_t i = 0; i < m->obs_dim; i++)
        if (!(m->std[i] > 0)) {
            char sub[64];
            snprintf(sub, sizeof sub, "$.obs_norm.std[%zu]", i);
            return bad(m, sub, "expected a positive number");
        }
    const json_t *clip = json_object_get(norm, "clip");
    if (clip && (!json_is_number(clip) || json_number_value(clip) < 0))
        return bad(m, "$.obs_norm.clip", "expected a non-negative number (0: no clip)");
    m->clip = clip ? json_number_value(clip) : 0.0;
    return 0;
}

static int read_activation(const fewshot_mlp *m, const json_t *v, const char *path,
                           activation *out)
{
    const char *s = json_string_value(v);
    if (!v || (s && strcmp(s, "linear") == 0))
        *out = ACT_LINEAR;
    else if (s && strcmp(s, "tanh") == 0)
        *out = ACT_TANH;
    else if (s && strcmp(s, "relu") == 0)
        *out = ACT_RELU;
    else
        return bad(m, path, "expected \"tanh\", \"relu\" or \"linear\"");
    return 0;
}

static int read_layer(fewshot_mlp *m, const json_t *item, size_t k, size_t in, layer *l)
{
    static const char *const keys[] = {"weight", "bias", "activation", NULL};
    char path[64], sub[96];
    int rc;
    snprintf(path, sizeof path, "$.layers[%zu]", k);
    if (!json_is_object(item))
        return bad(m, path, "expected an object {weight, bias, activation}");
    if ((rc = check_keys(m, item, path, keys, "weight, bias, activation")) != 0)
        return rc;
    const json_t *w = json_object_get(item, "weight");
    snprintf(sub, sizeof sub, "%s.weight", path);
    if (!json_is_array(w) || json_array_size(w) == 0)
        return bad(m, sub, "expected an array of rows (one per output)");
    l->in = in;
    l->out = json_array_size(w);
    if (!(l->weight = malloc(l->in * l->out * sizeof *l->weight)))
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t r = 0; r < l->out; r++) {
        double *row;
        snprintf(sub, sizeof sub, "%s.weight[%zu]", path, r);
        if ((rc = read_vector(m, json_array_get(w, r), in, sub, &row)) != 0)
            return rc;
        memcpy(l->weight + r * in, row, in * sizeof *row);
        free(row);
    }
    snprintf(sub, sizeof sub, "%s.bias", path);
    if ((rc = read_vector(m, json_object_get(item, "bias"), l->out, sub, &l->bias)) != 0)
        return rc;
    snprintf(sub, sizeof sub, "%s.activation", path);
    return read_activation(m, json_object_get(item, "activation"), sub, &l->act);
}

static int read_layers(fewshot_mlp *m, const json_t *layers)
{
    if (!json_is_array(layers) || json_array_size(layers) == 0)
        return bad(m, "$.layers", "expected a non-empty array of layers");
    m->n_layers = json_array_size(layers);
    if (!(m->layers = calloc(m->n_layers, sizeof *m->layers)))
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    size_t in = m->obs_dim;
    m->widest = in > m->act_dim ? in : m->act_dim;
    for (size_t k = 0; k < m->n_layers; k++) {
        int rc = read_layer(m, json_array_get(layers, k), k, in, &m->layers[k]);
        if (rc)
            return rc;
        in = m->layers[k].out;
        if (in > m->widest)
            m->widest = in;
    }
    if (in != m->act_dim) {
        char msg[96];
        snprintf(msg, sizeof msg, "the last layer has %zu outputs; act_dim is %zu", in,
                 m->act_dim);
        return bad(m, "$.layers", msg);
    }
    return 0;
}

static int read_action(fewshot_mlp *m, const json_t *action)
{
    static const char *const keys[] = {"squash", "low", "high", NULL};
    int rc;
    if (!json_is_object(action))
        return bad(m, "$.action", "expected an object {squash, low, high}");
    if ((rc = check_keys(m, action, "$.action", keys, "squash, low, high")) != 0)
        return rc;
    const char *s = json_string_value(json_object_get(action, "squash"));
    if (!json_object_get(action, "squash") || (s && strcmp(s, "clip") == 0))
        m->squash = SQUASH_CLIP;
    else if (s && strcmp(s, "tanh") == 0)
        m->squash = SQUASH_TANH;
    else if (s && strcmp(s, "none") == 0)
        m->squash = SQUASH_NONE;
    else
        return bad(m, "$.action.squash", "expected \"clip\", \"tanh\" or \"none\"");
    if (!json_object_get(action, "low") && !json_object_get(action, "high"))
        return 0;
    if ((rc = read_vector(m, json_object_get(action, "low"), m->act_dim, "$.action.low",
                          &m->low)) != 0)
        return rc;
    return read_vector(m, json_object_get(action, "high"), m->act_dim, "$.action.high",
                       &m->high);
}

static int read_doc(fewshot_mlp *m, const json_t *doc, size_t obs_dim, size_t act_dim)
{
    static const char *const keys[] = {"format", "version", "obs_dim", "act_dim", "obs_norm",
                                       "layers", "action", "meta", NULL};
    int rc;
    if (!json_is_object(doc))
        return bad(m, "$", "expected a JSON object (an MLP policy file)");
    const char *format = json_string_value(json_object_get(doc, "format"));
    if (!format || strcmp(format, "fewshot-mlp") != 0)
        return bad(m, "$.format", "expected \"fewshot-mlp\"");
    if (json_integer_value(json_object_get(doc, "version")) != 1)
        return bad(m, "$.version", "expected 1 (the only version this library reads)");
    if ((rc = check_keys(m, doc, "$", keys, "format, version, obs_dim, act_dim, obs_norm, "
                         "layers, action, meta")) != 0 ||
        (rc = read_size(m, doc, "obs_dim", &m->obs_dim)) != 0 ||
        (rc = read_size(m, doc, "act_dim", &m->act_dim)) != 0)
        return rc;
    if (m->obs_dim != obs_dim || m->act_dim != act_dim)
        return fewshot_error_set_path(FEWSHOT_EMISMATCH, m->file, "$.obs_dim",
                                      "the policy maps %zu observations to %zu actions; the "
                                      "environment has %zu and %zu (trained on another "
                                      "scenario?)", m->obs_dim, m->act_dim, obs_dim, act_dim);
    const json_t *norm = json_object_get(doc, "obs_norm");
    if (norm && (rc = read_norm(m, norm)) != 0)
        return rc;
    if ((rc = read_layers(m, json_object_get(doc, "layers"))) != 0)
        return rc;
    const json_t *action = json_object_get(doc, "action");
    m->squash = SQUASH_NONE;
    return action ? read_action(m, action) : 0;
}

int fewshot__mlp_load(fewshot_mlp **out, const char *path, size_t obs_dim, size_t act_dim)
{
    json_error_t jerr;
    *out = NULL;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return fewshot_error_set_at(jerr.line < 0 ? FEWSHOT_EIO : FEWSHOT_EPARSE, path,
                                    jerr.line > 0 ? jerr.line : 0,
                                    jerr.column > 0 ? jerr.column : 0, "%s", jerr.text);
    fewshot_mlp *m = calloc(1, sizeof *m);
    if (!m) {
        json_decref(doc);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    m->file = path;
    int rc = read_doc(m, doc, obs_dim, act_dim);
    json_decref(doc);
    if (rc == 0 && (!(m->buf_a = malloc(m->widest * sizeof *m->buf_a)) ||
                    !(m->buf_b = malloc(m->widest * sizeof *m->buf_b))))
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    m->file = NULL;
    if (rc) {
        fewshot__mlp_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void fewshot__mlp_free(fewshot_mlp *mlp)
{
    if (!mlp)
        return;
    for (size_t k = 0; mlp->layers && k < mlp->n_layers; k++) {
        free(mlp->layers[k].weight);
        free(mlp->layers[k].bias);
    }
    free(mlp->layers);
    free(mlp->mean);
    free(mlp->std);
    free(mlp->low);
    free(mlp->high);
    free(mlp->buf_a);
    free(mlp->buf_b);
    free(mlp);
}

static void apply_layer(const layer *l, const double *x, double *y)
{
    for (size_t r = 0; r < l->out; r++) {
        const double *w = l->weight + r * l->in;
        double s = l->bias[r];
        for (size_t c = 0; c < l->in; c++)
            s += w[c] * x[c];
        y[r] = l->act == ACT_TANH ? tanh(s) : l->act == ACT_RELU ? (s > 0 ? s : 0) : s;
    }
}

void fewshot__mlp_forward(fewshot_mlp *mlp, const double *obs, double *action)
{
    double *x = mlp->buf_a, *y = mlp->buf_b;
    for (size_t i = 0; i < mlp->obs_dim; i++) {
        double v = mlp->mean ? (obs[i] - mlp->mean[i]) / mlp->std[i] : obs[i];
        if (mlp->clip > 0)
            v = v < -mlp->clip ? -mlp->clip : v > mlp->clip ? mlp->clip : v;
        x[i] = v;
    }
    for (size_t k = 0; k < mlp->n_layers; k++) {
        apply_layer(&mlp->layers[k], x, y);
        double *t = x;
        x = y;
        y = t;
    }
    for (size_t j = 0; j < mlp->act_dim; j++) {
        double v = x[j];
        if (mlp->squash == SQUASH_CLIP)
            v = v < -1 ? -1 : v > 1 ? 1 : v;
        else if (mlp->squash == SQUASH_TANH)
            v = tanh(v);
        if (mlp->low)
            v = mlp->low[j] + (v + 1.0) * 0.5 * (mlp->high[j] - mlp->low[j]);
        action[j] = v;
    }
}
