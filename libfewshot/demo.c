/*
 * Demonstration datasets in memory: a header and a growing array of owned transitions.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/demo.h"
#include "fewshot/error.h"
#include "retrieval_internal.h"

struct fewshot_demos {
    json_t *header;
    fewshot_demo *items;
    size_t count, cap;
    size_t features_dim;        /* of the first transition with features, 0 before */
};

int fewshot_demos_new(fewshot_demos **out, const json_t *header)
{
    *out = NULL;
    if (header && !json_is_object(header))
        return fewshot_error_set(FEWSHOT_EINVAL, "demonstrations: the header must be a JSON "
                                 "object");
    fewshot_demos *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->header = header ? json_deep_copy(header) : json_object())) {
        free(ds);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    *out = ds;
    return 0;
}

void fewshot_demos_free(fewshot_demos *ds)
{
    if (!ds)
        return;
    for (size_t i = 0; i < ds->count; i++)
        fewshot__demo_clear(&ds->items[i]);
    free(ds->items);
    json_decref(ds->header);
    free(ds);
}

json_t *fewshot_demos_header(const fewshot_demos *ds)
{
    return ds ? ds->header : NULL;
}

size_t fewshot_demos_count(const fewshot_demos *ds)
{
    return ds ? ds->count : 0;
}

const fewshot_demo *fewshot_demos_get(const fewshot_demos *ds, size_t i)
{
    return ds && i < ds->count ? &ds->items[i] : NULL;
}

static int check_values(const double *v, size_t n, const char *what, const char *field)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return fewshot_error_set(FEWSHOT_ERANGE, "%s: %s[%zu] is %s", what, field, i,
                                     isnan(v[i]) ? "NaN" : "infinite");
    return 0;
}

int fewshot__demo_check(const fewshot_demo *d, const char *what)
{
    if (!d || !d->obs || !d->action || !d->next_obs || !d->obs_dim || !d->act_dim)
        return fewshot_error_set(FEWSHOT_EINVAL, "%s: obs, action and next_obs are required",
                                 what);
    if (d->features_dim && !d->features)
        return fewshot_error_set(FEWSHOT_EINVAL, "%s: features_dim without features", what);
    if (d->scenario && !json_is_object(d->scenario))
        return fewshot_error_set(FEWSHOT_EINVAL, "%s: the scenario must be a JSON object", what);
    if (d->terms && !json_is_object(d->terms))
        return fewshot_error_set(FEWSHOT_EINVAL, "%s: reward terms must be a JSON object", what);
    int rc;
    if ((rc = check_values(d->obs, d->obs_dim, what, "obs")) ||
        (rc = check_values(d->action, d->act_dim, what, "action")) ||
        (rc = check_values(d->next_obs, d->obs_dim, what, "next_obs")) ||
        (rc = check_values(&d->reward, 1, what, "reward")))
        return rc;
    for (size_t i = 0; i < d->features_dim; i++)
        if (!isfinite(d->features[i]))
            return fewshot_error_set(FEWSHOT_ERANGE, "%s: features[%zu] is %s", what, i,
                                     isnan(d->features[i]) ? "NaN" : "infinite");
    return 0;
}

void fewshot__demo_clear(fewshot_demo *d)
{
    free((void *)d->obs);      /* obs, action and next_obs share one block */
    free((void *)d->features);
    free((void *)d->text);
    free((void *)d->source);
    json_decref((json_t *)d->scenario);
    json_decref((json_t *)d->terms);
    memset(d, 0, sizeof *d);
}

int fewshot__demo_copy(fewshot_demo *dst, const fewshot_demo *src)
{
    *dst = *src;
    dst->scenario = dst->terms = NULL;
    dst->obs = dst->action = dst->next_obs = NULL;
    dst->features = NULL;
    dst->text = dst->source = NULL;
    double *block = malloc((2 * src->obs_dim + src->act_dim) * sizeof *block);
    float *features = src->features_dim ? malloc(src->features_dim * sizeof *features) : NULL;
    char *text = src->text ? strdup(src->text) : NULL;
    char *source = src->source ? strdup(src->source) : NULL;
    if (!block || (src->features_dim && !features) || (src->text && !text) ||
        (src->source && !source)) {
        free(block), free(features), free(text), free(source);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    memcpy(block, src->obs, src->obs_dim * sizeof *block);
    memcpy(block + src->obs_dim, src->next_obs, src->obs_dim * sizeof *block);
    memcpy(block + 2 * src->obs_dim, src->action, src->act_dim * sizeof *block);
    if (features)
        memcpy(features, src->features, src->features_dim * sizeof *features);
    dst->obs = block;
    dst->next_obs = block + src->obs_dim;
    dst->action = block + 2 * src->obs_dim;
    dst->features = features;
    dst->text = text;
    dst->source = source;
    dst->scenario = src->scenario ? json_incref((json_t *)src->scenario) : NULL;
    dst->terms = src->terms ? json_deep_copy(src->terms) : NULL;
    return 0;
}

int fewshot_demos_add(fewshot_demos *ds, const fewshot_demo *d)
{
    if (!ds)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_demos_add: NULL dataset");
    int rc = fewshot__demo_check(d, "demonstration");
    if (rc)
        return rc;
    if (d->features_dim && ds->features_dim && d->features_dim != ds->features_dim)
        return fewshot_error_set(FEWSHOT_EMISMATCH, "demonstration: %zu features, but earlier "
                                 "demonstrations have %zu", d->features_dim, ds->features_dim);
    if (ds->count == ds->cap) {
        size_t cap = ds->cap ? 2 * ds->cap : 64;
        fewshot_demo *items = realloc(ds->items, cap * sizeof *items);
        if (!items)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        ds->items = items;
        ds->cap = cap;
    }
    if ((rc = fewshot__demo_copy(&ds->items[ds->count], d)))
        return rc;
    if (d->features_dim)
        ds->features_dim = d->features_dim;
    ds->count++;
    return 0;
}

/* Remove transitions added after the first n (to undo a failed generation). */
void fewshot__demos_truncate(fewshot_demos *ds, size_t n)
{
    while (ds->count > n)
        fewshot__demo_clear(&ds->items[--ds->count]);
    if (n == 0)
        ds->features_dim = 0;
}

typedef struct running {
    double n, mean, m2, min, max;
} running;

static void running_add(running *r, double x)
{
    if (r->n == 0)
        r->min = r->max = x;
    r->n++;
    double delta = x - r->mean;
    r->mean += delta / r->n;
    r->m2 += delta * (x - r->mean);
    r->min = fmin(r->min, x);
    r->max = fmax(r->max, x);
}

static json_t *running_json(const running *r)
{
    return json_pack("{s:f, s:f, s:f, s:f}", "mean", r->mean, "std",
                     r->n > 1 ? sqrt(r->m2 / (r->n - 1)) : 0.0, "min", r->min, "max", r->max);
}

int fewshot_demos_stats(const fewshot_demos *ds, json_t **out)
{
    if (!ds || !out)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_demos_stats: NULL argument");
    running reward = {0}, ret = {0};
    json_t *scenarios = json_object(), *sources = json_object(), *episodes = json_object();
    size_t steps_min = 0, steps_max = 0;
    for (size_t i = 0; i < ds->count; i++) {
        const fewshot_demo *d = &ds->items[i];
        running_add(&reward, d->reward);
        char *key = d->scenario ? json_dumps(d->scenario, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_object_set_new(scenarios, key ? key : "null", json_true());
        free(key);
        const char *src = d->source ? d->source : "";
        json_object_set_new(sources, src,
                            json_integer(json_integer_value(json_object_get(sources, src)) + 1));
        char ep[32];
        snprintf(ep, sizeof ep, "%llu", (unsigned long long)d->episode);
        json_t *e = json_object_get(episodes, ep);
        if (!e)
            json_object_set_new(episodes, ep, e = json_pack("[f, i]", 0.0, 0));
        json_array_set_new(e, 0, json_real(json_real_value(json_array_get(e, 0)) + d->reward));
        json_array_set_new(e, 1, json_integer(json_integer_value(json_array_get(e, 1)) + 1));
    }
    const char *key;
    json_t *e;
    size_t n_ep = 0;
    json_object_foreach(episodes, key, e) {
        running_add(&ret, json_real_value(json_array_get(e, 0)));
        size_t steps = (size_t)json_integer_value(json_array_get(e, 1));
        if (n_ep++ == 0 || steps < steps_min)
            steps_min = steps;
        if (steps > steps_max)
            steps_max = steps;
    }
    const json_t *h = ds->header;
    *out = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:o, s:o, s:{s:I, s:I}, s:I, s:o}",
                     "transitions", (json_int_t)ds->count, "episodes", (json_int_t)n_ep,
                     "scenarios", (json_int_t)json_object_size(scenarios),
                     "plugin", json_string_value(json_object_get(h, "plugin")) ?: "",
                     "plugin_version", json_string_value(json_object_get(h, "plugin_version")) ?: "",
                     "policy", json_string_value(json_object_get(h, "policy")) ?: "",
                     "reward", running_json(&reward), "episode_return", running_json(&ret),
                     "steps", "min", (json_int_t)steps_min, "max", (json_int_t)steps_max,
                     "features_dim", (json_int_t)ds->features_dim, "sources", sources);
    json_decref(scenarios);
    json_decref(episodes);
    if (!*out)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    return 0;
}
