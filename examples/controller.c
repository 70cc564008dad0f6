/*
 * A custom controller built on libfewshot: an LLM controls one day of the HVAC plugin's
 * OfficeSmall building by in-context learning from expert demonstrations, step by step.
 *
 * Build against an installed libfewshot:
 *     cc controller.c $(pkg-config --cflags --libs libfewshot) -o controller
 * Run against any OpenAI-compatible endpoint:
 *     ./controller --base-url http://127.0.0.1:8080/v1 --model qwen --api-key-env ''
 *     OPENAI_API_KEY=... ./controller --model gpt-4o-mini
 * Options: --base-url URL, --model NAME, --api-key-env VAR (default OPENAI_API_KEY; '' for
 * none), --weather CONDITION (default Hot_Dry), --start-day D (default 15), --steps N.
 *
 * It prints one line per step (the zone temperatures and the actions) and the episode's
 * total reward next to the plugin's expert (MPC) on the same day.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot.h>

static int die(const char *what)
{
    char msg[2048];
    fewshot_error_format(msg, sizeof msg);
    fprintf(stderr, "controller: %s: %s\n", what, msg);
    return 1;
}

/* One episode with either the agent or (agent NULL) the plugin's expert. */
static int episode(fewshot_env *env, fewshot_agent *agent, int steps, int verbose,
                   double *total)
{
    const fewshot_space *os = fewshot_env_obs_space(env), *as = fewshot_env_act_space(env);
    double *obs = calloc(os->dim, sizeof *obs), *next = calloc(os->dim, sizeof *next);
    double *act = calloc(as->dim, sizeof *act);
    int rc = fewshot_env_reset(env, 1, NULL, obs);
    if (rc == 0 && agent)
        rc = fewshot_agent_reset(agent, 1);
    *total = 0;
    for (int t = 0; rc == 0 && t < steps; t++) {
        fewshot_step step = {.obs = next};
        rc = agent ? fewshot_agent_act(agent, obs, act)
                   : fewshot_env_policy(env, "expert", obs, act);
        if (rc == 0)
            rc = fewshot_env_step(env, act, &step);
        if (rc == 0 && agent)
            rc = fewshot_agent_observe(agent, act, &step);
        if (rc)
            break;
        *total += step.reward;
        if (verbose) {
            printf("step %2d  zones", t + 1);
            for (size_t i = 0; i < as->dim; i++)
                printf(" %5.1f", next[i]);
            printf("  actions");
            for (size_t i = 0; i < as->dim; i++)
                printf(" %+4.0f", 100 * act[i]);
            printf("  reward %7.3f\n", step.reward);
        }
        json_decref(step.terms);
        memcpy(obs, next, os->dim * sizeof *obs);
        if (step.done || step.truncated)
            break;
    }
    free(obs);
    free(next);
    free(act);
    return rc;
}

int main(int argc, char **argv)
{
    const char *base_url = getenv("FEWSHOT_BASE_URL"), *model = "gpt-4o-mini";
    const char *key_env = "OPENAI_API_KEY", *weather = "Hot_Dry";
    int start_day = 15, steps = 24;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--base-url") == 0)
            base_url = argv[i + 1];
        else if (strcmp(argv[i], "--model") == 0)
            model = argv[i + 1];
        else if (strcmp(argv[i], "--api-key-env") == 0)
            key_env = argv[i + 1];
        else if (strcmp(argv[i], "--weather") == 0)
            weather = argv[i + 1];
        else if (strcmp(argv[i], "--start-day") == 0)
            start_day = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--steps") == 0)
            steps = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "controller: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!base_url)
        base_url = "https://api.openai.com/v1";

    /* the controlled building and day */
    json_t *params = json_pack("{s:s, s:s, s:i, s:i}", "building", "OfficeSmall", "weather",
                               weather, "start_day", start_day, "episode_length", steps);
    fewshot_env *env;
    if (fewshot_env_new(&env, "hvac", params) != 0)
        return die("hvac");

    /* expert demonstrations from other days of the same building */
    json_t *demo_params = json_deep_copy(params);
    json_object_set_new(demo_params, "start_day", json_integer(start_day + 30));
    fewshot_demos *demos;
    fewshot_demos_generate_options gen = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    gen.env = "hvac";
    gen.params = demo_params;
    gen.episodes = 3;
    gen.steps = 24;
    gen.seed = 100;
    if (fewshot_demos_new(&demos, NULL) != 0 || fewshot_demos_generate(demos, &gen) != 0)
        return die("demonstrations");

    /* the agent: the same sections a sweep config's arm has (fewshot-config(5)) */
    json_t *arm = json_pack("{s:{s:s}, s:{s:i, s:i}, s:{}, s:{s:s, s:s, s:s, s:i, s:i}}",
                            "embedding", "kind", "features",
                            "selection", "knn", 3, "history", 2,
                            "prompt",
                            "llm", "base_url", base_url, "model", model, "api_key_env", key_env,
                            "temperature", 0, "max_tokens", 96);
    fewshot_agent_options opts = FEWSHOT_AGENT_OPTIONS_INIT;
    opts.arm = arm;
    opts.demos = demos;
    fewshot_agent *agent;
    if (fewshot_agent_new(&agent, env, &opts) != 0)
        return die("agent");

    double llm_total, expert_total;
    printf("LLM (%s at %s) controlling OfficeSmall, %s, day %d:\n", model, base_url, weather,
           start_day);
    if (episode(env, agent, steps, 1, &llm_total) != 0)
        return die("episode");
    if (episode(env, NULL, steps, 0, &expert_total) != 0)
        return die("expert episode");
    printf("total reward: LLM %.3f, expert (MPC) %.3f\n", llm_total, expert_total);

    fewshot_agent_free(agent);
    fewshot_demos_free(demos);
    fewshot_env_free(env);
    json_decref(arm);
    json_decref(params);
    json_decref(demo_params);
    return 0;
}
