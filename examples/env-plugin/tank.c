/*
 * tank: a complete libfewshot environment plugin, small enough to read in one sitting and
 * built outside the libfewshot tree with nothing but pkg-config (see Makefile and
 * fewshot-plugin(7)).
 *
 * A water tank drains into a town's demand; each hour the controller opens the inlet valve
 * a in [0, 1]. level' = level + (a * inflow - demand) / area, demand ~ base + noise.
 * Reward: -(level' - target)^2 - cost * a. Observation: [level, last demand].
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot/plugin.h>
#include <fewshot/rng.h>

typedef struct tank {
    double target, inflow, demand, area, cost, level0;
    long horizon, t;
    double level, last_demand;
    fewshot_rng rng;
} tank;

static const double obs_low[] = {0, 0}, obs_high[] = {100, 1000};
static const double act_low[] = {0}, act_high[] = {1};
static const char *const obs_names[] = {"level", "last_demand"};
static const char *const act_names[] = {"valve"};
static const char *const policies[] = {"proportional", "closed", NULL};
/* reward terms, declared once; step() writes their values in this order */
static const char *const term_names[] = {"level", "pumping", NULL};

static double param(const json_t *params, const char *key)
{
    return json_number_value(json_object_get(params, key));
}

/* The library has checked names and types against params_doc and filled in defaults;
 * create checks the values. */
static int tank_create(void **self, const json_t *params)
{
    tank *k = calloc(1, sizeof *k);
    if (!k)
        return fewshot_error_set(FEWSHOT_ENOMEM, "tank: out of memory");
    k->target = param(params, "target");
    k->inflow = param(params, "inflow");
    k->demand = param(params, "demand");
    k->area = param(params, "area");
    k->cost = param(params, "cost");
    k->level0 = param(params, "level");
    k->horizon = (long)json_integer_value(json_object_get(params, "horizon"));
    if (!(k->area > 0) || !(k->target >= 0 && k->target <= 100) || k->horizon < 1) {
        free(k);
        return fewshot_error_set(FEWSHOT_EINVAL, "tank: need area > 0, target in [0, 100] "
                                 "and horizon >= 1");
    }
    *self = k;
    return 0;
}

static void tank_destroy(void *self)
{
    free(self);
}

static int tank_spaces(void *self, fewshot_space *obs, fewshot_space *act)
{
    (void)self;
    *obs = (fewshot_space){2, obs_low, obs_high, 0, obs_names};
    *act = (fewshot_space){1, act_low, act_high, 0, act_names};
    return 0;
}

static int tank_params(void *self, json_t **out)
{
    tank *k = self;
    *out = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:I}", "target", k->target, "inflow",
                     k->inflow, "demand", k->demand, "area", k->area, "cost", k->cost, "level",
                     k->level0, "horizon", (json_int_t)k->horizon);
    return 0;
}

static int tank_reset(void *self, uint64_t seed, const json_t *options, double *obs)
{
    tank *k = self;
    (void)options;      /* reset options: none here */
    fewshot_rng_seed(&k->rng, seed);
    k->t = 0;
    k->level = k->level0;
    k->last_demand = k->demand;
    obs[0] = k->level;
    obs[1] = k->last_demand;
    return 0;
}

static int tank_step(void *self, const double *action, fewshot_step *out)
{
    tank *k = self;
    double a = fmin(1, fmax(0, action[0]));
    k->last_demand = fmax(0, k->demand * (1 + 0.3 * fewshot_rng_normal(&k->rng)));
    k->level = fmin(100, fmax(0, k->level + (a * k->inflow - k->last_demand) / k->area));
    double miss = -(k->level - k->target) * (k->level - k->target), energy = -k->cost * a;
    out->obs[0] = k->level;
    out->obs[1] = k->last_demand;
    out->reward = miss + energy;
    out->term_values[0] = miss;                     /* term_names' order */
    out->term_values[1] = energy;
    out->done = 0;
    out->truncated = ++k->t >= k->horizon;
    return 0;
}

/* What the prompt templates see: raw numbers (the translator rounds them) and booleans
 * for wording, since Mustache has no comparisons. */
static int tank_context(void *self, const double *obs, json_t **ctx)
{
    tank *k = self;
    *ctx = json_pack("{s:f, s:f, s:f, s:b, s:b}", "level", obs[0], "demand", obs[1], "target",
                     k->target, "low", obs[0] < k->target - 0.5, "high",
                     obs[0] > k->target + 0.5);
    return *ctx ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "tank: out of memory");
}

static int tank_features(void *self, const double *obs, float *out, size_t cap, size_t *dim)
{
    tank *k = self;
    *dim = 2;
    if (cap >= 2) {
        out[0] = (float)(obs[0] - k->target);
        out[1] = (float)(obs[1] / k->inflow);
    }
    return 0;
}

static int tank_policy(void *self, const char *name, const double *obs, double *action)
{
    tank *k = self;
    if (strcmp(name, "closed") == 0) {
        action[0] = 0;
        return 0;
    }
    /* replace the demand, and close half the gap to the target each hour */
    double want = obs[1] + 0.5 * (k->target - obs[0]) * k->area;
    action[0] = fmin(1, fmax(0, want / k->inflow));
    return 0;
}

static const char *tank_template(void *self, const char *component)
{
    (void)self;
    if (strcmp(component, "objective") == 0)
        return "You are a water utility operator. Your primary objective is to keep the "
               "tank's level close to {{target}} meters while pumping as little as possible.";
    if (strcmp(component, "instruction") == 0)
        return "The action is one integer from 0 to 100, the opening of the inlet valve in "
               "percent. If the level is below the target, the larger the difference, the "
               "higher the action; if above, the lower.";
    if (strcmp(component, "state") == 0)
        return "The tank's level is {{level}} meters and the town used {{demand}} cubic "
               "meters in the last hour. Target level: {{target}} meters.";
    if (strcmp(component, "action") == 0)
        return "{{actions_text}}";
    if (strcmp(component, "feedback") == 0)
        /* the generator shows "Reward:" and "Actions:" first; this is what followed */
        return "Comments: After the action, the level is {{level}} meters.";
    if (strcmp(component, "comments") == 0)
        return "{{#low}}The action shall be increased as the level is below the target."
               "{{/low}}{{#high}}The action shall be decreased as the level is above the "
               "target.{{/high}}";
    return NULL;
}

static const fewshot_env_plugin tank_plugin = {
    .abi = FEWSHOT_PLUGIN_ABI,
    .name = "tank",
    .summary = "water tank level control (examples/env-plugin)",
    .version = "1.0",
    .params_doc = "{\"action_scale\": 100, \"params\": {"
                  "\"target\": {\"type\": \"number\", \"default\": 5, \"doc\": \"level, m\"},"
                  "\"inflow\": {\"type\": \"number\", \"default\": 40, \"doc\": \"m3/h open\"},"
                  "\"demand\": {\"type\": \"number\", \"default\": 15, \"doc\": \"mean m3/h\"},"
                  "\"area\": {\"type\": \"number\", \"default\": 10, \"doc\": \"tank, m2\"},"
                  "\"cost\": {\"type\": \"number\", \"default\": 0.2, \"doc\": \"per open hour\"},"
                  "\"level\": {\"type\": \"number\", \"default\": 3, \"doc\": \"start, m\"},"
                  "\"horizon\": {\"type\": \"integer\", \"default\": 48, \"doc\": \"hours\"}}}",
    .create = tank_create,
    .destroy = tank_destroy,
    .spaces = tank_spaces,
    .params = tank_params,
    .reset = tank_reset,
    .step = tank_step,
    .context = tank_context,
    .features = tank_features,
    .policies = policies,
    .term_names = term_names,
    .policy = tank_policy,
    .template_text = tank_template,
};

/* The one exported symbol. */
const fewshot_env_plugin *fewshot_env_plugin_entry(void);

const fewshot_env_plugin *fewshot_env_plugin_entry(void)
{
    return &tank_plugin;
}
