/*
 * inventory: OR-Gym InvManagement dynamics, base-stock policy and tuner (see model.h).
 *
 * The order of operations, the clipping and the profit follow InvManagementMasterEnv step
 * for step, so that a rollout with an explicit demand list equals OR-Gym's; the test
 * tests/inventory/orgym_reference.py re-implements OR-Gym in NumPy to check it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int inv_state_init(inv_state *s, const inv_model *m)
{
    size_t cells = (size_t)m->periods * m->n;
    memset(s, 0, sizeof *s);
    s->shipped = calloc(cells, sizeof *s->shipped);
    s->requested = calloc(cells, sizeof *s->requested);
    s->demand = calloc((size_t)m->periods, sizeof *s->demand);
    if (!s->shipped || !s->requested || !s->demand) {
        inv_state_free(s);
        return -1;
    }
    return 0;
}

void inv_state_free(inv_state *s)
{
    free(s->shipped);
    free(s->requested);
    free(s->demand);
    s->shipped = s->requested = s->demand = NULL;
}

void inv_state_reset(inv_state *s, const inv_model *m, const double *demand)
{
    size_t cells = (size_t)m->periods * m->n;
    s->t = 0;
    memcpy(s->on_hand, m->init, m->n * sizeof *m->init);
    memset(s->pipeline, 0, sizeof s->pipeline);
    memset(s->backlog, 0, sizeof s->backlog);
    memset(s->shipped, 0, cells * sizeof *s->shipped);
    memset(s->requested, 0, cells * sizeof *s->requested);
    if (demand != s->demand)
        memcpy(s->demand, demand, (size_t)m->periods * sizeof *demand);
    s->last_demand = s->last_sales = s->last_unfilled = 0;
}

/* OR-Gym: np.maximum(action, 0).astype(int). Huge values are held at 1e15 (a C cast of an
 * out-of-range double is undefined). */
static double order_of(double a)
{
    if (!(a > 0))
        return 0;
    return floor(fmin(a, 1e15));
}

void inv_step(const inv_model *m, inv_state *s, const double *action, inv_outcome *out)
{
    const size_t n = m->n;
    const long t = s->t;
    double R[INV_MAX_STAGES], want[INV_MAX_STAGES], arrived[INV_MAX_STAGES];

    /* place orders: this period's request plus what the supplier still owes, limited by the
     * supplier's capacity and its on-hand stock at the start of the period */
    for (size_t i = 0; i < n; i++) {
        R[i] = order_of(action[i]);
        s->requested[(size_t)t * n + i] = R[i];
        R[i] += s->backlog[i + 1];
        want[i] = R[i];
        if (R[i] >= m->capacity[i])
            R[i] = m->capacity[i];
        if (i + 1 < n && R[i] >= s->on_hand[i + 1])
            R[i] = s->on_hand[i + 1];
        s->shipped[(size_t)t * n + i] = R[i];
    }
    /* receive what was shipped lead-time periods ago (this period's when the lead is 0) */
    for (size_t i = 0; i < n; i++) {
        arrived[i] = 0;
        if (t - m->lead[i] >= 0) {
            arrived[i] = s->shipped[(size_t)(t - m->lead[i]) * n + i];
            s->on_hand[i] += arrived[i];
        }
    }
    /* customer demand, with last period's retail backlog first */
    double demand = s->demand[t] + s->backlog[0];
    double sold = fmin(s->on_hand[0], demand);
    s->on_hand[0] -= sold;
    for (size_t i = 1; i < n; i++)
        s->on_hand[i] -= R[i - 1];
    for (size_t i = 0; i < n; i++)
        s->pipeline[i] += R[i] - arrived[i];

    double unfilled[INV_MAX_STAGES + 1];
    unfilled[0] = demand - sold;
    for (size_t i = 0; i < n; i++)
        unfilled[i + 1] = want[i] - R[i];
    for (size_t j = 0; j <= n; j++)
        s->backlog[j] = m->backlog ? unfilled[j] : 0;

    /* profit per stage j: sales at the customer's unit cost, minus replenishment (the raw
     * material stage pays for what it produces), penalty for unfilled orders and holding */
    double total = 0, revenue = 0, procurement = 0, penalty = 0, holding = 0;
    for (size_t j = 0; j <= n; j++) {
        double p = j == 0 ? m->price : m->cost[j - 1];
        double S = j == 0 ? sold : R[j - 1];
        double RR = j < n ? R[j] : R[n - 1];
        double h = j < n ? m->holding[j] : 0, II = j < n ? s->on_hand[j] : 0;
        total += p * S - (m->cost[j] * RR + m->penalty[j] * unfilled[j] + h * II);
        revenue += p * S;
        procurement += m->cost[j] * RR;
        penalty += m->penalty[j] * unfilled[j];
        holding += h * II;
    }
    double scale = pow(m->discount, (double)t);
    s->last_demand = s->demand[t];
    s->last_sales = sold;
    s->last_unfilled = unfilled[0];
    s->t = t + 1;
    if (out) {
        out->reward = scale * total;
        out->scale = scale;
        out->revenue = revenue;
        out->procurement = procurement;
        out->penalty = penalty;
        out->holding = holding;
        memcpy(out->arrived, arrived, n * sizeof *arrived);
        memcpy(out->shipped, R, n * sizeof *R);
        memcpy(out->unfilled, unfilled, (n + 1) * sizeof *unfilled);
    }
}

size_t inv_obs_dim(const inv_model *m)
{
    return m->n * (size_t)(m->lead_max + 1);
}

void inv_observe(const inv_model *m, const inv_state *s, double *obs)
{
    const size_t n = m->n, L = (size_t)m->lead_max;
    memset(obs, 0, inv_obs_dim(m) * sizeof *obs);
    for (size_t i = 0; i < n; i++)
        obs[i] = trunc(s->t == 0 ? m->init[i] : s->on_hand[i]);   /* OR-Gym's int32 state */
    size_t k = (size_t)s->t < L ? (size_t)s->t : L;
    for (size_t j = 0; j < k; j++)
        for (size_t i = 0; i < n; i++)
            obs[n + (L - k + j) * n + i] = s->requested[((size_t)s->t - k + j) * n + i];
}

void inv_echelon_position(const inv_model *m, const inv_state *s, double *ip)
{
    double sum = 0;
    for (size_t i = 0; i < m->n; i++) {
        sum += s->on_hand[i] + s->pipeline[i] - (s->t >= 1 ? s->backlog[i] : 0);
        ip[i] = sum;
    }
}

void inv_basestock(const inv_model *m, const inv_state *s, const double *z, double *action)
{
    double ip[INV_MAX_STAGES];
    inv_echelon_position(m, s, ip);
    for (size_t i = 0; i < m->n; i++) {
        double r = fmax(0, z[i] - ip[i]);
        r = fmin(r, m->capacity[i]);
        if (i + 1 < m->n)
            r = fmin(r, s->on_hand[i + 1]);
        action[i] = r;
    }
}

double inv_basestock_return(const inv_model *m, inv_state *scratch, const double *demand,
                            const double *z)
{
    double action[INV_MAX_STAGES], total = 0;
    inv_outcome out;
    inv_state_reset(scratch, m, demand);
    while (scratch->t < m->periods) {
        inv_basestock(m, scratch, z, action);
        inv_step(m, scratch, action, &out);
        total += out.reward;
    }
    return total;
}

static double mean_return(const inv_model *m, inv_state *scratch, const double *paths,
                          size_t npaths, const double *z)
{
    double sum = 0;
    for (size_t k = 0; k < npaths; k++)
        sum += inv_basestock_return(m, scratch, paths + k * (size_t)m->periods, z);
    return sum / (double)npaths;
}

int inv_tune(const inv_model *m, const double *paths, size_t npaths, double mean, double *z)
{
    inv_state scratch;
    if (inv_state_init(&scratch, m) != 0)
        return -1;
    /* start: cover mean demand over each echelon's cumulative lead time plus one period */
    double cover = 0;
    for (size_t i = 0; i < m->n; i++) {
        cover += (double)m->lead[i] + 1;
        z[i] = round(mean * cover);
    }
    double best = mean_return(m, &scratch, paths, npaths, z);
    double step = 1;
    while (step < 2 * mean)
        step *= 2;
    for (; step >= 1; step /= 2) {
        int improved = 1;
        for (int pass = 0; improved && pass < 100; pass++) {
            improved = 0;
            for (size_t i = 0; i < m->n; i++) {
                for (int dir = -1; dir <= 1; dir += 2) {
                    double keep = z[i];
                    z[i] = keep + dir * step;
                    if (z[i] < 0) {
                        z[i] = keep;
                        continue;
                    }
                    double v = mean_return(m, &scratch, paths, npaths, z);
                    if (v > best + 1e-9) {
                        best = v;
                        improved = 1;
                    } else {
                        z[i] = keep;
                    }
                }
            }
        }
    }
    inv_state_free(&scratch);
    return 0;
}
