/*
 * Demonstration datasets in memory: a header and a growing array of transitions whose
 * numbers live in a few large blocks (an arena), not one allocation each, and whose
 * scenarios and sources are shared between the transitions that have equal ones: at 100k
 * transitions the per-allocation overhead and 100k copies of one parameter object were most
 * of a dataset's memory.
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/demo.h"
#include "fewshot/error.h"
#include "demo_internal.h"
#include "retrieval_internal.h"

/* A block of an arena: blocks only grow in number, so pointers into them stay valid. */
typedef struct block {
    struct block *prev;
    size_t cap, used;           /* in bytes */
    max_align_t data[];
} block;

#define BLOCK_MIN 16384
#define BLOCK_MAX (8u << 20)
#define SHARED_SLOTS 16

struct fewshot_demos {
    json_t *header;
    fewshot_demo *items;
    size_t count, cap;
    size_t features_dim;        /* of the first transition with features, 0 before */
    block *arena;               /* obs, next_obs, action, features of every transition */
    size_t next_block;
    json_t *scenarios[SHARED_SLOTS];    /* recently seen distinct scenarios (references) */
    unsigned int scenario_slot, scenario_hit;
    json_t *all_sources;        /* {source: source}: the one copy of each source string */
};

static void *arena_alloc(fewshot_demos *ds, size_t bytes)
{
    bytes = (bytes + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    block *b = ds->arena;
    if (!b || b->cap - b->used < bytes) {
        size_t cap = ds->next_block ? ds->next_block : BLOCK_MIN;
        if (cap < bytes)
            cap = bytes;
        if (!(b = malloc(sizeof *b + cap)))
            return NULL;
        b->prev = ds->arena;
        b->cap = cap;
        b->used = 0;
        ds->arena = b;
        ds->next_block = cap * 2 > BLOCK_MAX ? BLOCK_MAX : cap * 2;
    }
    void *p = (char *)b->data + b->used;
    b->used += bytes;
    return p;
}

static void arena_free(fewshot_demos *ds)
{
    while (ds->arena) {
        block *prev = ds->arena->prev;
        free(ds->arena);
        ds->arena = prev;
    }
    ds->next_block = 0;
}

/* One reference to a scenario equal to s, shared with earlier transitions when possible.
 * Consecutive transitions nearly always share theirs, so the last match is tried first. */
static json_t *shared_scenario(fewshot_demos *ds, const json_t *s)
{
    if (!s)
        return NULL;
    unsigned int last = ds->scenario_hit;
    if (ds->scenarios[last] && (ds->scenarios[last] == s ||
                                json_equal(ds->scenarios[last], (json_t *)s)))
        return json_incref(ds->scenarios[last]);
    for (unsigned int i = 0; i < SHARED_SLOTS; i++)
        if (ds->scenarios[i] && (ds->scenarios[i] == s || json_equal(ds->scenarios[i],
                                                                      (json_t *)s))) {
            ds->scenario_hit = i;
            return json_incref(ds->scenarios[i]);
        }
    unsigned int slot = ds->scenario_slot++ % SHARED_SLOTS;
    json_decref(ds->scenarios[slot]);
    ds->scenarios[slot] = json_incref((json_t *)s);
    ds->scenario_hit = slot;
    return json_incref((json_t *)s);
}

/* The dataset's copy of a source string: sources are few ("expert", a file name), so one
 * copy of each is kept for the dataset's lifetime, in an object whose values do not move. */
static const char *shared_source(fewshot_demos *ds, const char *src)
{
    if (!src)
        return NULL;
    json_t *known = json_object_get(ds->all_sources, src);
    if (known)
        return json_string_value(known);
    if (!ds->all_sources && !(ds->all_sources = json_object()))
        return NULL;
    json_t *copy = json_string(src);
    if (!copy || json_object_set_new(ds->all_sources, src, copy))
        return NULL;
    return json_string_value(copy);
}

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
    fewshot__demos_truncate(ds, 0);
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
    double *values = malloc((2 * src->obs_dim + src->act_dim) * sizeof *values);
    float *features = src->features_dim ? malloc(src->features_dim * sizeof *features) : NULL;
    char *text = src->text ? strdup(src->text) : NULL;
    char *source = src->source ? strdup(src->source) : NULL;
    if (!values || (src->features_dim && !features) || (src->text && !text) ||
        (src->source && !source)) {
        free(values), free(features), free(text), free(source);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    memcpy(values, src->obs, src->obs_dim * sizeof *values);
    memcpy(values + src->obs_dim, src->next_obs, src->obs_dim * sizeof *values);
    memcpy(values + 2 * src->obs_dim, src->action, src->act_dim * sizeof *values);
    if (features)
        memcpy(features, src->features, src->features_dim * sizeof *features);
    dst->obs = values;
    dst->next_obs = values + src->obs_dim;
    dst->action = values + 2 * src->obs_dim;
    dst->features = features;
    dst->text = text;
    dst->source = source;
    dst->scenario = src->scenario ? json_incref((json_t *)src->scenario) : NULL;
    dst->terms = src->terms ? json_deep_copy(src->terms) : NULL;
    return 0;
}

/* Store a copy of d (checked) as item ds->count: numbers in the arena, JSON shared. */
static int store(fewshot_demos *ds, const fewshot_demo *d)
{
    fewshot_demo *dst = &ds->items[ds->count];
    size_t nd = 2 * d->obs_dim + d->act_dim;
    double *v = arena_alloc(ds, nd * sizeof *v + d->features_dim * sizeof(float));
    if (!v)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    memcpy(v, d->obs, d->obs_dim * sizeof *v);
    memcpy(v + d->obs_dim, d->next_obs, d->obs_dim * sizeof *v);
    memcpy(v + 2 * d->obs_dim, d->action, d->act_dim * sizeof *v);
    float *f = d->features_dim ? (float *)(v + nd) : NULL;
    if (f)
        memcpy(f, d->features, d->features_dim * sizeof *f);
    char *text = d->text ? strdup(d->text) : NULL;
    json_t *terms = d->terms ? json_deep_copy(d->terms) : NULL;
    const char *source = shared_source(ds, d->source);
    if ((d->text && !text) || (d->terms && !terms) || (d->source && !source)) {
        free(text);
        json_decref(terms);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    *dst = *d;
    dst->obs = v;
    dst->next_obs = v + d->obs_dim;
    dst->action = v + 2 * d->obs_dim;
    dst->features = f;
    dst->text = text;
    dst->source = source;
    dst->terms = terms;
    dst->scenario = shared_scenario(ds, d->scenario);
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
    if ((rc = store(ds, d)))
        return rc;
    if (d->features_dim)
        ds->features_dim = d->features_dim;
    ds->count++;
    return 0;
}

int fewshot__demos_append(fewshot_demos *dst, const fewshot_demos *src, uint64_t episode_base)
{
    size_t before = dst->count;
    for (size_t i = 0; i < src->count; i++) {
        fewshot_demo d = src->items[i];
        d.episode += episode_base;
        int rc = fewshot_demos_add(dst, &d);
        if (rc) {
            fewshot__demos_truncate(dst, before);
            return rc;
        }
    }
    return 0;
}

/* Remove transitions added after the first n (to undo a failed generation). Their numbers
 * stay in the arena until the dataset is emptied or freed. */
void fewshot__demos_truncate(fewshot_demos *ds, size_t n)
{
    while (ds->count > n) {
        fewshot_demo *d = &ds->items[--ds->count];
        free((void *)d->text);
        json_decref((json_t *)d->scenario);
        json_decref((json_t *)d->terms);
        memset(d, 0, sizeof *d);
    }
    if (n == 0) {
        ds->features_dim = 0;
        arena_free(ds);
        for (unsigned int i = 0; i < SHARED_SLOTS; i++) {
            json_decref(ds->scenarios[i]);
            ds->scenarios[i] = NULL;
        }
        json_decref(ds->all_sources);
        ds->all_sources = NULL;
    }
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
