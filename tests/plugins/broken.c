/*
 * Deliberately broken plugins, one per BROKEN_* define, so tests can prove the loader and the
 * env handle turn each fault into a clear error:
 *   BROKEN_NOSYM       exports no entry symbol
 *   BROKEN_ABI         reports a future ABI version
 *   BROKEN_CREATE      create() fails with a message
 *   BROKEN_NAN         the observation after the first step holds a NaN
 *   BROKEN_CRASH       crashes: SIGSEGV in step 2 of seed 2, abort() in step 1 of seed 3,
 *                      SIGSEGV in the Nth create() of the process with FEWSHOT_CRASHY_CREATE=N;
 *                      other episodes end after 3 steps with reward 1 per step
 *   BROKEN_BOUNDS      an observation space whose low bound is above its high bound
 *   BROKEN_OUTSIDE     the observation after the first step lies outside the space
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <fewshot/plugin.h>

static const double lo[] = {-1}, hi[] = {1};
#ifdef BROKEN_BOUNDS
static const double obs_lo[] = {1}, obs_hi[] = {-1};
#else
#define obs_lo lo
#define obs_hi hi
#endif

typedef struct state {
    uint64_t seed;
    int t;
} state;

/* a real invalid write, as a plugin bug would make, not a raise(); UBSan would stop the
 * process at the store itself, before the fault the test is about */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((no_sanitize("undefined")))
#endif
static void crash(void)
{
    volatile int *nowhere = NULL;
    *nowhere = 1;
}

static int b_create(void **self, const json_t *params)
{
#ifdef BROKEN_CREATE
    return fewshot_error_set(FEWSHOT_EINVAL, "failcreate: the test plugin always refuses");
#else
#ifdef BROKEN_CRASH
    static int created;
    const char *n = getenv("FEWSHOT_CRASHY_CREATE");
    if (n && ++created == atoi(n))
        crash();
#endif
    *self = calloc(1, sizeof(state));
    return 0;
#endif
}

static void b_destroy(void *self)
{
    free(self);
}

static int b_spaces(void *self, fewshot_space *obs, fewshot_space *act)
{
    *obs = (fewshot_space){1, obs_lo, obs_hi, 0, NULL};
    *act = (fewshot_space){1, lo, hi, 0, NULL};
    return 0;
}

static int b_reset(void *self, uint64_t seed, const json_t *options, double *obs)
{
    state *st = self;
    st->seed = seed;
    st->t = 0;
    obs[0] = 0;
    return 0;
}

static int b_step(void *self, const double *action, fewshot_step *out)
{
    state *st = self;
    st->t++;
#if defined BROKEN_CRASH
    if (st->seed == 2 && st->t == 2)
        crash();
    if (st->seed == 3 && st->t == 1)
        abort();
    out->obs[0] = 0;
    out->reward = 1;
    out->done = st->t >= 3;
#elif defined BROKEN_OUTSIDE
    out->obs[0] = 5;        /* the space is [-1, 1] */
    out->reward = 0;
#else
    out->obs[0] = NAN;
    out->reward = 0;
#endif
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
