/*
 * inv_trace: drive the inventory model (plugins/inventory/model.c) from the same JSON input as
 * orgym_reference.py and print the same rows, so tests/inventory/orgym.sh can compare the two
 * step for step, including state the observation does not show (pipeline, backlog).
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "model.h"

static double num(const json_t *o, const char *key, double def)
{
    json_t *v = json_object_get(o, key);
    return v ? json_number_value(v) : def;
}

static void vec(const json_t *o, const char *key, const double *def, size_t n, double *out)
{
    json_t *v = json_object_get(o, key);
    for (size_t i = 0; i < n; i++)
        out[i] = v ? json_number_value(json_array_get(v, i)) : def[i];
}

static json_t *array_of(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

int main(void)
{
    json_error_t err;
    json_t *spec = json_loadf(stdin, 0, &err);
    if (!spec) {
        fprintf(stderr, "inv_trace: stdin:%d: %s\n", err.line, err.text);
        return 2;
    }
    json_t *p = json_object_get(spec, "params");
    static const double init[] = {100, 100, 200}, cost[] = {1.5, 1.0, 0.75, 0.5},
                        pen[] = {0.10, 0.075, 0.05, 0.025}, hold[] = {0.15, 0.10, 0.05},
                        cap[] = {100, 90, 80}, lead[] = {3, 5, 10};
    inv_model m = {0};
    json_t *given = json_object_get(p, "initial_inventory");
    m.n = given ? json_array_size(given) : 3;
    m.periods = (long)num(p, "periods", 30);
    vec(p, "initial_inventory", init, m.n, m.init);
    vec(p, "replenishment_cost", cost, m.n + 1, m.cost);
    vec(p, "backlog_cost", pen, m.n + 1, m.penalty);
    vec(p, "holding_cost", hold, m.n, m.holding);
    vec(p, "capacity", cap, m.n, m.capacity);
    double leads[INV_MAX_STAGES];
    vec(p, "lead_times", lead, m.n, leads);
    for (size_t i = 0; i < m.n; i++) {
        m.lead[i] = (long)leads[i];
        if (m.lead[i] > m.lead_max)
            m.lead_max = m.lead[i];
    }
    m.price = num(p, "price", 2);
    m.discount = num(p, "discount", 0.97);
    json_t *b = json_object_get(p, "backlog");
    m.backlog = b ? json_is_true(b) : 1;

    double *demand = calloc((size_t)m.periods, sizeof *demand);
    vec(spec, "demand", demand, (size_t)m.periods, demand);
    json_t *z = json_object_get(spec, "basestock_levels");
    double levels[INV_MAX_STAGES];
    if (z)
        vec(spec, "basestock_levels", levels, m.n, levels);

    inv_state s;
    if (inv_state_init(&s, &m) != 0)
        return 1;
    inv_state_reset(&s, &m, demand);
    double *obs = calloc(inv_obs_dim(&m), sizeof *obs);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(spec, "actions"), i, a) {
        double action[INV_MAX_STAGES], ip[INV_MAX_STAGES], bs[INV_MAX_STAGES];
        for (size_t k = 0; k < m.n; k++)
            action[k] = json_number_value(json_array_get(a, k));
        inv_echelon_position(&m, &s, ip);
        json_t *row = json_pack("{s:o}", "echelon_position", array_of(ip, m.n));
        if (z) {
            inv_basestock(&m, &s, levels, bs);
            json_object_set_new(row, "basestock", array_of(bs, m.n));
        }
        inv_outcome out;
        inv_step(&m, &s, action, &out);
        inv_observe(&m, &s, obs);
        json_object_set_new(row, "reward", json_real(out.reward));
        json_object_set_new(row, "obs", array_of(obs, inv_obs_dim(&m)));
        json_object_set_new(row, "on_hand", array_of(s.on_hand, m.n));
        json_object_set_new(row, "pipeline", array_of(s.pipeline, m.n));
        json_object_set_new(row, "backlog", array_of(s.backlog, m.n + 1));
        json_object_set_new(row, "done", json_boolean(s.t >= m.periods));
        char *text = json_dumps(row, JSON_COMPACT | JSON_REAL_PRECISION(17));
        puts(text);
        free(text);
        json_decref(row);
        if (s.t >= m.periods)
            break;
    }
    free(obs);
    free(demand);
    inv_state_free(&s);
    json_decref(spec);
    return 0;
}
