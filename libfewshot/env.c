/*
 * Environment handles: one plugin instance plus the buffers and checks the library wraps
 * around it (finite actions in, finite observations out, reset before step).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "fewshot/env.h"
#include "fewshot/error.h"
#include "internal.h"
#include "plugin_guard.h"

struct fewshot_env {
    const fewshot_env_plugin *plugin;
    void *self;
    fewshot_space obs_space, act_space;
    double *obs;            /* latest observation */
    double *scratch;        /* next observation while a step is checked */
    int have_obs;           /* reset has run */
    int finished;           /* done or truncated since the last reset */
    size_t steps;
    size_t n_terms;         /* the plugin's term_names */
    double *terms;          /* term values of a step whose caller wants JSON */
    int crashed;            /* the signal a plugin call died of; the handle is then dead */
};

/* A plugin call ended by a signal (plugin_guard.c): the instance's state is unknown, so the
 * handle is abandoned (destroy() is never called on it) and every later call fails. */
static int crashed(fewshot_env *env, const char *fn, int sig)
{
    if (env)
        env->crashed = sig;
    fewshot_error_clear();
    return fewshot_error_set(FEWSHOT_EPLUGIN, "plugin %s crashed in %s() with signal %d (%s)",
                             env ? env->plugin->name : "?", fn, sig,
                             fewshot__guard_signame(sig));
}

static int dead(const fewshot_env *env)
{
    return fewshot_error_set(FEWSHOT_EPLUGIN, "plugin %s: this environment is abandoned: a call "
                             "crashed with signal %d (%s)", env->plugin->name, env->crashed,
                             fewshot__guard_signame(env->crashed));
}

int fewshot__env_crashed(const fewshot_env *env)
{
    return env ? env->crashed : 0;
}

/* the signal the last fewshot_env_new() of this thread died of in create() or spaces() */
static _Thread_local int create_crash;

int fewshot__env_new_crashed(void)
{
    return create_crash;
}

static const char *const no_policies[] = {NULL};
static void bury(void *self);

/* Bounds a plugin reports are its word about every vector it will return or accept: NaN or
 * low > high would make clipping, checks and prompts meaningless. */
static int check_space(const fewshot_env *env, const fewshot_space *sp, const char *what)
{
    for (size_t i = 0; i < sp->dim; i++) {
        double lo = sp->low ? sp->low[i] : -INFINITY, hi = sp->high ? sp->high[i] : INFINITY;
        const char *name = fewshot_space_name(sp, i);
        if (isnan(lo) || isnan(hi) || lo > hi)
            return fewshot_error_set(FEWSHOT_EPLUGIN, "plugin %s: spaces() reported %s element "
                                     "%zu%s%s%s with bounds [%g, %g]: expected low <= high, "
                                     "neither NaN", env->plugin->name, what, i,
                                     name ? " (" : "", name ? name : "", name ? ")" : "", lo, hi);
    }
    return 0;
}

int fewshot_env_new(fewshot_env **out, const char *name, const json_t *params)
{
    const fewshot_env_plugin *plugin;
    json_t *resolved = NULL;
    int rc;

    *out = NULL;
    create_crash = 0;
    if ((rc = fewshot_env_plugin_find(&plugin, name)) != 0)
        return rc;
    if ((rc = fewshot__params_resolve(plugin->name, plugin->params_doc, params, &resolved)) != 0)
        return rc;

    fewshot_env *env = calloc(1, sizeof *env);
    if (!env) {
        json_decref(resolved);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    env->plugin = plugin;
    fewshot_error_clear();
    fewshot__guard_frame g;
    GUARD_CALL(g, rc = plugin->create(&env->self, resolved));
    json_decref(resolved);
    if (g.sig) {
        rc = crashed(env, "create", g.sig);
        create_crash = g.sig;
        free(env);      /* what create() had made is lost with it */
        return rc;
    }
    if (rc) {
        if (fewshot_error_last()->code == 0)
            fewshot_error_set(rc, "%s: create() failed (%d) without saying why", plugin->name, rc);
        free(env);
        return rc < 0 ? rc : FEWSHOT_EPLUGIN;
    }
    GUARD_CALL(g, rc = plugin->spaces(env->self, &env->obs_space, &env->act_space));
    if (g.sig) {
        rc = crashed(env, "spaces", g.sig);
        create_crash = g.sig;
        bury(env->self);
        free(env);
        return rc;
    }
    if (rc)
        goto fail;
    if (env->obs_space.dim == 0 || env->act_space.dim == 0) {
        rc = fewshot_error_set(FEWSHOT_EPLUGIN, "%s: spaces() reported an empty observation or "
                               "action space", plugin->name);
        goto fail;
    }
    if ((rc = check_space(env, &env->obs_space, "observation")) != 0 ||
        (rc = check_space(env, &env->act_space, "action")) != 0)
        goto fail;
    env->obs = calloc(env->obs_space.dim, sizeof *env->obs);
    env->scratch = calloc(env->obs_space.dim, sizeof *env->scratch);
    while (plugin->term_names && plugin->term_names[env->n_terms])
        env->n_terms++;
    env->terms = calloc(env->n_terms + 1, sizeof *env->terms);
    if (!env->obs || !env->scratch || !env->terms) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        goto fail;
    }
    *out = env;
    return 0;
fail:
    fewshot_env_free(env);
    return rc;
}

/* Instances whose plugin crashed: their state is unknown, so destroy() is never called, but
 * they stay reachable here (leak checkers see an abandoned instance, not a lost one). */
static void **graveyard;
static size_t graveyard_n, graveyard_cap;
static pthread_mutex_t graveyard_lock = PTHREAD_MUTEX_INITIALIZER;

static void bury(void *self)
{
    pthread_mutex_lock(&graveyard_lock);
    if (graveyard_n == graveyard_cap) {
        size_t cap = graveyard_cap ? graveyard_cap * 2 : 16;
        void **g = realloc(graveyard, cap * sizeof *g);
        if (g) {
            graveyard = g;
            graveyard_cap = cap;
        }
    }
    if (graveyard_n < graveyard_cap)
        graveyard[graveyard_n++] = self;
    pthread_mutex_unlock(&graveyard_lock);
}

void fewshot_env_free(fewshot_env *env)
{
    if (!env)
        return;
    if (env->self && env->crashed)
        bury(env->self);
    else if (env->self)
        env->plugin->destroy(env->self);
    free(env->obs);
    free(env->scratch);
    free(env->terms);
    free(env);
}

static size_t count_names(const char *const *names)
{
    size_t n = 0;
    while (names && names[n])
        n++;
    return n;
}

const char *const *fewshot_env_feature_names(const fewshot_env *env, size_t *n)
{
    size_t count = count_names(env->plugin->feature_names);
    if (n)
        *n = count;
    return count ? env->plugin->feature_names : no_policies;
}

const char *const *fewshot_env_term_names(const fewshot_env *env, size_t *n)
{
    if (n)
        *n = env->n_terms;
    return env->n_terms ? env->plugin->term_names : no_policies;
}

/* The edge where numbers become JSON, for callers of the JSON interface. */
static json_t *terms_json(const fewshot_env *env, const double *values)
{
    json_t *obj = json_object();
    for (size_t i = 0; obj && i < env->n_terms; i++)
        if (json_object_set_new(obj, env->plugin->term_names[i], json_real(values[i])) != 0) {
            json_decref(obj);
            obj = NULL;
        }
    if (!obj)
        fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    return obj;
}

const fewshot_env_plugin *fewshot_env_plugin_of(const fewshot_env *env)
{
    return env->plugin;
}

const fewshot_space *fewshot_env_obs_space(const fewshot_env *env)
{
    return &env->obs_space;
}

const fewshot_space *fewshot_env_act_space(const fewshot_env *env)
{
    return &env->act_space;
}

int fewshot_env_params(fewshot_env *env, json_t **out)
{
    *out = NULL;
    if (!env->plugin->params)
        return fewshot_error_set(FEWSHOT_EUNSUPPORTED, "%s: the plugin does not report its "
                                 "parameters", env->plugin->name);
    if (env->crashed)
        return dead(env);
    fewshot__guard_frame g;
    volatile int rc = 0;     /* volatile: set between sigsetjmp and a possible jump */
    GUARD_CALL(g, rc = env->plugin->params(env->self, out));
    return g.sig ? crashed(env, "params", g.sig) : rc;
}

/* A plugin that returns a failure code without a message still gets a useful error. */
static int plugin_failed(const fewshot_env *env, const char *fn, int rc)
{
    if (fewshot_error_last()->code == 0)
        fewshot_error_set(FEWSHOT_EPLUGIN, "%s: %s() failed (%d) without saying why",
                          env->plugin->name, fn, rc);
    return rc < 0 ? rc : FEWSHOT_EPLUGIN;
}

static int check_observation(const fewshot_env *env, const double *obs, const char *fn)
{
    fewshot_space bounds = env->obs_space;
    bounds.integer = 0;     /* observations are checked for range, not integrality */
    if (fewshot_space_contains(&bounds, obs, "observation") == 0)
        return 0;
    fewshot_error_prefix("%s: %s() returned a bad observation", env->plugin->name, fn);
    return FEWSHOT_EPLUGIN;
}

int fewshot_env_reset(fewshot_env *env, uint64_t seed, const json_t *options, double *obs)
{
    if (env->crashed)
        return dead(env);
    fewshot_error_clear();
    fewshot__guard_frame g;
    volatile int rc = 0;     /* volatile: set between sigsetjmp and a possible jump */
    GUARD_CALL(g, rc = env->plugin->reset(env->self, seed, options, env->scratch));
    if (g.sig)
        return crashed(env, "reset", g.sig);
    if (rc)
        return plugin_failed(env, "reset", rc);
    if ((rc = check_observation(env, env->scratch, "reset")) != 0)
        return rc;
    memcpy(env->obs, env->scratch, env->obs_space.dim * sizeof *env->obs);
    if (obs)
        memcpy(obs, env->obs, env->obs_space.dim * sizeof *obs);
    env->have_obs = 1;
    env->finished = 0;
    env->steps = 0;
    return 0;
}

/* A step's term values must be finite, like its reward. */
static int check_terms(const fewshot_env *env, const double *values)
{
    for (size_t i = 0; i < env->n_terms; i++)
        if (!isfinite(values[i]))
            return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: step() returned a non-finite reward "
                                     "term '%s' (%g; step() must write every term_values[i] "
                                     "of its term_names)", env->plugin->name,
                                     env->plugin->term_names[i], values[i]);
    return 0;
}

/* values: where the caller takes the term values (fewshot_env_step_terms), or NULL for JSON.
 * Only the fields every fewshot_step has had are read from or written to *out, so programs
 * built against an older <fewshot/plugin.h> keep working. */
static int step(fewshot_env *env, const double *action, fewshot_step *out, double *values)
{
    fewshot_step step = {0};
    int rc;

    if (env->crashed)
        return dead(env);
    if (!env->have_obs)
        return fewshot_error_set(FEWSHOT_EINVAL, "%s: step() before reset()", env->plugin->name);
    if (env->finished)
        return fewshot_error_set(FEWSHOT_EINVAL, "%s: step() after the episode ended; reset() "
                                 "first", env->plugin->name);
    if ((rc = fewshot_space_check_finite(&env->act_space, action, "action")) != 0) {
        fewshot_error_prefix("%s", env->plugin->name);
        return rc;
    }
    int numbers = values != NULL;               /* the caller takes the terms as numbers */
    step.obs = env->scratch;
    step.term_values = env->n_terms ? (numbers ? values : env->terms) : NULL;
    for (size_t i = 0; i < env->n_terms; i++)
        step.term_values[i] = NAN;      /* a term the plugin forgets is refused, not stale */
    fewshot_error_clear();
    fewshot__guard_frame g;
    GUARD_CALL(g, rc = env->plugin->step(env->self, action, &step));
    if (g.sig)
        return crashed(env, "step", g.sig);     /* step.terms may be half made: leaked */
    if (rc != 0) {
        json_decref(step.terms);
        return plugin_failed(env, "step", rc);
    }
    if ((rc = check_observation(env, env->scratch, "step")) != 0 ||
        (rc = check_terms(env, step.term_values)) != 0) {
        json_decref(step.terms);
        return rc;
    }
    if (!isfinite(step.reward)) {
        json_decref(step.terms);
        return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: step() returned a non-finite reward (%g)",
                                 env->plugin->name, step.reward);
    }
    memcpy(env->obs, env->scratch, env->obs_space.dim * sizeof *env->obs);
    env->steps++;
    env->finished = step.done || step.truncated;
    if (env->n_terms && !numbers && out) {
        json_decref(step.terms);    /* a plugin with term_names has no JSON of its own */
        step.terms = NULL;
        if (!(step.terms = terms_json(env, env->terms))) {
            out->terms = NULL;
            return FEWSHOT_ENOMEM;
        }
    }
    if (out) {
        if (out->obs)
            memcpy(out->obs, env->obs, env->obs_space.dim * sizeof *out->obs);
        out->reward = step.reward;
        out->terms = step.terms;
        out->done = step.done;
        out->truncated = step.truncated;
    } else {
        json_decref(step.terms);
    }
    return 0;
}

int fewshot_env_step(fewshot_env *env, const double *action, fewshot_step *out)
{
    return step(env, action, out, NULL);
}

int fewshot_env_step_terms(fewshot_env *env, const double *action, fewshot_step *out,
                           double *terms)
{
    if (!terms)
        return fewshot_error_set(FEWSHOT_EINVAL, "%s: fewshot_env_step_terms() needs a buffer "
                                 "for the term values", env->plugin->name);
    return step(env, action, out, terms);
}

const double *fewshot_env_obs(const fewshot_env *env)
{
    return env->have_obs ? env->obs : NULL;
}

size_t fewshot_env_steps(const fewshot_env *env)
{
    return env->steps;
}

static const double *obs_or_latest(const fewshot_env *env, const double *obs)
{
    if (obs)
        return obs;
    if (!env->have_obs) {
        fewshot_error_set(FEWSHOT_EINVAL, "%s: no observation yet; reset() first",
                          env->plugin->name);
        return NULL;
    }
    return env->obs;
}

int fewshot_env_context(fewshot_env *env, const double *obs, json_t **ctx)
{
    *ctx = NULL;
    if (!env->plugin->context)
        return fewshot_error_set(FEWSHOT_EUNSUPPORTED, "%s: the plugin has no context()",
                                 env->plugin->name);
    if (env->crashed)
        return dead(env);
    const double *volatile o = obs_or_latest(env, obs);
    if (!o)
        return FEWSHOT_EINVAL;
    fewshot_error_clear();
    fewshot__guard_frame g;
    volatile int rc = 0;     /* volatile: set between sigsetjmp and a possible jump */
    GUARD_CALL(g, rc = env->plugin->context(env->self, o, ctx));
    if (g.sig) {
        *ctx = NULL;
        return crashed(env, "context", g.sig);
    }
    return rc ? plugin_failed(env, "context", rc) : 0;
}

int fewshot_env_features(fewshot_env *env, const double *obs, float *out, size_t cap,
                         size_t *dim)
{
    if (!env->plugin->features)
        return fewshot_error_set(FEWSHOT_EUNSUPPORTED, "%s: the plugin has no features()",
                                 env->plugin->name);
    if (env->crashed)
        return dead(env);
    const double *volatile o = obs_or_latest(env, obs);
    if (!o)
        return FEWSHOT_EINVAL;
    fewshot_error_clear();
    fewshot__guard_frame g;
    volatile int rc = 0;     /* volatile: set between sigsetjmp and a possible jump */
    GUARD_CALL(g, rc = env->plugin->features(env->self, o, out, cap, dim));
    if (g.sig)
        return crashed(env, "features", g.sig);
    if (rc)
        return plugin_failed(env, "features", rc);
    size_t named = count_names(env->plugin->feature_names);
    if (named && *dim != named)
        return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: features() returned %zu values but the "
                                 "plugin names %zu features", env->plugin->name, *dim, named);
    for (size_t i = 0; i < *dim && i < cap; i++)
        if (!isfinite(out[i]))
            return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: features() returned a non-finite "
                                     "value at element %zu", env->plugin->name, i);
    return 0;
}

const char *const *fewshot_env_policies(const fewshot_env *env)
{
    return env->plugin->policies ? env->plugin->policies : no_policies;
}

int fewshot_env_policy(fewshot_env *env, const char *name, const double *obs, double *action)
{
    const char *const *names = fewshot_env_policies(env);
    const char *chosen = NULL;
    if (!names[0])
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "%s: the plugin has no expert policy",
                                 env->plugin->name);
    if (!name || strcmp(name, "expert") == 0)
        chosen = names[0];
    for (size_t i = 0; !chosen && names[i]; i++)
        if (strcmp(names[i], name) == 0)
            chosen = names[i];
    if (!chosen) {
        char known[512] = "";
        size_t used = 0;
        for (size_t i = 0; names[i] && used < sizeof known; i++)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s",
                                     i ? ", " : "", names[i]);
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "%s: no policy '%s' (the plugin has: %s)",
                                 env->plugin->name, name, known);
    }
    if (env->crashed)
        return dead(env);
    const double *volatile o = obs_or_latest(env, obs);
    if (!o)
        return FEWSHOT_EINVAL;
    fewshot_error_clear();
    fewshot__guard_frame g;
    volatile int rc = 0;     /* volatile: set between sigsetjmp and a possible jump */
    GUARD_CALL(g, rc = env->plugin->policy(env->self, chosen, o, action));
    if (g.sig)
        return crashed(env, "policy", g.sig);
    if (rc)
        return plugin_failed(env, "policy", rc);
    if ((rc = fewshot_space_check_finite(&env->act_space, action, "action")) != 0) {
        fewshot_error_prefix("%s: policy '%s' returned a bad action", env->plugin->name, chosen);
        return FEWSHOT_EPLUGIN;
    }
    return 0;
}

const char *fewshot_env_template(fewshot_env *env, const char *component)
{
    if (!env->plugin->template_text || env->crashed)
        return NULL;
    fewshot__guard_frame g;
    const char *volatile text = NULL;
    GUARD_CALL(g, text = env->plugin->template_text(env->self, component));
    if (g.sig) {
        crashed(env, "template_text", g.sig);
        return NULL;
    }
    return text;
}
