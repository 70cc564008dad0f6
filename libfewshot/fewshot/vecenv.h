/*
 * libfewshot: vectorized environments, n instances of one plugin stepped in one call.
 *
 * For training loops in other languages (the Python package's VectorEnv, PPO): one call
 * crosses the language boundary per batch instead of one per environment. Environments that
 * finish (done or truncated) are reset at once (Gymnasium's same-step autoreset): the
 * observation returned for them is the new episode's first, and final_obs holds the last one
 * of the episode that ended. Episode k (counting from 0 over all instances, in the order they
 * start) uses seed `seed + k`, so a run is reproducible.
 *
 * Thread-safety: a vecenv belongs to one thread at a time.
 */
#ifndef FEWSHOT_VECENV_H
#define FEWSHOT_VECENV_H

#include <jansson.h>
#include "fewshot/common.h"
#include "fewshot/env.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_vecenv fewshot_vecenv;

/* n instances of plugin `name` with the same parameters (see fewshot_env_new()). */
FEWSHOT_EXTERN(int) fewshot_vecenv_new(fewshot_vecenv **out, const char *name,
                                       const json_t *params, size_t n);
FEWSHOT_EXTERN(void) fewshot_vecenv_free(fewshot_vecenv *vec);

FEWSHOT_EXTERN(size_t) fewshot_vecenv_size(const fewshot_vecenv *vec);

/* Instance i (borrowed), e.g. for its spaces or its context. */
FEWSHOT_EXTERN(fewshot_env *) fewshot_vecenv_env(fewshot_vecenv *vec, size_t i);

/* Reset every instance, instance i with seed + i. options (may be NULL) is an object used for
 * this and every automatic reset, or an array of objects used in turn (episode k gets element
 * k modulo its size). obs receives n * obs_dim values (may be NULL). */
FEWSHOT_EXTERN(int) fewshot_vecenv_reset(fewshot_vecenv *vec, uint64_t seed,
                                         const json_t *options, double *obs);

/* Step every instance: actions holds n * act_dim values, obs receives n * obs_dim, rewards,
 * done and truncated n each. final_obs (may be NULL) receives n * obs_dim: for instances that
 * finished, the episode's last observation; for the others, the same as obs. */
FEWSHOT_EXTERN(int) fewshot_vecenv_step(fewshot_vecenv *vec, const double *actions, double *obs,
                                        double *rewards, int *done, int *truncated,
                                        double *final_obs);

/* Episodes finished since the last fewshot_vecenv_reset(). */
FEWSHOT_EXTERN(size_t) fewshot_vecenv_episodes(const fewshot_vecenv *vec);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_VECENV_H */
