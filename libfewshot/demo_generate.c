/*
 * Generating demonstrations: run a policy (a plugin's expert, or any policy spec) over
 * episodes with seeds seed, seed+1, ... and record every transition.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fewshot/demo.h"
#include "fewshot/env.h"
#include "fewshot/error.h"
#include "fewshot/policy.h"
#include "retrieval_internal.h"

#define MAX_FEATURES 4096
#define MAX_UNBOUNDED_STEPS 1000000

int fewshot_demos_generate_options_init(fewshot_demos_generate_options *opts,
                                        unsigned int version)
{
    if (!opts || version != FEWSHOT_DEMOS_GENERATE_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_demos_generate_options_init: version "
                                 "%u is not %d", version, FEWSHOT_DEMOS_GENERATE_OPTIONS_VERSION);
    *opts = (fewshot_demos_generate_options)FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    return 0;
}

/* Fill an empty header, or check that the dataset comes from the same plugin. */
static int prepare_header(fewshot_demos *ds, fewshot_env *env, const char *policy,
                          json_t *params)
{
    const fewshot_env_plugin *p = fewshot_env_plugin_of(env);
    json_t *h = fewshot_demos_header(ds);
    const char *have = json_string_value(json_object_get(h, "plugin"));
    if (have && strcmp(have, p->name) != 0)
        return fewshot_error_set(FEWSHOT_EMISMATCH, "demonstrations: cannot add transitions of "
                                 "plugin '%s' to a dataset of plugin '%s'", p->name, have);
    if (!have) {
        json_object_set_new(h, "plugin", json_string(p->name));
        json_object_set_new(h, "plugin_version", json_string(p->version ? p->version : ""));
        json_object_set_new(h, "policy", json_string(policy));
        json_object_set(h, "params", params);
    }
    return 0;
}

static uint64_t next_episode_id(const fewshot_demos *ds)
{
    uint64_t next = 0;
    for (size_t i = 0; i < fewshot_demos_count(ds); i++) {
        uint64_t e = fewshot_demos_get(ds, i)->episode;
        if (e + 1 > next)
            next = e + 1;
    }
    return next;
}

typedef struct run {
    fewshot_env *env;
    fewshot_policy *policy;
    json_t *params;
    double *obs, *next, *action;
    float *features;
} run;

static int run_episode(fewshot_demos *ds, run *g, const fewshot_demos_generate_options *o,
                       uint64_t episode_id, uint64_t seed)
{
    const fewshot_space *os = fewshot_env_obs_space(g->env), *as = fewshot_env_act_space(g->env);
    int rc;
    fewshot_policy_reset(g->policy, seed);
    if ((rc = fewshot_env_reset(g->env, seed, o->reset_options, g->obs)))
        return rc;
    for (uint64_t t = 0; o->steps == 0 || t < o->steps; t++) {
        if (o->steps == 0 && t >= MAX_UNBOUNDED_STEPS)
            return fewshot_error_set(FEWSHOT_ERANGE, "episode %llu did not end within %d steps: "
                                     "give a step limit", (unsigned long long)episode_id,
                                     MAX_UNBOUNDED_STEPS);
        size_t fdim = 0;
        if (!o->no_features &&
            (rc = fewshot_env_features(g->env, g->obs, g->features, MAX_FEATURES, &fdim)))
            return rc;
        if (fdim > MAX_FEATURES)
            return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: %zu features exceed the limit %d",
                                     o->env, fdim, MAX_FEATURES);
        fewshot_step st = {.obs = g->next};
        if ((rc = fewshot_policy_act(g->policy, g->obs, g->action)) ||
            (rc = fewshot_env_step(g->env, g->action, &st))) {
            fewshot_error_prefix("episode %llu, step %llu", (unsigned long long)episode_id,
                                 (unsigned long long)t);
            return rc;
        }
        fewshot_demo d = {
            .episode = episode_id, .step = t, .scenario = g->params,
            .obs = g->obs, .obs_dim = os->dim, .action = g->action, .act_dim = as->dim,
            .reward = st.reward, .terms = st.terms, .next_obs = g->next, .done = st.done,
            .truncated = st.truncated, .features = fdim ? g->features : NULL,
            .features_dim = fdim, .source = fewshot_policy_spec(g->policy),
        };
        rc = fewshot_demos_add(ds, &d);
        json_decref(st.terms);
        if (rc)
            return rc;
        memcpy(g->obs, g->next, os->dim * sizeof *g->obs);
        if (st.done || st.truncated)
            break;
    }
    return 0;
}

int fewshot_demos_generate(fewshot_demos *ds, const fewshot_demos_generate_options *o)
{
    if (!ds || !o || !o->env)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_demos_generate: dataset, options and "
                                 "env are required");
    if (o->version != FEWSHOT_DEMOS_GENERATE_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "demos generate options: version %u is not %d",
                                 o->version, FEWSHOT_DEMOS_GENERATE_OPTIONS_VERSION);
    const char *spec = o->policy ? o->policy : "expert";
    run g = {0};
    size_t before = fewshot_demos_count(ds);
    int rc;
    if ((rc = fewshot_env_new(&g.env, o->env, o->params)) ||
        (rc = fewshot_env_params(g.env, &g.params)) ||
        (rc = fewshot_policy_new(&g.policy, g.env, spec, o->seed)) ||
        (rc = prepare_header(ds, g.env, spec, g.params)))
        goto done;
    size_t od = fewshot_env_obs_space(g.env)->dim, ad = fewshot_env_act_space(g.env)->dim;
    g.obs = malloc(od * sizeof *g.obs);
    g.next = malloc(od * sizeof *g.next);
    g.action = malloc(ad * sizeof *g.action);
    g.features = malloc(MAX_FEATURES * sizeof *g.features);
    if (!g.obs || !g.next || !g.action || !g.features) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        goto done;
    }
    uint64_t first = next_episode_id(ds), episodes = o->episodes ? o->episodes : 1;
    for (uint64_t e = 0; e < episodes && rc == 0; e++)
        rc = run_episode(ds, &g, o, first + e, o->seed + e);
done:
    if (rc)
        fewshot__demos_truncate(ds, before);
    free(g.obs), free(g.next), free(g.action), free(g.features);
    json_decref(g.params);
    fewshot_policy_free(g.policy);
    fewshot_env_free(g.env);
    return rc;
}
