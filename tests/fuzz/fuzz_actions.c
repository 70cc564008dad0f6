/*
 * libFuzzer target: policy files on an in-process env: action CSV files (file:ACTIONS.csv),
 * and, for an input starting with 'M', the rest as a network for mlp:FILE.json.
 */
#include "fuzz_common.h"

#include "fewshot/env.h"
#include "fewshot/error.h"
#include "fewshot/plugin.h"
#include "fewshot/policy.h"

static const double lo[] = {-1, -1}, hi[] = {1, 1};

static int t_create(void **self, const json_t *params)
{
    *self = malloc(1);
    return *self ? 0 : FEWSHOT_ENOMEM;
}

static void t_destroy(void *self)
{
    free(self);
}

static int t_spaces(void *self, fewshot_space *obs, fewshot_space *act)
{
    *obs = (fewshot_space){2, lo, hi, 0, NULL};
    *act = (fewshot_space){2, lo, hi, 0, NULL};
    return 0;
}

static int t_reset(void *self, uint64_t seed, const json_t *options, double *obs)
{
    obs[0] = obs[1] = 0;
    return 0;
}

static int t_step(void *self, const double *action, fewshot_step *out)
{
    out->obs[0] = out->obs[1] = 0;
    return 0;
}

static const fewshot_env_plugin table = {
    .abi = FEWSHOT_PLUGIN_ABI, .name = "fuzzenv", .summary = "fuzz", .version = "0",
    .create = t_create, .destroy = t_destroy, .spaces = t_spaces, .reset = t_reset,
    .step = t_step,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fewshot_env *env;
    if (!env && (fewshot_env_register(&table) != 0 || fewshot_env_new(&env, "fuzzenv", NULL)))
        abort();
    char spec[160];
    if (size && data[0] == 'M')
        snprintf(spec, sizeof spec, "mlp:%s", fuzz_file("net.json", data + 1, size - 1));
    else
        snprintf(spec, sizeof spec, "file:%s", fuzz_file("actions.csv", data, size));
    fewshot_policy *p = NULL;
    if (fewshot_policy_new(&p, env, spec, 1) == 0) {
        double obs[2] = {0, 0}, act[2];
        for (int i = 0; i < 3; i++)
            if (fewshot_policy_act(p, obs, act) == 0 && (!(act[0] == act[0]) || !(act[1] == act[1])))
                abort();    /* an action from a file is finite */
        fewshot_policy_free(p);
    }
    return 0;
}
