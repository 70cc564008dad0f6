/*
 * Retrieval shared by an arm's agents: demonstration contexts (computed with an environment
 * of each demonstration's own scenario, so demonstrations from other buildings show their own
 * rooms), the embedder fitted on the dataset, a FAISS index of the vectors, and the selector.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fewshot/error.h"
#include "fewshot/prompt.h"
#include "fewshot/template.h"
#include "retriever.h"

#define FEATURES_MAX 4096

static size_t int_or(const json_t *obj, const char *key, size_t dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (size_t)json_integer_value(v) : dflt;
}

static double num_or(const json_t *obj, const char *key, double dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

/* The number format of the arm's prompt ("integer", "raw", {"decimals": d}). */
static void numbers_of(const json_t *prompt, fewshot_text_options *o)
{
    fewshot_text_options init = FEWSHOT_TEXT_OPTIONS_INIT;
    *o = init;
    json_t *n = json_object_get(prompt, "numbers");
    if (json_is_string(n) && strcmp(json_string_value(n), "raw") == 0)
        o->numbers = FEWSHOT_NUMBERS_RAW;
    else if (json_is_object(n) && json_is_integer(json_object_get(n, "decimals"))) {
        o->numbers = FEWSHOT_NUMBERS_DECIMALS;
        o->decimals = (int)json_integer_value(json_object_get(n, "decimals"));
    }
}

/* The state text a text embedder reads: the arm's (or plugin's) state template rendered
 * with the translated context; the context as JSON when there is no template. */
static int state_text(fewshot__retriever *r, const json_t *ctx, char **out)
{
    json_t *view;
    int rc = fewshot_text_translate(&view, ctx, &r->numbers);
    if (rc)
        return rc;
    if (r->state_template)
        rc = fewshot_template_render_text(out, r->state_template, view, NULL);
    else
        *out = json_dumps(view, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(view);
    return rc;
}

/* The environment of a demonstration's scenario, created once per distinct parameter set
 * (equal scenarios of a dataset are one shared object, so the pointer is tried first). */
static int scenario_env(fewshot__retriever *r, size_t i, fewshot_env **out)
{
    json_t *header = fewshot_demos_header(r->demos);
    const char *plugin = json_string_value(json_object_get(header, "plugin"));
    const fewshot_demo *d = fewshot_demos_get(r->demos, i);
    const json_t *params = d->scenario ? d->scenario : json_object_get(header, "params");
    if (!plugin)
        return fewshot_error_set(FEWSHOT_EINVAL, "the demonstrations do not name their plugin");
    for (size_t k = 0; k < r->n_envs; k++)
        if (r->env_params[k] == params) {
            *out = r->envs[k];
            goto check;
        }
    for (size_t k = 0; k < r->n_envs; k++)
        if (json_equal(r->env_params[k], (json_t *)params)) {
            *out = r->envs[k];
            goto check;
        }
    if (r->n_envs % 8 == 0) {
        fewshot_env **envs = realloc(r->envs, (r->n_envs + 8) * sizeof *envs);
        json_t **ps = envs ? realloc(r->env_params, (r->n_envs + 8) * sizeof *ps) : NULL;
        if (envs)
            r->envs = envs;
        if (ps)
            r->env_params = ps;
        if (!envs || !ps)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    int rc = fewshot_env_new(out, plugin, params);
    if (rc) {
        fewshot_error_prefix("demonstration %zu", i + 1);
        return rc;
    }
    r->envs[r->n_envs] = *out;
    r->env_params[r->n_envs++] = params ? json_incref((json_t *)params) : json_null();
check:
    if (fewshot_env_obs_space(*out)->dim != d->obs_dim)
        return fewshot_error_set(FEWSHOT_EMISMATCH, "demonstration %zu has %zu observation "
                                 "values, its scenario's environment %zu", i + 1, d->obs_dim,
                                 fewshot_env_obs_space(*out)->dim);
    return 0;
}

/* A new context of transition i's state (next: of its next state). */
static int context_of(fewshot__retriever *r, size_t i, int next, json_t **out)
{
    fewshot_env *env;
    int rc = scenario_env(r, i, &env);
    if (rc)
        return rc;
    const fewshot_demo *d = fewshot_demos_get(r->demos, i);
    return fewshot_env_context(env, next ? d->next_obs : d->obs, out);
}

/* Contexts are built only for the demonstrations prompts show (about 35 KB each for an
 * 18-room building: building them all made 100k transitions take 3.5 GB), then kept. */
const json_t *fewshot__retriever_context(fewshot__retriever *r, size_t i, int next)
{
    if (i >= r->n)
        return NULL;
    json_t **slot = &r->contexts[2 * i + (next ? 1 : 0)];
    if (!*slot && context_of(r, i, next, slot) != 0)
        return NULL;
    return *slot;
}

/* Environments are made when a demonstration is first shown (a year of days is hundreds of
 * scenarios); the first transition's is made here so a dataset of the wrong plugin or
 * dimension fails the arm before it runs. */
static int demo_envs(fewshot__retriever *r)
{
    if (!(r->contexts = calloc(2 * r->n, sizeof *r->contexts)))
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    fewshot_env *env;
    return scenario_env(r, 0, &env);
}

/* embedding.weights: a list, one per feature, or {name: weight} by the feature names the
 * demonstrations' plugin declares (its table's feature_names); unnamed keys are errors and
 * features not given keep weight 1. */
static int feature_weights(fewshot__retriever *r, const json_t *w, double **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (json_is_array(w) && json_array_size(w)) {
        if (!(*out = calloc(json_array_size(w), sizeof **out)))
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        for (size_t j = 0; j < json_array_size(w); j++)
            (*out)[j] = json_number_value(json_array_get(w, j));
        *n = json_array_size(w);
        return 0;
    }
    if (!json_is_object(w) || !r->n_envs)
        return 0;
    const char *plugin = fewshot_env_plugin_of(r->envs[0])->name;
    const char *const *names = fewshot_env_feature_names(r->envs[0], n);
    if (*n == 0)
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "embedding.weights", "plugin '%s' "
                                      "does not name its features: give the weights as a list, "
                                      "one per feature", plugin);
    if (!(*out = malloc(*n * sizeof **out)))
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t j = 0; j < *n; j++)
        (*out)[j] = 1.0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)w, key, v) {
        size_t j = 0;
        while (j < *n && strcmp(names[j], key) != 0)
            j++;
        if (j < *n) {
            (*out)[j] = json_number_value(v);
            continue;
        }
        char known[1024] = "", path[160];
        for (size_t i = 0, used = 0; i < *n && used < sizeof known; i++)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                     names[i]);
        snprintf(path, sizeof path, "embedding.weights.%.64s", key);
        free(*out);
        *out = NULL;
        *n = 0;
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, path, "plugin '%s' has no feature "
                                      "'%s' (its features: %s)", plugin, key, known);
    }
    return 0;
}

static int build_index(fewshot__retriever *r, const json_t *emb)
{
    fewshot_embedder_options eo = FEWSHOT_EMBEDDER_OPTIONS_INIT;
    const char *kind = json_string_value(json_object_get(emb, "kind"));
    eo.kind = kind ? kind : "features";
    eo.dim = int_or(emb, "dim", 0);
    json_t *norm = json_object_get(emb, "normalize");
    eo.normalize = json_is_boolean(norm) ? json_is_true(norm) : -1;
    eo.ngram_min = (unsigned int)int_or(emb, "ngram_min", 0);
    eo.ngram_max = (unsigned int)int_or(emb, "ngram_max", 0);
    eo.seed = int_or(emb, "seed", 0);
    eo.base_url = json_string_value(json_object_get(emb, "base_url"));
    eo.model = json_string_value(json_object_get(emb, "model"));
    eo.api_key_env = json_string_value(json_object_get(emb, "api_key_env"));
    eo.timeout_ms = (long)int_or(emb, "timeout_ms", 0);
    eo.batch = int_or(emb, "batch", 0);
    /* configs standardize robustly unless told otherwise (fewshot-config(5)) */
    const char *scaling = json_string_value(json_object_get(emb, "scaling"));
    eo.scaling = scaling && strcmp(scaling, "std") == 0 ? FEWSHOT_SCALING_STD
                                                        : FEWSHOT_SCALING_ROBUST;
    eo.scale_floor = num_or(emb, "scale_floor", 0);
    double *weights = NULL;
    int rc = feature_weights(r, json_object_get(emb, "weights"), &weights, &eo.n_weights);
    if (rc)
        return rc;
    eo.weights = weights;
    r->text = strcmp(eo.kind, "features") != 0;
    rc = fewshot_embedder_new(&r->embedder, &eo);
    free(weights);
    if (rc) {
        fewshot_error_prefix("embedding");
        return rc;
    }
    fewshot_embed_input *in = NULL;
    char **texts = NULL;
    if (r->text) {
        in = calloc(r->n, sizeof *in);
        texts = calloc(r->n, sizeof *texts);
        if (!in || !texts)
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        for (size_t i = 0; i < r->n && rc == 0; i++) {
            json_t *ctx = NULL;
            if ((rc = context_of(r, i, 0, &ctx)) == 0)
                rc = state_text(r, ctx, &texts[i]);
            json_decref(ctx);
            in[i].text = texts[i];
        }
    } else {
        rc = fewshot_embed_inputs_from_demos(r->demos, &in);
    }
    if (rc == 0)
        rc = fewshot_embedder_fit(r->embedder, r->n, in);
    /* the dimension of a remote embedder is known after its first reply */
    size_t dim = fewshot_embedder_dim(r->embedder);
    float *first = NULL;
    if (rc == 0 && dim == 0) {
        first = malloc(FEATURES_MAX * sizeof *first);
        rc = fewshot_embedder_embed(r->embedder, 1, in, first);
        dim = fewshot_embedder_dim(r->embedder);
    }
    if (rc == 0) {
        r->dim = dim;
        r->vectors = malloc(r->n * dim * sizeof *r->vectors + 1);
        rc = r->vectors ? fewshot_embedder_embed(r->embedder, r->n, in, r->vectors)
                        : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    free(first);
    if (rc == 0) {
        fewshot_index_options io = FEWSHOT_INDEX_OPTIONS_INIT;
        const char *metric = json_string_value(json_object_get(emb, "metric"));
        io.factory = json_string_value(json_object_get(emb, "index"));
        io.metric = metric ? (strcmp(metric, "ip") == 0 ? FEWSHOT_METRIC_IP : FEWSHOT_METRIC_L2)
                           : (r->text ? FEWSHOT_METRIC_IP : FEWSHOT_METRIC_L2);
        rc = fewshot_index_new(&r->index, dim, &io);
        if (rc == 0)
            rc = fewshot_index_add(r->index, r->n, r->vectors);
        if (rc == 0)
            rc = fewshot_embedder_stamp(r->embedder, r->index);
    }
    /* token costs for the budget: a demonstration costs about its state text twice (state
     * and feedback) plus the action line */
    if (rc == 0 && r->sopts.token_budget) {
        r->token_costs = calloc(r->n, sizeof *r->token_costs);
        for (size_t i = 0; i < r->n && r->token_costs && rc == 0; i++) {
            char *t = texts ? texts[i] : NULL;
            if (!t) {
                json_t *ctx = NULL;
                if ((rc = context_of(r, i, 0, &ctx)) == 0)
                    rc = state_text(r, ctx, &t);
                json_decref(ctx);
            }
            if (rc == 0)
                r->token_costs[i] = 2 * fewshot_prompt_tokens(t, strlen(t)) + 16;
            if (!texts)
                free(t);
        }
        r->sopts.token_costs = r->token_costs;
    }
    if (texts)
        for (size_t i = 0; i < r->n; i++)
            free(texts[i]);
    free(texts);
    free(in);
    return rc;
}

static void selector_options(fewshot__retriever *r, const json_t *sel)
{
    fewshot_selector_options so = FEWSHOT_SELECTOR_OPTIONS_INIT;
    so.knn = int_or(sel, "knn", 4);
    so.reward_lambda = num_or(sel, "reward_lambda", 0);
    so.mmr_lambda = num_or(sel, "mmr_lambda", 1);
    so.candidates = int_or(sel, "candidates", 0);
    so.clusters = int_or(sel, "clusters", 0);
    const char *rep = json_string_value(json_object_get(sel, "representative"));
    so.representative = rep && strcmp(rep, "best") == 0 ? FEWSHOT_REPRESENTATIVE_BEST_REWARD
                                                        : FEWSHOT_REPRESENTATIVE_NEAREST;
    so.kmeans_iterations = (unsigned int)int_or(sel, "kmeans_iterations", 0);
    so.history = int_or(sel, "history", 0);
    const char *order = json_string_value(json_object_get(sel, "history_order"));
    so.history_best = order && strcmp(order, "best") == 0;
    /* the defaults favour the server's prefix cache: consecutive prompts keep their nearest
     * neighbours while they stay near, and their history grows before it restarts */
    so.stick = num_or(sel, "stick", 2);
    const char *window = json_string_value(json_object_get(sel, "history_window"));
    so.history_block = window && strcmp(window, "sliding") == 0   ? FEWSHOT_HISTORY_SLIDING
                       : window && strcmp(window, "restart") == 0 ? FEWSHOT_HISTORY_RESTART
                                                                  : FEWSHOT_HISTORY_BLOCK;
    so.random = int_or(sel, "random", 0);
    so.seed = int_or(sel, "seed", 0);
    so.token_budget = int_or(sel, "budget", 0);
    json_t *list = json_object_get(sel, "order");
    if (json_is_array(list) && json_array_size(list)) {
        size_t len = 1, i;
        json_t *item;
        json_array_foreach(list, i, item)
            len += strlen(json_string_value(item)) + 1;
        r->order = calloc(len, 1);
        json_array_foreach(list, i, item) {
            if (i)
                strcat(r->order, ",");
            strcat(r->order, json_string_value(item));
        }
        so.order = r->order;
    }
    /* knn-imitation averages the arm's knn nearest (at least one) */
    r->imitate_k = so.knn ? so.knn : 1;
    size_t cap = int_or(sel, "buffer", 0);
    r->buffer = cap ? cap : (so.history > 64 ? so.history : 64);
    r->sopts = so;
}

int fewshot__retriever_new(fewshot__retriever **out, fewshot_env *env, const json_t *arm,
                           fewshot_demos *demos)
{
    *out = NULL;
    fewshot__retriever *r = calloc(1, sizeof *r);
    if (!r)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    r->refs = 1;
    r->demos = demos;
    r->n = demos ? fewshot_demos_count(demos) : 0;
    const json_t *prompt = json_object_get(arm, "prompt");
    numbers_of(prompt, &r->numbers);
    selector_options(r, json_object_get(arm, "selection"));
    const char *state = json_string_value(json_object_get(json_object_get(prompt, "templates"),
                                                          "state"));
    if (!state && env)
        state = fewshot_env_template(env, "state");
    r->state_template = state ? strdup(state) : NULL;
    int rc = 0;
    if (r->n) {
        rc = demo_envs(r);
        if (rc == 0)
            rc = build_index(r, json_object_get(arm, "embedding"));
    } else {
        /* without a dataset only the online buffer can be drawn from */
        r->sopts.knn = r->sopts.clusters = r->sopts.random = 0;
    }
    if (rc == 0 && r->sopts.random == 0)
        rc = fewshot_selector_new(&r->shared, &r->sopts, r->n ? demos : NULL, r->index,
                                  r->vectors);
    if (rc) {
        fewshot_error_prefix("selection");
        fewshot__retriever_unref(r);
        return rc;
    }
    *out = r;
    return 0;
}

fewshot__retriever *fewshot__retriever_ref(fewshot__retriever *r)
{
    if (r)
        r->refs++;
    return r;
}

void fewshot__retriever_unref(fewshot__retriever *r)
{
    if (!r || --r->refs > 0)
        return;
    for (size_t i = 0; r->contexts && i < 2 * r->n; i++)
        json_decref(r->contexts[i]);
    free(r->contexts);
    free(r->digests);
    free(r->digest_made);
    for (size_t k = 0; k < r->n_envs; k++) {
        fewshot_env_free(r->envs[k]);
        json_decref(r->env_params[k]);
    }
    free(r->envs);
    free(r->env_params);
    fewshot_selector_free(r->shared);
    fewshot_selector_free(r->nearest);
    fewshot_index_free(r->index);
    fewshot_embedder_free(r->embedder);
    free(r->vectors);
    free(r->token_costs);
    free(r->order);
    free(r->state_template);
    fewshot__demo_cache_unref(r->rendered);
    free(r);
}

int fewshot__retriever_needs_query(const fewshot__retriever *r)
{
    return r->index != NULL;
}

int fewshot__retriever_query(fewshot__retriever *r, fewshot_env *env, const double *obs,
                             const json_t *ctx, float *out)
{
    fewshot_embed_input in = {0};
    float feats[FEATURES_MAX];
    char *text = NULL;
    int rc;
    if (r->text) {
        if ((rc = state_text(r, ctx, &text)) != 0)
            return rc;
        in.text = text;
    } else {
        size_t dim = 0;
        if ((rc = fewshot_env_features(env, obs, feats, FEATURES_MAX, &dim)) != 0)
            return rc;
        if (dim > FEATURES_MAX)
            return fewshot_error_set(FEWSHOT_ERANGE, "the plugin has %zu features; at most %d "
                                     "are supported", dim, FEATURES_MAX);
        in.features = feats;
        in.dim = dim;
    }
    rc = fewshot_embedder_embed(r->embedder, 1, &in, out);
    free(text);
    return rc;
}

int fewshot__retriever_selector(fewshot__retriever *r, uint64_t seed, fewshot_selector **out,
                                int *own)
{
    if (r->shared) {
        *out = r->shared;
        *own = 0;
        return 0;
    }
    fewshot_selector_options so = r->sopts;
    so.seed = r->sopts.seed ^ seed;
    *own = 1;
    return fewshot_selector_new(out, &so, r->n ? r->demos : NULL, r->index, r->vectors);
}

int fewshot__retriever_state_text(fewshot__retriever *r, const json_t *ctx, char **out)
{
    return state_text(r, ctx, out);
}

void fewshot__retriever_state_digest(fewshot__retriever *r, const json_t *ctx,
                                     unsigned char *md)
{
    char *text = NULL;
    if (ctx && state_text(r, ctx, &text) != 0)
        text = NULL;
    unsigned int len = 0;
    EVP_Digest(text ? text : "", text ? strlen(text) : 0, md, &len, EVP_sha256(), NULL);
    free(text);
    fewshot_error_clear();
}

int fewshot__retriever_item_digest(fewshot__retriever *r, size_t i, unsigned char *md)
{
    if (i >= r->n)
        return fewshot_error_set(FEWSHOT_ERANGE, "no demonstration %zu", i);
    if (!r->digests) {
        r->digests = malloc(r->n * sizeof *r->digests);
        r->digest_made = calloc(r->n, 1);
        if (!r->digests || !r->digest_made) {
            free(r->digests);
            free(r->digest_made);
            r->digests = NULL;
            r->digest_made = NULL;
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        }
    }
    if (!r->digest_made[i]) {
        fewshot__retriever_state_digest(r, fewshot__retriever_context(r, i, 0), r->digests[i]);
        r->digest_made[i] = 1;
    }
    memcpy(md, r->digests[i], FEWSHOT__STATE_DIGEST);
    return 0;
}

int fewshot__retriever_neighbours(fewshot__retriever *r, const float *query,
                                  fewshot_selection *out)
{
    if (!r->n)
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "knn-imitation needs demonstrations: set "
                                 "demos (a file or generation settings)");
    int rc;
    if (!r->nearest) {
        fewshot_selector_options so = FEWSHOT_SELECTOR_OPTIONS_INIT;
        so.knn = r->imitate_k;
        if ((rc = fewshot_selector_new(&r->nearest, &so, r->demos, r->index, r->vectors)) != 0)
            return rc;
    }
    if ((rc = fewshot_selector_select(r->nearest, query, NULL, out)) != 0)
        return rc;
    if (out->count == 0)
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "no demonstration found");
    return 0;
}
