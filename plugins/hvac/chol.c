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

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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
    c->fresh_L = calloc(c->stride * d + 1, sizeof *c->fresh_L);
    c->run = malloc((3 * d + 1) * sizeof *c->run);
    c->fresh = malloc((d + 1) * sizeof *c->fresh);
    if (!c->fresh_L || !c->run || !c->fresh) {
        hvac_chol_free(c);
        return -1;
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
    free(c->fresh_L);
    free(c->run);
    free(c->fresh);
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- kernels */

/* Two doubles in one SIMD register, loadable from any double address (as in model.c). */
typedef double v2d __attribute__((vector_size(16), aligned(8), may_alias));

/* The kernels taking w rows (w <= 8) are written once for any w and instantiated for each w
 * by a switch, so the loop over the rows unrolls into registers (multipliers broadcast once,
 * not reloaded: the output may alias them as far as the compiler knows). */
#define UNROLL _Pragma("GCC unroll 8")
#define INLINE static inline __attribute__((always_inline))
#define EACH_W(CALL) \
    switch (w) { \
    case 1: CALL(1); break; \
    case 2: CALL(2); break; \
    case 3: CALL(3); break; \
    case 4: CALL(4); break; \
    case 5: CALL(5); break; \
    case 6: CALL(6); break; \
    case 7: CALL(7); break; \
    default: CALL(8); break; \
    }

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

/* Scalar tails of the kernels below, in their order. */
INLINE void axpys_tail(double *y, size_t i, size_t n, int w, const double *a,
                       const double *const *x)
{
    for (; i < n; i++)
        UNROLL for (int k = 0; k < w; k++)
            y[i] += a[k] * x[k][i];
}

INLINE void update_tail(double *t, size_t i, const double *x, size_t ld, const double *s, int w,
                        size_t n)
{
    for (; i < n; i++)
        UNROLL for (int k = 0; k < w; k++)
            t[i] -= x[k * ld + i] * s[k];
}

/* y_i += a_0 x0_i, then += a_1 x1_i, ... (w rows), each term rounded as one axpy rounds it:
 * y stays in a register across the w rows. */
INLINE void axpys2_w(double *y, size_t n, int w, const double *a, const double *const *x)
{
    v2d av[8];
    const double *xp[8];
    UNROLL for (int k = 0; k < w; k++) {
        av[k] = (v2d){a[k], a[k]};
        xp[k] = x[k];
    }
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        v2d v = *(v2d *)(y + i);
        UNROLL for (int k = 0; k < w; k++)
            v += av[k] * *(const v2d *)(xp[k] + i);
        *(v2d *)(y + i) = v;
    }
    axpys_tail(y, i, n, w, a, xp);
}

static void axpys2(double *y, size_t n, int w, const double *a, const double *const *x)
{
#define CALL(W) axpys2_w(y, n, W, a, x)
    EACH_W(CALL)
#undef CALL
}

/* t_i -= x_i s_0, then -= x_(ld + i) s_1, ...: the updates of one column by w earlier ones
 * (columns ld apart), in column order, t kept in a register across them. */
INLINE void update2_w(double *t, const double *x, size_t ld, const double *s, int w, size_t n)
{
    v2d sv[8];
    UNROLL for (int k = 0; k < w; k++)
        sv[k] = (v2d){s[k], s[k]};
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        v2d v = *(v2d *)(t + i);
        UNROLL for (int k = 0; k < w; k++)
            v -= *(const v2d *)(x + k * ld + i) * sv[k];
        *(v2d *)(t + i) = v;
    }
    update_tail(t, i, x, ld, s, w, n);
}

static void update2(double *t, const double *x, size_t ld, const double *s, int w, size_t n)
{
#define CALL(W) update2_w(t, x, ld, s, W, n)
    EACH_W(CALL)
#undef CALL
}

#if defined(__x86_64__) && defined(__GNUC__)
typedef double v4d __attribute__((vector_size(32), aligned(8), may_alias));
#define AVX2 __attribute__((target("avx2")))

AVX2 static void axpy4(double *y, double alpha, const double *x, size_t n)
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
INLINE AVX2 void axpys4_w(double *y, size_t n, int w, const double *a, const double *const *x)
{
    v4d av[8];
    const double *xp[8];
    UNROLL for (int k = 0; k < w; k++) {
        av[k] = (v4d)B4(a[k]);
        xp[k] = x[k];
    }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {       /* two vectors a turn: half the loop's overhead */
        v4d v = *(v4d *)(y + i), u = *(v4d *)(y + i + 4);
        UNROLL for (int k = 0; k < w; k++) {
            v += av[k] * *(const v4d *)(xp[k] + i);
            u += av[k] * *(const v4d *)(xp[k] + i + 4);
        }
        *(v4d *)(y + i) = v;
        *(v4d *)(y + i + 4) = u;
    }
    for (; i + 4 <= n; i += 4) {
        v4d v = *(v4d *)(y + i);
        UNROLL for (int k = 0; k < w; k++)
            v += av[k] * *(const v4d *)(xp[k] + i);
        *(v4d *)(y + i) = v;
    }
    axpys_tail(y, i, n, w, a, xp);
}

AVX2 static void axpys4(double *y, size_t n, int w, const double *a, const double *const *x)
{
#define CALL(W) axpys4_w(y, n, W, a, x)
    EACH_W(CALL)
#undef CALL
}

INLINE AVX2 void update4_w(double *t, const double *x, size_t ld, const double *s, int w,
                           size_t n)
{
    v4d sv[8];
    UNROLL for (int k = 0; k < w; k++)
        sv[k] = (v4d)B4(s[k]);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v4d v = *(v4d *)(t + i);
        UNROLL for (int k = 0; k < w; k++)
            v -= *(const v4d *)(x + k * ld + i) * sv[k];
        *(v4d *)(t + i) = v;
    }
    update_tail(t, i, x, ld, s, w, n);
}

AVX2 static void update4(double *t, const double *x, size_t ld, const double *s, int w,
                         size_t n)
{
#define CALL(W) update4_w(t, x, ld, s, W, n)
    EACH_W(CALL)
#undef CALL
}
#undef B4

/* t_i = a[idx_i] (n values), four loads in one instruction. */
AVX2 static void gather4(double *t, const double *a, const size_t *idx, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256i at = _mm256_loadu_si256((const __m256i *)(const void *)(idx + i));
        _mm256_storeu_pd(t + i, _mm256_i64gather_pd(a, at, 8));
    }
    for (; i < n; i++)
        t[i] = a[idx[i]];
}
#define HAVE_WIDE() __builtin_cpu_supports("avx2")
#else
#define HAVE_WIDE() 0
#define axpy4 axpy2
#define axpys4 axpys2
#define update4 update2
#endif

void hvac_axpy(double *y, double alpha, const double *x, size_t n)
{
    if (HAVE_WIDE())
        axpy4(y, alpha, x, n);
    else
        axpy2(y, alpha, x, n);
}

void hvac_axpys(double *y, size_t n, size_t w, const double *alpha, const double *const *x)
{
    int wide = HAVE_WIDE();
    for (size_t k = 0; k < w; k += 8) {
        int m = w - k >= 8 ? 8 : (int)(w - k);
        if (wide)
            axpys4(y, n, m, alpha + k, x + k);
        else
            axpys2(y, n, m, alpha + k, x + k);
    }
}

typedef void update_fn(double *t, const double *x, size_t ld, const double *s, int w,
                       size_t n);

/* ---------------------------------------------------------------- factor and solve */

/* The updates of t (a column's rows, len of them rounded up to whole vectors) by columns
 * 0..j-1 of x (ld apart), the multipliers s_k = L_jk read from row j of the factor L, eight
 * at a time; one function per vector width so the eight-column kernel is inlined. */
#define UPDATE_BY_ROW(KERNEL_W, KERNEL) \
    size_t k = 0; \
    double s[8]; \
    for (; k + 8 <= j; k += 8) { \
        UNROLL for (int q = 0; q < 8; q++) \
            s[q] = L[(k + q) * ldl + j]; \
        KERNEL_W(t, x + k * ld, ld, s, 8, len); \
    } \
    if (k < j) { \
        int w = (int)(j - k); \
        for (int q = 0; q < w; q++) \
            s[q] = L[(k + q) * ldl + j]; \
        KERNEL(t, x + k * ld, ld, s, w, len); \
    }

static void gather2(double *t, const double *a, const size_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        t[i] = a[idx[i]];
}

typedef void by_row_fn(double *t, const double *x, size_t ld, const double *L, size_t ldl,
                       size_t j, size_t len);

static void update_by_row2(double *t, const double *x, size_t ld, const double *L, size_t ldl,
                           size_t j, size_t len)
{
    UPDATE_BY_ROW(update2_w, update2)
}

#if defined(__x86_64__) && defined(__GNUC__)
AVX2 static void update_by_row4(double *t, const double *x, size_t ld, const double *L,
                                size_t ldl, size_t j, size_t len)
{
    UPDATE_BY_ROW(update4_w, update4)
}
#else
#define update_by_row4 update_by_row2
#define gather4 gather2
#endif
#undef UPDATE_BY_ROW

/* t_i = t_i / l (n values): a division rounds the same in any lane. */
static void divide(double *t, double l, size_t n)
{
    v2d lv = {l, l};
    size_t i = 0;
    for (; i + 2 <= n; i += 2)
        *(v2d *)(t + i) = *(v2d *)(t + i) / lv;
    for (; i < n; i++)
        t[i] = t[i] / l;
}

static void zero4(double *t)
{
    t[0] = t[1] = t[2] = t[3] = 0;
}

/* Column j of the factor L (stride ld), rows j..n-1: A's entries, the updates by columns
 * 0..j-1, the diagonal's square root and the division by it. Rows n..n+3 are zero in every
 * column, so the updates run on whole vectors (a zero row stays zero: 0 - 0 s = 0). */
static int column(const hvac_chol *c, by_row_fn *update_by_row, double *L, const size_t *idx,
                  size_t n, size_t j)
{
    size_t ld = c->stride, len = (n - j + 3) & ~(size_t)3;
    double *t = L + j * ld;
    const double *arow = c->A + idx[j] * c->d;   /* A symmetric: column idx[j] = row idx[j] */
    (update_by_row == update_by_row4 ? gather4 : gather2)(t + j, arow, idx + j, n - j);
    zero4(t + n);
    update_by_row(t + j, L + j, ld, L, ld, j, len);
    if (!(t[j] > 0))
        return -1;
    t[j] = sqrt(t[j]);
    divide(t + j + 1, t[j], n - j - 1);
    return 0;
}

static size_t common_prefix(const hvac_chol_slot *s, const size_t *idx, size_t n)
{
    size_t keep = 0;
    while (keep < n && keep < s->n && s->idx[keep] == idx[keep])
        keep++;
    return keep;
}

/* Where the rows i >= keep of the new list sit in the start's list past keep (both ascending:
 * one merge), as runs of consecutive rows in both (c->run: new first row, old first row,
 * length); the rows without a place are listed in c->fresh. Returns how many runs. */
static size_t place_rows(hvac_chol *c, const hvac_chol_slot *from, const size_t *idx, size_t n,
                         size_t keep, size_t *nfresh)
{
    size_t q = keep, runs = 0, *run = c->run;
    *nfresh = 0;
    for (size_t i = keep; i < n; i++) {
        while (q < from->n && from->idx[q] < idx[i])
            q++;
        if (q < from->n && from->idx[q] == idx[i]) {
            if (runs && run[3 * runs - 3] + run[3 * runs - 1] == i &&
                run[3 * runs - 2] + run[3 * runs - 1] == q)
                run[3 * runs - 1]++;
            else {
                run[3 * runs] = i;
                run[3 * runs + 1] = q;
                run[3 * runs + 2] = 1;
                runs++;
            }
            q++;
        } else
            c->fresh[(*nfresh)++] = i;
    }
    return runs;
}

/* Columns 0..keep-1 of rows keep..n-1: copied from the start's rows of the same index, the
 * other rows computed as column() would, on a block of their own (c->fresh_L, whole vectors
 * again thanks to four zero rows past them). */
static void fill_rectangle(hvac_chol *c, by_row_fn *update_by_row, const hvac_chol_slot *from,
                           double *L, const size_t *idx, size_t n, size_t keep, size_t runs,
                           size_t nfresh)
{
    size_t ld = c->stride, fs = nfresh + 4, len = (nfresh + 3) & ~(size_t)3;
    const size_t *run = c->run;
    for (size_t j = 0; j < keep; j++) {
        const double *old = from->L + j * ld;
        double *t = L + j * ld;
        for (size_t r = 0; r < runs; r++)
            memcpy(t + run[3 * r], old + run[3 * r + 1], run[3 * r + 2] * sizeof *t);
        zero4(t + n);
        if (nfresh == 0)
            continue;
        double *e = c->fresh_L + j * fs;
        const double *arow = c->A + idx[j] * c->d;
        for (size_t p = 0; p < nfresh; p++)
            e[p] = arow[idx[c->fresh[p]]];
        zero4(e + nfresh);
        update_by_row(e, c->fresh_L, fs, L, ld, j, len);
        double l = t[j];
        for (size_t p = 0; p < nfresh; p++)
            t[c->fresh[p]] = e[p] = e[p] / l;
    }
}

/* The factor starts from the slot whose index list shares the longest start with idx: when
 * that is all of idx, its leading rows are the factor; otherwise the factor is made in the
 * least recently used other slot from its leading rows and the leading columns of the later
 * rows it also holds. */
_Static_assert(HVAC_CHOL_SLOTS >= 2, "a factor is made in a slot other than its start's");

int hvac_chol_factor(hvac_chol *c, const size_t *idx, size_t n)
{
    hvac_chol_slot *from = NULL, *to = NULL;
    size_t keep = 0, ld = c->stride;
    for (int k = 0; k < HVAC_CHOL_SLOTS; k++) {
        hvac_chol_slot *s = &c->slot[k];
        if (from && (keep >= s->n || keep == n || s->idx[keep] != idx[keep]))
            continue;   /* its common start is at most keep long */
        size_t p = common_prefix(s, idx, n);
        if (p > keep) {
            keep = p;
            from = s;
        }
    }
    c->last = NULL;
    if (from)
        from->used = ++c->clock;
    if (keep == n && n > 0) {
        c->last = from;
        c->last_n = n;
        return 0;
    }
    for (int k = 0; k < HVAC_CHOL_SLOTS; k++)
        if (&c->slot[k] != from && (!to || c->slot[k].used < to->used))
            to = &c->slot[k];
    by_row_fn *update = c->portable || !HAVE_WIDE() ? update_by_row2 : update_by_row4;
    to->n = 0;
    if (from) {
        size_t nfresh, runs = place_rows(c, from, idx, n, keep, &nfresh);
        for (size_t j = 0; j < keep; j++)
            memcpy(to->L + j * ld + j, from->L + j * ld + j, (keep - j) * sizeof *to->L);
        fill_rectangle(c, update, from, to->L, idx, n, keep, runs, nfresh);
    }
    for (size_t j = keep; j < n; j++)
        if (column(c, update, to->L, idx, n, j) != 0)
            return -1;
    memcpy(to->idx, idx, n * sizeof *idx);
    to->n = n;
    to->used = ++c->clock;
    c->last = to;
    c->last_n = n;
    return 0;
}

void hvac_chol_solve(const hvac_chol *c, double *b)
{
    size_t n = c->last_n, ld = c->stride;
    const double *L = c->last->L;
    update_fn *update = c->portable || !HAVE_WIDE() ? update2 : update4;
    /* L y = b by columns: b_i -= L_ik y_k for k ascending, then y_i = b_i / L_ii; eight
     * columns at a time, their updates of the later rows in one pass */
    for (size_t k0 = 0; k0 < n; k0 += 8) {
        size_t e = k0 + 8 < n ? k0 + 8 : n;
        for (size_t k = k0; k < e; k++) {
            const double *col = L + k * ld;
            b[k] = b[k] / col[k];
            for (size_t i = k + 1; i < e; i++)
                b[i] -= col[i] * b[k];
        }
        if (e < n)
            update(b + e, L + k0 * ld + e, ld, b + k0, (int)(e - k0), n - e);
    }
    /* L' x = y: x_i = (y_i - sum_k>i L_ki x_k) / L_ii, column i of L contiguous */
    for (size_t i = n; i-- > 0;) {
        const double *col = L + i * ld;
        double t = b[i];
        size_t k = i + 1;
        for (; k + 4 <= n; k += 4) {    /* unrolled, the subtractions still one by one */
            t -= col[k] * b[k];
            t -= col[k + 1] * b[k + 1];
            t -= col[k + 2] * b[k + 2];
            t -= col[k + 3] * b[k + 3];
        }
        for (; k < n; k++)
            t -= col[k] * b[k];
        b[i] = t / col[i];
    }
}
