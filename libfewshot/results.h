/*
 * Internal: the results database of a run directory (results.sqlite, WAL). Episodes are
 * written with their steps in one transaction, so a killed sweep loses only the episodes in
 * flight. Not installed.
 */
#ifndef FEWSHOT_RESULTS_H
#define FEWSHOT_RESULTS_H

#include <jansson.h>
#include "internal.h"

typedef struct fewshot__results fewshot__results;

/* Open (create = 1: create the directory and database when missing) RUN_DIR/results.sqlite.
 * With hash non-NULL: a new database records hash and config; an existing one must hold
 * the same hash, or FEWSHOT_EMISMATCH says what differs. */
FEWSHOT_HIDDEN int fewshot__results_open(fewshot__results **out, const char *dir, int create,
                                         const char *hash, const json_t *config);
/* Open RUN_DIR/results.sqlite for reading only, writing nothing beside it (works on a
 * read-only directory). */
FEWSHOT_HIDDEN int fewshot__results_open_read(fewshot__results **out, const char *dir);
/* 1 when the database was read without its non-empty write-ahead log (a killed sweep's run
 * directory that is read-only here): episodes committed after the last checkpoint are not
 * seen. */
FEWSHOT_HIDDEN int fewshot__results_partial(const fewshot__results *r);
FEWSHOT_HIDDEN void fewshot__results_close(fewshot__results *r);

/* The run's recorded config hash and resolved config (borrowed strings / new reference). */
FEWSHOT_HIDDEN const char *fewshot__results_hash(const fewshot__results *r);
FEWSHOT_HIDDEN int fewshot__results_config(fewshot__results *r, json_t **out);

/* A key of the run table (new reference, NULL when absent) and its setter. */
FEWSHOT_HIDDEN json_t *fewshot__results_meta(fewshot__results *r, const char *key);
FEWSHOT_HIDDEN int fewshot__results_set_meta(fewshot__results *r, const char *key,
                                             const json_t *value);

/* Ids of episodes finished successfully, as a JSON object used as a set (new reference). */
FEWSHOT_HIDDEN int fewshot__results_finished(fewshot__results *r, json_t **out);

/* Per-step vectors kept outside the step objects: row i of obs (obs_dim doubles) and of
 * action (act_dim doubles) belong to step i, for i < n. */
typedef struct fewshot__results_vectors {
    const double *obs, *action;
    size_t obs_dim, act_dim, n;
} fewshot__results_vectors;

/* Store one episode and its steps in one transaction, replacing an earlier attempt.
 * episode: {"id", "ord", "arm", "scenario", "seed", "status", "steps", "reward", "terms",
 *           "llm_calls", "prompt_tokens", "completion_tokens", "cost", "parse_failures",
 *           "cache_hits", "error", "seconds", "demos_distinct", "demos_agreement"}
 * steps: array of {"t", "obs", "action", "reward", "terms", "prompt_hash", "reply", "demos",
 *        "parse", "prompt_tokens", "completion_tokens", "latency", "cache_hit",
 *        "demos_distinct", "demos_agreement", "demos_distance"}
 * A step without "obs" or "action" takes it from vec (may be NULL); those are stored as BLOBs
 * of little-endian doubles, and read back by fewshot__results_steps as arrays of numbers. */
FEWSHOT_HIDDEN int fewshot__results_store(fewshot__results *r, const json_t *episode,
                                          const json_t *steps,
                                          const fewshot__results_vectors *vec);

/* All episodes in plan order (array of objects shaped as above, without steps). */
FEWSHOT_HIDDEN int fewshot__results_episodes(fewshot__results *r, json_t **out);

/* The steps of one episode in order. */
FEWSHOT_HIDDEN int fewshot__results_steps(fewshot__results *r, const char *episode,
                                          json_t **out);

/* Copy the successful episodes of the run in dir into r (merge). */
FEWSHOT_HIDDEN int fewshot__results_import(fewshot__results *r, const char *dir,
                                           size_t *copied);

/* Take the run directory's lock (RUN_DIR/lock, flock) for this process: FEWSHOT_EAGAIN
 * naming the holder's pid when another sweep has it. Release with fewshot__run_unlock. */
FEWSHOT_HIDDEN int fewshot__run_lock(const char *dir, int *fd);
FEWSHOT_HIDDEN void fewshot__run_unlock(int fd);

#endif
