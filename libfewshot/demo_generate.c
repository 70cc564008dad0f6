/*
 * Generating demonstrations: run a policy (a plugin's expert, or any policy spec) over
 * episodes with seeds seed, seed+1, ... and record every transition.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fewshot/demo.h"
#include "fewshot/env.h"
#include "fewshot/error.h"
#include "fewshot/policy.h"
#include "demo_internal.h"
#include "retrieval_internal.h"

#define MAX_FEATURES 4096
#define MAX_UNBOUNDED_STEPS 1000000

int fewshot_demos_generate_options_init(fewshot_demos_generate_options *opts,
                                        unsigned int version)
{
    if (!opts || version < 1 || version > FEWSHOT_DEMOS_GENERATE_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_demos_generate_options_init: version "
                                 "%u is not 1 to %d", version,
                                 FEWSHOT_DEMOS_GENERATE_OPTIONS_VERSION);
    fewshot_demos_generate_options init = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    init.version = version;
    /* a version 1 struct ends before the version 2 fields */
    memcpy(opts, &init, version == 1 ? offsetof(fewshot_demos_generate_options, days)
                                     : sizeof init);
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

/* One task: the policy in one environment (one parameter set), episodes after ds's own. */
static int generate_one(fewshot_demos *ds, const fewshot_demos_generate_options *o)
{
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

/* ---- many tasks (days x scenarios) on worker threads ---- */

typedef struct task {
    json_t *params;
    fewshot_demos *out;
    int rc;
    char *error;                /* the worker's message (errors are per thread) */
} task;

typedef struct pool {
    const fewshot_demos_generate_options *o;
    task *tasks;
    size_t n, next;
    pthread_mutex_t lock;
} pool;

static void run_task(pool *p, size_t t)
{
    task *k = &p->tasks[t];
    fewshot_demos_generate_options sub = *p->o;
    uint64_t episodes = p->o->episodes ? p->o->episodes : 1;
    sub.params = k->params;
    sub.seed = p->o->seed + (uint64_t)t * episodes;
    sub.days = sub.scenarios = NULL;
    if ((k->rc = fewshot_demos_new(&k->out, NULL)) == 0)
        k->rc = generate_one(k->out, &sub);
    if (k->rc) {
        char msg[1200];
        fewshot_error_format(msg, sizeof msg);
        k->error = strdup(msg);
    }
}

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        size_t t = p->next < p->n ? p->next++ : p->n;
        pthread_mutex_unlock(&p->lock);
        if (t == p->n)
            return NULL;
        run_task(p, t);
    }
}

static unsigned int jobs_for(const fewshot_demos_generate_options *o, size_t n_tasks)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned int jobs = o->jobs ? o->jobs : (cpus > 0 ? (unsigned int)cpus : 1);
    return jobs > n_tasks ? (unsigned int)n_tasks : jobs;
}

static int run_pool(pool *p)
{
    unsigned int jobs = jobs_for(p->o, p->n), started = 0;
    pthread_t *th = calloc(jobs, sizeof *th);
    if (!th)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    pthread_mutex_init(&p->lock, NULL);
    /* the calling thread works too; a thread that cannot start leaves its share to others */
    for (unsigned int j = 1; j < jobs; j++)
        if (pthread_create(&th[started], NULL, worker, p) == 0)
            started++;
    worker(p);
    for (unsigned int j = 0; j < started; j++)
        pthread_join(th[j], NULL);
    pthread_mutex_destroy(&p->lock);
    free(th);
    return 0;
}

/* Fill ds's header from the first task's, or check the plugin agrees. */
static int merge_header(fewshot_demos *ds, const fewshot_demos *first, const json_t *days,
                        const json_t *scenarios)
{
    json_t *h = fewshot_demos_header(ds), *fh = fewshot_demos_header(first);
    const char *have = json_string_value(json_object_get(h, "plugin"));
    const char *plugin = json_string_value(json_object_get(fh, "plugin"));
    if (have && plugin && strcmp(have, plugin) != 0)
        return fewshot_error_set(FEWSHOT_EMISMATCH, "demonstrations: cannot add transitions of "
                                 "plugin '%s' to a dataset of plugin '%s'", plugin, have);
    if (!have) {
        json_object_update(h, fh);
        if (days)
            json_object_set(h, "days", (json_t *)days);
        if (scenarios)
            json_object_set(h, "scenarios", (json_t *)scenarios);
    }
    return 0;
}

static int generate_tasks(fewshot_demos *ds, const fewshot_demos_generate_options *o,
                          const int *days, size_t n_days, json_t *scenarios)
{
    size_t n_sc = scenarios ? json_array_size(scenarios) : 1;
    pool p = {.o = o, .n = n_sc * (n_days ? n_days : 1)};
    int rc = 0;
    if (!(p.tasks = calloc(p.n, sizeof *p.tasks)))
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t t = 0; t < p.n && rc == 0; t++)
        if (!(p.tasks[t].params = fewshot__demos_task_params(o->params, scenarios, days, n_days,
                                                             t)))
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if (rc == 0)
        rc = run_pool(&p);
    for (size_t t = 0; t < p.n && rc == 0; t++) {
        if (p.tasks[t].rc) {
            /* name the plan's entries the task came from, as the config spells them */
            char *where = json_dumps(p.tasks[t].params, JSON_COMPACT | JSON_SORT_KEYS);
            char from[96] = "";
            size_t per = n_days ? n_days : 1;
            if (scenarios && n_days)
                snprintf(from, sizeof from, "scenarios[%zu], day %d, ", t / per,
                         days[t % per]);
            else if (scenarios)
                snprintf(from, sizeof from, "scenarios[%zu], ", t);
            else
                snprintf(from, sizeof from, "day %d, ", days[t]);
            rc = fewshot_error_set(p.tasks[t].rc, "generating task %zu of %zu (%sparameters "
                                   "%s): %s", t + 1, p.n, from, where ? where : "?",
                                   p.tasks[t].error);
            free(where);
        }
    }
    json_t *days_json = NULL;
    if (rc == 0 && n_days) {
        days_json = json_array();
        for (size_t i = 0; i < n_days; i++)
            json_array_append_new(days_json, json_integer(days[i]));
    }
    size_t before = fewshot_demos_count(ds);
    if (rc == 0)
        rc = merge_header(ds, p.tasks[0].out, days_json, scenarios);
    uint64_t episodes = o->episodes ? o->episodes : 1, base = next_episode_id(ds);
    for (size_t t = 0; t < p.n && rc == 0; t++) {
        rc = fewshot__demos_append(ds, p.tasks[t].out, base + (uint64_t)t * episodes);
        fewshot_demos_free(p.tasks[t].out);     /* appended: its memory is not needed twice */
        p.tasks[t].out = NULL;
    }
    if (rc)
        fewshot__demos_truncate(ds, before);
    json_decref(days_json);
    for (size_t t = 0; t < p.n; t++) {
        json_decref(p.tasks[t].params);
        fewshot_demos_free(p.tasks[t].out);
        free(p.tasks[t].error);
    }
    free(p.tasks);
    return rc;
}

int fewshot_demos_generate(fewshot_demos *ds, const fewshot_demos_generate_options *o)
{
    if (!ds || !o || !o->env)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_demos_generate: dataset, options and "
                                 "env are required");
    if (o->version < 1 || o->version > FEWSHOT_DEMOS_GENERATE_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "demos generate options: version %u is not 1 "
                                 "to %d", o->version, FEWSHOT_DEMOS_GENERATE_OPTIONS_VERSION);
    if (o->version < 2 || (!o->days && !o->scenarios))
        return generate_one(ds, o);
    int *days = NULL;
    size_t n_days = 0;
    json_t *scenarios = NULL;
    int rc = fewshot__demos_days(o->days, NULL, "days", &days, &n_days);
    if (rc == 0)
        rc = fewshot__demos_scenarios(o->scenarios, NULL, "scenarios", &scenarios);
    if (rc == 0)
        rc = generate_tasks(ds, o, days, n_days, scenarios);
    free(days);
    json_decref(scenarios);
    return rc;
}
