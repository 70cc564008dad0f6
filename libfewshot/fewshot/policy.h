/*
 * libfewshot: simple policies for rollouts, demonstrations and baselines.
 *
 * A policy is created from a spec string:
 *   zero            every action element 0 (clipped into the action space)
 *   random          uniform in the action space's box (integers for integer spaces), seeded
 *   const:V         every element V; const:V1,V2,... one value per element
 *   file:PATH       replays one CSV row of actions per step (a header row and # comments are
 *                   allowed); running past the last row is an error
 *   mlp:PATH        a feed-forward network from a JSON file (the actor `python3 -m fewshot.ppo`
 *                   exports; format in fewshot-config(5)); {KEY} in PATH is replaced by the
 *                   env parameter KEY, so mlp:ppo-{building}-{weather}.json picks one file
 *                   per scenario
 *   expert | NAME   the plugin's policy of that name (see fewshot_env_policies())
 *
 * Thread-safety: a policy belongs to one env handle and one thread.
 */
#ifndef FEWSHOT_POLICY_H
#define FEWSHOT_POLICY_H

#include "fewshot/common.h"
#include "fewshot/env.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_policy fewshot_policy;

/* Create a policy acting in env. seed drives "random". */
FEWSHOT_EXTERN(int) fewshot_policy_new(fewshot_policy **out, fewshot_env *env, const char *spec,
                                       uint64_t seed);
FEWSHOT_EXTERN(void) fewshot_policy_free(fewshot_policy *policy);

/* The spec the policy was made from. */
FEWSHOT_EXTERN(const char *) fewshot_policy_spec(const fewshot_policy *policy);

/* Write the action for observation obs (NULL: the env's latest observation). */
FEWSHOT_EXTERN(int) fewshot_policy_act(fewshot_policy *policy, const double *obs, double *action);

/* Start over: "random" reseeds, "file" rewinds to its first row. */
FEWSHOT_EXTERN(void) fewshot_policy_reset(fewshot_policy *policy, uint64_t seed);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_POLICY_H */
