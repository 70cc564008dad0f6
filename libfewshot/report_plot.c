/*
 * Report plots: gnuplot data files and editable scripts (arm rewards, aggregate normalized
 * scores, paired differences to the reference, performance profiles, episode traces for
 * every plugin from its element names), rendered to SVG when gnuplot is found.
 *
 * Names come from configs, run directories and plugins, none of them trusted: they reach a
 * script only as gnuplot single-quoted strings (no command substitution happens inside
 * them), never in comments, and file names are reduced to [A-Za-z0-9._-].
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fewshot/env.h"
#include "fewshot/error.h"
#include "fewshot/space.h"
#include "report_internal.h"

void fewshot__gp_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; s && *s; s++) {
        if (*s == '\'')
            fputs("''", f);
        else
            fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
    }
    fputc('\'', f);
}

static void safe_name(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; *in && i + 1 < size; in++)
        out[i++] = ((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') ||
                    (*in >= '0' && *in <= '9') || *in == '-' || *in == '.' || *in == '_')
                       ? *in : '_';
    out[i] = '\0';
    if (out[0] == '.')
        out[0] = '_';
}

static double or_zero(double v)
{
    return isfinite(v) ? v : 0.0;
}

/* Arm names as the x tics of a per-arm plot. */
static void arm_tics(FILE *gp, const fewshot__report *rp)
{
    fputs("set xtics rotate by -30 noenhanced (", gp);
    for (size_t a = 0; a < rp->n_arms; a++) {
        fewshot__gp_quote(gp, fewshot__rep_arm_name(rp, a));
        fprintf(gp, " %zu%s", a, a + 1 < rp->n_arms ? ", " : "");
    }
    fprintf(gp, ")\nset xrange [-0.6:%zu.6]\n", rp->n_arms ? rp->n_arms - 1 : 0);
}

static void scenario_array(FILE *gp, const fewshot__report *rp)
{
    fprintf(gp, "array S[%zu]\n", rp->n_scen ? rp->n_scen : 1);
    for (size_t s = 0; s < rp->n_scen; s++) {
        fprintf(gp, "S[%zu] = ", s + 1);
        fewshot__gp_quote(gp, fewshot__rep_scenario_name(rp, s));
        fputc('\n', gp);
    }
    fprintf(gp, "n = %zu\n", rp->n_scen ? rp->n_scen : 1);
}

/* Per-scenario blocks of (arm index, value, CI half-width) for the rows of each scenario. */
static int per_scenario(fewshot__report *rp, const char *file, int diff)
{
    FILE *dat = fewshot__rep_open(rp, file, NULL);
    if (!dat)
        return fewshot_error_last()->code;
    fprintf(dat, "# arm_index %s episodes_or_pairs (arm and scenario names: the .gp file)\n",
            diff ? "diff_mean diff_ci95" : "reward_mean reward_ci95");
    for (size_t s = 0; s < rp->n_scen; s++) {
        const char *sc = fewshot__rep_scenario_name(rp, s);
        if (s)
            fputs("\n\n", dat);
        fprintf(dat, "# scenario %zu\n", s + 1);
        for (size_t i = 0; i < rp->n_rows; i++) {
            fewshot__rep_row *r = &rp->rows[i];
            if (!r->scenario || strcmp(r->scenario, sc) != 0)
                continue;
            if (diff && (strcmp(r->arm, rp->reference) == 0 || !r->pairs))
                continue;
            fprintf(dat, "%zu %.10g %.10g %zu\n", r->arm_index,
                    diff ? r->diff_mean : r->reward_mean,
                    or_zero(diff ? r->diff_ci : r->reward_ci), diff ? r->pairs : r->episodes);
        }
    }
    return fclose(dat) == 0 ? 0 : fewshot_error_set(FEWSHOT_EIO, "cannot write %s", file);
}

static int plot_arms(fewshot__report *rp, json_t *scripts)
{
    int rc = per_scenario(rp, "arms.dat", 0);
    FILE *gp = rc ? NULL : fewshot__rep_open(rp, "arms.gp", NULL);
    if (!gp)
        return rc ? rc : fewshot_error_last()->code;
    fputs("# Mean episode reward per arm with 95% confidence intervals, one colour per\n"
          "# scenario. Written by `fewshot report`; edit and rerun: gnuplot arms.gp\n"
          "set terminal svg size 960,540 dynamic font 'sans,11'\n"
          "set output 'arms.svg'\n"
          "set title 'Mean episode reward by arm (95% CI)' noenhanced\n"
          "set ylabel 'episode reward'\nset grid ytics\nset key outside right top noenhanced\n",
          gp);
    arm_tics(gp, rp);
    scenario_array(gp, rp);
    fputs("plot for [i=0:n-1] 'arms.dat' index i using ($1 + (i - (n - 1) / 2.0) * 0.12)"
          ":2:3 with yerrorbars pointtype 7 pointsize 0.8 title S[i+1]\n", gp);
    fclose(gp);
    json_array_append_new(scripts, json_string("arms.gp"));
    return 0;
}

static int plot_diffs(fewshot__report *rp, json_t *scripts)
{
    int any = 0;
    for (size_t i = 0; i < rp->n_rows; i++)
        any |= rp->rows[i].scenario && rp->rows[i].pairs > 0;
    if (!any)           /* nothing but the reference ran */
        return 0;
    int rc = per_scenario(rp, "diffs.dat", 1);
    FILE *gp = rc ? NULL : fewshot__rep_open(rp, "diffs.gp", NULL);
    if (!gp)
        return rc ? rc : fewshot_error_last()->code;
    fputs("# Paired difference of each arm's episode reward to the reference arm's (same\n"
          "# scenario and seed), mean with 95% CI, one colour per scenario.\n"
          "# Written by `fewshot report`; edit and rerun: gnuplot diffs.gp\n"
          "set terminal svg size 960,540 dynamic font 'sans,11'\n"
          "set output 'diffs.svg'\n"
          "set ylabel 'reward difference (95% CI)'\nset grid ytics\n"
          "set key outside right top noenhanced\nset xzeroaxis linetype -1\n"
          "set title 'Paired difference to ' . ", gp);
    fewshot__gp_quote(gp, rp->reference);
    fputs(" noenhanced\n", gp);
    arm_tics(gp, rp);
    scenario_array(gp, rp);
    fputs("plot for [i=0:n-1] 'diffs.dat' index i using ($1 + (i - (n - 1) / 2.0) * 0.12)"
          ":2:3 with yerrorbars pointtype 7 pointsize 0.8 title S[i+1]\n", gp);
    fclose(gp);
    json_array_append_new(scripts, json_string("diffs.gp"));
    return 0;
}

/* The rows holding each arm's aggregate (the `all` rows, or the only scenario's rows). */
static int aggregate_row(const fewshot__report *rp, const fewshot__rep_row *r)
{
    return rp->n_scen > 1 ? r->scenario == NULL : 1;
}

static int plot_scores(fewshot__report *rp, json_t *scripts)
{
    int any = 0;
    for (size_t i = 0; i < rp->n_rows; i++)
        any |= aggregate_row(rp, &rp->rows[i]) && isfinite(rp->rows[i].score_mean.value);
    if (!any)
        return 0;
    FILE *dat = fewshot__rep_open(rp, "scores.dat", NULL);
    if (!dat)
        return fewshot_error_last()->code;
    fputs("# arm_index mean low high iqm low high median low high (normalized scores)\n", dat);
    for (size_t i = 0; i < rp->n_rows; i++) {
        const fewshot__rep_row *r = &rp->rows[i];
        if (!aggregate_row(rp, r) || !isfinite(r->score_mean.value))
            continue;
        const fewshot__estimate *e[3] = {&r->score_mean, &r->score_iqm, &r->score_median};
        fprintf(dat, "%zu", r->arm_index);
        for (int k = 0; k < 3; k++)
            fprintf(dat, " %.10g %.10g %.10g", e[k]->value, isfinite(e[k]->low) ? e[k]->low
                    : e[k]->value, isfinite(e[k]->high) ? e[k]->high : e[k]->value);
        fputc('\n', dat);
    }
    fclose(dat);
    FILE *gp = fewshot__rep_open(rp, "scores.gp", NULL);
    if (!gp)
        return fewshot_error_last()->code;
    fputs("# Aggregate normalized scores per arm (mean, IQM, median over all scenarios' episodes)\n"
          "# with stratified bootstrap 95% CIs. Written by `fewshot report`; edit and rerun:\n"
          "# gnuplot scores.gp\n"
          "set terminal svg size 960,540 dynamic font 'sans,11'\n"
          "set output 'scores.svg'\n"
          "set ylabel 'normalized score'\nset grid ytics\nset key outside right top\n"
          "set title sprintf('Normalized score (%s = 0, %s = 1), 95% bootstrap CI', ", gp);
    fewshot__gp_quote(gp, rp->score_zero);
    fputs(", ", gp);
    fewshot__gp_quote(gp, rp->score_one);
    fputs(") noenhanced\n", gp);
    arm_tics(gp, rp);
    fputs("plot 'scores.dat' using ($1 - 0.15):2:3:4 with yerrorbars pointtype 7 title 'mean', \\\n"
          "     '' using 1:5:6:7 with yerrorbars pointtype 5 title 'IQM', \\\n"
          "     '' using ($1 + 0.15):8:9:10 with yerrorbars pointtype 9 title 'median'\n", gp);
    fclose(gp);
    json_array_append_new(scripts, json_string("scores.gp"));
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Performance profiles: the share of an arm's episodes whose normalized score exceeds tau
 * (raw rewards when no score is defined and the run has one scenario). */
static int plot_profile(fewshot__report *rp, json_t *scripts)
{
    int raw = 1;
    for (size_t i = 0; i < rp->n_rows; i++)
        if (aggregate_row(rp, &rp->rows[i]) && isfinite(rp->rows[i].score_mean.value))
            raw = 0;
    if (raw && rp->n_scen != 1)
        return 0;
    FILE *dat = fewshot__rep_open(rp, "profile.dat", NULL);
    if (!dat)
        return fewshot_error_last()->code;
    double *v = malloc((rp->n_eps + 1) * sizeof *v);
    json_t *arms = json_array();
    fprintf(dat, "# one block per arm: tau, share of episodes with %s > tau\n",
            raw ? "reward" : "normalized score");
    for (size_t i = 0; v && i < rp->n_rows; i++) {
        const fewshot__rep_row *r = &rp->rows[i];
        if (!aggregate_row(rp, r) || (!raw && !isfinite(r->score_mean.value)))
            continue;
        size_t n = 0;
        for (size_t s = 0; s < rp->n_scen; s++) {
            size_t c = r->arm_index * rp->n_scen + s;
            for (size_t j = 0; j < rp->counts[c]; j++)
                v[n++] = raw ? rp->rewards[c][j] : (rp->rewards[c][j] - rp->zero_at[s]) /
                                                       (rp->one_at[s] - rp->zero_at[s]);
        }
        if (!n)
            continue;
        qsort(v, n, sizeof *v, cmp_double);
        if (json_array_size(arms))
            fputs("\n\n", dat);
        double span = v[n - 1] - v[0] > 0 ? v[n - 1] - v[0] : 1.0;
        fprintf(dat, "%.10g 1\n", v[0] - 0.05 * span);
        for (size_t k = 0; k < n; k++)
            fprintf(dat, "%.10g %.10g\n", v[k], (double)(n - k - 1) / (double)n);
        fprintf(dat, "%.10g 0\n", v[n - 1] + 0.05 * span);
        json_array_append_new(arms, json_string(r->arm));
    }
    free(v);
    fclose(dat);
    FILE *gp = fewshot__rep_open(rp, "profile.gp", NULL);
    if (!gp) {
        json_decref(arms);
        return fewshot_error_last()->code;
    }
    fprintf(gp, "# Performance profiles: the share of each arm's episodes scoring above tau.\n"
                "# Written by `fewshot report`; edit and rerun: gnuplot profile.gp\n"
                "set terminal svg size 960,540 dynamic font 'sans,11'\n"
                "set output 'profile.svg'\n"
                "set xlabel '%s tau'\nset ylabel 'share of episodes above tau'\n"
                "set yrange [0:1.05]\nset grid\nset key outside right top noenhanced\n"
                "set title 'Performance profiles' noenhanced\narray A[%zu]\n",
            raw ? "episode reward" : "normalized score", json_array_size(arms) + 1);
    size_t i;
    json_t *name;
    json_array_foreach(arms, i, name) {
        fprintf(gp, "A[%zu] = ", i + 1);
        fewshot__gp_quote(gp, json_string_value(name));
        fputc('\n', gp);
    }
    fprintf(gp, "plot for [i=0:%zu] 'profile.dat' index i using 1:2 with steps linewidth 1.5 "
                "title A[i+1]\n", json_array_size(arms) ? json_array_size(arms) - 1 : 0);
    fclose(gp);
    json_decref(arms);
    json_array_append_new(scripts, json_string("profile.gp"));
    return 0;
}

/* ---------------------------------------------------------------- episode traces */

/* The one place the report reads stored steps: {"t", "obs": [..], "action": [..],
 * "reward"} per step, whatever the storage. */
static int read_steps(fewshot__report *rp, const char *episode, json_t **out)
{
    return fewshot__results_steps(rp->db, episode, out);
}

typedef struct trace_env {
    char **obs_names, **act_names;
    size_t obs_dim, act_dim;
    double target;
} trace_env;

static void trace_env_free(trace_env *te)
{
    for (size_t i = 0; te->obs_names && i < te->obs_dim; i++)
        free(te->obs_names[i]);
    for (size_t i = 0; te->act_names && i < te->act_dim; i++)
        free(te->act_names[i]);
    free(te->obs_names);
    free(te->act_names);
}

static char **space_names(const fewshot_space *sp, size_t dim, const char *prefix)
{
    char **names = calloc(dim + 1, sizeof *names);
    for (size_t i = 0; names && i < dim; i++) {
        const char *n = sp && i < sp->dim ? fewshot_space_name(sp, i) : NULL;
        char buf[64];
        snprintf(buf, sizeof buf, "%s %zu", prefix, i + 1);
        names[i] = strdup(n ? n : buf);
    }
    return names;
}

/* Element names and the target from the plugin built for the scenario (numbered names
 * when the plugin cannot be loaded here). */
static void trace_env_init(fewshot__report *rp, size_t scenario, size_t obs_dim,
                           size_t act_dim, trace_env *te)
{
    const json_t *conf = fewshot_config_json(rp->cfg);
    const char *plugin = json_string_value(json_object_get(json_object_get(conf, "env"),
                                                           "plugin"));
    const json_t *sc = json_array_get(fewshot_config_scenarios(rp->cfg), scenario);
    fewshot_env *env = NULL;
    te->obs_dim = obs_dim;
    te->act_dim = act_dim;
    te->target = NAN;
    if (plugin && fewshot_env_new(&env, plugin, json_object_get(sc, "params")) != 0)
        env = NULL;
    te->obs_names = space_names(env ? fewshot_env_obs_space(env) : NULL, obs_dim, "obs");
    te->act_names = space_names(env ? fewshot_env_act_space(env) : NULL, act_dim, "action");
    json_t *params;
    if (env && fewshot_env_params(env, &params) == 0) {
        json_t *t = json_object_get(params, "target");
        if (json_is_number(t))
            te->target = json_number_value(t);
        json_decref(params);
    }
    fewshot_env_free(env);
    fewshot_error_clear();
}

static void gp_names(FILE *gp, const char *array, char **names, size_t n)
{
    fprintf(gp, "array %s[%zu]\n", array, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        fprintf(gp, "%s[%zu] = ", array, i + 1);
        fewshot__gp_quote(gp, names[i]);
        fputc('\n', gp);
    }
}

static int write_trace_data(fewshot__report *rp, const char *name, const json_t *steps,
                            size_t no, size_t na)
{
    FILE *dat = fewshot__rep_open(rp, name, NULL);
    if (!dat)
        return fewshot_error_last()->code;
    fprintf(dat, "# step, %zu observation elements, %zu action elements, reward "
                 "(names: the .gp file)\n", no, na);
    size_t j;
    json_t *st;
    json_array_foreach(steps, j, st) {
        const json_t *obs = json_object_get(st, "obs"), *act = json_object_get(st, "action");
        fprintf(dat, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(st, "t")));
        for (size_t z = 0; z < no; z++)
            fprintf(dat, " %.6g", json_number_value(json_array_get(obs, z)));
        for (size_t z = 0; z < na; z++)
            fprintf(dat, " %.6g", json_number_value(json_array_get(act, z)));
        fprintf(dat, " %.6g\n", json_number_value(json_object_get(st, "reward")));
    }
    return fclose(dat) == 0 ? 0 : fewshot_error_set(FEWSHOT_EIO, "cannot write %s", name);
}

/* Observation elements far larger than the typical one (irradiance beside temperatures,
 * cash beside prices) go on the right axis, so the others stay readable: those whose
 * largest magnitude exceeds 20 times the median element's. Returns how many. */
static size_t right_axis(const json_t *steps, size_t no, int *y2)
{
    double *peak = calloc(no + 1, sizeof *peak), *sorted = calloc(no + 1, sizeof *sorted);
    size_t j, moved = 0;
    json_t *st;
    if (!peak || !sorted) {
        free(peak);
        free(sorted);
        return 0;
    }
    json_array_foreach(steps, j, st) {
        for (size_t z = 0; z < no; z++) {
            double v = fabs(json_number_value(json_array_get(json_object_get(st, "obs"), z)));
            peak[z] = isfinite(v) && v > peak[z] ? v : peak[z];
        }
    }
    memcpy(sorted, peak, no * sizeof *peak);
    qsort(sorted, no, sizeof *sorted, cmp_double);
    double median = sorted[no / 2];
    for (size_t z = 0; z < no; z++) {
        y2[z] = median > 0 && peak[z] > 20 * median;
        moved += (size_t)y2[z];
    }
    free(peak);
    free(sorted);
    return moved;
}

static int plot_trace(fewshot__report *rp, const fewshot__rep_episode *e, const char *stem,
                      json_t *scripts)
{
    json_t *steps;
    int rc = read_steps(rp, e->id, &steps);
    if (rc)
        return rc;
    json_t *first = json_array_get(steps, 0);
    size_t no = json_array_size(json_object_get(first, "obs"));
    size_t na = json_array_size(json_object_get(first, "action"));
    if (!first || no + na == 0) {
        json_decref(steps);
        return 0;
    }
    char dat[320], gpname[320];
    snprintf(dat, sizeof dat, "%s.dat", stem);
    snprintf(gpname, sizeof gpname, "%s.gp", stem);
    int *y2 = calloc(no + 1, sizeof *y2);
    if (!y2 || (rc = write_trace_data(rp, dat, steps, no, na)) != 0) {
        free(y2);
        json_decref(steps);
        return rc ? rc : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    size_t n_right = no > 2 ? right_axis(steps, no, y2) : 0;
    json_decref(steps);
    trace_env te;
    trace_env_init(rp, (size_t)e->scenario_index, no, na, &te);
    FILE *gp = fewshot__rep_open(rp, gpname, NULL);
    if (!gp) {
        trace_env_free(&te);
        return fewshot_error_last()->code;
    }
    fprintf(gp, "# Episode trace: observations (top), actions (middle) and reward (bottom) per\n"
                "# step. Written by `fewshot report`; edit and rerun: gnuplot %s\n"
                "set terminal svg size 960,900 dynamic font 'sans,11'\n"
                "set output '%s.svg'\n", gpname, stem);
    fputs("arm = ", gp);
    fewshot__gp_quote(gp, e->arm);
    fputs("\nscenario = ", gp);
    fewshot__gp_quote(gp, e->scenario);
    fprintf(gp, "\nseed = %lld\n", e->seed);
    gp_names(gp, "OBS", te.obs_names, no);
    gp_names(gp, "ACT", te.act_names, na);
    fprintf(gp, "# R[i] = 1: observation i is drawn against the right axis (a larger scale)\n"
                "array R[%zu]\n", no ? no : 1);
    for (size_t z = 0; z < no; z++)
        fprintf(gp, "R[%zu] = %d\n", z + 1, y2[z]);
    free(y2);
    fprintf(gp, "no = %zu\nna = %zu\n"
                "set multiplot layout 3,1 title sprintf('%%s, %%s, seed %%d', arm, scenario, seed)"
                " noenhanced\nset key outside right noenhanced\nset grid\n"
                "set ylabel 'observation'\n%s"
                "plot for [i=1:no] '%s' using 1:(R[i] ? NaN : column(i + 1)) with lines "
                "title (R[i] ? '' : OBS[i])",
            no, na, n_right ? "set ytics nomirror\nset y2tics\nset y2label 'observation "
                              "(right axis)'\n" : "", dat);
    if (n_right)
        fprintf(gp, ", \\\n     for [i=1:no] '%s' using 1:(R[i] ? column(i + 1) : NaN) axes x1y2 "
                    "with lines dashtype 3 title (R[i] ? OBS[i] . ' (right)' : '')", dat);
    if (isfinite(te.target))
        fprintf(gp, ", %.6g with lines dashtype 2 linecolor 'black' title 'target'", te.target);
    fprintf(gp, "\nunset y2tics\nunset y2label\nset ytics mirror\nset ylabel 'action'\n"
                "plot for [i=1:na] '%s' using 1:(column(no + i + 1)) with steps title ACT[i]\n"
                "set ylabel 'reward'\nset xlabel 'step'\n"
                "plot '%s' using 1:(column(no + na + 2)) with steps title 'reward'\n"
                "unset multiplot\n", dat, dat);
    fclose(gp);
    trace_env_free(&te);
    json_array_append_new(scripts, json_string(gpname));
    return 0;
}

/* With a chosen episode, its trace; otherwise the first scenario's first seed, every arm. */
static int plot_traces(fewshot__report *rp, const fewshot_report_options *opts, json_t *scripts)
{
    const json_t *seeds = fewshot_config_seeds(rp->cfg);
    const char *scenario = opts->trace_arm ? opts->trace_scenario
                                           : fewshot__rep_scenario_name(rp, 0);
    long long seed = opts->trace_arm ? (long long)opts->trace_seed
                                     : (long long)json_integer_value(json_array_get(seeds, 0));
    int found = 0, rc = 0;
    for (size_t i = 0; i < rp->n_eps && rc == 0; i++) {
        const fewshot__rep_episode *e = &rp->eps[i];
        if (!e->ok || e->scenario_index < 0 || !scenario || strcmp(e->scenario, scenario) != 0 ||
            e->seed != seed || (opts->trace_arm && strcmp(e->arm, opts->trace_arm) != 0))
            continue;
        char a[100], s[100], stem[260];
        safe_name(e->arm, a, sizeof a);
        safe_name(e->scenario, s, sizeof s);
        if (opts->trace_arm)
            snprintf(stem, sizeof stem, "trace-%s-%s-%lld", a, s, seed);
        else
            snprintf(stem, sizeof stem, "trace-%s", a);
        found = 1;
        rc = plot_trace(rp, e, stem, scripts);
    }
    if (rc == 0 && opts->trace_arm && !found)
        rc = fewshot_error_set_at(FEWSHOT_ENOTFOUND, rp->dir, 0, 0, "--trace: no successful "
                                  "episode of arm '%s' on scenario '%s' with seed %lld",
                                  opts->trace_arm, scenario ? scenario : "", seed);
    return rc;
}

/* ---------------------------------------------------------------- rendering */

static char *find_gnuplot(void)
{
    const char *env = getenv("FEWSHOT_GNUPLOT");
    if (env)
        return env[0] ? strdup(env) : NULL;
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin"), *save = NULL, *out = NULL;
    for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !out;
         d = strtok_r(NULL, ":", &save)) {
        char *cand = malloc(strlen(d) + 10);
        if (!cand)
            break;
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

/* Run gnuplot on each script inside the output directory; its messages go to gnuplot.log. */
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

int fewshot__report_plots(fewshot__report *rp, const fewshot_report_options *opts)
{
    json_t *scripts = json_array();
    int rc = 0;
    if (opts->plots) {
        if ((rc = plot_arms(rp, scripts)) == 0 && (rc = plot_diffs(rp, scripts)) == 0 &&
            (rc = plot_scores(rp, scripts)) == 0)
            rc = plot_profile(rp, scripts);
    }
    if (rc == 0)
        rc = plot_traces(rp, opts, scripts);
    if (rc == 0)
        render(rp->out_dir, scripts);
    json_decref(scripts);
    return rc;
}
