/* Demonstration datasets at scale: days and scenarios plans (and their errors with JSON
 * paths), generation independent of the job count, the binary format, the shared store,
 * robust feature scaling, and distinct states in one prompt's selection. */
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

static char dir[64];

static int setup(void **state)
{
    const char *plugins = getenv("FEWSHOT_TEST_PLUGINS");
    if (plugins)
        setenv("FEWSHOT_PLUGIN_PATH", plugins, 1);
    strcpy(dir, "/tmp/fewshot-demoscale-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    setenv("XDG_CACHE_HOME", dir, 1);   /* the store lives in the test's directory */
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Generate the rooms plugin over scenarios (JSON text) with the given jobs. */
static int plan(fewshot_demos **ds, const char *days, const char *scenarios, unsigned jobs)
{
    json_t *d = days ? json_loads(days, JSON_DECODE_ANY, NULL) : NULL;
    json_t *s = scenarios ? json_loads(scenarios, 0, NULL) : NULL;
    fewshot_demos_generate_options o = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    o.env = "rooms";
    o.episodes = 2;
    o.steps = 5;
    o.seed = 10;
    o.days = d;
    o.scenarios = s;
    o.jobs = jobs;
    assert_int_equal(fewshot_demos_new(ds, NULL), 0);
    int rc = fewshot_demos_generate(*ds, &o);
    json_decref(d);
    json_decref(s);
    return rc;
}

static void assert_same(const fewshot_demos *a, const fewshot_demos *b)
{
    assert_int_equal(fewshot_demos_count(a), fewshot_demos_count(b));
    for (size_t i = 0; i < fewshot_demos_count(a); i++) {
        const fewshot_demo *x = fewshot_demos_get(a, i), *y = fewshot_demos_get(b, i);
        assert_int_equal(x->episode, y->episode);
        assert_int_equal(x->step, y->step);
        assert_int_equal(x->obs_dim, y->obs_dim);
        assert_memory_equal(x->obs, y->obs, x->obs_dim * sizeof *x->obs);
        assert_memory_equal(x->action, y->action, x->act_dim * sizeof *x->action);
        assert_true(x->reward == y->reward);
        assert_true(json_equal((json_t *)x->scenario, (json_t *)y->scenario));
        assert_int_equal(x->features_dim, y->features_dim);
    }
}

static void test_scenarios_grid_and_jobs(void **state)
{
    fewshot_demos *one, *many;
    const char *grid = "{\"grid\": {\"rooms\": [2, 4], \"pair\": [{\"outdoor\": -5, \"target\": "
                       "21}, {\"outdoor\": 30, \"target\": 23}, {\"outdoor\": 12}]}}";
    assert_int_equal(plan(&one, NULL, grid, 1), 0);
    assert_int_equal(plan(&many, NULL, grid, 4), 0);
    /* 2 x 3 tasks, 2 episodes of 5 steps each */
    assert_int_equal(fewshot_demos_count(one), 6 * 2 * 5);
    assert_same(one, many);
    /* task order is scenario-major: rooms 2 first, its pairs in order */
    const fewshot_demo *first = fewshot_demos_get(one, 0), *t2 = fewshot_demos_get(one, 10);
    assert_int_equal(first->obs_dim, 2 + 1);
    assert_true(json_number_value(json_object_get(first->scenario, "outdoor")) == -5);
    assert_true(json_number_value(json_object_get(t2->scenario, "outdoor")) == 30);
    assert_int_equal(fewshot_demos_get(one, 59)->obs_dim, 4 + 1);
    /* episode ids run on across tasks; task t's seeds follow on from task t-1's */
    assert_int_equal(fewshot_demos_get(one, 59)->episode, 11);
    json_t *st;
    assert_int_equal(fewshot_demos_stats(one, &st), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "scenarios")), 6);
    json_decref(st);
    fewshot_demos_free(one);
    fewshot_demos_free(many);
}

static void expect_plan_error(const char *days, const char *scenarios, const char *path,
                              const char *what)
{
    fewshot_demos *ds;
    int rc = plan(&ds, days, scenarios, 1);
    const fewshot_error *e = fewshot_error_last();
    if (rc != FEWSHOT_EINVAL || strcmp(e->path, path) || !strstr(e->message, what))
        print_error("got %d at %s: %s\n", rc, e->path, e->message);
    assert_int_equal(rc, FEWSHOT_EINVAL);
    assert_string_equal(e->path, path);
    assert_non_null(strstr(e->message, what));
    assert_int_equal(fewshot_demos_count(ds), 0);
    fewshot_demos_free(ds);
}

static void test_plan_errors(void **state)
{
    expect_plan_error("\"some\"", NULL, "days", "expected \"all\"");
    expect_plan_error("[15, 400]", NULL, "days[1]", "1 to 365");
    expect_plan_error("[15, 15]", NULL, "days[1]", "listed twice");
    expect_plan_error("{\"every\": 0}", NULL, "days.every", "1 to 365");
    expect_plan_error("{\"every\": 7, \"from\": 90, \"to\": 30}", NULL, "days.to", "before");
    expect_plan_error("{\"every\": 7, \"step\": 1}", NULL, "days.step", "unknown key");
    expect_plan_error(NULL, "[{}, 3]", "scenarios[1]", "parameter overrides");
    expect_plan_error(NULL, "{\"grid\": {\"rooms\": []}}", "scenarios.grid.rooms",
                      "non-empty list");
    expect_plan_error(NULL, "{\"grod\": {}}", "scenarios.grod", "unknown key");
    /* the plugin's own check of a scenario names the task */
    fewshot_demos *ds;
    assert_true(plan(&ds, NULL, "[{\"rooms\": \"many\"}]", 1) < 0);
    assert_non_null(strstr(fewshot_error_last()->message, "task 1 of 1"));
    fewshot_demos_free(ds);
}

static void test_binary_round_trip(void **state)
{
    fewshot_demos *ds, *back;
    char path[128], cut[128];
    assert_int_equal(plan(&ds, NULL, "[{\"rooms\": 2}, {\"rooms\": 5}]", 2), 0);
    fewshot_demo extra = *fewshot_demos_get(ds, 0);
    extra.text = "a state text";
    assert_int_equal(fewshot_demos_add(ds, &extra), 0);
    snprintf(path, sizeof path, "%s/d.fsdb", dir);
    assert_int_equal(fewshot_demos_save(ds, path), 0);
    assert_int_equal(fewshot_demos_load(&back, path), 0);
    assert_same(ds, back);
    assert_string_equal(fewshot_demos_get(back, fewshot_demos_count(back) - 1)->text,
                        "a state text");
    assert_true(json_equal(fewshot_demos_header(ds), fewshot_demos_header(back)));
    fewshot_demos_free(back);
    /* the header alone, from either format; the binary one carries the count */
    json_t *h;
    assert_int_equal(fewshot_demos_load_header(path, &h), 0);
    assert_string_equal(json_string_value(json_object_get(h, "plugin")), "rooms");
    assert_int_equal(json_integer_value(json_object_get(h, "transitions")),
                     fewshot_demos_count(ds));
    json_decref(h);
    char jpath[128];
    snprintf(jpath, sizeof jpath, "%s/d.jsonl", dir);
    assert_int_equal(fewshot_demos_save(ds, jpath), 0);
    assert_int_equal(fewshot_demos_load_header(jpath, &h), 0);
    assert_string_equal(json_string_value(json_object_get(h, "policy")), "expert");
    assert_null(json_object_get(h, "fewshot_demos"));
    json_decref(h);
    /* a truncated copy fails whole, naming the file */
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    snprintf(cut, sizeof cut, "%s/cut.fsdb", dir);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "head -c %lld '%s' > '%s'", (long long)sb.st_size - 7, path, cut);
    assert_int_equal(system(cmd), 0);
    back = (fewshot_demos *)0x1;
    assert_int_equal(fewshot_demos_load(&back, cut), FEWSHOT_EPARSE);
    assert_null(back);
    assert_string_equal(fewshot_error_last()->file, cut);
    assert_non_null(strstr(fewshot_error_last()->message, "cut short"));
    fewshot_demos_free(ds);
}

static void test_store(void **state)
{
    json_t *sc = json_loads("[{\"rooms\": 2}, {\"rooms\": 3}]", 0, NULL);
    fewshot_demos_generate_options o = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    o.env = "rooms";
    o.episodes = 1;
    o.steps = 4;
    o.scenarios = sc;
    fewshot_demos *a, *b;
    char *id1, *id2, *path1, *path2, *sdir, *id3;
    assert_int_equal(fewshot_demos_store_dir(&sdir), 0);
    char want[200];
    snprintf(want, sizeof want, "%s/libfewshot/demos", dir);
    assert_string_equal(sdir, want);
    assert_int_equal(fewshot_demos_obtain(&a, &o, &id1, &path1), 0);
    assert_int_equal(strlen(id1), 32);
    assert_non_null(strstr(path1, sdir));
    assert_non_null(strstr(path1, id1));
    struct stat sb;
    assert_int_equal(stat(path1, &sb), 0);
    /* the second time it is read from the store: same id and file, same transitions, and
     * the file is not rewritten */
    time_t written = sb.st_mtime;
    assert_int_equal(fewshot_demos_obtain(&b, &o, &id2, &path2), 0);
    assert_string_equal(id1, id2);
    assert_string_equal(path1, path2);
    assert_same(a, b);
    assert_int_equal(stat(path1, &sb), 0);
    assert_true(sb.st_mtime == written);
    /* the job count is not part of the identity; the seed is */
    o.jobs = 3;
    assert_int_equal(fewshot_demos_id(&o, &id3), 0);
    assert_string_equal(id3, id1);
    free(id3);
    o.seed = 5;
    assert_int_equal(fewshot_demos_id(&o, &id3), 0);
    assert_string_not_equal(id3, id1);
    free(id3);
    free(id1), free(id2), free(path1), free(path2), free(sdir);
    fewshot_demos_free(a);
    fewshot_demos_free(b);
    json_decref(sc);
}

/* A one-day dataset: the day feature barely moves (spread 0.003), the temperature feature
 * moves a lot. With the standard deviation a query 45 days away lands hundreds of sigmas off
 * on the day feature alone; robust scaling with its floor keeps it within a few units. */
static void test_robust_scaling(void **state)
{
    enum { N = 48 };
    float f[N][2];
    fewshot_embed_input in[N];
    for (int i = 0; i < N; i++) {
        f[i][0] = 0.866f + 0.003f * (float)((i % 3) - 1);
        f[i][1] = (float)(10 + i % 12);
        in[i] = (fewshot_embed_input){f[i], 2, NULL};
    }
    float query[2] = {0.26f, 15}, out_std[2], out_rob[2];
    fewshot_embed_input q = {query, 2, NULL};
    fewshot_embedder *std, *rob;
    fewshot_embedder_options o = FEWSHOT_EMBEDDER_OPTIONS_INIT;
    assert_int_equal(fewshot_embedder_new(&std, &o), 0);
    o.scaling = FEWSHOT_SCALING_ROBUST;
    assert_int_equal(fewshot_embedder_new(&rob, &o), 0);
    assert_int_equal(fewshot_embedder_fit(std, N, in), 0);
    assert_int_equal(fewshot_embedder_fit(rob, N, in), 0);
    assert_int_equal(fewshot_embedder_embed(std, 1, &q, out_std), 0);
    assert_int_equal(fewshot_embedder_embed(rob, 1, &q, out_rob), 0);
    assert_true(fabsf(out_std[0]) > 200);
    assert_true(fabsf(out_rob[0]) < 10);
    assert_true(fabsf(out_rob[1]) < 2);     /* a spread feature is scaled by its IQR */
    fewshot_embedder_free(std);
    fewshot_embedder_free(rob);
    /* weights multiply the scaled features; their count must match */
    double w[2] = {0, 2};
    o.weights = w;
    o.n_weights = 2;
    assert_int_equal(fewshot_embedder_new(&rob, &o), 0);
    assert_int_equal(fewshot_embedder_fit(rob, N, in), 0);
    float out_w[2];
    assert_int_equal(fewshot_embedder_embed(rob, 1, &q, out_w), 0);
    assert_true(out_w[0] == 0);
    assert_true(fabsf(out_w[1] - 2 * out_rob[1]) < 1e-5);
    fewshot_embedder_free(rob);
    o.n_weights = 1;
    assert_int_equal(fewshot_embedder_new(&rob, &o), 0);
    assert_int_equal(fewshot_embedder_fit(rob, N, in), FEWSHOT_EMISMATCH);
    fewshot_embedder_free(rob);
}

/* The case with the real hvac plugin: a one-day dataset (day 60) and a query on
 * day 15. With hvac 1.0's features (which held the day of the year) standard scaling put
 * that query 236 standard deviations off; whatever the plugin's features, robust scaling
 * must keep every one within a few units, and no further off than standard scaling. */
static void test_robust_scaling_hvac(void **state)
{
    const char *tp = getenv("FEWSHOT_TEST_PLUGINS");
    char plugins[4096];
    if (!tp || !strstr(tp, "/tests/plugins/.libs"))
        skip();
    snprintf(plugins, sizeof plugins, "%.*s/plugins/.libs", (int)(strstr(tp, "/tests/plugins")
                                                                   - tp), tp);
    char so[4200];
    snprintf(so, sizeof so, "%s/hvac.so", plugins);
    if (access(so, R_OK) != 0)
        skip();     /* the hvac plugin is not built */
    setenv("FEWSHOT_PLUGIN_PATH", plugins, 1);
    fewshot_demos *ds;
    json_t *p = json_pack("{s:s, s:i, s:i}", "building", "OfficeSmall", "episode_length", 24,
                          "start_day", 60);
    fewshot_demos_generate_options o = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    o.env = "hvac";
    o.params = p;
    o.steps = 24;
    o.episodes = 2;
    assert_int_equal(fewshot_demos_new(&ds, NULL), 0);
    assert_int_equal(fewshot_demos_generate(ds, &o), 0);
    setenv("FEWSHOT_PLUGIN_PATH", tp, 1);
    /* the query: the same building's first state on day 15 */
    fewshot_demos *q;
    json_object_set_new(p, "start_day", json_integer(15));
    o.episodes = 1;
    o.steps = 1;
    setenv("FEWSHOT_PLUGIN_PATH", plugins, 1);
    assert_int_equal(fewshot_demos_new(&q, NULL), 0);
    assert_int_equal(fewshot_demos_generate(q, &o), 0);
    setenv("FEWSHOT_PLUGIN_PATH", tp, 1);
    fewshot_embed_input *in, *qin;
    assert_int_equal(fewshot_embed_inputs_from_demos(ds, &in), 0);
    assert_int_equal(fewshot_embed_inputs_from_demos(q, &qin), 0);
    size_t n = fewshot_demos_count(ds), dim = in[0].dim;
    float out_std[64], out_rob[64];
    assert_true(dim <= 64);
    fewshot_embedder *std, *rob;
    fewshot_embedder_options eo = FEWSHOT_EMBEDDER_OPTIONS_INIT;
    assert_int_equal(fewshot_embedder_new(&std, &eo), 0);
    eo.scaling = FEWSHOT_SCALING_ROBUST;
    assert_int_equal(fewshot_embedder_new(&rob, &eo), 0);
    assert_int_equal(fewshot_embedder_fit(std, n, in), 0);
    assert_int_equal(fewshot_embedder_fit(rob, n, in), 0);
    assert_int_equal(fewshot_embedder_embed(std, 1, qin, out_std), 0);
    assert_int_equal(fewshot_embedder_embed(rob, 1, qin, out_rob), 0);
    float worst_std = 0, worst_rob = 0;
    for (size_t j = 0; j < dim; j++) {
        worst_std = fmaxf(worst_std, fabsf(out_std[j]));
        worst_rob = fmaxf(worst_rob, fabsf(out_rob[j]));
    }
    print_message("hvac one-day dataset, day-15 query: largest |z| %.1f with std scaling, "
                  "%.1f with robust scaling\n", worst_std, worst_rob);
    assert_true(worst_rob < 20);
    assert_true(worst_rob <= worst_std);
    free(in), free(qin);
    fewshot_embedder_free(std), fewshot_embedder_free(rob);
    fewshot_demos_free(ds), fewshot_demos_free(q);
    json_decref(p);
}

/* Datasets repeat states (every episode's first): one prompt shows each state once. */
static void test_distinct_states(void **state)
{
    fewshot_demos *ds;
    assert_int_equal(fewshot_demos_new(&ds, NULL), 0);
    float feats[6][2] = {{0, 0}, {0, 0}, {0, 0}, {1, 0}, {1, 0}, {3, 3}};
    double obs[6][2] = {{0, 0}, {0, 0}, {0, 0}, {1, 0}, {1, 0.5}, {3, 3}};
    for (int i = 0; i < 6; i++) {
        double act[1] = {i};
        fewshot_demo d = {.episode = (uint64_t)i, .obs = obs[i], .obs_dim = 2, .action = act,
                          .act_dim = 1, .next_obs = obs[i], .features = feats[i],
                          .features_dim = 2};
        assert_int_equal(fewshot_demos_add(ds, &d), 0);
    }
    fewshot_index *ix;
    assert_int_equal(fewshot_index_new(&ix, 2, NULL), 0);
    assert_int_equal(fewshot_index_add(ix, 6, &feats[0][0]), 0);
    fewshot_selector_options so = FEWSHOT_SELECTOR_OPTIONS_INIT;
    so.knn = 3;
    fewshot_selector *s;
    assert_int_equal(fewshot_selector_new(&s, &so, ds, ix, &feats[0][0]), 0);
    float q[2] = {0, 0};
    fewshot_selection sel = {0};
    assert_int_equal(fewshot_selector_select(s, q, NULL, &sel), 0);
    assert_int_equal(sel.count, 3);
    /* item 0 (the first of three identical states), then 3 and 4 (equal features, distinct
     * states) in dataset order */
    assert_int_equal(sel.picks[0].item, 0);
    assert_int_equal(sel.picks[1].item, 3);
    assert_int_equal(sel.picks[2].item, 4);
    assert_int_equal(sel.duplicates, 2);
    fewshot_selection_clear(&sel);
    fewshot_selector_free(s);
    fewshot_index_free(ix);
    fewshot_demos_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios_grid_and_jobs),
        cmocka_unit_test(test_plan_errors),
        cmocka_unit_test(test_binary_round_trip),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_robust_scaling),
        cmocka_unit_test(test_robust_scaling_hvac),
        cmocka_unit_test(test_distinct_states),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
