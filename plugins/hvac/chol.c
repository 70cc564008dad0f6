/*
 * Cholesky factors of principal submatrices, bit-identical to the textbook order (chol.h).
 *
 * Left-looking by columns: column j of L starts as A's column j and receives the updates
 * - L_jk * (column k) for k = 0, 1, ..., j - 1 in that order, the same subtractions the
 * row-oriented loop makes for each element, so vectorizing across the rows of a column
 * changes no rounding. x86-64 always has SSE2; elsewhere the scalar loops do the same
 * arithmetic.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "chol.h"

int hvac_chol_init(hvac_chol *c, const double *A, size_t d)
{
    memset(c, 0, sizeof *c);
    c->A = A;
    c->d = d;
    c->L = malloc((d * d + 1) * sizeof *c->L);
    c->idx = malloc((d + 1) * sizeof *c->idx);
    if (!c->L || !c->idx) {
        hvac_chol_free(c);
        return -1;
    }
    return 0;
}

void hvac_chol_free(hvac_chol *c)
{
    if (!c)
        return;
    free(c->L);
    free(c->idx);
    memset(c, 0, sizeof *c);
}

void hvac_axpy(double *y, double alpha, const double *x, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    __m128d va = _mm_set1_pd(alpha);
    for (; i + 2 <= n; i += 2)
        _mm_storeu_pd(y + i, _mm_add_pd(_mm_loadu_pd(y + i),
                                        _mm_mul_pd(va, _mm_loadu_pd(x + i))));
#endif
    for (; i < n; i++)
        y[i] += alpha * x[i];
}

/* t[i] -= x[i] * s for i in [0, n): one column's update by an earlier column. Four earlier
 * columns at once (xs[0..3] with multipliers s[0..3], applied in that order) when w == 4,
 * which keeps t in registers across them. */
static void update(double *t, const double *const *xs, const double *s, int w, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    if (w == 4) {
        __m128d s0 = _mm_set1_pd(s[0]), s1 = _mm_set1_pd(s[1]);
        __m128d s2 = _mm_set1_pd(s[2]), s3 = _mm_set1_pd(s[3]);
        const double *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
        for (; i + 2 <= n; i += 2) {
            __m128d v = _mm_loadu_pd(t + i);
            v = _mm_sub_pd(v, _mm_mul_pd(_mm_loadu_pd(x0 + i), s0));
            v = _mm_sub_pd(v, _mm_mul_pd(_mm_loadu_pd(x1 + i), s1));
            v = _mm_sub_pd(v, _mm_mul_pd(_mm_loadu_pd(x2 + i), s2));
            v = _mm_sub_pd(v, _mm_mul_pd(_mm_loadu_pd(x3 + i), s3));
            _mm_storeu_pd(t + i, v);
        }
    } else {
        __m128d s0 = _mm_set1_pd(s[0]);
        const double *x0 = xs[0];
        for (; i + 2 <= n; i += 2)
            _mm_storeu_pd(t + i, _mm_sub_pd(_mm_loadu_pd(t + i),
                                            _mm_mul_pd(_mm_loadu_pd(x0 + i), s0)));
    }
#endif
    for (; i < n; i++)
        for (int k = 0; k < w; k++)
            t[i] -= xs[k][i] * s[k];
}

/* Column j of the factor, rows [from, n): A's entries, the updates by columns 0..j-1, the
 * diagonal's square root (from <= j; otherwise it is kept from before) and the division by
 * it. */
static int column(hvac_chol *c, const size_t *idx, size_t n, size_t j, size_t from)
{
    size_t d = c->d;
    double *t = c->L + j * d;
    const double *arow = c->A + idx[j] * d;   /* A symmetric: column idx[j] = row idx[j] */
    for (size_t i = from; i < n; i++)
        t[i] = arow[idx[i]];
    size_t k = 0;
    for (; k + 4 <= j; k += 4) {
        const double *xs[4];
        double s[4];
        for (int w = 0; w < 4; w++) {
            xs[w] = c->L + (k + w) * d + from;
            s[w] = c->L[(k + w) * d + j];
        }
        update(t + from, xs, s, 4, n - from);
    }
    for (; k < j; k++) {
        const double *x = c->L + k * d + from;
        double s = c->L[k * d + j];
        update(t + from, &x, &s, 1, n - from);
    }
    if (from <= j) {
        if (!(t[j] > 0))
            return -1;
        t[j] = sqrt(t[j]);
        from = j + 1;
    }
    double l = t[j];
    for (size_t i = from; i < n; i++)
        t[i] = t[i] / l;
    return 0;
}

int hvac_chol_factor(hvac_chol *c, const size_t *idx, size_t n)
{
    size_t keep = 0;
    while (keep < n && keep < c->n && c->idx[keep] == idx[keep])
        keep++;
    c->n = 0;
    for (size_t j = 0; j < n; j++)
        if (column(c, idx, n, j, j < keep ? keep : j) != 0)
            return -1;
    memcpy(c->idx, idx, n * sizeof *idx);
    c->n = n;
    return 0;
}

void hvac_chol_solve(const hvac_chol *c, double *b)
{
    size_t n = c->n, d = c->d;
    const double *L = c->L;
    /* L y = b by columns: b_i -= L_ik y_k for k ascending, then y_i = b_i / L_ii */
    for (size_t k = 0; k < n; k++) {
        b[k] = b[k] / L[k * d + k];
        const double *x = L + k * d + k + 1;
        double s = b[k];
        update(b + k + 1, &x, &s, 1, n - k - 1);
    }
    /* L' x = y: x_i = (y_i - sum_k>i L_ki x_k) / L_ii, column i of L contiguous */
    for (size_t i = n; i-- > 0;) {
        const double *col = L + i * d;
        double t = b[i];
        for (size_t k = i + 1; k < n; k++)
            t -= col[k] * b[k];
        b[i] = t / col[i];
    }
}
