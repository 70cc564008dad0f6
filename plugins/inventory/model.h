/*
 * inventory: the multi-echelon supply chain of OR-Gym's InvManagement (Hubbs et al. 2020),
 * its base-stock policy and a tuner for the base-stock levels. Plain C, no plugin glue, so
 * the tuner can simulate many episodes without an env handle.
 *
 * Stages 0..M-1: 0 is the retailer, M-1 the raw-material supplier with unlimited stock.
 * Stages 0..M-2 ("ordering stages", n = M-1 of them) hold inventory and order from the
 * next stage up.
 */
#ifndef INVENTORY_MODEL_H
#define INVENTORY_MODEL_H

#include <stddef.h>

#define INV_MAX_STAGES 16       /* ordering stages */
#define INV_MAX_LEAD 365

typedef struct inv_model {
    size_t n;                       /* ordering stages (M - 1) */
    long periods;
    double init[INV_MAX_STAGES];    /* initial on-hand inventory per ordering stage */
    double price;                   /* retail price */
    double cost[INV_MAX_STAGES + 1];    /* unit replenishment cost per stage (M values) */
    double penalty[INV_MAX_STAGES + 1]; /* backlog or goodwill cost per stage (M values) */
    double holding[INV_MAX_STAGES];     /* holding cost per ordering stage */
    double capacity[INV_MAX_STAGES];    /* supplier capacity per ordering stage */
    long lead[INV_MAX_STAGES];          /* lead time per ordering stage */
    long lead_max;
    int backlog;                        /* 1: backlog, 0: lost sales */
    double discount;
} inv_model;

/* One episode's dynamic state. Arrays sized periods x n, row-major by period. */
typedef struct inv_state {
    long t;                             /* periods done */
    double on_hand[INV_MAX_STAGES];     /* at the start of period t */
    double pipeline[INV_MAX_STAGES];    /* shipped, not yet received */
    double backlog[INV_MAX_STAGES + 1]; /* unfilled at the end of period t-1 (M values) */
    double *shipped;                    /* quantities shipped per period (after clipping) */
    double *requested;                  /* actions as taken: max(a, 0) truncated */
    double *demand;                     /* periods values: the demand path of the episode */
    double last_demand, last_sales, last_unfilled;
} inv_state;

/* What one period produced. Costs are positive amounts; reward is the discounted profit. */
typedef struct inv_outcome {
    double reward;
    double revenue, procurement, penalty, holding;   /* undiscounted */
    double scale;                                    /* discount^t */
    double arrived[INV_MAX_STAGES];                  /* received this period */
    double shipped[INV_MAX_STAGES];                  /* shipped this period */
    double unfilled[INV_MAX_STAGES + 1];
} inv_outcome;

/* Allocate the per-period arrays; returns 0 or -1 on out of memory. */
int inv_state_init(inv_state *s, const inv_model *m);
void inv_state_free(inv_state *s);

/* Start an episode on demand path `demand` (periods values, copied). */
void inv_state_reset(inv_state *s, const inv_model *m, const double *demand);

/* One period with orders `action` (n values). */
void inv_step(const inv_model *m, inv_state *s, const double *action, inv_outcome *out);

/* Observation as OR-Gym builds it: on-hand inventory (n), then the last lead_max actions
 * (lead_max x n, oldest first; zero before the episode's first periods). */
size_t inv_obs_dim(const inv_model *m);
void inv_observe(const inv_model *m, const inv_state *s, double *obs);

/* Echelon inventory positions (cumulative on-hand + pipeline - backlog), OR-Gym's rule. */
void inv_echelon_position(const inv_model *m, const inv_state *s, double *ip);

/* Base-stock (order-up-to z on the echelon inventory position), clipped to capacity and the
 * supplier's stock as OR-Gym's base_stock_action does. */
void inv_basestock(const inv_model *m, const inv_state *s, const double *z, double *action);

/* Total reward of an episode on `demand` under base-stock levels z. */
double inv_basestock_return(const inv_model *m, inv_state *scratch, const double *demand,
                            const double *z);

/* Search base-stock levels maximising the mean return over `paths` demand paths
 * (paths x periods values): a start from mean demand times the echelon lead times, then
 * coordinate search with shrinking steps. Writes z (n values). Returns 0 or -1 (memory). */
int inv_tune(const inv_model *m, const double *paths, size_t npaths, double mean, double *z);

#endif
