/*
 * BEAR's RC network (Zhang, Shi, Chen, e-Energy 2023) built from a building description:
 * capacitances of the zone air, conductances between zones in a layer (interior walls), between
 * layers (floor/ceiling in series), to outdoors (walls, windows and BEAR's roof rule) and to the
 * ground; then exact zero-order-hold discretisation. See ENVIRONMENTS.md for the equations.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot/error.h>

#include "linalg.h"
#include "model.h"

#define AIR_DENSITY 1.225       /* kg/m3 */
#define AIR_HEAT 1000.0         /* J/(kg K) */

enum { U_INTERIOR, U_FLOOR, U_EXTERIOR, U_ROOF, U_CEILING, U_GROUND, U_WINDOW };

double hvac_occupant_heat(double m, double t)
{
    return 6.461927 + 0.946892 * m + 0.0000255737 * m * m - 0.0627909 * t * m +
           0.0000589172 * t * m * m - 0.198550 * t * t + 0.000940018 * t * t * m -
           0.00000149532 * t * t * m * m;
}

/* Same layer: a corner (min or max) of r lies inside or on s's closed rectangle. */
static int corner_in_closed(const fewshot_building_zone *r, const fewshot_building_zone *s)
{
    return (r->xmin >= s->xmin && r->xmin <= s->xmax && r->ymin >= s->ymin && r->ymin <= s->ymax) ||
           (r->xmax >= s->xmin && r->xmax <= s->xmax && r->ymax >= s->ymin && r->ymax <= s->ymax);
}

/* Adjacent layers: r's min corner in s's [min, max), or r's max corner in s's (min, max]. */
static int corner_in_half_open(const fewshot_building_zone *r, const fewshot_building_zone *s)
{
    return (r->xmin >= s->xmin && r->xmin < s->xmax && r->ymin >= s->ymin && r->ymin < s->ymax) ||
           (r->xmax > s->xmin && r->xmax <= s->xmax && r->ymax > s->ymin && r->ymax <= s->ymax);
}

static double overlap(double amin, double amax, double bmin, double bmax)
{
    return fmin(amax, bmax) - fmax(amin, bmin);
}

void hvac_model_free(hvac_model *model)
{
    if (!model)
        return;
    free(model->cap);
    free(model->A);
    free(model->B);
    free(model->Ad);
    free(model->Bd);
    free(model->AB);
    free(model->z);
    memset(model, 0, sizeof *model);
}

/* Conductances (W/K): ua[i*(n+1)+j] between zones, column n to outdoors; ground[i]. */
static void conductances(const fewshot_building *b, double *ua, double *ground, double ground_weight)
{
    size_t n = b->n_zones;
    const double *u = b->u;
    const fewshot_building_zone *z = b->zones;
    for (size_t i = 0; i < n; i++) {
        /* last zone of its layer: the next zone is on another layer or there is none */
        int last = i + 1 == n || z[i + 1].layer != z[i].layer;
        double lx = z[i].xmax - z[i].xmin, ly = z[i].ymax - z[i].ymin, h = z[i].zmax - z[i].zmin;
        if (z[i].wall_area > 0 || last)
            ua[i * (n + 1) + n] = z[i].wall_area * u[U_EXTERIOR] + z[i].window_area * u[U_WINDOW] +
                                  (last ? lx * ly * u[U_ROOF] : 0.0);
        if (z[i].layer == 0)
            ground[i] = z[i].floor_area * u[U_GROUND] * ground_weight;
        for (size_t j = i + 1; j < n; j++) {
            double ox = overlap(z[i].xmin, z[i].xmax, z[j].xmin, z[j].xmax);
            double oy = overlap(z[i].ymin, z[i].ymax, z[j].ymin, z[j].ymax);
            double g = 0;
            if (z[j].layer == z[i].layer) {
                if (corner_in_closed(&z[j], &z[i]) || corner_in_closed(&z[i], &z[j]))
                    g = h * sqrt(oy * oy + ox * ox) * u[U_INTERIOR];
            } else if (z[j].layer == z[i].layer + 1) {
                if (corner_in_half_open(&z[j], &z[i]) || corner_in_half_open(&z[i], &z[j]))
                    g = oy * ox * (u[U_FLOOR] * u[U_CEILING] / (u[U_FLOOR] + u[U_CEILING]));
            }
            if (g != 0) {
                ua[i * (n + 1) + j] = g;
                ua[j * (n + 1) + i] = g;
            }
        }
    }
}

int hvac_model_build(hvac_model *model, const fewshot_building *b, const hvac_model_options *o)
{
    size_t n = b->n_zones, m = n + 4;
    int rc = 0;
    memset(model, 0, sizeof *model);
    if (n == 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "hvac: building '%s' has no zones",
                                 b->name ? b->name : "?");
    double *ua = calloc(n * (n + 1), sizeof *ua), *ground = calloc(n, sizeof *ground);
    double *tmp = calloc(n * m, sizeof *tmp);
    model->n = n;
    model->m = m;
    model->dt = o->dt;
    model->cap = calloc(n, sizeof *model->cap);
    model->A = calloc(n * n, sizeof *model->A);
    model->B = calloc(n * m, sizeof *model->B);
    model->Ad = calloc(n * n, sizeof *model->Ad);
    model->Bd = calloc(n * m, sizeof *model->Bd);
    if (!ua || !ground || !tmp || !model->cap || !model->A || !model->B || !model->Ad ||
        !model->Bd) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
        goto done;
    }
    conductances(b, ua, ground, o->ground_weight);
    /* BEAR divides by |TZ|/60 and multiplies by max GHI; a zero time zone would divide by
     * zero, so it counts as one hour. */
    double tz = fabs(o->tz) > 0 ? fabs(o->tz) : 1.0;
    double shgc = o->shgc * o->shgc_weight * (o->max_ghi / (tz / 60.0));
    for (size_t i = 0; i < n; i++) {
        const fewshot_building_zone *z = &b->zones[i];
        double c = AIR_HEAT * AIR_DENSITY * (z->zmax - z->zmin) * (z->xmax - z->xmin) *
                   (z->ymax - z->ymin);
        if (!(c > 0)) {
            rc = fewshot_error_set(FEWSHOT_EINVAL, "hvac: building '%s': zone %zu (%s) has no "
                                   "volume (check its min/max X, Y, Z)", b->name ? b->name : "?",
                                   i, z->name ? z->name : "?");
            goto done;
        }
        model->cap[i] = c;
        double diag = ground[i];
        for (size_t j = 0; j <= n; j++)
            diag += ua[i * (n + 1) + j];
        for (size_t j = 0; j < n; j++)
            model->A[i * n + j] = (j == i ? -diag : ua[i * (n + 1) + j]) / c +
                                  o->occupancy / c * HVAC_OCC_LINEAR / (double)n;
        double *brow = model->B + i * m;
        brow[HVAC_U_OCC] = o->occupancy / c;
        brow[HVAC_U_GROUND] = ground[i] / c;
        brow[HVAC_U_OUT] = ua[i * (n + 1) + n] / c;
        brow[HVAC_U_ACT + i] = o->max_power / c;
        brow[m - 1] = z->window_area * shgc / c;
    }
    double *Adt = tmp;      /* A dt, reusing tmp's first n*n */
    for (size_t i = 0; i < n * n; i++)
        Adt[i] = model->A[i] * o->dt;
    if ((rc = hvac_expm(Adt, n, model->Ad)) != 0)
        goto done;
    /* Bd = A^-1 (Ad - I) B */
    for (size_t i = 0; i < n * n; i++)
        Adt[i] = model->Ad[i] - (i % (n + 1) == 0 ? 1.0 : 0.0);
    hvac_matmul(Adt, model->B, model->Bd, n, n, m);
    if ((rc = hvac_solve(model->A, n, model->Bd, m)) != 0)
        goto done;
    /* rows of [Ad Bd], for the step */
    model->AB = malloc((n + m) * n * sizeof *model->AB);
    model->z = malloc((n + m) * sizeof *model->z);
    if (!model->AB || !model->z) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(model->AB + i * (n + m), model->Ad + i * n, n * sizeof *model->AB);
        memcpy(model->AB + i * (n + m) + n, model->Bd + i * m, m * sizeof *model->AB);
    }
done:
    free(ua);
    free(ground);
    free(tmp);
    if (rc)
        hvac_model_free(model);
    return rc;
}

/* Two doubles in one SIMD register (SSE2, NEON), loadable from any double address. */
typedef double v2d __attribute__((vector_size(16), aligned(8), may_alias));

/* x'_i = [Ad Bd]_i . z: dot products two elements at a time, two accumulators */
static void step_rows(const hvac_model *model, const double *z, double *x_next)
{
    size_t n = model->n, len = n + model->m, quads = len / 4;
    const v2d *zv = (const v2d *)z;
    for (size_t i = 0; i < n; i++) {
        const double *row = model->AB + i * len;
        const v2d *rv = (const v2d *)row;
        v2d s0 = {0, 0}, s1 = {0, 0};
        for (size_t k = 0; k < quads; k++) {
            s0 += rv[2 * k] * zv[2 * k];
            s1 += rv[2 * k + 1] * zv[2 * k + 1];
        }
        s0 += s1;
        double s = s0[0] + s0[1];
        for (size_t k = 4 * quads; k < len; k++)
            s += row[k] * z[k];
        x_next[i] = s;
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
typedef double v4d __attribute__((vector_size(32), aligned(8), may_alias));

/* The same sums four elements at a time where the CPU has AVX2 (no FMA: a fused multiply-add
 * rounds once and would change the results). Lane l accumulates the elements l mod 4 in the
 * order step_rows' accumulators do, and the lanes are added as there, so the bits agree. */
__attribute__((target("avx2"))) static void step_rows_avx2(const hvac_model *model,
                                                           const double *z, double *x_next)
{
    size_t n = model->n, len = n + model->m, quads = len / 4;
    const v4d *zv = (const v4d *)z;
    for (size_t i = 0; i < n; i++) {
        const double *row = model->AB + i * len;
        const v4d *rv = (const v4d *)row;
        v4d acc = {0, 0, 0, 0};
        for (size_t k = 0; k < quads; k++)
            acc += rv[k] * zv[k];
        double s = (acc[0] + acc[2]) + (acc[1] + acc[3]);
        for (size_t k = 4 * quads; k < len; k++)
            s += row[k] * z[k];
        x_next[i] = s;
    }
}
#endif

void hvac_model_step(const hvac_model *model, const double *x, const double *u, double *x_next)
{
    size_t n = model->n, m = model->m;
    double *z = model->z;
    memcpy(z, x, n * sizeof *z);
    memcpy(z + n, u, m * sizeof *z);
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2")) {
        step_rows_avx2(model, z, x_next);
        return;
    }
#endif
    step_rows(model, z, x_next);
}

void hvac_model_step_portable(const hvac_model *model, const double *x, const double *u,
                              double *x_next)
{
    memcpy(model->z, x, model->n * sizeof *model->z);
    memcpy(model->z + model->n, u, model->m * sizeof *model->z);
    step_rows(model, model->z, x_next);
}
