/*
 * libfewshot: ablation sweeps.
 *
 * A sweep expands a config (<fewshot/config.h>) into episodes, one per arm, scenario and
 * seed, with stable ids "ARM/SCENARIO/SEED". Episodes are ordered seed by seed, scenario by
 * scenario, and round-robin over the arms inside, so a sweep stopped early is balanced; every
 * arm sees the same scenarios, seeds and initial states. One event loop runs many episodes at
 * once (each waits on its LLM call while the others step); baselines run in the same loop.
 *
 * Results go to RUN_DIR/results.sqlite, one transaction per episode: running the sweep again
 * on the same directory resumes it (finished episodes are kept), and a directory made by a
 * different config is refused. Shards (index I of N) run a deterministic subset; merging their
 * directories gives the same results as one unsharded run.
 *
 * Thread-safety: one sweep per thread; distinct run directories may be used concurrently.
 */
#ifndef FEWSHOT_SWEEP_H
#define FEWSHOT_SWEEP_H

#include <stdio.h>
#include <jansson.h>
#include "fewshot/common.h"
#include "fewshot/config.h"
#include "fewshot/demo.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_sweep_options {
    unsigned int version;       /* FEWSHOT_SWEEP_OPTIONS_VERSION */
    const char *run_dir;        /* where results go (created when missing) */
    unsigned int shard_index;   /* 1-based shard I of shard_count; 0 and 0: everything */
    unsigned int shard_count;
    unsigned int jobs;          /* episodes in flight; 0: the LLM concurrency, or 16 */
    int dry_run;                /* plan and check only: nothing is run or written */
    FILE *progress;             /* a terminal for the progress line, or NULL */
    FILE *log;                  /* messages (skipped arms, failures), or NULL */
    /* Version 2 and later. When non-NULL and *cancel turns nonzero (a signal handler sets
     * it), the sweep starts nothing new, drops the episodes in flight (they run again on
     * resume; every finished one is already committed) and returns FEWSHOT_EUSER, its
     * message saying how many episodes were kept, dropped and not started. */
    const volatile int *cancel;
} fewshot_sweep_options;

/* Version 1 (without cancel) is still accepted by fewshot_sweep_options_init and
 * fewshot_sweep_run, so callers built against it keep working. */
#define FEWSHOT_SWEEP_OPTIONS_VERSION 2
#define FEWSHOT_SWEEP_OPTIONS_INIT {FEWSHOT_SWEEP_OPTIONS_VERSION, NULL, 0, 0, 0, 0, NULL, NULL, \
                                    NULL}

FEWSHOT_EXTERN(int) fewshot_sweep_options_init(fewshot_sweep_options *opts,
                                               unsigned int version);

/* What a sweep did. */
typedef struct fewshot_sweep_result {
    size_t planned;             /* episodes of this shard, skipped arms included */
    size_t already_done;        /* finished before this run (resume) */
    size_t ran;                 /* finished now */
    size_t failed;              /* ended with an error (rerun on resume) */
    size_t stopped;             /* not run: their arm stopped after its first 3 episodes
                                   failed (rerun on resume) */
    size_t skipped;             /* episodes of skipped arms */
    size_t skipped_arms;
    long long prompt_tokens, completion_tokens;
    double cost;
    double seconds;
} fewshot_sweep_result;

/* The episodes of a shard (shard_count 0: all), in run order: a new JSON array of
 * {"id", "ord", "arm", "arm_index", "scenario", "scenario_index", "seed"}. */
FEWSHOT_EXTERN(int) fewshot_sweep_plan(const fewshot_config *cfg, unsigned int shard_index,
                                       unsigned int shard_count, json_t **out);

/* Why an arm cannot run here (e.g. no LLM endpoint configured), as a new string naming the
 * setting to change, or NULL when it can run. */
FEWSHOT_EXTERN(char *) fewshot_sweep_arm_blocker(const json_t *arm);

/* Run (or resume) a sweep. Returns 0 when every planned episode of a runnable arm finished,
 * FEWSHOT_ERROR when some failed (result says how many) or when an LLM arm's replies failed
 * to parse more often than its parse.max_failure_rate (default 0.2; the arm is named in a
 * warning on opts->log and in the error), or another error when the sweep could not run (bad
 * directory, mismatched config, a plugin that does not load). */
FEWSHOT_EXTERN(int) fewshot_sweep_run(const fewshot_config *cfg,
                                      const fewshot_sweep_options *opts,
                                      fewshot_sweep_result *result);

/* The prompt arm `arm` (NULL: the first LLM arm) would send at step `step` of the episode on
 * scenario `scenario` (NULL: the first) with the first seed, without asking any LLM: steps
 * before it are taken by the plugin's expert (zero when it has none) and fed to the agent, so
 * the online buffer and history are as they would be. A new JSON object, see
 * fewshot_agent_prompt(), plus "arm", "scenario", "seed" and "step". */
FEWSHOT_EXTERN(int) fewshot_sweep_prompt(const fewshot_config *cfg, const char *arm,
                                         const char *scenario, unsigned int step,
                                         json_t **out);

/* The demonstrations of arm `arm` (NULL: the config's top-level demos section): generated as
 * its generation settings say, or loaded from its file. FEWSHOT_ENOTFOUND when the section is
 * empty. *out is a new dataset. */
FEWSHOT_EXTERN(int) fewshot_sweep_demos(const fewshot_config *cfg, const char *arm,
                                        fewshot_demos **out);

/* As fewshot_sweep_demos(), and where the dataset lives: for generation settings the shared
 * store's id and file (generated into the store when absent), for a file its name and a NULL
 * id. id and path are new strings; either may be NULL. */
FEWSHOT_EXTERN(int) fewshot_sweep_demos_locate(const fewshot_config *cfg, const char *arm,
                                               fewshot_demos **out, char **id, char **path);

/* Combine the run directories in dirs into out_dir. Every input must hold the same config
 * (FEWSHOT_EMISMATCH otherwise), and so must out_dir when it exists. Successful episodes are
 * copied; *copied (may be NULL) receives how many. */
FEWSHOT_EXTERN(int) fewshot_sweep_merge(const char *const *dirs, size_t n, const char *out_dir,
                                        size_t *copied);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_SWEEP_H */
