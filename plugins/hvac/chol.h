/*
 * hvac: Cholesky factors of principal submatrices of one fixed symmetric positive definite
 * matrix, for the MPC's Newton steps on the free actions.
 *
 * Every element of the factor is computed with exactly the operations, in exactly the order,
 * of the textbook algorithm (L_ij = (A_ij - sum_k<j L_ik L_jk) / L_jj, k ascending), so the
 * result is bit-identical to it. What changes is the layout (columns contiguous, so the
 * updates run on two or four rows at once) and the reuse: row i of L depends only on the
 * first i + 1 indices, so a factorization whose index list starts like an earlier one keeps
 * those leading rows. The MPC's free sets start alike across its rounds and its decisions
 * (the first hours' free actions), so several recent factors are kept to start from. Past
 * the common start, element (i, j) depends only on the first j + 1 indices and the i-th, so
 * a later row whose index the earlier list also holds (past the common start) keeps its
 * first elements too: an index added to or dropped from the free set costs only the columns
 * from the first difference on, not the rows.
 */
#ifndef HVAC_CHOL_H
#define HVAC_CHOL_H

#include <stddef.h>

/* Recent factors kept (each d x d doubles). */
#define HVAC_CHOL_SLOTS 8

typedef struct hvac_chol_slot {
    double *L;          /* L_ik at L[k * stride + i] (column k contiguous), i >= k */
    size_t *idx;        /* its index list (n of them); n = 0: empty */
    size_t n;
    unsigned long used; /* when last made or used (least recently used is replaced) */
} hvac_chol_slot;

typedef struct hvac_chol {
    const double *A;    /* d x d, row-major, symmetric (borrowed) */
    size_t d, stride;   /* stride = d + 4: columns have zero rows past n for whole vectors */
    hvac_chol_slot slot[HVAC_CHOL_SLOTS];
    hvac_chol_slot *last;   /* the slot holding the last factor (its first last_n rows), or NULL */
    size_t last_n;
    double *fresh_L;    /* scratch: the leading columns of the rows without an earlier copy */
    size_t *run;        /* scratch: runs of rows found in the earlier factor (3 values each) */
    size_t *fresh;      /* scratch: the rows without an earlier copy */
    unsigned long clock;
    int portable;       /* 1: never the CPU-specific (AVX2) path; the same bits, for tests */
} hvac_chol;

/* 0, or -1 out of memory. */
int hvac_chol_init(hvac_chol *c, const double *A, size_t d);
void hvac_chol_free(hvac_chol *c);

/* Factor A[idx, idx] (n distinct indices < d; ascending lists reuse the most). 0, or -1 when
 * the submatrix is not positive definite (that factor is not kept). */
int hvac_chol_factor(hvac_chol *c, const size_t *idx, size_t n);

/* Solve A[idx, idx] x = b in place with the last factor (b: its n values). The factor's
 * L_ik is at c->last->L[k * stride + i]. */
void hvac_chol_solve(const hvac_chol *c, double *b);

/* y += alpha x (n values), each element's one multiply and add as written (AVX2 where the
 * CPU has it, the same bits). */
void hvac_axpy(double *y, double alpha, const double *x, size_t n);

/* hvac_axpy for a few values (n <= 8 or so), inline: two lanes at a time, the same bits. */
static inline void hvac_axpy_short(double *y, double alpha, const double *x, size_t n)
{
    typedef double v2 __attribute__((vector_size(16), aligned(8), may_alias));
    v2 a = {alpha, alpha};
    size_t i = 0;
    if (n == 8) {       /* the common case, unrolled */
        *(v2 *)y += a * *(const v2 *)x;
        *(v2 *)(y + 2) += a * *(const v2 *)(x + 2);
        *(v2 *)(y + 4) += a * *(const v2 *)(x + 4);
        *(v2 *)(y + 6) += a * *(const v2 *)(x + 6);
        return;
    }
    for (; i + 2 <= n; i += 2)
        *(v2 *)(y + i) += a * *(const v2 *)(x + i);
    for (; i < n; i++)
        y[i] += alpha * x[i];
}

/* y += alpha_0 x_0, then += alpha_1 x_1, ... (w rows of n values): each element gets the
 * same multiplies and adds in the same order as w calls of hvac_axpy, in one pass over y. */
void hvac_axpys(double *y, size_t n, size_t w, const double *alpha, const double *const *x);

#endif
