/*
 * hvac benchmark: model build time, model step rate (x' = Ad x + Bd u), full environment step
 * rate through the library, and MPC decision time. Writes each building's Ad and Bd to
 * DIR/NAME.matrices for the NumPy baseline (tests/bench/hvac_numpy.py).
 *
 * usage: hvac_bench DIR    (FEWSHOT_PLUGIN_PATH must reach hvac.so)
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fewshot.h>

#include "model.h"
#include "mpc.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void export(const hvac_model *m, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fprintf(f, "%zu %zu\n", m->n, m->m);
    for (size_t i = 0; i < m->n * m->n; i++)
        fprintf(f, "%.17g%c", m->Ad[i], (i + 1) % m->n ? ' ' : '\n');
    for (size_t i = 0; i < m->n * m->m; i++)
        fprintf(f, "%.17g%c", m->Bd[i], (i + 1) % m->m ? ' ' : '\n');
    fclose(f);
}

static int bench(const char *name, const char *dir)
{
    fewshot_building *b;
    if (fewshot_building_load(&b, name) != 0) {
        fprintf(stderr, "%s\n", fewshot_error_last()->message);
        return 1;
    }
    hvac_model_options o = {.max_power = 8000, .dt = 3600, .shgc = 0.252, .shgc_weight = 0.01,
                            .ground_weight = 0.5, .max_ghi = 1000, .tz = -7, .occupancy = 0};
    hvac_model m;
    int reps = 200;
    double t0 = now();
    for (int r = 0; r < reps; r++) {
        if (hvac_model_build(&m, b, &o) != 0) {
            fprintf(stderr, "%s\n", fewshot_error_last()->message);
            return 1;
        }
        if (r + 1 < reps)
            hvac_model_free(&m);
    }
    double build = (now() - t0) / reps;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.matrices", dir, name);
    export(&m, path);

    /* model step: the same arithmetic as the NumPy baseline */
    double *x = calloc(m.n, sizeof *x), *xn = calloc(m.n, sizeof *xn), *u = calloc(m.m, sizeof *u);
    for (size_t i = 0; i < m.n; i++)
        x[i] = 22;
    for (size_t j = 0; j < m.m; j++)
        u[j] = j < 3 ? 10 : 0.01;
    long steps = 2000000 / (long)(m.n * m.n + m.n * m.m) * 100;
    t0 = now();
    for (long s = 0; s < steps; s++) {
        hvac_model_step(&m, x, u, xn);
        double *tmp = x;
        x = xn;
        xn = tmp;
    }
    double model_rate = (double)steps / (now() - t0);

    /* full environment step through the library (weather, reward terms as numbers), and
     * the same with the terms as JSON (fewshot_env_step, the interface callers had before) */
    fewshot_env *env;
    json_t *params = json_pack("{s:s, s:s, s:i}", "building", name, "weather", "Hot_Dry",
                               "episode_length", 1000000);   /* the plugin's largest */
    if (fewshot_env_new(&env, "hvac", params) != 0) {
        fprintf(stderr, "%s\n", fewshot_error_last()->message);
        return 1;
    }
    json_decref(params);
    size_t od = fewshot_env_obs_space(env)->dim;
    double *obs = calloc(od, sizeof *obs), *act = calloc(m.n, sizeof *act);
    double terms[FEWSHOT_STEP_TERMS_MAX];
    long env_steps = steps / 20;
    double env_rate = 0, json_rate = 0;
    for (int round = 0; round < 3; round++) {     /* interleaved, best of 3: a shared machine */
        fewshot_env_reset(env, 0, NULL, obs);
        t0 = now();
        for (long s = 0; s < env_steps; s++) {
            fewshot_step st = {.obs = obs};
            act[s % m.n] = 0.01 * (double)(s % 7);
            fewshot_env_step_terms(env, act, &st, terms);
        }
        env_rate = fmax(env_rate, (double)env_steps / (now() - t0));
        fewshot_env_reset(env, 0, NULL, obs);
        t0 = now();
        for (long s = 0; s < env_steps; s++) {
            fewshot_step st = {.obs = obs};
            act[s % m.n] = 0.01 * (double)(s % 7);
            fewshot_env_step(env, act, &st);
            json_decref(st.terms);
        }
        json_rate = fmax(json_rate, (double)env_steps / (now() - t0));
    }

    /* translator context of one observation (once per LLM decision) */
    long contexts = env_steps / 200 + 1;
    fewshot_env_reset(env, 0, NULL, obs);
    t0 = now();
    for (long c = 0; c < contexts; c++) {
        json_t *ctx;
        fewshot_env_context(env, NULL, &ctx);
        json_decref(ctx);
    }
    double context_us = (now() - t0) / (double)contexts * 1e6;

    /* MPC: init, then decisions along a closed-loop day */
    double mpc_init = 0, mpc_mean = 0, mpc_max = 0;
    int iters = 0, decisions = 0;
    for (int day = 0; day < 5; day++) {
        fewshot_env_reset(env, (uint64_t)day, NULL, obs);
        for (int h = 0; h < 24; h++) {
            t0 = now();
            if (fewshot_env_policy(env, "mpc", obs, act) != 0) {
                fprintf(stderr, "%s\n", fewshot_error_last()->message);
                return 1;
            }
            double dt = now() - t0;
            if (day == 0 && h == 0)
                mpc_init = dt;  /* includes building the condensed QP */
            else {
                mpc_mean += dt;
                mpc_max = fmax(mpc_max, dt);
                decisions++;
            }
            fewshot_step st = {.obs = obs};
            fewshot_env_step_terms(env, act, &st, terms);
        }
    }
    (void)iters;
    mpc_mean /= decisions;
    printf("%s zones=%zu build_ms=%.3f model_steps_per_s=%.0f env_steps_per_s=%.0f "
           "mpc_first_ms=%.3f mpc_mean_ms=%.3f mpc_max_ms=%.3f env_json_steps_per_s=%.0f "
           "context_us=%.2f\n", name, m.n, build * 1e3, model_rate, env_rate, mpc_init * 1e3,
           mpc_mean * 1e3, mpc_max * 1e3, json_rate, context_us);
    free(x);
    free(xn);
    free(u);
    free(obs);
    free(act);
    fewshot_env_free(env);
    hvac_model_free(&m);
    fewshot_building_free(b);
    return 0;
}

/* Creating environments: the first of a weather year reads (TMY3) or generates (synthetic)
 * it; later ones share it. Prints the first creation's time and the mean of the next ones. */
static int creation(const char *source)
{
    double first = 0, rest = 0;
    int reps = 20;
    for (int r = 0; r <= reps; r++) {
        fewshot_env *env;
        json_t *params = json_pack("{s:s, s:s, s:s, s:i}", "building", "OfficeMedium",
                                   "weather", "Cool_Marine", "weather_source", source, "seed",
                                   41);
        double t0 = now();
        int rc = fewshot_env_new(&env, "hvac", params);
        double dt = now() - t0;
        json_decref(params);
        if (rc != 0) {
            fprintf(stderr, "%s\n", fewshot_error_last()->message);
            return 1;
        }
        if (r == 0)
            first = dt;
        else
            rest += dt / reps;
        fewshot_env_free(env);
    }
    printf("create weather_source=%s first_ms=%.3f shared_ms=%.3f\n", source, first * 1e3,
           rest * 1e3);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: hvac_bench DIR\n");
        return 2;
    }
    if (argc == 2 && strcmp(argv[1], "create") == 0)
        return creation("tmy3") || creation("synthetic");
    return bench("OfficeSmall", argv[1]) || bench("OfficeMedium", argv[1]);
}
