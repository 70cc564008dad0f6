/*
 * The sweep runner: plan (arms x scenarios x seeds, interleaved, sharded), one event loop of
 * episode state machines, results stored one transaction per episode, resume and merge.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_internal.h"
#include "fewshot/agent.h"
#include "fewshot/env.h"
#include "fewshot/error.h"
#include "fewshot/plugin.h"
#include "fewshot/sweep.h"
#include "fewshot/version.h"
#include "plugin_guard.h"
#include "results.h"
#include "sweep_internal.h"

int fewshot_sweep_options_init(fewshot_sweep_options *opts, unsigned int version)
{
    if (version < 1 || version > FEWSHOT_SWEEP_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_sweep_options version %u, expected 1 "
                                 "to %u", version, FEWSHOT_SWEEP_OPTIONS_VERSION);
    fewshot_sweep_options init = FEWSHOT_SWEEP_OPTIONS_INIT;
    init.version = version;
    /* a version 1 struct ends before cancel: write no further than the caller's struct */
    memcpy(opts, &init, version == 1 ? offsetof(fewshot_sweep_options, cancel) : sizeof init);
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------------------------------------------------------------- the plan */

int fewshot_sweep_plan(const fewshot_config *cfg, unsigned int shard_index,
                       unsigned int shard_count, json_t **out)
{
    const json_t *arms = fewshot_config_arms(cfg), *scenarios = fewshot_config_scenarios(cfg);
    const json_t *seeds = fewshot_config_seeds(cfg);
    size_t na = json_array_size(arms), ns = json_array_size(scenarios);
    size_t nseeds = json_array_size(seeds), groups = ns * nseeds;
    *out = NULL;
    if (shard_count && (shard_index < 1 || shard_index > shard_count))
        return fewshot_error_set(FEWSHOT_EINVAL, "shard %u/%u: the index must be between 1 and "
                                 "%u", shard_index, shard_count, shard_count);
    json_t *plan = json_array();
    size_t ord = 0;
    for (size_t k = 0; k < nseeds; k++) {
        json_int_t seed = json_integer_value(json_array_get(seeds, k));
        for (size_t s = 0; s < ns; s++) {
            const char *scenario =
                json_string_value(json_object_get(json_array_get(scenarios, s), "name"));
            size_t group = k * ns + s;
            for (size_t a = 0; a < na; a++, ord++) {
                /* Shards take whole (seed, scenario) groups so pairs stay together, unless
                 * there are fewer groups than shards. */
                if (shard_count) {
                    size_t unit = groups >= shard_count ? group : ord;
                    if (unit % shard_count != shard_index - 1)
                        continue;
                }
                const char *arm = json_string_value(json_object_get(json_array_get(arms, a),
                                                                    "name"));
                char id[1024];
                snprintf(id, sizeof id, "%s/%s/%" JSON_INTEGER_FORMAT, arm, scenario, seed);
                json_array_append_new(plan, json_pack("{s:s, s:I, s:s, s:I, s:s, s:I, s:I}",
                                                      "id", id, "ord", (json_int_t)ord,
                                                      "arm", arm, "arm_index", (json_int_t)a,
                                                      "scenario", scenario, "scenario_index",
                                                      (json_int_t)s, "seed", seed));
            }
        }
    }
    *out = plan;
    return 0;
}

static int is_local_url(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    return strncmp(p, "127.", 4) == 0 || strncmp(p, "localhost", 9) == 0 ||
           strncmp(p, "[::1]", 5) == 0 || strncmp(p, "unix:", 5) == 0;
}

char *fewshot_sweep_arm_blocker(const json_t *arm)
{
    const char *kind = json_string_value(json_object_get(arm, "kind"));
    char buf[512];
    if (!kind || strcmp(kind, "llm") != 0)
        return NULL;
    const json_t *llm = json_object_get(arm, "llm");
    const char *url = json_string_value(json_object_get(llm, "base_url"));
    const char *model = json_string_value(json_object_get(llm, "model"));
    const char *key_env = json_string_value(json_object_get(llm, "api_key_env"));
    if (!url || !url[0]) {
        snprintf(buf, sizeof buf, "no LLM endpoint is configured: set llm.base_url and "
                 "llm.model in the config or with --set llm.base_url=URL --set llm.model=NAME");
        return strdup(buf);
    }
    if (!model || !model[0]) {
        snprintf(buf, sizeof buf, "no model is configured for %s: set llm.model (--set "
                 "llm.model=NAME)", url);
        return strdup(buf);
    }
    if (key_env && key_env[0] && (!getenv(key_env) || !getenv(key_env)[0])) {
        if (is_local_url(url))
            snprintf(buf, sizeof buf, "the API key variable %s (llm.api_key_env) is not set: "
                     "export %s=..., or --set llm.api_key_env= for a server without a key",
                     key_env, key_env);
        else
            snprintf(buf, sizeof buf, "the API key variable %s (llm.api_key_env) is not set "
                     "for %s: export %s=..., or point llm.base_url at a local server (e.g. "
                     "--set llm.base_url=http://127.0.0.1:8080/v1 --set llm.api_key_env=)",
                     key_env, url, key_env);
        return strdup(buf);
    }
    return NULL;
}

/* ---------------------------------------------------------------- the run */

typedef struct slot {
    const json_t *plan;         /* this episode's plan entry, or NULL when the slot is free */
    size_t scenario;
    fewshot_env *env;
    fewshot_agent *agent;
    double *obs, *next, *act;
    size_t obs_dim, act_dim;
    json_t *steps, *terms;
    double *trace_obs, *trace_act;  /* per step: its observation and action, stored as */
    size_t trace_cap;               /* numbers; steps they have room for */
    double reward, started;
    size_t t;
    long long llm_calls, prompt_tokens, completion_tokens, parse_failures, cache_hits;
    long long cached_tokens, out_of_range;
    double cost;
    double distinct_sum, agreement_sum;     /* retrieval measures of the steps that have them */
    size_t distinct_n, agreement_n;
} slot;

typedef struct sweep {
    const fewshot_config *cfg;
    const fewshot_sweep_options *opts;
    fewshot_sweep_result *res;
    fewshot__results *db;
    int lock;                   /* RUN_DIR/lock held while the sweep runs, or -1 */
    fewshot__sweep_arm *arms;   /* per arm: blocker, shared resources */
    size_t n_arms;
    json_t **pool;              /* per scenario: a JSON array of idle env handles (as ints) */
    size_t n_scenarios;
    slot *slots;
    size_t n_slots;
    json_int_t max_steps;
    size_t total, done;
    double started, last_progress;
    const volatile int *cancel;  /* options.cancel (version 2), or NULL */
    int interrupted;            /* stopped through cancel */
    size_t dropped;             /* episodes in flight when it stopped */
} sweep;

/* A plugin's parameter error names the parameter only ("buildng"); say where in the config
 * it came from: $.env.params.KEY, or the scenario's own params. */
static void blame_param(const fewshot_config *cfg, size_t scenario, const char *name)
{
    const fewshot_error *e = fewshot_error_last();
    if (!e->path[0] || e->path[0] == '$' || e->file[0]) {
        fewshot_error_prefix("scenario %s", name);
        return;
    }
    const json_t *doc = fewshot_config_json(cfg);
    char key[256], path[320], msg[1024];
    snprintf(key, sizeof key, "%s", e->path);
    snprintf(msg, sizeof msg, "%s", e->message);
    const json_t *scenarios = json_object_get(doc, "scenarios");
    const json_t *own = json_object_get(json_array_get(scenarios, scenario), "params");
    if (json_object_get(own, key) && json_array_size(scenarios) > scenario &&
        !json_object_get(json_object_get(json_object_get(doc, "env"), "params"), key))
        snprintf(path, sizeof path, "$.scenarios[%zu].params.%s", scenario, key);
    else
        snprintf(path, sizeof path, "$.env.params.%s", key);
    fewshot_error_set_path(e->code, fewshot_config_file(cfg), path, "scenario %s: %s", name, msg);
}

/* episodes.steps longer than the plugin's own episode (its parameter with "role":
 * "episode_length" in params_doc) would silently run the shorter one: refuse it. */
static int check_steps(sweep *sw, size_t scenario, fewshot_env *env)
{
    if (sw->max_steps <= 0)
        return 0;
    const fewshot_env_plugin *p = fewshot_env_plugin_of(env);
    json_t *doc = p->params_doc ? json_loads(p->params_doc, 0, NULL) : NULL, *resolved = NULL;
    const json_t *sc = json_array_get(fewshot_config_scenarios(sw->cfg), scenario);
    const char *key;
    json_t *spec;
    int rc = 0;
    json_object_foreach(json_object_get(doc, "params"), key, spec) {
        if (!json_is_string(json_object_get(spec, "role")) ||
            strcmp(json_string_value(json_object_get(spec, "role")), "episode_length") != 0)
            continue;
        if (!resolved &&
            fewshot__params_resolve(p->name, p->params_doc, json_object_get(sc, "params"),
                                    &resolved) != 0)
            break;
        json_int_t length = json_integer_value(json_object_get(resolved, key));
        if (length > 0 && sw->max_steps > length)
            rc = fewshot_error_set_path(FEWSHOT_EINVAL, fewshot_config_file(sw->cfg),
                                        "$.episodes.steps", "%" JSON_INTEGER_FORMAT " steps, but "
                                        "an episode of %s in scenario %s ends after %"
                                        JSON_INTEGER_FORMAT " (its parameter %s): lower "
                                        "episodes.steps or raise env.params.%s", sw->max_steps,
                                        p->name, json_string_value(json_object_get(sc, "name")),
                                        length, key, key);
        break;
    }
    if (rc == 0)
        fewshot_error_clear();  /* a failed resolve here was already reported by create */
    json_decref(resolved);
    json_decref(doc);
    return rc;
}

static int env_take(sweep *sw, size_t scenario, fewshot_env **out)
{
    json_t *idle = sw->pool[scenario];
    size_t n = json_array_size(idle);
    if (n) {
        *out = (fewshot_env *)(uintptr_t)json_integer_value(json_array_get(idle, n - 1));
        json_array_remove(idle, n - 1);
        return 0;
    }
    const json_t *sc = json_array_get(fewshot_config_scenarios(sw->cfg), scenario);
    const json_t *env = json_object_get(fewshot_config_json(sw->cfg), "env");
    int rc = fewshot_env_new(out, json_string_value(json_object_get(env, "plugin")),
                             json_object_get(sc, "params"));
    if (rc)
        blame_param(sw->cfg, scenario, json_string_value(json_object_get(sc, "name")));
    return rc;
}

static void env_give(sweep *sw, size_t scenario, fewshot_env *env)
{
    if (fewshot__env_crashed(env))
        fewshot_env_free(env);      /* a crashed handle is never reused */
    else if (env)
        json_array_append_new(sw->pool[scenario], json_integer((json_int_t)(uintptr_t)env));
}

/* Keep step t's observation and action as numbers; they are stored as they are. */
static int trace_add(slot *s)
{
    if (s->t >= s->trace_cap) {
        size_t cap = s->trace_cap ? 2 * s->trace_cap : 64;
        double *o = realloc(s->trace_obs, (cap * s->obs_dim + 1) * sizeof *o);
        if (o)
            s->trace_obs = o;
        double *a = o ? realloc(s->trace_act, (cap * s->act_dim + 1) * sizeof *a) : NULL;
        if (!a)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        s->trace_act = a;
        s->trace_cap = cap;
    }
    memcpy(s->trace_obs + s->t * s->obs_dim, s->obs, s->obs_dim * sizeof *s->obs);
    memcpy(s->trace_act + s->t * s->act_dim, s->act, s->act_dim * sizeof *s->act);
    return 0;
}

static void add_terms(json_t *sum, const json_t *terms)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)terms, key, value) {
        if (!json_is_number(value))
            continue;
        double old = json_number_value(json_object_get(sum, key));
        json_object_set_new(sum, key, json_real(old + json_number_value(value)));
    }
}

static void slot_clear(sweep *sw, slot *s)
{
    fewshot_agent_free(s->agent);
    env_give(sw, s->scenario, s->env);
    json_decref(s->steps);
    json_decref(s->terms);
    free(s->obs);
    free(s->next);
    free(s->act);
    free(s->trace_obs);
    free(s->trace_act);
    memset(s, 0, sizeof *s);
}

static void progress(sweep *sw, int force)
{
    FILE *out = sw->opts->progress;
    double t = now_seconds();
    if (!out || (!force && t - sw->last_progress < 0.2))
        return;
    sw->last_progress = t;
    double elapsed = t - sw->started;
    size_t ran = sw->res->ran + sw->res->failed;
    double rate = elapsed > 0 ? (double)ran / elapsed : 0;
    size_t left = sw->total > sw->done ? sw->total - sw->done : 0;
    char eta[32] = "--:--";
    if (rate > 0) {
        long secs = (long)((double)left / rate + 0.5);
        snprintf(eta, sizeof eta, "%ld:%02ld:%02ld", secs / 3600, secs / 60 % 60, secs % 60);
    }
    long long tokens = sw->res->prompt_tokens + sw->res->completion_tokens;
    fprintf(out, "\r\033[Ksweep: %zu/%zu episodes  %.1f/s  ETA %s  tokens %lld  cost $%.4f  "
            "failed %zu", sw->done, sw->total, rate, eta, tokens, sw->res->cost,
            sw->res->failed);
    fflush(out);
}

#define ARM_STOP_AFTER 3

/* The library and plugin versions of this run (the last one, when resumed), for the report. */
static int note_versions(sweep *sw)
{
    const char *plugin = json_string_value(json_object_get(json_object_get(
        fewshot_config_json(sw->cfg), "env"), "plugin"));
    const fewshot_env_plugin *p = NULL;
    if (plugin && fewshot_env_plugin_find(&p, plugin) != 0)
        p = NULL;
    fewshot_error_clear();
    json_t *v = json_pack("{s:s, s:s?, s:s?}", "library", fewshot_version_str(), "plugin", plugin,
                          "plugin_version", p && p->version ? p->version : NULL);
    int rc = v ? fewshot__results_set_meta(sw->db, "versions", v) : 0;
    json_decref(v);
    return rc;
}

/* Record in the run table which model ids and system fingerprints the servers replied
 * with, per arm, so a report can say what produced its numbers. */
static int note_servers(sweep *sw, const char *arm, const json_t *steps)
{
    static const char *const keys[][2] = {{"server_model", "models"},
                                          {"system_fingerprint", "system_fingerprints"}};
    json_t *all = fewshot__results_meta(sw->db, "llm_servers");
    int changed = 0;
    if (!json_is_object(all)) {
        json_decref(all);
        all = json_object();
    }
    size_t i;
    json_t *step;
    json_array_foreach(steps, i, step) {
        for (size_t k = 0; k < 2; k++) {
            json_t *v = json_object_get(step, keys[k][0]);
            if (!json_is_string(v))
                continue;
            json_t *entry = json_object_get(all, arm);
            if (!json_is_object(entry))
                json_object_set_new(all, arm, entry = json_object());
            json_t *list = json_object_get(entry, keys[k][1]);
            if (!json_is_array(list))
                json_object_set_new(entry, keys[k][1], list = json_array());
            size_t j;
            json_t *have;
            int seen = 0;
            json_array_foreach(list, j, have)
                seen |= json_equal(have, v);
            if (!seen && json_array_size(list) < 16) {
                json_array_append(list, v);
                changed = 1;
            }
        }
    }
    int rc = changed ? fewshot__results_set_meta(sw->db, "llm_servers", all) : 0;
    json_decref(all);
    return rc;
}

/* Store a finished (or failed) episode and free the slot. */
static int finish(sweep *sw, slot *s, const char *error)
{
    json_t *ep = json_pack("{s:O, s:O, s:O, s:O, s:O, s:s, s:I, s:f, s:O, s:I, s:I, s:I, s:f,"
                           " s:I, s:I, s:f}",
                           "id", json_object_get(s->plan, "id"),
                           "ord", json_object_get(s->plan, "ord"),
                           "arm", json_object_get(s->plan, "arm"),
                           "scenario", json_object_get(s->plan, "scenario"),
                           "seed", json_object_get(s->plan, "seed"),
                           "status", error ? "failed" : "ok",
                           "steps", (json_int_t)s->t, "reward", s->reward, "terms", s->terms,
                           "llm_calls", (json_int_t)s->llm_calls,
                           "prompt_tokens", (json_int_t)s->prompt_tokens,
                           "completion_tokens", (json_int_t)s->completion_tokens,
                           "cost", s->cost, "parse_failures", (json_int_t)s->parse_failures,
                           "cache_hits", (json_int_t)s->cache_hits,
                           "seconds", now_seconds() - s->started);
    if (error)
        json_object_set_new(ep, "error", json_string(error));
    json_object_set_new(ep, "cached_tokens", json_integer(s->cached_tokens));
    json_object_set_new(ep, "out_of_range", json_integer(s->out_of_range));
    if (s->distinct_n)
        json_object_set_new(ep, "demos_distinct",
                            json_real(s->distinct_sum / (double)s->distinct_n));
    if (s->agreement_n)
        json_object_set_new(ep, "demos_agreement",
                            json_real(s->agreement_sum / (double)s->agreement_n));
    fewshot__results_vectors vec = {s->trace_obs, s->trace_act, s->obs_dim, s->act_dim,
                                    json_array_size(s->steps)};
    int rc = fewshot__results_store(sw->db, ep, s->steps, &vec);
    json_decref(ep);
    if (rc == 0 && s->llm_calls)
        rc = note_servers(sw, json_string_value(json_object_get(s->plan, "arm")), s->steps);
    if (rc)
        return rc;
    sw->done++;
    sw->res->prompt_tokens += s->prompt_tokens;
    sw->res->completion_tokens += s->completion_tokens;
    sw->res->cost += s->cost;
    fewshot__sweep_arm *arm = &sw->arms[json_integer_value(json_object_get(s->plan,
                                                                           "arm_index"))];
    if (error) {
        arm->failed_in_row++;
        /* an arm whose first episodes all fail (a bad key, a missing model) stops */
        if (!arm->succeeded && arm->failed_in_row == ARM_STOP_AFTER && !arm->stopped) {
            arm->stopped = 1;
            if (sw->opts->log)
                fprintf(sw->opts->log, "fewshot: arm %s stopped after %d failed episodes and no "
                        "successful one; the rest of its episodes are left for a rerun\n",
                        json_string_value(json_object_get(arm->arm, "name")), ARM_STOP_AFTER);
        }
    } else {
        arm->failed_in_row = 0;
        arm->succeeded = 1;
    }
    if (error) {
        sw->res->failed++;
        if (sw->opts->log) {
            if (sw->opts->progress)
                fputs("\r\033[K", sw->opts->progress);
            fprintf(sw->opts->log, "fewshot: episode %s failed: %s\n",
                    json_string_value(json_object_get(s->plan, "id")), error);
        }
    } else {
        sw->res->ran++;
    }
    slot_clear(sw, s);
    progress(sw, 0);
    return 0;
}

static int fail_episode(sweep *sw, slot *s)
{
    char msg[1200];
    fewshot_error_format(msg, sizeof msg);
    return finish(sw, s, msg);
}

static int start_episode(sweep *sw, slot *s, const json_t *plan)
{
    size_t sc = (size_t)json_integer_value(json_object_get(plan, "scenario_index"));
    size_t arm = (size_t)json_integer_value(json_object_get(plan, "arm_index"));
    uint64_t seed = (uint64_t)json_integer_value(json_object_get(plan, "seed"));
    const json_t *scenario = json_array_get(fewshot_config_scenarios(sw->cfg), sc);
    int rc;
    s->plan = plan;
    s->scenario = sc;
    s->started = now_seconds();
    s->steps = json_array();
    s->terms = json_object();
    if ((rc = env_take(sw, sc, &s->env)) != 0) {
        /* a plugin that will not load stops the sweep (every scenario was created once
         * before the run); one that crashes in create() fails this episode only */
        if (fewshot__env_new_crashed())
            return fail_episode(sw, s);
        return rc;
    }
    s->obs_dim = fewshot_env_obs_space(s->env)->dim;
    s->act_dim = fewshot_env_act_space(s->env)->dim;
    s->obs = calloc(s->obs_dim + 1, sizeof *s->obs);
    s->next = calloc(s->obs_dim + 1, sizeof *s->next);
    s->act = calloc(s->act_dim + 1, sizeof *s->act);
    if (!s->obs || !s->next || !s->act)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if ((rc = fewshot__sweep_agent(&sw->arms[arm], s->env, seed, &s->agent)) != 0 ||
        (rc = fewshot_env_reset(s->env, seed, json_object_get(scenario, "reset"), s->obs)) != 0 ||
        (rc = fewshot_agent_reset(s->agent, seed)) != 0)
        return fail_episode(sw, s);
    rc = fewshot_agent_start(s->agent, s->obs);
    if (rc && rc != FEWSHOT_EAGAIN)
        return fail_episode(sw, s);
    return 0;
}

/* Add a step's retrieval measures (fewshot-selection(7)) to the episode's means. */
static void measured(slot *s, const json_t *row)
{
    json_t *d = json_object_get(row, "demos_distinct"), *g = json_object_get(row,
                                                                            "demos_agreement");
    if (json_is_number(d)) {
        s->distinct_sum += json_number_value(d);
        s->distinct_n++;
    }
    if (json_is_number(g)) {
        s->agreement_sum += json_number_value(g);
        s->agreement_n++;
    }
}

/* Advance one episode as far as it goes without waiting. *busy is set when it made progress. */
static int advance(sweep *sw, slot *s, int *busy)
{
    for (;;) {
        int rc = fewshot_agent_poll(s->agent);
        if (rc == FEWSHOT_EAGAIN)
            return 0;
        *busy = 1;
        if (rc || (rc = fewshot_agent_action(s->agent, s->act)) != 0)
            return fail_episode(sw, s);
        fewshot_step step = {.obs = s->next};
        if ((rc = fewshot_env_step(s->env, s->act, &step)) != 0) {
            fewshot_error_prefix("step %zu", s->t + 1);
            return fail_episode(sw, s);
        }
        json_t *row = fewshot__agent_take_decision(s->agent);
        long long failures = s->parse_failures;
        fewshot__sweep_account(row, &s->llm_calls, &s->prompt_tokens, &s->completion_tokens,
                               &s->cost, &s->parse_failures, &s->cache_hits);
        if (json_object_get(row, "prompt_hash")) {
            fewshot__sweep_arm *arm = &sw->arms[json_integer_value(json_object_get(s->plan,
                                                                                   "arm_index"))];
            arm->decisions++;
            arm->parse_failures += s->parse_failures - failures;
            s->cached_tokens += json_integer_value(json_object_get(row, "cached_tokens"));
            s->out_of_range += json_integer_value(json_object_get(row, "out_of_range"));
        }
        if ((rc = trace_add(s)) != 0) {
            json_decref(row);
            json_decref(step.terms);
            return fail_episode(sw, s);
        }
        measured(s, row);
        json_object_set_new(row, "t", json_integer((json_int_t)s->t));
        json_object_set_new(row, "reward", json_real(step.reward));
        if (step.terms)
            json_object_set(row, "terms", step.terms);
        json_array_append_new(s->steps, row);
        s->reward += step.reward;
        add_terms(s->terms, step.terms);
        rc = fewshot_agent_observe(s->agent, s->act, &step);
        json_decref(step.terms);
        if (rc)
            return fail_episode(sw, s);
        s->t++;
        if (step.done || step.truncated || (sw->max_steps > 0 && (json_int_t)s->t >= sw->max_steps))
            return finish(sw, s, NULL);
        if (sw->max_steps == 0 && s->t >= 1000000) {
            fewshot_error_set(FEWSHOT_ERANGE, "the episode did not end after %zu steps: set "
                              "episodes.steps", s->t);
            return fail_episode(sw, s);
        }
        memcpy(s->obs, s->next, s->obs_dim * sizeof *s->obs);
        rc = fewshot_agent_start(s->agent, s->obs);
        if (rc && rc != FEWSHOT_EAGAIN)
            return fail_episode(sw, s);
    }
}

static void sweep_cleanup(sweep *sw)
{
    for (size_t i = 0; i < sw->n_slots; i++)
        if (sw->slots[i].plan)
            slot_clear(sw, &sw->slots[i]);
    free(sw->slots);
    for (size_t i = 0; i < sw->n_scenarios; i++) {
        size_t j;
        json_t *item;
        json_array_foreach(sw->pool[i], j, item)
            fewshot_env_free((fewshot_env *)(uintptr_t)json_integer_value(item));
        json_decref(sw->pool[i]);
    }
    free(sw->pool);
    for (size_t i = 0; i < sw->n_arms; i++)
        fewshot__sweep_arm_clear(&sw->arms[i]);
    free(sw->arms);
    fewshot__results_close(sw->db);
    fewshot__run_unlock(sw->lock);
}

static unsigned int default_jobs(const fewshot_config *cfg)
{
    unsigned int jobs = 0;
    size_t i;
    json_t *arm;
    json_array_foreach(fewshot_config_arms(cfg), i, arm) {
        json_t *llm = json_object_get(arm, "llm");
        json_int_t c = json_integer_value(json_object_get(llm, "concurrency"));
        if (c > (json_int_t)jobs)
            jobs = (unsigned int)c;
    }
    return jobs ? jobs : 16;
}

static void describe_plan(sweep *sw, const json_t *plan, const json_t *finished)
{
    FILE *out = sw->opts->log;
    const fewshot_config *cfg = sw->cfg;
    if (!out)
        return;
    size_t i;
    json_t *item;
    fprintf(out, "config %s (%.12s)\n", fewshot_config_file(cfg), fewshot_config_hash(cfg));
    fprintf(out, "arms (%zu, reference %s):\n", json_array_size(fewshot_config_arms(cfg)),
            fewshot_config_reference(cfg));
    for (i = 0; i < sw->n_arms; i++) {
        const json_t *arm = sw->arms[i].arm;
        const char *kind = json_string_value(json_object_get(arm, "kind"));
        const char *policy = json_string_value(json_object_get(arm, "policy"));
        fprintf(out, "  %-24s %s%s%s%s%s\n", json_string_value(json_object_get(arm, "name")),
                kind, policy ? " " : "", policy ? policy : "",
                sw->arms[i].blocker ? "  SKIPPED: " : "",
                sw->arms[i].blocker ? sw->arms[i].blocker : "");
    }
    fprintf(out, "scenarios (%zu):\n", json_array_size(fewshot_config_scenarios(cfg)));
    json_array_foreach(fewshot_config_scenarios(cfg), i, item) {
        char *params = json_dumps(json_object_get(item, "params"), JSON_COMPACT | JSON_SORT_KEYS);
        fprintf(out, "  %-24s %s\n", json_string_value(json_object_get(item, "name")), params);
        free(params);
    }
    char *seeds = json_dumps(fewshot_config_seeds(cfg), JSON_COMPACT);
    fprintf(out, "seeds: %s\n", seeds);
    free(seeds);
    size_t done = 0;
    json_array_foreach(plan, i, item)
        if (finished && json_object_get(finished, json_string_value(json_object_get(item, "id"))))
            done++;
    fprintf(out, "episodes: %zu", json_array_size(plan));
    if (sw->opts->shard_count)
        fprintf(out, " (shard %u/%u)", sw->opts->shard_index, sw->opts->shard_count);
    fprintf(out, ", %zu already finished\n", done);
}

/* What each LLM arm will send: tokens per decision (fewshot_prompt_tokens(), within 5% of
 * o200k), calls, tokens and cost at the arm's llm prices; a warning for a prompt larger than
 * llm.context. Estimated on one episode of each scenario with the expert's actions. */
static void print_estimates(sweep *sw, const json_t *plan, const json_t *finished)
{
    FILE *out = sw->opts->log;
    if (!out)
        return;
    double t_calls = 0, t_prompt = 0, t_completion = 0, t_cost = 0, t_cached = 0;
    int any = 0, unpriced = 0;
    unsigned int max_steps = sw->max_steps > 0 ? (unsigned int)sw->max_steps : 100000;
    for (size_t a = 0; a < sw->n_arms; a++) {
        fewshot__sweep_arm *arm = &sw->arms[a];
        const char *kind = json_string_value(json_object_get(arm->arm, "kind"));
        const char *name = json_string_value(json_object_get(arm->arm, "name"));
        if (arm->blocker || strcmp(kind, "llm") != 0)
            continue;
        size_t episodes = 0, i;
        json_t *item, *est = NULL;
        json_array_foreach(plan, i, item)
            if ((size_t)json_integer_value(json_object_get(item, "arm_index")) == a &&
                !json_object_get(finished, json_string_value(json_object_get(item, "id"))))
                episodes++;
        if (!any++)
            fprintf(out, "estimates (one episode of each scenario with the expert's actions; "
                    "tokens within about 5%% of o200k):\n");
        if (fewshot__sweep_estimate_all(arm, max_steps, &est) != 0) {
            fprintf(out, "  %-24s no estimate: %s\n", name, fewshot_error_last()->message);
            fewshot_error_clear();
            continue;
        }
        double mean = json_number_value(json_object_get(est, "mean"));
        double share = json_number_value(json_object_get(est, "total")) > 0
                           ? json_number_value(json_object_get(est, "cacheable")) /
                                 json_number_value(json_object_get(est, "total")) : 0;
        double calls = (double)episodes * (double)json_integer_value(json_object_get(est,
                                                                                     "steps"));
        double prompt = calls * mean;
        double completion = calls * (double)json_integer_value(json_object_get(est,
                                                                               "completion"));
        json_t *llm = json_object_get(arm->arm, "llm");
        const char *model = json_string_value(json_object_get(llm, "model"));
        int priced = fewshot_llm_cost_cached(arm->llm, model, 1000000, 0, 1000000) > 0;
        double cost = fewshot_llm_cost_cached(arm->llm, model, (uint64_t)prompt, 0,
                                              (uint64_t)completion);
        double cached = fewshot_llm_cost_cached(arm->llm, model, (uint64_t)prompt,
                                                (uint64_t)(prompt * share),
                                                (uint64_t)completion);
        fprintf(out, "  %-24s %.0f prompt tokens per decision (max %lld, %.0f%% a prefix of an "
                "earlier prompt, %lld in every prompt), %.0f calls, %.0f prompt + %.0f "
                "completion tokens, ", name, mean,
                (long long)json_integer_value(json_object_get(est, "max")), 100 * share,
                (long long)json_integer_value(json_object_get(est, "static")), calls, prompt,
                completion);
        if (priced)
            fprintf(out, "cost %.2f (%.2f with the prefix cache)\n", cost, cached);
        else
            fprintf(out, "cost unknown (no llm.price for %s)\n", model ? model : "the model");
        json_int_t context = json_integer_value(json_object_get(llm, "context"));
        if (context > 0 && json_integer_value(json_object_get(est, "max")) > context)
            fprintf(out, "fewshot: warning: arm %s: a prompt of about %lld tokens exceeds "
                    "llm.context %lld\n", name,
                    (long long)json_integer_value(json_object_get(est, "max")),
                    (long long)context);
        t_calls += calls;
        t_prompt += prompt;
        t_completion += completion;
        t_cost += cost;
        t_cached += cached;
        unpriced += !priced;
        json_decref(est);
    }
    if (any)
        fprintf(out, "  %-24s %.0f calls, %.0f prompt + %.0f completion tokens, cost %.2f "
                "(%.2f with the prefix cache)%s\n", "total", t_calls, t_prompt, t_completion,
                t_cost, t_cached, unpriced ? " for the priced arms" : "");
}

/* Build each runnable arm's resources and one agent, on the first scenario: baselines
 * (policies only) or the others (demonstrations, retrieval, prompt, parser, LLM client). */
static int check_arms(sweep *sw, int baselines)
{
    fewshot_env *env;
    int rc = env_take(sw, 0, &env);
    if (rc)
        return rc;
    for (size_t a = 0; rc == 0 && a < sw->n_arms; a++) {
        const char *kind = json_string_value(json_object_get(sw->arms[a].arm, "kind"));
        fewshot_agent *agent;
        if (sw->arms[a].blocker && !baselines) {
            /* skipped for lack of a key or endpoint, but its llm section must still be right */
            rc = fewshot_llm_config_check(json_object_get(sw->arms[a].arm, "llm"),
                                          fewshot_config_file(sw->cfg));
            if (rc)
                fewshot_error_prefix("arm %s",
                                     json_string_value(json_object_get(sw->arms[a].arm, "name")));
            continue;
        }
        if (sw->arms[a].blocker || (strcmp(kind, "policy") == 0) != baselines)
            continue;
        sw->arms[a].dry_run = sw->opts->dry_run;
        if (sw->cancel && *sw->cancel) {
            sw->interrupted = 1;
            rc = fewshot_error_set(FEWSHOT_EUSER, "interrupted while preparing the arms; "
                                   "nothing ran");
            break;
        }
        rc = fewshot__sweep_arm_prepare(sw->arms, a, env,
                                        sw->opts->dry_run ? NULL : sw->opts->run_dir);
        if (rc == 0 && (rc = fewshot__sweep_agent(&sw->arms[a], env, 0, &agent)) != 0)
            fewshot_error_prefix("arm %s",
                                 json_string_value(json_object_get(sw->arms[a].arm, "name")));
        if (rc == 0)
            fewshot_agent_free(agent);
    }
    env_give(sw, 0, env);
    return rc;
}

/* An arm whose replies mostly do not parse measured its fallback, not the LLM: name it and
 * fail the sweep, so nobody reports "the LLM equals the zero action". */
static int check_parse_failures(sweep *sw)
{
    int rc = 0;
    for (size_t i = 0; i < sw->n_arms; i++) {
        const fewshot__sweep_arm *arm = &sw->arms[i];
        json_t *max = json_object_get(json_object_get(arm->arm, "parse"), "max_failure_rate");
        double limit = json_is_number(max) ? json_number_value(max) : 0.2;
        if (arm->decisions == 0)
            continue;
        double rate = (double)arm->parse_failures / (double)arm->decisions;
        if (rate <= limit)
            continue;
        const char *name = json_string_value(json_object_get(arm->arm, "name"));
        fprintf(sw->opts->log ? sw->opts->log : stderr,
                "fewshot: warning: arm %s: %lld of %lld replies (%.1f%%) did not parse, above "
                "parse.max_failure_rate %g; its results measure the parse fallback, not the "
                "LLM (see the parse column of the steps and fewshot-parse(7))\n",
                name, arm->parse_failures, arm->decisions, 100 * rate, limit);
        rc = fewshot_error_set(FEWSHOT_ERROR, "arm %s: %.1f%% of its replies did not parse "
                               "(parse.max_failure_rate %g)", name, 100 * rate, limit);
    }
    return rc;
}

int fewshot_sweep_run(const fewshot_config *cfg, const fewshot_sweep_options *opts,
                      fewshot_sweep_result *result)
{
    fewshot_sweep_result dummy;
    sweep sw = {0};
    sw.lock = -1;
    json_t *plan = NULL, *finished = NULL;
    int rc;
    if (!result)
        result = &dummy;
    memset(result, 0, sizeof *result);
    if (!opts || opts->version < 1 || opts->version > FEWSHOT_SWEEP_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_sweep_options: wrong version");
    if (!opts->run_dir && !opts->dry_run)
        return fewshot_error_set(FEWSHOT_EINVAL, "a sweep needs a run directory");
    sw.cfg = cfg;
    sw.opts = opts;
    sw.cancel = opts->version >= 2 ? opts->cancel : NULL;  /* version 1 has no such field */
    sw.res = result;
    sw.started = now_seconds();
    /* a crashing plugin fails its episode, not the sweep; FEWSHOT_PLUGIN_GUARD=0 lets it
     * crash the process (a core dump to debug the plugin with) */
    const char *guard = getenv("FEWSHOT_PLUGIN_GUARD");
    int guarded = !(guard && strcmp(guard, "0") == 0);
    if (guarded)
        fewshot__guard_enable();
    sw.max_steps = json_integer_value(json_object_get(
        json_object_get(fewshot_config_json(cfg), "episodes"), "steps"));
    if ((rc = fewshot_sweep_plan(cfg, opts->shard_index, opts->shard_count, &plan)) != 0)
        goto done;
    const json_t *arms = fewshot_config_arms(cfg);
    sw.n_arms = json_array_size(arms);
    sw.arms = calloc(sw.n_arms, sizeof *sw.arms);
    sw.n_scenarios = json_array_size(fewshot_config_scenarios(cfg));
    sw.pool = calloc(sw.n_scenarios, sizeof *sw.pool);
    if (!sw.arms || !sw.pool) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < sw.n_scenarios; i++)
        sw.pool[i] = json_array();
    for (size_t i = 0; i < sw.n_arms; i++) {
        sw.arms[i].arm = json_array_get(arms, i);
        sw.arms[i].blocker = fewshot_sweep_arm_blocker(sw.arms[i].arm);
        sw.arms[i].config = cfg;
        if (sw.arms[i].blocker)
            result->skipped_arms++;
    }
    /* Every scenario's environment and every baseline's policy must build before anything
     * runs, so configuration mistakes stop the sweep before it writes anything. */
    for (size_t i = 0; i < sw.n_scenarios; i++) {
        fewshot_env *env;
        if ((rc = env_take(&sw, i, &env)) != 0)
            goto done;
        rc = check_steps(&sw, i, env);
        env_give(&sw, i, env);
        if (rc)
            goto done;
    }
    if ((rc = check_arms(&sw, 1)) != 0)
        goto done;
    if (opts->run_dir && !opts->dry_run) {
        if ((rc = fewshot__results_open(&sw.db, opts->run_dir, 1, fewshot_config_hash(cfg),
                                        fewshot_config_json(cfg))) != 0 ||
            (rc = fewshot__run_lock(opts->run_dir, &sw.lock)) != 0)
            goto done;
        char *path = malloc(strlen(opts->run_dir) + 16);
        sprintf(path, "%s/config.json", opts->run_dir);
        rc = fewshot_config_write(cfg, path);
        free(path);
        if (rc || (rc = fewshot__results_finished(sw.db, &finished)) != 0)
            goto done;
    } else if (opts->run_dir) {
        /* a dry run reads RUN_DIR if there is one: a missing one is a new run, anything
         * else wrong with it (corrupt, another config's) is said, not counted as empty */
        if (fewshot__results_open(&sw.db, opts->run_dir, 0, fewshot_config_hash(cfg),
                                  fewshot_config_json(cfg)) == 0)
            rc = fewshot__results_finished(sw.db, &finished);
        else if (fewshot_error_last()->code == FEWSHOT_ENOTFOUND)
            fewshot_error_clear();
        else if ((rc = fewshot_error_last()->code) != 0)
            goto done;      /* no plan printed with a count that would be wrong */
    }
    /* then the arms with demonstrations, retrieval and an LLM client */
    if (rc == 0 && (rc = check_arms(&sw, 0)) != 0)
        goto done;
    if (opts->dry_run) {
        char saved[1200];
        fewshot_error_format(saved, sizeof saved);
        describe_plan(&sw, plan, finished);
        if (rc == 0)
            print_estimates(&sw, plan, finished);
        if (rc)
            fewshot_error_set(rc, "%s", saved);
        goto done;
    }
    /* skipped arms, recorded so the report can say why */
    json_t *skipped = json_object();
    for (size_t i = 0; i < sw.n_arms; i++) {
        if (!sw.arms[i].blocker)
            continue;
        const char *name = json_string_value(json_object_get(sw.arms[i].arm, "name"));
        json_object_set_new(skipped, name, json_string(sw.arms[i].blocker));
        if (opts->log)
            fprintf(opts->log, "fewshot: arm %s skipped: %s\n", name, sw.arms[i].blocker);
    }
    rc = fewshot__results_set_meta(sw.db, "skipped", skipped);
    json_decref(skipped);
    if (rc == 0)
        rc = note_versions(&sw);
    if (rc)
        goto done;
    /* the episodes still to run */
    json_t *todo = json_array();
    size_t i;
    json_t *item;
    result->planned = json_array_size(plan);
    json_array_foreach(plan, i, item) {
        size_t arm = (size_t)json_integer_value(json_object_get(item, "arm_index"));
        if (sw.arms[arm].blocker)
            result->skipped++;
        else if (json_object_get(finished, json_string_value(json_object_get(item, "id"))))
            result->already_done++;
        else
            json_array_append(todo, item);
    }
    sw.total = result->planned - result->skipped;
    sw.done = result->already_done;
    sw.n_slots = opts->jobs ? opts->jobs : default_jobs(cfg);
    sw.slots = calloc(sw.n_slots, sizeof *sw.slots);
    if (!sw.slots) {
        json_decref(todo);
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        goto done;
    }
    size_t next = 0, active = 0, stopped = 0, n_todo = json_array_size(todo);
    progress(&sw, 1);
    while (rc == 0 && (next < n_todo || active > 0)) {
        int busy = 0;
        if (sw.cancel && *sw.cancel) {
            sw.interrupted = 1;
            sw.dropped = active;
            break;
        }
        for (size_t k = 0; k < sw.n_slots && rc == 0; k++) {
            slot *s = &sw.slots[k];
            while (!s->plan && next < n_todo) {
                const json_t *ep = json_array_get(todo, next++);
                if (sw.arms[json_integer_value(json_object_get(ep, "arm_index"))].stopped) {
                    stopped++;
                    continue;
                }
                rc = start_episode(&sw, s, ep);
                busy = 1;
                break;
            }
            if (rc == 0 && s->plan)
                rc = advance(&sw, s, &busy);
        }
        active = 0;
        for (size_t k = 0; k < sw.n_slots; k++)
            active += sw.slots[k].plan != NULL;
        if (rc == 0 && !busy && active > 0)
            rc = fewshot__sweep_wait(sw.arms, sw.n_arms, 0.05);
    }
    json_decref(todo);
    progress(&sw, 1);
    if (opts->progress)
        fputc('\n', opts->progress);
    result->stopped = stopped;
    /* replies the cache could not keep (a full disk): the results are fine, but a rerun
     * would pay for them again, so the sweep says so and does not claim success */
    for (size_t a = 0; a < sw.n_arms; a++) {
        const char *why;
        uint64_t lost = sw.arms[a].own_llm ? fewshot_llm_cache_errors(sw.arms[a].llm, &why) : 0;
        if (lost && opts->log)
            fprintf(opts->log, "fewshot: arm %s: %llu replies could not be stored in the LLM "
                    "cache: %s\n", json_string_value(json_object_get(sw.arms[a].arm, "name")),
                    (unsigned long long)lost, why);
        if (lost && rc == 0)
            rc = fewshot_error_set(FEWSHOT_ERROR, "the LLM cache could not store %llu replies",
                                   (unsigned long long)lost);
    }
    if (rc == 0 && sw.interrupted)
        rc = fewshot_error_set(FEWSHOT_EUSER, "interrupted: %zu episodes finished and committed "
                               "in this run, %zu in flight dropped, %zu not started",
                               result->ran + result->failed, sw.dropped, n_todo - next);
    if (rc == 0)
        rc = check_parse_failures(&sw);
    if (rc == 0 && (result->failed || stopped))
        rc = fewshot_error_set(FEWSHOT_ERROR, "%zu of %zu episodes failed, %zu not run (rerun "
                               "the sweep on the same directory to retry them)", result->failed,
                               result->ran + result->failed, stopped);
done:
    result->seconds = now_seconds() - sw.started;
    sweep_cleanup(&sw);
    if (guarded)
        fewshot__guard_disable();
    json_decref(plan);
    json_decref(finished);
    return rc;
}

/* ---------------------------------------------------------------- merge */

int fewshot_sweep_merge(const char *const *dirs, size_t n, const char *out_dir, size_t *copied)
{
    fewshot__results *out = NULL;
    json_t *config = NULL;
    char *hash = NULL;
    int rc = 0;
    size_t total = 0;
    if (n == 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "merge needs at least one run directory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        fewshot__results *in;     /* the shards are only read */
        if ((rc = fewshot__results_open_read(&in, dirs[i])) != 0)
            break;
        const char *h = fewshot__results_hash(in);
        if (!hash) {
            hash = strdup(h);
            rc = fewshot__results_config(in, &config);
        } else if (strcmp(hash, h) != 0) {
            rc = fewshot_error_set_at(FEWSHOT_EMISMATCH, dirs[i], 0, 0,
                                      "this run was made by a different config than %s "
                                      "(config %.12s vs %.12s); only shards of one sweep merge",
                                      dirs[0], h, hash);
        }
        fewshot__results_close(in);
    }
    if (rc == 0)
        rc = fewshot__results_open(&out, out_dir, 1, hash, config);
    int lock = -1;
    if (rc == 0)
        rc = fewshot__run_lock(out_dir, &lock);   /* no sweep may write there meanwhile */
    json_t *note = rc == 0 ? fewshot__demos_note_load(out_dir) : NULL;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t c = 0;
        rc = fewshot__results_import(out, dirs[i], &c);
        total += c;
        /* the datasets the shards' arms used, as each noted them */
        json_t *shard = fewshot__demos_note_load(dirs[i]);
        fewshot__demos_note_combine(note, shard);
        json_decref(shard);
    }
    if (rc == 0 && json_object_size(json_object_get(note, "datasets")))
        rc = fewshot__demos_note_save(out_dir, note);
    json_decref(note);
    if (rc == 0) {
        char *path = malloc(strlen(out_dir) + 16);
        sprintf(path, "%s/config.json", out_dir);
        rc = fewshot__atomic_dump_json(config, path, JSON_INDENT(2) | JSON_SORT_KEYS |
                                       JSON_REAL_PRECISION(17), "the config");
        free(path);
    }
    if (copied)
        *copied = total;
    fewshot__results_close(out);
    fewshot__run_unlock(lock);
    json_decref(config);
    free(hash);
    return rc;
}
