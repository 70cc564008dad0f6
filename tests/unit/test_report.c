/* The report through the API: a sweep of baselines, then fewshot_report_run with every
 * format into a memory stream and another output directory, the version-1 options struct,
 * --trace's fields, the robust columns' shape, and errors (wrong version, unknown format,
 * not a run directory, a trace episode that does not exist). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <fewshot.h>

static char tmp[64], run[128], out[128];

static int setup(void **state)
{
    (void)state;
    const char *dir = getenv("FEWSHOT_TEST_PLUGINS");
    setenv("FEWSHOT_PLUGIN_PATH", dir ? dir : "tests/plugins/.libs", 1);
    setenv("FEWSHOT_GNUPLOT", "", 1);
    strcpy(tmp, "/tmp/fewshot-report.XXXXXX");
    if (!mkdtemp(tmp))
        fail_msg("mkdtemp");
    setenv("XDG_CACHE_HOME", tmp, 1);
    snprintf(run, sizeof run, "%s/run", tmp);
    snprintf(out, sizeof out, "%s/out", tmp);
    fewshot_config *cfg;
    const char *text =
        "{\"env\": {\"plugin\": \"room\", \"params\": {\"horizon\": 4}},"
        " \"scenarios\": [{\"name\": \"cold\", \"params\": {\"outdoor\": 0}},"
        "                 {\"name\": \"mild\", \"params\": {\"outdoor\": 10}}],"
        " \"arms\": [], \"baselines\": [\"zero\", \"expert\", \"random\"],"
        " \"report\": {\"bootstrap\": 200, \"seed\": 7},"
        " \"episodes\": {\"seeds\": [1, 2, 3]}}";
    if (fewshot_config_parse(&cfg, text, "test.json") != 0)
        fail_msg("%s", fewshot_error_last()->message);
    fewshot_sweep_options so = FEWSHOT_SWEEP_OPTIONS_INIT;
    fewshot_sweep_result res;
    so.run_dir = run;
    int rc = fewshot_sweep_run(cfg, &so, &res);
    fewshot_config_free(cfg);
    if (rc != 0)
        fail_msg("%s", fewshot_error_last()->message);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static char *report_to_string(fewshot_report_options *opts)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    opts->table = f;
    int rc = fewshot_report_run(run, opts);
    fclose(f);
    if (rc != 0) {
        free(buf);
        fail_msg("%s", fewshot_error_last()->message);
    }
    return buf;
}

static void test_json(void **state)
{
    (void)state;
    fewshot_report_options opts;
    assert_int_equal(fewshot_report_options_init(&opts, FEWSHOT_REPORT_OPTIONS_VERSION), 0);
    opts.format = FEWSHOT_REPORT_JSON;
    opts.plots = 0;
    opts.out_dir = out;
    char *text = report_to_string(&opts);
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    free(text);
    assert_non_null(doc);
    json_t *rows = json_object_get(doc, "rows");
    assert_int_equal(json_array_size(rows), 9);     /* 3 arms x (2 scenarios + all) */
    size_t i, all = 0;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *arm = json_string_value(json_object_get(row, "arm"));
        if (strcmp(json_string_value(json_object_get(row, "scenario")), "all") == 0)
            all++;
        double score = json_number_value(json_object_get(row, "score_mean"));
        double lo = json_number_value(json_object_get(row, "score_ci_low"));
        double hi = json_number_value(json_object_get(row, "score_ci_high"));
        assert_true(lo <= score + 1e-12 && score <= hi + 1e-12);
        if (strcmp(arm, "expert") == 0)     /* the expert is score 1 by definition */
            assert_true(fabs(score - 1) < 1e-12);
        if (strcmp(arm, "zero") == 0)       /* the reference: no comparison with itself */
            assert_true(json_is_null(json_object_get(row, "prob_improvement")));
        else
            assert_true(json_is_number(json_object_get(row, "prob_improvement")));
    }
    assert_int_equal(all, 3);
    json_t *boot = json_object_get(json_object_get(doc, "reproduce"), "bootstrap");
    assert_int_equal(json_integer_value(json_object_get(boot, "resamples")), 200);
    assert_int_equal(json_integer_value(json_object_get(boot, "seed")), 7);
    json_decref(doc);
    char path[200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/summary.csv", out);
    assert_int_equal(stat(path, &sb), 0);
}

static void test_formats_and_version1(void **state)
{
    (void)state;
    fewshot_report_options opts = FEWSHOT_REPORT_OPTIONS_INIT;
    opts.plots = 0;
    opts.out_dir = out;
    opts.format = FEWSHOT_REPORT_MARKDOWN;
    char *text = report_to_string(&opts);
    assert_non_null(strstr(text, "| arm | scenario |"));
    free(text);
    opts.format = FEWSHOT_REPORT_LATEX;
    text = report_to_string(&opts);
    assert_non_null(strstr(text, "\\begin{tabular}"));
    free(text);
    /* a caller built against version 1 of the struct gets the table into its run directory */
    struct { unsigned int version; FILE *table; int plots; } v1;
    assert_int_equal(fewshot_report_options_init((fewshot_report_options *)(void *)&v1, 1), 0);
    assert_true(v1.version == 1 && v1.table == NULL && v1.plots == 1);
    v1.plots = 0;
    char *buf = NULL;
    size_t len = 0;
    v1.table = open_memstream(&buf, &len);
    assert_int_equal(fewshot_report_run(run, (const fewshot_report_options *)(void *)&v1), 0);
    fclose(v1.table);
    assert_non_null(strstr(buf, "reward (95% CI)"));
    free(buf);
}

static void test_trace(void **state)
{
    (void)state;
    fewshot_report_options opts = FEWSHOT_REPORT_OPTIONS_INIT;
    opts.plots = 0;
    opts.out_dir = out;
    opts.trace_arm = "expert";
    opts.trace_scenario = "mild";
    opts.trace_seed = 2;
    assert_int_equal(fewshot_report_run(run, &opts), 0);
    char path[200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/trace-expert-mild-2.gp", out);
    assert_int_equal(stat(path, &sb), 0);
    opts.trace_seed = 99;
    assert_int_equal(fewshot_report_run(run, &opts), FEWSHOT_ENOTFOUND);
    assert_non_null(strstr(fewshot_error_last()->message, "seed 99"));
}

static void test_errors(void **state)
{
    (void)state;
    fewshot_report_options opts = FEWSHOT_REPORT_OPTIONS_INIT;
    assert_int_equal(fewshot_report_options_init(&opts, 99), FEWSHOT_EINVAL);
    opts.version = 99;
    assert_int_equal(fewshot_report_run(run, &opts), FEWSHOT_EINVAL);
    opts.version = FEWSHOT_REPORT_OPTIONS_VERSION;
    opts.format = (fewshot_report_format)42;
    assert_int_equal(fewshot_report_run(run, &opts), FEWSHOT_EINVAL);
    opts.format = FEWSHOT_REPORT_TABLE;
    assert_int_equal(fewshot_report_run(tmp, &opts), FEWSHOT_ENOTFOUND);
    assert_non_null(strstr(fewshot_error_last()->message, "not a run directory"));
    assert_int_equal(fewshot_report_run(NULL, &opts), FEWSHOT_EINVAL);
    const char *bad[] = {"episodes.seeds=[1]", NULL};
    opts.set = bad;
    assert_int_equal(fewshot_report_run(run, &opts), FEWSHOT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_formats_and_version1),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
