/* The hvac model step: the CPU-specific path (AVX2) gives the portable path's bits, for every
 * shipped building, also when x' overwrites x. Results must not depend on the machine. The
 * MPC's Cholesky factors (chol.c) give the textbook algorithm's bits, on both paths and
 * whatever earlier factor they start from. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fewshot.h>

#include "chol.h"
#include "model.h"
#include "hvac_textbook.h"

static double uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static void test_paths_agree(void **state)
{
    static const char *const names[] = {"OfficeSmall", "OfficeMedium", "RestaurantFastFood",
                                        "RestaurantSitDown", "RetailStandalone",
                                        "RetailStripmall", "Warehouse"};
    hvac_model_options o = {.max_power = 8000, .dt = 3600, .shgc = 0.252, .shgc_weight = 0.01,
                            .ground_weight = 0.5, .max_ghi = 1000, .tz = -7, .occupancy = 1};
    uint64_t seed = 7;
    for (size_t b = 0; b < sizeof names / sizeof names[0]; b++) {
        fewshot_building *bld;
        if (fewshot_building_load(&bld, names[b]) != 0)
            fail_msg("%s", fewshot_error_last()->message);
        hvac_model m;
        assert_int_equal(hvac_model_build(&m, bld, &o), 0);
        double *x = calloc(m.n, sizeof *x), *y = calloc(m.n, sizeof *y);
        double *fast = calloc(m.n, sizeof *fast), *slow = calloc(m.n, sizeof *slow);
        double *u = calloc(m.m, sizeof *u);
        for (size_t i = 0; i < m.n; i++)
            x[i] = y[i] = 10 + 25 * uniform(&seed);
        for (int step = 0; step < 200; step++) {
            for (size_t j = 0; j < m.m; j++)
                u[j] = j < 3 ? 40 * uniform(&seed) - 10 : 2 * uniform(&seed) - 1;
            hvac_model_step(&m, x, u, fast);
            hvac_model_step_portable(&m, x, u, slow);
            if (memcmp(fast, slow, m.n * sizeof *fast) != 0)
                fail_msg("%s step %d: the two paths differ", names[b], step);
            memcpy(x, fast, m.n * sizeof *x);
            hvac_model_step(&m, y, u, y);      /* in place */
            if (memcmp(x, y, m.n * sizeof *x) != 0)
                fail_msg("%s step %d: the in-place step differs", names[b], step);
        }
        free(x), free(y), free(fast), free(slow), free(u);
        hvac_model_free(&m);
        fewshot_building_free(bld);
    }
}


/* A random ascending index list of A's d (the MPC's free sets are ascending): often an
 * earlier list's first entries (of one of the last twelve lists) with the rest redrawn, so
 * factors start from kept rows of several ages; otherwise new. */
static size_t next_list(uint64_t *seed, size_t d, size_t lists[16][64], const size_t *len,
                        int t, size_t *out)
{
    size_t n = 0, first = 0;
    if (t > 0 && uniform(seed) < 0.8) {
        int back = 1 + (int)(uniform(seed) * (t < 12 ? t : 12));
        const size_t *old = lists[(t - back) % 16];
        size_t keep = (size_t)(uniform(seed) * (double)(len[(t - back) % 16] + 1));
        for (; n < keep; n++)
            out[n] = old[n];
        first = n ? out[n - 1] + 1 : 0;
    }
    for (size_t i = first; i < d; i++)
        if (uniform(seed) < 0.7)
            out[n++] = i;
    return n;
}

static void test_chol_bits(void **state)
{
    enum { D = 60 };
    uint64_t seed = 11;
    double *B = calloc(D * D, sizeof *B), *A = calloc(D * D, sizeof *A);
    for (size_t i = 0; i < D * D; i++)
        B[i] = uniform(&seed) - 0.5;
    /* A = B'B + I: positive definite, exactly symmetric (each pair set once) */
    for (size_t i = 0; i < D; i++)
        for (size_t j = i; j < D; j++) {
            double s = i == j ? 1 : 0;
            for (size_t k = 0; k < D; k++)
                s += B[k * D + i] * B[k * D + j];
            A[i * D + j] = A[j * D + i] = s;
        }
    hvac_chol fast, slow;
    assert_int_equal(hvac_chol_init(&fast, A, D), 0);
    assert_int_equal(hvac_chol_init(&slow, A, D), 0);
    slow.portable = 1;
    static size_t lists[16][64];
    size_t len[16] = {0};
    double sub[D * D], b[D], x1[D], x2[D];
    for (int t = 0; t < 300; t++) {
        size_t *idx = lists[t % 16];
        size_t n = len[t % 16] = next_list(&seed, D, lists, len, t, idx);
        if (n == 0)
            continue;
        for (size_t p = 0; p < n; p++) {
            b[p] = uniform(&seed) - 0.5;
            for (size_t q = 0; q < n; q++)
                sub[p * n + q] = A[idx[p] * D + idx[q]];
        }
        memcpy(x1, b, n * sizeof *b);
        memcpy(x2, b, n * sizeof *b);
        assert_int_equal(textbook_solve(sub, n, b), 0);
        assert_int_equal(hvac_chol_factor(&fast, idx, n), 0);
        assert_int_equal(hvac_chol_factor(&slow, idx, n), 0);
        hvac_chol_solve(&fast, x1);
        hvac_chol_solve(&slow, x2);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j <= i; j++)
                if (memcmp(&sub[i * n + j], &fast.last->L[j * fast.stride + i], sizeof(double)) ||
                    memcmp(&sub[i * n + j], &slow.last->L[j * slow.stride + i], sizeof(double)))
                    fail_msg("list %d (%zu indices): L[%zu][%zu] differs from the textbook's",
                             t, n, i, j);
        if (memcmp(x1, b, n * sizeof *b) != 0 || memcmp(x2, b, n * sizeof *b) != 0)
            fail_msg("list %d (%zu indices): the solution differs from the textbook's", t, n);
    }
    /* not positive definite (zone 5's diagonal made negative): refused and not kept as a
     * start; lists without 5 still factor as the textbook does */
    hvac_chol bad;
    A[5 * D + 5] = -1;
    assert_int_equal(hvac_chol_init(&bad, A, D), 0);
    size_t all[D];
    for (size_t i = 0; i < D; i++)
        all[i] = i;
    assert_int_equal(hvac_chol_factor(&bad, all, D), -1);
    size_t skip[D - 1];
    for (size_t i = 0; i + 1 < D; i++)
        skip[i] = i < 5 ? i : i + 1;
    for (int round = 0; round < 2; round++) {
        size_t n = round == 0 ? 5 : D - 1;
        for (size_t p = 0; p < n; p++) {
            b[p] = x1[p] = uniform(&seed) - 0.5;
            for (size_t q = 0; q < n; q++)
                sub[p * n + q] = A[skip[p] * D + skip[q]];
        }
        assert_int_equal(textbook_solve(sub, n, b), 0);
        assert_int_equal(hvac_chol_factor(&bad, skip, n), 0);
        hvac_chol_solve(&bad, x1);
        assert_memory_equal(x1, b, n * sizeof *b);
    }
    hvac_chol_free(&bad);
    hvac_chol_free(&fast);
    hvac_chol_free(&slow);
    free(A);
    free(B);
}

/* hvac_axpy: the scalar loop's bits for every length (vector body and tail). */
static void test_axpy_bits(void **state)
{
    uint64_t seed = 5;
    double x[37], y[37], want[37];
    for (size_t n = 0; n <= 37; n++) {
        double alpha = uniform(&seed) * 4 - 2;
        for (size_t i = 0; i < n; i++) {
            x[i] = uniform(&seed) - 0.5;
            y[i] = want[i] = uniform(&seed) * 100;
        }
        for (size_t i = 0; i < n; i++)
            want[i] += alpha * x[i];
        hvac_axpy(y, alpha, x, n);
        if (n)
            assert_memory_equal(y, want, n * sizeof *y);
    }
}

/* hvac_axpys: w calls of the scalar loop, for every length and count of rows (the eight-row
 * passes, their remainder and the vector tails), also when rows repeat; hvac_axpy_short: the
 * scalar loop. */
static void test_axpys_bits(void **state)
{
    uint64_t seed = 9;
    static double x[13][37];
    double y[37], want[37], alpha[20] = {0};
    const double *rows[20] = {0};
    for (size_t w = 0; w <= 20; w++)
        for (size_t n = 0; n <= 37; n++) {
            for (size_t k = 0; k < w; k++) {
                alpha[k] = uniform(&seed) * 4 - 2;
                rows[k] = x[k % 13];
            }
            for (size_t k = 0; k < 13; k++)
                for (size_t i = 0; i < n; i++)
                    x[k][i] = uniform(&seed) - 0.5;
            for (size_t i = 0; i < n; i++)
                y[i] = want[i] = uniform(&seed) * 100;
            for (size_t k = 0; k < w; k++)
                for (size_t i = 0; i < n; i++)
                    want[i] += alpha[k] * rows[k][i];
            hvac_axpys(y, n, w, alpha, rows);
            if (n)
                assert_memory_equal(y, want, n * sizeof *y);
        }
    for (size_t n = 1; n <= 9; n++) {
        double a = uniform(&seed) * 4 - 2;
        for (size_t i = 0; i < n; i++) {
            y[i] = want[i] = uniform(&seed) * 100;
            want[i] += a * x[3][i];
        }
        hvac_axpy_short(y, a, x[3], n);
        assert_memory_equal(y, want, n * sizeof *y);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_agree),
        cmocka_unit_test(test_chol_bits),
        cmocka_unit_test(test_axpy_bits),
        cmocka_unit_test(test_axpys_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
