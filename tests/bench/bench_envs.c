/*
 * bench_envs: steps per second of the inventory and trading plugins through the library
 * (expert policy and a constant action), and a table of episode rewards of the experts
 * against the baselines over 20 seeds.
 *
 * usage: bench_envs speed EPISODES | bench_envs table
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fewshot.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run(fewshot_env *env, const char *spec, uint64_t seed, double *ret, size_t *steps)
{
    const fewshot_space *os = fewshot_env_obs_space(env), *as = fewshot_env_act_space(env);
    double *obs = calloc(os->dim, sizeof *obs), *a = calloc(as->dim, sizeof *a);
    fewshot_policy *p = NULL;
    int rc = fewshot_policy_new(&p, env, spec, seed);
    if (rc == 0)
        rc = fewshot_env_reset(env, seed, NULL, obs);
    *ret = 0;
    *steps = 0;
    double terms[FEWSHOT_STEP_TERMS_MAX];      /* reward terms as numbers: no JSON per step */
    while (rc == 0) {
        fewshot_step st = {.obs = obs};
        if ((rc = fewshot_policy_act(p, obs, a)) != 0 ||
            (rc = fewshot_env_step_terms(env, a, &st, terms)) != 0)
            break;
        *ret += st.reward;
        ++*steps;
        if (st.done || st.truncated)
            break;
    }
    fewshot_policy_free(p);
    free(obs);
    free(a);
    return rc;
}

static fewshot_env *open_env(const char *name)
{
    fewshot_env *env;
    if (fewshot_env_new(&env, name, NULL) != 0) {
        fprintf(stderr, "bench_envs: %s\n", fewshot_error_last()->message);
        exit(1);
    }
    return env;
}

static void speed(const char *name, const char *spec, int episodes)
{
    fewshot_env *env = open_env(name);
    double ret;
    size_t steps, total = 0;
    double t0 = now();
    for (int e = 0; e < episodes; e++) {
        if (run(env, spec, (uint64_t)e + 1, &ret, &steps) != 0) {
            fprintf(stderr, "bench_envs: %s\n", fewshot_error_last()->message);
            exit(1);
        }
        total += steps;
    }
    double dt = now() - t0;
    printf("%s %s %.1f\n", name, spec, (double)total / dt);
    fewshot_env_free(env);
}

static void row(const char *name, const char *const *specs, size_t n)
{
    fewshot_env *env = open_env(name);
    for (size_t k = 0; k < n; k++) {
        double sum = 0, sq = 0, ret, lo = HUGE_VAL, hi = -HUGE_VAL;
        size_t steps;
        for (uint64_t seed = 1; seed <= 20; seed++) {
            if (run(env, specs[k], seed, &ret, &steps) != 0) {
                fprintf(stderr, "bench_envs: %s\n", fewshot_error_last()->message);
                exit(1);
            }
            sum += ret;
            sq += ret * ret;
            lo = fmin(lo, ret);
            hi = fmax(hi, ret);
        }
        double mean = sum / 20, sd = sqrt(fmax(0, sq / 20 - mean * mean) * 20 / 19);
        printf("| %-9s | %-9s | %10.2f | %8.2f | %10.2f | %10.2f |\n", name, specs[k], mean,
               1.96 * sd / sqrt(20), lo, hi);
    }
    fewshot_env_free(env);
}

int main(int argc, char **argv)
{
    const char *b = getenv("top_builddir");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/plugins/.libs", b ? b : ".");
    fewshot_env_path_add(dir);
    if (argc == 3 && strcmp(argv[1], "speed") == 0) {
        int episodes = atoi(argv[2]);
        speed("inventory", "expert", episodes);
        speed("inventory", "const:20", episodes);
        speed("trading", "expert", episodes / 8 + 1);
        speed("trading", "random", episodes / 8 + 1);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "table") == 0) {
        static const char *const inv[] = {"expert", "nothing", "const:20", "random"};
        static const char *const trd[] = {"expert", "macross", "buyhold", "hold", "random"};
        printf("| env       | policy    | mean return | 95%% CI | min        | max        |\n");
        printf("|-----------|-----------|------------|----------|------------|------------|\n");
        row("inventory", inv, 4);
        row("trading", trd, 5);
        return 0;
    }
    fprintf(stderr, "usage: bench_envs speed EPISODES | bench_envs table\n");
    return 2;
}
