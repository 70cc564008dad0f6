/*
 * libfewshot: sweep configurations, the JSON documents of fewshot-config(5).
 *
 * A config names an environment and its scenarios, the demonstrations, the embedding, the
 * selection, the prompt, the parser, the LLM endpoint, the arms (named variants of those
 * sections), a design that generates arms (grid, one-at-a-time, leave-one-out), baselines and
 * the episodes (seeds, steps, reset options). Loading validates it strictly: unknown keys and
 * wrong types are FEWSHOT_EINVAL naming the JSON path ("$.selection.knn"); JSON syntax errors
 * are FEWSHOT_EPARSE with the file, line and column.
 *
 * The resolved document (defaults filled in, overrides applied, relative file names made
 * absolute) is what a run directory records; its hash identifies the run. Loading a resolved
 * document again gives the same document and the same hash.
 *
 * Thread-safety: a config must not be modified while another thread reads it.
 */
#ifndef FEWSHOT_CONFIG_H
#define FEWSHOT_CONFIG_H

#include <jansson.h>
#include "fewshot/common.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_config fewshot_config;

/* Load and validate the config file at path. */
FEWSHOT_EXTERN(int) fewshot_config_load(fewshot_config **out, const char *path);

/* Validate a config given as JSON text; name is used in messages and to resolve relative
 * file names (its directory), and may be NULL (then the current directory is used). */
FEWSHOT_EXTERN(int) fewshot_config_parse(fewshot_config **out, const char *text,
                                         const char *name);

FEWSHOT_EXTERN(void) fewshot_config_free(fewshot_config *cfg);

/* Override one value: "key.path=value", value parsed as JSON when it parses and as a string
 * otherwise; missing objects on the path are created, array elements are named by index
 * ("arms.0.name=x"). The config is validated again; on error it is left unchanged. */
FEWSHOT_EXTERN(int) fewshot_config_set(fewshot_config *cfg, const char *assignment);

/* The resolved document (borrowed; valid until the next fewshot_config_set or free). */
FEWSHOT_EXTERN(const json_t *) fewshot_config_json(const fewshot_config *cfg);

/* A run's identity: hex SHA-256 of the canonical resolved document (sorted keys, compact)
 * without the settings that change how a run executes or is reported, not what it computes
 * (llm api_key_env, concurrency, rpm, tpm, timeouts, retries, cache, stream, context; demos
 * jobs; the report section). */
FEWSHOT_EXTERN(const char *) fewshot_config_hash(const fewshot_config *cfg);

/* The file the config came from, or "(config)". */
FEWSHOT_EXTERN(const char *) fewshot_config_file(const fewshot_config *cfg);

/* The expanded arms in order (design arms, explicit arms, then baselines), a borrowed JSON
 * array of objects:
 *   {"name": "...", "kind": "llm" | "policy" | "knn-imitation",
 *    "policy": "zero" (policy arms only),
 *    "demos": {...}, "embedding": {...}, "selection": {...}, "prompt": {...},
 *    "parse": {...}, "llm": {...}}      (the arm's sections after its overrides) */
FEWSHOT_EXTERN(const json_t *) fewshot_config_arms(const fewshot_config *cfg);

/* The expanded scenarios in order, a borrowed JSON array of
 *   {"name": "...", "params": {env params with the scenario's overrides}, "reset": {...}} */
FEWSHOT_EXTERN(const json_t *) fewshot_config_scenarios(const fewshot_config *cfg);

/* The episode seeds in order, a borrowed JSON array of integers. */
FEWSHOT_EXTERN(const json_t *) fewshot_config_seeds(const fewshot_config *cfg);

/* The arm the report compares the others with. */
FEWSHOT_EXTERN(const char *) fewshot_config_reference(const fewshot_config *cfg);

/* Write the resolved document to path (pretty-printed, keys sorted). */
FEWSHOT_EXTERN(int) fewshot_config_write(const fewshot_config *cfg, const char *path);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_CONFIG_H */
