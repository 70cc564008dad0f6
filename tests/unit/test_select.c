/* Selectors: knn, reward weighting, MMR, cluster representatives, history, random; merging
 * without duplicates under a token budget; determinism; cross-scenario retrieval between
 * buildings with different numbers of rooms. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fewshot.h>

/* A dataset of 1-step transitions whose features are the given 2-d points. */
static fewshot_demos *points(const float (*p)[2], const double *rewards, size_t n)
{
    fewshot_demos *ds;
    assert_int_equal(fewshot_demos_new(&ds, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        double obs[2] = {p[i][0], p[i][1]}, act[1] = {0};
        fewshot_demo d = {.episode = i, .obs = obs, .obs_dim = 2, .action = act, .act_dim = 1,
                          .next_obs = obs, .reward = rewards ? rewards[i] : 0,
                          .features = p[i], .features_dim = 2, .source = "test"};
        assert_int_equal(fewshot_demos_add(ds, &d), 0);
    }
    return ds;
}

static fewshot_index *flat(const float (*p)[2], size_t n)
{
    fewshot_index *ix;
    assert_int_equal(fewshot_index_new(&ix, 2, NULL), 0);
    assert_int_equal(fewshot_index_add(ix, n, &p[0][0]), 0);
    return ix;
}

static const float grid[8][2] = {{0, 0}, {0.1f, 0}, {0.1f, 0.05f}, {1, 1}, {2, 0}, {0, 2},
                                 {5, 5}, {-3, 1}};

static void test_knn_reward_mmr(void **state)
{
    const double rewards[8] = {-5, -5, -5, 10, 0, 0, -1, -1};
    fewshot_demos *ds = points(grid, rewards, 8);
    fewshot_index *ix = flat(grid, 8);
    fewshot_selector_options o = FEWSHOT_SELECTOR_OPTIONS_INIT;
    o.knn = 3;
    fewshot_selector *s;
    fewshot_selection sel = {0};
    /* the query sits just off the first point, so MMR's trade-off is not degenerate */
    const float q[2] = {-0.2f, 0};
    assert_int_equal(fewshot_selector_new(&s, &o, ds, ix, NULL), 0);
    assert_int_equal(fewshot_selector_select(s, q, NULL, &sel), 0);
    assert_int_equal(sel.count, 3);
    assert_int_equal(sel.picks[0].item, 0);
    assert_int_equal(sel.picks[1].item, 1);
    assert_int_equal(sel.picks[2].item, 2);
    assert_string_equal(sel.picks[0].selector, "knn");
    assert_string_equal(sel.picks[0].role, "expert");
    assert_true(sel.picks[0].score > sel.picks[2].score);
    fewshot_selector_free(s);

    /* reward weighting: (1,1) with reward 10 overtakes the near but poor ones */
    o.reward_lambda = 1.0;
    assert_int_equal(fewshot_selector_new(&s, &o, ds, ix, NULL), 0);
    assert_int_equal(fewshot_selector_select(s, q, NULL, &sel), 0);
    assert_int_equal(sel.picks[0].item, 3);
    assert_string_equal(sel.picks[0].selector, "reward");
    fewshot_selector_free(s);

    /* MMR: the three near-duplicates at the origin give way to diverse points */
    o.reward_lambda = 0;
    o.mmr_lambda = 0.5;
    assert_int_equal(fewshot_selector_new(&s, &o, ds, ix, NULL), 0);
    assert_int_equal(fewshot_selector_select(s, q, NULL, &sel), 0);
    assert_int_equal(sel.count, 3);
    assert_int_equal(sel.picks[0].item, 0);
    assert_string_equal(sel.picks[0].selector, "mmr");
    int near = 0;
    for (size_t i = 0; i < sel.count; i++)
        near += sel.picks[i].item <= 2;
    assert_int_equal(near, 1);
    fewshot_selector_free(s);
    /* mmr_lambda = 1 is plain knn */
    o.mmr_lambda = 1;
    assert_int_equal(fewshot_selector_new(&s, &o, ds, ix, NULL), 0);
    assert_int_equal(fewshot_selector_select(s, q, NULL, &sel), 0);
    assert_int_equal(sel.picks[2].item, 2);

    /* bad queries */
    const float nanq[2] = {0, NAN};
    assert_int_equal(fewshot_selector_select(s, nanq, NULL, &sel), FEWSHOT_ERANGE);
    assert_int_equal(sel.count, 0);
    assert_int_equal(fewshot_selector_select(s, NULL, NULL, &sel), FEWSHOT_EINVAL);
    fewshot_selector_free(s);

    /* an index of another size than the dataset, and bad options */
    fewshot_index *short_ix = flat(grid, 7);
    assert_int_equal(fewshot_selector_new(&s, &o, ds, short_ix, NULL), FEWSHOT_EMISMATCH);
    assert_non_null(strstr(fewshot_error_last()->message, "rebuild the index"));
    o.mmr_lambda = 2;
    assert_int_equal(fewshot_selector_new(&s, &o, ds, ix, NULL), FEWSHOT_EINVAL);
    o.mmr_lambda = 1;
    o.order = "knn,llm";
    assert_int_equal(fewshot_selector_new(&s, &o, ds, ix, NULL), FEWSHOT_EINVAL);
    assert_non_null(strstr(fewshot_error_last()->message, "unknown selector 'llm'"));
    fewshot_index_free(short_ix);
    fewshot_selection_clear(&sel);
    fewshot_index_free(ix);
    fewshot_demos_free(ds);
}

static void test_cluster_history_random_merge(void **state)
{
    /* three blobs of 20 points */
    float p[60][2];
    double rewards[60];
    fewshot_rng rng;
    fewshot_rng_seed(&rng, 3);
    const float centre[3][2] = {{0, 0}, {10, 0}, {0, 10}};
    for (int i = 0; i < 60; i++) {
        p[i][0] = centre[i / 20][0] + (float)fewshot_rng_normal(&rng) * 0.5f;
        p[i][1] = centre[i / 20][1] + (float)fewshot_rng_normal(&rng) * 0.5f;
        rewards[i] = (double)((i * 37) % 60);
    }
    fewshot_demos *ds = points((const float (*)[2])p, rewards, 60);
    fewshot_index *ix = flat((const float (*)[2])p, 60);
    fewshot_selector_options o = FEWSHOT_SELECTOR_OPTIONS_INIT;
    o.knn = 0;
    o.clusters = 3;
    o.seed = 11;
    fewshot_selector *s, *s2;
    assert_int_equal(fewshot_selector_new(&s, &o, ds, ix, &p[0][0]), 0);
    size_t nrep;
    const int64_t *rep = fewshot_selector_representatives(s, &nrep);
    assert_int_equal(nrep, 3);
    int blob_seen[3] = {0, 0, 0};
    for (size_t i = 0; i < 3; i++)
        blob_seen[rep[i] / 20]++;
    assert_true(blob_seen[0] == 1 && blob_seen[1] == 1 && blob_seen[2] == 1);
    /* best-reward representatives: the best of each blob */
    o.representative = FEWSHOT_REPRESENTATIVE_BEST_REWARD;
    assert_int_equal(fewshot_selector_new(&s2, &o, ds, ix, NULL), 0);
    rep = fewshot_selector_representatives(s2, &nrep);
    for (size_t i = 0; i < nrep; i++) {
        int b = (int)(rep[i] / 20);
        for (int j = b * 20; j < b * 20 + 20; j++)
            assert_true(rewards[j] <= rewards[rep[i]]);
    }
    fewshot_selector_free(s2);
    fewshot_selection sel = {0};
    const float q[2] = {9, 1};
    assert_int_equal(fewshot_selector_select(s, q, NULL, &sel), 0);
    assert_int_equal(sel.count, 3);
    assert_string_equal(sel.picks[0].role, "representative");
    assert_int_equal(sel.picks[0].item / 20, 1);     /* the nearest representative first */
    fewshot_selector_free(s);

    /* history from the online buffer: recent and best */
    fewshot_buffer *buf;
    assert_int_equal(fewshot_buffer_new(&buf, 4), 0);
    for (int i = 0; i < 6; i++) {
        double obs[2] = {i, 0}, act[1] = {0};
        fewshot_demo d = {.step = (uint64_t)i, .obs = obs, .obs_dim = 2, .action = act,
                          .act_dim = 1, .next_obs = obs, .reward = i == 3 ? 100 : -i};
        assert_int_equal(fewshot_buffer_push(buf, &d), 0);
    }
    fewshot_selector_options h = FEWSHOT_SELECTOR_OPTIONS_INIT;
    h.knn = 0;
    h.history = 2;
    assert_int_equal(fewshot_selector_new(&s, &h, NULL, NULL, NULL), 0);
    assert_int_equal(fewshot_selector_select(s, NULL, buf, &sel), 0);
    assert_int_equal(sel.count, 2);
    assert_int_equal(sel.picks[0].origin, FEWSHOT_ORIGIN_BUFFER);
    assert_int_equal(fewshot_buffer_get(buf, sel.picks[0].item)->step, 5);
    assert_int_equal(fewshot_buffer_get(buf, sel.picks[1].item)->step, 4);
    assert_string_equal(sel.picks[0].role, "historical");
    fewshot_selector_free(s);
    h.history_best = 1;
    assert_int_equal(fewshot_selector_new(&s, &h, NULL, NULL, NULL), 0);
    assert_int_equal(fewshot_selector_select(s, NULL, buf, &sel), 0);
    assert_int_equal(fewshot_buffer_get(buf, sel.picks[0].item)->step, 3);
    assert_int_equal(fewshot_buffer_get(buf, sel.picks[1].item)->step, 2);
    fewshot_selector_free(s);

    /* random: deterministic under a seed, distinct picks, another seed differs */
    fewshot_selector_options r = FEWSHOT_SELECTOR_OPTIONS_INIT;
    r.knn = 0;
    r.random = 10;
    r.seed = 5;
    fewshot_selection a = {0}, b = {0};
    assert_int_equal(fewshot_selector_new(&s, &r, ds, NULL, NULL), 0);
    assert_int_equal(fewshot_selector_new(&s2, &r, ds, NULL, NULL), 0);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(fewshot_selector_select(s, NULL, NULL, &a), 0);
        assert_int_equal(fewshot_selector_select(s2, NULL, NULL, &b), 0);
        assert_int_equal(a.count, 10);
        for (size_t i = 0; i < 10; i++)
            assert_int_equal(a.picks[i].item, b.picks[i].item);
        for (size_t i = 0; i < 10; i++)
            for (size_t j = i + 1; j < 10; j++)
                assert_true(a.picks[i].item != a.picks[j].item);
    }
    fewshot_selector_reseed(s2, 6);
    assert_int_equal(fewshot_selector_select(s2, NULL, NULL, &b), 0);
    int differ = 0;
    for (size_t i = 0; i < 10; i++)
        differ |= a.picks[i].item != b.picks[i].item;
    assert_true(differ);
    fewshot_selector_free(s);
    fewshot_selector_free(s2);

    /* combined: knn + cluster + history, duplicates removed, packed under a budget */
    size_t costs[60];
    for (int i = 0; i < 60; i++)
        costs[i] = 100 + (size_t)i;
    fewshot_selector_options c = FEWSHOT_SELECTOR_OPTIONS_INIT;
    c.knn = 20;
    c.clusters = 3;
    c.history = 2;
    c.seed = 11;
    c.order = "history,knn,cluster";
    assert_int_equal(fewshot_selector_new(&s, &c, ds, ix, NULL), 0);
    const float q0[2] = {0, 0};
    assert_int_equal(fewshot_selector_select(s, q0, buf, &sel), 0);
    assert_int_equal(sel.count, 2 + 20 + 2);    /* the origin blob's representative is a dup */
    assert_true(sel.duplicates >= 1);
    assert_string_equal(sel.picks[0].selector, "history");
    assert_string_equal(sel.picks[2].selector, "knn");
    assert_string_equal(sel.picks[sel.count - 1].selector, "cluster");
    for (size_t i = 0; i < sel.count; i++)
        for (size_t j = i + 1; j < sel.count; j++)
            assert_false(sel.picks[i].origin == sel.picks[j].origin &&
                         sel.picks[i].item == sel.picks[j].item);
    fewshot_selector_free(s);
    c.knn = 3;
    c.token_budget = 350;
    c.token_costs = costs;
    assert_int_equal(fewshot_selector_new(&s, &c, ds, ix, NULL), 0);
    assert_int_equal(fewshot_selector_select(s, q0, buf, &sel), 0);
    assert_true(sel.tokens <= 350);
    size_t total = 0;
    for (size_t i = 0; i < sel.count; i++) {
        total += sel.picks[i].tokens;
        if (sel.picks[i].origin == FEWSHOT_ORIGIN_DATASET)
            assert_int_equal(sel.picks[i].tokens, costs[sel.picks[i].item]);
    }
    assert_int_equal(total, sel.tokens);
    assert_true(sel.over_budget > 0);
    assert_int_equal(sel.count, 2 + 3);         /* history is free, 3 demos of 100-159 fit */
    fewshot_selector_free(s);
    fewshot_selection_clear(&a);
    fewshot_selection_clear(&b);
    fewshot_selection_clear(&sel);
    fewshot_buffer_free(buf);
    fewshot_index_free(ix);
    fewshot_demos_free(ds);
}

/* ---- cross-scenario: buildings with 3 and 6 rooms serve one with 4 ---- */

static void add_scenario(fewshot_demos *ds, long rooms, double outdoor, uint64_t seed)
{
    fewshot_demos_generate_options o = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    json_t *p = json_pack("{s:I, s:f, s:i}", "rooms", (json_int_t)rooms, "outdoor", outdoor,
                          "horizon", 12);
    o.env = "rooms";
    o.params = p;
    o.episodes = 4;
    o.seed = seed;
    assert_int_equal(fewshot_demos_generate(ds, &o), 0);
    json_decref(p);
}

static double season(const fewshot_demo *d)
{
    return json_number_value(json_object_get(d->scenario, "outdoor"));
}

static char *state_text(fewshot_env *env, const double *obs)
{
    json_t *ctx;
    assert_int_equal(fewshot_env_context(env, obs, &ctx), 0);
    char buf[2048];
    size_t n = 0;
    json_t *room;
    size_t i;
    json_array_foreach(json_object_get(ctx, "rooms"), i, room)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s: %.0f degrees. ",
                              json_string_value(json_object_get(room, "name")),
                              json_number_value(json_object_get(room, "temperature")));
    snprintf(buf + n, sizeof buf - n, "Outside Temperature: %.0f degrees.",
             json_number_value(json_object_get(ctx, "outdoor_temperature")));
    json_decref(ctx);
    return strdup(buf);
}

/* Sticky nearest neighbours keep the previous step's picks while they stay within stick times
 * the k-th nearest distance, first and in their order; the block history window grows and
 * restarts every h steps. Both are what let consecutive prompts share a prefix. */
static void test_sticky_and_block(void **state)
{
    (void)state;
    float line[10][2];
    for (int i = 0; i < 10; i++)
        line[i][0] = (float)i, line[i][1] = 0;
    fewshot_demos *ds = points((const float (*)[2])line, NULL, 10);
    fewshot_index *ix = flat((const float (*)[2])line, 10);
    fewshot_selector_options o = FEWSHOT_SELECTOR_OPTIONS_INIT;
    o.knn = 2;
    o.stick = 2;
    fewshot_selector *s;
    fewshot_selection prev = {0}, sel = {0};
    assert_int_equal(fewshot_selector_new(&s, &o, ds, ix, NULL), 0);
    const float q0[2] = {0.1f, 0}, q1[2] = {1.6f, 0}, q2[2] = {2.2f, 0}, q3[2] = {7, 0};
    assert_int_equal(fewshot_selector_select_after(s, q0, NULL, NULL, &prev), 0);
    assert_int_equal(prev.count, 2);
    assert_int_equal(prev.picks[0].item, 0);
    assert_int_equal(prev.picks[1].item, 1);
    /* 2nd nearest at 0.6: 1 (0.6) survives, 0 (1.6) does not; 2 is the new pick, after it */
    assert_int_equal(fewshot_selector_select_after(s, q1, NULL, &prev, &sel), 0);
    assert_int_equal(sel.count, 2);
    assert_int_equal(sel.picks[0].item, 1);
    assert_int_equal(sel.picks[1].item, 2);
    assert_string_equal(sel.picks[0].role, "expert");
    fewshot_selection_clear(&prev);
    prev = sel;
    memset(&sel, 0, sizeof sel);
    /* 2nd nearest at 0.8: both survive in their order, though 3 is now nearer than 1 */
    assert_int_equal(fewshot_selector_select_after(s, q2, NULL, &prev, &sel), 0);
    assert_int_equal(sel.picks[0].item, 1);
    assert_int_equal(sel.picks[1].item, 2);
    fewshot_selection_clear(&prev);
    prev = sel;
    memset(&sel, 0, sizeof sel);
    /* far away: nothing survives, pure nearest neighbours */
    assert_int_equal(fewshot_selector_select_after(s, q3, NULL, &prev, &sel), 0);
    assert_int_equal(sel.picks[0].item, 7);
    assert_true(sel.picks[1].item == 6 || sel.picks[1].item == 8);
    assert_int_equal(fewshot_selector_select_after(s, q3, NULL, &sel, &sel), FEWSHOT_EINVAL);
    fewshot_selector_free(s);
    /* stick 1 is pure knn: the nearest, nearest first */
    o.stick = 1;
    assert_int_equal(fewshot_selector_new(&s, &o, ds, ix, NULL), 0);
    assert_int_equal(fewshot_selector_select_after(s, q0, NULL, NULL, &prev), 0);
    assert_int_equal(fewshot_selector_select_after(s, q2, NULL, &prev, &sel), 0);
    assert_int_equal(sel.picks[0].item, 2);
    assert_int_equal(sel.picks[1].item, 3);
    fewshot_selector_free(s);
    o.stick = -1;
    assert_int_equal(fewshot_selector_new(&s, &o, ds, ix, NULL), FEWSHOT_EINVAL);
    assert_non_null(strstr(fewshot_error_last()->message, "stick"));
    fewshot_selection_clear(&prev);

    /* block window, h = 2: 1 entry after 1 push, 2 after 2, 1 after 3 (a restart), 2 after 4 */
    fewshot_selector_options h = FEWSHOT_SELECTOR_OPTIONS_INIT;
    h.knn = 0;
    h.history = 2;
    h.history_block = 1;
    fewshot_buffer *buf;
    assert_int_equal(fewshot_buffer_new(&buf, 8), 0);
    assert_int_equal(fewshot_selector_new(&s, &h, NULL, NULL, NULL), 0);
    const size_t want[5] = {1, 2, 1, 2, 1};
    for (int i = 0; i < 5; i++) {
        double obs[2] = {i, 1}, act[1] = {0};
        fewshot_demo d = {.step = (uint64_t)i, .obs = obs, .obs_dim = 2, .action = act,
                          .act_dim = 1, .next_obs = obs, .reward = 0};
        assert_int_equal(fewshot_buffer_push(buf, &d), 0);
        assert_int_equal(fewshot_selector_select(s, NULL, buf, &sel), 0);
        assert_int_equal(sel.count, want[i]);
        assert_int_equal(fewshot_buffer_get(buf, sel.picks[0].item)->step, (uint64_t)i);
        if (want[i] == 2)
            assert_int_equal(fewshot_buffer_get(buf, sel.picks[1].item)->step, (uint64_t)i - 1);
    }
    fewshot_selector_free(s);
    fewshot_selection_clear(&sel);
    fewshot_buffer_free(buf);
    fewshot_index_free(ix);
    fewshot_demos_free(ds);
}

static void test_cross_scenario(void **state)
{
    if (!getenv("FEWSHOT_TEST_PLUGINS"))
        skip();
    setenv("FEWSHOT_PLUGIN_PATH", getenv("FEWSHOT_TEST_PLUGINS"), 1);
    fewshot_demos *ds;
    assert_int_equal(fewshot_demos_new(&ds, NULL), 0);
    add_scenario(ds, 3, -8, 100);     /* small building, winter */
    add_scenario(ds, 6, -8, 200);     /* large building, winter */
    add_scenario(ds, 3, 35, 300);     /* small building, summer */
    add_scenario(ds, 6, 35, 400);     /* large building, summer */
    size_t n = fewshot_demos_count(ds);
    assert_int_equal(n, 4 * 4 * 12);
    assert_int_equal(fewshot_demos_get(ds, 0)->obs_dim, 4);
    assert_int_equal(fewshot_demos_get(ds, n - 1)->obs_dim, 7);

    /* features: fit, embed, index */
    fewshot_embed_input *in;
    assert_int_equal(fewshot_embed_inputs_from_demos(ds, &in), 0);
    fewshot_embedder *e;
    assert_int_equal(fewshot_embedder_new(&e, NULL), 0);
    assert_int_equal(fewshot_embedder_fit(e, n, in), 0);
    float *v = malloc(n * 4 * sizeof *v);
    assert_int_equal(fewshot_embedder_embed(e, n, in, v), 0);
    fewshot_index *ix;
    assert_int_equal(fewshot_index_new(&ix, fewshot_embedder_dim(e), NULL), 0);
    assert_int_equal(fewshot_index_add(ix, n, v), 0);
    fewshot_selector_options so = FEWSHOT_SELECTOR_OPTIONS_INIT;
    so.knn = 4;
    fewshot_selector *s;
    assert_int_equal(fewshot_selector_new(&s, &so, ds, ix, v), 0);

    /* 4-room buildings, in summer and in winter: each retrieves demonstrations of its season
     * from both the 3-room and the 6-room building */
    const double outdoor[2] = {35, -8}, want_outdoor[2] = {35, -8};
    for (int k = 0; k < 2; k++) {
        fewshot_env *env;
        json_t *p = json_pack("{s:i, s:f}", "rooms", 4, "outdoor", outdoor[k]);
        assert_int_equal(fewshot_env_new(&env, "rooms", p), 0);
        json_decref(p);
        double obs[5];
        assert_int_equal(fewshot_env_reset(env, 999, NULL, obs), 0);
        float f[8];
        size_t fd;
        assert_int_equal(fewshot_env_features(env, obs, f, 8, &fd), 0);
        assert_int_equal(fd, 4);
        fewshot_embed_input qi = {f, fd, NULL};
        float q[4];
        assert_int_equal(fewshot_embedder_embed(e, 1, &qi, q), 0);
        fewshot_selection sel = {0};
        assert_int_equal(fewshot_selector_select(s, q, NULL, &sel), 0);
        assert_int_equal(sel.count, 4);
        int sizes = 0;
        for (size_t i = 0; i < sel.count; i++) {
            const fewshot_demo *d = fewshot_demos_get(ds, sel.picks[i].item);
            assert_true(season(d) == want_outdoor[k]);
            assert_true(d->obs_dim == 4 || d->obs_dim == 7);
            assert_int_equal(d->act_dim, d->obs_dim - 1);   /* keeps its own action size */
            sizes |= d->obs_dim == 4 ? 1 : 2;
        }
        printf("# features: 4 of 4 neighbours from the season, buildings %s\n",
               sizes == 3 ? "3 and 6 rooms" : sizes == 1 ? "3 rooms" : "6 rooms");

        /* the same through text: hashed n-grams of the state text */
        char *text = state_text(env, obs);
        fewshot_embedder_options to = FEWSHOT_EMBEDDER_OPTIONS_INIT;
        to.kind = "text-hash";
        fewshot_embedder *te;
        assert_int_equal(fewshot_embedder_new(&te, &to), 0);
        size_t dim = fewshot_embedder_dim(te);
        float *tv = malloc(n * dim * sizeof *tv), *tq = malloc(dim * sizeof *tq);
        fewshot_embed_input *ti = calloc(n, sizeof *ti);
        char **texts = calloc(n, sizeof *texts);
        for (size_t i = 0; i < n; i++) {
            const fewshot_demo *d = fewshot_demos_get(ds, i);
            fewshot_env *denv;
            assert_int_equal(fewshot_env_new(&denv, "rooms", d->scenario), 0);
            texts[i] = state_text(denv, d->obs);
            ti[i].text = texts[i];
            fewshot_env_free(denv);
        }
        assert_int_equal(fewshot_embedder_embed(te, n, ti, tv), 0);
        fewshot_embed_input tqi = {NULL, 0, text};
        assert_int_equal(fewshot_embedder_embed(te, 1, &tqi, tq), 0);
        fewshot_index_options io = FEWSHOT_INDEX_OPTIONS_INIT;
        io.metric = FEWSHOT_METRIC_IP;
        fewshot_index *tix;
        assert_int_equal(fewshot_index_new(&tix, dim, &io), 0);
        assert_int_equal(fewshot_index_add(tix, n, tv), 0);
        int64_t labels[4];
        assert_int_equal(fewshot_index_search(tix, 1, tq, 4, NULL, labels), 0);
        int right = 0;
        for (int i = 0; i < 4; i++)
            right += season(fewshot_demos_get(ds, (size_t)labels[i])) == want_outdoor[k];
        printf("# text-hash: %d of 4 neighbours from the season (outdoor %g)\n", right,
               want_outdoor[k]);
        assert_true(right >= 3);
        for (size_t i = 0; i < n; i++)
            free(texts[i]);
        free(texts), free(ti), free(tv), free(tq), free(text);
        fewshot_index_free(tix);
        fewshot_embedder_free(te);
        fewshot_selection_clear(&sel);
        fewshot_env_free(env);
    }
    fewshot_selector_free(s);
    fewshot_index_free(ix);
    fewshot_embedder_free(e);
    free(v);
    free(in);
    fewshot_demos_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_knn_reward_mmr),
        cmocka_unit_test(test_cluster_history_random_merge),
        cmocka_unit_test(test_cross_scenario),
        cmocka_unit_test(test_sticky_and_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
