/*
 * mlp:FILE policy speed: microseconds per action on OfficeSmall (CPU time), against the
 * plugin's thermostat (a few arithmetic operations per zone) and MPC in the same run.
 * usage: bench_mlp POLICY.json
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <fewshot.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Microseconds per fewshot_policy_act() call, over at least 0.3 s of CPU time. */
static double time_policy(fewshot_env *env, const char *spec)
{
    fewshot_policy *pol;
    if (fewshot_policy_new(&pol, env, spec, 1) != 0) {
        fprintf(stderr, "bench_mlp: %s: %s\n", spec, fewshot_error_last()->message);
        exit(1);
    }
    const double *obs = fewshot_env_obs(env);
    double action[256];
    long calls = 0;
    double start = now(), elapsed;
    do {
        for (int i = 0; i < 200; i++)
            if (fewshot_policy_act(pol, obs, action) != 0) {
                fprintf(stderr, "bench_mlp: %s\n", fewshot_error_last()->message);
                exit(1);
            }
        calls += 200;
    } while ((elapsed = now() - start) < 0.3);
    fewshot_policy_free(pol);
    return 1e6 * elapsed / (double)calls;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_mlp POLICY.json\n");
        return 2;
    }
    json_t *params = json_pack("{s:s}", "building", "OfficeSmall");
    fewshot_env *env;
    if (fewshot_env_new(&env, "hvac", params) != 0 || fewshot_env_reset(env, 1, NULL, NULL)) {
        fprintf(stderr, "bench_mlp: %s\n", fewshot_error_last()->message);
        return 1;
    }
    char spec[4096];
    snprintf(spec, sizeof spec, "mlp:%s", argv[1]);
    double mlp = time_policy(env, spec);
    double thermostat = time_policy(env, "thermostat");
    double mpc = time_policy(env, "mpc");
    printf("%.3f %.3f %.3f\n", mlp, thermostat, mpc);
    fewshot_env_free(env);
    json_decref(params);
    return 0;
}
