/* Sweep configs: validation with JSON paths, --set, scenario/seed/arm expansion, designs,
 * plans and shards, and the report's Student t quantile. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fewshot.h>

static fewshot_config *parse_ok(const char *text)
{
    fewshot_config *cfg = NULL;
    if (fewshot_config_parse(&cfg, text, "t.json") != 0)
        fail_msg("unexpected error: %s (%s)", fewshot_error_last()->message,
                 fewshot_error_last()->path);
    return cfg;
}

/* Parsing fails with code, and the error's path (or message) contains what. */
static void parse_fails(const char *text, int code, const char *path, const char *message)
{
    fewshot_config *cfg = NULL;
    int rc = fewshot_config_parse(&cfg, text, "t.json");
    if (rc != code)
        fail_msg("expected code %d, got %d for %s (%s)", code, rc, text,
                 fewshot_error_last()->message);
    assert_null(cfg);
    if (path && strcmp(fewshot_error_last()->path, path) != 0)
        fail_msg("expected path %s, got '%s' (%s)", path, fewshot_error_last()->path,
                 fewshot_error_last()->message);
    if (message && !strstr(fewshot_error_last()->message, message))
        fail_msg("expected '%s' in '%s'", message, fewshot_error_last()->message);
}

static const char *arm_name(const fewshot_config *cfg, size_t i)
{
    return json_string_value(json_object_get(json_array_get(fewshot_config_arms(cfg), i),
                                             "name"));
}

static void test_errors(void **state)
{
    parse_fails("{\"env\": {\"plugin\": \"room\"},\n \"llm\": {,}}", FEWSHOT_EPARSE, NULL, NULL);
    assert_int_equal(fewshot_error_last()->line, 2);
    assert_true(fewshot_error_last()->column > 0);
    assert_string_equal(fewshot_error_last()->file, "t.json");
    parse_fails("{}", FEWSHOT_EINVAL, "$.env", "missing required key 'env'");
    parse_fails("[]", FEWSHOT_EINVAL, "$", "JSON object");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"selection\": {\"knn\": \"4\"}}",
                FEWSHOT_EINVAL, "$.selection.knn", "expected an integer, found a string");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"selection\": {\"kn\": 4}}", FEWSHOT_EINVAL,
                "$.selection.kn", "unknown key 'kn'");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"prompt\": {\"style\": \"x\"}}",
                FEWSHOT_EINVAL, "$.prompt.style", "not one of completion|chat");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"episodes\": {\"seeds\": [1, -2]}}",
                FEWSHOT_EINVAL, "$.episodes.seeds[1]", "non-negative");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"episodes\": {\"seeds\": [1, 1]}}",
                FEWSHOT_EINVAL, "$.episodes.seeds", "repeated");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"arms\": [{\"name\": \"a\", "
                "\"selection\": {\"knn\": true}}]}", FEWSHOT_EINVAL, "$.arms[0].selection.knn",
                "expected an integer");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"arms\": [{\"name\": \"a\"}, {\"name\": "
                "\"a\"}]}", FEWSHOT_EINVAL, "$.arms[1]", "duplicate arm name 'a'");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"arms\": {\"a\": {\"temperature\": 1}}}",
                FEWSHOT_EINVAL, "$.arms.a.temperature", "unknown key");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"arms\": [], \"baselines\": []}",
                FEWSHOT_EINVAL, "$.arms", "no arms");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"design\": {\"reference\": \"nope\"}}",
                FEWSHOT_EINVAL, "$.design.reference", "no arm is named 'nope'");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"design\": {\"type\": \"grid\", \"factors\": "
                "{\"temperature\": [1]}}}", FEWSHOT_EINVAL, "$.design.factors.temperature",
                "dotted path");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"demos\": {\"file\": \"d.jsonl\", "
                "\"episodes\": 3}}", FEWSHOT_EINVAL, "$.demos.file", "not both");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"scenarios\": {\"grid\": {\"x\": []}}}",
                FEWSHOT_EINVAL, "$.scenarios.grid.x", "non-empty");
    parse_fails("{\"env\": {\"plugin\": \"room\"}, \"scenarios\": [{\"params\": {}}, "
                "{\"name\": \"default\"}]}", FEWSHOT_EINVAL, "$.scenarios[1]", "duplicate");
}

static void test_defaults_and_hash(void **state)
{
    fewshot_config *cfg = parse_ok("{\"env\": {\"plugin\": \"room\"}, \"baselines\": [\"zero\"],"
                                   " \"demos\": {\"file\": \"d.jsonl\"}}");
    const json_t *doc = fewshot_config_json(cfg);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "selection"),
                                                        "knn")), 4);
    const char *file = json_string_value(json_object_get(json_object_get(doc, "demos"), "file"));
    assert_true(file[0] == '/');
    assert_non_null(strstr(file, "/d.jsonl"));
    /* the default LLM arm, then the baseline; reference = the first arm */
    assert_int_equal(json_array_size(fewshot_config_arms(cfg)), 2);
    assert_string_equal(arm_name(cfg, 0), "llm");
    assert_string_equal(arm_name(cfg, 1), "zero");
    assert_string_equal(fewshot_config_reference(cfg), "llm");
    assert_int_equal(strlen(fewshot_config_hash(cfg)), 64);
    /* the resolved document loads to the same hash */
    char *text = json_dumps(doc, JSON_COMPACT);
    fewshot_config *again = parse_ok(text);
    assert_string_equal(fewshot_config_hash(cfg), fewshot_config_hash(again));
    free(text);
    fewshot_config_free(again);
    /* seeds as a count */
    assert_int_equal(fewshot_config_set(cfg, "episodes.seeds={\"count\": 3, \"start\": 7}"), 0);
    const json_t *seeds = fewshot_config_seeds(cfg);
    assert_int_equal(json_array_size(seeds), 3);
    assert_int_equal(json_integer_value(json_array_get(seeds, 2)), 9);
    fewshot_config_free(cfg);
}

static void test_set(void **state)
{
    fewshot_config *cfg = parse_ok("{\"env\": {\"plugin\": \"room\"}, \"arms\": [{\"name\": "
                                   "\"a\"}, {\"name\": \"b\"}]}");
    const char *hash = strdup(fewshot_config_hash(cfg));
    assert_int_equal(fewshot_config_set(cfg, "llm.base_url=http://127.0.0.1:8080/v1"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            fewshot_config_json(cfg), "llm"), "base_url")),
                        "http://127.0.0.1:8080/v1");
    assert_string_not_equal(hash, fewshot_config_hash(cfg));
    free((char *)hash);
    /* values are JSON when they parse */
    assert_int_equal(fewshot_config_set(cfg, "episodes.seeds=[4,5]"), 0);
    assert_int_equal(json_array_size(fewshot_config_seeds(cfg)), 2);
    assert_int_equal(fewshot_config_set(cfg, "llm.model=gpt-4o"), 0);
    /* array elements by index */
    assert_int_equal(fewshot_config_set(cfg, "arms.1.name=c"), 0);
    assert_string_equal(arm_name(cfg, 1), "c");
    assert_int_equal(fewshot_config_set(cfg, "arms.7.name=c"), FEWSHOT_EINVAL);
    /* an invalid value is refused with its path and leaves the config unchanged */
    assert_int_equal(fewshot_config_set(cfg, "selection.knn=four"), FEWSHOT_EINVAL);
    assert_string_equal(fewshot_error_last()->path, "$.selection.knn");
    assert_non_null(strstr(fewshot_error_last()->message, "--set selection.knn=four"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(
                         fewshot_config_json(cfg), "selection"), "knn")), 4);
    assert_int_equal(fewshot_config_set(cfg, "noequals"), FEWSHOT_EINVAL);
    fewshot_config_free(cfg);
}

static void test_scenarios(void **state)
{
    fewshot_config *cfg = parse_ok(
        "{\"env\": {\"plugin\": \"room\", \"params\": {\"target\": 21}},"
        " \"scenarios\": {\"grid\": {\"outdoor\": [0, 10], \"tau\": [2, 4, 8]}},"
        " \"episodes\": {\"reset\": {\"initial\": 18}}}");
    const json_t *sc = fewshot_config_scenarios(cfg);
    assert_int_equal(json_array_size(sc), 6);
    const json_t *s1 = json_array_get(sc, 1);
    assert_string_equal(json_string_value(json_object_get(s1, "name")), "outdoor=0,tau=4");
    const json_t *params = json_object_get(s1, "params");
    assert_int_equal(json_integer_value(json_object_get(params, "target")), 21);
    assert_int_equal(json_integer_value(json_object_get(params, "tau")), 4);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s1, "reset"),
                                                        "initial")), 18);
    fewshot_config_free(cfg);
}

static void test_designs(void **state)
{
    fewshot_config *cfg = parse_ok(
        "{\"env\": {\"plugin\": \"room\"}, \"design\": {\"type\": \"grid\", \"factors\": "
        "{\"selection.knn\": [2, 4], \"prompt.style\": [\"completion\", \"chat\"]}},"
        " \"baselines\": [\"zero\", \"expert\"]}");
    assert_int_equal(json_array_size(fewshot_config_arms(cfg)), 6);
    assert_string_equal(arm_name(cfg, 0), "knn=2,style=completion");
    assert_string_equal(arm_name(cfg, 3), "knn=4,style=chat");
    assert_string_equal(arm_name(cfg, 4), "zero");
    const json_t *arm3 = json_array_get(fewshot_config_arms(cfg), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(arm3, "selection"),
                                                        "knn")), 4);
    assert_string_equal(json_string_value(json_object_get(json_object_get(arm3, "prompt"),
                                                          "style")), "chat");
    assert_string_equal(json_string_value(json_object_get(arm3, "kind")), "llm");
    assert_string_equal(json_string_value(json_object_get(json_array_get(
                            fewshot_config_arms(cfg), 5), "kind")), "policy");
    fewshot_config_free(cfg);

    /* one at a time: the reference plus one arm per value that differs from it */
    cfg = parse_ok("{\"env\": {\"plugin\": \"room\"}, \"selection\": {\"knn\": 4},"
                   " \"design\": {\"type\": \"one-at-a-time\", \"factors\": "
                   "{\"selection.knn\": [2, 4, 8], \"selection.history\": [0, 3]}}}");
    assert_int_equal(json_array_size(fewshot_config_arms(cfg)), 4);
    assert_string_equal(arm_name(cfg, 0), "reference");
    assert_string_equal(arm_name(cfg, 1), "knn=2");
    assert_string_equal(arm_name(cfg, 2), "knn=8");
    assert_string_equal(arm_name(cfg, 3), "history=3");
    assert_string_equal(fewshot_config_reference(cfg), "reference");
    const json_t *h = json_array_get(fewshot_config_arms(cfg), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "selection"),
                                                        "knn")), 4);
    fewshot_config_free(cfg);

    /* one at a time against an explicit arm */
    cfg = parse_ok("{\"env\": {\"plugin\": \"room\"}, \"arms\": [{\"name\": \"base\", "
                   "\"selection\": {\"knn\": 8}}, {\"name\": \"other\"}],"
                   " \"design\": {\"type\": \"one-at-a-time\", \"reference\": \"base\", "
                   "\"factors\": {\"selection.knn\": [8, 16]}}}");
    assert_int_equal(json_array_size(fewshot_config_arms(cfg)), 3);
    assert_string_equal(arm_name(cfg, 0), "base");
    assert_string_equal(arm_name(cfg, 1), "knn=16");
    assert_string_equal(arm_name(cfg, 2), "other");
    fewshot_config_free(cfg);

    /* leave one out over prompt components */
    cfg = parse_ok("{\"env\": {\"plugin\": \"room\"}, \"prompt\": {\"drop\": [\"meta\"]},"
                   " \"design\": {\"type\": \"leave-one-out\", \"components\": "
                   "[\"objective\", \"instruction\"]}}");
    assert_int_equal(json_array_size(fewshot_config_arms(cfg)), 3);
    assert_string_equal(arm_name(cfg, 0), "full");
    assert_string_equal(arm_name(cfg, 2), "no-instruction");
    const json_t *drop = json_object_get(json_object_get(json_array_get(
                                             fewshot_config_arms(cfg), 2), "prompt"), "drop");
    assert_int_equal(json_array_size(drop), 2);
    assert_string_equal(json_string_value(json_array_get(drop, 1)), "instruction");
    fewshot_config_free(cfg);
}

static void test_plan_and_shards(void **state)
{
    fewshot_config *cfg = parse_ok(
        "{\"env\": {\"plugin\": \"room\"}, \"arms\": [], \"baselines\": [\"zero\", \"expert\","
        " \"random\"], \"scenarios\": [{\"name\": \"a\"}, {\"name\": \"b\"}],"
        " \"episodes\": {\"seeds\": [1, 2, 3]}}");
    json_t *plan, *part;
    assert_int_equal(fewshot_sweep_plan(cfg, 0, 0, &plan), 0);
    assert_int_equal(json_array_size(plan), 18);
    /* round-robin over arms within each (seed, scenario) */
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(plan, i),
                                                            "arm_index")), i);
    assert_string_equal(json_string_value(json_object_get(json_array_get(plan, 4), "id")),
                        "expert/b/1");
    /* shards partition the plan, keeping each (seed, scenario) group whole */
    json_t *seen = json_object();
    size_t total = 0;
    for (unsigned int s = 1; s <= 4; s++) {
        assert_int_equal(fewshot_sweep_plan(cfg, s, 4, &part), 0);
        size_t i;
        json_t *ep;
        json_array_foreach(part, i, ep) {
            const char *id = json_string_value(json_object_get(ep, "id"));
            assert_null(json_object_get(seen, id));
            json_object_set_new(seen, id, json_true());
            total++;
        }
        assert_int_equal(json_array_size(part) % 3, 0);
        json_decref(part);
    }
    assert_int_equal(total, 18);
    assert_int_equal(fewshot_sweep_plan(cfg, 5, 4, &part), FEWSHOT_EINVAL);
    json_decref(seen);
    json_decref(plan);
    fewshot_config_free(cfg);
}

static void test_blocker(void **state)
{
    json_t *arm = json_pack("{s:s, s:{}}", "kind", "llm", "llm");
    char *why = fewshot_sweep_arm_blocker(arm);
    assert_non_null(why);
    assert_non_null(strstr(why, "llm.base_url"));
    free(why);
    json_object_set_new(json_object_get(arm, "llm"), "base_url",
                        json_string("https://api.example.com/v1"));
    json_object_set_new(json_object_get(arm, "llm"), "model", json_string("m"));
    json_object_set_new(json_object_get(arm, "llm"), "api_key_env",
                        json_string("FEWSHOT_TEST_SURELY_UNSET_KEY"));
    why = fewshot_sweep_arm_blocker(arm);
    assert_non_null(why);
    assert_non_null(strstr(why, "FEWSHOT_TEST_SURELY_UNSET_KEY"));
    free(why);
    json_object_set_new(json_object_get(arm, "llm"), "base_url",
                        json_string("http://127.0.0.1:9/v1"));
    why = fewshot_sweep_arm_blocker(arm);
    assert_non_null(why);
    assert_non_null(strstr(why, "--set llm.api_key_env="));
    free(why);
    json_object_set_new(json_object_get(arm, "llm"), "api_key_env", json_string(""));
    assert_null(fewshot_sweep_arm_blocker(arm));
    json_object_set_new(arm, "kind", json_string("policy"));
    assert_null(fewshot_sweep_arm_blocker(arm));
    json_decref(arm);
}

static void test_t95(void **state)
{
    /* reference values of the 97.5% quantile of Student's t */
    assert_true(fabs(fewshot_report_t95(1) - 12.7062047) < 1e-5);
    assert_true(fabs(fewshot_report_t95(4) - 2.7764451) < 1e-6);
    assert_true(fabs(fewshot_report_t95(10) - 2.2281389) < 1e-6);
    assert_true(fabs(fewshot_report_t95(30) - 2.0422725) < 1e-6);
    assert_true(fabs(fewshot_report_t95(1000) - 1.9623391) < 1e-6);
    assert_true(isnan(fewshot_report_t95(0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_defaults_and_hash),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_designs),
        cmocka_unit_test(test_plan_and_shards),
        cmocka_unit_test(test_blocker),
        cmocka_unit_test(test_t95),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
