/*
 * hvac plugin: MPC beats the thermostat, which beats zero action, on the paper reward over
 * 24-hour episodes, for every shipped building in several synthetic climates (offline).
 * Prints the table of mean episode rewards.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot.h>

static const char *const buildings[] = {"OfficeSmall", "OfficeMedium", "RestaurantFastFood",
                                        "RestaurantSitDown", "RetailStandalone",
                                        "RetailStripmall", "Warehouse"};
/* climates with a start day in their demanding season */
static const struct {
    const char *weather;
    int start_day;
} climates[] = {{"Hot_Dry", 196}, {"Cool_Humid", 15}, {"Mixed_Humid", 100},
                {"Very_Hot_Humid", 250}};
static const char *const policies[] = {"mpc", "thermostat", "zero"};
#define EPISODES 2

static int episode_reward(const char *building, const char *weather, int start_day,
                          const char *policy, uint64_t seed, double *total)
{
    json_t *params = json_pack("{s:s, s:s, s:i, s:{s:[f, f]}}", "building", building, "weather",
                               weather, "start_day", start_day, "initial", "uniform", 18.0,
                               26.0);
    fewshot_env *env = NULL;
    fewshot_policy *pol = NULL;
    double *obs = NULL, *act = NULL;
    int rc = fewshot_env_new(&env, "hvac", params);
    json_decref(params);
    if (rc == 0)
        rc = fewshot_policy_new(&pol, env, policy, seed);
    if (rc == 0) {
        obs = calloc(fewshot_env_obs_space(env)->dim, sizeof *obs);
        act = calloc(fewshot_env_act_space(env)->dim, sizeof *act);
        rc = fewshot_env_reset(env, seed, NULL, obs);
    }
    *total = 0;
    for (int t = 0; rc == 0; t++) {
        fewshot_step st = {.obs = obs};
        if ((rc = fewshot_policy_act(pol, obs, act)) != 0 ||
            (rc = fewshot_env_step(env, act, &st)) != 0)
            break;
        *total += st.reward;
        json_decref(st.terms);
        if (st.truncated || st.done)
            break;
    }
    if (rc)
        fprintf(stderr, "%s/%s/%s: %s\n", building, weather, policy,
                fewshot_error_last()->message);
    free(obs);
    free(act);
    fewshot_policy_free(pol);
    fewshot_env_free(env);
    return rc;
}

int main(void)
{
    const char *builddir = getenv("top_builddir");
    char path[4096];
    snprintf(path, sizeof path, "%s/plugins/.libs", builddir ? builddir : ".");
    setenv("FEWSHOT_PLUGIN_PATH", path, 1);
    int failures = 0;
    size_t nb = sizeof buildings / sizeof buildings[0], nc = sizeof climates / sizeof climates[0];
    printf("mean episode reward (paper reward, alpha 1, %d episodes of 24 h, initial "
           "uniform 18-26 C)\n", EPISODES);
    printf("%-20s %-15s %10s %10s %10s\n", "building", "climate", "mpc", "thermostat", "zero");
    for (size_t b = 0; b < nb; b++)
        for (size_t c = 0; c < nc; c++) {
            double mean[3] = {0};
            for (int p = 0; p < 3; p++)
                for (uint64_t s = 1; s <= EPISODES; s++) {
                    double total;
                    if (episode_reward(buildings[b], climates[c].weather, climates[c].start_day,
                                       policies[p], s, &total) != 0)
                        return 1;
                    mean[p] += total / EPISODES;
                }
            int ok = mean[0] > mean[1] && mean[1] > mean[2];
            printf("%-20s %-15s %10.2f %10.2f %10.2f%s\n", buildings[b], climates[c].weather,
                   mean[0], mean[1], mean[2], ok ? "" : "   <- FAIL: order");
            failures += !ok;
        }
    if (failures)
        fprintf(stderr, "FAIL: %d cells where mpc > thermostat > zero does not hold\n", failures);
    return failures ? 1 : 0;
}
