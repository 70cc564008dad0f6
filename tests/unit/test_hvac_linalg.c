/* hvac plugin: the matrix exponential and linear solves against cases known in closed form. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fewshot/error.h>

#include "linalg.h"

static double max_diff(const double *a, const double *b, size_t len)
{
    double d = 0;
    for (size_t i = 0; i < len; i++)
        d = fmax(d, fabs(a[i] - b[i]));
    return d;
}

static void test_diagonal(void **state)
{
    /* norms on both sides of every Pade degree's threshold, and one that needs scaling */
    static const double scales[] = {0.001, 0.1, 0.5, 1.5, 4, 30, 700};
    for (size_t s = 0; s < sizeof scales / sizeof scales[0]; s++) {
        double a[9] = {0}, e[9], want[9] = {0};
        double d[3] = {-scales[s], 0.3 * scales[s], -0.01 * scales[s]};
        for (int i = 0; i < 3; i++) {
            a[i * 4] = d[i];
            want[i * 4] = exp(d[i]);
        }
        assert_int_equal(hvac_expm(a, 3, e), 0);
        for (int i = 0; i < 9; i++)
            assert_true(fabs(e[i] - want[i]) <= 1e-13 * fmax(1.0, fabs(want[i])));
    }
}

static void test_nilpotent(void **state)
{
    /* N strictly upper triangular, N^3 = 0: expm(N) = I + N + N^2/2 exactly */
    double n[9] = {0, 2, -3, 0, 0, 5, 0, 0, 0}, e[9], n2[9], want[9];
    hvac_matmul(n, n, n2, 3, 3, 3);
    for (int i = 0; i < 9; i++)
        want[i] = (i % 4 == 0) + n[i] + n2[i] / 2;
    assert_int_equal(hvac_expm(n, 3, e), 0);
    assert_true(max_diff(e, want, 9) < 1e-13);
}

static void test_rotation(void **state)
{
    /* expm([[0, t], [-t, 0]]) = [[cos t, sin t], [-sin t, cos t]] */
    for (double t = 0.05; t < 40; t *= 2.7) {
        double a[4] = {0, t, -t, 0}, e[4], want[4] = {cos(t), sin(t), -sin(t), cos(t)};
        assert_int_equal(hvac_expm(a, 2, e), 0);
        assert_true(max_diff(e, want, 4) < 1e-12 * fmax(1.0, t));
    }
}

static void test_inverse_identity(void **state)
{
    /* expm(A) expm(-A) = I for a dense matrix like the thermal model's (norm ~ 10-100) */
    enum { N = 12 };
    double a[N * N], na[N * N], e[N * N], f[N * N], p[N * N], id[N * N] = {0};
    unsigned seed = 7;
    for (int i = 0; i < N * N; i++) {
        seed = seed * 1103515245u + 12345u;
        a[i] = ((double)(seed >> 16 & 0x7fff) / 32768.0 - 0.5) * 3;
        na[i] = -a[i];
    }
    for (int i = 0; i < N; i++) {
        a[i * N + i] -= 10;
        na[i * N + i] += 10;
        id[i * N + i] = 1;
    }
    assert_int_equal(hvac_expm(a, N, e), 0);
    assert_int_equal(hvac_expm(na, N, f), 0);
    hvac_matmul(e, f, p, N, N, N);
    assert_true(max_diff(p, id, N * N) < 1e-9);
    /* expm(2A) = expm(A)^2 */
    double a2[N * N], e2[N * N];
    for (int i = 0; i < N * N; i++)
        a2[i] = 2 * a[i];
    assert_int_equal(hvac_expm(a2, N, e2), 0);
    hvac_matmul(e, e, p, N, N, N);
    for (int i = 0; i < N * N; i++)
        assert_true(fabs(p[i] - e2[i]) <= 1e-12 + 1e-10 * fabs(e2[i]));
}

static void test_nan_refused(void **state)
{
    double a[4] = {0, NAN, 0, 0}, e[4];
    assert_int_equal(hvac_expm(a, 2, e), FEWSHOT_ERANGE);
    assert_non_null(strstr(fewshot_error_last()->message, "non-finite"));
}

static void test_solve(void **state)
{
    double a[9] = {4, -2, 1, -2, 4, -2, 1, -2, 4}, x[3] = {11, -16, 17}, b[3];
    hvac_matmul(a, x, b, 3, 3, 1);
    assert_int_equal(hvac_solve(a, 3, b, 1), 0);
    assert_true(max_diff(b, x, 3) < 1e-13);
    double s[4] = {1, 2, 2, 4}, r[2] = {1, 1};
    assert_int_equal(hvac_solve(s, 2, r, 1), FEWSHOT_ERANGE);
    assert_non_null(strstr(fewshot_error_last()->message, "singular"));
}

/* A leading zero needs a row exchange; several right-hand sides are solved at once; an
 * ill-scaled system takes its largest pivot first (without, 1e-20 as the pivot loses x). */
static void test_solve_pivoting(void **state)
{
    (void)state;
    double a[9] = {0, 2, 1, 1, 1, 1, 2, 1, 0}, x[6] = {1, -1, 2, 0.5, -3, 4}, b[6];
    hvac_matmul(a, x, b, 3, 3, 2);
    assert_int_equal(hvac_solve(a, 3, b, 2), 0);
    assert_true(max_diff(b, x, 6) < 1e-14);
    double t[4] = {1e-20, 1, 1, 1}, y[2] = {1, 2}, c[2];
    hvac_matmul(t, y, c, 2, 2, 1);
    assert_int_equal(hvac_solve(t, 2, c, 1), 0);
    assert_true(max_diff(c, y, 2) < 1e-14);
    /* the matrix is left as it was */
    assert_true(a[0] == 0 && a[4] == 1 && t[0] == 1e-20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diagonal),
        cmocka_unit_test(test_nilpotent),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_inverse_identity),
        cmocka_unit_test(test_nan_refused),
        cmocka_unit_test(test_solve),
        cmocka_unit_test(test_solve_pivoting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
