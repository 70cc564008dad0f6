/*
 * Model predictive control: condensed box- and L1-regularised QP (active-set or FISTA).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot/error.h>

#include "chol.h"
#include "linalg.h"
#include "mpc.h"

/* The rows of the forecast's step: n states, the inputs before the actions and the last. */
#define STEP_ROWS(n) ((n) + HVAC_U_ACT + 1)

void hvac_mpc_free(hvac_mpc *mpc)
{
    if (!mpc)
        return;
    free(mpc->G);
    free(mpc->H);
    free(mpc->plan);
    free(mpc->work);
    hvac_chol_free(&mpc->chol);
    free(mpc->index);
    free(mpc->coef);
    free(mpc->step_t);
    free(mpc->rows);
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
                  double target, int solver)
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
    mpc->solver = solver;
    mpc->max_iter = 2000;
    mpc->G = calloc(d * d, sizeof *mpc->G);
    mpc->H = calloc(d * d, sizeof *mpc->H);
    mpc->plan = calloc(d, sizeof *mpc->plan);
    mpc->work = calloc(7 * d + 2 * n, sizeof *mpc->work);
    mpc->index = calloc(d, sizeof *mpc->index);
    mpc->coef = calloc(d + STEP_ROWS(n), sizeof *mpc->coef);
    mpc->rows = calloc(d + STEP_ROWS(n), sizeof *mpc->rows);
    mpc->step_t = calloc(STEP_ROWS(n) * n, sizeof *mpc->step_t);
    if (!mpc->G || !mpc->H || !mpc->plan || !mpc->work || !mpc->index || !mpc->coef ||
        !mpc->rows || !mpc->step_t ||
        (solver == HVAC_MPC_ACTIVE_SET && hvac_chol_init(&mpc->chol, mpc->H, d) != 0)) {
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
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++)
            mpc->step_t[j * n + i] = model->Ad[i * n + j];
        for (size_t j = 0; j < HVAC_U_ACT; j++)
            mpc->step_t[(n + j) * n + i] = model->Bd[i * m + j];
        mpc->step_t[(n + HVAC_U_ACT) * n + i] = model->Bd[i * m + m - 1];
    }
    /* H = 2 q G'G: row a sums G_ka G_k. over the rows k ascending, all of the row at once;
     * the rows above a's block, where G_ka is zero, add nothing (the sums never hold -0) */
    double *s = mpc->work;
    for (size_t a = 0; a < d; a++) {
        size_t first = a / n * n, w = 0;
        for (size_t k = first; k < d; k++) {
            mpc->coef[w] = mpc->G[k * d + a];
            mpc->rows[w++] = mpc->G + k * d;
        }
        memset(s, 0, d * sizeof *s);
        hvac_axpys(s, d, w, mpc->coef, mpc->rows);
        for (size_t b = a; b < d; b++)
            mpc->H[a * d + b] = mpc->H[b * d + a] = 2 * q * s[b];
    }
    /* FISTA's step is 1 / the largest eigenvalue of H */
    mpc->lipschitz = solver == HVAC_MPC_FISTA ? largest_eigenvalue(mpc->H, d, mpc->work,
                                                                   mpc->work + d)
                                              : 1;
    if (!(mpc->lipschitz > 0))
        mpc->lipschitz = 1;
    for (size_t i = 0; i < d; i++)
        mpc->hmax = fmax(mpc->hmax, mpc->H[i * d + i]);
    return 0;
}

static double prox(double v, double thresh)
{
    double s = v > thresh ? v - thresh : v < -thresh ? v + thresh : 0.0;
    return s > 1 ? 1 : s < -1 ? -1 : s;
}

/* Free response and the constant part of the gradient: g0 = 2 q G'(f - T). */
static void linear_term(hvac_mpc *mpc, const double *x0, const double *exo, double *g0)
{
    const hvac_model *model = mpc->model;
    size_t n = mpc->n, m = model->m, d = mpc->dim, N = mpc->horizon;
    double *f = mpc->work + 5 * d, *x = f + d, *xn = x + n;
    /* x' = Ad x + Bd u without the actions: each x'_i sums over Ad's row, then Bd's, in
     * that order, done for all i at once by the transposed rows */
    double *c = mpc->coef + d;
    const double **rows = mpc->rows + d;
    for (size_t j = 0; j < STEP_ROWS(n); j++)
        rows[j] = mpc->step_t + j * n;
    memcpy(x, x0, n * sizeof *x);
    for (size_t k = 0; k < N; k++) {
        const double *u = exo + k * m;
        memcpy(c, x, n * sizeof *c);
        for (size_t j = 0; j < HVAC_U_ACT; j++)
            c[n + j] = u[j];
        c[n + HVAC_U_ACT] = u[m - 1];
        memset(xn, 0, n * sizeof *xn);
        hvac_axpys(xn, n, STEP_ROWS(n), c, rows);
        memcpy(x, xn, n * sizeof *x);
        for (size_t i = 0; i < n; i++)
            f[k * n + i] = x[i] - mpc->target;
    }
    /* by rows of G, so each g0_b still sums G_kb f_k over k ascending from b's block (G is
     * block lower triangular: row k reaches the end of its own block) */
    memset(g0, 0, d * sizeof *g0);
    for (size_t k = 0; k < d; k++)
        mpc->rows[k] = mpc->G + k * d;
    for (size_t k = 0; k < d; k += n)   /* the rows of one block reach equally far */
        hvac_axpys(g0, k + n, n, f + k, mpc->rows + k);
    for (size_t b = 0; b < d; b++)
        g0[b] = 2 * mpc->q * g0[b];
}

/* FISTA with adaptive restart: the textbook method, kept as a cross-check of active-set. */
static int solve_fista(hvac_mpc *mpc, const double *g0, double *a)
{
    size_t d = mpc->dim;
    double *y = mpc->work + d, *a_prev = y + 3 * d, *grad = y + d;
    memcpy(y, a, d * sizeof *y);
    double t = 1, step = 1.0 / mpc->lipschitz, thresh = mpc->r * step;
    int it;
    for (it = 1; it <= mpc->max_iter; it++) {
        hvac_matmul(mpc->H, y, grad, d, d, 1);
        memcpy(a_prev, a, d * sizeof *a);
        double change = 0, restart = 0;
        for (size_t i = 0; i < d; i++) {
            a[i] = prox(y[i] - step * (grad[i] + g0[i]), thresh);
            change += (y[i] - a[i]) * (y[i] - a[i]);
            restart += (y[i] - a[i]) * (a[i] - a_prev[i]);
        }
        if (sqrt(change) < mpc->tol)  /* gradient-mapping norm, in action units */
            break;
        double t_next = 0.5 * (1 + sqrt(1 + 4 * t * t));
        if (restart > 0) {  /* adaptive restart (O'Donoghue and Candes 2015) */
            t_next = 1;
            memcpy(y, a, d * sizeof *y);
        } else {
            double beta = (t - 1) / t_next;
            for (size_t i = 0; i < d; i++)
                y[i] = a[i] + beta * (a[i] - a_prev[i]);
        }
        t = t_next;
    }
    return it;
}

static int sign_of(double v)
{
    return (v > 0) - (v < 0);
}

/* KKT of  min 1/2 a'Ha + g0'a + r|a|_1, |a| <= 1  at a with gradient g = Ha + g0. */
static int kkt_holds(const hvac_mpc *mpc, const double *a, const double *g, double tol)
{
    double r = mpc->r;
    for (size_t i = 0; i < mpc->dim; i++) {
        if (a[i] >= 1) {
            if (g[i] + r > tol)
                return 0;
        } else if (a[i] <= -1) {
            if (g[i] - r < -tol)
                return 0;
        } else if (a[i] == 0) {
            if (fabs(g[i]) > r + tol)
                return 0;
        } else if (fabs(g[i] + r * sign_of(a[i])) > tol)
            return 0;
    }
    return 1;
}

/* The larger of m and v, as fmax(m, v) gives it for m not NaN (v NaN: m), without the call. */
static double larger(double m, double v)
{
    return v > m ? v : m;
}

/* The smaller of m and v, as fmin(m, v) for m not NaN. */
static double smaller(double m, double v)
{
    return v < m ? v : m;
}

/* y (n values) += the rows H_i times coef_i of the listed i, in list order: one pass over y
 * for what hvac_axpy would do row after row, the same bits. */
static void add_rows(hvac_mpc *mpc, double *y, const size_t *list, const double *coef,
                     size_t w)
{
    for (size_t k = 0; k < w; k++)
        mpc->rows[k] = mpc->H + list[k] * mpc->dim;
    hvac_axpys(y, mpc->dim, w, coef, mpc->rows);
}

/* One sweep of coordinate descent: each action in turn moves to the exact minimiser along it,
 * and every move adds delta H_i to the gradient (moves of zero skipped). Done eight actions at
 * a time with the same additions in the same order for every element: a move updates the
 * block's own elements at once (the later ones need it before their turn), the others get
 * the block's moves in one pass after it. Returns the largest move. */
static double sweep(hvac_mpc *mpc, double *a, double *g)
{
    size_t d = mpc->dim;
    const double *H = mpc->H;
    double moved = 0;
    for (size_t b = 0; b < d; b += 8) {
        size_t e = b + 8 < d ? b + 8 : d;
        double delta[8];
        const double *row[8], *tail[8];
        int w = 0;
        for (size_t i = b; i < e; i++) {
            double hii = H[i * d + i], before = a[i];
            double next = prox(a[i] - g[i] / hii, mpc->r / hii), step = next - a[i];
            a[i] = next;
            if (step != 0) {
                delta[w] = step;
                row[w] = H + i * d;
                tail[w] = row[w] + e;
                hvac_axpy_short(g + b, step, row[w++] + b, e - b);
            }
            moved = larger(moved, fabs(a[i] - before));
        }
        if (w == 0)
            continue;
        hvac_axpys(g, b, (size_t)w, delta, row);
        hvac_axpys(g + e, d - e, (size_t)w, delta, tail);
    }
    return moved;
}

/* Coordinate descent sweeps (exact minimisation along each action, gradient kept up to date)
 * alternate with a Newton step on the free actions, the others fixed at -1, 0 or 1: when the
 * Newton point keeps the free actions' signs and bounds it minimises the cost on that face,
 * otherwise we move towards it until the first action reaches a bound. Both steps only
 * decrease the cost; the loop ends when the KKT conditions hold. */
static int solve_active_set(hvac_mpc *mpc, const double *g0, double *a)
{
    size_t d = mpc->dim;
    double *g = mpc->work + d, *rhs = g + d, *hfa = mpc->work + 4 * d;
    size_t *free_idx = mpc->index;
    double *coef = mpc->coef, tol = mpc->tol * mpc->hmax;
    /* g = H a by rows of the symmetric H: each g_i sums H_il a_l over l ascending as a
     * matrix-vector product does; the zero terms skipped add nothing */
    memset(g, 0, d * sizeof *g);
    size_t nz = 0;
    for (size_t l = 0; l < d; l++)
        if (a[l] != 0) {
            free_idx[nz] = l;
            coef[nz++] = a[l];
        }
    add_rows(mpc, g, free_idx, coef, nz);
    for (size_t i = 0; i < d; i++)
        g[i] += g0[i];
    int sweeps = 0;
    for (int round = 0; round < 100; round++) {
        for (int k = 0; k < 3; k++, sweeps++)
            if (sweep(mpc, a, g) < 1e-12)
                break;
        if (kkt_holds(mpc, a, g, tol))
            break;
        size_t nf = 0;
        for (size_t i = 0; i < d; i++)
            if (a[i] != 0 && a[i] > -1 && a[i] < 1)
                free_idx[nf++] = i;
        if (nf == 0)
            continue;
        /* H_FF y = -(g0_F + r s_F + H_FA a_A) = H_FF a_F - (g_F + r s_F) */
        /* (H_FF a_F)_p by rows of the symmetric H, as g = H a above: each sums H_iq a_q over
         * the free q ascending, for every i at once */
        memset(hfa, 0, d * sizeof *hfa);
        for (size_t q = 0; q < nf; q++)
            coef[q] = a[free_idx[q]];
        add_rows(mpc, hfa, free_idx, coef, nf);
        for (size_t p = 0; p < nf; p++) {
            size_t i = free_idx[p];
            rhs[p] = hfa[i] - (g[i] + mpc->r * sign_of(a[i]));
        }
        if (hvac_chol_factor(&mpc->chol, free_idx, nf) != 0)
            return -1;
        hvac_chol_solve(&mpc->chol, rhs);
        /* the largest step t in (0, 1] that keeps every free action's sign and bound */
        double t = 1;
        for (size_t p = 0; p < nf; p++) {
            double cur = a[free_idx[p]], dir = rhs[p] - cur;
            double lo = cur > 0 ? 0 : -1, hi = cur > 0 ? 1 : 0;
            if (dir > 0 && cur + dir > hi)
                t = smaller(t, (hi - cur) / dir);
            else if (dir < 0 && cur + dir < lo)
                t = smaller(t, (lo - cur) / dir);
        }
        /* the moves, then their gradient updates in the same order (no move reads g) */
        size_t nm = 0;
        for (size_t p = 0; p < nf; p++) {
            size_t i = free_idx[p];
            double cur = a[i], lo = cur > 0 ? 0 : -1, hi = cur > 0 ? 1 : 0;
            double next = smaller(hi, larger(lo, cur + t * (rhs[p] - cur)));
            if (fabs(next - lo) < 1e-12)  /* land exactly on the bound that limited t */
                next = lo;
            else if (fabs(next - hi) < 1e-12)
                next = hi;
            double step = next - cur;
            a[i] = next;
            if (step != 0) {
                free_idx[nm] = i;   /* nm <= p: the entries still to read are past it */
                coef[nm++] = step;
            }
        }
        add_rows(mpc, g, free_idx, coef, nm);
        if (kkt_holds(mpc, a, g, tol))
            break;
    }
    return sweeps;
}

int hvac_mpc_solve(hvac_mpc *mpc, const double *x0, const double *exo, double *action)
{
    size_t n = mpc->n, d = mpc->dim;
    double *g0 = mpc->work, *a = mpc->work + 3 * d;
    linear_term(mpc, x0, exo, g0);
    /* warm start: the previous plan shifted by one step */
    memmove(a, mpc->plan + n, (d - n) * sizeof *a);
    memcpy(a + d - n, mpc->plan + d - n, n * sizeof *a);
    int it = mpc->solver == HVAC_MPC_FISTA ? solve_fista(mpc, g0, a)
                                           : solve_active_set(mpc, g0, a);
    if (it < 0)
        return fewshot_error_set(FEWSHOT_ERANGE, "hvac: MPC: the reduced Hessian is not "
                                 "positive definite");
    mpc->last_iter = it;
    memcpy(mpc->plan, a, d * sizeof *a);
    memcpy(action, a, n * sizeof *action);
    return 0;
}
