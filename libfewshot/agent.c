/*
 * Agents: baselines through <fewshot/policy.h>, and the LLM decision loop.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fewshot/agent.h"
#include "fewshot/error.h"
#include "fewshot/policy.h"

typedef enum { AGENT_POLICY, AGENT_LLM } agent_kind;

struct fewshot_agent {
    agent_kind kind;
    fewshot_env *env;
    fewshot_policy *policy;
    size_t act_dim;
    double *action;
    int ready;
};

int fewshot_agent_options_init(fewshot_agent_options *opts, unsigned int version)
{
    if (version != FEWSHOT_AGENT_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_agent_options version %u, expected %u",
                                 version, FEWSHOT_AGENT_OPTIONS_VERSION);
    fewshot_agent_options init = FEWSHOT_AGENT_OPTIONS_INIT;
    *opts = init;
    return 0;
}

int fewshot_agent_new(fewshot_agent **out, fewshot_env *env, const fewshot_agent_options *opts)
{
    fewshot_agent_options defaults = FEWSHOT_AGENT_OPTIONS_INIT;
    int rc;
    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (opts->version != FEWSHOT_AGENT_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_agent_options version %u, expected %u",
                                 opts->version, FEWSHOT_AGENT_OPTIONS_VERSION);
    fewshot_agent *a = calloc(1, sizeof *a);
    if (!a)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    a->env = env;
    a->act_dim = fewshot_env_act_space(env)->dim;
    a->action = calloc(a->act_dim ? a->act_dim : 1, sizeof *a->action);
    if (!a->action) {
        free(a);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    if (opts->policy && strcmp(opts->policy, "knn-imitation") != 0) {
        a->kind = AGENT_POLICY;
        if ((rc = fewshot_policy_new(&a->policy, env, opts->policy, opts->seed)) != 0) {
            fewshot_agent_free(a);
            return rc;
        }
    } else {
        fewshot_agent_free(a);
        return fewshot_error_set(FEWSHOT_EUNSUPPORTED, "%s agents are not available in this "
                                 "build", opts->policy ? opts->policy : "LLM");
    }
    *out = a;
    return 0;
}

void fewshot_agent_free(fewshot_agent *agent)
{
    if (!agent)
        return;
    fewshot_policy_free(agent->policy);
    free(agent->action);
    free(agent);
}

int fewshot_agent_reset(fewshot_agent *agent, uint64_t seed)
{
    agent->ready = 0;
    if (agent->policy)
        fewshot_policy_reset(agent->policy, seed);
    return 0;
}

int fewshot_agent_uses_llm(const fewshot_agent *agent)
{
    return agent->kind == AGENT_LLM;
}

int fewshot_agent_start(fewshot_agent *agent, const double *obs)
{
    agent->ready = 0;
    int rc = fewshot_policy_act(agent->policy, obs, agent->action);
    if (rc)
        return rc;
    fewshot_space_clip(fewshot_env_act_space(agent->env), agent->action);
    agent->ready = 1;
    return 0;
}

int fewshot_agent_poll(fewshot_agent *agent)
{
    return agent->ready ? 0 : FEWSHOT_EAGAIN;
}

int fewshot_agent_action(fewshot_agent *agent, double *action)
{
    if (!agent->ready)
        return fewshot_error_set(FEWSHOT_EAGAIN, "the agent has not decided yet");
    memcpy(action, agent->action, agent->act_dim * sizeof *action);
    return 0;
}

int fewshot_agent_act(fewshot_agent *agent, const double *obs, double *action)
{
    int rc = fewshot_agent_start(agent, obs);
    while (rc == FEWSHOT_EAGAIN)
        rc = fewshot_agent_poll(agent);
    return rc ? rc : fewshot_agent_action(agent, action);
}

int fewshot_agent_observe(fewshot_agent *agent, const double *action, const fewshot_step *step)
{
    (void)agent;
    (void)action;
    (void)step;
    return 0;
}

json_t *fewshot_agent_decision(const fewshot_agent *agent)
{
    (void)agent;
    return json_object();
}
