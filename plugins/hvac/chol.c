/*
 * Cholesky factors of principal submatrices, bit-identical to the textbook order (chol.h).
 *
 * Left-looking by columns: column j of L starts as A's column j and receives the updates
 * - L_jk * (column k) for k = 0, 1, ..., j - 1 in that order, the same subtractions the
 * row-oriented loop makes for each element, so running them on two (SSE2, NEON) or four
 * (AVX2) rows of a column at once changes no rounding. No FMA anywhere: a fused
 * multiply-add rounds once and would change the bits.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chol.h"

int hvac_chol_init(hvac_chol *c, const double *A, size_t d)
{
    memset(c, 0, sizeof *c);
    c->A = A;
    c->d = d;
    c->stride = d + 4;
    for (int k = 0; k < HVAC_CHOL_SLOTS; k++) {
        hvac_chol_slot *s = &c->slot[k];
        s->L = calloc(c->stride * d + 1, sizeof *s->L);
        s->idx = malloc((d + 1) * sizeof *s->idx);
        if (!s->L || !s->idx) {
            hvac_chol_free(c);
            return -1;
        }
    }
    return 0;
}

void hvac_chol_free(hvac_chol *c)
{
    if (!c)
        return;
    for (int k = 0; k < HVAC_CHOL_SLOTS; k++) {
        free(c->slot[k].L);
        free(c->slot[k].idx);
    }
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- kernels */

/* Two doubles in one SIMD register, loadable from any double address (as in model.c). */
typedef double v2d __attribute__((vector_size(16), aligned(8), may_alias));

static void axpy2(double *y, double alpha, const double *x, size_t n)
{
    v2d a = {alpha, alpha};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        *(v2d *)(y + i) += a * *(const v2d *)(x + i);
        *(v2d *)(y + i + 2) += a * *(const v2d *)(x + i + 2);
    }
    for (; i < n; i++)
        y[i] += alpha * x[i];
}

/* t_i -= x_i s_0, then -= x_(ld + i) s_1, ...: the updates of one column by w earlier ones
 * (columns ld apart), in column order. Eight at a time keep t in a register across them. */
static void update2(double *t, const double *x, size_t ld, const double *s, int w, size_t n)
{
    size_t i = 0;
    if (w == 8) {
        v2d s0 = {s[0], s[0]}, s1 = {s[1], s[1]}, s2 = {s[2], s[2]}, s3 = {s[3], s[3]};
        v2d s4 = {s[4], s[4]}, s5 = {s[5], s[5]}, s6 = {s[6], s[6]}, s7 = {s[7], s[7]};
        const double *x4 = x + 4 * ld;
        for (; i + 2 <= n; i += 2) {
            v2d v = *(v2d *)(t + i);
            v -= *(const v2d *)(x + i) * s0;
            v -= *(const v2d *)(x + ld + i) * s1;
            v -= *(const v2d *)(x + 2 * ld + i) * s2;
            v -= *(const v2d *)(x + 3 * ld + i) * s3;
            v -= *(const v2d *)(x4 + i) * s4;
            v -= *(const v2d *)(x4 + ld + i) * s5;
            v -= *(const v2d *)(x4 + 2 * ld + i) * s6;
            v -= *(const v2d *)(x4 + 3 * ld + i) * s7;
            *(v2d *)(t + i) = v;
        }
    } else if (w == 1) {
        v2d s0 = {s[0], s[0]};
        for (; i + 2 <= n; i += 2)
            *(v2d *)(t + i) -= *(const v2d *)(x + i) * s0;
    } else {
        for (; i + 2 <= n; i += 2) {
            v2d v = *(v2d *)(t + i);
            for (int k = 0; k < w; k++)
                v -= *(const v2d *)(x + k * ld + i) * (v2d){s[k], s[k]};
            *(v2d *)(t + i) = v;
        }
    }
    for (; i < n; i++)
        for (int k = 0; k < w; k++)
            t[i] -= x[k * ld + i] * s[k];
}

#if defined(__x86_64__) && defined(__GNUC__)
typedef double v4d __attribute__((vector_size(32), aligned(8), may_alias));

__attribute__((target("avx2"))) static void axpy4(double *y, double alpha, const double *x,
                                                  size_t n)
{
    v4d a = {alpha, alpha, alpha, alpha};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        *(v4d *)(y + i) += a * *(const v4d *)(x + i);
        *(v4d *)(y + i + 4) += a * *(const v4d *)(x + i + 4);
    }
    for (; i + 4 <= n; i += 4)
        *(v4d *)(y + i) += a * *(const v4d *)(x + i);
    for (; i < n; i++)
        y[i] += alpha * x[i];
}

#define B4(v) {v, v, v, v}
__attribute__((target("avx2"))) static void update4(double *t, const double *x, size_t ld,
                                                    const double *s, int w, size_t n)
{
    size_t i = 0;
    if (w == 8) {
        v4d s0 = B4(s[0]), s1 = B4(s[1]), s2 = B4(s[2]), s3 = B4(s[3]);
        v4d s4 = B4(s[4]), s5 = B4(s[5]), s6 = B4(s[6]), s7 = B4(s[7]);
        const double *x4 = x + 4 * ld;
        for (; i + 4 <= n; i += 4) {
            v4d v = *(v4d *)(t + i);
            v -= *(const v4d *)(x + i) * s0;
            v -= *(const v4d *)(x + ld + i) * s1;
            v -= *(const v4d *)(x + 2 * ld + i) * s2;
            v -= *(const v4d *)(x + 3 * ld + i) * s3;
            v -= *(const v4d *)(x4 + i) * s4;
            v -= *(const v4d *)(x4 + ld + i) * s5;
            v -= *(const v4d *)(x4 + 2 * ld + i) * s6;
            v -= *(const v4d *)(x4 + 3 * ld + i) * s7;
            *(v4d *)(t + i) = v;
        }
    } else if (w == 1) {
        v4d s0 = B4(s[0]);
        for (; i + 4 <= n; i += 4)
            *(v4d *)(t + i) -= *(const v4d *)(x + i) * s0;
    } else {
        for (; i + 4 <= n; i += 4) {
            v4d v = *(v4d *)(t + i);
            for (int k = 0; k < w; k++)
                v -= *(const v4d *)(x + k * ld + i) * (v4d)B4(s[k]);
            *(v4d *)(t + i) = v;
        }
    }
    for (; i < n; i++)
        for (int k = 0; k < w; k++)
            t[i] -= x[k * ld + i] * s[k];
}
#undef B4
#define HAVE_WIDE() __builtin_cpu_supports("avx2")
#else
#define HAVE_WIDE() 0
#define axpy4 axpy2
#define update4 update2
#endif

void hvac_axpy(double *y, double alpha, const double *x, size_t n)
{
    if (HAVE_WIDE())
        axpy4(y, alpha, x, n);
    else
        axpy2(y, alpha, x, n);
}

typedef void update_fn(double *t, const double *x, size_t ld, const double *s, int w,
                       size_t n);

/* ---------------------------------------------------------------- factor and solve */

/* Column j of the factor L (stride ld), rows [from, n): A's entries, the updates by columns
 * 0..j-1, the diagonal's square root (from <= j; otherwise it is kept from before) and the
 * division by it. Rows n..n+3 are zero in every column, so the updates run on whole vectors
 * (a zero row stays zero: 0 - 0 s = 0). */
static int column(const hvac_chol *c, update_fn *update, double *L, const size_t *idx,
                  size_t n, size_t j, size_t from)
{
    size_t ld = c->stride, len = (n - from + 3) & ~(size_t)3;
    double *t = L + j * ld;
    const double *arow = c->A + idx[j] * c->d;   /* A symmetric: column idx[j] = row idx[j] */
    for (size_t i = from; i < n; i++)
        t[i] = arow[idx[i]];
    memset(t + n, 0, 4 * sizeof *t);
    for (size_t k = 0; k < j;) {
        int w = j - k >= 8 ? 8 : (int)(j - k);
        double s[8];
        for (int q = 0; q < w; q++)
            s[q] = L[(k + q) * ld + j];
        update(t + from, L + k * ld + from, ld, s, w, len);
        k += (size_t)w;
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

static size_t common_prefix(const hvac_chol_slot *s, const size_t *idx, size_t n)
{
    size_t keep = 0;
    while (keep < n && keep < s->n && s->idx[keep] == idx[keep])
        keep++;
    return keep;
}

/* The factor is made in the least recently used slot, starting from the rows of the slot
 * whose index list shares the longest start with idx (copied over when that is another). */
int hvac_chol_factor(hvac_chol *c, const size_t *idx, size_t n)
{
    hvac_chol_slot *from = NULL, *to = &c->slot[0];
    size_t keep = 0, ld = c->stride;
    for (int k = 0; k < HVAC_CHOL_SLOTS; k++) {
        hvac_chol_slot *s = &c->slot[k];
        size_t p = common_prefix(s, idx, n);
        if (p > keep) {
            keep = p;
            from = s;
        }
        if (s->used < to->used)
            to = s;
    }
    if (from && from != to)
        for (size_t j = 0; j < keep; j++)
            memcpy(to->L + j * ld + j, from->L + j * ld + j, (keep - j) * sizeof *to->L);
    if (from)
        from->used = ++c->clock;
    to->n = 0;
    c->last = NULL;
    update_fn *update = c->portable || !HAVE_WIDE() ? update2 : update4;
    for (size_t j = 0; j < n; j++)
        if (column(c, update, to->L, idx, n, j, j < keep ? keep : j) != 0)
            return -1;
    memcpy(to->idx, idx, n * sizeof *idx);
    to->n = n;
    to->used = ++c->clock;
    c->last = to;
    return 0;
}

void hvac_chol_solve(const hvac_chol *c, double *b)
{
    size_t n = c->last->n, ld = c->stride;
    const double *L = c->last->L;
    update_fn *update = c->portable || !HAVE_WIDE() ? update2 : update4;
    /* L y = b by columns: b_i -= L_ik y_k for k ascending, then y_i = b_i / L_ii */
    for (size_t k = 0; k < n; k++) {
        b[k] = b[k] / L[k * ld + k];
        double s = b[k];
        update(b + k + 1, L + k * ld + k + 1, ld, &s, 1, n - k - 1);
    }
    /* L' x = y: x_i = (y_i - sum_k>i L_ki x_k) / L_ii, column i of L contiguous */
    for (size_t i = n; i-- > 0;) {
        const double *col = L + i * ld;
        double t = b[i];
        for (size_t k = i + 1; k < n; k++)
            t -= col[k] * b[k];
        b[i] = t / col[i];
    }
}
