/*
 * Internal: the statistics behind `fewshot report` (report_stats.c) and its gnuplot output
 * (report_plot.c). Not installed.
 *
 * The bootstrap's random stream is defined exactly so an independent implementation
 * (tests/report/stats_check.py) reproduces every interval: splitmix64 seeded with
 * seed XOR fnv1a64(label); an index below n is ((next >> 32) * n) >> 32. One resample
 * draws, stratum by stratum in scenario order, n_s indices into the first sample's stratum
 * and then (two-sample statistics) m_s indices into the second's. The interval is the 2.5th
 * and 97.5th percentile of the resampled statistics, linearly interpolated between order
 * statistics (NumPy's default).
 */
#ifndef FEWSHOT_REPORT_INTERNAL_H
#define FEWSHOT_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "internal.h"

/* Samples split into strata (scenarios); stratum s holds n[s] values x[s][0..n[s]-1]. */
typedef struct fewshot__strata {
    size_t count;
    const double *const *x;
    const size_t *n;
} fewshot__strata;

typedef enum {
    FEWSHOT__STAT_MEAN,     /* pooled mean */
    FEWSHOT__STAT_MEDIAN,   /* pooled median (mean of the two middle values when even) */
    FEWSHOT__STAT_IQM,      /* pooled interquartile mean: floor(N/4) cut from each end */
    FEWSHOT__STAT_PI        /* probability of improvement of x over y, averaged over strata */
} fewshot__stat;

/* An estimate with its bootstrap 95% interval (NaN where undefined). */
typedef struct fewshot__estimate {
    double value, low, high;
} fewshot__estimate;

FEWSHOT_HIDDEN uint64_t fewshot__fnv1a64(const char *s);

/* The statistic on the data as given (y only for FEWSHOT__STAT_PI). */
FEWSHOT_HIDDEN double fewshot__stat_value(fewshot__stat stat, const fewshot__strata *x,
                                          const fewshot__strata *y);

/* The statistic with its stratified bootstrap interval over `resamples` resamples drawn
 * from the stream of (seed, label). Strata left empty (in x, or for PI in either) are
 * skipped before drawing. Fails only for lack of memory. */
FEWSHOT_HIDDEN int fewshot__stat_bootstrap(fewshot__stat stat, const fewshot__strata *x,
                                           const fewshot__strata *y, size_t resamples,
                                           uint64_t seed, const char *label,
                                           fewshot__estimate *out);

/* Plot output: gnuplot single-quoted string literal, safe for any text (no command
 * substitution happens inside single quotes; control characters become spaces). */
FEWSHOT_HIDDEN void fewshot__gp_quote(FILE *f, const char *s);

/* ---------------------------------------------------------------- the report's data */

#include "fewshot/config.h"
#include "fewshot/report.h"
#include "results.h"

/* One stored episode, validated (strings non-NULL, numbers finite). */
typedef struct fewshot__rep_episode {
    const char *id, *arm, *scenario, *status;
    long long seed, steps, llm_calls, prompt_tokens, completion_tokens, parse_failures,
        cache_hits, cached_tokens, out_of_range;
    double reward, cost;
    double demos_distinct, demos_agreement;     /* retrieval measures, NaN when absent */
    const json_t *terms;        /* object of term sums, or NULL */
    int ok;                     /* status "ok" */
    long arm_index, scenario_index;     /* in the config, -1 when not there */
} fewshot__rep_episode;

typedef struct fewshot__rep_row {
    const char *arm, *scenario;     /* scenario NULL: all scenarios */
    size_t arm_index;
    size_t episodes, failed, pairs;
    double reward_mean, reward_ci, diff_mean, diff_ci, steps_mean;
    double *term_means;
    long long calls, prompt_tokens, completion_tokens, parse_failures, cache_hits;
    long long decisions;            /* steps decided by the LLM */
    long long cached_tokens, out_of_range;
    double cost;
    double distinct, agreement;     /* retrieval measures, means over measured steps */
    fewshot__estimate reward_iqm, score_mean, score_iqm, score_median, prob_improvement;
} fewshot__rep_row;

typedef struct fewshot__report {
    const char *dir, *out_dir;
    fewshot__results *db;
    fewshot_config *cfg;
    json_t *stored;                 /* the episodes as read (owns the strings) */
    fewshot__rep_episode *eps;
    size_t n_eps;
    json_t *terms;                  /* term names (array of strings) */
    const char *reference;
    const char *score_zero, *score_one;     /* normalization arms */
    size_t resamples;
    uint64_t seed;
    size_t n_arms, n_scen;
    double **rewards;               /* [arm * n_scen + scenario]: ok episodes' rewards */
    size_t *counts;
    double *zero_at, *one_at;       /* per scenario: the normalizers (NaN: none) */
    fewshot__rep_row *rows;
    size_t n_rows;
} fewshot__report;

FEWSHOT_HIDDEN const char *fewshot__rep_arm_name(const fewshot__report *rp, size_t a);
/* Create NAME in the report's output directory for writing, or NULL with the error set (a
 * read-only run directory suggests -o DIR); *path_out, when not NULL, gets its path. */
FEWSHOT_HIDDEN FILE *fewshot__rep_open(const fewshot__report *rp, const char *name,
                                       char **path_out);
FEWSHOT_HIDDEN const char *fewshot__rep_scenario_name(const fewshot__report *rp, size_t s);

/* Plot data and scripts into rp->out_dir, rendered when gnuplot is found. */
FEWSHOT_HIDDEN int fewshot__report_plots(fewshot__report *rp, const fewshot_report_options *opts);

#endif
