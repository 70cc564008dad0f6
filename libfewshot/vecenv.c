/*
 * Vectorized environments: n env handles stepped in one call, with same-step autoreset.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "fewshot/vecenv.h"

struct fewshot_vecenv {
    size_t n, obs_dim, act_dim;
    fewshot_env **envs;
    json_t *options;            /* reset options, or NULL */
    uint64_t first_seed;        /* seed of the first episode since the last reset */
    uint64_t next_seed;         /* seed of the next episode to start */
    size_t episodes;            /* finished since the last reset */
    int have_reset;
};

int fewshot_vecenv_new(fewshot_vecenv **out, const char *name, const json_t *params, size_t n)
{
    *out = NULL;
    if (n == 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "a vector environment needs at least one "
                                 "instance");
    fewshot_vecenv *vec = calloc(1, sizeof *vec);
    if (!vec || !(vec->envs = calloc(n, sizeof *vec->envs))) {
        free(vec);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    vec->n = n;
    for (size_t i = 0; i < n; i++) {
        int rc = fewshot_env_new(&vec->envs[i], name, params);
        if (rc) {
            fewshot_vecenv_free(vec);
            return rc;
        }
    }
    vec->obs_dim = fewshot_env_obs_space(vec->envs[0])->dim;
    vec->act_dim = fewshot_env_act_space(vec->envs[0])->dim;
    *out = vec;
    return 0;
}

void fewshot_vecenv_free(fewshot_vecenv *vec)
{
    if (!vec)
        return;
    for (size_t i = 0; i < vec->n; i++)
        fewshot_env_free(vec->envs[i]);
    free(vec->envs);
    json_decref(vec->options);
    free(vec);
}

size_t fewshot_vecenv_size(const fewshot_vecenv *vec)
{
    return vec->n;
}

fewshot_env *fewshot_vecenv_env(fewshot_vecenv *vec, size_t i)
{
    return i < vec->n ? vec->envs[i] : NULL;
}

size_t fewshot_vecenv_episodes(const fewshot_vecenv *vec)
{
    return vec->episodes;
}

/* An array of options is used in turn, so one training run covers several starting
 * conditions (days of the year, initial states) however many instances there are. */
static const json_t *options_of(const fewshot_vecenv *vec, uint64_t episode)
{
    if (!json_is_array(vec->options))
        return vec->options;
    size_t n = json_array_size(vec->options);
    return n ? json_array_get(vec->options, (size_t)(episode % n)) : NULL;
}

static int reset_one(fewshot_vecenv *vec, size_t i, double *obs)
{
    int rc = fewshot_env_reset(vec->envs[i], vec->next_seed,
                               options_of(vec, vec->next_seed - vec->first_seed), obs);
    if (rc) {
        fewshot_error_prefix("env %zu (seed %llu)", i, (unsigned long long)vec->next_seed);
        return rc;
    }
    vec->next_seed++;
    return 0;
}

int fewshot_vecenv_reset(fewshot_vecenv *vec, uint64_t seed, const json_t *options,
                         double *obs)
{
    json_decref(vec->options);
    vec->options = options ? json_deep_copy(options) : NULL;
    vec->next_seed = vec->first_seed = seed;
    vec->episodes = 0;
    vec->have_reset = 0;
    for (size_t i = 0; i < vec->n; i++) {
        int rc = reset_one(vec, i, obs ? obs + i * vec->obs_dim : NULL);
        if (rc)
            return rc;
    }
    vec->have_reset = 1;
    return 0;
}

int fewshot_vecenv_step(fewshot_vecenv *vec, const double *actions, double *obs,
                        double *rewards, int *done, int *truncated, double *final_obs)
{
    if (!vec->have_reset)
        return fewshot_error_set(FEWSHOT_EINVAL, "vector environment: step() before reset()");
    for (size_t i = 0; i < vec->n; i++) {
        double *o = obs + i * vec->obs_dim;
        double terms[FEWSHOT_STEP_TERMS_MAX];  /* reward terms as numbers: no JSON made */
        fewshot_step step = {.obs = o};
        int rc = fewshot_env_step_terms(vec->envs[i], actions + i * vec->act_dim, &step, terms);
        if (rc) {
            fewshot_error_prefix("env %zu", i);
            return rc;
        }
        json_decref(step.terms);
        rewards[i] = step.reward;
        done[i] = step.done;
        truncated[i] = step.truncated;
        if (final_obs)
            memcpy(final_obs + i * vec->obs_dim, o, vec->obs_dim * sizeof *o);
        if (step.done || step.truncated) {
            vec->episodes++;
            if ((rc = reset_one(vec, i, o)) != 0)
                return rc;
        }
    }
    return 0;
}
