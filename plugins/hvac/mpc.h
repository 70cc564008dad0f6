/*
 * hvac: model predictive control on the plugin's own discrete model.
 *
 * Over a horizon of N steps the MPC minimises
 *     sum_k  q ||x_k - T||^2 + r ||a_k||_1,    |a| <= 1 elementwise,
 * the negative of the paper's reward up to constants (q = alpha / (T n), r = 1 / n), with the
 * exogenous inputs (weather, ground, occupants) forecast from the weather series. The QP is
 * condensed onto the actions (x = f + G a) and warm-started from the previous plan shifted by
 * one step. Two solvers:
 *  - active-set (default): coordinate descent sweeps alternating with Newton steps on the
 *    free actions; ends when the KKT conditions hold (exact up to rounding). Fast on the
 *    ill-conditioned Hessians of strongly coupled zones.
 *  - fista: accelerated proximal gradient (the prox of the L1 term plus the box is a soft
 *    threshold and a clip) with adaptive restart; stops when the gradient-mapping norm falls
 *    below tol or after max_iter iterations. Simple, slow when H is ill-conditioned.
 */
#ifndef HVAC_MPC_H
#define HVAC_MPC_H

#include <stddef.h>

#include "chol.h"
#include "model.h"

typedef struct hvac_mpc {
    const hvac_model *model;
    size_t n, horizon, dim;     /* dim = n * horizon decision variables */
    double q, r, target;
    double *G;                  /* dim x dim: x (stacked) = f + G a */
    double *H;                  /* dim x dim: 2 q G'G */
    double lipschitz;           /* largest eigenvalue of H */
    double *plan;               /* dim: the last solution (warm start) */
    double *work;               /* scratch */
    hvac_chol chol;             /* factors of H's free-set submatrices (kept for reuse) */
    size_t *index;              /* scratch: free-set indices */
    double *step_t;             /* rows of n: Ad's columns, then Bd's columns of the inputs
                                 * other than actions (the forecast's step by rows) */
    double *coef;               /* scratch: the multipliers of one hvac_axpys */
    const double **rows;        /* scratch: its rows */
    double hmax;                /* largest diagonal element of H (tolerance scale) */
    int solver;                 /* HVAC_MPC_ACTIVE_SET or HVAC_MPC_FISTA */
    double tol;
    int max_iter;
    int last_iter;              /* iterations of the last solve */
} hvac_mpc;

enum { HVAC_MPC_ACTIVE_SET = 0, HVAC_MPC_FISTA = 1 };

int hvac_mpc_init(hvac_mpc *mpc, const hvac_model *model, size_t horizon, double q, double r,
                  double target, int solver);
void hvac_mpc_free(hvac_mpc *mpc);
void hvac_mpc_reset(hvac_mpc *mpc);

/* exo: horizon rows of model->m inputs with the action entries ignored (forecast). Writes the
 * first step's actions (n values) into action. */
int hvac_mpc_solve(hvac_mpc *mpc, const double *x0, const double *exo, double *action);

#endif
