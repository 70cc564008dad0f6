/*
 * libfewshot: the environment plugin ABI, for plugin authors.
 *
 * A plugin is a shared module NAME.so (libtool: -module -avoid-version) that exports one
 * symbol, fewshot_env_plugin_entry, returning a constant table of function pointers. The
 * table starts with its ABI version, which the loader checks, and ends with reserved slots
 * that must be NULL, so the ABI can grow without breaking compiled plugins.
 *
 * Every function returns 0 or a negative FEWSHOT_E* code after recording the reason with
 * fewshot_error_set() (from <fewshot/error.h>); the message reaches fewshot_error_last()
 * and the command line unchanged.
 *
 * See fewshot-plugin(7) for a walk-through.
 */
#ifndef FEWSHOT_PLUGIN_H
#define FEWSHOT_PLUGIN_H

#include <jansson.h>
#include "fewshot/common.h"
#include "fewshot/error.h"
#include "fewshot/space.h"

FEWSHOT_BEGIN_DECLS

/* Bumped whenever the table below changes incompatibly. */
#define FEWSHOT_PLUGIN_ABI 1

/* The most reward terms a plugin may declare in term_names. */
#define FEWSHOT_STEP_TERMS_MAX 32

/* What one step returns. The caller provides obs (obs space dim); the plugin fills it.
 *
 * Reward terms travel as numbers: a plugin declares their names once (term_names in its
 * table) and writes one value per name into term_values at every step; JSON is made only at
 * the edges: fewshot_env_step_terms() hands the numbers on, fewshot_env_step() makes the JSON
 * object {name: value, ...} in declaration order for its callers, as before. */
typedef struct fewshot_step {
    double *obs;        /* out: next observation (caller-owned buffer) */
    double reward;      /* out: reward of this step */
    json_t *terms;      /* out: reward terms as a JSON object (new reference) or NULL; a
                         * plugin sets it only when it declares no term_names */
    int done;           /* out: the episode ended (terminal state) */
    int truncated;      /* out: the episode was cut off (time limit) */
    double *term_values;/* in, for plugins: where step() writes the value of each of its
                         * term_names (set by the library; callers of fewshot_env_step*()
                         * leave it alone) */
} fewshot_step;

typedef struct fewshot_env_plugin {
    unsigned int abi;           /* FEWSHOT_PLUGIN_ABI */
    const char *name;           /* short name, e.g. "hvac"; equals the module's file name */
    const char *summary;        /* one line for `fewshot env list` */
    const char *version;        /* the plugin's own version, recorded with demonstrations */

    /* JSON object describing parameters:
     *   {"params": {"NAME": {"type": "number|integer|string|boolean|array|object|any",
     *                        "default": VALUE, "doc": "..."}, ...},
     *    "scenarios": [...]}      (scenarios optional: named parameter sets)
     * The library refuses unknown parameter names and wrong JSON types before create(). */
    const char *params_doc;

    /* Build an instance from parameters (a JSON object, never NULL). */
    int (*create)(void **self, const json_t *params);
    void (*destroy)(void *self);

    /* Spaces stay valid and unchanged until destroy(). */
    int (*spaces)(void *self, fewshot_space *obs, fewshot_space *act);

    /* The resolved parameters of this instance (defaults filled in), as a new reference. */
    int (*params)(void *self, json_t **out);

    /* Start an episode. options: reset options or NULL. Writes the first observation. */
    int (*reset)(void *self, uint64_t seed, const json_t *options, double *obs);

    /* Apply one action (act space dim, finite: the library checks) and advance. */
    int (*step)(void *self, const double *action, fewshot_step *out);

    /* A JSON object describing observation obs for translators and templates. */
    int (*context)(void *self, const double *obs, json_t **ctx);

    /* A fixed-size feature vector of obs, independent of the number of rooms or items so
     * demonstrations transfer across scenarios. Writes at most cap values, sets *dim. */
    int (*features)(void *self, const double *obs, float *out, size_t cap, size_t *dim);

    /* Named policies the plugin provides (NULL-terminated; the first is the default
     * "expert"), or NULL when it has none. */
    const char *const *policies;

    /* Act with policy `name` (one of `policies`, or "expert" for the first) on obs. */
    int (*policy)(void *self, const char *name, const double *obs, double *action);

    /* Default Mustache template text for a prompt component ("objective", "meta",
     * "instruction", "state", "action", "feedback", ...) or NULL when the plugin has none. */
    const char *(*template_text)(void *self, const char *component);

    /* Names of the reward terms (NULL-terminated, at most FEWSHOT_STEP_TERMS_MAX, distinct),
     * or NULL: step() then writes out->term_values[i] for name i instead of building JSON.
     * Added in a former reserved slot: plugins built before it leave it NULL and may still
     * return terms as JSON. */
    const char *const *term_names;

    /* Names of the features() elements (NULL-terminated, distinct), or NULL when the plugin
     * does not name them. A plugin that names them returns exactly that many features.
     * Added in a former reserved slot, like term_names. */
    const char *const *feature_names;

    void *reserved[6];          /* must be NULL */
} fewshot_env_plugin;

/* The one symbol a plugin module exports. */
typedef const fewshot_env_plugin *(*fewshot_env_plugin_entry_fn)(void);
#define FEWSHOT_ENV_PLUGIN_ENTRY "fewshot_env_plugin_entry"

FEWSHOT_END_DECLS

#endif /* FEWSHOT_PLUGIN_H */
