/*
 * Reports: per arm and scenario statistics (Student t intervals, paired differences
 * against the reference arm, robust bootstrap statistics of normalized scores), summary.csv
 * through one table of columns, and the table as text, CSV, Markdown, LaTeX or JSON.
 * The run directory is untrusted input: every stored value is checked before use.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>


#include "fewshot/env.h"
#include "fewshot/error.h"
#include "fewshot/plugin.h"
#include "fewshot/version.h"
#include "report_internal.h"

int fewshot_report_options_init(fewshot_report_options *opts, unsigned int version)
{
    if (version == 1 && opts) {     /* a caller built against version 1: only its fields */
        opts->version = 1;
        opts->table = NULL;
        opts->plots = 1;
        return 0;
    }
    if (version != FEWSHOT_REPORT_OPTIONS_VERSION || !opts)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_report_options version %u, "
                                 "expected %u", version, FEWSHOT_REPORT_OPTIONS_VERSION);
    fewshot_report_options init = FEWSHOT_REPORT_OPTIONS_INIT;
    *opts = init;
    return 0;
}

/* ---------------------------------------------------------------- Student t */

/* Continued fraction of the regularized incomplete beta function (modified Lentz). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 300; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + aa * d;
        c = 1.0 + aa / c;
        d = fabs(d) < tiny ? tiny : d;
        c = fabs(c) < tiny ? tiny : c;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + aa * d;
        c = 1.0 + aa / c;
        d = fabs(d) < tiny ? tiny : d;
        c = fabs(c) < tiny ? tiny : c;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-15)
            break;
    }
    return h;
}

static double inc_beta(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0))
        return exp(lbt) * beta_cf(a, b, x) / a;
    return 1.0 - exp(lbt) * beta_cf(b, a, 1.0 - x) / b;
}

/* P(|T| > t) for Student's t with df degrees of freedom. */
static double t_two_tail(double t, double df)
{
    return inc_beta(df / 2.0, 0.5, df / (df + t * t));
}

double fewshot_report_t95(double df)
{
    if (!(df >= 1))
        return NAN;
    double lo = 0, hi = 1000;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (t_two_tail(mid, df) > 0.05)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* ---------------------------------------------------------------- loading */

const char *fewshot__rep_arm_name(const fewshot__report *rp, size_t a)
{
    return json_string_value(json_object_get(json_array_get(fewshot_config_arms(rp->cfg), a),
                                             "name"));
}

const char *fewshot__rep_scenario_name(const fewshot__report *rp, size_t s)
{
    return json_string_value(json_object_get(
        json_array_get(fewshot_config_scenarios(rp->cfg), s), "name"));
}

static long index_of(const fewshot__report *rp, const char *name, int arm)
{
    size_t n = arm ? rp->n_arms : rp->n_scen;
    for (size_t i = 0; i < n; i++)
        if (strcmp(arm ? fewshot__rep_arm_name(rp, i) : fewshot__rep_scenario_name(rp, i),
                   name) == 0)
            return (long)i;
    return -1;
}

/* A stored value of the wrong kind, named by its episode (the row in plan order) and column. */
static int bad_value(const fewshot__report *rp, size_t row, const char *id, const char *col,
                     const char *expected, const json_t *v)
{
    char *path = malloc(strlen(rp->dir) + 32);
    if (!path)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    sprintf(path, "%s/results.sqlite", rp->dir);
    int rc = fewshot_error_set_at(FEWSHOT_EINVAL, path, 0, 0, "episodes row %zu%s%.64s%s: %s is "
                                  "%s, expected %s", row + 1, id ? " (id '" : "", id ? id : "",
                                  id ? "')" : "", col, fewshot__json_kind(v), expected);
    free(path);
    return rc;
}

/* Counts above this are no count a run produces; refusing them keeps the sums in range. */
#define MAX_COUNT (1LL << 50)

static int get_text(const fewshot__report *rp, size_t row, const json_t *ep, const char *col,
                    const char **out)
{
    const json_t *v = json_object_get(ep, col);
    *out = json_string_value(v);
    if (*out)
        return 0;
    return bad_value(rp, row, strcmp(col, "id") ? json_string_value(json_object_get(ep, "id"))
                                                : NULL, col, "a string", v);
}

static int get_count(const fewshot__report *rp, size_t row, const json_t *ep, const char *col,
                     long long *out)
{
    const json_t *v = json_object_get(ep, col);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= MAX_COUNT) {
        *out = json_integer_value(v);
        return 0;
    }
    return bad_value(rp, row, json_string_value(json_object_get(ep, "id")), col,
                     "a count (an integer from 0 to 2^50)", v);
}

static int get_real(const fewshot__report *rp, size_t row, const json_t *ep, const char *col,
                    double *out)
{
    const json_t *v = json_object_get(ep, col);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_number(v) && fabs(json_number_value(v)) <= 1e300) {
        *out = json_number_value(v);
        return 0;
    }
    return bad_value(rp, row, json_string_value(json_object_get(ep, "id")), col,
                     "a finite number (magnitude at most 1e300)", v);
}

/* An optional measure: NaN when absent or NULL (arms that show no demonstrations). */
static int get_measure(const fewshot__report *rp, size_t row, const json_t *ep, const char *col,
                       double *out)
{
    const json_t *v = json_object_get(ep, col);
    *out = NAN;
    return !v || json_is_null(v) ? 0 : get_real(rp, row, ep, col, out);
}

static int check_episode(fewshot__report *rp, size_t i, const json_t *ep, fewshot__rep_episode *e)
{
    int rc;
    if (!json_is_object(ep))
        return bad_value(rp, i, NULL, "the row", "an object", ep);
    if ((rc = get_text(rp, i, ep, "id", &e->id)) || (rc = get_text(rp, i, ep, "arm", &e->arm)) ||
        (rc = get_text(rp, i, ep, "scenario", &e->scenario)) ||
        (rc = get_text(rp, i, ep, "status", &e->status)))
        return rc;
    const json_t *seed = json_object_get(ep, "seed");
    if (!json_is_integer(seed))
        return bad_value(rp, i, e->id, "seed", "an integer", seed);
    e->seed = json_integer_value(seed);
    e->ok = strcmp(e->status, "ok") == 0;
    if ((rc = get_count(rp, i, ep, "steps", &e->steps)) ||
        (rc = get_count(rp, i, ep, "llm_calls", &e->llm_calls)) ||
        (rc = get_count(rp, i, ep, "prompt_tokens", &e->prompt_tokens)) ||
        (rc = get_count(rp, i, ep, "completion_tokens", &e->completion_tokens)) ||
        (rc = get_count(rp, i, ep, "parse_failures", &e->parse_failures)) ||
        (rc = get_count(rp, i, ep, "cache_hits", &e->cache_hits)) ||
        (rc = get_count(rp, i, ep, "cached_tokens", &e->cached_tokens)) ||
        (rc = get_count(rp, i, ep, "out_of_range", &e->out_of_range)) ||
        (rc = get_real(rp, i, ep, "cost", &e->cost)))
        return rc;
    if ((rc = get_real(rp, i, ep, "reward", &e->reward)) != 0 ||
        (rc = get_measure(rp, i, ep, "demos_distinct", &e->demos_distinct)) != 0 ||
        (rc = get_measure(rp, i, ep, "demos_agreement", &e->demos_agreement)) != 0)
        return rc;
    e->terms = json_object_get(ep, "terms");
    if (e->terms && !json_is_object(e->terms)) {
        if (!json_is_null(e->terms) && e->ok)
            return bad_value(rp, i, e->id, "terms", "a JSON object", e->terms);
        e->terms = NULL;
    }
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)e->terms, key, value)
        if (!json_is_number(value) || !isfinite(json_number_value(value)))
            return bad_value(rp, i, e->id, "a reward term", "a finite number", value);
    e->arm_index = index_of(rp, e->arm, 1);
    e->scenario_index = index_of(rp, e->scenario, 0);
    return 0;
}

/* report.* settings: defaults here (not in the schema) so they leave a run's hash alone. */
static int report_settings(fewshot__report *rp)
{
    const json_t *sec = json_object_get(fewshot_config_json(rp->cfg), "report");
    const json_t *z = json_object_get(sec, "score_zero"), *o = json_object_get(sec, "score_one");
    const json_t *b = json_object_get(sec, "bootstrap"), *s = json_object_get(sec, "seed");
    rp->score_zero = z ? json_string_value(z) : "zero";
    rp->score_one = o ? json_string_value(o) : "expert";
    rp->resamples = b ? (size_t)json_integer_value(b) : 2000;
    rp->seed = s ? (uint64_t)json_integer_value(s) : 0;
    if (rp->resamples > 1000000)
        return fewshot_error_set_path(FEWSHOT_EINVAL, fewshot_config_file(rp->cfg),
                                      "$.report.bootstrap", "at most 1000000 resamples");
    return 0;
}

static int apply_overrides(fewshot__report *rp, const char *const *set)
{
    for (size_t i = 0; set && set[i]; i++) {
        if (strncmp(set[i], "report.", 7) != 0)
            return fewshot_error_set(FEWSHOT_EINVAL, "--set %s: a report changes only report.* "
                                     "settings (the run's results are fixed)", set[i]);
        int rc = fewshot_config_set(rp->cfg, set[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static int load_config(fewshot__report *rp)
{
    json_t *conf;
    int rc = fewshot__results_config(rp->db, &conf);
    if (rc)
        return rc;
    char *name = malloc(strlen(rp->dir) + 32);
    if (!name) {
        json_decref(conf);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    sprintf(name, "%s/results.sqlite", rp->dir);
    if (!json_is_object(conf)) {
        rc = fewshot_error_set_at(FEWSHOT_EINVAL, name, 0, 0, "run.config is %s, expected the "
                                  "resolved config (a JSON object)", fewshot__json_kind(conf));
    } else {
        char *text = json_dumps(conf, JSON_COMPACT | JSON_REAL_PRECISION(17));
        rc = text ? fewshot_config_parse(&rp->cfg, text, name)
                  : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        free(text);
    }
    json_decref(conf);
    free(name);
    return rc;
}

static int has_any(const fewshot__report *rp, const char *arm, const char *scenario)
{
    for (size_t i = 0; i < rp->n_eps; i++)
        if (strcmp(rp->eps[i].arm, arm) == 0 &&
            (!scenario || strcmp(rp->eps[i].scenario, scenario) == 0))
            return 1;
    return 0;
}

static int open_report(fewshot__report *rp, const char *dir, const char *const *set)
{
    int rc = fewshot__results_open_read(&rp->db, dir);
    rp->dir = dir;
    if (rc || (rc = load_config(rp)) != 0 || (rc = apply_overrides(rp, set)) != 0 ||
        (rc = report_settings(rp)) != 0)
        return rc;
    rp->n_arms = json_array_size(fewshot_config_arms(rp->cfg));
    rp->n_scen = json_array_size(fewshot_config_scenarios(rp->cfg));
    rp->reference = fewshot_config_reference(rp->cfg);
    if ((rc = fewshot__results_episodes(rp->db, &rp->stored)) != 0)
        return rc;
    rp->n_eps = json_array_size(rp->stored);
    rp->eps = calloc(rp->n_eps + 1, sizeof *rp->eps);
    if (!rp->eps)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; i < rp->n_eps; i++)
        if ((rc = check_episode(rp, i, json_array_get(rp->stored, i), &rp->eps[i])) != 0)
            return rc;
    /* a reference arm that did not run (skipped) gives way to the first arm that did */
    if (!rp->reference || !has_any(rp, rp->reference, NULL)) {
        for (size_t a = 0; a < rp->n_arms; a++) {
            if (has_any(rp, fewshot__rep_arm_name(rp, a), NULL)) {
                rp->reference = fewshot__rep_arm_name(rp, a);
                break;
            }
        }
    }
    if (!rp->reference)
        rp->reference = "";
    return 0;
}

static void close_report(fewshot__report *rp)
{
    for (size_t i = 0; i < rp->n_rows; i++)
        free(rp->rows[i].term_means);
    free(rp->rows);
    for (size_t i = 0; rp->rewards && i < rp->n_arms * rp->n_scen; i++)
        free(rp->rewards[i]);
    free(rp->rewards);
    free(rp->counts);
    free(rp->zero_at);
    free(rp->one_at);
    free(rp->eps);
    json_decref(rp->stored);
    json_decref(rp->terms);
    fewshot_config_free(rp->cfg);
    fewshot__results_close(rp->db);
}

/* ---------------------------------------------------------------- samples */

static double sample_mean(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return n ? s / (double)n : NAN;
}

/* Rewards of the successful episodes per arm and scenario, in plan order, and the
 * per-scenario normalizers: the mean rewards of the score_zero and score_one arms. */
static int collect_samples(fewshot__report *rp)
{
    size_t cells = rp->n_arms * rp->n_scen;
    rp->rewards = calloc(cells + 1, sizeof *rp->rewards);
    rp->counts = calloc(cells + 1, sizeof *rp->counts);
    rp->zero_at = calloc(rp->n_scen + 1, sizeof *rp->zero_at);
    rp->one_at = calloc(rp->n_scen + 1, sizeof *rp->one_at);
    if (!rp->rewards || !rp->counts || !rp->zero_at || !rp->one_at)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; i < cells; i++)
        if (!(rp->rewards[i] = malloc((rp->n_eps + 1) * sizeof **rp->rewards)))
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; i < rp->n_eps; i++) {
        const fewshot__rep_episode *e = &rp->eps[i];
        if (!e->ok || e->arm_index < 0 || e->scenario_index < 0)
            continue;
        size_t c = (size_t)e->arm_index * rp->n_scen + (size_t)e->scenario_index;
        rp->rewards[c][rp->counts[c]++] = e->reward;
    }
    long z = index_of(rp, rp->score_zero, 1), o = index_of(rp, rp->score_one, 1);
    for (size_t s = 0; s < rp->n_scen; s++) {
        rp->zero_at[s] = z < 0 ? NAN : sample_mean(rp->rewards[(size_t)z * rp->n_scen + s],
                                                   rp->counts[(size_t)z * rp->n_scen + s]);
        rp->one_at[s] = o < 0 ? NAN : sample_mean(rp->rewards[(size_t)o * rp->n_scen + s],
                                                  rp->counts[(size_t)o * rp->n_scen + s]);
        if (rp->one_at[s] == rp->zero_at[s])
            rp->one_at[s] = rp->zero_at[s] = NAN;
    }
    return 0;
}

/* ---------------------------------------------------------------- rows */

static void mean_ci(const double *v, size_t n, double *mean, double *ci)
{
    double ss = 0;
    *mean = sample_mean(v, n);
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - *mean) * (v[i] - *mean);
    *ci = n >= 2 ? fewshot_report_t95((double)n - 1) * sqrt(ss / (double)(n - 1)) /
                       sqrt((double)n)
                 : NAN;
}

static int row_match(const fewshot__rep_episode *e, const fewshot__rep_row *r)
{
    return strcmp(e->arm, r->arm) == 0 && (!r->scenario || strcmp(e->scenario, r->scenario) == 0);
}

static const fewshot__rep_episode *find_pair(const fewshot__report *rp,
                                             const fewshot__rep_episode *ep)
{
    for (size_t i = 0; i < rp->n_eps; i++) {
        const fewshot__rep_episode *o = &rp->eps[i];
        if (o->ok && strcmp(o->arm, rp->reference) == 0 &&
            strcmp(o->scenario, ep->scenario) == 0 && o->seed == ep->seed)
            return o;
    }
    return NULL;
}

/* The mean over steps of an episode-level measure (episodes weighted by their steps); NaN
 * when no episode of the row has it. */
static double step_mean(const fewshot__report *rp, const fewshot__rep_row *r, size_t offset)
{
    double sum = 0, weight = 0;
    for (size_t i = 0; i < rp->n_eps; i++) {
        const fewshot__rep_episode *e = &rp->eps[i];
        double v = *(const double *)((const char *)e + offset);
        if (!e->ok || !row_match(e, r) || !isfinite(v))
            continue;
        sum += (double)e->steps * v;
        weight += (double)e->steps;
    }
    return weight > 0 ? sum / weight : NAN;
}

static int plain_stats(fewshot__report *rp, fewshot__rep_row *r)
{
    size_t nt = json_array_size(rp->terms), n = 0, np = 0;
    double *v = calloc(rp->n_eps + 1, sizeof *v), *d = calloc(rp->n_eps + 1, sizeof *d);
    double steps = 0;
    r->term_means = calloc(nt + 1, sizeof *r->term_means);
    if (!v || !d || !r->term_means) {
        free(v);
        free(d);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < rp->n_eps; i++) {
        const fewshot__rep_episode *e = &rp->eps[i];
        if (!row_match(e, r))
            continue;
        if (!e->ok) {
            r->failed++;
            continue;
        }
        v[n++] = e->reward;
        steps += (double)e->steps;
        for (size_t t = 0; t < nt; t++)
            r->term_means[t] += json_number_value(json_object_get(
                e->terms, json_string_value(json_array_get(rp->terms, t))));
        r->calls += e->llm_calls;
        if (e->llm_calls > 0)
            r->decisions += e->steps;
        r->prompt_tokens += e->prompt_tokens;
        r->completion_tokens += e->completion_tokens;
        r->parse_failures += e->parse_failures;
        r->cache_hits += e->cache_hits;
        r->cached_tokens += e->cached_tokens;
        r->out_of_range += e->out_of_range;
        r->cost += e->cost;
        if (strcmp(r->arm, rp->reference) != 0) {
            const fewshot__rep_episode *ref = find_pair(rp, e);
            if (ref)
                d[np++] = e->reward - ref->reward;
        }
    }
    r->episodes = n;
    r->pairs = np;
    mean_ci(v, n, &r->reward_mean, &r->reward_ci);
    mean_ci(d, np, &r->diff_mean, &r->diff_ci);
    for (size_t t = 0; t < nt; t++)
        r->term_means[t] = n ? r->term_means[t] / (double)n : NAN;
    r->steps_mean = n ? steps / (double)n : NAN;
    r->distinct = step_mean(rp, r, offsetof(fewshot__rep_episode, demos_distinct));
    r->agreement = step_mean(rp, r, offsetof(fewshot__rep_episode, demos_agreement));
    free(v);
    free(d);
    return 0;
}

/* The strata of one row: every scenario for an `all` row, else its scenario alone. */
static void row_strata(const fewshot__report *rp, size_t arm, long scenario, const double **x,
                       size_t *n, fewshot__strata *out)
{
    size_t k = 0;
    for (size_t s = 0; s < rp->n_scen; s++) {
        if (scenario >= 0 && (size_t)scenario != s)
            continue;
        x[k] = rp->rewards[arm * rp->n_scen + s];
        n[k++] = rp->counts[arm * rp->n_scen + s];
    }
    out->count = k;
    out->x = x;
    out->n = n;
}

/* Normalized scores of a row's strata into buf; 0 when some stratum has no normalizer. */
static int score_strata(const fewshot__report *rp, long scenario, const fewshot__strata *raw,
                        double *buf, const double **x, fewshot__strata *out)
{
    size_t k = 0;
    for (size_t i = 0, s = 0; s < rp->n_scen; s++) {
        if (scenario >= 0 && (size_t)scenario != s)
            continue;
        if (raw->n[i] && !isfinite(rp->zero_at[s]))
            return 0;
        x[i] = buf + k;
        for (size_t j = 0; j < raw->n[i]; j++)
            buf[k++] = (raw->x[i][j] - rp->zero_at[s]) / (rp->one_at[s] - rp->zero_at[s]);
        i++;
    }
    *out = *raw;
    out->x = x;
    return 1;
}

static int robust_stats(fewshot__report *rp, fewshot__rep_row *r)
{
    long scen = r->scenario ? index_of(rp, r->scenario, 0) : -1;
    long ref = index_of(rp, rp->reference, 1);
    size_t ns = rp->n_scen + 1;
    const double **x = calloc(ns, sizeof *x), **y = calloc(ns, sizeof *y),
                 **z = calloc(ns, sizeof *z);
    size_t *n = calloc(ns, sizeof *n), *m = calloc(ns, sizeof *m);
    double *buf = malloc((rp->n_eps + 1) * sizeof *buf);
    char label[1024];
    int rc = 0;
    fewshot__strata raw, refs, scores;
    fewshot__estimate none = {NAN, NAN, NAN};
    r->score_mean = r->score_iqm = r->score_median = r->prob_improvement = none;
    if (!x || !y || !z || !n || !m || !buf) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        goto done;
    }
    row_strata(rp, r->arm_index, scen, x, n, &raw);
    const char *sc = r->scenario ? r->scenario : "all";
#define LABEL(stat) (snprintf(label, sizeof label, "%s\x1f%s\x1f%s", r->arm, sc, stat), label)
    rc = fewshot__stat_bootstrap(FEWSHOT__STAT_IQM, &raw, NULL, rp->resamples, rp->seed,
                                 LABEL("reward_iqm"), &r->reward_iqm);
    if (rc == 0 && score_strata(rp, scen, &raw, buf, z, &scores)) {
        static const struct {
            fewshot__stat stat;
            const char *name;
            size_t offset;
        } which[] = {
            {FEWSHOT__STAT_MEAN, "score_mean", offsetof(fewshot__rep_row, score_mean)},
            {FEWSHOT__STAT_IQM, "score_iqm", offsetof(fewshot__rep_row, score_iqm)},
            {FEWSHOT__STAT_MEDIAN, "score_median", offsetof(fewshot__rep_row, score_median)},
        };
        for (size_t i = 0; rc == 0 && i < sizeof which / sizeof which[0]; i++)
            rc = fewshot__stat_bootstrap(which[i].stat, &scores, NULL, rp->resamples, rp->seed,
                                         LABEL(which[i].name),
                                         (fewshot__estimate *)((char *)r + which[i].offset));
    }
    if (rc == 0 && ref >= 0 && strcmp(r->arm, rp->reference) != 0) {
        row_strata(rp, (size_t)ref, scen, y, m, &refs);
        rc = fewshot__stat_bootstrap(FEWSHOT__STAT_PI, &raw, &refs, rp->resamples, rp->seed,
                                     LABEL("prob_improvement"), &r->prob_improvement);
    }
#undef LABEL
done:
    free(x);
    free(y);
    free(z);
    free(n);
    free(m);
    free(buf);
    return rc;
}

static void collect_terms(fewshot__report *rp)
{
    json_t *seen = json_object();
    rp->terms = json_array();
    for (size_t i = 0; i < rp->n_eps; i++) {
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)rp->eps[i].terms, key, value) {
            (void)value;
            if (!json_object_get(seen, key)) {
                json_object_set_new(seen, key, json_true());
                json_array_append_new(rp->terms, json_string(key));
            }
        }
    }
    json_decref(seen);
}

/* Rows: per arm and scenario (config order); with several scenarios also per arm overall. */
static int build_rows(fewshot__report *rp)
{
    size_t na = rp->n_arms, ns = rp->n_scen;
    int rc = collect_samples(rp);
    if (rc)
        return rc;
    rp->rows = calloc(na * (ns + 1) + 1, sizeof *rp->rows);
    if (!rp->rows)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t a = 0; a < na && rc == 0; a++) {
        const char *arm = fewshot__rep_arm_name(rp, a);
        for (size_t s = 0; s <= ns && rc == 0; s++) {
            const char *scenario = s < ns ? fewshot__rep_scenario_name(rp, s) : NULL;
            if ((s == ns && ns < 2) || !has_any(rp, arm, scenario))
                continue;
            fewshot__rep_row *r = &rp->rows[rp->n_rows++];
            r->arm = arm;
            r->arm_index = a;
            r->scenario = scenario;
            if ((rc = plain_stats(rp, r)) == 0)
                rc = robust_stats(rp, r);
        }
    }
    return rc;
}

/* ---------------------------------------------------------------- the columns */

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *half(const fewshot__estimate *e)
{
    return num(0.5 * (e->high - e->low));
}

typedef json_t *(*cell_fn)(const fewshot__report *rp, const fewshot__rep_row *r);

static int is_reference(const fewshot__report *rp, const fewshot__rep_row *r)
{
    return strcmp(r->arm, rp->reference) == 0;
}

#define CELL(name, expr) \
    static json_t *c_##name(const fewshot__report *rp, const fewshot__rep_row *r) \
    { (void)rp; return (expr); }
CELL(arm, json_string(r->arm))
CELL(scenario, json_string(r->scenario ? r->scenario : "all"))
CELL(episodes, json_integer((json_int_t)r->episodes))
CELL(reward_mean, num(r->reward_mean))
CELL(reward_ci95, num(r->reward_ci))
CELL(llm_calls, json_integer(r->calls))
CELL(prompt_tokens, json_integer(r->prompt_tokens))
CELL(completion_tokens, json_integer(r->completion_tokens))
CELL(cost, num(r->cost))
CELL(parse_failure_rate, num(r->decisions ? (double)r->parse_failures / (double)r->decisions
                                           : 0.0))
CELL(cache_hits, json_integer(r->cache_hits))
CELL(failed, json_integer((json_int_t)r->failed))
CELL(steps_mean, num(r->steps_mean))
CELL(diff_mean, is_reference(rp, r) ? json_null() : num(r->diff_mean))
CELL(diff_ci95, is_reference(rp, r) ? json_null() : num(r->diff_ci))
CELL(pairs, json_integer((json_int_t)r->pairs))
CELL(demos_distinct, num(r->distinct))
CELL(demos_agreement, num(r->agreement))
CELL(reward_iqm, num(r->reward_iqm.value))
CELL(reward_iqm_ci95, half(&r->reward_iqm))
CELL(score_mean, num(r->score_mean.value))
CELL(score_ci_low, num(r->score_mean.low))
CELL(score_ci_high, num(r->score_mean.high))
CELL(prob_improvement, num(r->prob_improvement.value))
CELL(prob_improvement_ci95, half(&r->prob_improvement))
CELL(score_iqm, num(r->score_iqm.value))
CELL(score_iqm_ci_low, num(r->score_iqm.low))
CELL(score_iqm_ci_high, num(r->score_iqm.high))
CELL(score_median, num(r->score_median.value))
CELL(score_median_ci_low, num(r->score_median.low))
CELL(score_median_ci_high, num(r->score_median.high))
CELL(cached_tokens, json_integer(r->cached_tokens))
CELL(out_of_range, json_integer(r->out_of_range))
#undef CELL

/* summary.csv's columns in order; a NULL cell stands for the reward terms (TERM_mean).
 * A new column is one CELL line and one entry here. */
static const struct column {
    const char *name;
    cell_fn cell;
} columns[] = {
    {"arm", c_arm}, {"scenario", c_scenario}, {"episodes", c_episodes},
    {"reward_mean", c_reward_mean}, {"reward_ci95", c_reward_ci95}, {"llm_calls", c_llm_calls},
    {"TERM_mean", NULL},
    {"prompt_tokens", c_prompt_tokens}, {"completion_tokens", c_completion_tokens},
    {"cost", c_cost}, {"parse_failure_rate", c_parse_failure_rate},
    {"cache_hits", c_cache_hits}, {"failed", c_failed}, {"steps_mean", c_steps_mean},
    {"diff_mean", c_diff_mean}, {"diff_ci95", c_diff_ci95}, {"pairs", c_pairs},
    {"demos_distinct", c_demos_distinct}, {"demos_agreement", c_demos_agreement},
    {"reward_iqm", c_reward_iqm}, {"reward_iqm_ci95", c_reward_iqm_ci95},
    {"score_mean", c_score_mean}, {"score_ci_low", c_score_ci_low},
    {"score_ci_high", c_score_ci_high}, {"prob_improvement", c_prob_improvement},
    {"prob_improvement_ci95", c_prob_improvement_ci95},
    {"score_iqm", c_score_iqm}, {"score_iqm_ci_low", c_score_iqm_ci_low},
    {"score_iqm_ci_high", c_score_iqm_ci_high}, {"score_median", c_score_median},
    {"score_median_ci_low", c_score_median_ci_low},
    {"score_median_ci_high", c_score_median_ci_high},
    {"cached_tokens", c_cached_tokens}, {"out_of_range", c_out_of_range},
};
#define N_COLUMNS (sizeof columns / sizeof columns[0])

/* Every column of every row: headers (array of names) and cells (array of arrays). */
static void grid(const fewshot__report *rp, json_t **headers, json_t **cells)
{
    size_t nt = json_array_size(rp->terms);
    *headers = json_array();
    *cells = json_array();
    for (size_t c = 0; c < N_COLUMNS; c++) {
        if (columns[c].cell) {
            json_array_append_new(*headers, json_string(columns[c].name));
            continue;
        }
        for (size_t t = 0; t < nt; t++) {
            char name[300];
            snprintf(name, sizeof name, "%s_mean",
                     json_string_value(json_array_get(rp->terms, t)));
            json_array_append_new(*headers, json_string(name));
        }
    }
    for (size_t i = 0; i < rp->n_rows; i++) {
        const fewshot__rep_row *r = &rp->rows[i];
        json_t *row = json_array();
        for (size_t c = 0; c < N_COLUMNS; c++) {
            if (columns[c].cell) {
                json_array_append_new(row, columns[c].cell(rp, r));
                continue;
            }
            for (size_t t = 0; t < nt; t++)
                json_array_append_new(row, num(r->term_means[t]));
        }
        json_array_append_new(*cells, row);
    }
}

/* ---------------------------------------------------------------- CSV */

static void csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n\r")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
}

static void csv_value(FILE *f, const json_t *v)
{
    if (json_is_string(v))
        csv_field(f, json_string_value(v));
    else if (json_is_integer(v))
        fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        fprintf(f, "%.10g", json_real_value(v));
}

static void csv_write(FILE *f, const json_t *headers, const json_t *cells)
{
    size_t i, j;
    json_t *row, *v;
    json_array_foreach(headers, j, v) {
        if (j)
            fputc(',', f);
        csv_field(f, json_string_value(v));
    }
    fputc('\n', f);
    json_array_foreach(cells, i, row) {
        json_array_foreach(row, j, v) {
            if (j)
                fputc(',', f);
            csv_value(f, v);
        }
        fputc('\n', f);
    }
}

/* Create NAME in the output directory; *path_out (when not NULL) gets its path to free. */
FILE *fewshot__rep_open(const fewshot__report *rp, const char *name, char **path_out)
{
    char *path = malloc(strlen(rp->out_dir) + strlen(name) + 2);
    if (!path) {
        fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        return NULL;
    }
    sprintf(path, "%s/%s", rp->out_dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        int e = errno;
        if (rp->out_dir == rp->dir && (e == EACCES || e == EROFS || e == EPERM))
            fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot write: %s (the run "
                                 "directory is read-only; give -o DIR for the report's files)",
                                 strerror(e));
        else
            fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot write: %s", strerror(e));
        free(path);
        return NULL;
    }
    if (path_out)
        *path_out = path;
    else
        free(path);
    return f;
}

static int close_output(FILE *f, char *path)
{
    int rc = 0;
    if (ferror(f) | (fclose(f) != 0))
        rc = fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
    free(path);
    return rc;
}

static int write_csv(const fewshot__report *rp, const json_t *headers, const json_t *cells)
{
    char *path;
    if (rp->out_dir != rp->dir && mkdir(rp->out_dir, 0777) != 0 && errno != EEXIST)
        return fewshot_error_set_at(FEWSHOT_EIO, rp->out_dir, 0, 0, "cannot create the output "
                                    "directory: %s", strerror(errno));
    FILE *f = fewshot__rep_open(rp, "summary.csv", &path);
    if (!f)
        return fewshot_error_last()->code;
    csv_write(f, headers, cells);
    return close_output(f, path);
}

/* ---------------------------------------------------------------- text tables */

/* Four or five significant digits, so the default table fits 100 columns. */
static void fmt_num(char *buf, size_t size, double v)
{
    double a = fabs(v);
    if (!isfinite(v))
        snprintf(buf, size, "-");
    else if (a < 1e-12)
        snprintf(buf, size, "0");
    else if (a >= 1e5 || a < 1e-3)
        snprintf(buf, size, "%.3g", v);
    else
        snprintf(buf, size, "%.*f", a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3, v);
}

static json_t *text_pm(double v, double ci, int sign)
{
    char a[48], b[48], out[112];
    if (!isfinite(v))
        return json_string("-");
    fmt_num(a, sizeof a, v);
    fmt_num(b, sizeof b, ci);
    if (isfinite(ci))
        snprintf(out, sizeof out, "%s%s +- %s", sign && v > 0 ? "+" : "", a, b);
    else        /* one episode or pair: no interval */
        snprintf(out, sizeof out, "%s%s", sign && v > 0 ? "+" : "", a);
    return json_string(out);
}

/* Scores and probabilities with two decimals, as papers print them. */
static void fmt_score(char *buf, size_t size, double v)
{
    if (isfinite(v) && fabs(v) < 10)
        snprintf(buf, size, "%.2f", fabs(v) < 0.005 ? 0.0 : v);
    else
        fmt_num(buf, size, v);
}

static json_t *text_ci(const fewshot__estimate *e)
{
    char a[48], b[48], c[48], out[160];
    if (!isfinite(e->value))
        return json_string("-");
    fmt_score(a, sizeof a, e->value);
    fmt_score(b, sizeof b, e->low);
    fmt_score(c, sizeof c, e->high);
    snprintf(out, sizeof out, "%s [%s, %s]", a, b, c);
    return json_string(out);
}

static int any_failed(const fewshot__report *rp)
{
    for (size_t i = 0; i < rp->n_rows; i++)
        if (rp->rows[i].failed)
            return 1;
    return 0;
}

/* The columns that fit 100: arm, scenario, n, reward, difference and probability of
 * improvement against the reference, normalized score, failures (when any). */
static void narrow_grid(const fewshot__report *rp, json_t **headers, json_t **cells)
{
    char vs[300], pi[300];
    int fails = any_failed(rp);
    snprintf(vs, sizeof vs, "vs %s (95%% CI)", rp->reference);
    snprintf(pi, sizeof pi, "P(>%s)", rp->reference);
    *headers = json_pack("[s, s, s, s, s, s, s, s]", "arm", "scenario", "n", "reward (95% CI)",
                         "IQM", vs, pi, "score [95% CI]");
    if (fails)
        json_array_append_new(*headers, json_string("failed"));
    *cells = json_array();
    for (size_t i = 0; i < rp->n_rows; i++) {
        const fewshot__rep_row *r = &rp->rows[i];
        char p[48];
        fmt_score(p, sizeof p, r->prob_improvement.value);
        json_t *row = json_array();
        json_array_append_new(row, json_string(r->arm));
        json_array_append_new(row, json_string(r->scenario ? r->scenario : "all"));
        json_array_append_new(row, json_integer((json_int_t)r->episodes));
        json_array_append_new(row, text_pm(r->reward_mean, r->reward_ci, 0));
        json_array_append_new(row, num(r->reward_iqm.value));
        json_array_append_new(row, is_reference(rp, r) ? json_string("(reference)")
                                   : text_pm(r->diff_mean, r->diff_ci, 1));
        json_array_append_new(row, json_string(is_reference(rp, r) ? "" : p));
        json_array_append_new(row, text_ci(&r->score_mean));
        if (fails)
            json_array_append_new(row, json_integer((json_int_t)r->failed));
        json_array_append_new(*cells, row);
    }
}

/* A cell as text for the human-readable formats. */
static void cell_text(const json_t *v, char *buf, size_t size)
{
    if (json_is_string(v))
        snprintf(buf, size, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        fmt_num(buf, size, json_real_value(v));
    else
        snprintf(buf, size, "-");
}

/* Printable text: control characters (a stored name may hold any) become '?'. */
static void printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

#define TABLE_WIDTH 100  /* the default table fits a terminal this wide */
#define MIN_NAME_WIDTH 6

/* Aligned columns; the first `names` columns hold names, left-aligned and, unless wide,
 * shortened (a '~' marks the cut) until the table fits TABLE_WIDTH. */
static void print_text(FILE *out, const json_t *headers, const json_t *cells, size_t names,
                       int wide)
{
    size_t nc = json_array_size(headers), nr = json_array_size(cells), total = 0;
    size_t *w = calloc(nc + 1, sizeof *w);
    char buf[512];
    if (!w)
        return;
    for (size_t c = 0; c < nc; c++) {
        w[c] = strlen(json_string_value(json_array_get(headers, c)));
        for (size_t r = 0; r < nr; r++) {
            cell_text(json_array_get(json_array_get(cells, r), c), buf, sizeof buf);
            w[c] = strlen(buf) > w[c] ? strlen(buf) : w[c];
        }
        total += w[c] + (c + 1 < nc ? 2 : 0);
    }
    for (size_t c = 0; !wide && total > TABLE_WIDTH && c < names; c++) {
        size_t cut = total - TABLE_WIDTH, room = w[c] > MIN_NAME_WIDTH ? w[c] - MIN_NAME_WIDTH : 0;
        cut = cut < room ? cut : room;
        w[c] -= cut;
        total -= cut;
    }
    for (size_t r = 0; r <= nr; r++) {
        for (size_t c = 0; c < nc; c++) {
            const json_t *v = r ? json_array_get(json_array_get(cells, r - 1), c)
                                : json_array_get(headers, c);
            cell_text(v, buf, sizeof buf);
            printable(buf);
            if (!wide && strlen(buf) > w[c] && w[c] > 1) {
                buf[w[c] - 1] = '~';
                buf[w[c]] = '\0';
            }
            int left = c < names || !r;
            if (c + 1 == nc && left)
                fputs(buf, out);
            else
                fprintf(out, left ? "%-*s%s" : "%*s%s", (int)w[c], buf, c + 1 == nc ? "" : "  ");
        }
        fputc('\n', out);
    }
    free(w);
}

static void markdown_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|' || *s == '\\' || *s == '*' || *s == '_' || *s == '`' || *s == '<' ||
            *s == '[' || *s == ']')
            fputc('\\', out);
        fputc((unsigned char)*s < 0x20 ? ' ' : *s, out);
    }
}

static void print_markdown(FILE *out, const json_t *headers, const json_t *cells,
                           size_t names)
{
    size_t nc = json_array_size(headers);
    char buf[512];
    for (size_t r = 0; r <= json_array_size(cells) + 1; r++) {
        fputc('|', out);
        for (size_t c = 0; c < nc; c++) {
            if (r == 1) {
                fputs(c < names ? " :--- |" : " ---: |", out);
                continue;
            }
            cell_text(r ? json_array_get(json_array_get(cells, r - 2), c)
                        : json_array_get(headers, c), buf, sizeof buf);
            fputc(' ', out);
            markdown_text(out, buf);
            fputs(" |", out);
        }
        fputc('\n', out);
    }
}

static void latex_text(FILE *out, const char *s)
{
    if (*s == '[')      /* after \\ a bracket would be read as its optional argument */
        fputs("{}", out);
    for (; *s; s++) {
        switch (*s) {
        case '\\': fputs("\\textbackslash{}", out); break;
        case '~': fputs("\\textasciitilde{}", out); break;
        case '^': fputs("\\textasciicircum{}", out); break;
        case '&': case '%': case '$': case '#': case '_': case '{': case '}':
            fputc('\\', out);
            fputc(*s, out);
            break;
        case '+':
            if (s[1] == '-' && s[2] == ' ') {
                fputs("$\\pm$", out);
                s++;
            } else {
                fputc('+', out);
            }
            break;
        default: fputc((unsigned char)*s < 0x20 ? ' ' : *s, out);
        }
    }
}

static void print_latex(FILE *out, const json_t *headers, const json_t *cells, size_t names)
{
    size_t nc = json_array_size(headers);
    char buf[512];
    fputs("\\begin{tabular}{", out);
    for (size_t c = 0; c < nc; c++)
        fputc(c < names ? 'l' : 'r', out);
    fputs("}\n\\hline\n", out);
    for (size_t r = 0; r <= json_array_size(cells); r++) {
        for (size_t c = 0; c < nc; c++) {
            cell_text(r ? json_array_get(json_array_get(cells, r - 1), c)
                        : json_array_get(headers, c), buf, sizeof buf);
            if (c)
                fputs(" & ", out);
            latex_text(out, buf);
        }
        fputs(r ? " \\\\\n" : " \\\\\n\\hline\n", out);
    }
    fputs("\\hline\n\\end{tabular}\n", out);
}

/* ---------------------------------------------------------------- aggregates, provenance */

/* The `all` rows' normalized scores as their own small table (text formats). */
static void aggregate_grid(const fewshot__report *rp, json_t **headers, json_t **cells)
{
    char pi[300];
    snprintf(pi, sizeof pi, "P(>%s) [95%% CI]", rp->reference);
    *headers = json_pack("[s, s, s, s, s]", "arm", "score mean [95% CI]", "IQM [95% CI]",
                         "median [95% CI]", pi);
    *cells = json_array();
    for (size_t i = 0; i < rp->n_rows; i++) {
        const fewshot__rep_row *r = &rp->rows[i];
        if (r->scenario && rp->n_scen > 1)
            continue;
        json_array_append_new(*cells, json_pack("[s, o, o, o, o]", r->arm,
                                                text_ci(&r->score_mean), text_ci(&r->score_iqm),
                                                text_ci(&r->score_median),
                                                text_ci(&r->prob_improvement)));
    }
}

/* The demonstration datasets of the run: each arm's demos section (a file, with its SHA-256
 * when readable from here, or generation settings) and the generated datasets the run
 * directory keeps (demos-ID.jsonl, ID a hash of the generation settings). */
static json_t *dataset_ids(const fewshot__report *rp)
{
    json_t *arms = json_object(), *kept = json_object();
    for (size_t a = 0; a < rp->n_arms; a++) {
        const json_t *arm = json_array_get(fewshot_config_arms(rp->cfg), a);
        const char *kind = json_string_value(json_object_get(arm, "kind"));
        const json_t *d = json_object_get(arm, "demos");
        if (!kind || strcmp(kind, "policy") == 0 || !json_object_size(d))
            continue;
        json_t *entry = json_deep_copy(d);
        const char *file = json_string_value(json_object_get(d, "file"));
        char hex[65];
        if (file && fewshot__file_sha256(file, hex))
            json_object_set_new(entry, "sha256", json_string(hex));
        json_object_set_new(arms, fewshot__rep_arm_name(rp, a), entry);
    }
    /* the shared dataset store's ids each arm used, as the sweep noted them (demos.json) */
    json_t *used = json_object(), *doc = fewshot__demos_note_load(rp->dir);
    const char *id;
    json_t *entry;
    json_object_foreach(json_object_get(doc, "datasets"), id, entry) {
        const json_t *path = json_object_get(entry, "path"),
                     *count = json_object_get(entry, "transitions"),
                     *arms_of = json_object_get(entry, "arms");
        json_t *clean = json_object();
        if (json_is_string(path))
            json_object_set(clean, "path", (json_t *)path);
        if (json_is_integer(count))
            json_object_set(clean, "transitions", (json_t *)count);
        if (json_is_array(arms_of))
            json_object_set(clean, "arms", (json_t *)arms_of);
        json_object_set_new(used, id, clean);
    }
    json_decref(doc);
    DIR *dir = opendir(rp->dir);
    struct dirent *de;
    while (dir && (de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);
        if (strncmp(de->d_name, "demos-", 6) != 0 || len < 12 ||
            strcmp(de->d_name + len - 6, ".jsonl") != 0)
            continue;
        char *path = malloc(strlen(rp->dir) + len + 2), hex[65];
        if (path && (sprintf(path, "%s/%s", rp->dir, de->d_name), fewshot__file_sha256(path, hex)))
            json_object_set_new(kept, de->d_name, json_string(hex));
        free(path);
    }
    if (dir)
        closedir(dir);
    return json_pack("{s:o, s:o, s:o}", "arms", arms, "datasets", used, "files", kept);
}

/* A share in [0, 1] as a percentage, "-" when not measured. */
static json_t *percent(double v)
{
    char buf[32];
    if (isfinite(v))
        snprintf(buf, sizeof buf, "%.0f%%", 100 * v);
    else
        snprintf(buf, sizeof buf, "-");
    return json_string(buf);
}

/* The retrieval measures of fewshot-selection(7) per arm (over all scenarios), for the arms
 * that show demonstrations; no rows when none does. */
static void measures_grid(const fewshot__report *rp, json_t **headers, json_t **cells)
{
    *headers = json_pack("[s, s, s]", "arm", "distinct", "agree");
    *cells = json_array();
    for (size_t i = 0; i < rp->n_rows; i++) {
        const fewshot__rep_row *r = &rp->rows[i];
        if ((r->scenario && rp->n_scen > 1) || (!isfinite(r->distinct) && !isfinite(r->agreement)))
            continue;
        json_array_append_new(*cells, json_pack("[s, o, o]", r->arm, percent(r->distinct),
                                                percent(r->agreement)));
    }
}

/* What reproduces the report: config hash, versions, models, fingerprints, demos, seeds. */
static json_t *provenance(const fewshot__report *rp)
{
    const json_t *conf = fewshot_config_json(rp->cfg);
    const char *plugin = json_string_value(json_object_get(json_object_get(conf, "env"),
                                                           "plugin"));
    const fewshot_env_plugin *p = NULL;
    json_t *models = json_object(), *demos = dataset_ids(rp);
    if (plugin && fewshot_env_plugin_find(&p, plugin) != 0)
        p = NULL;
    fewshot_error_clear();
    for (size_t a = 0; a < rp->n_arms; a++) {
        const json_t *arm = json_array_get(fewshot_config_arms(rp->cfg), a);
        const char *kind = json_string_value(json_object_get(arm, "kind"));
        if (!kind || strcmp(kind, "policy") == 0)
            continue;
        const json_t *model = json_object_get(json_object_get(arm, "llm"), "model");
        if (strcmp(kind, "llm") == 0 && json_is_string(model))
            json_object_set(models, fewshot__rep_arm_name(rp, a), (json_t *)model);
    }
    /* the versions the sweep recorded win over the ones found here */
    json_t *recorded = fewshot__results_meta(rp->db, "versions");
    const char *library = json_string_value(json_object_get(recorded, "library"));
    const char *pv = json_string_value(json_object_get(recorded, "plugin_version"));
    if (!pv)
        pv = p && p->version ? p->version : NULL;
    json_t *servers = fewshot__results_meta(rp->db, "llm_servers");
    json_t *created = fewshot__results_meta(rp->db, "created");
    json_t *out = json_pack("{s:s, s:s, s:s?, s:s?, s:o, s:o, s:O, s:o, s:o, s:{s:s, s:s, s:I, s:I}}",
        "config_hash", fewshot__results_hash(rp->db),
        "library", library ? library : fewshot_version_str(), "plugin", plugin,
        "plugin_version", pv,
        "models", models, "llm_servers", servers && json_is_object(servers) ? json_incref(servers)
                                                                          : json_object(),
        "seeds", fewshot_config_seeds(rp->cfg), "demos", demos,
        "created", json_is_string(created) ? json_incref(created) : json_null(),
        "bootstrap", "score_zero", rp->score_zero, "score_one", rp->score_one,
        "resamples", (json_int_t)rp->resamples, "seed", (json_int_t)rp->seed);
    json_decref(servers);
    json_decref(created);
    json_decref(recorded);
    return out;
}

static void print_provenance(FILE *out, const json_t *prov)
{
    char *seeds = json_dumps(json_object_get(prov, "seeds"), JSON_COMPACT);
    const json_t *b = json_object_get(prov, "bootstrap");
    if (seeds && strlen(seeds) > 70)
        strcpy(seeds + 66, "...]");
    fprintf(out, "reproduce: config %s\n"
            "           libfewshot %s, plugin %s %s, seeds %s\n",
            json_string_value(json_object_get(prov, "config_hash")),
            json_string_value(json_object_get(prov, "library")),
            json_string_value(json_object_get(prov, "plugin")) ?: "?",
            json_string_value(json_object_get(prov, "plugin_version"))
                ?: "(version unknown here)",
            seeds ? seeds : "[]");
    free(seeds);
    fprintf(out, "scores: %s = 0, %s = 1 per scenario; bootstrap %" JSON_INTEGER_FORMAT
            " resamples, seed %" JSON_INTEGER_FORMAT "\n",
            json_string_value(json_object_get(b, "score_zero")),
            json_string_value(json_object_get(b, "score_one")),
            json_integer_value(json_object_get(b, "resamples")),
            json_integer_value(json_object_get(b, "seed")));
    const char *key;
    json_t *value;
    json_object_foreach(json_object_get(prov, "models"), key, value) {
        char name[128], model[256];
        snprintf(name, sizeof name, "%s", key);
        snprintf(model, sizeof model, "%s", json_string_value(value));
        printable(name);
        printable(model);
        const json_t *srv = json_object_get(json_object_get(prov, "llm_servers"), key);
        char *fp = json_dumps(json_object_get(srv, "system_fingerprints"), JSON_COMPACT);
        printable(fp ? fp : model);
        fprintf(out, "model of %s: %s%s%s\n", name, model, fp ? ", system_fingerprint " : "",
                fp ? fp : "");
        free(fp);
    }
    json_object_foreach(json_object_get(json_object_get(prov, "demos"), "arms"), key, value) {
        char *d = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
        char name[128];
        snprintf(name, sizeof name, "%s", key);
        printable(name);
        if (d && strlen(d) > 80)
            strcpy(d + 77, "...");
        if (d)
            printable(d);
        fprintf(out, "demos of %s: %s\n", name, d ? d : "");
        free(d);
    }
    json_object_foreach(json_object_get(json_object_get(prov, "demos"), "datasets"), key, value) {
        char name[128], *arms = json_dumps(json_object_get(value, "arms"), JSON_COMPACT);
        snprintf(name, sizeof name, "%s", key);
        printable(name);
        if (arms)
            printable(arms);
        fprintf(out, "demonstrations %s: %" JSON_INTEGER_FORMAT " transitions, arms %s\n", name,
                json_integer_value(json_object_get(value, "transitions")), arms ? arms : "[]");
        free(arms);
    }
    json_object_foreach(json_object_get(json_object_get(prov, "demos"), "files"), key, value) {
        char name[128];
        snprintf(name, sizeof name, "%s", key);
        printable(name);
        fprintf(out, "demonstrations %s: sha256 %s\n", name, json_string_value(value));
    }
}

/* Words of text after a label `col` columns wide, folded to TABLE_WIDTH, continuation
 * lines indented by `indent`. */
static void print_folded(FILE *out, const char *text, size_t col, size_t indent)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (!len)
            break;
        if (col + 1 + len > TABLE_WIDTH && col > indent) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
        } else {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, len, out);
        col += len;
        p += len;
    }
    fputc('\n', out);
}

static json_t *rows_json(const json_t *headers, const json_t *cells)
{
    json_t *rows = json_array();
    size_t i, j;
    json_t *row, *v;
    json_array_foreach(cells, i, row) {
        json_t *o = json_object();
        json_array_foreach(row, j, v)
            json_object_set(o, json_string_value(json_array_get(headers, j)), v);
        json_array_append_new(rows, o);
    }
    return rows;
}

static void print_output(const fewshot__report *rp, const fewshot_report_options *opts,
                         const json_t *headers, const json_t *cells, const json_t *skipped)
{
    FILE *out = opts->table;
    json_t *prov = provenance(rp);
    if (opts->format == FEWSHOT_REPORT_CSV) {
        csv_write(out, headers, cells);
    } else if (opts->format == FEWSHOT_REPORT_JSON) {
        json_t *doc = json_pack("{s:s, s:o, s:o, s:o, s:b}", "reference", rp->reference,
                                "rows", rows_json(headers, cells), "skipped",
                                skipped ? json_incref((json_t *)skipped) : json_object(),
                                "reproduce", prov,
                                "partial", fewshot__results_partial(rp->db));
        prov = NULL;
        json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        fputc('\n', out);
        json_decref(doc);
    } else {
        json_t *h = NULL, *c = NULL, *ah = NULL, *ac = NULL, *mh = NULL, *mc = NULL;
        measures_grid(rp, &mh, &mc);
        if (opts->wide) {
            h = json_incref((json_t *)headers);
            c = json_incref((json_t *)cells);
        } else {
            narrow_grid(rp, &h, &c);
        }
        aggregate_grid(rp, &ah, &ac);
        if (opts->format == FEWSHOT_REPORT_MARKDOWN) {
            print_markdown(out, h, c, 2);
            fputc('\n', out);
            print_markdown(out, ah, ac, 1);
            if (json_array_size(mc)) {
                fputc('\n', out);
                print_markdown(out, mh, mc, 1);
            }
        } else if (opts->format == FEWSHOT_REPORT_LATEX) {
            print_latex(out, h, c, 2);
            fputc('\n', out);
            print_latex(out, ah, ac, 1);
            if (json_array_size(mc)) {
                fputc('\n', out);
                print_latex(out, mh, mc, 1);
            }
        } else {
            print_text(out, h, c, 2, opts->wide);
            fputc('\n', out);
            fprintf(out, "normalized scores over all scenarios, stratified bootstrap 95%% CIs:\n");
            print_text(out, ah, ac, 1, opts->wide);
            if (json_array_size(mc)) {
                fprintf(out, "retrieval measures over all steps (fewshot-selection(7)):\n");
                print_text(out, mh, mc, 1, opts->wide);
            }
            const char *key;
            json_t *value;
            json_object_foreach((json_t *)skipped, key, value) {
                char name[256], why[512];
                snprintf(name, sizeof name, "%s", key);
                snprintf(why, sizeof why, "%s", json_string_value(value) ?: "");
                printable(name);
                printable(why);
                fprintf(out, "skipped arm %s:", name);
                print_folded(out, why, strlen(name) + 13, 2);
            }
            print_provenance(out, prov);
            if (fewshot__results_partial(rp->db))
                fprintf(out, "note: results.sqlite-wal cannot be read in this read-only "
                             "directory, so episodes\n  committed since its last checkpoint "
                             "are missing; copy the directory to see them\n");
        }
        json_decref(h);
        json_decref(c);
        json_decref(ah);
        json_decref(ac);
        json_decref(mh);
        json_decref(mc);
    }
    json_decref(prov);
}

/* ---------------------------------------------------------------- entry points */

static fewshot_report_options upgrade(const fewshot_report_options *in)
{
    fewshot_report_options o = FEWSHOT_REPORT_OPTIONS_INIT;
    if (in && in->version == 1) {       /* the version 1 struct ends after plots */
        o.table = in->table;
        o.plots = in->plots;
    } else if (in) {
        o = *in;
    }
    return o;
}

int fewshot_report_run(const char *run_dir, const fewshot_report_options *given)
{
    if (given && given->version != 1 && given->version != FEWSHOT_REPORT_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_report_options version %u, expected "
                                 "%u", given->version, FEWSHOT_REPORT_OPTIONS_VERSION);
    if (!run_dir)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_report_run: NULL run directory");
    fewshot_report_options opts = upgrade(given);
    if ((unsigned)opts.format > FEWSHOT_REPORT_JSON)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_report_options: unknown format %d",
                                 (int)opts.format);
    fewshot__report rp = {0};
    json_t *headers = NULL, *cells = NULL;
    int rc = open_report(&rp, run_dir, opts.set);
    rp.out_dir = opts.out_dir && opts.out_dir[0] ? opts.out_dir : run_dir;
    if (rc == 0) {
        collect_terms(&rp);
        rc = build_rows(&rp);
    }
    if (rc == 0) {
        grid(&rp, &headers, &cells);
        rc = write_csv(&rp, headers, cells);
    }
    if (rc == 0 && opts.table) {
        json_t *skipped = fewshot__results_meta(rp.db, "skipped");
        print_output(&rp, &opts, headers, cells, json_is_object(skipped) ? skipped : NULL);
        json_decref(skipped);
    }
    json_t *plots = rp.cfg ? json_object_get(json_object_get(fewshot_config_json(rp.cfg),
                                                             "report"), "plots") : NULL;
    /* report.plots false turns the plots off; an explicit trace is still drawn */
    opts.plots = opts.plots && !json_is_false(plots);
    if (rc == 0 && (opts.plots || opts.trace_arm) && rp.n_rows)
        rc = fewshot__report_plots(&rp, &opts);
    json_decref(headers);
    json_decref(cells);
    close_report(&rp);
    return rc;
}

int fewshot_report_episodes(const char *run_dir, FILE *out)
{
    fewshot__report rp = {0};
    int rc = open_report(&rp, run_dir, NULL);
    if (rc == 0) {
        collect_terms(&rp);
        size_t nt = json_array_size(rp.terms);
        fputs("id,arm,scenario,seed,status,steps,reward,llm_calls,prompt_tokens,"
              "completion_tokens,cost,parse_failures,cache_hits", out);
        for (size_t t = 0; t < nt; t++) {
            fputc(',', out);
            csv_field(out, json_string_value(json_array_get(rp.terms, t)));
        }
        fputc('\n', out);
        for (size_t i = 0; i < rp.n_eps; i++) {
            const fewshot__rep_episode *e = &rp.eps[i];
            csv_field(out, e->id);
            fputc(',', out);
            csv_field(out, e->arm);
            fputc(',', out);
            csv_field(out, e->scenario);
            fprintf(out, ",%lld,", e->seed);
            csv_field(out, e->status);
            fprintf(out, ",%lld,%.17g,%lld,%lld,%lld,%.17g,%lld,%lld", e->steps, e->reward,
                    e->llm_calls, e->prompt_tokens, e->completion_tokens, e->cost,
                    e->parse_failures, e->cache_hits);
            for (size_t t = 0; t < nt; t++) {
                const json_t *v = json_object_get(e->terms,
                                                  json_string_value(json_array_get(rp.terms, t)));
                if (v)
                    fprintf(out, ",%.17g", json_number_value(v));
                else
                    fputc(',', out);
            }
            fputc('\n', out);
        }
    }
    close_report(&rp);
    return rc;
}
