/*
 * hvac: BEAR's RC network of a building and its exact zero-order-hold discretisation.
 *
 * State x: zone temperatures (C). Input u = [occupant power, T_ground, T_out, a_1..a_n,
 * ghi_norm] (HVAC_U_* below). Continuous dx/dt = A x + B u; discrete x' = Ad x + Bd u with
 * Ad = expm(A dt), Bd = A^-1 (Ad - I) B.
 */
#ifndef HVAC_MODEL_H
#define HVAC_MODEL_H

#include <stddef.h>

#include "hvac_data.h"

enum { HVAC_U_OCC = 0, HVAC_U_GROUND = 1, HVAC_U_OUT = 2, HVAC_U_ACT = 3 };

typedef struct hvac_model_options {
    double max_power;       /* W per zone at |a| = 1 (8000) */
    double dt;              /* time step, s (3600) */
    double shgc;            /* solar heat gain coefficient (0.252) */
    double shgc_weight;     /* extra loss of irradiance (0.01) */
    double ground_weight;   /* ground coupling weight (0.5) */
    double max_ghi;         /* max GHI of the weather series, W/m2 */
    double tz;              /* time zone of the weather series, h */
    double occupancy;       /* occupants per zone (BEAR's full_occ; 0) */
} hvac_model_options;

typedef struct hvac_model {
    size_t n;               /* zones */
    size_t m;               /* inputs: n + 4 */
    double dt;
    double *cap;            /* n: air heat capacity C_i, J/K */
    double *A, *B;          /* continuous: n x n, n x m (row-major) */
    double *Ad, *Bd;        /* discrete: n x n, n x m */
    double *AB;             /* n x (n + m): [Ad Bd], for hvac_model_step */
    double *z;              /* n + m: hvac_model_step's scratch (one step at a time) */
} hvac_model;

/* Build and discretise the model of building b. On failure the error is set and m is left
 * empty (hvac_model_free is still safe). */
int hvac_model_build(hvac_model *model, const fewshot_building *b, const hvac_model_options *o);
void hvac_model_free(hvac_model *model);

/* x' = Ad x + Bd u (x_next may be x: x is copied to the scratch first). Uses the model's scratch: one call at a
 * time per model. */
void hvac_model_step(const hvac_model *model, const double *x, const double *u, double *x_next);
/* The same step without the CPU-specific path (AVX2 where available), bit for bit equal;
 * for the test that says so. */
void hvac_model_step_portable(const hvac_model *model, const double *x, const double *u,
                              double *x_next);

/* Occupant heat per person (W) at activity m (W/person) and mean zone temperature t, without
 * the part linear in t (that part lives in A, as in BEAR). */
double hvac_occupant_heat(double activity, double t);
/* The linear coefficient of occupant heat in the mean zone temperature, W/K per person. */
#define HVAC_OCC_LINEAR 7.139322

#endif
