/*
 * What an LLM arm's prompts will cost, before anything is sent: one episode of a scenario
 * with the warm-up policy's actions (the plugin's expert, else zero), the agent asked for
 * its prompt at every step, as `fewshot prompt` does. Gives the estimated tokens per
 * decision, the largest prompt (for llm.context) and the share of prompt tokens that is a
 * prefix of an earlier prompt of the episode (what a server's prefix cache can reuse).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "fewshot/policy.h"
#include "fewshot/prompt.h"
#include "sweep_internal.h"

#define RECENT 64   /* earlier prompts a new one is compared with */

/* Tokens of the longest prefix text shares with one of the earlier prompts. */
static size_t shared_prefix(char *const *recent, size_t n, const char *text, size_t *bytes)
{
    size_t best = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (text[k] && text[k] == recent[i][k])
            k++;
        if (k > best)
            best = k;
    }
    *bytes = best;
    return fewshot_prompt_tokens(text, best);
}

static int rollout(fewshot_agent *agent, fewshot_env *env, fewshot_policy *policy,
                   unsigned int max_steps, json_t *est)
{
    size_t od = fewshot_env_obs_space(env)->dim, ad = fewshot_env_act_space(env)->dim;
    double *obs = calloc(od + 1, sizeof *obs), *next = calloc(od + 1, sizeof *next),
           *act = calloc(ad + 1, sizeof *act);
    char *recent[RECENT] = {0};
    size_t n_recent = 0, steps = 0, max = 0, common = (size_t)-1;
    double total = 0, cacheable = 0;
    int rc = obs && next && act ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if (rc == 0)
        memcpy(obs, fewshot_env_obs(env), od * sizeof *obs);
    char *first = NULL;
    while (rc == 0 && steps < max_steps) {
        json_t *p = NULL;
        if ((rc = fewshot_agent_prompt(agent, obs, &p)) != 0)
            break;
        const char *text = json_string_value(json_object_get(p, "text"));
        size_t tokens = (size_t)json_integer_value(json_object_get(p, "tokens")), bytes;
        total += (double)tokens;
        max = tokens > max ? tokens : max;
        if (n_recent)
            cacheable += (double)shared_prefix(recent, n_recent < RECENT ? n_recent : RECENT,
                                               text, &bytes);
        /* the prefix every prompt of the episode starts with (the system block) */
        if (!first) {
            first = strdup(text);
            common = first ? strlen(first) : 0;
        } else {
            size_t k = 0;
            while (k < common && text[k] == first[k])
                k++;
            common = k;
        }
        free(recent[n_recent % RECENT]);
        recent[n_recent % RECENT] = strdup(text);
        n_recent++;
        json_decref(p);
        fewshot_step st = {.obs = next};
        if ((rc = fewshot_policy_act(policy, obs, act)) != 0)
            break;
        fewshot_space_clip(fewshot_env_act_space(env), act);
        if ((rc = fewshot_env_step(env, act, &st)) == 0)
            rc = fewshot_agent_observe(agent, act, &st);
        json_decref(st.terms);
        steps++;
        memcpy(obs, next, od * sizeof *obs);
        if (rc == 0 && (st.done || st.truncated))
            break;
    }
    if (rc == 0) {
        json_object_set_new(est, "steps", json_integer((json_int_t)steps));
        json_object_set_new(est, "mean", json_real(steps ? total / (double)steps : 0));
        json_object_set_new(est, "max", json_integer((json_int_t)max));
        json_object_set_new(est, "total", json_real(total));
        json_object_set_new(est, "cacheable", json_real(cacheable));
        json_object_set_new(est, "static", json_integer((json_int_t)(
                                               first ? fewshot_prompt_tokens(first, common) : 0)));
    }
    free(first);
    for (size_t i = 0; i < RECENT; i++)
        free(recent[i]);
    free(obs);
    free(next);
    free(act);
    return rc;
}

int fewshot__sweep_estimate(fewshot__sweep_arm *arm, size_t scenario, unsigned int max_steps,
                            json_t **out)
{
    const fewshot_config *cfg = arm->config;
    const json_t *sc = json_array_get(fewshot_config_scenarios(cfg), scenario);
    const char *plugin = json_string_value(json_object_get(
        json_object_get(fewshot_config_json(cfg), "env"), "plugin"));
    json_int_t seed = json_integer_value(json_array_get(fewshot_config_seeds(cfg), 0));
    fewshot_env *env = NULL;
    fewshot_agent *agent = NULL;
    fewshot_policy *policy = NULL;
    double *obs = NULL;
    *out = NULL;
    int rc = fewshot_env_new(&env, plugin, json_object_get(sc, "params"));
    if (rc == 0 && (obs = calloc(fewshot_env_obs_space(env)->dim + 1, sizeof *obs)) == NULL)
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if (rc == 0)
        rc = fewshot__sweep_agent(arm, env, (uint64_t)seed, &agent);
    if (rc == 0)
        rc = fewshot_env_reset(env, (uint64_t)seed, json_object_get(sc, "reset"), obs);
    if (rc == 0)
        rc = fewshot_agent_reset(agent, (uint64_t)seed);
    if (rc == 0)
        rc = fewshot_policy_new(&policy, env, fewshot_env_policies(env)[0] ? "expert" : "zero",
                                (uint64_t)seed);
    json_t *est = json_pack("{s:O}", "scenario", json_object_get(sc, "name"));
    if (rc == 0)
        rc = rollout(agent, env, policy, max_steps, est);
    if (rc == 0) {
        /* a reply is "Actions: [v, v, ...]" with one value per action */
        size_t dim = fewshot_env_act_space(env)->dim;
        fewshot_text_buf reply = FEWSHOT_TEXT_BUF_INIT;
        fewshot_text_buf_puts(&reply, "Actions: [");
        for (size_t i = 0; i < dim; i++)
            fewshot_text_buf_puts(&reply, i ? ", 50" : "50");
        fewshot_text_buf_puts(&reply, "]");
        json_object_set_new(est, "completion",
                            json_integer((json_int_t)fewshot_prompt_tokens(reply.data,
                                                                           reply.len)));
        fewshot_text_buf_free(&reply);
        *out = est;
    } else {
        json_decref(est);
    }
    fewshot_policy_free(policy);
    fewshot_agent_free(agent);
    fewshot_env_free(env);
    free(obs);
    return rc;
}

/* Add the estimate b of one scenario to the running one a: the counts add up, the largest
 * prompt is the largest, the prefix every prompt shares is the shortest. */
static void add_estimate(json_t *a, const json_t *b)
{
    static const char *const sums[] = {"steps", "total", "cacheable", "completion"};
    for (size_t i = 0; i < 4; i++)
        json_object_set_new(a, sums[i], json_real(json_number_value(json_object_get(a, sums[i])) +
                                                  json_number_value(json_object_get(b, sums[i]))));
    json_int_t m = json_integer_value(json_object_get(b, "max")),
               s = json_integer_value(json_object_get(b, "static"));
    if (m > json_integer_value(json_object_get(a, "max")))
        json_object_set_new(a, "max", json_integer(m));
    if (!json_object_get(a, "static") || s < json_integer_value(json_object_get(a, "static")))
        json_object_set_new(a, "static", json_integer(s));
}

int fewshot__sweep_estimate_all(fewshot__sweep_arm *arm, unsigned int max_steps, json_t **out)
{
    size_t n = json_array_size(fewshot_config_scenarios(arm->config));
    json_t *all = json_pack("{s:i, s:I}", "scenarios", (int)n, "max", (json_int_t)0);
    int rc = all ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    *out = NULL;
    for (size_t s = 0; rc == 0 && s < n; s++) {
        json_t *est = NULL;
        if ((rc = fewshot__sweep_estimate(arm, s, max_steps, &est)) == 0)
            add_estimate(all, est);
        json_decref(est);
    }
    if (rc) {
        json_decref(all);
        return rc;
    }
    /* per decision and per reply over all of them; steps as an episode's mean */
    double steps = json_number_value(json_object_get(all, "steps"));
    json_object_set_new(all, "mean", json_real(steps > 0 ? json_number_value(json_object_get(
                                                               all, "total")) / steps : 0));
    json_object_set_new(all, "completion",
                        json_integer((json_int_t)(json_number_value(json_object_get(
                                                      all, "completion")) / (double)n + 0.5)));
    json_object_set_new(all, "steps", json_integer((json_int_t)(steps / (double)n + 0.5)));
    *out = all;
    return 0;
}
