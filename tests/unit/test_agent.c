/* Agents without an LLM endpoint: baselines through the agent interface, knn-imitation,
 * the prompt an LLM agent would send (demonstrations, history after observe), errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fewshot.h>

static fewshot_env *env;
static fewshot_demos *demos;

static int setup(void **state)
{
    const char *dir = getenv("FEWSHOT_TEST_PLUGINS");
    setenv("FEWSHOT_PLUGIN_PATH", dir ? dir : "tests/plugins/.libs", 1);
    if (fewshot_env_new(&env, "room", NULL) != 0)
        fail_msg("%s", fewshot_error_last()->message);
    fewshot_demos_generate_options go = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    go.env = "room";
    go.episodes = 2;
    go.steps = 6;
    go.seed = 100;
    if (fewshot_demos_new(&demos, NULL) != 0 || fewshot_demos_generate(demos, &go) != 0)
        fail_msg("%s", fewshot_error_last()->message);
    return 0;
}

static int teardown(void **state)
{
    fewshot_demos_free(demos);
    fewshot_env_free(env);
    return 0;
}

static void test_baselines(void **state)
{
    fewshot_agent_options opts = FEWSHOT_AGENT_OPTIONS_INIT;
    fewshot_agent *agent;
    double obs[2], act = 5;
    fewshot_env_reset(env, 1, NULL, obs);
    opts.policy = "const:0.25";
    assert_int_equal(fewshot_agent_new(&agent, env, &opts), 0);
    assert_false(fewshot_agent_uses_llm(agent));
    assert_null(fewshot_agent_llm(agent));
    assert_int_equal(fewshot_agent_act(agent, obs, &act), 0);
    assert_true(act == 0.25);
    json_t *d = fewshot_agent_decision(agent);
    assert_int_equal(json_object_size(d), 0);
    json_decref(d);
    assert_int_equal(fewshot_agent_prompt(agent, obs, &d), FEWSHOT_EINVAL);
    fewshot_agent_free(agent);

    /* the plugin's expert equals the policy called directly */
    double want;
    opts.policy = "expert";
    assert_int_equal(fewshot_agent_new(&agent, env, &opts), 0);
    assert_int_equal(fewshot_agent_start(agent, obs), 0);
    assert_int_equal(fewshot_agent_poll(agent), 0);
    assert_int_equal(fewshot_agent_action(agent, &act), 0);
    fewshot_env_policy(env, "expert", obs, &want);
    assert_true(act == want);
    fewshot_agent_free(agent);

    opts.policy = "nonsense";
    assert_int_equal(fewshot_agent_new(&agent, env, &opts), FEWSHOT_EINVAL);
    assert_null(agent);
    fewshot_agent_options bad = FEWSHOT_AGENT_OPTIONS_INIT;
    bad.version = 99;
    assert_int_equal(fewshot_agent_new(&agent, env, &bad), FEWSHOT_EINVAL);
}

static void test_knn_imitation(void **state)
{
    fewshot_agent_options opts = FEWSHOT_AGENT_OPTIONS_INIT;
    fewshot_agent *agent;
    json_t *arm = json_pack("{s:{s:s}}", "embedding", "kind", "features");
    opts.policy = "knn-imitation";
    opts.arm = arm;
    /* without demonstrations it cannot act */
    assert_int_equal(fewshot_agent_new(&agent, env, &opts), FEWSHOT_EINVAL);
    assert_non_null(strstr(fewshot_error_last()->message, "needs demonstrations"));
    opts.demos = demos;
    assert_int_equal(fewshot_agent_new(&agent, env, &opts), 0);
    /* on a demonstration's own state it takes that demonstration's action */
    const fewshot_demo *d = fewshot_demos_get(demos, 3);
    double act;
    assert_int_equal(fewshot_agent_act(agent, d->obs, &act), 0);
    assert_true(fabs(act - d->action[0]) < 1e-12);
    json_t *dec = fewshot_agent_decision(agent);
    assert_string_equal(json_string_value(json_object_get(json_array_get(
                            json_object_get(dec, "demos"), 0), "id")), "demo:3");
    json_decref(dec);
    fewshot_agent_free(agent);
    json_decref(arm);
}

static void test_prompt_and_history(void **state)
{
    fewshot_agent_options opts = FEWSHOT_AGENT_OPTIONS_INIT;
    fewshot_agent *agent;
    json_t *arm = json_pack("{s:{s:i, s:i}, s:{s:s}, s:{s:s, s:s, s:s}}",
                            "selection", "knn", 2, "history", 1,
                            "prompt", "style", "completion",
                            "llm", "base_url", "http://127.0.0.1:9/v1", "model", "m",
                            "api_key_env", "");
    opts.arm = arm;
    opts.demos = demos;
    assert_int_equal(fewshot_agent_new(&agent, env, &opts), 0);
    assert_true(fewshot_agent_uses_llm(agent));
    double obs[2], next[2], act = 0.5;
    fewshot_env_reset(env, 1, NULL, obs);
    json_t *p;
    assert_int_equal(fewshot_agent_prompt(agent, obs, &p), 0);
    assert_string_equal(json_string_value(json_object_get(p, "style")), "completion");
    const char *text = json_string_value(json_object_get(p, "text"));
    assert_non_null(strstr(text, "Room 1: "));
    assert_int_equal(json_array_size(json_object_get(p, "demos")), 2);
    assert_true(json_integer_value(json_object_get(p, "tokens")) > 10);
    json_decref(p);
    /* after one observed step the history selector adds it */
    fewshot_step st = {.obs = next};
    assert_int_equal(fewshot_env_step(env, &act, &st), 0);
    assert_int_equal(fewshot_agent_observe(agent, &act, &st), 0);
    json_decref(st.terms);
    assert_int_equal(fewshot_agent_prompt(agent, next, &p), 0);
    json_t *list = json_object_get(p, "demos");
    assert_int_equal(json_array_size(list), 3);
    int history = 0;
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
        if (strcmp(json_string_value(json_object_get(item, "selector")), "history") == 0) {
            history++;
            assert_string_equal(json_string_value(json_object_get(item, "id")), "step:0");
        }
    assert_int_equal(history, 1);
    json_decref(p);
    /* reset forgets the episode */
    assert_int_equal(fewshot_agent_reset(agent, 2), 0);
    assert_int_equal(fewshot_agent_prompt(agent, obs, &p), 0);
    assert_int_equal(json_array_size(json_object_get(p, "demos")), 2);
    json_decref(p);
    fewshot_agent_free(agent);
    /* a bad prompt spec is refused when the agent is built */
    json_object_set_new(json_object_get(arm, "prompt"), "order", json_pack("[s]", "nonsense"));
    assert_int_not_equal(fewshot_agent_new(&agent, env, &opts), 0);
    json_decref(arm);
}

/* A transition of the room plugin at state obs with action a (features from the plugin). */
static void add_demo(fewshot_demos *ds, double temp, double outdoor, double a, uint64_t ep)
{
    double obs[2] = {temp, outdoor}, next[2] = {temp, outdoor};
    float feats[8];
    size_t dim = 0;
    assert_int_equal(fewshot_env_features(env, obs, feats, 8, &dim), 0);
    fewshot_demo d = {0};
    d.episode = ep;
    d.obs = obs;
    d.obs_dim = 2;
    d.action = &a;
    d.act_dim = 1;
    d.next_obs = next;
    d.features = feats;
    d.features_dim = dim;
    assert_int_equal(fewshot_demos_add(ds, &d), 0);
}

static double num(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

/* The retrieval measures of knn-imitation and of the prompt: distances, agreement with the
 * plugin's expert (its thermostat: heats below 22 C, cools above), distinctness. */
static void test_retrieval_measures(void **state)
{
    fewshot_demos *ds;
    json_t *header = json_pack("{s:s}", "plugin", "room");
    assert_int_equal(fewshot_demos_new(&ds, header), 0);
    json_decref(header);
    add_demo(ds, 15.0, 22, 0.5, 0);    /* heating a cold room: two states a prompt shows */
    add_demo(ds, 15.2, 22, 0.5, 1);    /* alike ("15 degrees") with the same action */
    add_demo(ds, 29, 22, -0.5, 2);     /* cooling a warm room */
    fewshot_agent_options opts = FEWSHOT_AGENT_OPTIONS_INIT;
    fewshot_agent *agent;
    json_t *arm = json_pack("{s:{s:i}, s:{s:s}}", "selection", "knn", 2, "embedding", "kind",
                            "features");
    opts.policy = "knn-imitation";
    opts.arm = arm;
    opts.demos = ds;
    assert_int_equal(fewshot_agent_new(&agent, env, &opts), 0);
    double cold[2] = {15.1, 22}, warm[2] = {28, 22}, own[2] = {15.2, 22}, act;
    /* the cold state: both heating demonstrations, equally near and agreeing; distinct
     * states to knn-imitation (a prompt shows them alike, below) */
    assert_int_equal(fewshot_agent_act(agent, cold, &act), 0);
    assert_true(fabs(act - 0.5) < 1e-12);
    json_t *dec = fewshot_agent_decision(agent);
    json_t *list = json_object_get(dec, "demos");
    assert_int_equal(json_array_size(list), 2);
    double dcold = num(json_array_get(list, 0), "distance");
    for (size_t i = 0; i < 2; i++) {
        assert_true(num(json_array_get(list, i), "distance") > 0);
        assert_true(fabs(num(json_array_get(list, i), "distance") - dcold) < 1e-4);
        assert_true(num(json_array_get(list, i), "agreement") == 1);
        assert_true(fabs(num(json_array_get(list, i), "weight") - 0.5) < 1e-3);
    }
    assert_true(num(dec, "demos_agreement") == 1);
    assert_true(num(dec, "demos_distinct") == 1);
    json_decref(dec);
    /* on a demonstration's own state it decides alone (distance 0) */
    assert_int_equal(fewshot_agent_act(agent, own, &act), 0);
    dec = fewshot_agent_decision(agent);
    list = json_object_get(dec, "demos");
    assert_true(num(json_array_get(list, 0), "distance") == 0);
    assert_true(num(json_array_get(list, 0), "weight") == 1);
    assert_true(num(json_array_get(list, 1), "weight") == 0);
    assert_true(num(dec, "demos_distance") > 0);
    json_decref(dec);
    /* the warm state: the cooling one nearest and agreeing, a heating one disagreeing; the
     * action leans to the nearer by inverse distance */
    assert_int_equal(fewshot_agent_act(agent, warm, &act), 0);
    dec = fewshot_agent_decision(agent);
    list = json_object_get(dec, "demos");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")),
                        "demo:2");
    double d0 = num(json_array_get(list, 0), "distance");
    double d1 = num(json_array_get(list, 1), "distance");
    assert_true(d0 > 0 && d1 > d0);
    assert_true(num(json_array_get(list, 0), "agreement") == 1);
    assert_true(num(json_array_get(list, 1), "agreement") == 0);
    assert_true(fabs(num(dec, "demos_agreement") - 0.5) < 1e-12);
    assert_true(num(dec, "demos_distinct") == 1);
    double want = (-0.5 / d0 + 0.5 / d1) / (1 / d0 + 1 / d1);
    assert_true(fabs(act - want) < 1e-9 && act < 0);
    json_decref(dec);
    fewshot_agent_free(agent);

    /* the prompt of an LLM agent carries the same measures; it shows both as "15 degrees"
     * with the same action: one distinct of two */
    json_decref(arm);
    arm = json_pack("{s:{s:i}, s:{s:s}, s:{s:s, s:s, s:s}}", "selection", "knn", 2,
                    "prompt", "style", "completion", "llm", "base_url", "http://127.0.0.1:9/v1",
                    "model", "m", "api_key_env", "");
    opts.policy = NULL;
    opts.arm = arm;
    assert_int_equal(fewshot_agent_new(&agent, env, &opts), 0);
    json_t *p;
    assert_int_equal(fewshot_agent_prompt(agent, cold, &p), 0);
    assert_true(num(p, "demos_agreement") == 1);
    assert_true(fabs(num(p, "demos_distinct") - 0.5) < 1e-12);
    assert_true(fabs(num(json_array_get(json_object_get(p, "demos"), 0), "distance") - dcold) <
                1e-4);
    json_decref(p);
    /* again: the state texts' digests kept from the first prompt give the same share */
    assert_int_equal(fewshot_agent_prompt(agent, cold, &p), 0);
    assert_true(fabs(num(p, "demos_distinct") - 0.5) < 1e-12);
    json_decref(p);
    fewshot_agent_free(agent);
    fewshot_demos_free(ds);

    /* the same action shown for states whose texts differ ("15" and "18 degrees"): distinct;
     * the same state text with another action: distinct too */
    header = json_pack("{s:s}", "plugin", "room");
    assert_int_equal(fewshot_demos_new(&ds, header), 0);
    json_decref(header);
    add_demo(ds, 15.0, 22, 0.5, 0);
    add_demo(ds, 18.0, 22, 0.5, 1);
    add_demo(ds, 15.2, 22, 0.25, 2);
    opts.demos = ds;
    json_decref(arm);
    arm = json_pack("{s:{s:i}, s:{s:s}, s:{s:s, s:s, s:s}}", "selection", "knn", 3,
                    "prompt", "style", "completion", "llm", "base_url", "http://127.0.0.1:9/v1",
                    "model", "m", "api_key_env", "");
    opts.arm = arm;
    assert_int_equal(fewshot_agent_new(&agent, env, &opts), 0);
    assert_int_equal(fewshot_agent_prompt(agent, cold, &p), 0);
    assert_int_equal(json_array_size(json_object_get(p, "demos")), 3);
    assert_true(num(p, "demos_distinct") == 1);
    json_decref(p);
    fewshot_agent_free(agent);
    json_decref(arm);
    fewshot_demos_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baselines),
        cmocka_unit_test(test_knn_imitation),
        cmocka_unit_test(test_prompt_and_history),
        cmocka_unit_test(test_retrieval_measures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
