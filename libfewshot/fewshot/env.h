/*
 * libfewshot: environments: the plugin registry, the loader and env handles.
 *
 * Plugins are found by name in, in order: the directories of $FEWSHOT_PLUGIN_PATH
 * (colon-separated), the directories added with fewshot_env_path_add(), and the installed
 * plugin directory. A name containing '/' is opened as a file path. Environments
 * registered in-process with fewshot_env_register() are found before any file.
 *
 * Thread-safety: the registry is protected by a lock; an env handle must be used by one
 * thread at a time, distinct handles may be used concurrently.
 */
#ifndef FEWSHOT_ENV_H
#define FEWSHOT_ENV_H

#include <jansson.h>
#include "fewshot/common.h"
#include "fewshot/plugin.h"
#include "fewshot/space.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_env fewshot_env;

/* Register an in-process environment. Its table must outlive the process's use of it.
 * FEWSHOT_EEXISTS when the name is taken, FEWSHOT_EPLUGIN when the table is invalid. */
FEWSHOT_EXTERN(int) fewshot_env_register(const fewshot_env_plugin *plugin);

/* Search `dir` for plugins after $FEWSHOT_PLUGIN_PATH, before the installed directory. */
FEWSHOT_EXTERN(int) fewshot_env_path_add(const char *dir);

/* The installed plugin directory. */
FEWSHOT_EXTERN(const char *) fewshot_env_plugin_dir(void);

/* Find (loading if needed) the plugin `name`. */
FEWSHOT_EXTERN(int) fewshot_env_plugin_find(const fewshot_env_plugin **out, const char *name);

/* The file a plugin was loaded from, or "(built-in)" for registered ones. */
FEWSHOT_EXTERN(const char *) fewshot_env_plugin_file(const fewshot_env_plugin *plugin);

/* Load every plugin on the search path. Returns a JSON array of
 * {"name", "summary", "version", "file"} (new reference) in *out; plugins that fail to load
 * are listed with an "error" member instead of stopping the scan. */
FEWSHOT_EXTERN(int) fewshot_env_plugin_list(json_t **out);

/* The plugin's parameter description (its params_doc parsed), as a new reference. */
FEWSHOT_EXTERN(int) fewshot_env_plugin_params_doc(const fewshot_env_plugin *plugin, json_t **out);

/* Create an environment from a plugin name and parameters (a JSON object or NULL). Unknown
 * parameter names and wrong types are refused with the parameter named. */
FEWSHOT_EXTERN(int) fewshot_env_new(fewshot_env **out, const char *name, const json_t *params);
FEWSHOT_EXTERN(void) fewshot_env_free(fewshot_env *env);

FEWSHOT_EXTERN(const fewshot_env_plugin *) fewshot_env_plugin_of(const fewshot_env *env);
FEWSHOT_EXTERN(const fewshot_space *) fewshot_env_obs_space(const fewshot_env *env);
FEWSHOT_EXTERN(const fewshot_space *) fewshot_env_act_space(const fewshot_env *env);

/* The resolved parameters (defaults filled in), a new reference. */
FEWSHOT_EXTERN(int) fewshot_env_params(fewshot_env *env, json_t **out);

/* Start an episode; obs (obs dim) receives the first observation and may be NULL. */
FEWSHOT_EXTERN(int) fewshot_env_reset(fewshot_env *env, uint64_t seed, const json_t *options,
                                      double *obs);

/* Apply an action. out->obs may be NULL (the handle keeps the latest observation). NaN or
 * infinite actions, observations and reward terms are refused with the element named. After
 * done or truncated, reset before stepping again. The reward terms come as a JSON object in
 * out->terms (a new reference, to be released; NULL when the plugin has none);
 * out->term_values is neither read nor written. */
FEWSHOT_EXTERN(int) fewshot_env_step(fewshot_env *env, const double *action, fewshot_step *out);

/* The same with the reward terms as numbers, no JSON made: terms (at least as many elements
 * as fewshot_env_term_names() lists) gets one value per name, and out->terms stays NULL,
 * for a plugin that declares term_names; a plugin that does not still returns JSON in
 * out->terms. */
FEWSHOT_EXTERN(int) fewshot_env_step_terms(fewshot_env *env, const double *action,
                                           fewshot_step *out, double *terms);

/* The names of the reward terms step() reports, NULL-terminated (never NULL; empty when the
 * plugin declares none), in the order of fewshot_env_step_terms()' values; *n (may be NULL)
 * gets their number. */
FEWSHOT_EXTERN(const char *const *) fewshot_env_term_names(const fewshot_env *env, size_t *n);

/* The latest observation (after reset or step), or NULL before the first reset. */
FEWSHOT_EXTERN(const double *) fewshot_env_obs(const fewshot_env *env);

/* Steps taken since the last reset. */
FEWSHOT_EXTERN(size_t) fewshot_env_steps(const fewshot_env *env);

/* Translator context of obs (NULL: the latest observation), a new reference. */
FEWSHOT_EXTERN(int) fewshot_env_context(fewshot_env *env, const double *obs, json_t **ctx);

/* Fixed-size features of obs (NULL: the latest observation). */
FEWSHOT_EXTERN(int) fewshot_env_features(fewshot_env *env, const double *obs, float *out,
                                         size_t cap, size_t *dim);

/* The names of the features, NULL-terminated (never NULL; empty when the plugin does not
 * name them); *n (may be NULL) gets their number. */
FEWSHOT_EXTERN(const char *const *) fewshot_env_feature_names(const fewshot_env *env, size_t *n);

/* The NULL-terminated list of the plugin's policies (never NULL; may be empty). */
FEWSHOT_EXTERN(const char *const *) fewshot_env_policies(const fewshot_env *env);

/* Act with the plugin's policy `name` ("expert" = its first policy). FEWSHOT_ENOTFOUND
 * when the plugin has no such policy. */
FEWSHOT_EXTERN(int) fewshot_env_policy(fewshot_env *env, const char *name, const double *obs,
                                       double *action);

/* The plugin's default template for a prompt component, or NULL. */
FEWSHOT_EXTERN(const char *) fewshot_env_template(fewshot_env *env, const char *component);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_ENV_H */
