/* Demonstration datasets: generation, JSONL round trip, all-or-nothing loading with the line
 * and field of each fault, statistics, and the online buffer. */
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

static char dir[64], path[128];

static int setup(void **state)
{
    const char *plugins = getenv("FEWSHOT_TEST_PLUGINS");
    if (plugins)
        setenv("FEWSHOT_PLUGIN_PATH", plugins, 1);
    strcpy(dir, "/tmp/fewshot-demo-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/d.jsonl", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static fewshot_demos *generate(const char *env, const char *params, uint64_t episodes,
                               uint64_t steps, uint64_t seed)
{
    fewshot_demos *ds;
    assert_int_equal(fewshot_demos_new(&ds, NULL), 0);
    fewshot_demos_generate_options o = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    json_t *p = params ? json_loads(params, 0, NULL) : NULL;
    o.env = env;
    o.params = p;
    o.episodes = episodes;
    o.steps = steps;
    o.seed = seed;
    assert_int_equal(fewshot_demos_generate(ds, &o), 0);
    json_decref(p);
    return ds;
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_generate_and_round_trip(void **state)
{
    if (!getenv("FEWSHOT_TEST_PLUGINS"))
        skip();
    fewshot_demos *ds = generate("room", "{\"horizon\": 5}", 3, 0, 7);
    /* the horizon ends each episode: 3 x 5 transitions, seeds 7, 8, 9 */
    assert_int_equal(fewshot_demos_count(ds), 15);
    const fewshot_demo *d = fewshot_demos_get(ds, 5);
    assert_int_equal(d->episode, 1);
    assert_int_equal(d->step, 0);
    assert_int_equal(d->obs_dim, 2);
    assert_int_equal(d->act_dim, 1);
    assert_int_equal(d->features_dim, 3);
    assert_string_equal(d->source, "expert");
    assert_true(fewshot_demos_get(ds, 4)->truncated);
    /* next_obs of one step is obs of the next */
    assert_memory_equal(fewshot_demos_get(ds, 5)->next_obs, fewshot_demos_get(ds, 6)->obs,
                        2 * sizeof(double));
    json_t *h = fewshot_demos_header(ds);
    assert_string_equal(json_string_value(json_object_get(h, "plugin")), "room");
    assert_string_equal(json_string_value(json_object_get(h, "policy")), "expert");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "params"),
                                                        "horizon")), 5);

    /* the same seed gives the same transitions; episode e uses seed + e */
    fewshot_demos *again = generate("room", "{\"horizon\": 5}", 1, 0, 8);
    assert_memory_equal(fewshot_demos_get(again, 0)->obs, fewshot_demos_get(ds, 5)->obs,
                        2 * sizeof(double));
    fewshot_demos_free(again);

    assert_int_equal(fewshot_demos_save(ds, path), 0);
    fewshot_demos *back;
    assert_int_equal(fewshot_demos_load(&back, path), 0);
    assert_int_equal(fewshot_demos_count(back), 15);
    for (size_t i = 0; i < 15; i++) {
        const fewshot_demo *a = fewshot_demos_get(ds, i), *b = fewshot_demos_get(back, i);
        assert_memory_equal(a->obs, b->obs, 2 * sizeof(double));
        assert_memory_equal(a->next_obs, b->next_obs, 2 * sizeof(double));
        assert_memory_equal(a->action, b->action, sizeof(double));
        assert_true(a->reward == b->reward);
        assert_memory_equal(a->features, b->features, 3 * sizeof(float));
        assert_true(json_equal((json_t *)a->terms, (json_t *)b->terms));
        assert_true(json_equal((json_t *)a->scenario, (json_t *)b->scenario));
        assert_int_equal(a->episode, b->episode);
        assert_int_equal(a->step, b->step);
        assert_int_equal(a->truncated, b->truncated);
    }
    json_t *st;
    assert_int_equal(fewshot_demos_stats(back, &st), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "transitions")), 15);
    assert_int_equal(json_integer_value(json_object_get(st, "episodes")), 3);
    assert_int_equal(json_integer_value(json_object_get(st, "scenarios")), 1);
    double sum = 0, mn = INFINITY;
    for (size_t i = 0; i < 15; i++) {
        sum += fewshot_demos_get(ds, i)->reward;
        mn = fmin(mn, fewshot_demos_get(ds, i)->reward);
    }
    json_t *r = json_object_get(st, "reward");
    assert_true(fabs(json_real_value(json_object_get(r, "mean")) - sum / 15) < 1e-9);
    assert_true(json_real_value(json_object_get(r, "min")) == mn);
    json_decref(st);

    /* appending another scenario continues the episode ids; another plugin is refused */
    fewshot_demos_generate_options o = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    json_t *p = json_pack("{s:i, s:f}", "horizon", 2, "outdoor", 30.0);
    o.env = "room";
    o.params = p;
    assert_int_equal(fewshot_demos_generate(back, &o), 0);
    assert_int_equal(fewshot_demos_count(back), 17);
    assert_int_equal(fewshot_demos_get(back, 16)->episode, 3);
    assert_int_equal(fewshot_demos_stats(back, &st), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "scenarios")), 2);
    json_decref(st);
    o.env = "rooms";
    o.params = NULL;
    assert_int_equal(fewshot_demos_generate(back, &o), FEWSHOT_EMISMATCH);
    assert_int_equal(fewshot_demos_count(back), 17);   /* unchanged */
    /* a failing policy leaves the dataset as it was */
    o.env = "room";
    o.policy = "no-such-policy";
    assert_true(fewshot_demos_generate(back, &o) < 0);
    assert_int_equal(fewshot_demos_count(back), 17);
    json_decref(p);
    fewshot_demos_free(back);
    fewshot_demos_free(ds);
}

#define HEADER "{\"fewshot_demos\": 1, \"plugin\": \"room\", \"policy\": \"expert\"}\n"
#define LINE(ep, step) "{\"episode\": " #ep ", \"step\": " #step ", \"obs\": [1, 2], " \
    "\"action\": [0.5], \"reward\": -1.5, \"next_obs\": [1.5, 2]}\n"

/* Loading text must fail with code, at line, with a message containing what. */
static void expect_load_error(const char *text, int code, int line, const char *what)
{
    write_file(text);
    fewshot_demos *ds = (fewshot_demos *)0x1;
    int rc = fewshot_demos_load(&ds, path);
    const fewshot_error *e = fewshot_error_last();
    if (rc != code || e->line != line || !strstr(e->message, what))
        print_error("got %d at line %d: %s\n", rc, e->line, e->message);
    assert_int_equal(rc, code);
    assert_null(ds);                      /* nothing half-loaded */
    assert_int_equal(e->line, line);
    assert_string_equal(e->file, path);
    assert_non_null(strstr(e->message, what));
}

static void test_load_errors(void **state)
{
    fewshot_demos *ds;
    write_file(HEADER LINE(0, 0) LINE(0, 1));
    assert_int_equal(fewshot_demos_load(&ds, path), 0);
    assert_int_equal(fewshot_demos_count(ds), 2);
    fewshot_demos_free(ds);
    /* a last line without its newline is fine when complete */
    write_file(HEADER "{\"episode\": 0, \"step\": 0, \"obs\": [1], \"action\": [0], "
               "\"reward\": 0, \"next_obs\": [1]}");
    assert_int_equal(fewshot_demos_load(&ds, path), 0);
    fewshot_demos_free(ds);

    expect_load_error(HEADER LINE(0, 0) "{\"episode\": 0, \"step\": 1, \"obs\": [1, ",
                      FEWSHOT_EPARSE, 3, "truncated last line");
    expect_load_error(HEADER LINE(0, 0) "{\"episode\": 0, oops}\n" LINE(0, 2), FEWSHOT_EPARSE, 3,
                      "");
    expect_load_error(LINE(0, 0), FEWSHOT_EPARSE, 1, "header");
    expect_load_error("", FEWSHOT_EPARSE, 0, "empty file");
    expect_load_error("{\"fewshot_demos\": 2}\n", FEWSHOT_EPARSE, 1, "unsupported format");
    expect_load_error(HEADER "{\"episode\": 0, \"step\": 0, \"obs\": [1, 2], \"action\": [0.5], "
                      "\"next_obs\": [1.5, 2]}\n", FEWSHOT_EPARSE, 2, "$.reward: missing");
    expect_load_error(HEADER "{\"episode\": 0, \"step\": 0, \"obs\": [1, \"x\"], \"action\": [0], "
                      "\"reward\": 0, \"next_obs\": [1, 2]}\n", FEWSHOT_EPARSE, 2,
                      "$.obs: element 1 is not a number");
    expect_load_error(HEADER "{\"episode\": -1, \"step\": 0, \"obs\": [1], \"action\": [0], "
                      "\"reward\": 0, \"next_obs\": [1]}\n", FEWSHOT_EPARSE, 2, "$.episode");
    expect_load_error(HEADER "{\"episode\": 0, \"step\": 0, \"obs\": [1, 2], \"action\": [0], "
                      "\"reward\": 0, \"next_obs\": [1]}\n", FEWSHOT_EMISMATCH, 2,
                      "$.next_obs: has 1 values but obs has 2");
    expect_load_error(HEADER LINE(0, 0) "{\"episode\": 0, \"step\": 1, \"obs\": [1], \"action\": "
                      "[0], \"reward\": 0, \"next_obs\": [1]}\n", FEWSHOT_EMISMATCH, 3,
                      "earlier steps of episode 0");
    expect_load_error(HEADER "{\"episode\": 0, \"step\": 0, \"obs\": [1], \"action\": [0], "
                      "\"reward\": 0, \"next_obs\": [1], \"colour\": 3}\n", FEWSHOT_EPARSE, 2,
                      "unknown field 'colour'");
    expect_load_error(HEADER "{\"episode\": 0, \"step\": 0, \"obs\": [1], \"action\": [0], "
                      "\"reward\": 0, \"next_obs\": [1], \"features\": [1, 2]}\n"
                      "{\"episode\": 1, \"step\": 0, \"obs\": [1], \"action\": [0], "
                      "\"reward\": 0, \"next_obs\": [1], \"features\": [1, 2, 3]}\n",
                      FEWSHOT_EMISMATCH, 3, "3 features, but earlier demonstrations have 2");
    expect_load_error(HEADER "{\"episode\": 0, \"step\": 0, \"obs\": [NaN], \"action\": [0], "
                      "\"reward\": 0, \"next_obs\": [1]}\n", FEWSHOT_EPARSE, 2, "");
    expect_load_error(HEADER "{\"episode\": 0, \"step\": 0, \"obs\": [1], \"action\": [0], "
                      "\"reward\": 1e999, \"next_obs\": [1]}\n", FEWSHOT_EPARSE, 2, "");
    assert_int_equal(fewshot_demos_load(&ds, "/nonexistent/demos.jsonl"), FEWSHOT_ENOTFOUND);
}

static void test_add_refuses_bad_values(void **state)
{
    fewshot_demos *ds;
    assert_int_equal(fewshot_demos_new(&ds, NULL), 0);
    double obs[2] = {1, NAN}, act[1] = {0}, next[2] = {1, 2};
    fewshot_demo d = {.obs = obs, .obs_dim = 2, .action = act, .act_dim = 1, .next_obs = next};
    assert_int_equal(fewshot_demos_add(ds, &d), FEWSHOT_ERANGE);
    assert_non_null(strstr(fewshot_error_last()->message, "obs[1] is NaN"));
    obs[1] = 2;
    float f[2] = {0, NAN};
    d.features = f;
    d.features_dim = 2;
    assert_int_equal(fewshot_demos_add(ds, &d), FEWSHOT_ERANGE);
    assert_non_null(strstr(fewshot_error_last()->message, "features[1] is NaN"));
    d.features = NULL;
    d.features_dim = 0;
    assert_int_equal(fewshot_demos_add(ds, &d), 0);
    assert_int_equal(fewshot_demos_count(ds), 1);
    fewshot_demos_free(ds);
}

static void test_buffer_ring(void **state)
{
    fewshot_buffer *b;
    assert_int_equal(fewshot_buffer_new(&b, 0), FEWSHOT_EINVAL);
    assert_int_equal(fewshot_buffer_new(&b, 3), 0);
    double obs[1], act[1] = {0}, next[1];
    fewshot_demo d = {.obs = obs, .obs_dim = 1, .action = act, .act_dim = 1, .next_obs = next};
    for (int i = 0; i < 5; i++) {
        obs[0] = i;
        next[0] = i + 1;
        d.step = (uint64_t)i;
        d.reward = -i;
        assert_int_equal(fewshot_buffer_push(b, &d), 0);
    }
    assert_int_equal(fewshot_buffer_count(b), 3);
    assert_int_equal(fewshot_buffer_pushed(b), 5);
    assert_int_equal(fewshot_buffer_capacity(b), 3);
    assert_int_equal(fewshot_buffer_get(b, 0)->step, 2);     /* oldest kept */
    assert_int_equal(fewshot_buffer_get(b, 2)->step, 4);     /* newest */
    assert_true(fewshot_buffer_get(b, 2)->reward == -4);
    assert_null(fewshot_buffer_get(b, 3));
    obs[0] = NAN;
    assert_int_equal(fewshot_buffer_push(b, &d), FEWSHOT_ERANGE);
    assert_int_equal(fewshot_buffer_count(b), 3);
    fewshot_buffer_clear(b);
    assert_int_equal(fewshot_buffer_count(b), 0);
    fewshot_buffer_free(b);
    fewshot_buffer_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_and_round_trip),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_add_refuses_bad_values),
        cmocka_unit_test(test_buffer_ring),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
