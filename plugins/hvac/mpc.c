/*
 * Model predictive control: condensed box- and L1-regularised QP solved by FISTA.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot/error.h>

#include "linalg.h"
#include "mpc.h"

void hvac_mpc_free(hvac_mpc *mpc)
{
    if (!mpc)
        return;
    free(mpc->G);
    free(mpc->H);
    free(mpc->plan);
    free(mpc->work);
    memset(mpc, 0, sizeof *mpc);
}

void hvac_mpc_reset(hvac_mpc *mpc)
{
    memset(mpc->plan, 0, mpc->dim * sizeof *mpc->plan);
}

/* Largest eigenvalue of the symmetric positive semi-definite H by power iteration. */
static double largest_eigenvalue(const double *H, size_t d, double *v, double *w)
{
    for (size_t i = 0; i < d; i++)
        v[i] = 1.0 / sqrt((double)d) * (1.0 + 0.01 * (double)(i % 7));
    double lambda = 0;
    for (int it = 0; it < 500; it++) {
        hvac_matmul(H, v, w, d, d, 1);
        double norm = 0;
        for (size_t i = 0; i < d; i++)
            norm += w[i] * w[i];
        norm = sqrt(norm);
        if (norm == 0)
            return 0;
        for (size_t i = 0; i < d; i++)
            v[i] = w[i] / norm;
        if (fabs(norm - lambda) <= 1e-10 * norm) {
            lambda = norm;
            break;
        }
        lambda = norm;
    }
    return lambda;
}

int hvac_mpc_init(hvac_mpc *mpc, const hvac_model *model, size_t horizon, double q, double r,
                  double target)
{
    size_t n = model->n, m = model->m, d = n * horizon;
    memset(mpc, 0, sizeof *mpc);
    mpc->model = model;
    mpc->n = n;
    mpc->horizon = horizon;
    mpc->dim = d;
    mpc->q = q;
    mpc->r = r;
    mpc->target = target;
    mpc->tol = 1e-6;
    mpc->max_iter = 2000;
    mpc->G = calloc(d * d, sizeof *mpc->G);
    mpc->H = calloc(d * d, sizeof *mpc->H);
    mpc->plan = calloc(d, sizeof *mpc->plan);
    mpc->work = calloc(6 * d + n * n + 2 * n, sizeof *mpc->work);
    if (!mpc->G || !mpc->H || !mpc->plan || !mpc->work) {
        hvac_mpc_free(mpc);
        return fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
    }
    /* Block (k, j) of G, j <= k: Ad^(k-j) Ba, Ba = the action columns of Bd. */
    double *P = calloc(n * n, sizeof *P), *T = calloc(n * n, sizeof *T);
    if (!P || !T) {
        free(P);
        free(T);
        hvac_mpc_free(mpc);
        return fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            P[i * n + j] = model->Bd[i * m + HVAC_U_ACT + j];
    for (size_t lag = 0; lag < horizon; lag++) {
        for (size_t k = lag; k < horizon; k++) {
            size_t j = k - lag;
            for (size_t i = 0; i < n; i++)
                memcpy(mpc->G + (k * n + i) * d + j * n, P + i * n, n * sizeof *P);
        }
        hvac_matmul(model->Ad, P, T, n, n, n);
        memcpy(P, T, n * n * sizeof *P);
    }
    free(P);
    free(T);
    /* H = 2 q G'G */
    for (size_t a = 0; a < d; a++)
        for (size_t b = a; b < d; b++) {
            double s = 0;
            for (size_t k = 0; k < d; k++)
                s += mpc->G[k * d + a] * mpc->G[k * d + b];
            mpc->H[a * d + b] = mpc->H[b * d + a] = 2 * q * s;
        }
    mpc->lipschitz = largest_eigenvalue(mpc->H, d, mpc->work, mpc->work + d);
    if (!(mpc->lipschitz > 0))
        mpc->lipschitz = 1;
    return 0;
}

static double prox(double v, double thresh)
{
    double s = v > thresh ? v - thresh : v < -thresh ? v + thresh : 0.0;
    return s > 1 ? 1 : s < -1 ? -1 : s;
}

int hvac_mpc_solve(hvac_mpc *mpc, const double *x0, const double *exo, double *action)
{
    const hvac_model *model = mpc->model;
    size_t n = mpc->n, m = model->m, d = mpc->dim, N = mpc->horizon;
    double *g0 = mpc->work, *y = g0 + d, *a = y + d, *a_prev = a + d, *grad = a_prev + d;
    double *f = grad + d, *x = f + d, *xn = x + n;
    /* free response f (a = 0), then the constant part of the gradient: 2 q G'(f - T) */
    memcpy(x, x0, n * sizeof *x);
    for (size_t k = 0; k < N; k++) {
        const double *u = exo + k * m;
        for (size_t i = 0; i < n; i++) {
            const double *arow = model->Ad + i * n, *brow = model->Bd + i * m;
            double s = 0;
            for (size_t j = 0; j < n; j++)
                s += arow[j] * x[j];
            for (size_t j = 0; j < HVAC_U_ACT; j++)
                s += brow[j] * u[j];
            s += brow[m - 1] * u[m - 1];
            xn[i] = s;
        }
        memcpy(x, xn, n * sizeof *x);
        for (size_t i = 0; i < n; i++)
            f[k * n + i] = x[i] - mpc->target;
    }
    for (size_t b = 0; b < d; b++) {
        double s = 0;
        for (size_t k = b - b % n; k < d; k++)  /* G is block lower triangular */
            s += mpc->G[k * d + b] * f[k];
        g0[b] = 2 * mpc->q * s;
    }
    /* warm start: the previous plan shifted by one step */
    memmove(a, mpc->plan + n, (d - n) * sizeof *a);
    memcpy(a + d - n, mpc->plan + d - n, n * sizeof *a);
    memcpy(y, a, d * sizeof *y);
    double t = 1, step = 1.0 / mpc->lipschitz, thresh = mpc->r * step;
    int it;
    for (it = 1; it <= mpc->max_iter; it++) {
        hvac_matmul(mpc->H, y, grad, d, d, 1);
        memcpy(a_prev, a, d * sizeof *a);
        double change = 0, restart = 0;
        for (size_t i = 0; i < d; i++) {
            a[i] = prox(y[i] - step * (grad[i] + g0[i]), thresh);
            double diff = a[i] - a_prev[i];
            change += (y[i] - a[i]) * (y[i] - a[i]);
            restart += (y[i] - a[i]) * diff;
        }
        /* gradient-mapping norm, scaled to action units */
        if (sqrt(change) < mpc->tol)
            break;
        double t_next = 0.5 * (1 + sqrt(1 + 4 * t * t));
        if (restart > 0) {  /* adaptive restart (O'Donoghue and Candes) */
            t_next = 1;
            memcpy(y, a, d * sizeof *y);
        } else {
            double beta = (t - 1) / t_next;
            for (size_t i = 0; i < d; i++)
                y[i] = a[i] + beta * (a[i] - a_prev[i]);
        }
        t = t_next;
    }
    mpc->last_iter = it;
    memcpy(mpc->plan, a, d * sizeof *a);
    memcpy(action, a, n * sizeof *action);
    return 0;
}
