/*
 * Test helper: the textbook Cholesky solve the hvac MPC's factors must reproduce bit for bit
 * (test_hvac_model compares chol.c with it, test_hvac_mpc replays whole solves on it).
 */
#ifndef TEST_HVAC_TEXTBOOK_H
#define TEST_HVAC_TEXTBOOK_H

#include <math.h>
#include <stddef.h>

/* Factor a (n x n, row-major, symmetric positive definite) into L in place, row by row with
 * L_ij = (a_ij - sum_k<j L_ik L_jk) / L_jj, k ascending, then solve L L' x = b in place.
 * 0, or -1 when a is not positive definite. */
static inline int textbook_solve(double *a, size_t n, double *b)
{
    for (size_t j = 0; j < n; j++) {
        double s = a[j * n + j];
        for (size_t k = 0; k < j; k++)
            s -= a[j * n + k] * a[j * n + k];
        if (!(s > 0))
            return -1;
        double l = sqrt(s);
        a[j * n + j] = l;
        for (size_t i = j + 1; i < n; i++) {
            double t = a[i * n + j];
            for (size_t k = 0; k < j; k++)
                t -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = t / l;
        }
    }
    for (size_t i = 0; i < n; i++) {
        double t = b[i];
        for (size_t k = 0; k < i; k++)
            t -= a[i * n + k] * b[k];
        b[i] = t / a[i * n + i];
    }
    for (size_t i = n; i-- > 0;) {
        double t = b[i];
        for (size_t k = i + 1; k < n; k++)
            t -= a[k * n + i] * b[k];
        b[i] = t / a[i * n + i];
    }
    return 0;
}

#endif
