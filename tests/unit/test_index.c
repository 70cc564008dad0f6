/* FAISS index and k-means: exact search equals brute force, approximate recall, save/load with
 * the sidecar, bad input, k-means determinism and representatives. */
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

static float *random_data(size_t n, size_t d, uint64_t seed)
{
    fewshot_rng rng;
    fewshot_rng_seed(&rng, seed);
    float *x = malloc(n * d * sizeof *x);
    for (size_t i = 0; i < n * d; i++)
        x[i] = (float)fewshot_rng_normal(&rng);
    return x;
}

/* The reference: score every point, keep the k best (ties to the lower index). */
static void brute(const float *x, size_t n, size_t d, const float *q, size_t k, int ip,
                  int64_t *labels, float *dist)
{
    for (size_t j = 0; j < k; j++)
        labels[j] = -1, dist[j] = ip ? -INFINITY : INFINITY;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t t = 0; t < d; t++)
            s += ip ? (double)x[i * d + t] * q[t]
                    : ((double)x[i * d + t] - q[t]) * ((double)x[i * d + t] - q[t]);
        float v = (float)s;
        size_t pos = k;
        while (pos > 0 && (ip ? v > dist[pos - 1] : v < dist[pos - 1]))
            pos--;
        if (pos == k)
            continue;
        memmove(labels + pos + 1, labels + pos, (k - pos - 1) * sizeof *labels);
        memmove(dist + pos + 1, dist + pos, (k - pos - 1) * sizeof *dist);
        labels[pos] = (int64_t)i;
        dist[pos] = v;
    }
}

static void check_exact(int ip)
{
    const size_t n = 2000, d = 16, nq = 50, k = 7;
    float *x = random_data(n, d, 1), *q = random_data(nq, d, 2);
    fewshot_index_options o = FEWSHOT_INDEX_OPTIONS_INIT;
    o.metric = ip ? FEWSHOT_METRIC_IP : FEWSHOT_METRIC_L2;
    fewshot_index *ix;
    assert_int_equal(fewshot_index_new(&ix, d, &o), 0);
    assert_int_equal(fewshot_index_add(ix, n, x), 0);
    assert_int_equal(fewshot_index_count(ix), n);
    int64_t labels[nq * k], ref[k];
    float dist[nq * k], rdist[k];
    assert_int_equal(fewshot_index_search(ix, nq, q, k, dist, labels), 0);
    for (size_t i = 0; i < nq; i++) {
        brute(x, n, d, q + i * d, k, ip, ref, rdist);
        for (size_t j = 0; j < k; j++) {
            assert_int_equal(labels[i * k + j], ref[j]);
            assert_true(fabsf(dist[i * k + j] - rdist[j]) <= 1e-3f * (1 + fabsf(rdist[j])));
        }
    }
    /* more neighbours asked than stored: padded with -1 */
    int64_t many[3];
    fewshot_index *small;
    assert_int_equal(fewshot_index_new(&small, d, &o), 0);
    assert_int_equal(fewshot_index_add(small, 2, x), 0);
    assert_int_equal(fewshot_index_search(small, 1, q, 3, NULL, many), 0);
    assert_true(many[2] == -1 && many[0] >= 0 && many[1] >= 0);
    fewshot_index_free(small);
    fewshot_index_free(ix);
    free(x), free(q);
}

static void test_exact_l2_equals_brute_force(void **state) { check_exact(0); }
static void test_exact_ip_equals_brute_force(void **state) { check_exact(1); }

static double recall_at(const char *factory, unsigned nprobe, unsigned ef, size_t n)
{
    const size_t d = 16, nq = 100, k = 4;
    float *x = random_data(n, d, 3), *q = random_data(nq, d, 4);
    fewshot_index_options o = FEWSHOT_INDEX_OPTIONS_INIT;
    o.factory = factory;
    o.nprobe = nprobe;
    o.ef_search = ef;
    fewshot_index *ix;
    assert_int_equal(fewshot_index_new(&ix, d, &o), 0);
    assert_int_equal(fewshot_index_add(ix, n, x), 0);
    int64_t labels[nq * k], ref[k];
    float rdist[k];
    assert_int_equal(fewshot_index_search(ix, nq, q, k, NULL, labels), 0);
    size_t hits = 0;
    for (size_t i = 0; i < nq; i++) {
        brute(x, n, d, q + i * d, k, 0, ref, rdist);
        for (size_t j = 0; j < k; j++)
            for (size_t t = 0; t < k; t++)
                hits += labels[i * k + t] == ref[j];
    }
    fewshot_index_free(ix);
    free(x), free(q);
    return (double)hits / (double)(nq * k);
}

static void test_approximate_recall(void **state)
{
    double hnsw = recall_at("HNSW32", 0, 64, 5000);
    double ivf = recall_at("IVF16,Flat", 16, 0, 5000);   /* all lists: exact */
    double ivf1 = recall_at("IVF16,Flat", 1, 0, 5000);
    printf("# recall@4: HNSW32 %.3f, IVF16 nprobe=16 %.3f, nprobe=1 %.3f\n", hnsw, ivf, ivf1);
    assert_true(hnsw >= 0.95);
    assert_true(ivf >= 0.999);
    assert_true(ivf1 < ivf);     /* nprobe is applied */
}

static void test_save_load(void **state)
{
    char dir[] = "/tmp/fewshot-index-XXXXXX", path[256], side[300];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/demos.index", dir);
    snprintf(side, sizeof side, "%s.json", path);
    const size_t n = 300, d = 8;
    float *x = random_data(n, d, 5);
    fewshot_index_options o = FEWSHOT_INDEX_OPTIONS_INIT;
    o.factory = "IVF4,Flat";
    o.nprobe = 4;
    o.metric = FEWSHOT_METRIC_IP;
    fewshot_index *ix, *back;
    assert_int_equal(fewshot_index_new(&ix, d, &o), 0);
    assert_int_equal(fewshot_index_add(ix, n, x), 0);
    json_t *tag = json_string("demos.jsonl");
    assert_int_equal(fewshot_index_set_meta(ix, "dataset", tag), 0);
    json_decref(tag);
    assert_int_equal(fewshot_index_save(ix, path), 0);
    assert_int_equal(fewshot_index_load(&back, path), 0);
    assert_int_equal(fewshot_index_count(back), n);
    assert_int_equal(fewshot_index_dim(back), d);
    assert_int_equal(fewshot_index_metric(back), FEWSHOT_METRIC_IP);
    assert_string_equal(fewshot_index_factory(back), "IVF4,Flat");
    assert_string_equal(json_string_value(json_object_get(fewshot_index_meta(back), "dataset")),
                        "demos.jsonl");
    int64_t a[5], b[5];
    assert_int_equal(fewshot_index_search(ix, 1, x + 7 * d, 5, NULL, a), 0);
    assert_int_equal(fewshot_index_search(back, 1, x + 7 * d, 5, NULL, b), 0);
    assert_memory_equal(a, b, sizeof a);
    float v[8];
    assert_int_equal(fewshot_index_vector(back, 7, v), 0);
    assert_memory_equal(v, x + 7 * d, sizeof v);
    fewshot_index_free(back);

    /* a sidecar that disagrees with the FAISS file is refused */
    FILE *f = fopen(side, "r");
    char buf[4096];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    char *count = strstr(buf, "\"count\": 300");
    assert_non_null(count);
    memcpy(count, "\"count\": 301", 12);
    f = fopen(side, "w");
    fputs(buf, f);
    fclose(f);
    assert_int_equal(fewshot_index_load(&back, path), FEWSHOT_EMISMATCH);
    assert_non_null(strstr(fewshot_error_last()->message, "does not match its sidecar"));
    /* a missing sidecar */
    unlink(side);
    assert_int_equal(fewshot_index_load(&back, path), FEWSHOT_EPARSE);
    assert_non_null(strstr(fewshot_error_last()->message, "sidecar"));
    assert_string_equal(fewshot_error_last()->file, side);
    /* not a FAISS file */
    f = fopen(side, "w");
    fputs("{\"format\": \"libfewshot-index\", \"version\": 1, \"dim\": 8, \"metric\": \"l2\", "
          "\"factory\": \"Flat\", \"count\": 3, \"meta\": {}}", f);
    fclose(f);
    f = fopen(path, "w");
    fputs("garbage", f);
    fclose(f);
    assert_true(fewshot_index_load(&back, path) < 0);
    assert_non_null(strstr(fewshot_error_last()->message, "FAISS"));
    unlink(path), unlink(side), rmdir(dir);
    fewshot_index_free(ix);
    free(x);
}

static void test_bad_input(void **state)
{
    fewshot_index *ix;
    fewshot_index_options o = FEWSHOT_INDEX_OPTIONS_INIT;
    o.factory = "NoSuchIndex42";
    assert_int_equal(fewshot_index_new(&ix, 4, &o), FEWSHOT_EINVAL);
    assert_non_null(strstr(fewshot_error_last()->message, "NoSuchIndex42"));
    assert_int_equal(fewshot_index_new(&ix, 0, NULL), FEWSHOT_EINVAL);
    assert_int_equal(fewshot_index_new(&ix, 4, NULL), 0);
    float x[8] = {1, 2, 3, 4, 5, NAN, 7, 8};
    assert_int_equal(fewshot_index_add(ix, 2, x), FEWSHOT_ERANGE);
    assert_non_null(strstr(fewshot_error_last()->message, "vector 1, element 1 is NaN"));
    assert_int_equal(fewshot_index_count(ix), 0);
    x[5] = 6;
    assert_int_equal(fewshot_index_add(ix, 2, x), 0);
    float q[4] = {INFINITY, 0, 0, 0};
    int64_t l[1];
    assert_int_equal(fewshot_index_search(ix, 1, q, 1, NULL, l), FEWSHOT_ERANGE);
    assert_int_equal(fewshot_index_vector(ix, 2, q), FEWSHOT_ERANGE);
    /* IVF training needs at least as many points as lists */
    fewshot_index *ivf;
    o.factory = "IVF64,Flat";
    assert_int_equal(fewshot_index_new(&ivf, 4, &o), 0);
    assert_true(fewshot_index_add(ivf, 2, x) < 0);
    assert_non_null(strstr(fewshot_error_last()->message, "training"));
    fewshot_index_free(ivf);
    fewshot_index_free(ix);
    fewshot_index_free(NULL);
}

static void test_kmeans_deterministic(void **state)
{
    const size_t n = 3000, d = 8, k = 12;
    float *x = random_data(n, d, 6);
    int64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    float *ca = malloc(k * d * sizeof *ca), *cb = malloc(k * d * sizeof *cb);
    fewshot_kmeans_options o = FEWSHOT_KMEANS_OPTIONS_INIT;
    o.seed = 42;
    assert_int_equal(fewshot_kmeans(x, n, d, k, &o, ca, a), 0);
    assert_int_equal(fewshot_kmeans(x, n, d, k, &o, cb, b), 0);
    assert_memory_equal(a, b, n * sizeof *a);
    assert_memory_equal(ca, cb, k * d * sizeof *ca);
    o.seed = 43;
    assert_int_equal(fewshot_kmeans(x, n, d, k, &o, NULL, c), 0);
    assert_true(memcmp(a, c, n * sizeof *a) != 0);
    /* every point is assigned to its nearest centroid */
    for (size_t i = 0; i < n; i += 97) {
        size_t best = 0;
        float bd = INFINITY;
        for (size_t j = 0; j < k; j++) {
            float s = 0;
            for (size_t t = 0; t < d; t++)
                s += (x[i * d + t] - ca[j * d + t]) * (x[i * d + t] - ca[j * d + t]);
            if (s < bd)
                bd = s, best = j;
        }
        assert_int_equal(a[i], best);
    }
    /* representatives: nearest member, and best-reward member */
    int64_t rep[12], rep2[12];
    double *reward = malloc(n * sizeof *reward);
    for (size_t i = 0; i < n; i++)
        reward[i] = (double)((i * 7919) % 1000);
    assert_int_equal(fewshot_kmeans_representatives(x, n, d, k, ca, a, NULL,
                                                    FEWSHOT_REPRESENTATIVE_NEAREST, rep), 0);
    assert_int_equal(fewshot_kmeans_representatives(x, n, d, k, ca, a, reward,
                                                    FEWSHOT_REPRESENTATIVE_BEST_REWARD, rep2), 0);
    for (size_t j = 0; j < k; j++) {
        assert_true(rep[j] >= 0 && rep2[j] >= 0);
        assert_int_equal(a[rep[j]], j);
        assert_int_equal(a[rep2[j]], j);
        for (size_t i = 0; i < n; i++)
            if (a[i] == (int64_t)j)
                assert_true(reward[i] <= reward[rep2[j]]);
    }
    assert_int_equal(fewshot_kmeans_representatives(x, n, d, k, ca, a, NULL,
                                                    FEWSHOT_REPRESENTATIVE_BEST_REWARD, rep2),
                     FEWSHOT_EINVAL);
    /* bad input */
    assert_int_equal(fewshot_kmeans(x, 5, d, 6, NULL, NULL, NULL), FEWSHOT_EINVAL);
    x[3] = NAN;
    assert_int_equal(fewshot_kmeans(x, n, d, k, NULL, NULL, NULL), FEWSHOT_ERANGE);
    free(x), free(a), free(b), free(c), free(ca), free(cb), free(reward);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_l2_equals_brute_force),
        cmocka_unit_test(test_exact_ip_equals_brute_force),
        cmocka_unit_test(test_approximate_recall),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_kmeans_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
