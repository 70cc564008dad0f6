/*
 * Per-arm resources of a sweep: demonstrations (loaded, or generated from the config and kept
 * in the run directory), the retriever every agent of the arm shares, the LLM client (shared
 * by arms whose llm sections are equal, so their limits add up once), and delivering replies.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "agent_internal.h"
#include "fewshot/embed.h"
#include "fewshot/error.h"
#include "fewshot/policy.h"
#include "fewshot/sweep.h"
#include "sweep_internal.h"

/* The generation settings of a demos section with defaults filled in, or NULL for a file or
 * no demonstrations. */
static json_t *generation_spec(const fewshot_config *cfg, const json_t *demos)
{
    if (json_object_size(demos) == 0 || json_object_get(demos, "file"))
        return NULL;
    const json_t *env = json_object_get(fewshot_config_json(cfg), "env");
    const char *plugin = json_string_value(json_object_get(env, "plugin"));
    const char *dplugin = json_string_value(json_object_get(demos, "env"));
    json_t *params;
    if (!dplugin || strcmp(dplugin, plugin) == 0) {
        params = json_deep_copy(json_object_get(env, "params"));
        json_t *over = json_object_get(demos, "params");
        if (over)
            json_object_update(params, over);
    } else {
        params = json_deep_copy(json_object_get(demos, "params"));
        if (!params)
            params = json_object();
    }
    json_t *policy = json_object_get(demos, "policy"), *episodes = json_object_get(demos,
                                                                                   "episodes");
    json_t *steps = json_object_get(demos, "steps"), *seed = json_object_get(demos, "seed");
    json_t *spec = json_pack("{s:s, s:o, s:s, s:I, s:I, s:I}", "env", dplugin ? dplugin : plugin,
                             "params", params, "policy",
                             policy ? json_string_value(policy) : "expert",
                             "episodes", episodes ? json_integer_value(episodes) : 4,
                             "steps", steps ? json_integer_value(steps) : 24,
                             "seed", seed ? json_integer_value(seed) : 1);
    /* the plan (days, scenarios) only when given, so older specs keep their hash */
    static const char *const plan[] = {"days", "scenarios", "jobs"};
    for (int i = 0; spec && i < 3; i++)
        if (json_object_get(demos, plan[i]))
            json_object_set(spec, plan[i], json_object_get(demos, plan[i]));
    return spec;
}

/* Note in the run directory which stored dataset an arm used (demos.json), instead of a
 * copy of it. */
static void record_dataset(const char *run_dir, const char *arm, const char *id,
                           const char *path, size_t transitions)
{
    json_t *doc = fewshot__demos_note_load(run_dir);
    fewshot__demos_note_add(doc, id, path, (json_int_t)transitions, arm);
    /* a note for people and tools, not needed to resume: a failed write is not fatal */
    if (!doc || fewshot__demos_note_save(run_dir, doc))
        fewshot_error_clear();
    json_decref(doc);
}

static void short_hash(const json_t *v, char out[17])
{
    char *text = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 8; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
    free(text);
}

/* Generation options pointing into spec (which must outlive them). */
static void spec_options(const json_t *spec, fewshot_demos_generate_options *go)
{
    go->env = json_string_value(json_object_get(spec, "env"));
    go->params = json_object_get(spec, "params");
    go->policy = json_string_value(json_object_get(spec, "policy"));
    go->episodes = (uint64_t)json_integer_value(json_object_get(spec, "episodes"));
    go->steps = (uint64_t)json_integer_value(json_object_get(spec, "steps"));
    go->seed = (uint64_t)json_integer_value(json_object_get(spec, "seed"));
    go->days = json_object_get(spec, "days");
    go->scenarios = json_object_get(spec, "scenarios");
    go->jobs = (unsigned int)json_integer_value(json_object_get(spec, "jobs"));
}

static int generate(const json_t *spec, const char *run_dir, const char *arm,
                    fewshot_demos **out, char **file)
{
    struct stat sb;
    char hash[17];
    int rc;
    *out = NULL;
    *file = NULL;
    short_hash(spec, hash);
    if (run_dir) {
        *file = malloc(strlen(run_dir) + 40);
        sprintf(*file, "%s/demos-%s.jsonl", run_dir, hash);
        /* run directories made before the shared store kept their own copy: reuse it */
        if (stat(*file, &sb) == 0)
            return fewshot_demos_load(out, *file);
        free(*file);
        *file = NULL;
    }
    fewshot_demos_generate_options go = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    spec_options(spec, &go);
    char *id = NULL;
    rc = fewshot_demos_obtain(out, &go, &id, file);
    if (rc) {
        fewshot_error_prefix("generating demonstrations (%s, policy %s)", go.env,
                             go.policy ? go.policy : "expert");
        return rc;
    }
    if (run_dir)
        record_dataset(run_dir, arm ? arm : "", id, *file, fewshot_demos_count(*out));
    free(id);
    return 0;
}

/* Demonstrations of another plugin have other observations: say so with both names rather
 * than fail later on a dimension. */
static int same_plugin(const fewshot_demos *ds, const char *file, fewshot_env *env)
{
    const char *theirs = json_string_value(json_object_get(fewshot_demos_header(ds), "plugin"));
    const char *ours = fewshot_env_plugin_of(env)->name;
    if (!theirs || strcmp(theirs, ours) == 0)
        return 0;
    return fewshot_error_set_at(FEWSHOT_EMISMATCH, file, 0, 0, "demonstrations of plugin %s, "
                                "but the config's environment is %s (env.plugin): point "
                                "demos.file at demonstrations of %s, or let the sweep generate "
                                "them (demos: {\"episodes\": N})", theirs, ours, ours);
}

/* The dataset spec generates, when the shared store already holds it (read only). */
static int stored_dataset(const json_t *spec, fewshot_demos **out)
{
    fewshot_demos_generate_options go = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    char *id = NULL, *dir = NULL, *path = NULL;
    struct stat sb;
    int rc = FEWSHOT_ENOTFOUND;
    spec_options(spec, &go);
    if (fewshot_demos_id(&go, &id) == 0 && fewshot_demos_store_dir(&dir) == 0 &&
        (path = malloc(strlen(dir) + strlen(go.env) + strlen(id) + 8)) != NULL) {
        sprintf(path, "%s/%s-%s.fsdb", dir, go.env, id);    /* as fewshot_demos_obtain names it */
        if (stat(path, &sb) == 0)
            rc = fewshot_demos_load(out, path);
    }
    if (rc)
        fewshot_error_clear();
    free(id), free(dir), free(path);
    return rc;
}

static int is_remote(const json_t *arm)
{
    const char *kind = json_string_value(json_object_get(json_object_get(arm, "embedding"),
                                                         "kind"));
    return kind && strcmp(kind, "remote") == 0;
}

static int check_remote_embedder(const json_t *emb)
{
    fewshot_embedder_options eo = FEWSHOT_EMBEDDER_OPTIONS_INIT;
    eo.kind = "remote";
    eo.base_url = json_string_value(json_object_get(emb, "base_url"));
    eo.model = json_string_value(json_object_get(emb, "model"));
    eo.api_key_env = json_string_value(json_object_get(emb, "api_key_env"));
    fewshot_embedder *e;
    int rc = fewshot_embedder_new(&e, &eo);   /* stores settings; sends nothing */
    if (rc == 0)
        fewshot_embedder_free(e);
    else
        fewshot_error_prefix("embedding");
    return rc;
}

int fewshot__sweep_arm_prepare(fewshot__sweep_arm *arms, size_t i, fewshot_env *env,
                               const char *run_dir)
{
    fewshot__sweep_arm *arm = &arms[i];
    const char *kind = json_string_value(json_object_get(arm->arm, "kind"));
    int rc = 0;
    if (arm->prepared || strcmp(kind, "policy") == 0) {
        arm->prepared = 1;
        return 0;
    }
    const json_t *demos = json_object_get(arm->arm, "demos");
    json_t *spec = generation_spec(arm->config, demos);
    /* demonstrations: reuse an earlier arm's when the sections agree */
    for (size_t j = 0; j < i && !arm->demos; j++) {
        if (arms[j].prepared && arms[j].demos &&
            json_equal(json_object_get(arms[j].arm, "demos"), (json_t *)demos))
            arm->demos = arms[j].demos;
    }
    if (!arm->demos && spec && arm->dry_run && stored_dataset(spec, &arm->demos) == 0) {
        arm->own_demos = 1;     /* already generated: read from the store, nothing written */
    } else if (!arm->demos && spec && arm->dry_run) {
        /* a dry run generates a token set in memory (one episode of at most two steps), not
         * through the shared store: the plugin, parameters and policy are checked and the
         * agent gets demonstrations to be built with, at no real cost and writing nothing */
        json_t *small = json_deep_copy(spec);
        json_object_set_new(small, "episodes", json_integer(1));
        if (json_integer_value(json_object_get(small, "steps")) > 2)
            json_object_set_new(small, "steps", json_integer(2));
        fewshot_demos_generate_options go = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
        spec_options(small, &go);
        if ((rc = fewshot_demos_new(&arm->demos, NULL)) == 0 &&
            (rc = fewshot_demos_generate(arm->demos, &go)) != 0)
            fewshot_error_prefix("generating demonstrations (%s, policy %s)", go.env,
                                 go.policy ? go.policy : "expert");
        arm->own_demos = 1;
        json_decref(small);
    } else if (!arm->demos && spec) {
        rc = generate(spec, run_dir, json_string_value(json_object_get(arm->arm, "name")),
                      &arm->demos, &arm->demos_file);
        arm->own_demos = 1;
    } else if (!arm->demos && json_object_get(demos, "file")) {
        const char *file = json_string_value(json_object_get(demos, "file"));
        rc = fewshot_demos_load(&arm->demos, file);
        arm->own_demos = 1;
        if (rc == 0)
            rc = same_plugin(arm->demos, file, env);
    }
    json_decref(spec);
    /* retrieval: shared when every section it depends on agrees */
    for (size_t j = 0; rc == 0 && j < i && !arm->ret; j++) {
        if (arms[j].ret && arms[j].demos == arm->demos &&
            json_equal(json_object_get(arms[j].arm, "embedding"),
                       json_object_get(arm->arm, "embedding")) &&
            json_equal(json_object_get(arms[j].arm, "selection"),
                       json_object_get(arm->arm, "selection")) &&
            json_equal(json_object_get(arms[j].arm, "prompt"),
                       json_object_get(arm->arm, "prompt")))
            arm->ret = fewshot__retriever_ref(arms[j].ret);
    }
    if (rc == 0 && !arm->ret && arm->dry_run && is_remote(arm->arm)) {
        /* a dry run calls no endpoint: the embedder's settings are checked, and the rest of
         * retrieval is built over no demonstrations (nothing to embed) */
        rc = check_remote_embedder(json_object_get(arm->arm, "embedding"));
        if (rc == 0)
            rc = fewshot__retriever_new(&arm->ret, env, arm->arm, NULL);
    } else if (rc == 0 && !arm->ret) {
        rc = fewshot__retriever_new(&arm->ret, env, arm->arm, arm->demos);
    }
    /* the LLM client */
    if (rc == 0 && strcmp(kind, "llm") == 0 && !arm->no_llm) {
        const json_t *llm = json_object_get(arm->arm, "llm");
        for (size_t j = 0; j < i && !arm->llm; j++)
            if (arms[j].llm && json_equal(json_object_get(arms[j].arm, "llm"), (json_t *)llm))
                arm->llm = arms[j].llm;
        if (!arm->llm && arm->dry_run) {
            /* the same client without its cache: a dry run creates no cache file */
            json_t *copy = json_deep_copy(llm);
            rc = fewshot_llm_config_check(llm, NULL);
            json_object_del(copy, "cache");
            if (rc == 0)
                rc = fewshot_llm_new_from_config(&arm->llm, copy, NULL);
            json_decref(copy);
            arm->own_llm = rc == 0;
        } else if (!arm->llm) {
            rc = fewshot_llm_new_from_config(&arm->llm, llm, NULL);
            arm->own_llm = rc == 0;
        }
    }
    if (rc)
        fewshot_error_prefix("arm %s", json_string_value(json_object_get(arm->arm, "name")));
    arm->prepared = rc == 0;
    return rc;
}

int fewshot__sweep_agent(fewshot__sweep_arm *arm, fewshot_env *env, uint64_t seed,
                         fewshot_agent **out)
{
    fewshot_agent_options opts = FEWSHOT_AGENT_OPTIONS_INIT;
    const char *kind = json_string_value(json_object_get(arm->arm, "kind"));
    opts.arm = arm->arm;
    opts.seed = seed;
    if (strcmp(kind, "policy") == 0)
        opts.policy = json_string_value(json_object_get(arm->arm, "policy"));
    else if (strcmp(kind, "knn-imitation") == 0)
        opts.policy = "knn-imitation";
    opts.llm = arm->llm;
    opts.demos = arm->demos;
    return fewshot__agent_new_shared(out, env, &opts, arm->ret);
}

static long long int_of(const json_t *obj, const char *key)
{
    return (long long)json_integer_value(json_object_get(obj, key));
}

void fewshot__sweep_account(const json_t *decision, long long *calls, long long *prompt_tokens,
                            long long *completion_tokens, double *cost,
                            long long *parse_failures, long long *cache_hits)
{
    if (!json_object_get(decision, "prompt_hash"))
        return;
    *calls += int_of(decision, "llm_calls");
    *prompt_tokens += int_of(decision, "prompt_tokens");
    *completion_tokens += int_of(decision, "completion_tokens");
    *cost += json_number_value(json_object_get(decision, "cost"));
    json_t *parse = json_object_get(decision, "parse");
    if (parse && !json_is_true(json_object_get(parse, "ok")))
        (*parse_failures)++;
    if (json_is_true(json_object_get(decision, "cache_hit")))
        (*cache_hits)++;
}

int fewshot__sweep_wait(fewshot__sweep_arm *arms, size_t n, double timeout)
{
    int clients = 0, got_any = 0;
    for (size_t i = 0; i < n; i++)
        clients += arms[i].own_llm && fewshot_llm_pending(arms[i].llm) > 0;
    if (clients == 0) {
        struct timespec ts = {0, (long)(timeout * 1e9)};
        nanosleep(&ts, NULL);
        return 0;
    }
    /* with one busy client, wait on it; with several, poll each briefly in turn */
    int wait_ms = clients == 1 ? (int)(timeout * 1000) : 1;
    for (size_t i = 0; i < n; i++) {
        if (!arms[i].own_llm || fewshot_llm_pending(arms[i].llm) == 0)
            continue;
        fewshot_llm_reply *reply;
        int got = fewshot_llm_poll(arms[i].llm, got_any ? 0 : wait_ms, &reply);
        while (got == 1) {
            got_any = 1;
            fewshot_agent_deliver(reply);
            got = fewshot_llm_poll(arms[i].llm, 0, &reply);
        }
        if (got < 0)
            return got;
    }
    return 0;
}

void fewshot__sweep_arm_clear(fewshot__sweep_arm *arm)
{
    free(arm->blocker);
    arm->blocker = NULL;
    fewshot__retriever_unref(arm->ret);
    arm->ret = NULL;
    if (arm->own_llm)
        fewshot_llm_free(arm->llm);
    if (arm->own_demos)
        fewshot_demos_free(arm->demos);
    free(arm->demos_file);
    arm->llm = NULL;
    arm->demos = NULL;
    arm->demos_file = NULL;
}

int fewshot_sweep_prompt(const fewshot_config *cfg, const char *arm_name, const char *scenario,
                         unsigned int step, json_t **out)
{
    const json_t *arms = fewshot_config_arms(cfg), *scenarios = fewshot_config_scenarios(cfg);
    size_t na = json_array_size(arms), a = na, s = 0;
    int rc = 0;
    *out = NULL;
    for (size_t i = 0; i < na && a == na; i++) {
        const json_t *arm = json_array_get(arms, i);
        const char *name = json_string_value(json_object_get(arm, "name"));
        const char *kind = json_string_value(json_object_get(arm, "kind"));
        if (arm_name ? strcmp(name, arm_name) == 0 : strcmp(kind, "llm") == 0)
            a = i;
    }
    if (a == na)
        return arm_name ? fewshot_error_set(FEWSHOT_ENOTFOUND, "no arm is named '%s'", arm_name)
                        : fewshot_error_set(FEWSHOT_ENOTFOUND, "the config has no LLM arm");
    if (strcmp(json_string_value(json_object_get(json_array_get(arms, a), "kind")), "llm") != 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "arm %s is a baseline: it sends no prompt",
                                 arm_name);
    if (scenario) {
        for (s = 0; s < json_array_size(scenarios); s++)
            if (strcmp(json_string_value(json_object_get(json_array_get(scenarios, s), "name")),
                       scenario) == 0)
                break;
        if (s == json_array_size(scenarios))
            return fewshot_error_set(FEWSHOT_ENOTFOUND, "no scenario is named '%s'", scenario);
    }
    const json_t *sc = json_array_get(scenarios, s);
    const char *plugin = json_string_value(json_object_get(
        json_object_get(fewshot_config_json(cfg), "env"), "plugin"));
    json_int_t seed = json_integer_value(json_array_get(fewshot_config_seeds(cfg), 0));
    fewshot__sweep_arm *sa = calloc(a + 1, sizeof *sa);
    fewshot_env *env = NULL;
    fewshot_agent *agent = NULL;
    double *obs = NULL, *act = NULL, *next = NULL;
    if (!sa)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; i <= a; i++) {
        sa[i].arm = json_array_get(arms, i);
        sa[i].config = cfg;
        sa[i].no_llm = 1;
        sa[i].prepared = i < a;     /* only this arm is needed */
    }
    if ((rc = fewshot_env_new(&env, plugin, json_object_get(sc, "params"))) != 0)
        goto done;
    size_t od = fewshot_env_obs_space(env)->dim, ad = fewshot_env_act_space(env)->dim;
    obs = calloc(od + 1, sizeof *obs);
    next = calloc(od + 1, sizeof *next);
    act = calloc(ad + 1, sizeof *act);
    if ((rc = fewshot__sweep_arm_prepare(sa, a, env, NULL)) != 0 ||
        (rc = fewshot__sweep_agent(&sa[a], env, (uint64_t)seed, &agent)) != 0 ||
        (rc = fewshot_env_reset(env, (uint64_t)seed, json_object_get(sc, "reset"), obs)) != 0)
        goto done;
    const char *warmup = fewshot_env_policies(env)[0] ? "expert" : "zero";
    fewshot_policy *policy = NULL;
    if ((rc = fewshot_policy_new(&policy, env, warmup, (uint64_t)seed)) != 0)
        goto done;
    for (unsigned int t = 0; t < step && rc == 0; t++) {
        fewshot_step st = {.obs = next};
        json_t *ctx = NULL;
        /* the agent records the state's context when it decides; give it the state */
        rc = fewshot_agent_prompt(agent, obs, &ctx);
        json_decref(ctx);
        if (rc == 0)
            rc = fewshot_policy_act(policy, obs, act);
        if (rc == 0)
            fewshot_space_clip(fewshot_env_act_space(env), act);
        if (rc == 0)
            rc = fewshot_env_step(env, act, &st);
        if (rc == 0)
            rc = fewshot_agent_observe(agent, act, &st);
        json_decref(st.terms);
        if (rc == 0 && (st.done || st.truncated) && t + 1 < step)
            rc = fewshot_error_set(FEWSHOT_ERANGE, "the episode ends after %u steps", t + 1);
        memcpy(obs, next, od * sizeof *obs);
    }
    fewshot_policy_free(policy);
    if (rc == 0 && (rc = fewshot_agent_prompt(agent, obs, out)) == 0) {
        json_t *where = json_pack("{s:O, s:O, s:I, s:I}", "arm",
                                  json_object_get(sa[a].arm, "name"), "scenario",
                                  json_object_get(sc, "name"), "seed", seed, "step",
                                  (json_int_t)step);
        json_object_update(*out, where);
        json_decref(where);
    }
done:
    fewshot_agent_free(agent);
    fewshot_env_free(env);
    for (size_t i = 0; i <= a; i++)
        fewshot__sweep_arm_clear(&sa[i]);
    free(sa);
    free(obs);
    free(next);
    free(act);
    return rc;
}

int fewshot_sweep_demos_locate(const fewshot_config *cfg, const char *arm, fewshot_demos **out,
                               char **id, char **path)
{
    const json_t *section = json_object_get(fewshot_config_json(cfg), "demos");
    *out = NULL;
    if (id)
        *id = NULL;
    if (path)
        *path = NULL;
    if (arm) {
        size_t i;
        json_t *item;
        section = NULL;
        json_array_foreach(fewshot_config_arms(cfg), i, item)
            if (strcmp(json_string_value(json_object_get(item, "name")), arm) == 0)
                section = json_object_get(item, "demos");
        if (!section)
            return fewshot_error_set(FEWSHOT_ENOTFOUND, "no arm is named '%s'", arm);
    }
    const char *file = json_string_value(json_object_get(section, "file"));
    if (file) {
        if (path && !(*path = strdup(file)))
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        return fewshot_demos_load(out, file);
    }
    json_t *spec = generation_spec(cfg, section);
    if (!spec)
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "%s%s has no demos section (a file or "
                                 "generation settings)", arm ? "arm " : "the config",
                                 arm ? arm : "");
    fewshot_demos_generate_options go = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    spec_options(spec, &go);
    int rc = fewshot_demos_obtain(out, &go, id, path);
    if (rc)
        fewshot_error_prefix("generating demonstrations (%s, policy %s)", go.env, go.policy);
    json_decref(spec);
    return rc;
}

int fewshot_sweep_demos(const fewshot_config *cfg, const char *arm, fewshot_demos **out)
{
    return fewshot_sweep_demos_locate(cfg, arm, out, NULL, NULL);
}
