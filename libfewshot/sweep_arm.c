/*
 * Per-arm glue of the sweep: agents for episodes, resources shared by an arm's agents, and
 * waiting for LLM replies.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fewshot/error.h"
#include "sweep_internal.h"

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
    return fewshot_agent_new(out, env, &opts);
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
    json_t *n = json_object_get(decision, "llm_calls");
    *calls += n ? int_of(decision, "llm_calls") : 1;
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
    (void)arms;
    (void)n;
    struct timespec ts = {0, (long)(timeout * 1e9)};
    nanosleep(&ts, NULL);
    return 0;
}

void fewshot__sweep_arm_clear(fewshot__sweep_arm *arm)
{
    free(arm->blocker);
    arm->blocker = NULL;
}
