/*
 * Callers built against version 1 of fewshot_sweep_options (before `cancel`, e.g. the Python
 * package's cffi declarations) keep working: init writes no further than their struct, and a
 * run reads no field past it. Bytes after the struct are poisoned to catch either.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fewshot.h>

typedef struct v1_options {      /* fewshot_sweep_options as version 1 declared it */
    unsigned int version;
    const char *run_dir;
    unsigned int shard_index, shard_count, jobs;
    int dry_run;
    FILE *progress, *log;
} v1_options;

static void test_version_1(void **state)
{
    union {
        v1_options v1;
        unsigned char bytes[sizeof(fewshot_sweep_options) + 64];
    } u;
    memset(u.bytes, 0xA5, sizeof u.bytes);
    assert_int_equal(fewshot_sweep_options_init((fewshot_sweep_options *)&u, 1), 0);
    for (size_t i = offsetof(fewshot_sweep_options, cancel); i < sizeof u.bytes; i++)
        assert_int_equal(u.bytes[i], 0xA5);      /* nothing written past version 1 */
    assert_int_equal(u.v1.version, 1);
    assert_null(u.v1.run_dir);
    /* a run reads no cancel pointer from the poisoned bytes */
    fewshot_config *cfg;
    assert_int_equal(fewshot_config_parse(&cfg, "{\"env\": {\"plugin\": \"room\"}, \"arms\": [], "
                                          "\"baselines\": [\"zero\"], \"episodes\": {\"seeds\": "
                                          "[1]}}", "abi.json"), 0);
    u.v1.dry_run = 1;
    fewshot_sweep_result res;
    int rc = fewshot_sweep_run(cfg, (fewshot_sweep_options *)&u, &res);
    if (rc)
        fail_msg("%s", fewshot_error_last()->message);
    fewshot_config_free(cfg);
    /* the current version and unknown ones */
    fewshot_sweep_options o;
    assert_int_equal(fewshot_sweep_options_init(&o, FEWSHOT_SWEEP_OPTIONS_VERSION), 0);
    assert_null(o.cancel);
    assert_int_equal(fewshot_sweep_options_init(&o, 99), FEWSHOT_EINVAL);
}

int main(void)
{
    const char *plugins = getenv("FEWSHOT_TEST_PLUGINS");
    if (plugins)
        setenv("FEWSHOT_PLUGIN_PATH", plugins, 1);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_version_1)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
