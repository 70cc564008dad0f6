/* hvac plugin through the library: context, features, templates, rewards, NaN actions. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fewshot.h>

static int setup(void **state)
{
    const char *dir = getenv("top_builddir");
    char path[4096];
    snprintf(path, sizeof path, "%s/plugins/.libs", dir ? dir : ".");
    setenv("FEWSHOT_PLUGIN_PATH", path, 1);
    return 0;
}

static fewshot_env *make(const char *building, const char *weather)
{
    fewshot_env *env;
    json_t *p = json_pack("{s:s, s:s}", "building", building, "weather", weather);
    if (fewshot_env_new(&env, "hvac", p) != 0)
        fail_msg("%s", fewshot_error_last()->message);
    json_decref(p);
    return env;
}

static void test_context(void **state)
{
    fewshot_env *env = make("OfficeSmall", "Cool_Humid");
    json_t *opts = json_pack("{s:[f, f, f, f, f, f]}", "initial", 18.0, 22.2, 25.0, 22.0, 21.6,
                             30.0);
    double obs[10];
    assert_int_equal(fewshot_env_reset(env, 1, opts, obs), 0);
    json_decref(opts);
    json_t *ctx;
    assert_int_equal(fewshot_env_context(env, NULL, &ctx), 0);
    json_t *rooms = json_object_get(ctx, "rooms");
    assert_int_equal(json_array_size(rooms), 6);
    json_t *r0 = json_array_get(rooms, 0), *r1 = json_array_get(rooms, 1);
    json_t *r2 = json_array_get(rooms, 2);
    assert_string_equal(json_string_value(json_object_get(r0, "name")), "Room 1");
    assert_true(json_number_value(json_object_get(r0, "temperature")) == 18.0);
    assert_true(json_is_true(json_object_get(r0, "below_target")));
    assert_true(json_is_false(json_object_get(r0, "above_target")));
    /* 22.2 shows as 22: neither */
    assert_true(json_is_false(json_object_get(r1, "below_target")));
    assert_true(json_is_false(json_object_get(r1, "above_target")));
    assert_true(json_is_true(json_object_get(r2, "above_target")));
    assert_int_equal(json_integer_value(json_object_get(ctx, "n_rooms")), 6);
    assert_string_equal(json_string_value(json_object_get(ctx, "weather")), "Cool and Humid");
    assert_string_equal(json_string_value(json_object_get(ctx, "city")), "Buffalo");
    assert_string_equal(json_string_value(json_object_get(ctx, "building")), "OfficeSmall");
    /* January in Buffalo: heating */
    assert_string_equal(json_string_value(json_object_get(ctx, "mode")), "heating");
    assert_true(json_is_true(json_object_get(ctx, "heating")));
    assert_true(json_is_false(json_object_get(ctx, "cooling")));
    assert_true(json_number_value(json_object_get(ctx, "target")) == 22);
    assert_true(json_number_value(json_object_get(ctx, "outdoor_temperature")) == obs[6]);
    assert_non_null(json_object_get(ctx, "ghi"));
    assert_non_null(json_object_get(ctx, "ground_temperature"));
    assert_true(json_number_value(json_object_get(ctx, "occupant_power")) == 0);
    json_decref(ctx);
    fewshot_env_free(env);
}

static void test_features_fixed_size(void **state)
{
    fewshot_env *a = make("OfficeSmall", "Hot_Dry"), *b = make("OfficeMedium", "Hot_Dry");
    float fa[32], fb[32];
    size_t da, db, nn;
    fewshot_env_reset(a, 0, NULL, NULL);
    fewshot_env_reset(b, 0, NULL, NULL);
    assert_int_equal(fewshot_env_features(a, NULL, fa, 32, &da), 0);
    assert_int_equal(fewshot_env_features(b, NULL, fb, 32, &db), 0);
    assert_int_equal(da, 10);
    assert_int_equal(db, 10);
    const char *const *names = fewshot_env_feature_names(a, &nn);
    assert_int_equal(nn, 10);
    static const char *const want[] = {"outdoor_error", "mode", "irradiance", "error_mean",
                                       "error_min", "error_max", "hour_sin", "hour_cos",
                                       "outdoor_trend", "occupant_kw_per_room"};
    for (size_t i = 0; i < 10; i++)
        assert_string_equal(names[i], want[i]);
    assert_null(names[10]);
    /* the same state in a 6- and an 18-room building has the same features: demonstrations
     * transfer across buildings */
    for (size_t i = 0; i < 10; i++)
        assert_true(fa[i] == fb[i]);
    /* both start at the target: zero errors; midnight: sin(hour) = 0, cos = 1 */
    for (int i = 3; i < 6; i++)
        assert_true(fabsf(fa[i]) < 1e-6f);
    assert_true(fabsf(fa[6]) < 1e-6f && fabsf(fa[7] - 1) < 1e-6f);
    /* too small a buffer: the size only */
    assert_int_equal(fewshot_env_features(a, NULL, fa, 4, &da), 0);
    assert_int_equal(da, 10);
    fewshot_env_free(a);
    fewshot_env_free(b);
}

/* Features of a heating and a cooling state differ where the decision does. */
static float features_at(const char *building, const char *weather, int day, int hour,
                         double room, double occupancy, float *f)
{
    fewshot_env *env;
    json_t *p = json_pack("{s:s, s:s, s:i, s:i, s:f, s:f}", "building", building, "weather",
                          weather, "start_day", day, "start_hour", hour, "initial", room,
                          "occupancy", occupancy);
    if (fewshot_env_new(&env, "hvac", p) != 0)
        fail_msg("%s", fewshot_error_last()->message);
    json_decref(p);
    double obs[64];
    size_t dim;
    assert_int_equal(fewshot_env_reset(env, 0, NULL, obs), 0);
    assert_int_equal(fewshot_env_features(env, NULL, f, 32, &dim), 0);
    assert_int_equal(dim, 10);
    float outdoor = (float)obs[fewshot_env_obs_space(env)->dim - 4];
    fewshot_env_free(env);
    return outdoor;
}

static void test_features_heating_cooling(void **state)
{
    float heat[32], cool[32], occ[32];
    /* Buffalo, 15 January 03:00, rooms at 18 C: heating need */
    float out_h = features_at("OfficeMedium", "Cool_Humid", 15, 3, 18.0, 0, heat);
    /* Tucson, 15 July 14:00, rooms at 26 C: cooling need */
    float out_c = features_at("OfficeSmall", "Hot_Dry", 196, 14, 26.0, 0, cool);
    assert_true(out_h < 22 && out_c > 22);
    assert_true(heat[0] < 0 && fabsf(heat[0] - (out_h - 22)) < 1e-4f);  /* outdoor_error */
    assert_true(cool[0] > 0 && fabsf(cool[0] - (out_c - 22)) < 1e-4f);
    assert_true(heat[1] == -1 && cool[1] == 1);                          /* mode */
    assert_true(heat[2] == 0 && cool[2] > 0.5f && cool[2] <= 1);         /* irradiance */
    for (int i = 3; i < 6; i++) {                                         /* room errors */
        assert_true(fabsf(heat[i] + 4) < 1e-5f);
        assert_true(fabsf(cool[i] - 4) < 1e-5f);
    }
    /* the hour on a circle: 03:00 and 14:00 */
    assert_true(fabsf(heat[6] - sinf(2 * (float)M_PI * 3 / 24)) < 1e-5f);
    assert_true(fabsf(cool[7] - cosf(2 * (float)M_PI * 14 / 24)) < 1e-5f);
    assert_true(heat[9] == 0 && cool[9] == 0);                           /* no occupants */
    /* occupants add heat per room */
    features_at("OfficeSmall", "Hot_Dry", 196, 14, 26.0, 1.0, occ);
    assert_true(occ[9] > 0.05f && occ[9] < 0.2f);
    for (int i = 0; i < 9; i++)
        assert_true(occ[i] == cool[i]);
    /* afternoon in Tucson cools towards evening; 03:00 in Buffalo: a forecast, bounded */
    assert_true(fabsf(heat[8]) < 10 && fabsf(cool[8]) < 10);
}

static void test_templates(void **state)
{
    fewshot_env *env = make("OfficeSmall", "Hot_Dry");
    static const char *const parts[] = {"objective", "meta", "instruction", "state", "action",
                                        "feedback", "comments", "current"};
    for (size_t i = 0; i < 8; i++)
        assert_non_null(fewshot_env_template(env, parts[i]));
    assert_null(fewshot_env_template(env, "nonsense"));
    assert_non_null(strstr(fewshot_env_template(env, "objective"), "You are an HVAC administrator"));
    const char *ins = fewshot_env_template(env, "instruction");
    assert_non_null(strstr(ins, "{{#heating}}"));
    assert_non_null(strstr(ins, "{{#cooling}}"));
    assert_non_null(strstr(ins, "To optimize HVAC control, adhere to the following "
                                "guidelines:\n1. Actions should be represented as a list"));
    assert_non_null(strstr(ins, "ranging from {{action_low}} to {{action_high}}"));
    assert_non_null(strstr(fewshot_env_template(env, "meta"), "You are the HVAC administrator "
                           "responsible for managing a building of type {{building}}"));
    assert_non_null(strstr(fewshot_env_template(env, "current"), "Please decide opening of the "
                           "valve in each room based on the following description:"));
    assert_non_null(strstr(fewshot_env_template(env, "comments"),
                           "The action for {{name}} shall be increased as its temperature is "
                           "lower than the target temperature."));
    json_t *doc;
    assert_int_equal(fewshot_env_plugin_params_doc(fewshot_env_plugin_of(env), &doc), 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "action_scale")), 100);
    json_decref(doc);
    fewshot_env_free(env);
}

/* The instruction as rendered: the range follows the mode, the wording the numbers. */
static char *instruction(fewshot_env *env, const double *obs, const char *spec_text)
{
    json_t *spec = spec_text ? json_loads(spec_text, 0, NULL) : NULL;
    fewshot_prompt_options o = FEWSHOT_PROMPT_OPTIONS_INIT;
    o.spec = spec;
    fewshot_prompt *p;
    assert_int_equal(fewshot_prompt_new(&p, env, &o), 0);
    json_t *ctx;
    assert_int_equal(fewshot_env_context(env, obs, &ctx), 0);
    fewshot_prompt_input in = FEWSHOT_PROMPT_INPUT_INIT;
    in.context = ctx;
    fewshot_prompt_output out = FEWSHOT_PROMPT_OUTPUT_INIT;
    assert_int_equal(fewshot_prompt_build(p, &in, &out), 0);
    assert_int_equal(out.style, FEWSHOT_PROMPT_CHAT);  /* the default */
    char *text = strdup(out.text);
    double lo, hi;
    fewshot_prompt_action_range(p, ctx, &lo, &hi);
    assert_true(hi - lo == 1.0);
    fewshot_prompt_output_clear(&out);
    fewshot_prompt_free(p);
    json_decref(ctx);
    json_decref(spec);
    return text;
}

static void test_instruction_range(void **state)
{
    fewshot_env *env = make("OfficeSmall", "Hot_Dry");
    double obs[10] = {20, 21, 22, 23, 24, 25, -5, 0, 5, 0};      /* winter: heating */
    char *t = instruction(env, obs, NULL);
    assert_non_null(strstr(t, "Currently, outside temperature is lower than the target"));
    assert_non_null(strstr(t, "with each integer value ranging from 0 to 100."));
    free(t);
    obs[6] = 35;                                                 /* summer: cooling */
    t = instruction(env, obs, NULL);
    assert_non_null(strstr(t, "Currently, outside temperature is higher than the target"));
    assert_non_null(strstr(t, "with each integer value ranging from -100 to 0."));
    free(t);
    /* the decimals ablation says what it shows */
    t = instruction(env, obs, "{\"numbers\": {\"decimals\": 1}}");
    assert_non_null(strstr(t, "with each value a number with 1 decimal ranging from -100.0 to "
                              "0.0."));
    assert_null(strstr(t, "integer"));
    free(t);
    fewshot_env_free(env);
}

/* Shown rewards must tell demonstrations apart: over an expert dataset like paper.json's,
 * at least 10 distinct values (rounded to integers they collapse to one or two). */
static void test_shown_rewards_vary(void **state)
{
    fewshot_env *env;
    json_t *p = json_pack("{s:s, s:s, s:s, s:i, s:i, s:{s:[i, i]}}", "building", "OfficeMedium",
                          "weather", "Cool_Humid", "city", "Buffalo", "episode_length", 24,
                          "start_day", 60, "initial", "uniform", 18, 26);
    if (fewshot_env_new(&env, "hvac", p) != 0)
        fail_msg("%s", fewshot_error_last()->message);
    json_decref(p);
    fewshot_text_options shown = FEWSHOT_TEXT_OPTIONS_INIT, rounded = shown;
    rounded.reward_digits = 0;
    json_t *distinct = json_object(), *distinct_rounded = json_object();
    double obs[64], next[64], act[32];
    for (int ep = 0; ep < 3; ep++) {
        assert_int_equal(fewshot_env_reset(env, 100 + (uint64_t)ep, NULL, obs), 0);
        for (int t = 0; t < 24; t++) {
            assert_int_equal(fewshot_env_policy(env, "expert", obs, act), 0);
            fewshot_step st = {.obs = next};
            assert_int_equal(fewshot_env_step(env, act, &st), 0);
            json_decref(st.terms);
            char a[64], b[64];
            fewshot_text_reward(a, sizeof a, st.reward, &shown);
            fewshot_text_reward(b, sizeof b, st.reward, &rounded);
            json_object_set_new(distinct, a, json_true());
            json_object_set_new(distinct_rounded, b, json_true());
            memcpy(obs, next, sizeof obs);
        }
    }
    assert_true(json_object_size(distinct) >= 10);
    assert_true(json_object_size(distinct_rounded) <= 3);
    json_decref(distinct);
    json_decref(distinct_rounded);
    fewshot_env_free(env);
}

static void test_paper_reward(void **state)
{
    fewshot_env *env = make("OfficeSmall", "Hot_Dry");
    double obs[10], act[6] = {0.5, -0.5, 0, 0, 0.25, 0}, next[10];
    fewshot_env_reset(env, 0, NULL, obs);
    fewshot_step st = {.obs = next};
    assert_int_equal(fewshot_env_step(env, act, &st), 0);
    double sq = 0;
    for (int i = 0; i < 6; i++)
        sq += (next[i] - 22) * (next[i] - 22);
    double want = (1 - 1.25 / 6) + 1.0 * (1 - sq / (22 * 6));
    assert_true(fabs(st.reward - want) < 1e-12);
    assert_true(fabs(json_number_value(json_object_get(st.terms, "energy")) - (1 - 1.25 / 6)) <
                1e-12);
    json_decref(st.terms);
    /* NaN actions are refused with the element named */
    act[3] = NAN;
    st.terms = NULL;
    assert_int_equal(fewshot_env_step(env, act, &st), FEWSHOT_ERANGE);
    assert_non_null(strstr(fewshot_error_last()->message, "action element 3"));
    fewshot_env_free(env);
}

static void test_heating_moves_temperature(void **state)
{
    /* a = +1 in every zone heats far above the target in an hour; a = -1 cools below */
    fewshot_env *env = make("OfficeSmall", "Hot_Dry");
    double obs[10], up[6] = {1, 1, 1, 1, 1, 1}, down[6] = {-1, -1, -1, -1, -1, -1}, n1[10];
    fewshot_step st = {.obs = n1};
    fewshot_env_reset(env, 0, NULL, obs);
    assert_int_equal(fewshot_env_step(env, up, &st), 0);
    json_decref(st.terms);
    for (int i = 0; i < 6; i++)
        assert_true(n1[i] > 35);
    fewshot_env_reset(env, 0, NULL, obs);
    assert_int_equal(fewshot_env_step(env, down, &st), 0);
    json_decref(st.terms);
    for (int i = 0; i < 6; i++)
        assert_true(n1[i] < 10);
    fewshot_env_free(env);
}

static void test_mpc_solvers_agree(void **state)
{
    /* the active-set solver stops at the KKT point; FISTA approaches it */
    double first[2][18];
    for (int k = 0; k < 2; k++) {
        fewshot_env *env;
        json_t *p = json_pack("{s:s, s:s, s:s, s:i}", "building", "OfficeMedium", "weather",
                              "Cool_Humid", "mpc_solver", k ? "fista" : "active-set",
                              "start_day", 20);
        assert_int_equal(fewshot_env_new(&env, "hvac", p), 0);
        json_decref(p);
        double obs[22];
        fewshot_env_reset(env, 0, NULL, obs);
        assert_int_equal(fewshot_env_policy(env, "mpc", obs, first[k]), 0);
        fewshot_env_free(env);
    }
    for (int i = 0; i < 18; i++) {
        assert_true(first[0][i] >= -1 && first[0][i] <= 1);
        assert_true(fabs(first[0][i] - first[1][i]) < 2e-3);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context),
        cmocka_unit_test(test_features_fixed_size),
        cmocka_unit_test(test_features_heating_cooling),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_paper_reward),
        cmocka_unit_test(test_instruction_range),
        cmocka_unit_test(test_shown_rewards_vary),
        cmocka_unit_test(test_heating_moves_temperature),
        cmocka_unit_test(test_mpc_solvers_agree),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
