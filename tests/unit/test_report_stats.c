/* The report's statistics kernels against plain definitions on random data with many ties:
 * selection-based median and IQM against sorting, the merge count of the probability of
 * improvement against all pairs, percentiles, and the bootstrap's fixed points. The file
 * under test is included so its static kernels are reachable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../../libfewshot/report_stats.c"

static uint64_t lcg = 12345;
static int next_int(int range)
{
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int)((lcg >> 33) % (uint64_t)range);
}

static void test_median_iqm(void **state)
{
    (void)state;
    for (int it = 0; it < 20000; it++) {
        size_t n = 1 + (size_t)next_int(40);
        int range = it % 3 ? 1000 : 3;      /* a third of the samples are nearly all ties */
        double v[64], w[64], u[64];
        for (size_t i = 0; i < n; i++)
            v[i] = w[i] = u[i] = next_int(range);
        qsort(w, n, sizeof *w, cmp_double);
        size_t cut = n / 4;
        double sum = 0;
        for (size_t i = cut; i < n - cut; i++)
            sum += w[i];
        double median = n % 2 ? w[n / 2] : 0.5 * (w[n / 2 - 1] + w[n / 2]);
        assert_true(fabs(pooled(FEWSHOT__STAT_IQM, v, n) - sum / (double)(n - 2 * cut)) <= 1e-9);
        assert_true(pooled(FEWSHOT__STAT_MEDIAN, u, n) == median);
    }
}

static void test_improvement(void **state)
{
    (void)state;
    for (int it = 0; it < 5000; it++) {
        size_t n = 1 + (size_t)next_int(300), m = 1 + (size_t)next_int(300);
        int range = it % 2 ? 5 : 100000;
        double x[300], y[300];
        for (size_t i = 0; i < n; i++)
            x[i] = next_int(range);
        for (size_t j = 0; j < m; j++)
            y[j] = next_int(range);
        double all_pairs = improvement(x, n, y, m);
        qsort(x, n, sizeof *x, cmp_double);
        qsort(y, m, sizeof *y, cmp_double);
        assert_true(improvement_sorted(x, n, y, m) == all_pairs);
    }
}

static void test_bootstrap(void **state)
{
    (void)state;
    double same[5] = {2, 2, 2, 2, 2}, a[3] = {1, 2, 3}, b[3] = {4, 5, 6};
    const double *xs[1] = {same}, *as[2] = {a, b}, *bs[2] = {b, a};
    size_t n1[1] = {5}, n2[2] = {3, 3};
    fewshot__strata constant = {1, xs, n1}, x = {2, as, n2}, y = {2, bs, n2};
    fewshot__estimate e;
    /* a constant sample: every resample gives the same value */
    assert_int_equal(fewshot__stat_bootstrap(FEWSHOT__STAT_IQM, &constant, NULL, 100, 1, "c",
                                             &e), 0);
    assert_true(e.value == 2 && e.low == 2 && e.high == 2);
    /* strata: x loses everywhere in stratum 1 and wins everywhere in stratum 2 */
    assert_int_equal(fewshot__stat_bootstrap(FEWSHOT__STAT_PI, &x, &y, 100, 1, "p", &e), 0);
    assert_true(e.value == 0.5 && e.low == 0.5 && e.high == 0.5);
    /* the same seed and label give the same interval; another label another stream */
    fewshot__estimate f, g;
    double c[7] = {0.13, 2.71, 3.14, 8.9, 1.41, 6.02, 4.47};
    const double *cs[1] = {c};
    size_t n7[1] = {7};
    fewshot__strata z = {1, cs, n7};
    fewshot__stat_bootstrap(FEWSHOT__STAT_MEAN, &z, NULL, 500, 9, "m", &e);
    fewshot__stat_bootstrap(FEWSHOT__STAT_MEAN, &z, NULL, 500, 9, "m", &f);
    fewshot__stat_bootstrap(FEWSHOT__STAT_MEAN, &z, NULL, 500, 9, "n", &g);
    assert_true(e.low == f.low && e.high == f.high);
    assert_true(e.low != g.low || e.high != g.high);
    assert_true(e.low <= e.value && e.value <= e.high);
    /* fewer than two resamples: no interval */
    fewshot__stat_bootstrap(FEWSHOT__STAT_MEAN, &x, NULL, 1, 9, "m", &e);
    assert_true(isnan(e.low) && isnan(e.high) && e.value == 3.5);
    double sorted[4] = {1, 2, 3, 4};
    assert_true(fabs(percentile(sorted, 4, 0.025) - 1.075) < 1e-12);
    assert_true(fabs(percentile(sorted, 4, 0.975) - 3.925) < 1e-12);
    assert_true(fewshot__fnv1a64("") == 0xcbf29ce484222325ULL);
    assert_true(fewshot__fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median_iqm),
        cmocka_unit_test(test_improvement),
        cmocka_unit_test(test_bootstrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
