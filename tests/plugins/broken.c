/*
 * Deliberately broken plugins, one per BROKEN_* define, so tests can prove the loader and the
 * env handle turn each fault into a clear error:
 *   BROKEN_NOSYM       exports no entry symbol
 *   BROKEN_ABI         reports a future ABI version
 *   BROKEN_CREATE      create() fails with a message
 *   BROKEN_NAN         the observation after the first step holds a NaN
 */
#include <math.h>
#include <stdlib.h>

#include <fewshot/plugin.h>

static const double lo[] = {-1}, hi[] = {1};

static int b_create(void **self, const json_t *params)
{
#ifdef BROKEN_CREATE
    return fewshot_error_set(FEWSHOT_EINVAL, "failcreate: the test plugin always refuses");
#else
    *self = malloc(1);
    return 0;
#endif
}

static void b_destroy(void *self)
{
    free(self);
}

static int b_spaces(void *self, fewshot_space *obs, fewshot_space *act)
{
    *obs = (fewshot_space){1, lo, hi, 0, NULL};
    *act = (fewshot_space){1, lo, hi, 0, NULL};
    return 0;
}

static int b_reset(void *self, uint64_t seed, const json_t *options, double *obs)
{
    obs[0] = 0;
    return 0;
}

static int b_step(void *self, const double *action, fewshot_step *out)
{
    out->obs[0] = NAN;
    out->reward = 0;
    return 0;
}

static const fewshot_env_plugin table = {
#ifdef BROKEN_ABI
    .abi = FEWSHOT_PLUGIN_ABI + 41,
#else
    .abi = FEWSHOT_PLUGIN_ABI,
#endif
    .name = BROKEN_NAME,
    .summary = "a deliberately broken plugin",
    .version = "0",
    .create = b_create,
    .destroy = b_destroy,
    .spaces = b_spaces,
    .reset = b_reset,
    .step = b_step,
};

#ifndef BROKEN_NOSYM
const fewshot_env_plugin *fewshot_env_plugin_entry(void);
const fewshot_env_plugin *fewshot_env_plugin_entry(void)
{
    return &table;
}
#else
const fewshot_env_plugin *not_the_entry(void);
const fewshot_env_plugin *not_the_entry(void)
{
    return &table;
}
#endif
