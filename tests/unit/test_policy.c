/* Simple policies: zero, random, const, file replay, plugin policies, and their errors. */
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

static fewshot_env *env;

static int setup(void **state)
{
    const char *dir = getenv("FEWSHOT_TEST_PLUGINS");
    setenv("FEWSHOT_PLUGIN_PATH", dir ? dir : "tests/plugins/.libs", 1);
    if (fewshot_env_new(&env, "room", NULL) != 0)
        fail_msg("%s", fewshot_error_last()->message);
    fewshot_env_reset(env, 0, NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    fewshot_env_free(env);
    return 0;
}

static void test_zero_and_const(void **state)
{
    fewshot_policy *p;
    double a = 5;
    assert_int_equal(fewshot_policy_new(&p, env, "zero", 0), 0);
    assert_int_equal(fewshot_policy_act(p, NULL, &a), 0);
    assert_true(a == 0);
    fewshot_policy_free(p);
    assert_int_equal(fewshot_policy_new(&p, env, "const:0.25", 0), 0);
    assert_int_equal(fewshot_policy_act(p, NULL, &a), 0);
    assert_true(a == 0.25);
    assert_string_equal(fewshot_policy_spec(p), "const:0.25");
    fewshot_policy_free(p);
    assert_int_equal(fewshot_policy_new(&p, env, "const:abc", 0), FEWSHOT_EINVAL);
    assert_int_equal(fewshot_policy_new(&p, env, "const:1,2", 0), FEWSHOT_EINVAL);
    assert_non_null(strstr(fewshot_error_last()->message, "expected 1 or 1 values"));
}

static void test_random_seeded_in_range(void **state)
{
    fewshot_policy *p, *q;
    assert_int_equal(fewshot_policy_new(&p, env, "random", 7), 0);
    assert_int_equal(fewshot_policy_new(&q, env, "random", 7), 0);
    for (int i = 0; i < 100; i++) {
        double a, b;
        fewshot_policy_act(p, NULL, &a);
        fewshot_policy_act(q, NULL, &b);
        assert_true(a == b);
        assert_true(a >= -1 && a <= 1);
    }
    fewshot_policy_free(p);
    fewshot_policy_free(q);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_file_replay(void **state)
{
    char path[] = "/tmp/fewshot-actions-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    write_file(path, "act_0\n# a comment\n0.5\n\n-0.5\n");
    char spec[128];
    snprintf(spec, sizeof spec, "file:%s", path);
    fewshot_policy *p;
    double a;
    assert_int_equal(fewshot_policy_new(&p, env, spec, 0), 0);
    assert_int_equal(fewshot_policy_act(p, NULL, &a), 0);
    assert_true(a == 0.5);
    assert_int_equal(fewshot_policy_act(p, NULL, &a), 0);
    assert_true(a == -0.5);
    assert_int_equal(fewshot_policy_act(p, NULL, &a), FEWSHOT_ERANGE);
    assert_non_null(strstr(fewshot_error_last()->message, "no action row for step 3"));
    fewshot_policy_reset(p, 0);
    assert_int_equal(fewshot_policy_act(p, NULL, &a), 0);
    assert_true(a == 0.5);
    fewshot_policy_free(p);

    write_file(path, "0.5\n0.1,0.2\n");
    assert_int_equal(fewshot_policy_new(&p, env, spec, 0), FEWSHOT_EPARSE);
    assert_int_equal(fewshot_error_last()->line, 2);
    assert_non_null(strstr(fewshot_error_last()->message, "expected 1 actions, found 2"));
    write_file(path, "0.5\nnan\n");
    assert_int_equal(fewshot_policy_new(&p, env, spec, 0), FEWSHOT_EPARSE);
    assert_int_equal(fewshot_error_last()->line, 2);
    write_file(path, "");
    assert_int_equal(fewshot_policy_new(&p, env, spec, 0), FEWSHOT_EPARSE);
    unlink(path);
    assert_int_equal(fewshot_policy_new(&p, env, spec, 0), FEWSHOT_EIO);
    assert_string_equal(fewshot_error_last()->file, path);
}

static void test_plugin_policy(void **state)
{
    fewshot_policy *p;
    double a;
    assert_int_equal(fewshot_policy_new(&p, env, "expert", 0), 0);
    assert_int_equal(fewshot_policy_act(p, NULL, &a), 0);
    assert_true(a > 0);
    fewshot_policy_free(p);
    assert_int_equal(fewshot_policy_new(&p, env, "thermostat", 0), 0);
    fewshot_policy_free(p);
    assert_int_equal(fewshot_policy_new(&p, env, "mpc", 0), FEWSHOT_EINVAL);
    assert_non_null(strstr(fewshot_error_last()->message, "thermostat"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_and_const),
        cmocka_unit_test(test_random_seeded_in_range),
        cmocka_unit_test(test_file_replay),
        cmocka_unit_test(test_plugin_policy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
