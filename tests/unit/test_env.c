/* Environments: registration, the loader's error paths, parameters, and the handle's checks. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fewshot.h>

/* ---- a counter environment registered in-process ---- */
static const double lo[] = {0}, hi[] = {100}, alo[] = {-1}, ahi[] = {1};
static int destroyed;

static int c_create(void **self, const json_t *params)
{
    double *x = calloc(1, sizeof *x);
    *x = json_number_value(json_object_get(params, "start"));
    *self = x;
    return 0;
}
static void c_destroy(void *self) { destroyed++; free(self); }
static int c_spaces(void *self, fewshot_space *o, fewshot_space *a)
{
    *o = (fewshot_space){1, lo, hi, 0, NULL};
    *a = (fewshot_space){1, alo, ahi, 0, NULL};
    return 0;
}
static int c_reset(void *self, uint64_t seed, const json_t *opt, double *obs)
{
    obs[0] = *(double *)self;
    return 0;
}
static int c_step(void *self, const double *a, fewshot_step *out)
{
    out->obs[0] = *(double *)self + a[0];
    *(double *)self = out->obs[0];
    out->reward = a[0];
    out->truncated = out->obs[0] >= 3;
    return 0;
}
static int c_step_fails_silently(void *self, const double *a, fewshot_step *out) { return -1; }

static fewshot_env_plugin counter = {
    .abi = FEWSHOT_PLUGIN_ABI,
    .name = "counter",
    .summary = "counts",
    .version = "1",
    .params_doc = "{\"params\": {\"start\": {\"type\": \"number\", \"default\": 1}}}",
    .create = c_create, .destroy = c_destroy, .spaces = c_spaces,
    .reset = c_reset, .step = c_step,
};

static int setup(void **state)
{
    static int done;
    if (!done) {
        assert_int_equal(fewshot_env_register(&counter), 0);
        done = 1;
    }
    return 0;
}

static void test_register_and_step(void **state)
{
    fewshot_env *env;
    assert_int_equal(fewshot_env_new(&env, "counter", NULL), 0);
    double obs[1];
    assert_int_equal(fewshot_env_reset(env, 0, NULL, obs), 0);
    assert_true(obs[0] == 1.0);
    double a = 1;
    fewshot_step st = {.obs = obs};
    assert_int_equal(fewshot_env_step(env, &a, &st), 0);
    assert_true(obs[0] == 2.0);
    assert_int_equal(fewshot_env_steps(env), 1);
    assert_int_equal(fewshot_env_step(env, &a, &st), 0);
    assert_true(st.truncated);
    /* stepping a finished episode is refused */
    assert_int_equal(fewshot_env_step(env, &a, &st), FEWSHOT_EINVAL);
    assert_non_null(strstr(fewshot_error_last()->message, "reset"));
    assert_string_equal(fewshot_env_plugin_file(fewshot_env_plugin_of(env)), "(built-in)");
    int before = destroyed;
    fewshot_env_free(env);
    assert_int_equal(destroyed, before + 1);
    fewshot_env_free(NULL);
}

static void test_register_twice_refused(void **state)
{
    assert_int_equal(fewshot_env_register(&counter), FEWSHOT_EEXISTS);
    fewshot_env_plugin bad = counter;
    bad.name = "counter2";
    bad.abi = 99;
    assert_int_equal(fewshot_env_register(&bad), FEWSHOT_EPLUGIN);
    assert_non_null(strstr(fewshot_error_last()->message, "ABI version 99"));
    bad.abi = FEWSHOT_PLUGIN_ABI;
    bad.step = NULL;
    assert_int_equal(fewshot_env_register(&bad), FEWSHOT_EPLUGIN);
    assert_non_null(strstr(fewshot_error_last()->message, "step()"));
}

static void test_params_checked(void **state)
{
    fewshot_env *env;
    json_t *p = json_pack("{s:i}", "stat", 3);
    assert_int_equal(fewshot_env_new(&env, "counter", p), FEWSHOT_EINVAL);
    assert_null(env);
    assert_non_null(strstr(fewshot_error_last()->message, "unknown parameter 'stat'"));
    assert_non_null(strstr(fewshot_error_last()->message, "start"));
    json_decref(p);
    p = json_pack("{s:s}", "start", "five");
    assert_int_equal(fewshot_env_new(&env, "counter", p), FEWSHOT_EINVAL);
    assert_non_null(strstr(fewshot_error_last()->message, "must be a number"));
    json_decref(p);
    p = json_pack("{s:f}", "start", 2.5);
    assert_int_equal(fewshot_env_new(&env, "counter", p), 0);
    double obs;
    fewshot_env_reset(env, 0, NULL, &obs);
    assert_true(obs == 2.5);
    fewshot_env_free(env);
    json_decref(p);
}

static void test_nan_action_refused(void **state)
{
    fewshot_env *env;
    assert_int_equal(fewshot_env_new(&env, "counter", NULL), 0);
    double a = NAN;
    assert_int_equal(fewshot_env_step(env, &a, NULL), FEWSHOT_EINVAL); /* before reset */
    fewshot_env_reset(env, 0, NULL, NULL);
    assert_int_equal(fewshot_env_step(env, &a, NULL), FEWSHOT_ERANGE);
    assert_non_null(strstr(fewshot_error_last()->message, "action element 0"));
    a = INFINITY;
    assert_int_equal(fewshot_env_step(env, &a, NULL), FEWSHOT_ERANGE);
    fewshot_env_free(env);
}

static void test_silent_plugin_failure_gets_message(void **state)
{
    static fewshot_env_plugin silent;
    silent = counter;
    silent.name = "silent";
    silent.step = c_step_fails_silently;
    assert_int_equal(fewshot_env_register(&silent), 0);
    fewshot_env *env;
    assert_int_equal(fewshot_env_new(&env, "silent", NULL), 0);
    fewshot_env_reset(env, 0, NULL, NULL);
    double a = 0;
    assert_true(fewshot_env_step(env, &a, NULL) < 0);
    assert_non_null(strstr(fewshot_error_last()->message, "silent: step() failed"));
    fewshot_env_free(env);
}

/* ---- plugins loaded from files (tests/plugins) ---- */
static const char *plugin_dir(void)
{
    const char *dir = getenv("FEWSHOT_TEST_PLUGINS");
    return dir ? dir : "tests/plugins/.libs";
}

static int load_setup(void **state)
{
    setenv("FEWSHOT_PLUGIN_PATH", plugin_dir(), 1);
    return 0;
}

static void test_load_room(void **state)
{
    fewshot_env *env;
    assert_int_equal(fewshot_env_new(&env, "room", NULL), 0);
    const fewshot_space *os = fewshot_env_obs_space(env);
    assert_int_equal(os->dim, 2);
    assert_string_equal(fewshot_space_name(os, 0), "room_temperature");
    assert_non_null(strstr(fewshot_env_plugin_file(fewshot_env_plugin_of(env)), "room.so"));
    double obs[2], act[1];
    assert_int_equal(fewshot_env_reset(env, 0, NULL, obs), 0);
    assert_true(obs[0] == 15.0);
    assert_int_equal(fewshot_env_policy(env, "expert", NULL, act), 0);
    assert_true(act[0] > 0);
    assert_int_equal(fewshot_env_policy(env, "nonsense", NULL, act), FEWSHOT_ENOTFOUND);
    assert_non_null(strstr(fewshot_error_last()->message, "thermostat"));
    json_t *ctx;
    assert_int_equal(fewshot_env_context(env, NULL, &ctx), 0);
    assert_true(json_is_array(json_object_get(ctx, "rooms")));
    json_decref(ctx);
    float f[8];
    size_t dim;
    assert_int_equal(fewshot_env_features(env, NULL, f, 8, &dim), 0);
    assert_int_equal(dim, 3);
    assert_non_null(fewshot_env_template(env, "objective"));
    assert_null(fewshot_env_template(env, "nothing"));
    fewshot_env_free(env);
}

static void test_load_by_path(void **state)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/room.so", plugin_dir());
    const fewshot_env_plugin *p;
    assert_int_equal(fewshot_env_plugin_find(&p, path), 0);
    assert_string_equal(p->name, "room");
}

static void expect_load_error(const char *name, int code, const char *needle)
{
    fewshot_env *env = NULL;
    int rc = fewshot_env_new(&env, name, NULL);
    if (rc != code || !strstr(fewshot_error_last()->message, needle))
        fail_msg("%s: rc %d (want %d), message '%s' lacks '%s'", name, rc, code,
                 fewshot_error_last()->message, needle);
    assert_null(env);
}

static void test_missing_plugin(void **state)
{
    expect_load_error("nosuchplugin", FEWSHOT_ENOTFOUND, "unknown environment 'nosuchplugin'");
    expect_load_error("/nonexistent/dir/x.so", FEWSHOT_ENOTFOUND, "no such plugin file");
}

static void test_broken_plugins(void **state)
{
    expect_load_error("nosym", FEWSHOT_EPLUGIN, "does not export the symbol fewshot_env_plugin_entry");
    expect_load_error("badabi", FEWSHOT_EPLUGIN, "plugin ABI version 42");
    expect_load_error("failcreate", FEWSHOT_EINVAL, "failcreate: the test plugin always refuses");
}

static void test_not_a_shared_object(void **state)
{
    char dir[] = "/tmp/fewshot-env-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/junk.so", dir);
    FILE *f = fopen(path, "w");
    fputs("not an ELF file\n", f);
    fclose(f);
    expect_load_error(path, FEWSHOT_EPLUGIN, "cannot load plugin");
    /* ldd cannot help with a file that is no shared object at all */
    assert_non_null(strstr(fewshot_error_last()->message, "not a shared library (no ELF header)"));
    assert_null(strstr(fewshot_error_last()->message, "ldd"));
    remove(path);
    rmdir(dir);
}

static void test_nan_observation(void **state)
{
    fewshot_env *env;
    assert_int_equal(fewshot_env_new(&env, "nanobs", NULL), 0);
    assert_int_equal(fewshot_env_reset(env, 0, NULL, NULL), 0);
    double a = 0;
    assert_int_equal(fewshot_env_step(env, &a, NULL), FEWSHOT_EPLUGIN);
    assert_non_null(strstr(fewshot_error_last()->message, "observation element 0"));
    assert_non_null(strstr(fewshot_error_last()->message, "nanobs: step()"));
    fewshot_env_free(env);
}

static void test_list(void **state)
{
    json_t *list;
    assert_int_equal(fewshot_env_plugin_list(&list), 0);
    int room = 0, nosym_error = 0, counter_seen = 0;
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        const char *name = json_string_value(json_object_get(item, "name"));
        if (strcmp(name, "room") == 0)
            room = 1;
        if (strcmp(name, "counter") == 0)
            counter_seen = 1;
        if (strcmp(name, "nosym") == 0 && json_object_get(item, "error"))
            nosym_error = 1;
    }
    assert_true(room);
    assert_true(counter_seen);
    assert_true(nosym_error);
    json_decref(list);
}

/* ---- reward terms: numbers from a declaring plugin, JSON at the edge, old JSON plugins ---- */
static const char *const t_names[] = {"gain", "cost", NULL};
static double t_cost = -0.5;
static int t_step(void *self, const double *a, fewshot_step *out)
{
    out->obs[0] = *(double *)self;
    out->reward = a[0] + t_cost;
    out->term_values[0] = a[0];
    out->term_values[1] = t_cost;
    return 0;
}
static int t_step_forgets(void *self, const double *a, fewshot_step *out)
{
    out->obs[0] = *(double *)self;
    out->reward = a[0];
    out->term_values[0] = a[0];     /* term 1 not written */
    return 0;
}
static int t_step_json(void *self, const double *a, fewshot_step *out)
{
    out->obs[0] = *(double *)self;
    out->reward = a[0];
    out->terms = json_pack("{s:f}", "old", a[0]);   /* a plugin built before term_names */
    return 0;
}
static fewshot_env_plugin termed = {
    .abi = FEWSHOT_PLUGIN_ABI, .name = "termed", .summary = "terms", .version = "1",
    .params_doc = "{\"params\": {\"start\": {\"type\": \"number\", \"default\": 1}}}",
    .create = c_create, .destroy = c_destroy, .spaces = c_spaces,
    .reset = c_reset, .step = t_step, .term_names = t_names,
};
static fewshot_env_plugin old_json = {
    .abi = FEWSHOT_PLUGIN_ABI, .name = "oldjson", .summary = "terms", .version = "1",
    .params_doc = "{\"params\": {\"start\": {\"type\": \"number\", \"default\": 1}}}",
    .create = c_create, .destroy = c_destroy, .spaces = c_spaces,
    .reset = c_reset, .step = t_step_json,
};

static void test_reward_terms(void **state)
{
    static int registered;
    if (!registered) {
        assert_int_equal(fewshot_env_register(&termed), 0);
        assert_int_equal(fewshot_env_register(&old_json), 0);
        registered = 1;
    }
    fewshot_env *env;
    size_t n;
    double obs[1], a = 0.25, values[FEWSHOT_STEP_TERMS_MAX];
    assert_int_equal(fewshot_env_new(&env, "termed", NULL), 0);
    const char *const *names = fewshot_env_term_names(env, &n);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "gain");
    assert_string_equal(names[1], "cost");
    assert_null(names[2]);
    assert_int_equal(fewshot_env_reset(env, 0, NULL, obs), 0);
    /* numbers: no JSON made */
    fewshot_step st = {.obs = obs};
    assert_int_equal(fewshot_env_step_terms(env, &a, &st, values), 0);
    assert_null(st.terms);
    assert_true(values[0] == 0.25 && values[1] == -0.5);
    assert_int_equal(fewshot_env_step_terms(env, &a, &st, NULL), FEWSHOT_EINVAL);
    /* JSON at the edge, in declaration order, equal to the numbers; term_values is the
     * library's business (an old caller's struct may not have it): a stray pointer there is
     * neither read nor written */
    fewshot_step sj = {.obs = obs, .term_values = (double *)1};
    assert_int_equal(fewshot_env_step(env, &a, &sj), 0);
    char *text = json_dumps(sj.terms, JSON_COMPACT);
    assert_string_equal(text, "{\"gain\":0.25,\"cost\":-0.5}");
    free(text);
    json_decref(sj.terms);
    /* no out at all */
    assert_int_equal(fewshot_env_step(env, &a, NULL), 0);
    /* a non-finite term is refused by name */
    t_cost = NAN;
    assert_int_equal(fewshot_env_step_terms(env, &a, &st, values), FEWSHOT_EPLUGIN);
    assert_non_null(strstr(fewshot_error_last()->message, "non-finite reward term 'cost'"));
    t_cost = -0.5;
    fewshot_env_free(env);
    /* a term the plugin does not write is refused by name, not left stale */
    termed.step = t_step_forgets;
    assert_int_equal(fewshot_env_new(&env, "termed", NULL), 0);
    assert_int_equal(fewshot_env_reset(env, 0, NULL, obs), 0);
    values[1] = 3;
    assert_int_equal(fewshot_env_step_terms(env, &a, &st, values), FEWSHOT_EPLUGIN);
    assert_non_null(strstr(fewshot_error_last()->message, "reward term 'cost'"));
    termed.step = t_step;
    fewshot_env_free(env);

    /* a plugin without term_names keeps returning JSON, even to a caller asking for numbers */
    assert_int_equal(fewshot_env_new(&env, "oldjson", NULL), 0);
    assert_null(fewshot_env_term_names(env, &n)[0]);
    assert_int_equal(n, 0);
    assert_int_equal(fewshot_env_reset(env, 0, NULL, obs), 0);
    fewshot_step so = {.obs = obs};
    assert_int_equal(fewshot_env_step_terms(env, &a, &so, values), 0);
    assert_true(json_real_value(json_object_get(so.terms, "old")) == 0.25);
    json_decref(so.terms);
    fewshot_env_free(env);
}

static void test_bad_term_names_refused(void **state)
{
    static const char *const twice[] = {"a", "b", "a", NULL};
    static const char *const empty[] = {"a", "", NULL};
    fewshot_env_plugin bad = termed;
    bad.name = "badterms";
    bad.term_names = twice;
    assert_int_equal(fewshot_env_register(&bad), FEWSHOT_EPLUGIN);
    assert_non_null(strstr(fewshot_error_last()->message, "declares 'a' twice in term_names"));
    bad.term_names = empty;
    assert_int_equal(fewshot_env_register(&bad), FEWSHOT_EPLUGIN);
    assert_non_null(strstr(fewshot_error_last()->message, "term_names[1] is empty"));
    bad.term_names = NULL;
    bad.feature_names = twice;
    assert_int_equal(fewshot_env_register(&bad), FEWSHOT_EPLUGIN);
    assert_non_null(strstr(fewshot_error_last()->message, "declares 'a' twice in feature_names"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_register_and_step, setup),
        cmocka_unit_test_setup(test_register_twice_refused, setup),
        cmocka_unit_test_setup(test_params_checked, setup),
        cmocka_unit_test_setup(test_nan_action_refused, setup),
        cmocka_unit_test_setup(test_silent_plugin_failure_gets_message, setup),
        cmocka_unit_test_setup(test_reward_terms, setup),
        cmocka_unit_test_setup(test_bad_term_names_refused, setup),
        cmocka_unit_test_setup(test_load_room, load_setup),
        cmocka_unit_test_setup(test_load_by_path, load_setup),
        cmocka_unit_test_setup(test_missing_plugin, load_setup),
        cmocka_unit_test_setup(test_broken_plugins, load_setup),
        cmocka_unit_test_setup(test_not_a_shared_object, load_setup),
        cmocka_unit_test_setup(test_nan_observation, load_setup),
        cmocka_unit_test_setup(test_list, load_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
