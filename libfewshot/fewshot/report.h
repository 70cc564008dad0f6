/*
 * libfewshot: reports of a run directory.
 *
 * fewshot_report_run() reads RUN_DIR/results.sqlite and writes RUN_DIR/summary.csv, one row
 * per arm and scenario, whose columns start with
 *     arm,scenario,episodes,reward_mean,reward_ci95,llm_calls
 * followed by the mean of each reward term (TERM_mean), prompt_tokens, completion_tokens,
 * cost, parse_failure_rate, cache_hits, failed, steps_mean, and the difference against the
 * reference arm paired by scenario and seed (diff_mean, diff_ci95, pairs). Confidence
 * intervals are 95% Student t half-widths. It prints the same as a table and writes gnuplot
 * data and scripts (arms.dat/arms.gp, and an episode trace per arm for thermal plugins),
 * rendered to SVG when gnuplot is on PATH ($FEWSHOT_GNUPLOT names another program; empty
 * disables rendering).
 */
#ifndef FEWSHOT_REPORT_H
#define FEWSHOT_REPORT_H

#include <stdio.h>
#include "fewshot/common.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_report_options {
    unsigned int version;   /* FEWSHOT_REPORT_OPTIONS_VERSION */
    FILE *table;            /* where the table is printed, or NULL */
    int plots;              /* write plot data and scripts (and render them when possible) */
} fewshot_report_options;

#define FEWSHOT_REPORT_OPTIONS_VERSION 1
#define FEWSHOT_REPORT_OPTIONS_INIT {FEWSHOT_REPORT_OPTIONS_VERSION, NULL, 1}

FEWSHOT_EXTERN(int) fewshot_report_options_init(fewshot_report_options *opts,
                                                unsigned int version);

/* Write summary.csv (and plots) into run_dir and print the table. */
FEWSHOT_EXTERN(int) fewshot_report_run(const char *run_dir, const fewshot_report_options *opts);

/* Print one CSV row per stored episode, in plan order:
 * id,arm,scenario,seed,status,steps,reward,llm_calls,prompt_tokens,completion_tokens,cost,
 * parse_failures,cache_hits  (no timings, so equal runs print equal text). */
FEWSHOT_EXTERN(int) fewshot_report_episodes(const char *run_dir, FILE *out);

/* Print every stored step as one JSON object per line (JSON Lines), episodes in plan order and
 * steps in time order: {"episode", "t", "obs", "action", "reward", "terms", "prompt_hash",
 * "reply", "demos", "parse", "prompt_tokens", "completion_tokens", "latency", "cache_hit"}.
 * Observations and actions are arrays of numbers whether the run stored them as BLOBs of
 * doubles (this version) or as JSON text (earlier ones). */
FEWSHOT_EXTERN(int) fewshot_report_steps(const char *run_dir, FILE *out);

/* The two-sided 95% quantile of Student's t with df degrees of freedom (df >= 1). */
FEWSHOT_EXTERN(double) fewshot_report_t95(double df);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_REPORT_H */
