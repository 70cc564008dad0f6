/*
 * hvac: small dense linear algebra for the thermal model: the matrix exponential (scaling and
 * squaring with the degree-13 Pade approximant, Higham 2005) and linear solves (Gaussian
 * elimination with partial pivoting, the same operations on every processor). Matrices are
 * square, row-major, n x n.
 */
#ifndef HVAC_LINALG_H
#define HVAC_LINALG_H

#include <stddef.h>

/* out = expm(a) (n x n, row-major; out may not alias a). 0, or FEWSHOT_ENOMEM /
 * FEWSHOT_ERANGE (non-finite input or a singular Pade denominator) with the error set. */
int hvac_expm(const double *a, size_t n, double *out);

/* Solve a x = b for x, b is n x m row-major and is overwritten by x; a is not modified.
 * FEWSHOT_ERANGE when a is singular. */
int hvac_solve(const double *a, size_t n, double *b, size_t m);

/* c = a (n x k) * b (k x m), all row-major; c must not alias a or b. */
void hvac_matmul(const double *a, const double *b, double *c, size_t n, size_t k, size_t m);

/* The 1-norm (max column sum) of an n x n matrix. */
double hvac_norm1(const double *a, size_t n);

#endif
