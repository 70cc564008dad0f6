/*
 * The inventory plugin: conservation of units along the chain, reward terms, determinism,
 * the base-stock expert against ordering nothing, parameters and demand files, context,
 * features and templates. The model (plugins/inventory/model.c) is linked in directly for
 * the checks that need state the observation does not show.
 */
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

#include "model.h"

static void default_model(inv_model *m)
{
    static const double init[] = {100, 100, 200}, cost[] = {1.5, 1.0, 0.75, 0.5},
                        pen[] = {0.10, 0.075, 0.05, 0.025}, hold[] = {0.15, 0.10, 0.05},
                        cap[] = {100, 90, 80};
    static const long lead[] = {3, 5, 10};
    memset(m, 0, sizeof *m);
    m->n = 3;
    m->periods = 30;
    memcpy(m->init, init, sizeof init);
    memcpy(m->cost, cost, sizeof cost);
    memcpy(m->penalty, pen, sizeof pen);
    memcpy(m->holding, hold, sizeof hold);
    memcpy(m->capacity, cap, sizeof cap);
    memcpy(m->lead, lead, sizeof lead);
    m->lead_max = 10;
    m->price = 2;
    m->discount = 0.97;
    m->backlog = 1;
}

static void poisson_path(double *d, long periods, uint64_t seed, double mean)
{
    fewshot_rng rng;
    fewshot_rng_seed(&rng, seed);
    for (long t = 0; t < periods; t++)
        d[t] = (double)fewshot_rng_poisson(&rng, mean);
}

/* What leaves a supplier arrives at its customer exactly lead-time periods later, and the
 * units in the chain add up: initial stock + raw material produced = on hand + in transit
 * + sold to customers. Checked in both backlog and lost-sales modes with random orders. */
static void test_conservation(void **state)
{
    for (int backlog = 0; backlog <= 1; backlog++) {
        inv_model m;
        default_model(&m);
        m.backlog = backlog;
        inv_state s;
        assert_int_equal(inv_state_init(&s, &m), 0);
        double demand[30], shipped[30][3], produced = 0, sold = 0;
        poisson_path(demand, 30, 7 + (uint64_t)backlog, 25);
        inv_state_reset(&s, &m, demand);
        fewshot_rng rng;
        fewshot_rng_seed(&rng, 99);
        for (long t = 0; t < 30; t++) {
            double a[3], before[3];
            for (int i = 0; i < 3; i++) {
                a[i] = (double)fewshot_rng_below(&rng, 120);
                before[i] = s.on_hand[i];
            }
            double retail_backlog = s.backlog[0];
            inv_outcome o;
            inv_step(&m, &s, a, &o);
            for (int i = 0; i < 3; i++) {
                shipped[t][i] = o.shipped[i];
                /* arrivals are the shipments of lead-time periods ago */
                double expect = t - m.lead[i] >= 0 ? shipped[t - m.lead[i]][i] : 0;
                assert_true(o.arrived[i] == expect);
                /* a supplier never ships more than it had on hand or its capacity */
                if (i + 1 < 3)
                    assert_true(o.shipped[i] <= before[i + 1]);
                assert_true(o.shipped[i] <= m.capacity[i]);
                assert_true(s.on_hand[i] >= 0);
            }
            double sale = demand[t] + (backlog ? retail_backlog : 0) - o.unfilled[0];
            sold += sale;
            produced += o.shipped[2];
            double stock = 0;
            for (int i = 0; i < 3; i++)
                stock += s.on_hand[i] + s.pipeline[i];
            assert_true(fabs(100 + 100 + 200 + produced - stock - sold) < 1e-9);
            if (!backlog)
                assert_true(s.backlog[0] == 0 && s.backlog[1] == 0);
        }
        inv_state_free(&s);
    }
}

/* The four terms add up to the reward, each discounted by discount^t. */
static void test_terms_add_up(void **state)
{
    inv_model m;
    default_model(&m);
    inv_state s;
    assert_int_equal(inv_state_init(&s, &m), 0);
    double demand[30];
    poisson_path(demand, 30, 3, 20);
    inv_state_reset(&s, &m, demand);
    for (long t = 0; t < 30; t++) {
        double a[3] = {(double)(t % 4) * 15, 30, 25};
        inv_outcome o;
        inv_step(&m, &s, a, &o);
        assert_true(fabs(o.scale - pow(0.97, (double)t)) < 1e-15);
        double sum = o.scale * (o.revenue - o.procurement - o.penalty - o.holding);
        assert_true(fabs(sum - o.reward) < 1e-9);
    }
    inv_state_free(&s);
}

/* Base-stock with the tuned levels earns more than ordering nothing on every one of 20
 * demand paths, and the tuner does not end below its starting levels. */
static void test_basestock_beats_nothing(void **state)
{
    inv_model m;
    default_model(&m);
    inv_state s;
    assert_int_equal(inv_state_init(&s, &m), 0);
    double paths[16 * 30], z[3], zero[3] = {0, 0, 0};
    for (int k = 0; k < 16; k++)
        poisson_path(paths + k * 30, 30, 1000 + (uint64_t)k, 20);
    assert_int_equal(inv_tune(&m, paths, 16, 20, z), 0);
    double start[3] = {round(20 * 4), round(20 * 10), round(20 * 21)};
    double tuned = 0, initial = 0;
    for (int k = 0; k < 16; k++) {
        tuned += inv_basestock_return(&m, &s, paths + k * 30, z);
        initial += inv_basestock_return(&m, &s, paths + k * 30, start);
    }
    assert_true(tuned >= initial);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        double d[30];
        poisson_path(d, 30, seed, 20);
        double bs = inv_basestock_return(&m, &s, d, z);
        inv_state_reset(&s, &m, d);
        double nothing = 0;
        inv_outcome o;
        while (s.t < 30) {
            inv_step(&m, &s, zero, &o);
            nothing += o.reward;
        }
        assert_true(bs > nothing);
    }
    inv_state_free(&s);
}

/* ---- through the library ---- */

static fewshot_env *make_env(const char *params_json)
{
    json_error_t jerr;
    json_t *params = params_json ? json_loads(params_json, 0, &jerr) : NULL;
    fewshot_env *env = NULL;
    int rc = fewshot_env_new(&env, "inventory", params);
    if (rc != 0)
        fprintf(stderr, "fewshot_env_new: %s\n", fewshot_error_last()->message);
    assert_int_equal(rc, 0);
    json_decref(params);
    return env;
}

static double episode(fewshot_env *env, const char *policy, uint64_t seed, double *trace)
{
    const fewshot_space *os = fewshot_env_obs_space(env);
    double *obs = calloc(os->dim, sizeof *obs), a[16], total = 0;
    fewshot_policy *p;
    assert_int_equal(fewshot_policy_new(&p, env, policy, seed), 0);
    assert_int_equal(fewshot_env_reset(env, seed, NULL, obs), 0);
    for (int t = 0;; t++) {
        fewshot_step st = {.obs = obs};
        assert_int_equal(fewshot_policy_act(p, obs, a), 0);
        assert_int_equal(fewshot_env_step(env, a, &st), 0);
        /* the terms add up to the reward */
        double sum = 0;
        const char *key;
        json_t *v;
        json_object_foreach(st.terms, key, v) sum += json_number_value(v);
        assert_true(fabs(sum - st.reward) < 1e-9 * fmax(1, fabs(st.reward)));
        json_decref(st.terms);
        if (trace)
            trace[t] = st.reward + obs[0];
        total += st.reward;
        if (st.done || st.truncated)
            break;
    }
    fewshot_policy_free(p);
    free(obs);
    return total;
}

static void test_determinism(void **state)
{
    fewshot_env *a = make_env(NULL), *b = make_env(NULL);
    double ta[30], tb[30], tc[30];
    episode(a, "random", 5, ta);
    episode(b, "random", 5, tb);
    assert_memory_equal(ta, tb, sizeof ta);
    episode(b, "random", 6, tc);
    assert_true(memcmp(ta, tc, sizeof ta) != 0);
    fewshot_env_free(a);
    fewshot_env_free(b);

    /* an explicit demand list ignores the seed */
    char params[512] = "{\"demand\": [";
    for (int t = 0; t < 30; t++)
        snprintf(params + strlen(params), sizeof params - strlen(params), "%s%d", t ? "," : "",
                 15 + (t * 7) % 11);
    strcat(params, "]}");
    fewshot_env *c = make_env(params);
    episode(c, "expert", 1, ta);
    episode(c, "expert", 2, tb);
    assert_memory_equal(ta, tb, sizeof ta);
    fewshot_env_free(c);
}

static void test_expert_beats_nothing(void **state)
{
    const char *chains[] = {NULL, "{\"backlog\": false}", "{\"lead_times\": [1, 2, 4]}"};
    for (size_t k = 0; k < 3; k++) {
        fewshot_env *env = make_env(chains[k]);
        double e = 0, z = 0;
        for (uint64_t seed = 1; seed <= 20; seed++) {
            e += episode(env, "expert", seed, NULL);
            z += episode(env, "nothing", seed, NULL);
        }
        assert_true(e > z);
        fewshot_env_free(env);
    }
}

static void expect_error(const char *params_json, const char *fragment)
{
    json_error_t jerr;
    json_t *params = json_loads(params_json, 0, &jerr);
    assert_non_null(params);
    fewshot_env *env = NULL;
    assert_true(fewshot_env_new(&env, "inventory", params) < 0);
    const char *msg = fewshot_error_last()->message;
    if (!strstr(msg, fragment))
        fail_msg("error '%s' lacks '%s'", msg, fragment);
    json_decref(params);
}

static void test_bad_parameters(void **state)
{
    expect_error("{\"demand\": [1, 2, 3]}", "has 3 values, but periods is 30");
    expect_error("{\"periods\": 2, \"demand\": [1, -2]}", "demand[1] must be a non-negative");
    expect_error("{\"capacity\": [10, 20]}", "must be an array of 2 numbers");
    expect_error("{\"lead_times\": [1, 2.5, 3]}", "lead_times[1] must be an integer");
    expect_error("{\"discount\": 0}", "'discount' must be in (0, 1]");
    expect_error("{\"basestock_levels\": \"best\"}", "must be \"auto\" or a list of 3");
    expect_error("{\"demand\": \"/nonexistent/demand.csv\"}", "cannot open demand file");

    char dir[] = "/tmp/fewshot-inv-XXXXXX", file[128], params[256];
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/demand.csv", dir);
    FILE *f = fopen(file, "w");
    fprintf(f, "period,demand\n# comment\n1,20\n2,18\n3,x7\n");
    fclose(f);
    snprintf(params, sizeof params, "{\"periods\": 3, \"demand\": \"%s\"}", file);
    json_t *p = json_loads(params, 0, NULL);
    fewshot_env *env = NULL;
    assert_true(fewshot_env_new(&env, "inventory", p) < 0);
    const fewshot_error *e = fewshot_error_last();
    assert_int_equal(e->line, 5);
    assert_int_equal(e->column, 3);
    assert_string_equal(e->file, file);
    json_decref(p);

    f = fopen(file, "w");
    fprintf(f, "demand\n20\n18\n25\n");
    fclose(f);
    p = json_loads(params, 0, NULL);
    assert_int_equal(fewshot_env_new(&env, "inventory", p), 0);
    double obs[33];
    assert_int_equal(fewshot_env_reset(env, 0, NULL, obs), 0);
    json_t *ctx;
    double a[3] = {0, 0, 0};
    fewshot_step st = {.obs = obs};
    assert_int_equal(fewshot_env_step(env, a, &st), 0);
    json_decref(st.terms);
    assert_int_equal(fewshot_env_context(env, NULL, &ctx), 0);
    assert_true(json_number_value(json_object_get(ctx, "last_demand")) == 20);
    json_decref(ctx);
    fewshot_env_free(env);
    json_decref(p);
    remove(file);
    rmdir(dir);
}

static void test_context_features_templates(void **state)
{
    const char *chains[] = {NULL, "{\"capacity\": [50, 40], \"initial_inventory\": [10, 10],"
                                  " \"holding_cost\": [0.1, 0.1], \"lead_times\": [1, 2],"
                                  " \"replenishment_cost\": [2, 1, 0.5],"
                                  " \"backlog_cost\": [0.1, 0.1, 0.1]}"};
    for (size_t k = 0; k < 2; k++) {
        fewshot_env *env = make_env(chains[k]);
        size_t n = fewshot_env_act_space(env)->dim;
        double *obs = calloc(fewshot_env_obs_space(env)->dim, sizeof *obs);
        assert_int_equal(fewshot_env_reset(env, 1, NULL, obs), 0);
        json_t *ctx;
        assert_int_equal(fewshot_env_context(env, obs, &ctx), 0);
        assert_int_equal(json_array_size(json_object_get(ctx, "stages")), n);
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(ctx, "stages"), 0), "name")),
                            "Retailer");
        assert_true(json_is_true(json_object_get(ctx, "backlog")));
        json_decref(ctx);
        float f[32];
        size_t dim = 0;
        assert_int_equal(fewshot_env_features(env, obs, f, 32, &dim), 0);
        assert_int_equal(dim, 8);
        const char *parts[] = {"objective", "meta", "instruction", "state", "action",
                               "feedback", "comments"};
        for (size_t i = 0; i < 7; i++)
            assert_non_null(fewshot_env_template(env, parts[i]));
        assert_non_null(strstr(fewshot_env_template(env, "objective"), "supply chain manager"));
        free(obs);
        fewshot_env_free(env);
    }
}

int main(void)
{
    const char *b = getenv("top_builddir");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/plugins/.libs", b ? b : ".");
    fewshot_env_path_add(dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conservation),
        cmocka_unit_test(test_terms_add_up),
        cmocka_unit_test(test_basestock_beats_nothing),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_expert_beats_nothing),
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_context_features_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
