/*
 * The trading plugin: cash and share accounting to the cent, costs on each side, sells
 * before buys, no negative cash or shares, price files with line-numbered errors,
 * determinism under a seed, the lookahead expert against holding cash, context, features and
 * templates. portfolio.c and market.c are linked in directly for the accounting checks.
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

#include "market.h"
#include "portfolio.h"

static char tmpdir[64];

/* Hand-computed: sells first (freeing cash), buys limited by the cash, 0.1% each side. */
static void test_trade_by_hand(void **state)
{
    double shares[2] = {10, 0};
    portfolio pf = {2, 1000.0, shares};
    double prices[2] = {50, 200}, orders[2] = {-4, 5}, done[2];
    trade_report r;
    portfolio_trade(&pf, prices, orders, 0.001, done, &r);
    /* sell 4 x 50 = 200, fee 0.20 -> cash 1199.80; buy floor(1199.80 / 200.2) = 5 shares:
     * 1000 + 1.00 fee -> cash 198.80 */
    assert_true(done[0] == -4 && done[1] == 5);
    assert_true(fabs(pf.cash - 198.80) < 0.005);
    assert_true(fabs(r.fees - 1.20) < 0.005);
    assert_true(shares[0] == 6 && shares[1] == 5);
    /* selling more than held sells what is held; buying beyond the cash buys what it pays */
    double orders2[2] = {-100, 0};
    portfolio_trade(&pf, prices, orders2, 0.001, done, &r);
    assert_true(done[0] == -6 && shares[0] == 0);
    assert_true(fabs(pf.cash - (198.80 + 300 * 0.999)) < 0.005);
    double orders3[2] = {0, 100};
    portfolio_trade(&pf, prices, orders3, 0.001, done, &r);
    assert_true(done[1] == floor((198.80 + 299.70) / 200.2));
    assert_true(pf.cash >= 0 && pf.cash < 200.2);
}

/* Random trades: cash and shares never go negative, and cash equals the initial cash minus
 * the value bought plus the value sold minus the fees, to the cent, after 10000 trades. */
static void test_accounting_to_the_cent(void **state)
{
    fewshot_rng rng;
    fewshot_rng_seed(&rng, 42);
    double shares[4] = {0};
    portfolio pf = {4, 100000.0, shares};
    double ledger = 100000.0, fees = 0;
    for (int k = 0; k < 10000; k++) {
        double prices[4], orders[4], done[4];
        for (int i = 0; i < 4; i++) {
            prices[i] = round((1 + 300 * fewshot_rng_uniform(&rng)) * 100) / 100;
            orders[i] = (double)fewshot_rng_below(&rng, 201) - 100;
        }
        double held[4];
        memcpy(held, shares, sizeof held);
        trade_report r;
        portfolio_trade(&pf, prices, orders, 0.001, done, &r);
        double bought = 0, sold = 0;
        for (int i = 0; i < 4; i++) {
            assert_true(shares[i] >= 0);
            assert_true(shares[i] == held[i] + done[i]);
            assert_true(fabs(done[i]) <= fabs(orders[i]));
            if (done[i] > 0)
                bought += prices[i] * done[i];
            else
                sold -= prices[i] * done[i];
        }
        assert_true(pf.cash >= 0);
        assert_true(fabs(r.fees - 0.001 * (bought + sold)) < 1e-6);
        ledger += sold - bought - r.fees;
        fees += r.fees;
    }
    assert_true(fabs(pf.cash - ledger) < 0.005);
    assert_true(fees > 0);
}

/* ---- price files ---- */

static const char *write_file(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void expect_csv_error(const char *text, int line, const char *fragment)
{
    market mk = {0};
    const char *path = write_file("bad.csv", text);
    assert_true(market_load_csv(&mk, path) < 0);
    const fewshot_error *e = fewshot_error_last();
    if (e->line != line || !strstr(e->message, fragment))
        fail_msg("expected line %d '%s', got %d '%s'", line, fragment, e->line, e->message);
    assert_string_equal(e->file, path);
}

static void test_csv(void **state)
{
    const char *head = "date,asset,open,high,low,close,volume\n";
    char buf[1024];
    snprintf(buf, sizeof buf,
             "%s2024-01-02,AAA,10,11,9,10.5,1000\n2024-01-02,BBB,20,21,19,20.5,500\n"
             "# a comment\n2024-01-03,AAA,10,11,9,11,1000\n2024-01-03,BBB,20,21,19,20,500\n",
             head);
    market mk = {0};
    assert_int_equal(market_load_csv(&mk, write_file("ok.csv", buf)), 0);
    assert_int_equal(mk.assets, 2);
    assert_int_equal(mk.days, 2);
    assert_string_equal(mk.names[1], "BBB");
    assert_string_equal(mk.dates[1], "2024-01-03");
    assert_true(market_price(&mk, 1, 0) == 11);
    market_free(&mk);

    expect_csv_error("date,asset,close\n", 1, "lacks the column 'open'");
    snprintf(buf, sizeof buf, "%s2024-01-02,AAA,10,11,9,abc,1000\n", head);
    expect_csv_error(buf, 2, "close must be a positive number, found 'abc'");
    snprintf(buf, sizeof buf, "%s2024-01-02,AAA,10,11,9,10,1000\n2024-01-03,AAA,10,11\n", head);
    expect_csv_error(buf, 3, "expected 7 fields, found 4");
    snprintf(buf, sizeof buf,
             "%s2024-01-02,AAA,1,1,1,1,1\n2024-01-02,BBB,1,1,1,1,1\n2024-01-03,AAA,1,1,1,1,1\n"
             "2024-01-04,AAA,1,1,1,1,1\n2024-01-04,BBB,1,1,1,1,1\n", head);
    expect_csv_error(buf, 5, "date 2024-01-03 lists 1 assets, expected 2");
    snprintf(buf, sizeof buf, "%s2024-01-03,AAA,1,1,1,1,1\n2024-01-02,AAA,1,1,1,1,1\n", head);
    expect_csv_error(buf, 3, "does not come after");
    snprintf(buf, sizeof buf, "%s2024-01-02,AAA,1,1,1,-5,1\n", head);
    expect_csv_error(buf, 2, "close must be a positive number");
    snprintf(buf, sizeof buf, "%s2024-01-02,AAA,1,1,1,1,1\n", head);
    expect_csv_error(buf, 2, "at least 2 dates");

    /* the plugin reports the same, and the file's column */
    json_t *p = json_pack("{s:s}", "prices", write_file("bad2.csv", "date,asset,open,high,low,"
                                                                    "close,volume\n"
                                                                    "d1,A,1,1,1,1,1\n"
                                                                    "d2,A,1,1,1,1,x\n"));
    fewshot_env *env = NULL;
    assert_true(fewshot_env_new(&env, "trading", p) < 0);
    assert_int_equal(fewshot_error_last()->line, 3);
    assert_int_equal(fewshot_error_last()->column, 14);
    json_decref(p);
}

/* ---- through the library ---- */

static fewshot_env *make_env(json_t *params)
{
    fewshot_env *env = NULL;
    int rc = fewshot_env_new(&env, "trading", params);
    if (rc)
        fail_msg("fewshot_env_new: %s", fewshot_error_last()->message);
    json_decref(params);
    return env;
}

/* One episode; checks the terms, the accounting of each step against the observations,
 * and records the rewards. */
static double episode(fewshot_env *env, const char *policy, uint64_t seed, double *rewards)
{
    const fewshot_space *os = fewshot_env_obs_space(env);
    size_t D = fewshot_env_act_space(env)->dim;
    double *obs = calloc(os->dim, sizeof *obs), *prev = calloc(os->dim, sizeof *prev);
    double a[64], total = 0;
    fewshot_policy *p;
    assert_int_equal(fewshot_policy_new(&p, env, policy, seed), 0);
    assert_int_equal(fewshot_env_reset(env, seed, NULL, obs), 0);
    for (int t = 0;; t++) {
        memcpy(prev, obs, os->dim * sizeof *obs);
        fewshot_step st = {.obs = obs};
        assert_int_equal(fewshot_policy_act(p, obs, a), 0);
        assert_int_equal(fewshot_env_step(env, a, &st), 0);
        double fees = -json_number_value(json_object_get(st.terms, "fees")) / 1e-4;
        double moved = json_number_value(json_object_get(st.terms, "market"));
        assert_true(fabs(moved - fees * 1e-4 - st.reward) < 1e-9);
        /* cash moves by exactly the trades at yesterday's prices and their fees */
        double flow = 0, traded = 0;
        for (size_t i = 0; i < D; i++) {
            double dq = obs[1 + D + i] - prev[1 + D + i];
            assert_true(obs[1 + D + i] >= 0 && dq == floor(dq));
            assert_true(fabs(dq) <= 100);
            flow -= dq * prev[1 + i];
            traded += fabs(dq) * prev[1 + i];
        }
        assert_true(obs[0] >= 0);
        assert_true(fabs(obs[0] - (prev[0] + flow - fees)) < 0.005);
        assert_true(fabs(fees - 0.001 * traded) < 0.005);
        json_decref(st.terms);
        if (rewards)
            rewards[t] = st.reward;
        total += st.reward;
        if (st.done || st.truncated)
            break;
    }
    fewshot_policy_free(p);
    free(obs);
    free(prev);
    return total;
}

static void test_determinism(void **state)
{
    fewshot_env *a = make_env(json_pack("{s:i}", "days", 60));
    fewshot_env *b = make_env(json_pack("{s:i}", "days", 60));
    double ra[60], rb[60], rc[60];
    episode(a, "random", 11, ra);
    episode(b, "random", 11, rb);
    assert_memory_equal(ra, rb, sizeof ra);
    episode(b, "random", 12, rc);
    assert_true(memcmp(ra, rc, sizeof ra) != 0);
    fewshot_env_free(a);
    fewshot_env_free(b);
}

static void test_policies(void **state)
{
    fewshot_env *env = make_env(json_pack("{s:i}", "days", 120));
    double look = 0, hold = 0, buy = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        double l = episode(env, "expert", seed, NULL), h = episode(env, "hold", seed, NULL);
        assert_true(l > h);
        assert_true(h == 0);
        look += l;
        hold += h;
        buy += episode(env, "buyhold", seed, NULL);
        episode(env, "macross", seed, NULL);
        episode(env, "random", seed, NULL);
    }
    assert_true(look > buy);
    fewshot_env_free(env);
}

static void test_context_features_templates(void **state)
{
    for (int assets = 2; assets <= 7; assets += 5) {
        fewshot_env *env = make_env(json_pack("{s:i, s:b}", "assets", assets, "indicators",
                                              assets > 2));
        size_t dim = fewshot_env_obs_space(env)->dim;
        assert_int_equal(dim, (size_t)(1 + 2 * assets + (assets > 2 ? 2 * assets : 0)));
        double *obs = calloc(dim, sizeof *obs);
        assert_int_equal(fewshot_env_reset(env, 3, NULL, obs), 0);
        json_t *ctx;
        assert_int_equal(fewshot_env_context(env, obs, &ctx), 0);
        assert_int_equal(json_array_size(json_object_get(ctx, "assets")), assets);
        assert_true(json_number_value(json_object_get(ctx, "cash")) == 1e6);
        assert_true(json_is_true(json_object_get(json_array_get(json_object_get(ctx, "assets"),
                                                                0), "has_trend")));
        json_decref(ctx);
        float f[16];
        size_t n = 0;
        assert_int_equal(fewshot_env_features(env, obs, f, 16, &n), 0);
        assert_int_equal(n, 8);
        assert_true(f[0] == 1.0f);
        const char *parts[] = {"objective", "meta", "instruction", "state", "action",
                               "feedback", "comments"};
        for (size_t i = 0; i < 7; i++)
            assert_non_null(fewshot_env_template(env, parts[i]));
        assert_non_null(strstr(fewshot_env_template(env, "objective"), "portfolio manager"));
        free(obs);
        fewshot_env_free(env);
    }
    json_t *doc;
    const fewshot_env_plugin *pl;
    assert_int_equal(fewshot_env_plugin_find(&pl, "trading"), 0);
    assert_int_equal(fewshot_env_plugin_params_doc(pl, &doc), 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "action_scale")), 100);
    json_decref(doc);
}

static void test_bad_parameters(void **state)
{
    struct { json_t *p; const char *msg; } cases[] = {
        {json_pack("{s:f}", "cost", 0.7), "'cost' must be in [0, 0.5)"},
        {json_pack("{s:i}", "hmax", 0), "'hmax' must be in 1..1e9"},
        {json_pack("{s:i}", "assets", 0), "'assets' must be in 1..64"},
        {json_pack("{s:i, s:i}", "ma_short", 30, "ma_long", 10), "'ma_long' must be in"},
        {json_pack("{s:s}", "prices", "/nonexistent/prices.csv"), "cannot open price file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fewshot_env *env = NULL;
        assert_true(fewshot_env_new(&env, "trading", cases[i].p) < 0);
        if (!strstr(fewshot_error_last()->message, cases[i].msg))
            fail_msg("'%s' lacks '%s'", fewshot_error_last()->message, cases[i].msg);
        json_decref(cases[i].p);
    }
}

int main(void)
{
    const char *b = getenv("top_builddir");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/plugins/.libs", b ? b : ".");
    fewshot_env_path_add(dir);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fewshot-trading-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trade_by_hand),
        cmocka_unit_test(test_accounting_to_the_cent),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_policies),
        cmocka_unit_test(test_context_features_templates),
        cmocka_unit_test(test_bad_parameters),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
