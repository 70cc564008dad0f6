/*
 * inventory: the environment plugin around model.c: parameters, spaces, episodes, the
 * translator context, features, policies and the default prompt templates.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot/plugin.h>
#include <fewshot/rng.h>

#include "demand.h"
#include "model.h"

/* The expert's base-stock levels are tuned when an instance is created, on TUNE_PATHS
 * Poisson paths of the chain's mean demand (never on the episode's own demand). For the
 * default chain the tuner finds [92, 213, 415], documented in fewshot-inventory(7). */
#define TUNE_PATHS 64
#define TUNE_SEED 20200414u

typedef struct inventory {
    inv_model m;
    inv_state s;
    double mean;            /* Poisson mean (also the scale of features) */
    double *fixed;          /* explicit demand path, or NULL for Poisson */
    double levels[INV_MAX_STAGES];
    json_t *params;
    double *obs_low, *obs_high, *act_low, *act_high;
    char **obs_names, **act_names;
    double *last_obs;       /* the latest observation, to recognise it in policy/context */
    int started;
} inventory;

static const char *const policies[] = {"basestock", "nothing", NULL};
/* reward terms, declared once; step() writes their values in this order */
static const char *const term_names[] = {"revenue", "procurement", "holding", "backlog", NULL};

/* ---- parameters ---- */

static int read_numbers(const json_t *params, const char *key, size_t want, double *out,
                        double min, int integer)
{
    json_t *a = json_object_get(params, key);
    if (!json_is_array(a) || json_array_size(a) != want)
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, key,
                                      "inventory: parameter '%s' must be an array of %zu "
                                      "numbers (capacity lists %zu ordering stages)", key, want,
                                      json_array_size(json_object_get(params, "capacity")));
    for (size_t i = 0; i < want; i++) {
        json_t *v = json_array_get(a, i);
        double x = json_number_value(v);
        if (!json_is_number(v) || !isfinite(x) || x < min || (integer && x != floor(x))) {
            char path[64];
            snprintf(path, sizeof path, "%s[%zu]", key, i);
            return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, path,
                                          "inventory: %s must be a%s %s%s", path,
                                          integer ? "n" : "", integer ? "integer" : "number",
                                          min > 0 ? " > 0" : " >= 0");
        }
        out[i] = x;
    }
    return 0;
}

static int read_model(inventory *inv, const json_t *p)
{
    inv_model *m = &inv->m;
    json_t *cap = json_object_get(p, "capacity");
    size_t n = json_array_size(cap);
    if (n < 1 || n > INV_MAX_STAGES)
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "capacity",
                                      "inventory: parameter 'capacity' must list 1 to %d "
                                      "ordering stages", INV_MAX_STAGES);
    m->n = n;
    m->periods = (long)json_integer_value(json_object_get(p, "periods"));
    if (m->periods < 1 || m->periods > 100000)
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "periods",
                                      "inventory: parameter 'periods' must be in 1..100000");
    double lead[INV_MAX_STAGES];
    int rc;
    if ((rc = read_numbers(p, "capacity", n, m->capacity, 1e-300, 1)) ||
        (rc = read_numbers(p, "initial_inventory", n, m->init, 0, 1)) ||
        (rc = read_numbers(p, "holding_cost", n, m->holding, 0, 0)) ||
        (rc = read_numbers(p, "lead_times", n, lead, 0, 1)) ||
        (rc = read_numbers(p, "replenishment_cost", n + 1, m->cost, 0, 0)) ||
        (rc = read_numbers(p, "backlog_cost", n + 1, m->penalty, 0, 0)))
        return rc;
    m->lead_max = 0;
    for (size_t i = 0; i < n; i++) {
        if (lead[i] > INV_MAX_LEAD)
            return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "lead_times",
                                          "inventory: lead times must be at most %d",
                                          INV_MAX_LEAD);
        m->lead[i] = (long)lead[i];
        if (m->lead[i] > m->lead_max)
            m->lead_max = m->lead[i];
    }
    m->price = json_number_value(json_object_get(p, "price"));
    m->discount = json_number_value(json_object_get(p, "discount"));
    m->backlog = json_is_true(json_object_get(p, "backlog"));
    if (!(m->price >= 0))
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "price",
                                      "inventory: parameter 'price' must be >= 0");
    if (!(m->discount > 0 && m->discount <= 1))
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "discount",
                                      "inventory: parameter 'discount' must be in (0, 1]");
    inv->mean = json_number_value(json_object_get(p, "demand_mean"));
    if (!(inv->mean >= 0 && inv->mean <= 1e6))
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "demand_mean",
                                      "inventory: parameter 'demand_mean' must be in [0, 1e6]");
    return 0;
}

static int read_demand(inventory *inv, const json_t *p)
{
    json_t *d = json_object_get(p, "demand");
    if (json_is_string(d) && strcmp(json_string_value(d), "poisson") == 0)
        return 0;
    if (json_is_string(d) && json_string_length(d) == 0)
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "demand",
                                      "inventory: parameter 'demand' must be \"poisson\", a "
                                      "list of values or a CSV file name");
    int rc = inv_demand_load(d, inv->m.periods, &inv->fixed);
    if (rc == 0) {
        double sum = 0;
        for (long i = 0; i < inv->m.periods; i++)
            sum += inv->fixed[i];
        inv->mean = sum / (double)inv->m.periods;   /* the scale of features and the tuner */
    }
    return rc;
}

static int tune_levels(inventory *inv)
{
    const inv_model *m = &inv->m;
    size_t npaths = TUNE_PATHS;
    double *paths = malloc(npaths * (size_t)m->periods * sizeof *paths);
    if (!paths)
        return fewshot_error_set(FEWSHOT_ENOMEM, "inventory: out of memory");
    fewshot_rng rng;
    fewshot_rng_seed(&rng, TUNE_SEED);
    for (size_t k = 0; k < npaths * (size_t)m->periods; k++)
        paths[k] = (double)fewshot_rng_poisson(&rng, inv->mean);
    int rc = inv_tune(m, paths, npaths, inv->mean, inv->levels);
    free(paths);
    return rc ? fewshot_error_set(FEWSHOT_ENOMEM, "inventory: out of memory") : 0;
}

static int read_levels(inventory *inv, const json_t *p)
{
    json_t *z = json_object_get(p, "basestock_levels");
    if (json_is_string(z) && strcmp(json_string_value(z), "auto") == 0)
        return tune_levels(inv);
    if (json_is_string(z))
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "basestock_levels",
                                      "inventory: parameter 'basestock_levels' must be "
                                      "\"auto\" or a list of %zu levels, not \"%s\"", inv->m.n,
                                      json_string_value(z));
    return read_numbers(p, "basestock_levels", inv->m.n, inv->levels, 0, 0);
}

/* ---- spaces ---- */

static char *element_name(const char *prefix, size_t stage, long lag)
{
    char buf[64];
    if (lag > 0)
        snprintf(buf, sizeof buf, "%s_lag%ld_stage%zu", prefix, lag, stage);
    else
        snprintf(buf, sizeof buf, "%s_%zu", prefix, stage);
    return strdup(buf);
}

static int build_spaces(inventory *inv)
{
    const inv_model *m = &inv->m;
    size_t dim = inv_obs_dim(m), n = m->n;
    inv->obs_low = calloc(dim, sizeof(double));
    inv->obs_high = calloc(dim, sizeof(double));
    inv->obs_names = calloc(dim, sizeof(char *));
    inv->act_low = calloc(n, sizeof(double));
    inv->act_high = calloc(n, sizeof(double));
    inv->act_names = calloc(n, sizeof(char *));
    inv->last_obs = calloc(dim, sizeof(double));
    if (!inv->obs_low || !inv->obs_high || !inv->obs_names || !inv->act_low || !inv->act_high ||
        !inv->act_names || !inv->last_obs)
        return fewshot_error_set(FEWSHOT_ENOMEM, "inventory: out of memory");
    for (size_t i = 0; i < dim; i++) {
        inv->obs_high[i] = HUGE_VAL;
        if (i < n)
            inv->obs_names[i] = element_name("on_hand", i, 0);
        else
            inv->obs_names[i] = element_name("order", (i - n) % n,
                                             m->lead_max - (long)((i - n) / n));
        if (!inv->obs_names[i])
            return fewshot_error_set(FEWSHOT_ENOMEM, "inventory: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        inv->act_high[i] = m->capacity[i];
        inv->act_names[i] = element_name("order", i, 0);
        if (!inv->act_names[i])
            return fewshot_error_set(FEWSHOT_ENOMEM, "inventory: out of memory");
    }
    return 0;
}

static void inventory_destroy(void *self)
{
    inventory *inv = self;
    if (!inv)
        return;
    size_t dim = inv_obs_dim(&inv->m);
    for (size_t i = 0; inv->obs_names && i < dim; i++)
        free(inv->obs_names[i]);
    for (size_t i = 0; inv->act_names && i < inv->m.n; i++)
        free(inv->act_names[i]);
    free(inv->obs_names);
    free(inv->act_names);
    free(inv->obs_low);
    free(inv->obs_high);
    free(inv->act_low);
    free(inv->act_high);
    free(inv->last_obs);
    free(inv->fixed);
    inv_state_free(&inv->s);
    json_decref(inv->params);
    free(inv);
}

static int inventory_create(void **self, const json_t *params)
{
    inventory *inv = calloc(1, sizeof *inv);
    if (!inv)
        return fewshot_error_set(FEWSHOT_ENOMEM, "inventory: out of memory");
    int rc;
    if ((rc = read_model(inv, params)) || (rc = read_demand(inv, params)) ||
        (rc = read_levels(inv, params)) || (rc = build_spaces(inv))) {
        inventory_destroy(inv);
        return rc;
    }
    if (inv_state_init(&inv->s, &inv->m) != 0) {
        inventory_destroy(inv);
        return fewshot_error_set(FEWSHOT_ENOMEM, "inventory: out of memory");
    }
    inv->params = json_deep_copy(params);
    json_t *levels = json_array();
    for (size_t i = 0; i < inv->m.n; i++)
        json_array_append_new(levels, json_real(inv->levels[i]));
    json_object_set_new(inv->params, "basestock_levels", levels);
    *self = inv;
    return 0;
}

static int inventory_spaces(void *self, fewshot_space *obs, fewshot_space *act)
{
    inventory *inv = self;
    *obs = (fewshot_space){inv_obs_dim(&inv->m), inv->obs_low, inv->obs_high, 1,
                           (const char *const *)inv->obs_names};
    *act = (fewshot_space){inv->m.n, inv->act_low, inv->act_high, 1,
                           (const char *const *)inv->act_names};
    return 0;
}

static int inventory_params(void *self, json_t **out)
{
    *out = json_deep_copy(((inventory *)self)->params);
    return *out ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "inventory: out of memory");
}

/* ---- episodes ---- */

static void remember(inventory *inv, double *obs)
{
    inv_observe(&inv->m, &inv->s, obs);
    memcpy(inv->last_obs, obs, inv_obs_dim(&inv->m) * sizeof *obs);
}

static int inventory_reset(void *self, uint64_t seed, const json_t *options, double *obs)
{
    inventory *inv = self;
    if (inv->fixed) {
        inv_state_reset(&inv->s, &inv->m, inv->fixed);
    } else {
        fewshot_rng rng;
        fewshot_rng_seed(&rng, seed);
        for (long t = 0; t < inv->m.periods; t++)
            inv->s.demand[t] = (double)fewshot_rng_poisson(&rng, inv->mean);
        inv_state_reset(&inv->s, &inv->m, inv->s.demand);
    }
    inv->started = 1;
    remember(inv, obs);
    return 0;
}

static int inventory_step(void *self, const double *action, fewshot_step *out)
{
    inventory *inv = self;
    if (!inv->started || inv->s.t >= inv->m.periods)
        return fewshot_error_set(FEWSHOT_EINVAL, "inventory: the episode is over (%ld periods); "
                                 "reset first", inv->m.periods);
    inv_outcome o;
    inv_step(&inv->m, &inv->s, action, &o);
    remember(inv, out->obs);
    out->reward = o.reward;
    out->term_values[0] = o.scale * o.revenue;      /* term_names' order */
    out->term_values[1] = -o.scale * o.procurement;
    out->term_values[2] = -o.scale * o.holding;
    out->term_values[3] = -o.scale * o.penalty;
    out->done = inv->s.t >= inv->m.periods;
    out->truncated = 0;
    return 0;
}

static int is_current(const inventory *inv, const double *obs)
{
    return inv->started && memcmp(obs, inv->last_obs, inv_obs_dim(&inv->m) * sizeof *obs) == 0;
}

/* Units a stage ordered within its lead time, read from the observation's action history. */
static double on_order(const inv_model *m, const double *obs, size_t i)
{
    size_t n = m->n, L = (size_t)m->lead_max, k = (size_t)m->lead[i];
    double sum = 0;
    for (size_t j = L - k; j < L; j++)
        sum += obs[n + j * n + i];
    return sum;
}

/* A state good enough for the base-stock rule when obs is not the latest observation:
 * on-hand from obs, the pipeline from the ordered history, no backlog. */
static void state_from_obs(const inventory *inv, const double *obs, inv_state *s)
{
    memset(s, 0, sizeof *s);
    s->t = 1;
    for (size_t i = 0; i < inv->m.n; i++) {
        s->on_hand[i] = obs[i];
        s->pipeline[i] = on_order(&inv->m, obs, i);
    }
}

static int inventory_policy(void *self, const char *name, const double *obs, double *action)
{
    inventory *inv = self;
    if (strcmp(name, "nothing") == 0) {
        memset(action, 0, inv->m.n * sizeof *action);
        return 0;
    }
    if (is_current(inv, obs)) {
        inv_basestock(&inv->m, &inv->s, inv->levels, action);
    } else {
        inv_state s;
        state_from_obs(inv, obs, &s);
        inv_basestock(&inv->m, &s, inv->levels, action);
    }
    for (size_t i = 0; i < inv->m.n; i++)
        action[i] = floor(action[i]);
    return 0;
}

/* ---- translator context, features, templates ---- */

static const char *stage_name(size_t i, size_t n)
{
    static const char *const three[] = {"Retailer", "Distributor", "Manufacturer"};
    if (n == 3)
        return three[i];
    if (i == 0)
        return "Retailer";
    return i + 1 == n ? "Manufacturer" : "Distributor";
}

/* A price as text with three significant digits: a rounded 1.5 would read 2. Strings pass
 * the translator unchanged. */
static json_t *money(double x)
{
    char buf[64];
    snprintf(buf, sizeof buf, fabs(x) >= 1000 ? "%.0f" : "%.3g", x);
    return json_string(buf);
}

static int inventory_context(void *self, const double *obs, json_t **ctx)
{
    inventory *inv = self;
    const inv_model *m = &inv->m;
    json_t *stages = json_array();
    double need = 0, position = 0;
    for (size_t i = 0; i < m->n; i++) {
        /* echelon view, as the base-stock rule: stock and orders of this stage and those
         * below it, against mean demand over their lead times */
        double ordered = on_order(m, obs, i);
        need += inv->mean * (double)(m->lead[i] + 1);
        position += obs[i] + ordered;
        char name[64];
        snprintf(name, sizeof name, "%s", stage_name(i, m->n));
        json_array_append_new(
            stages, json_pack("{s:s, s:I, s:f, s:f, s:I, s:f, s:f, s:b, s:b, s:b}", "name",
                              name, "index", (json_int_t)(i + 1), "inventory", obs[i],
                              "on_order", ordered, "lead_time", (json_int_t)m->lead[i],
                              "capacity", m->capacity[i], "last_order",
                              m->lead_max ? obs[inv_obs_dim(m) - m->n + i] : 0.0, "short",
                              position < 0.8 * need, "excess", position > 1.5 * need, "last",
                              i + 1 == m->n));
    }
    json_t *c = json_pack("{s:o, s:I, s:I, s:f, s:o, s:b, s:b, s:s, s:f}", "stages", stages,
                          "num_stages", (json_int_t)m->n, "periods", (json_int_t)m->periods,
                          "demand_mean", inv->mean, "price", money(m->price), "backlog",
                          m->backlog != 0, "lost_sales", m->backlog == 0, "mode",
                          m->backlog ? "backlog" : "lost_sales", "discount", m->discount);
    if (!c)
        return fewshot_error_set(FEWSHOT_ENOMEM, "inventory: out of memory");
    int current = is_current(inv, obs);
    json_object_set_new(c, "has_period", json_boolean(current && inv->s.t > 0));
    if (current) {
        json_object_set_new(c, "period", json_integer(inv->s.t));
        json_object_set_new(c, "periods_left", json_integer(m->periods - inv->s.t));
        json_object_set_new(c, "last_demand", json_real(inv->s.last_demand));
        json_object_set_new(c, "last_sales", json_real(inv->s.last_sales));
        json_object_set_new(c, "retail_backlog", json_real(m->backlog ? inv->s.backlog[0] : 0));
    }
    *ctx = c;
    return 0;
}

/* Eight numbers in units of mean demand, whatever the number of stages. */
static int inventory_features(void *self, const double *obs, float *out, size_t cap,
                              size_t *dim)
{
    inventory *inv = self;
    const inv_model *m = &inv->m;
    const size_t n = m->n;
    double mu = inv->mean > 0 ? inv->mean : 1;
    double total = 0, upstream = 0, last_mean = 0, ordered_all = 0;
    for (size_t i = 0; i < n; i++) {
        total += obs[i];
        if (i)
            upstream += obs[i];
        ordered_all += on_order(m, obs, i);
        last_mean += m->lead_max ? obs[inv_obs_dim(m) - n + i] : 0;
    }
    double ordered0 = on_order(m, obs, 0);
    double f[8] = {
        obs[0] / mu,
        ordered0 / mu,
        (obs[0] + ordered0) / (mu * (double)(m->lead[0] + 1)),
        total / (mu * (double)n),
        n > 1 ? upstream / (mu * (double)(n - 1)) : 0,
        ordered_all / (mu * (double)n),
        m->lead_max ? obs[inv_obs_dim(m) - n] / mu : 0,
        last_mean / (mu * (double)n),
    };
    *dim = 8;
    for (size_t i = 0; i < 8 && i < cap; i++)
        out[i] = (float)f[i];
    return 0;
}

static const char *inventory_template(void *self, const char *component)
{
    if (strcmp(component, "objective") == 0)
        return "You are a supply chain manager. Your primary objective is to decide how many "
               "units each stage of a multi-echelon supply chain reorders from its supplier, so "
               "that customer demand is met while procurement, holding and "
               "{{#backlog}}backlog{{/backlog}}{{#lost_sales}}lost-sales{{/lost_sales}} costs "
               "stay low, maximizing the rewards (the discounted profit of each period) as much "
               "as possible.";
    if (strcmp(component, "meta") == 0)
        return "The supply chain has {{num_stages}} stages that hold inventory "
               "({{#stages}}{{name}}{{^last}}, {{/last}}{{/stages}}), supplied by a raw material "
               "supplier with unlimited stock. Customer demand is about {{demand_mean}} units per "
               "period and the retail price is {{price}} per unit. "
               "{{#backlog}}Unfilled orders are backlogged and served later.{{/backlog}}"
               "{{#lost_sales}}Unfilled orders are lost.{{/lost_sales}}";
    if (strcmp(component, "instruction") == 0)
        return "Actions are a list of {{num_stages}} non-negative integers, one reorder quantity "
               "per stage in stage order ({{#stages}}{{name}}{{^last}}, {{/last}}{{/stages}}). "
               "A stage's order is limited by its supplier's capacity and on-hand stock, and "
               "arrives after the stage's lead time. If a stage and the stages below it hold "
               "less than they will sell until the order arrives, the larger the shortfall, the "
               "larger its order; if they hold more, the larger the excess, the smaller its "
               "order, down to 0. Ordering nothing lets the shelves run empty.";
    if (strcmp(component, "state") == 0)
        return "{{#has_period}}It is period {{period}} of {{periods}}. {{/has_period}}"
               "Currently, the inventory of each stage is as follows:\n"
               "{{#stages}}{{name}}: {{inventory}} units on hand, {{on_order}} units ordered in "
               "the last {{lead_time}} periods (lead time {{lead_time}} periods, supplier "
               "capacity {{capacity}} units).\n{{/stages}}"
               "{{#has_period}}Customer demand in the last period was {{last_demand}} units"
               "{{#backlog}}, and {{retail_backlog}} units of demand are backlogged"
               "{{/backlog}}.{{/has_period}}";
    if (strcmp(component, "action") == 0)
        return "{{actions_text}}";
    if (strcmp(component, "feedback") == 0)
        return "Comments: After the orders, the inventory of each stage is as "
               "follows:\n{{#stages}}{{name}}: {{inventory}} units on hand, {{on_order}} units "
               "on order.\n{{/stages}}";
    if (strcmp(component, "comments") == 0)
        return "{{#stages}}{{#short}}The order of the {{name}} shall be increased as its stock "
               "and orders on the way are below the demand until its next delivery.\n{{/short}}"
               "{{#excess}}The order of the {{name}} shall be decreased as it holds more stock "
               "than the demand until its next delivery.\n{{/excess}}{{/stages}}";
    return NULL;
}

static const fewshot_env_plugin inventory_plugin = {
    .abi = FEWSHOT_PLUGIN_ABI,
    .name = "inventory",
    .summary = "multi-echelon supply chain (OR-Gym InvManagement dynamics)",
    .version = "1.0",
    .params_doc =
        "{\"params\": {"
        "\"periods\": {\"type\": \"integer\", \"default\": 30, \"role\": \"episode_length\","
        " \"doc\": \"periods per episode\"},"
        "\"initial_inventory\": {\"type\": \"array\", \"default\": [100, 100, 200],"
        " \"doc\": \"on-hand units per ordering stage (retailer first; OR-Gym I0)\"},"
        "\"price\": {\"type\": \"number\", \"default\": 2, \"doc\": \"retail price (p)\"},"
        "\"replenishment_cost\": {\"type\": \"array\", \"default\": [1.5, 1.0, 0.75, 0.5],"
        " \"doc\": \"unit cost per stage incl. raw material (r)\"},"
        "\"backlog_cost\": {\"type\": \"array\", \"default\": [0.10, 0.075, 0.05, 0.025],"
        " \"doc\": \"per unfilled unit per stage (k)\"},"
        "\"holding_cost\": {\"type\": \"array\", \"default\": [0.15, 0.10, 0.05],"
        " \"doc\": \"per unit on hand per ordering stage (h)\"},"
        "\"capacity\": {\"type\": \"array\", \"default\": [100, 90, 80],"
        " \"doc\": \"supplier capacity per ordering stage (c)\"},"
        "\"lead_times\": {\"type\": \"array\", \"default\": [3, 5, 10],"
        " \"doc\": \"periods per ordering stage (L)\"},"
        "\"backlog\": {\"type\": \"boolean\", \"default\": true,"
        " \"doc\": \"true: unfilled orders are backlogged; false: lost sales\"},"
        "\"demand\": {\"type\": \"string|array\", \"default\": \"poisson\","
        " \"doc\": \"poisson, [d1,...] one per period, or a CSV file\"},"
        "\"demand_mean\": {\"type\": \"number\", \"default\": 20, \"doc\": \"Poisson mean\"},"
        "\"discount\": {\"type\": \"number\", \"default\": 0.97, \"doc\": \"alpha in (0, 1]\"},"
        "\"basestock_levels\": {\"type\": \"string|array\", \"default\": \"auto\","
        " \"doc\": \"expert's echelon order-up-to levels, or auto: tuned\"}},"
        "\"scenarios\": [{\"name\": \"backlog\"}, {\"name\": \"lost_sales\", \"backlog\": false},"
        " {\"name\": \"short_leads\", \"lead_times\": [1, 2, 4]}]}",
    .create = inventory_create,
    .destroy = inventory_destroy,
    .spaces = inventory_spaces,
    .params = inventory_params,
    .reset = inventory_reset,
    .step = inventory_step,
    .context = inventory_context,
    .features = inventory_features,
    .policies = policies,
    .term_names = term_names,
    .policy = inventory_policy,
    .template_text = inventory_template,
};

const fewshot_env_plugin *fewshot_env_plugin_entry(void);

const fewshot_env_plugin *fewshot_env_plugin_entry(void)
{
    return &inventory_plugin;
}
