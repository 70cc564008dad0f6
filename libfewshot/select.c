/*
 * Demonstration selection: knn (with reward weighting and MMR), cluster representatives,
 * history and random, merged without duplicates under a token budget.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "fewshot/rng.h"
#include "fewshot/select.h"
#include "retrieval_internal.h"

enum { SEL_KNN, SEL_CLUSTER, SEL_HISTORY, SEL_RANDOM, SEL_COUNT };
static const char *const sel_names[SEL_COUNT] = {"knn", "cluster", "history", "random"};

struct fewshot_selector {
    fewshot_selector_options o;
    int order[SEL_COUNT];
    int norder;
    const fewshot_demos *ds;
    const fewshot_index *ix;
    size_t n, dim;
    const float *vectors;
    float *own_vectors;
    double rmin, rmax;
    int64_t *reps;
    size_t nreps;
    fewshot_rng rng;
    size_t *perm;
};

void fewshot_selection_clear(fewshot_selection *sel)
{
    if (!sel)
        return;
    free(sel->picks);
    memset(sel, 0, sizeof *sel);
}

int fewshot_selector_options_init(fewshot_selector_options *opts, unsigned int version)
{
    if (!opts || version != FEWSHOT_SELECTOR_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_selector_options_init: version %u is "
                                 "not %d", version, FEWSHOT_SELECTOR_OPTIONS_VERSION);
    *opts = (fewshot_selector_options)FEWSHOT_SELECTOR_OPTIONS_INIT;
    return 0;
}

static int parse_order(fewshot_selector *s, const char *order)
{
    const char *p = order ? order : "knn,cluster,history,random";
    s->norder = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int i = 0; i < SEL_COUNT; i++)
            if (strlen(sel_names[i]) == len && strncmp(p, sel_names[i], len) == 0)
                found = i;
        if (found < 0)
            return fewshot_error_set(FEWSHOT_EINVAL, "selection order '%s': unknown selector "
                                     "'%.*s' (knn, cluster, history, random)", order, (int)len, p);
        for (int i = 0; i < s->norder; i++)
            if (s->order[i] == found)
                return fewshot_error_set(FEWSHOT_EINVAL, "selection order '%s': '%s' appears "
                                         "twice", order, sel_names[found]);
        s->order[s->norder++] = found;
        p += len;
        if (*p == ',')
            p++;
    }
    /* selectors left out of the order still run, after the listed ones */
    for (int i = 0; i < SEL_COUNT; i++) {
        int listed = 0;
        for (int j = 0; j < s->norder; j++)
            listed |= s->order[j] == i;
        if (!listed)
            s->order[s->norder++] = i;
    }
    return 0;
}

static int check_options(const fewshot_selector_options *o, const fewshot_demos *ds,
                         const fewshot_index *ix)
{
    if (o->version != FEWSHOT_SELECTOR_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "selector options: version %u is not %d",
                                 o->version, FEWSHOT_SELECTOR_OPTIONS_VERSION);
    if (!(o->mmr_lambda >= 0 && o->mmr_lambda <= 1))
        return fewshot_error_set(FEWSHOT_EINVAL, "selection: mmr_lambda %g must lie in [0, 1]",
                                 o->mmr_lambda);
    if (!(o->reward_lambda >= 0) || !isfinite(o->reward_lambda))
        return fewshot_error_set(FEWSHOT_EINVAL, "selection: reward_lambda %g must be a "
                                 "non-negative number", o->reward_lambda);
    if ((o->knn || o->clusters || o->random) && !ds)
        return fewshot_error_set(FEWSHOT_EINVAL, "selection: knn, cluster and random selection "
                                 "need a demonstration dataset");
    if ((o->knn || o->clusters) && !ix)
        return fewshot_error_set(FEWSHOT_EINVAL, "selection: knn and cluster selection need an "
                                 "index of the dataset's embeddings");
    if (ds && ix && fewshot_demos_count(ds) != fewshot_index_count(ix))
        return fewshot_error_set(FEWSHOT_EMISMATCH, "selection: the index holds %zu vectors but "
                                 "the dataset %zu demonstrations: rebuild the index",
                                 fewshot_index_count(ix), fewshot_demos_count(ds));
    if (!(o->stick >= 0) || !isfinite(o->stick))
        return fewshot_error_set(FEWSHOT_EINVAL, "selection: stick %g must be a non-negative "
                                 "number (1: pure knn)", o->stick);
    if (o->representative != FEWSHOT_REPRESENTATIVE_NEAREST &&
        o->representative != FEWSHOT_REPRESENTATIVE_BEST_REWARD)
        return fewshot_error_set(FEWSHOT_EINVAL, "selection: unknown representative rule %d",
                                 (int)o->representative);
    return 0;
}

static int load_vectors(fewshot_selector *s)
{
    if (s->vectors || s->n == 0)
        return 0;
    s->own_vectors = malloc(s->n * s->dim * sizeof *s->own_vectors);
    if (!s->own_vectors)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->n; i++) {
        int rc = fewshot_index_vector(s->ix, i, s->own_vectors + i * s->dim);
        if (rc)
            return rc;
    }
    s->vectors = s->own_vectors;
    return 0;
}

static int build_clusters(fewshot_selector *s)
{
    size_t k = s->o.clusters < s->n ? s->o.clusters : s->n;
    if (k == 0)
        return 0;
    fewshot_kmeans_options ko = FEWSHOT_KMEANS_OPTIONS_INIT;
    ko.seed = s->o.seed;
    if (s->o.kmeans_iterations)
        ko.niter = s->o.kmeans_iterations;
    ko.spherical = fewshot_index_metric(s->ix) == FEWSHOT_METRIC_IP;
    float *centroids = malloc(k * s->dim * sizeof *centroids);
    int64_t *assign = malloc(s->n * sizeof *assign);
    double *rewards = malloc(s->n * sizeof *rewards);
    s->reps = malloc(k * sizeof *s->reps);
    int rc = 0;
    if (!centroids || !assign || !rewards || !s->reps)
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < s->n; i++)
        rewards[i] = fewshot_demos_get(s->ds, i)->reward;
    if (rc == 0)
        rc = fewshot_kmeans(s->vectors, s->n, s->dim, k, &ko, centroids, assign);
    if (rc == 0)
        rc = fewshot_kmeans_representatives(s->vectors, s->n, s->dim, k, centroids, assign,
                                            rewards, s->o.representative, s->reps);
    if (rc == 0) {
        /* drop empty clusters */
        size_t m = 0;
        for (size_t c = 0; c < k; c++)
            if (s->reps[c] >= 0)
                s->reps[m++] = s->reps[c];
        s->nreps = m;
    }
    free(centroids), free(assign), free(rewards);
    return rc;
}

int fewshot_selector_new(fewshot_selector **out, const fewshot_selector_options *opts,
                         const fewshot_demos *ds, const fewshot_index *ix, const float *vectors)
{
    fewshot_selector_options def = FEWSHOT_SELECTOR_OPTIONS_INIT;
    *out = NULL;
    if (!opts)
        opts = &def;
    int rc = check_options(opts, ds, ix);
    if (rc)
        return rc;
    fewshot_selector *s = calloc(1, sizeof *s);
    if (!s)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    s->o = *opts;
    s->o.order = NULL;
    s->ds = ds;
    s->ix = ix;
    s->n = ds ? fewshot_demos_count(ds) : 0;
    s->dim = ix ? fewshot_index_dim(ix) : 0;
    s->vectors = vectors;
    fewshot_rng_seed(&s->rng, opts->seed);
    if ((rc = parse_order(s, opts->order)))
        goto fail;
    if (s->n) {
        s->rmin = s->rmax = fewshot_demos_get(ds, 0)->reward;
        for (size_t i = 1; i < s->n; i++) {
            double r = fewshot_demos_get(ds, i)->reward;
            s->rmin = fmin(s->rmin, r);
            s->rmax = fmax(s->rmax, r);
        }
    }
    if (ix && (opts->clusters || (opts->knn && (opts->mmr_lambda < 1 || opts->stick > 1))) &&
        (rc = load_vectors(s)))
        goto fail;
    if (opts->clusters && (rc = build_clusters(s)))
        goto fail;
    if (opts->random && s->n) {
        if (!(s->perm = malloc(s->n * sizeof *s->perm))) {
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < s->n; i++)
            s->perm[i] = i;
    }
    *out = s;
    return 0;
fail:
    fewshot_selector_free(s);
    return rc;
}

void fewshot_selector_free(fewshot_selector *s)
{
    if (!s)
        return;
    free(s->own_vectors);
    free(s->reps);
    free(s->perm);
    free(s);
}

void fewshot_selector_reseed(fewshot_selector *s, uint64_t seed)
{
    if (!s)
        return;
    fewshot_rng_seed(&s->rng, seed);
    for (size_t i = 0; s->perm && i < s->n; i++)
        s->perm[i] = i;
}

const int64_t *fewshot_selector_representatives(const fewshot_selector *s, size_t *count)
{
    if (count)
        *count = s ? s->nreps : 0;
    return s && s->nreps ? s->reps : NULL;
}

/* ---- merging ---- */

typedef struct merger {
    fewshot_selector *s;
    fewshot_selection *out;
    size_t cap;
    const fewshot_buffer *buffer;
    const fewshot_selection *previous;  /* the previous step's, or NULL */
} merger;

static const fewshot_demo *transition_of(const merger *m, fewshot_origin origin, size_t item)
{
    return origin == FEWSHOT_ORIGIN_DATASET ? fewshot_demos_get(m->s->ds, item)
                                            : fewshot_buffer_get(m->buffer, item);
}

/* Chosen already, or a byte-identical state is: a prompt showing one state several times
 * (datasets repeat states, e.g. every episode's first) teaches nothing more. */
static int already(const merger *m, fewshot_origin origin, size_t item)
{
    const fewshot_selection *out = m->out;
    const fewshot_demo *d = transition_of(m, origin, item);
    for (size_t i = 0; i < out->count; i++) {
        if (out->picks[i].origin == origin && out->picks[i].item == item)
            return 1;
        const fewshot_demo *e = transition_of(m, out->picks[i].origin, out->picks[i].item);
        if (d && e && d->obs_dim == e->obs_dim &&
            memcmp(d->obs, e->obs, d->obs_dim * sizeof *d->obs) == 0)
            return 1;
    }
    return 0;
}

static size_t cost_of(const fewshot_selector *s, fewshot_origin origin, size_t item)
{
    if (!s->o.token_budget)
        return 0;
    if (origin == FEWSHOT_ORIGIN_DATASET && s->o.token_costs)
        return s->o.token_costs[item];
    return s->o.token_cost ? s->o.token_cost(s->o.token_cost_data, origin, item) : 0;
}

/* Offer one candidate; 1 when it was taken. */
static int offer(merger *m, fewshot_origin origin, size_t item, const char *selector,
                 const char *role, double score)
{
    fewshot_selection *out = m->out;
    if (already(m, origin, item)) {
        out->duplicates++;
        return 0;
    }
    size_t cost = cost_of(m->s, origin, item);
    if (m->s->o.token_budget && out->tokens + cost > m->s->o.token_budget) {
        out->over_budget++;
        return 0;
    }
    if (out->count == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        fewshot_pick *p = realloc(out->picks, cap * sizeof *p);
        if (!p)
            return -1;
        out->picks = p;
        m->cap = cap;
    }
    out->picks[out->count++] = (fewshot_pick){origin, item, selector, role, score, cost};
    out->tokens += cost;
    return 1;
}

static double sim_of_distance(const fewshot_selector *s, float d)
{
    if (fewshot_index_metric(s->ix) == FEWSHOT_METRIC_IP)
        return d;
    return 1.0 / (1.0 + sqrt(d > 0 ? d : 0));
}

static double sim_of_vectors(const fewshot_selector *s, size_t a, size_t b)
{
    const float *x = s->vectors + a * s->dim, *y = s->vectors + b * s->dim;
    if (fewshot_index_metric(s->ix) == FEWSHOT_METRIC_IP)
        return fewshot__dot(x, y, s->dim);
    return 1.0 / (1.0 + sqrt(fewshot__l2sq(x, y, s->dim)));
}

static double norm_reward(const fewshot_selector *s, size_t i)
{
    if (s->rmax <= s->rmin)
        return 0.5;
    return (fewshot_demos_get(s->ds, i)->reward - s->rmin) / (s->rmax - s->rmin);
}

typedef struct cand {
    int64_t item;
    double rel;
    size_t rank;
} cand;

static int by_rel(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->rel != y->rel)
        return x->rel > y->rel ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* Is dataset item among picks [from, to)? */
static int picked_between(const fewshot_selection *sel, size_t from, size_t to, size_t item)
{
    for (size_t k = from; k < to; k++)
        if (sel->picks[k].origin == FEWSHOT_ORIGIN_DATASET && sel->picks[k].item == item)
            return 1;
    return 0;
}

/* Distance of dataset item to query on the index's scale: Euclidean, or 1 - similarity for
 * inner-product indexes. */
static double distance_to(const fewshot_selector *s, const float *query, size_t item)
{
    const float *v = s->vectors + item * s->dim;
    if (fewshot_index_metric(s->ix) == FEWSHOT_METRIC_IP)
        return 1.0 - fewshot__dot(query, v, s->dim);
    return sqrt(fewshot__l2sq(query, v, s->dim));
}

/* Offer, in the previous selection's order, its nearest-neighbour picks still within stick
 * times the distance of today's k-th nearest (radius); *kept counts those taken. A distance
 * rather than a rank: in a dense dataset the ranks turn over every step while the
 * demonstrations stay about as near. */
static int keep_survivors(merger *m, const float *query, double radius, const char *name,
                          size_t *kept)
{
    const fewshot_selection *prev = m->previous;
    const fewshot_selector *s = m->s;
    for (size_t k = 0; k < prev->count && *kept < s->o.knn; k++) {
        const fewshot_pick *p = &prev->picks[k];
        if (p->origin != FEWSHOT_ORIGIN_DATASET || !p->role || strcmp(p->role, "expert") != 0 ||
            p->item >= s->n)
            continue;
        double d = distance_to(s, query, p->item);
        if (!(d <= radius))
            continue;
        double rel = fewshot_index_metric(s->ix) == FEWSHOT_METRIC_IP ? 1.0 - d : 1.0 / (1.0 + d);
        if (s->o.reward_lambda > 0)
            rel += s->o.reward_lambda * norm_reward(s, p->item);
        int r = offer(m, FEWSHOT_ORIGIN_DATASET, p->item, name, "expert", rel);
        if (r < 0)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        *kept += (size_t)r;
    }
    return 0;
}

static int select_knn(merger *m, const float *query)
{
    fewshot_selector *s = m->s;
    const fewshot_selector_options *o = &s->o;
    if (!query)
        return fewshot_error_set(FEWSHOT_EINVAL, "selection: knn needs a query vector");
    size_t want = o->candidates ? o->candidates : (4 * o->knn > 20 ? 4 * o->knn : 20);
    if (want < o->knn)
        want = o->knn;
    int sticky = m->previous && o->stick > 1 && s->vectors;
    size_t fetch = want;
    if (want > s->n)
        want = fetch = s->n;
    if (want == 0)
        return 0;
    float *dist = malloc(fetch * sizeof *dist);
    int64_t *labels = malloc(fetch * sizeof *labels);
    cand *c = malloc(fetch * sizeof *c);
    int rc = 0;
    if (!dist || !labels || !c) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = fewshot_index_search(s->ix, 1, query, fetch, dist, labels)))
        goto done;
    size_t nc = 0;
    for (size_t i = 0; i < fetch; i++) {
        if (labels[i] < 0 || (size_t)labels[i] >= s->n)
            continue;
        double rel = sim_of_distance(s, dist[i]);
        if (o->reward_lambda > 0)
            rel += o->reward_lambda * norm_reward(s, (size_t)labels[i]);
        c[nc] = (cand){labels[i], rel, nc};
        nc++;
    }
    /* equal distances in dataset order, whatever order the index returned them in */
    for (size_t i = 1; i < nc; i++)
        for (size_t j = i; j > 0 && dist[j] == dist[j - 1] && c[j].item < c[j - 1].item; j--) {
            cand t = c[j];
            float td = dist[j];
            c[j] = c[j - 1], dist[j] = dist[j - 1];
            c[j - 1] = t, dist[j - 1] = td;
            c[j].rank = j, c[j - 1].rank = j - 1;
        }
    const char *name = o->mmr_lambda < 1 ? "mmr" : o->reward_lambda > 0 ? "reward" : "knn";
    /* survivors: kept first, so the prompt's demonstration block stays a shared prefix */
    size_t base = m->out->count, kept = 0;
    if (sticky && nc) {
        size_t kth = (o->knn < nc ? o->knn : nc) - 1;
        double dk = fewshot_index_metric(s->ix) == FEWSHOT_METRIC_IP ? 1.0 - dist[kth]
                                                                     : sqrt(fmax(dist[kth], 0));
        if ((rc = keep_survivors(m, query, o->stick * dk, name, &kept)) < 0)
            goto done;
    }
    if (o->mmr_lambda < 1) {
        /* greedy maximal marginal relevance over the candidates, taken one at a time */
        size_t taken = 0;
        int *used = calloc(nc ? nc : 1, sizeof *used);
        double *maxsim = malloc((nc ? nc : 1) * sizeof *maxsim);
        if (!used || !maxsim) {
            free(used), free(maxsim);
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < nc; i++) {
            maxsim[i] = -INFINITY;
            for (size_t k = base; k < base + kept; k++) {
                size_t item = m->out->picks[k].item;
                if ((size_t)c[i].item == item)
                    used[i] = 1;
                else
                    maxsim[i] = fmax(maxsim[i], sim_of_vectors(s, (size_t)c[i].item, item));
            }
        }
        taken = kept;
        while (taken < o->knn && rc >= 0) {
            size_t best = nc;
            double best_score = -INFINITY;
            for (size_t i = 0; i < nc; i++) {
                if (used[i])
                    continue;
                double div = isinf(maxsim[i]) ? 0 : maxsim[i];
                double score = o->mmr_lambda * c[i].rel - (1 - o->mmr_lambda) * div;
                if (best == nc || score > best_score)
                    best = i, best_score = score;
            }
            if (best == nc)
                break;
            used[best] = 1;
            int r = offer(m, FEWSHOT_ORIGIN_DATASET, (size_t)c[best].item, name, "expert",
                          best_score);
            if (r < 0)
                rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
            else if (r == 1) {
                taken++;
                for (size_t i = 0; i < nc; i++)
                    if (!used[i])
                        maxsim[i] = fmax(maxsim[i], sim_of_vectors(s, (size_t)c[i].item,
                                                                   (size_t)c[best].item));
            }
        }
        free(used), free(maxsim);
    } else {
        if (o->reward_lambda > 0)
            qsort(c, nc, sizeof *c, by_rel);
        size_t taken = kept;
        for (size_t i = 0; i < nc && taken < o->knn; i++) {
            if (kept && picked_between(m->out, base, base + kept, (size_t)c[i].item))
                continue;
            int r = offer(m, FEWSHOT_ORIGIN_DATASET, (size_t)c[i].item, name, "expert", c[i].rel);
            if (r < 0) {
                rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
                break;
            }
            taken += (size_t)r;
        }
    }
done:
    free(dist), free(labels), free(c);
    return rc;
}

static int select_cluster(merger *m, const float *query)
{
    fewshot_selector *s = m->s;
    cand *c = malloc((s->nreps ? s->nreps : 1) * sizeof *c);
    if (!c)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->nreps; i++) {
        double rel = 0;
        if (query) {
            const float *v = s->vectors + (size_t)s->reps[i] * s->dim;
            rel = fewshot_index_metric(s->ix) == FEWSHOT_METRIC_IP ?
                  fewshot__dot(query, v, s->dim) :
                  1.0 / (1.0 + sqrt(fewshot__l2sq(query, v, s->dim)));
        }
        c[i] = (cand){s->reps[i], rel, i};
    }
    /* nearest representatives first, so a tight budget keeps the most relevant */
    if (query)
        qsort(c, s->nreps, sizeof *c, by_rel);
    int rc = 0;
    size_t taken = 0;
    for (size_t i = 0; i < s->nreps && taken < s->o.clusters; i++) {
        int r = offer(m, FEWSHOT_ORIGIN_DATASET, (size_t)c[i].item, "cluster", "representative",
                      c[i].rel);
        if (r < 0) {
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
            break;
        }
        taken += (size_t)r;
    }
    free(c);
    return rc;
}

static int select_history(merger *m, const fewshot_buffer *buf)
{
    size_t count = fewshot_buffer_count(buf);
    if (!count)
        return 0;
    size_t *order = malloc(count * sizeof *order);
    if (!order)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++)
        order[i] = count - 1 - i;           /* newest first */
    if (m->s->o.history_best) {
        /* best reward first, ties newer first: a stable insertion sort (qsort has no
         * context argument in C11, and buffers are small) */
        for (size_t i = 1; i < count; i++) {
            size_t v = order[i], j = i;
            double rv = fewshot_buffer_get(buf, v)->reward;
            while (j > 0 && fewshot_buffer_get(buf, order[j - 1])->reward < rv)
                order[j] = order[j - 1], j--;
            order[j] = v;
        }
    }
    size_t h = m->s->o.history;
    if (m->s->o.history_block != FEWSHOT_HISTORY_SLIDING && !m->s->o.history_best) {
        /* the window restarts every h steps and grows in between, so the history a prompt
         * shows is the previous prompt's plus one step (a shared prefix) */
        uint64_t pushed = fewshot_buffer_pushed(buf);
        size_t since = m->s->o.history_block == FEWSHOT_HISTORY_RESTART
                           ? (size_t)(pushed % (h + 1))     /* restart: 0 to h entries */
                           : (size_t)(pushed - ((pushed - 1) / h) * h);
        h = since < h ? since : h;
    }
    int rc = 0;
    size_t taken = 0;
    for (size_t i = 0; i < count && taken < h; i++) {
        int r = offer(m, FEWSHOT_ORIGIN_BUFFER, order[i], "history", "historical",
                      fewshot_buffer_get(buf, order[i])->reward);
        if (r < 0) {
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
            break;
        }
        taken += (size_t)r;
    }
    free(order);
    return rc;
}

static int select_random(merger *m)
{
    fewshot_selector *s = m->s;
    size_t taken = 0;
    for (size_t t = 0; t < s->n && taken < s->o.random; t++) {
        size_t j = t + (size_t)fewshot_rng_below(&s->rng, s->n - t);
        size_t tmp = s->perm[t];
        s->perm[t] = s->perm[j];
        s->perm[j] = tmp;
        int r = offer(m, FEWSHOT_ORIGIN_DATASET, s->perm[t], "random", "random", 0);
        if (r < 0)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        taken += (size_t)r;
    }
    return 0;
}

int fewshot_selector_select(fewshot_selector *s, const float *query,
                            const fewshot_buffer *buffer, fewshot_selection *out)
{
    return fewshot_selector_select_after(s, query, buffer, NULL, out);
}

int fewshot_selector_select_after(fewshot_selector *s, const float *query,
                                  const fewshot_buffer *buffer,
                                  const fewshot_selection *previous, fewshot_selection *out)
{
    if (!s || !out)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_selector_select: NULL argument");
    if (previous == out)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_selector_select_after: previous and "
                                 "out are the same selection");
    fewshot_selection_clear(out);
    if (query && s->dim && (s->o.knn || s->o.clusters)) {
        int rc = fewshot__check_finite_rows(query, 1, s->dim, "selection query");
        if (rc)
            return rc;
    }
    merger m = {s, out, 0, buffer, previous && previous->count ? previous : NULL};
    int rc = 0;
    for (int i = 0; i < s->norder && rc == 0; i++) {
        switch (s->order[i]) {
        case SEL_KNN:
            if (s->o.knn)
                rc = select_knn(&m, query);
            break;
        case SEL_CLUSTER:
            if (s->o.clusters)
                rc = select_cluster(&m, query);
            break;
        case SEL_HISTORY:
            if (s->o.history)
                rc = select_history(&m, buffer);
            break;
        case SEL_RANDOM:
            if (s->o.random)
                rc = select_random(&m);
            break;
        }
    }
    if (rc)
        fewshot_selection_clear(out);
    return rc;
}
