/* The MPC's active-set solver (mpc.c) gives, bit for bit, the plans of the plain algorithm it
 * implements: the reference below does every step with one loop per operation in the order
 * mpc.h describes (the gradient updated one move at a time over all of g, the textbook
 * Cholesky factor made afresh for every Newton step). Closed loops of 18-zone and 6-zone
 * buildings under varied weather, warm starts included, on whichever vector path the CPU
 * takes and on the portable factor path. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fewshot.h>

#include "model.h"
#include "mpc.h"
#include "hvac_textbook.h"

static double uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* ---------------------------------------------------------------- the reference */

typedef struct ref {
    const hvac_mpc *shape;      /* G, H, sizes and weights (built by hvac_mpc_init) */
    double *plan, *g0, *a, *g, *rhs, *hfa, *f, *sub;
    size_t *free_idx;
} ref;

static void ref_axpy(double *y, double alpha, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += alpha * x[i];
}

static double ref_prox(double v, double thresh)
{
    double s = v > thresh ? v - thresh : v < -thresh ? v + thresh : 0.0;
    return s > 1 ? 1 : s < -1 ? -1 : s;
}

static int ref_sign(double v)
{
    return (v > 0) - (v < 0);
}

static void ref_linear_term(ref *R, const double *x0, const double *exo)
{
    const hvac_mpc *M = R->shape;
    const hvac_model *model = M->model;
    size_t n = M->n, m = model->m, d = M->dim;
    double x[64], xn[64];
    memcpy(x, x0, n * sizeof *x);
    for (size_t k = 0; k < M->horizon; k++) {
        const double *u = exo + k * m;
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < n; j++)
                s += model->Ad[i * n + j] * x[j];
            for (size_t j = 0; j < HVAC_U_ACT; j++)
                s += model->Bd[i * m + j] * u[j];
            s += model->Bd[i * m + m - 1] * u[m - 1];
            xn[i] = s;
        }
        memcpy(x, xn, n * sizeof *x);
        for (size_t i = 0; i < n; i++)
            R->f[k * n + i] = x[i] - M->target;
    }
    memset(R->g0, 0, d * sizeof *R->g0);
    for (size_t k = 0; k < d; k++)
        ref_axpy(R->g0, R->f[k], M->G + k * d, (k / n + 1) * n);
    for (size_t b = 0; b < d; b++)
        R->g0[b] = 2 * M->q * R->g0[b];
}

static int ref_kkt(const ref *R, double tol)
{
    double r = R->shape->r;
    for (size_t i = 0; i < R->shape->dim; i++) {
        double a = R->a[i], g = R->g[i];
        if (a >= 1) {
            if (g + r > tol)
                return 0;
        } else if (a <= -1) {
            if (g - r < -tol)
                return 0;
        } else if (a == 0) {
            if (fabs(g) > r + tol)
                return 0;
        } else if (fabs(g + r * ref_sign(a)) > tol)
            return 0;
    }
    return 1;
}

static void ref_move(ref *R, size_t i, double next)
{
    double delta = next - R->a[i];
    R->a[i] = next;
    if (delta != 0)
        ref_axpy(R->g, delta, R->shape->H + i * R->shape->dim, R->shape->dim);
}

/* The textbook Cholesky solve of H[F, F] y = rhs (row-oriented, in place). */
static int ref_newton(ref *R, size_t nf)
{
    size_t d = R->shape->dim;
    double *a = R->sub;
    for (size_t p = 0; p < nf; p++)
        for (size_t q = 0; q < nf; q++)
            a[p * nf + q] = R->shape->H[R->free_idx[p] * d + R->free_idx[q]];
    return textbook_solve(a, nf, R->rhs);
}

static int ref_active_set(ref *R)
{
    const hvac_mpc *M = R->shape;
    size_t d = M->dim;
    double *a = R->a, *g = R->g, tol = M->tol * M->hmax;
    memset(g, 0, d * sizeof *g);
    for (size_t l = 0; l < d; l++)
        if (a[l] != 0)
            ref_axpy(g, a[l], M->H + l * d, d);
    for (size_t i = 0; i < d; i++)
        g[i] += R->g0[i];
    int sweeps = 0;
    for (int round = 0; round < 100; round++) {
        for (int k = 0; k < 3; k++, sweeps++) {
            double moved = 0;
            for (size_t i = 0; i < d; i++) {
                double hii = M->H[i * d + i], before = a[i];
                ref_move(R, i, ref_prox(a[i] - g[i] / hii, M->r / hii));
                moved = fmax(moved, fabs(a[i] - before));
            }
            if (moved < 1e-12)
                break;
        }
        if (ref_kkt(R, tol))
            break;
        size_t nf = 0;
        for (size_t i = 0; i < d; i++)
            if (a[i] != 0 && a[i] > -1 && a[i] < 1)
                R->free_idx[nf++] = i;
        if (nf == 0)
            continue;
        memset(R->hfa, 0, d * sizeof *R->hfa);
        for (size_t q = 0; q < nf; q++)
            ref_axpy(R->hfa, a[R->free_idx[q]], M->H + R->free_idx[q] * d, d);
        for (size_t p = 0; p < nf; p++) {
            size_t i = R->free_idx[p];
            R->rhs[p] = R->hfa[i] - (g[i] + M->r * ref_sign(a[i]));
        }
        if (ref_newton(R, nf) != 0)
            return -1;
        double t = 1;
        for (size_t p = 0; p < nf; p++) {
            double cur = a[R->free_idx[p]], dir = R->rhs[p] - cur;
            double lo = cur > 0 ? 0 : -1, hi = cur > 0 ? 1 : 0;
            if (dir > 0 && cur + dir > hi)
                t = fmin(t, (hi - cur) / dir);
            else if (dir < 0 && cur + dir < lo)
                t = fmin(t, (lo - cur) / dir);
        }
        for (size_t p = 0; p < nf; p++) {
            size_t i = R->free_idx[p];
            double cur = a[i], lo = cur > 0 ? 0 : -1, hi = cur > 0 ? 1 : 0;
            double next = fmin(hi, fmax(lo, cur + t * (R->rhs[p] - cur)));
            if (fabs(next - lo) < 1e-12)
                next = lo;
            else if (fabs(next - hi) < 1e-12)
                next = hi;
            ref_move(R, i, next);
        }
        if (ref_kkt(R, tol))
            break;
    }
    return sweeps;
}

static int ref_solve(ref *R, const double *x0, const double *exo)
{
    size_t n = R->shape->n, d = R->shape->dim;
    ref_linear_term(R, x0, exo);
    memmove(R->a, R->plan + n, (d - n) * sizeof *R->a);
    memcpy(R->a + d - n, R->plan + d - n, n * sizeof *R->a);
    int it = ref_active_set(R);
    memcpy(R->plan, R->a, d * sizeof *R->a);
    return it;
}

/* ---------------------------------------------------------------- the comparison */

static void closed_loops(const char *building, int portable, uint64_t seed)
{
    hvac_model_options o = {.max_power = 8000, .dt = 3600, .shgc = 0.252, .shgc_weight = 0.01,
                            .ground_weight = 0.5, .max_ghi = 1000, .tz = -7, .occupancy = 0};
    fewshot_building *bld;
    if (fewshot_building_load(&bld, building) != 0)
        fail_msg("%s", fewshot_error_last()->message);
    hvac_model model;
    assert_int_equal(hvac_model_build(&model, bld, &o), 0);
    size_t n = model.n, m = model.m, N = 6, d = n * N;
    double target = 22;
    hvac_mpc mpc;
    assert_int_equal(hvac_mpc_init(&mpc, &model, N, 1.0 / (target * (double)n),
                                   1.0 / (double)n, target, HVAC_MPC_ACTIVE_SET), 0);
    mpc.chol.portable = portable;
    /* H = 2 q G'G by the plain triple loop */
    for (size_t a = 0; a < d; a++)
        for (size_t b = a; b < d; b++) {
            double s = 0;
            for (size_t k = 0; k < d; k++)
                s += mpc.G[k * d + a] * mpc.G[k * d + b];
            s = 2 * mpc.q * s;
            if (memcmp(&s, &mpc.H[a * d + b], sizeof s) || memcmp(&s, &mpc.H[b * d + a], sizeof s))
                fail_msg("%s: H[%zu][%zu] differs from 2 q G'G", building, a, b);
        }
    ref R = {.shape = &mpc};
    double *mem = calloc(8 * d + d * d, sizeof *mem);
    R.plan = mem, R.g0 = mem + d, R.a = mem + 2 * d, R.g = mem + 3 * d, R.rhs = mem + 4 * d;
    R.hfa = mem + 5 * d, R.f = mem + 6 * d, R.sub = mem + 8 * d;
    R.free_idx = calloc(d, sizeof *R.free_idx);
    double *x = calloc(n, sizeof *x), *exo = calloc(N * m, sizeof *exo);
    double *act = calloc(n, sizeof *act), *u = calloc(m, sizeof *u);
    int decisions = 0;
    /* mild and extreme days: few or many actions at their bounds */
    static const double outdoor[][2] = {{-15, 8}, {5, 10}, {18, 4}, {30, 8}};
    for (int day = 0; day < 4; day++) {
        hvac_mpc_reset(&mpc);
        memset(R.plan, 0, d * sizeof *R.plan);
        for (size_t i = 0; i < n; i++)
            x[i] = 16 + 12 * uniform(&seed);
        double base = outdoor[day][0], swing = outdoor[day][1];
        for (int h = 0; h < 24; h++, decisions++) {
            for (size_t k = 0; k < N; k++) {
                double hour = (double)(h + (int)k);
                double *e = exo + k * m;
                e[HVAC_U_OCC] = 2 * uniform(&seed);
                e[HVAC_U_GROUND] = base + 5;
                e[HVAC_U_OUT] = base + swing * sin(hour / 24 * 6.283185307179586) +
                                uniform(&seed);
                e[m - 1] = fmax(0, sin((hour - 6) / 24 * 6.283185307179586));
            }
            assert_int_equal(hvac_mpc_solve(&mpc, x, exo, act), 0);
            int it = ref_solve(&R, x, exo);
            assert_true(it >= 0);
            if (memcmp(mpc.plan, R.plan, d * sizeof *R.plan) != 0)
                fail_msg("%s (portable %d) day %d hour %d: the plan differs from the "
                         "reference's", building, portable, day, h);
            assert_int_equal(mpc.last_iter, it);
            /* the next state: the plan's first actions under this hour's inputs */
            memcpy(u, exo, m * sizeof *u);
            memcpy(u + HVAC_U_ACT, act, n * sizeof *act);
            hvac_model_step(&model, x, u, x);
        }
    }
    assert_int_equal(decisions, 96);
    free(x), free(exo), free(act), free(u), free(mem), free(R.free_idx);
    hvac_mpc_free(&mpc);
    hvac_model_free(&model);
    fewshot_building_free(bld);
}

static void test_office_medium(void **state)
{
    closed_loops("OfficeMedium", 0, 3);
}

static void test_office_medium_portable(void **state)
{
    closed_loops("OfficeMedium", 1, 4);
}

static void test_office_small(void **state)
{
    closed_loops("OfficeSmall", 0, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_office_medium),
        cmocka_unit_test(test_office_medium_portable),
        cmocka_unit_test(test_office_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
