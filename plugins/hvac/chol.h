/*
 * hvac: Cholesky factors of principal submatrices of one fixed symmetric positive definite
 * matrix, for the MPC's Newton steps on the free actions.
 *
 * Every element of the factor is computed with exactly the operations, in exactly the order,
 * of the textbook algorithm (L_ij = (A_ij - sum_k<j L_ik L_jk) / L_jj, k ascending), so the
 * result is bit-identical to it; what changes is the layout (columns contiguous, so the
 * updates run two elements at a time on SSE2) and that a factorization whose index list
 * starts like the previous one keeps those leading rows: row i of L depends only on the
 * first i + 1 indices.
 */
#ifndef HVAC_CHOL_H
#define HVAC_CHOL_H

#include <stddef.h>

typedef struct hvac_chol {
    const double *A;    /* d x d, row-major, symmetric (borrowed) */
    size_t d;
    double *L;          /* d x d: L_ik at L[k * d + i] (column k contiguous), i >= k */
    size_t *idx;        /* the factored index list (n of them) */
    size_t n;           /* 0: nothing to reuse */
} hvac_chol;

/* 0, or -1 out of memory. */
int hvac_chol_init(hvac_chol *c, const double *A, size_t d);
void hvac_chol_free(hvac_chol *c);

/* Factor A[idx, idx] (n ascending-or-not distinct indices < d). 0, or -1 when the submatrix
 * is not positive definite (nothing is kept for reuse then). */
int hvac_chol_factor(hvac_chol *c, const size_t *idx, size_t n);

/* Solve A[idx, idx] x = b in place with the last factor (b: n values). */
void hvac_chol_solve(const hvac_chol *c, double *b);

/* y += alpha x (n values), each element's one multiply and add as written. */
void hvac_axpy(double *y, double alpha, const double *x, size_t n);

#endif
