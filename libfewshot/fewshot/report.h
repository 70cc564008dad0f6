/*
 * libfewshot: reports of a run directory.
 *
 * fewshot_report_run() reads RUN_DIR/results.sqlite (read-only: archived and read-only run
 * directories work) and writes summary.csv into the output directory (RUN_DIR unless
 * out_dir says otherwise): one row per arm and scenario, plus one `all` row per arm when
 * the run has several scenarios. The columns start with
 *     arm,scenario,episodes,reward_mean,reward_ci95,llm_calls
 * followed by the mean of each reward term (TERM_mean), prompt_tokens, completion_tokens,
 * cost, parse_failure_rate, cache_hits, failed, steps_mean, the difference against the
 * reference arm paired by scenario and seed (diff_mean, diff_ci95, pairs), then the robust
 * statistics: reward_iqm, reward_iqm_ci95, score_mean, score_ci_low, score_ci_high,
 * prob_improvement, prob_improvement_ci95, score_iqm, score_iqm_ci_low, score_iqm_ci_high,
 * score_median, score_median_ci_low, score_median_ci_high (empty where undefined).
 * Student t intervals are 95% half-widths; the robust statistics carry stratified bootstrap
 * intervals (strata = scenarios; see fewshot-report(1) for the exact resampling stream).
 * Scores are rewards normalized per scenario against two reference arms (report.score_zero
 * = 0, report.score_one = 1). It prints the table in the chosen format and writes gnuplot
 * data and scripts, rendered to SVG when gnuplot is on PATH ($FEWSHOT_GNUPLOT names another
 * program; empty disables rendering).
 */
#ifndef FEWSHOT_REPORT_H
#define FEWSHOT_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "fewshot/common.h"

FEWSHOT_BEGIN_DECLS

typedef enum fewshot_report_format {
    FEWSHOT_REPORT_TABLE = 0,   /* aligned text, 100 columns unless wide */
    FEWSHOT_REPORT_CSV,         /* the summary.csv rows */
    FEWSHOT_REPORT_MARKDOWN,    /* a pipe table */
    FEWSHOT_REPORT_LATEX,       /* a tabular environment */
    FEWSHOT_REPORT_JSON         /* rows, aggregates and what reproduces the run */
} fewshot_report_format;

typedef struct fewshot_report_options {
    unsigned int version;   /* FEWSHOT_REPORT_OPTIONS_VERSION */
    FILE *table;            /* where the table is printed, or NULL */
    int plots;              /* write plot data and scripts (and render them when possible) */
    /* version 2 */
    fewshot_report_format format;   /* of what goes to table */
    int wide;               /* every column instead of the ones that fit 100 columns */
    const char *out_dir;    /* where summary.csv and plots go; NULL: the run directory */
    const char *const *set; /* NULL-terminated "report.KEY=VALUE" overrides, or NULL */
    const char *trace_arm;  /* non-NULL: trace only this episode (arm, scenario, seed) */
    const char *trace_scenario;
    int64_t trace_seed;
} fewshot_report_options;

#define FEWSHOT_REPORT_OPTIONS_VERSION 2
#define FEWSHOT_REPORT_OPTIONS_INIT \
    {FEWSHOT_REPORT_OPTIONS_VERSION, NULL, 1, FEWSHOT_REPORT_TABLE, 0, NULL, NULL, NULL, NULL, 0}

/* Defaults for a struct of the given version: FEWSHOT_REPORT_OPTIONS_VERSION, or 1 for a
 * caller built against version 1 (only version, table and plots are written). */
FEWSHOT_EXTERN(int) fewshot_report_options_init(fewshot_report_options *opts,
                                                unsigned int version);

/* Write summary.csv (and plots) and print the table. */
FEWSHOT_EXTERN(int) fewshot_report_run(const char *run_dir, const fewshot_report_options *opts);

/* Print one CSV row per stored episode, in plan order:
 * id,arm,scenario,seed,status,steps,reward,llm_calls,prompt_tokens,completion_tokens,cost,
 * parse_failures,cache_hits, then the episode's sum of each reward term (TERM)
 * (no timings, so equal runs print equal text). */
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
