/*
 * Reports: per arm and scenario statistics with Student t confidence intervals, paired
 * differences against the reference arm, summary.csv, a printed table, gnuplot plots.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fewshot/config.h"
#include "fewshot/env.h"
#include "fewshot/error.h"
#include "fewshot/report.h"
#include "results.h"

int fewshot_report_options_init(fewshot_report_options *opts, unsigned int version)
{
    if (version != FEWSHOT_REPORT_OPTIONS_VERSION)
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

static void mean_ci(const double *v, size_t n, double *mean, double *ci)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    *mean = n ? s / (double)n : NAN;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - *mean) * (v[i] - *mean);
    *ci = n >= 2 ? fewshot_report_t95((double)n - 1) * sqrt(ss / (double)(n - 1)) /
                       sqrt((double)n)
                 : NAN;
}

/* ---------------------------------------------------------------- rows */

typedef struct row {
    const char *arm, *scenario;     /* scenario NULL: all scenarios */
    size_t episodes, failed, pairs;
    double reward_mean, reward_ci, diff_mean, diff_ci, steps_mean;
    double *term_means;
    long long calls, prompt_tokens, completion_tokens, parse_failures, cache_hits;
    long long decisions;            /* steps decided by the LLM */
    long long cached_tokens, out_of_range;
    double cost;
    double distinct, agreement;     /* retrieval measures, means over measured steps */
} row;

typedef struct report {
    const char *dir;
    fewshot_config *cfg;
    json_t *episodes;               /* all stored episodes */
    json_t *terms;                  /* term names (array of strings) */
    const char *reference;
    row *rows;
    size_t n_rows;
} report;

static int match(const json_t *ep, const char *arm, const char *scenario)
{
    return strcmp(json_string_value(json_object_get(ep, "arm")), arm) == 0 &&
           (!scenario || strcmp(json_string_value(json_object_get(ep, "scenario")), scenario) == 0);
}

static int ok(const json_t *ep)
{
    return strcmp(json_string_value(json_object_get(ep, "status")), "ok") == 0;
}

static const json_t *find_pair(const report *rp, const json_t *ep)
{
    size_t i;
    json_t *other;
    json_array_foreach(rp->episodes, i, other) {
        if (ok(other) && match(other, rp->reference,
                               json_string_value(json_object_get(ep, "scenario"))) &&
            json_integer_value(json_object_get(other, "seed")) ==
                json_integer_value(json_object_get(ep, "seed")))
            return other;
    }
    return NULL;
}

/* The mean over steps of an episode-level mean (episodes weighted by their steps); NAN when
 * no episode has it (baselines show no demonstrations). */
static void step_mean(const report *rp, const row *r, const char *key, double *out)
{
    double sum = 0, weight = 0;
    size_t i;
    json_t *ep;
    json_array_foreach(rp->episodes, i, ep) {
        json_t *v = json_object_get(ep, key);
        if (!match(ep, r->arm, r->scenario) || !ok(ep) || !json_is_number(v))
            continue;
        double w = json_number_value(json_object_get(ep, "steps"));
        sum += w * json_number_value(v);
        weight += w;
    }
    *out = weight > 0 ? sum / weight : NAN;
}

static void compute_row(report *rp, row *r)
{
    size_t n_all = json_array_size(rp->episodes), nt = json_array_size(rp->terms);
    double *v = calloc(n_all + 1, sizeof *v), *d = calloc(n_all + 1, sizeof *d);
    double steps = 0;
    r->term_means = calloc(nt + 1, sizeof *r->term_means);
    size_t i, n = 0, np = 0;
    json_t *ep;
    json_array_foreach(rp->episodes, i, ep) {
        if (!match(ep, r->arm, r->scenario))
            continue;
        if (!ok(ep)) {
            r->failed++;
            continue;
        }
        v[n++] = json_number_value(json_object_get(ep, "reward"));
        steps += json_number_value(json_object_get(ep, "steps"));
        json_t *terms = json_object_get(ep, "terms");
        for (size_t t = 0; t < nt; t++)
            r->term_means[t] += json_number_value(json_object_get(
                terms, json_string_value(json_array_get(rp->terms, t))));
        r->calls += json_integer_value(json_object_get(ep, "llm_calls"));
        if (json_integer_value(json_object_get(ep, "llm_calls")) > 0)
            r->decisions += json_integer_value(json_object_get(ep, "steps"));
        r->prompt_tokens += json_integer_value(json_object_get(ep, "prompt_tokens"));
        r->completion_tokens += json_integer_value(json_object_get(ep, "completion_tokens"));
        r->parse_failures += json_integer_value(json_object_get(ep, "parse_failures"));
        r->cache_hits += json_integer_value(json_object_get(ep, "cache_hits"));
        r->cached_tokens += json_integer_value(json_object_get(ep, "cached_tokens"));
        r->out_of_range += json_integer_value(json_object_get(ep, "out_of_range"));
        r->cost += json_number_value(json_object_get(ep, "cost"));
        if (strcmp(r->arm, rp->reference) != 0) {
            const json_t *ref = find_pair(rp, ep);
            if (ref)
                d[np++] = json_number_value(json_object_get(ep, "reward")) -
                          json_number_value(json_object_get(ref, "reward"));
        }
    }
    r->episodes = n;
    r->pairs = np;
    mean_ci(v, n, &r->reward_mean, &r->reward_ci);
    mean_ci(d, np, &r->diff_mean, &r->diff_ci);
    for (size_t t = 0; t < nt; t++)
        r->term_means[t] = n ? r->term_means[t] / (double)n : NAN;
    r->steps_mean = n ? steps / (double)n : NAN;
    step_mean(rp, r, "demos_distinct", &r->distinct);
    step_mean(rp, r, "demos_agreement", &r->agreement);
    free(v);
    free(d);
}

static void collect_terms(report *rp)
{
    json_t *seen = json_object();
    size_t i;
    json_t *ep;
    rp->terms = json_array();
    json_array_foreach(rp->episodes, i, ep) {
        const char *key;
        json_t *value;
        json_object_foreach(json_object_get(ep, "terms"), key, value) {
            (void)value;
            if (!json_object_get(seen, key)) {
                json_object_set_new(seen, key, json_true());
                json_array_append_new(rp->terms, json_string(key));
            }
        }
    }
    json_decref(seen);
}

static int has_any(const report *rp, const char *arm, const char *scenario)
{
    size_t i;
    json_t *ep;
    json_array_foreach(rp->episodes, i, ep)
        if (match(ep, arm, scenario))
            return 1;
    return 0;
}

/* Rows: per arm and scenario (config order); with several scenarios also per arm overall. */
static int build_rows(report *rp, int with_all)
{
    const json_t *arms = fewshot_config_arms(rp->cfg);
    const json_t *scenarios = fewshot_config_scenarios(rp->cfg);
    size_t na = json_array_size(arms), ns = json_array_size(scenarios);
    rp->rows = calloc(na * (ns + 1) + 1, sizeof *rp->rows);
    if (!rp->rows)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t a = 0; a < na; a++) {
        const char *arm = json_string_value(json_object_get(json_array_get(arms, a), "name"));
        for (size_t s = 0; s <= ns; s++) {
            const char *scenario = s < ns ? json_string_value(json_object_get(
                                                json_array_get(scenarios, s), "name"))
                                          : NULL;
            if (s == ns && (!with_all || ns < 2))
                continue;
            if (!has_any(rp, arm, scenario))
                continue;
            row *r = &rp->rows[rp->n_rows++];
            r->arm = arm;
            r->scenario = scenario;
            compute_row(rp, r);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- outputs */

static void csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n")) {
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

static void csv_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.10g", v);
    else
        fputs(",", f);
}

static int write_csv(report *rp)
{
    char *path = malloc(strlen(rp->dir) + 16);
    sprintf(path, "%s/summary.csv", rp->dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        int rc = fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot write: %s",
                                      strerror(errno));
        free(path);
        return rc;
    }
    size_t nt = json_array_size(rp->terms);
    fputs("arm,scenario,episodes,reward_mean,reward_ci95,llm_calls", f);
    for (size_t t = 0; t < nt; t++) {
        fputc(',', f);
        char name[256];
        snprintf(name, sizeof name, "%s_mean", json_string_value(json_array_get(rp->terms, t)));
        csv_field(f, name);
    }
    fputs(",prompt_tokens,completion_tokens,cost,parse_failure_rate,cache_hits,failed,"
          "steps_mean,diff_mean,diff_ci95,pairs,demos_distinct,demos_agreement,cached_tokens,"
          "out_of_range\n", f);
    for (size_t i = 0; i < rp->n_rows; i++) {
        row *r = &rp->rows[i];
        if (!r->scenario)
            continue;
        csv_field(f, r->arm);
        fputc(',', f);
        csv_field(f, r->scenario);
        fprintf(f, ",%zu", r->episodes);
        csv_num(f, r->reward_mean);
        csv_num(f, r->reward_ci);
        fprintf(f, ",%lld", r->calls);
        for (size_t t = 0; t < nt; t++)
            csv_num(f, r->term_means[t]);
        fprintf(f, ",%lld,%lld", r->prompt_tokens, r->completion_tokens);
        csv_num(f, r->cost);
        csv_num(f, r->decisions ? (double)r->parse_failures / (double)r->decisions : 0.0);
        fprintf(f, ",%lld,%zu", r->cache_hits, r->failed);
        csv_num(f, r->steps_mean);
        if (strcmp(r->arm, rp->reference) == 0) {
            fputs(",,", f);
        } else {
            csv_num(f, r->diff_mean);
            csv_num(f, r->diff_ci);
        }
        fprintf(f, ",%zu", r->pairs);
        csv_num(f, r->distinct);
        csv_num(f, r->agreement);
        fprintf(f, ",%lld,%lld\n", r->cached_tokens, r->out_of_range);
    }
    int rc = 0;
    if (fclose(f) != 0)
        rc = fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
    free(path);
    return rc;
}

static void fmt_num(char *buf, size_t size, double v)
{
    if (!isfinite(v))
        snprintf(buf, size, "-");
    else if (fabs(v) >= 1e5 || (fabs(v) < 1e-3 && v != 0))
        snprintf(buf, size, "%.3g", v);
    else
        snprintf(buf, size, "%.3f", v);
}

/* A share in [0, 1] as a percentage, "-" when not measured. */
static void percent(char *buf, size_t size, double v)
{
    if (isfinite(v))
        snprintf(buf, size, "%.0f%%", 100 * v);
    else
        snprintf(buf, size, "-");
}

static void print_table(report *rp, FILE *out, const json_t *skipped)
{
    size_t nt = json_array_size(rp->terms), wa = 3, ws = 8;
    char a[64], b[64], cell[160];
    for (size_t i = 0; i < rp->n_rows; i++) {
        size_t la = strlen(rp->rows[i].arm), ls = rp->rows[i].scenario ?
                                                  strlen(rp->rows[i].scenario) : 3;
        wa = la > wa ? la : wa;
        ws = ls > ws ? ls : ws;
    }
    wa = wa > 28 ? 28 : wa;
    ws = ws > 28 ? 28 : ws;
    fprintf(out, "%-*s  %-*s  %4s  %-20s", (int)wa, "arm", (int)ws, "scenario", "n",
            "reward (95% CI)");
    for (size_t t = 0; t < nt; t++)
        fprintf(out, "  %10.10s", json_string_value(json_array_get(rp->terms, t)));
    snprintf(cell, sizeof cell, "vs %s (95%% CI)", rp->reference);
    fprintf(out, "  %6s  %9s  %8s  %6s  %5s  %8s  %5s  %s\n", "calls", "tokens", "cost",
            "pfail", "cache", "distinct", "agree", cell);
    for (size_t i = 0; i < rp->n_rows; i++) {
        row *r = &rp->rows[i];
        fmt_num(a, sizeof a, r->reward_mean);
        fmt_num(b, sizeof b, r->reward_ci);
        snprintf(cell, sizeof cell, "%s +- %s", a, b);
        fprintf(out, "%-*.*s  %-*.*s  %4zu  %-20s", (int)wa, (int)wa, r->arm, (int)ws, (int)ws,
                r->scenario ? r->scenario : "all", r->episodes, cell);
        for (size_t t = 0; t < nt; t++) {
            fmt_num(a, sizeof a, r->term_means[t]);
            fprintf(out, "  %10s", a);
        }
        double pf = r->decisions ? 100.0 * (double)r->parse_failures / (double)r->decisions : 0;
        fprintf(out, "  %6lld  %9lld  %8.4f  %5.1f%%  %5lld", r->calls,
                r->prompt_tokens + r->completion_tokens, r->cost, pf, r->cache_hits);
        percent(a, sizeof a, r->distinct);
        percent(b, sizeof b, r->agreement);
        fprintf(out, "  %8s  %5s", a, b);
        if (strcmp(r->arm, rp->reference) == 0) {
            fprintf(out, "  (reference)");
        } else if (r->pairs) {
            fmt_num(a, sizeof a, r->diff_mean);
            fmt_num(b, sizeof b, r->diff_ci);
            fprintf(out, "  %s%s +- %s", r->diff_mean > 0 ? "+" : "", a, b);
        }
        if (r->failed)
            fprintf(out, "  [%zu failed]", r->failed);
        fputc('\n', out);
    }
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)skipped, key, value)
        fprintf(out, "skipped arm %s: %s\n", key, json_string_value(value));
}

/* ---------------------------------------------------------------- plots */

static void safe_name(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; *in && i + 1 < size; in++)
        out[i++] = ((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') ||
                    (*in >= '0' && *in <= '9') || *in == '-' || *in == '.' || *in == '_')
                       ? *in : '_';
    out[i] = '\0';
}

static void gp_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static FILE *open_in(const char *dir, const char *name)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
    free(path);
    return f;
}

static int plot_arms(report *rp, json_t *scripts)
{
    const json_t *scenarios = fewshot_config_scenarios(rp->cfg);
    const json_t *arms = fewshot_config_arms(rp->cfg);
    size_t ns = json_array_size(scenarios), na = json_array_size(arms);
    FILE *dat = open_in(rp->dir, "arms.dat");
    if (!dat)
        return fewshot_error_last()->code;
    fprintf(dat, "# arm_index arm scenario reward_mean reward_ci95 episodes\n");
    for (size_t s = 0; s < ns; s++) {
        const char *sc = json_string_value(json_object_get(json_array_get(scenarios, s), "name"));
        if (s)
            fputs("\n\n", dat);
        for (size_t i = 0; i < rp->n_rows; i++) {
            row *r = &rp->rows[i];
            if (!r->scenario || strcmp(r->scenario, sc) != 0)
                continue;
            size_t a = 0;
            while (a < na && strcmp(json_string_value(json_object_get(json_array_get(arms, a),
                                                                      "name")), r->arm) != 0)
                a++;
            fprintf(dat, "%zu ", a);
            gp_string(dat, r->arm);
            fputc(' ', dat);
            gp_string(dat, sc);
            fprintf(dat, " %.10g %.10g %zu\n", r->reward_mean,
                    isfinite(r->reward_ci) ? r->reward_ci : 0.0, r->episodes);
        }
    }
    fclose(dat);
    FILE *gp = open_in(rp->dir, "arms.gp");
    if (!gp)
        return fewshot_error_last()->code;
    fprintf(gp, "# Mean episode reward per arm with 95%% confidence intervals, one colour per\n"
                "# scenario. Written by `fewshot report`; edit and rerun: gnuplot arms.gp\n"
                "set terminal svg size 960,540 dynamic font 'sans,11'\n"
                "set output 'arms.svg'\n"
                "set title 'Mean episode reward by arm (95%% CI)' noenhanced\n"
                "set ylabel 'episode reward'\n"
                "set grid ytics\n"
                "set key outside right top noenhanced\n"
                "set xrange [-0.6:%zu.6]\n"
                "set xtics rotate by -30 noenhanced (", na ? na - 1 : 0);
    for (size_t a = 0; a < na; a++) {
        gp_string(gp, json_string_value(json_object_get(json_array_get(arms, a), "name")));
        fprintf(gp, " %zu%s", a, a + 1 < na ? ", " : "");
    }
    fprintf(gp, ")\narray S[%zu]\n", ns ? ns : 1);
    for (size_t s = 0; s < ns; s++) {
        fprintf(gp, "S[%zu] = ", s + 1);
        gp_string(gp, json_string_value(json_object_get(json_array_get(scenarios, s), "name")));
        fputc('\n', gp);
    }
    fprintf(gp, "n = %zu\n"
                "plot for [i=0:n-1] 'arms.dat' index i using ($1 + (i - (n - 1) / 2.0) * 0.12)"
                ":4:5 with yerrorbars pointtype 7 pointsize 0.8 title S[i+1]\n", ns ? ns : 1);
    fclose(gp);
    json_array_append_new(scripts, json_string("arms.gp"));
    return 0;
}

/* Episode traces for thermal plugins: zone temperatures (the first act-dim observation
 * elements) with the target, and the actions; first scenario, first seed, every arm. */
static int plot_traces(report *rp, fewshot__results *db, json_t *scripts)
{
    const json_t *conf = fewshot_config_json(rp->cfg);
    const char *plugin = json_string_value(json_object_get(json_object_get(conf, "env"),
                                                           "plugin"));
    if (!plugin || (strcmp(plugin, "hvac") != 0 && strcmp(plugin, "room") != 0))
        return 0;
    const json_t *sc = json_array_get(fewshot_config_scenarios(rp->cfg), 0);
    const char *scenario = json_string_value(json_object_get(sc, "name"));
    json_int_t seed = json_integer_value(json_array_get(fewshot_config_seeds(rp->cfg), 0));
    double target = NAN;
    fewshot_env *env;
    if (fewshot_env_new(&env, plugin, json_object_get(sc, "params")) == 0) {
        json_t *params;
        if (fewshot_env_params(env, &params) == 0) {
            json_t *t = json_object_get(params, "target");
            if (json_is_number(t))
                target = json_number_value(t);
            json_decref(params);
        }
        fewshot_env_free(env);
    }
    fewshot_error_clear();
    size_t i;
    json_t *ep;
    json_array_foreach(rp->episodes, i, ep) {
        if (!ok(ep) || !match(ep, json_string_value(json_object_get(ep, "arm")), scenario) ||
            json_integer_value(json_object_get(ep, "seed")) != seed)
            continue;
        const char *arm = json_string_value(json_object_get(ep, "arm"));
        json_t *steps;
        if (fewshot__results_steps(db, json_string_value(json_object_get(ep, "id")), &steps))
            return fewshot_error_last()->code;
        json_t *first = json_array_get(steps, 0);
        size_t zones = json_array_size(json_object_get(first, "action"));
        if (!first || zones == 0 || json_array_size(json_object_get(first, "obs")) < zones) {
            json_decref(steps);
            continue;
        }
        char safe[200], name[256];
        safe_name(arm, safe, sizeof safe);
        snprintf(name, sizeof name, "trace-%s.dat", safe);
        FILE *dat = open_in(rp->dir, name);
        if (!dat) {
            json_decref(steps);
            return fewshot_error_last()->code;
        }
        fprintf(dat, "t");
        for (size_t z = 0; z < zones; z++)
            fprintf(dat, " zone%zu", z + 1);
        for (size_t z = 0; z < zones; z++)
            fprintf(dat, " action%zu", z + 1);
        fputc('\n', dat);
        size_t j;
        json_t *st;
        json_array_foreach(steps, j, st) {
            fprintf(dat, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(st, "t")));
            for (size_t z = 0; z < zones; z++)
                fprintf(dat, " %.6g", json_number_value(json_array_get(
                                          json_object_get(st, "obs"), z)));
            for (size_t z = 0; z < zones; z++)
                fprintf(dat, " %.6g", json_number_value(json_array_get(
                                          json_object_get(st, "action"), z)));
            fputc('\n', dat);
        }
        fclose(dat);
        json_decref(steps);
        snprintf(name, sizeof name, "trace-%s.gp", safe);
        FILE *gp = open_in(rp->dir, name);
        if (!gp)
            return fewshot_error_last()->code;
        fprintf(gp, "# Episode trace of arm %s, scenario %s, seed %" JSON_INTEGER_FORMAT ":\n"
                    "# zone temperatures with the target (top) and actions (bottom).\n"
                    "# Written by `fewshot report`; edit and rerun: gnuplot %s\n"
                    "set terminal svg size 960,640 dynamic font 'sans,11'\n"
                    "set output 'trace-%s.svg'\n"
                    "set multiplot layout 2,1 title ", arm, scenario, seed, name, safe);
        char title[600];
        snprintf(title, sizeof title, "%s, %s, seed %" JSON_INTEGER_FORMAT, arm, scenario, seed);
        gp_string(gp, title);
        fprintf(gp, " noenhanced\nset key outside right noenhanced autotitle columnhead\n"
                    "set grid\nset ylabel 'temperature (C)'\nzones = %zu\n", zones);
        fprintf(gp, "plot for [i=2:zones+1] 'trace-%s.dat' using 1:i with lines", safe);
        if (isfinite(target))
            fprintf(gp, ", %.6g with lines dashtype 2 linecolor 'black' title 'target'", target);
        fprintf(gp, "\nset ylabel 'action'\nset xlabel 'step'\n"
                    "plot for [i=zones+2:2*zones+1] 'trace-%s.dat' using 1:i with steps\n"
                    "unset multiplot\n", safe);
        fclose(gp);
        json_array_append_new(scripts, json_string(name));
    }
    return 0;
}

static char *find_gnuplot(void)
{
    const char *env = getenv("FEWSHOT_GNUPLOT");
    if (env)
        return env[0] ? strdup(env) : NULL;
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin"), *save = NULL, *out = NULL;
    for (char *d = strtok_r(copy, ":", &save); d && !out; d = strtok_r(NULL, ":", &save)) {
        char *cand = malloc(strlen(d) + 10);
        sprintf(cand, "%s/gnuplot", d);
        if (access(cand, X_OK) == 0)
            out = cand;
        else
            free(cand);
    }
    free(copy);
#ifdef FEWSHOT_GNUPLOT
    if (!out && FEWSHOT_GNUPLOT[0] && access(FEWSHOT_GNUPLOT, X_OK) == 0)
        out = strdup(FEWSHOT_GNUPLOT);
#endif
    return out;
}

/* Run gnuplot on each script inside the run directory; its messages go to gnuplot.log. */
static void render(const char *dir, const json_t *scripts)
{
    char *gnuplot = find_gnuplot();
    if (!gnuplot)
        return;
    size_t i;
    json_t *script;
    json_array_foreach(scripts, i, script) {
        pid_t pid = fork();
        if (pid == 0) {
            if (chdir(dir) != 0)
                _exit(127);
            int fd = open("gnuplot.log", O_WRONLY | O_CREAT | O_APPEND, 0666);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
            execl(gnuplot, "gnuplot", json_string_value(script), (char *)NULL);
            _exit(127);
        }
        if (pid > 0) {
            int status;
            waitpid(pid, &status, 0);
        }
    }
    free(gnuplot);
}

/* ---------------------------------------------------------------- entry points */

static int open_report(report *rp, const char *dir, fewshot__results **db)
{
    json_t *conf;
    int rc = fewshot__results_open(db, dir, 0, NULL, NULL);
    if (rc)
        return rc;
    if ((rc = fewshot__results_config(*db, &conf)) != 0)
        return rc;
    char *text = json_dumps(conf, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(conf);
    char *name = malloc(strlen(dir) + 32);
    sprintf(name, "%s/results.sqlite", dir);
    rc = fewshot_config_parse(&rp->cfg, text, name);
    free(text);
    free(name);
    if (rc)
        return rc;
    rp->dir = dir;
    rp->reference = fewshot_config_reference(rp->cfg);
    if ((rc = fewshot__results_episodes(*db, &rp->episodes)) != 0)
        return rc;
    /* a reference arm that did not run (skipped) gives way to the first arm that did */
    if (!has_any(rp, rp->reference, NULL)) {
        size_t i;
        json_t *arm;
        json_array_foreach(fewshot_config_arms(rp->cfg), i, arm) {
            const char *arm_name = json_string_value(json_object_get(arm, "name"));
            if (has_any(rp, arm_name, NULL)) {
                rp->reference = arm_name;
                break;
            }
        }
    }
    return 0;
}

static void close_report(report *rp, fewshot__results *db)
{
    for (size_t i = 0; i < rp->n_rows; i++)
        free(rp->rows[i].term_means);
    free(rp->rows);
    json_decref(rp->episodes);
    json_decref(rp->terms);
    fewshot_config_free(rp->cfg);
    fewshot__results_close(db);
}

int fewshot_report_run(const char *run_dir, const fewshot_report_options *opts)
{
    fewshot_report_options defaults = FEWSHOT_REPORT_OPTIONS_INIT;
    report rp = {0};
    fewshot__results *db = NULL;
    if (!opts)
        opts = &defaults;
    if (opts->version != FEWSHOT_REPORT_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_report_options: wrong version");
    int rc = open_report(&rp, run_dir, &db);
    if (rc == 0) {
        collect_terms(&rp);
        rc = build_rows(&rp, 1);
    }
    if (rc == 0)
        rc = write_csv(&rp);
    if (rc == 0 && opts->table) {
        json_t *skipped = fewshot__results_meta(db, "skipped");
        print_table(&rp, opts->table, skipped);
        json_decref(skipped);
    }
    int plots = rc == 0 && opts->plots && json_is_true(json_object_get(
        json_object_get(fewshot_config_json(rp.cfg), "report"), "plots"));
    if (rc == 0 && plots && rp.n_rows) {
        json_t *scripts = json_array();
        rc = plot_arms(&rp, scripts);
        if (rc == 0)
            rc = plot_traces(&rp, db, scripts);
        if (rc == 0)
            render(run_dir, scripts);
        json_decref(scripts);
    }
    close_report(&rp, db);
    return rc;
}

int fewshot_report_episodes(const char *run_dir, FILE *out)
{
    report rp = {0};
    fewshot__results *db = NULL;
    int rc = open_report(&rp, run_dir, &db);
    if (rc == 0) {
        fputs("id,arm,scenario,seed,status,steps,reward,llm_calls,prompt_tokens,"
              "completion_tokens,cost,parse_failures,cache_hits\n", out);
        size_t i;
        json_t *ep;
        json_array_foreach(rp.episodes, i, ep) {
            csv_field(out, json_string_value(json_object_get(ep, "id")));
            fputc(',', out);
            csv_field(out, json_string_value(json_object_get(ep, "arm")));
            fputc(',', out);
            csv_field(out, json_string_value(json_object_get(ep, "scenario")));
            fprintf(out, ",%" JSON_INTEGER_FORMAT ",%s,%" JSON_INTEGER_FORMAT ",%.17g,%"
                    JSON_INTEGER_FORMAT ",%" JSON_INTEGER_FORMAT ",%" JSON_INTEGER_FORMAT
                    ",%.17g,%" JSON_INTEGER_FORMAT ",%" JSON_INTEGER_FORMAT "\n",
                    json_integer_value(json_object_get(ep, "seed")),
                    json_string_value(json_object_get(ep, "status")),
                    json_integer_value(json_object_get(ep, "steps")),
                    json_number_value(json_object_get(ep, "reward")),
                    json_integer_value(json_object_get(ep, "llm_calls")),
                    json_integer_value(json_object_get(ep, "prompt_tokens")),
                    json_integer_value(json_object_get(ep, "completion_tokens")),
                    json_number_value(json_object_get(ep, "cost")),
                    json_integer_value(json_object_get(ep, "parse_failures")),
                    json_integer_value(json_object_get(ep, "cache_hits")));
        }
    }
    close_report(&rp, db);
    return rc;
}
