/* The vectorized environment (autoreset, seeds, reset options in turn, errors) and the
 * mlp:FILE policy (a hand-computed network, normalization, scaling, file errors), in C alone
 * so they are tested where Python is absent. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <fewshot.h>

static char dir[256];

static int setup(void **state)
{
    const char *plugins = getenv("FEWSHOT_TEST_PLUGINS");
    setenv("FEWSHOT_PLUGIN_PATH", plugins ? plugins : "tests/plugins/.libs", 1);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/fewshot-mlp.XXXXXX", tmp && strlen(tmp) < 200 ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char path[512];
    const char *names[] = {"net.json", "bad.json"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    return rmdir(dir);
}

static void test_vecenv_matches_single_envs(void **state)
{
    json_t *params = json_pack("{s:i}", "horizon", 3);
    fewshot_vecenv *vec;
    assert_int_equal(fewshot_vecenv_new(&vec, "room", params, 2), 0);
    assert_int_equal(fewshot_vecenv_size(vec), 2);
    fewshot_env *single;
    assert_int_equal(fewshot_env_new(&single, "room", params), 0);
    double obs[4], final[4], rewards[2], actions[2] = {0.5, -0.25}, o[2];
    int done[2], trunc[2];
    assert_int_equal(fewshot_vecenv_step(vec, actions, obs, rewards, done, trunc, NULL),
                     FEWSHOT_EINVAL);
    assert_int_equal(fewshot_vecenv_reset(vec, 10, NULL, obs), 0);
    assert_int_equal(fewshot_env_reset(single, 11, NULL, o), 0);
    assert_true(o[0] == obs[2] && o[1] == obs[3]);
    for (int t = 1; t <= 3; t++) {
        fewshot_step st = {.obs = o};
        assert_int_equal(fewshot_vecenv_step(vec, actions, obs, rewards, done, trunc, final), 0);
        assert_int_equal(fewshot_env_step(single, &actions[1], &st), 0);
        json_decref(st.terms);
        assert_true(final[2] == o[0] && final[3] == o[1] && rewards[1] == st.reward);
        assert_int_equal(trunc[1], t == 3);
    }
    /* both ended at step 3 and were reset with seeds 12 and 13 */
    assert_int_equal(fewshot_vecenv_episodes(vec), 2);
    assert_int_equal(fewshot_env_reset(single, 13, NULL, o), 0);
    assert_true(o[0] == obs[2] && o[1] == obs[3]);
    assert_true(fewshot_vecenv_env(vec, 1) != NULL && fewshot_vecenv_env(vec, 2) == NULL);
    double bad[2] = {NAN, 0};
    assert_int_equal(fewshot_vecenv_step(vec, bad, obs, rewards, done, trunc, NULL),
                     FEWSHOT_ERANGE);
    assert_non_null(strstr(fewshot_error_last()->message, "env 0"));
    fewshot_env_free(single);
    fewshot_vecenv_free(vec);
    assert_int_equal(fewshot_vecenv_new(&vec, "room", params, 0), FEWSHOT_EINVAL);
    assert_int_equal(fewshot_vecenv_new(&vec, "no-such-plugin", NULL, 2), FEWSHOT_ENOTFOUND);
    json_decref(params);
}

static void test_vecenv_options_in_turn(void **state)
{
    fewshot_vecenv *vec;
    assert_int_equal(fewshot_vecenv_new(&vec, "room", NULL, 3), 0);
    json_t *opts = json_loads("[{\"initial\": 10}, {\"initial\": 30}]", 0, NULL);
    double obs[6];
    /* episodes 0, 1, 2 get options 0, 1, 0 */
    assert_int_equal(fewshot_vecenv_reset(vec, 0, opts, obs), 0);
    assert_true(obs[0] == 10 && obs[2] == 30 && obs[4] == 10);
    json_decref(opts);
    fewshot_vecenv_free(vec);
}

static char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* 2 observations -> 2 tanh units -> 1 output, normalized, clipped and scaled onto [-1, 0]. */
static const char *net =
    "{\"format\": \"fewshot-mlp\", \"version\": 1, \"obs_dim\": 2, \"act_dim\": 1,\n"
    " \"obs_norm\": {\"mean\": [20, 10], \"std\": [2, 5], \"clip\": 3},\n"
    " \"layers\": [{\"weight\": [[0.5, -1], [0.25, 2]], \"bias\": [0.1, -0.2],"
    " \"activation\": \"tanh\"},\n"
    "            {\"weight\": [[1.5, -0.5]], \"bias\": [0.05]}],\n"
    " \"action\": {\"squash\": \"clip\", \"low\": [-1], \"high\": [0]}}\n";

static double expected(double t, double out)
{
    double x0 = fmin(3, fmax(-3, (t - 20) / 2)), x1 = fmin(3, fmax(-3, (out - 10) / 5));
    double h0 = tanh(0.5 * x0 - x1 + 0.1), h1 = tanh(0.25 * x0 + 2 * x1 - 0.2);
    double y = fmin(1, fmax(-1, 1.5 * h0 - 0.5 * h1 + 0.05));
    return -1 + (y + 1) * 0.5;
}

static void test_mlp_forward(void **state)
{
    fewshot_env *env;
    assert_int_equal(fewshot_env_new(&env, "room", NULL), 0);
    assert_int_equal(fewshot_env_reset(env, 0, NULL, NULL), 0);
    char spec[600];
    snprintf(spec, sizeof spec, "mlp:%s", write_file("net.json", net));
    fewshot_policy *p;
    assert_int_equal(fewshot_policy_new(&p, env, spec, 0), 0);
    double cases[][2] = {{20, 10}, {25, -3}, {12, 40}, {21.5, 9}};
    for (size_t i = 0; i < 4; i++) {
        double a;
        assert_int_equal(fewshot_policy_act(p, cases[i], &a), 0);
        assert_true(fabs(a - expected(cases[i][0], cases[i][1])) < 1e-15);
    }
    fewshot_policy_free(p);
    fewshot_env_free(env);
}

static void expect_error(fewshot_env *env, const char *text, int code, const char *path,
                         const char *words)
{
    char spec[600];
    snprintf(spec, sizeof spec, "mlp:%s", write_file("bad.json", text));
    fewshot_policy *p;
    assert_int_equal(fewshot_policy_new(&p, env, spec, 0), code);
    const fewshot_error *e = fewshot_error_last();
    if (path)
        assert_string_equal(e->path, path);
    assert_non_null(strstr(e->message, words));
    assert_non_null(strstr(e->file, "bad.json"));
}

static void test_mlp_errors(void **state)
{
    fewshot_env *env;
    assert_int_equal(fewshot_env_new(&env, "room", NULL), 0);
    expect_error(env, "{\"format\": \"fewshot-mlp\",\n \"version\": 1,,}", FEWSHOT_EPARSE, NULL,
                 "");
    assert_int_equal(fewshot_error_last()->line, 2);
    expect_error(env, "{\"format\": \"onnx\"}", FEWSHOT_EPARSE, "$.format", "fewshot-mlp");
    expect_error(env, "{\"format\": \"fewshot-mlp\", \"version\": 1, \"obs_dim\": 3, "
                 "\"act_dim\": 1, \"layers\": []}", FEWSHOT_EMISMATCH, "$.obs_dim",
                 "environment has 2 and 1");
    expect_error(env, "{\"format\": \"fewshot-mlp\", \"version\": 1, \"obs_dim\": 2, "
                 "\"act_dim\": 1, \"layers\": [{\"weight\": [[1, 2]], \"bias\": [\"x\"]}]}",
                 FEWSHOT_EPARSE, "$.layers[0].bias[0]", "finite number");
    expect_error(env, "{\"format\": \"fewshot-mlp\", \"version\": 1, \"obs_dim\": 2, "
                 "\"act_dim\": 1, \"layers\": [{\"weight\": [[1, 2], [3, 4]], \"bias\": [0, 0]}]}",
                 FEWSHOT_EPARSE, "$.layers", "2 outputs");
    expect_error(env, "{\"format\": \"fewshot-mlp\", \"version\": 1, \"obs_dim\": 2, "
                 "\"act_dim\": 1, \"obs_norm\": {\"mean\": [0, 0], \"std\": [1, 0]}, "
                 "\"layers\": [{\"weight\": [[1, 2]], \"bias\": [0]}]}",
                 FEWSHOT_EPARSE, "$.obs_norm.std[1]", "positive");
    expect_error(env, "{\"format\": \"fewshot-mlp\", \"version\": 1, \"obs_dim\": 2, "
                 "\"act_dim\": 1, \"layers\": [{\"weight\": [[1, 2]], \"bias\": [0], "
                 "\"gain\": 2}]}", FEWSHOT_EPARSE, "$.layers[0].gain", "unknown key");
    fewshot_policy *p;
    assert_int_equal(fewshot_policy_new(&p, env, "mlp:/nonexistent/x.json", 0), FEWSHOT_EIO);
    assert_int_equal(fewshot_policy_new(&p, env, "mlp:{horizon}-{nope}.json", 0), FEWSHOT_EINVAL);
    assert_non_null(strstr(fewshot_error_last()->message, "{nope}"));
    fewshot_env_free(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vecenv_matches_single_envs),
        cmocka_unit_test(test_vecenv_options_in_turn),
        cmocka_unit_test(test_mlp_forward),
        cmocka_unit_test(test_mlp_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
