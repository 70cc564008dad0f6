/*
 * Matrix exponential and linear solves for the thermal model.
 *
 * expm follows Higham, "The scaling and squaring method for the matrix exponential
 * revisited" (SIAM J. Matrix Anal. Appl. 26(4), 2005): pick the lowest Pade degree
 * m in {3, 5, 7, 9, 13} whose error bound theta_m covers ||A||_1, otherwise scale A by 2^-s
 * so ||A/2^s||_1 <= theta_13, use the [13/13] approximant r = (V - U)^-1 (V + U) and square
 * s times.
 *
 * The solves are Gaussian elimination with partial pivoting written out here, in one fixed
 * order of operations, instead of LAPACK's dgesv: the dgesv a process calls is whichever
 * library exported it first (OpenBLAS, through FAISS, on Debian), and OpenBLAS picks its
 * kernels for the processor it runs on. A year of OfficeMedium demonstrations came out
 * different in every row under OPENBLAS_CORETYPE Haswell, SandyBridge, SkylakeX and Prescott
 * (by up to 1e-12), so shards of one sweep run on different machines mixed slightly different
 * physics. The systems are small (one row per zone), where a blocked library routine gains
 * nothing, and its threads spun through every demonstration generation.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot/error.h>

#include "linalg.h"

void hvac_matmul(const double *a, const double *b, double *c, size_t n, size_t k, size_t m)
{
    memset(c, 0, n * m * sizeof *c);
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < k; l++) {
            double ail = a[i * k + l];
            if (ail == 0)
                continue;
            const double *brow = b + l * m;
            double *crow = c + i * m;
            for (size_t j = 0; j < m; j++)
                crow[j] += ail * brow[j];
        }
}

double hvac_norm1(const double *a, size_t n)
{
    double best = 0;
    for (size_t j = 0; j < n; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += fabs(a[i * n + j]);
        if (s > best || isnan(s))
            best = s;
    }
    return best;
}

/* The row of the largest |lu[i][k]|, i >= k (the first of equals, as LAPACK's idamax). */
static size_t pivot_row(const double *lu, size_t n, size_t k)
{
    size_t best = k;
    double top = fabs(lu[k * n + k]);
    for (size_t i = k + 1; i < n; i++)
        if (fabs(lu[i * n + k]) > top) {
            top = fabs(lu[i * n + k]);
            best = i;
        }
    return best;
}

static void swap_rows(double *x, size_t cols, size_t i, size_t j)
{
    for (size_t c = 0; c < cols; c++) {
        double t = x[i * cols + c];
        x[i * cols + c] = x[j * cols + c];
        x[j * cols + c] = t;
    }
}

int hvac_solve(const double *a, size_t n, double *b, size_t m)
{
    double *lu = malloc(n * n * sizeof *lu);
    if (!lu)
        return fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
    memcpy(lu, a, n * n * sizeof *lu);
    /* forward: eliminate column k below the pivot, in lu and in b alike */
    for (size_t k = 0; k < n; k++) {
        size_t p = pivot_row(lu, n, k);
        if (lu[p * n + k] == 0) {
            free(lu);
            return fewshot_error_set(FEWSHOT_ERANGE, "hvac: singular matrix in a linear solve "
                                     "(a zero pivot in column %zu of %zu)", k + 1, n);
        }
        if (p != k) {
            swap_rows(lu, n, p, k);
            swap_rows(b, m, p, k);
        }
        double pivot = lu[k * n + k];
        for (size_t i = k + 1; i < n; i++) {
            double l = lu[i * n + k] / pivot;
            if (l == 0)
                continue;
            for (size_t j = k + 1; j < n; j++)
                lu[i * n + j] -= l * lu[k * n + j];
            for (size_t j = 0; j < m; j++)
                b[i * m + j] -= l * b[k * m + j];
        }
    }
    /* back: row i of x from the rows below it */
    for (size_t i = n; i-- > 0;) {
        for (size_t k = i + 1; k < n; k++) {
            double u = lu[i * n + k];
            for (size_t j = 0; j < m; j++)
                b[i * m + j] -= u * b[k * m + j];
        }
        for (size_t j = 0; j < m; j++)
            b[i * m + j] /= lu[i * n + i];
    }
    free(lu);
    return 0;
}

/* Pade coefficients b_0..b_13 of degree 13, and the lower degrees (Higham 2005, table 2.3). */
static const double pade13[] = {
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
    129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
    40840800.0, 960960.0, 16380.0, 182.0, 1.0};
static const double pade3[] = {120.0, 60.0, 12.0, 1.0};
static const double pade5[] = {30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0};
static const double pade7[] = {17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0,
                               56.0, 1.0};
static const double pade9[] = {17643225600.0, 8821612800.0, 2075673600.0, 302702400.0,
                               30270240.0, 2162160.0, 110880.0, 3960.0, 90.0, 1.0};
/* theta_m: the largest ||A||_1 for which degree m reaches double precision. */
static const double theta[] = {1.495585217958292e-2, 2.539398330063230e-1,
                               9.504178996162932e-1, 2.097847961257068e0, 5.371920351148152e0};

static void axpy(double *y, double alpha, const double *x, size_t len)
{
    for (size_t i = 0; i < len; i++)
        y[i] += alpha * x[i];
}

int hvac_expm(const double *a, size_t n, double *out)
{
    size_t nn = n * n;
    for (size_t i = 0; i < nn; i++)
        if (!isfinite(a[i]))
            return fewshot_error_set(FEWSHOT_ERANGE, "hvac: expm of a matrix with a "
                                     "non-finite element (%zu, %zu)", i / n, i % n);
    double *work = calloc(8 * nn, sizeof *work);
    if (!work)
        return fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
    double *A = work, *A2 = work + nn, *A4 = work + 2 * nn, *A6 = work + 3 * nn;
    double *U = work + 4 * nn, *V = work + 5 * nn, *T = work + 6 * nn, *T2 = work + 7 * nn;
    double norm = hvac_norm1(a, n);
    int s = 0;
    const double *b = NULL;
    int m = 13;
    static const int degrees[] = {3, 5, 7, 9};
    static const double *const coefs[] = {pade3, pade5, pade7, pade9};
    for (int k = 0; k < 4; k++)
        if (norm <= theta[k]) {
            m = degrees[k];
            b = coefs[k];
            break;
        }
    memcpy(A, a, nn * sizeof *A);
    if (m == 13) {
        b = pade13;
        if (norm > theta[4]) {
            s = (int)ceil(log2(norm / theta[4]));
            double scale = ldexp(1.0, -s);
            for (size_t i = 0; i < nn; i++)
                A[i] *= scale;
        }
    }
    hvac_matmul(A, A, A2, n, n, n);
    memset(U, 0, nn * sizeof *U);
    memset(V, 0, nn * sizeof *V);
    if (m == 13) {
        hvac_matmul(A2, A2, A4, n, n, n);
        hvac_matmul(A4, A2, A6, n, n, n);
        /* U = A [A6 (b13 A6 + b11 A4 + b9 A2) + b7 A6 + b5 A4 + b3 A2 + b1 I] */
        memset(T, 0, nn * sizeof *T);
        axpy(T, b[13], A6, nn);
        axpy(T, b[11], A4, nn);
        axpy(T, b[9], A2, nn);
        hvac_matmul(A6, T, T2, n, n, n);
        axpy(T2, b[7], A6, nn);
        axpy(T2, b[5], A4, nn);
        axpy(T2, b[3], A2, nn);
        for (size_t i = 0; i < n; i++)
            T2[i * n + i] += b[1];
        hvac_matmul(A, T2, U, n, n, n);
        /* V = A6 (b12 A6 + b10 A4 + b8 A2) + b6 A6 + b4 A4 + b2 A2 + b0 I */
        memset(T, 0, nn * sizeof *T);
        axpy(T, b[12], A6, nn);
        axpy(T, b[10], A4, nn);
        axpy(T, b[8], A2, nn);
        hvac_matmul(A6, T, V, n, n, n);
        axpy(V, b[6], A6, nn);
        axpy(V, b[4], A4, nn);
        axpy(V, b[2], A2, nn);
        for (size_t i = 0; i < n; i++)
            V[i * n + i] += b[0];
    } else {
        /* powers A^2, A^4, ... accumulated: odd coefficients into U (times A), even into V */
        double *P = A4;
        memset(T, 0, nn * sizeof *T);
        for (size_t i = 0; i < n; i++) {
            T[i * n + i] = b[1];
            V[i * n + i] = b[0];
        }
        memcpy(P, A2, nn * sizeof *P);
        for (int k = 2; k <= m; k += 2) {
            axpy(V, b[k], P, nn);
            axpy(T, b[k + 1], P, nn);
            if (k + 2 <= m) {
                hvac_matmul(P, A2, A6, n, n, n);
                memcpy(P, A6, nn * sizeof *P);
            }
        }
        hvac_matmul(A, T, U, n, n, n);
    }
    /* (V - U) r = (V + U) */
    for (size_t i = 0; i < nn; i++) {
        T[i] = V[i] - U[i];
        out[i] = V[i] + U[i];
    }
    int rc = hvac_solve(T, n, out, n);
    for (int k = 0; rc == 0 && k < s; k++) {
        hvac_matmul(out, out, T, n, n, n);
        memcpy(out, T, nn * sizeof *out);
    }
    free(work);
    return rc;
}
