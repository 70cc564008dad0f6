/*
 * rooms: N independent rooms (N by parameter) for the retrieval tests: its features do not
 * depend on N, so demonstrations from a 3-room building can be retrieved for a 5-room one.
 * Each room: dT/dt = (T_out - T)/tau + gain * a_i, one hour per step.
 *
 * Observation: [T_1 .. T_N, outdoor]; action: N heating powers in [-1, 1].
 * Features: [mean - target, min - target, max - target, outdoor - target].
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot/plugin.h>
#include <fewshot/rng.h>

#define MAX_ROOMS 64

typedef struct rooms {
    long n, horizon, t;
    double target, outdoor, tau, gain, spread;
    double temp[MAX_ROOMS];
    double obs_low[MAX_ROOMS + 1], obs_high[MAX_ROOMS + 1], act_low[MAX_ROOMS],
        act_high[MAX_ROOMS];
    fewshot_rng rng;
} rooms;

static const char *const policies[] = {"thermostat", NULL};
/* reward terms, declared once; step() writes their values in this order */
static const char *const term_names[] = {"comfort", "energy", NULL};
/* named, so embedding.weights can name them */
static const char *const feature_names[] = {"mean_error", "min_error", "max_error",
                                            "outdoor_error", NULL};

static int rooms_create(void **self, const json_t *params)
{
    rooms *r = calloc(1, sizeof *r);
    if (!r)
        return fewshot_error_set(FEWSHOT_ENOMEM, "rooms: out of memory");
    r->n = (long)json_integer_value(json_object_get(params, "rooms"));
    r->target = json_number_value(json_object_get(params, "target"));
    r->outdoor = json_number_value(json_object_get(params, "outdoor"));
    r->tau = json_number_value(json_object_get(params, "tau"));
    r->gain = json_number_value(json_object_get(params, "gain"));
    r->spread = json_number_value(json_object_get(params, "spread"));
    r->horizon = (long)json_integer_value(json_object_get(params, "horizon"));
    if (r->n < 1 || r->n > MAX_ROOMS || !(r->tau > 0)) {
        free(r);
        return fewshot_error_set(FEWSHOT_EINVAL, "rooms: 'rooms' must be 1..%d and 'tau' "
                                 "positive", MAX_ROOMS);
    }
    for (long i = 0; i <= r->n; i++)
        r->obs_low[i] = -50, r->obs_high[i] = 80;
    for (long i = 0; i < r->n; i++)
        r->act_low[i] = -1, r->act_high[i] = 1;
    *self = r;
    return 0;
}

static void rooms_destroy(void *self)
{
    free(self);
}

static int rooms_spaces(void *self, fewshot_space *obs, fewshot_space *act)
{
    rooms *r = self;
    *obs = (fewshot_space){(size_t)r->n + 1, r->obs_low, r->obs_high, 0, NULL};
    *act = (fewshot_space){(size_t)r->n, r->act_low, r->act_high, 0, NULL};
    return 0;
}

static int rooms_params(void *self, json_t **out)
{
    rooms *r = self;
    *out = json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:I}", "rooms", (json_int_t)r->n, "target",
                     r->target, "outdoor", r->outdoor, "tau", r->tau, "gain", r->gain, "spread",
                     r->spread, "horizon", (json_int_t)r->horizon);
    return 0;
}

static void observe(const rooms *r, double *obs)
{
    for (long i = 0; i < r->n; i++)
        obs[i] = r->temp[i];
    obs[r->n] = r->outdoor;
}

static int rooms_reset(void *self, uint64_t seed, const json_t *options, double *obs)
{
    rooms *r = self;
    fewshot_rng_seed(&r->rng, seed);
    for (long i = 0; i < r->n; i++)
        r->temp[i] = r->target + r->spread * (2.0 * fewshot_rng_uniform(&r->rng) - 1.0);
    r->t = 0;
    observe(r, obs);
    return 0;
}

static int rooms_step(void *self, const double *action, fewshot_step *out)
{
    rooms *r = self;
    double comfort = 0, energy = 0;
    for (long i = 0; i < r->n; i++) {
        double a = fmax(-1.0, fmin(1.0, action[i]));
        double eq = r->outdoor + r->gain * a * r->tau;
        r->temp[i] = eq + (r->temp[i] - eq) * exp(-1.0 / r->tau);
        comfort -= (r->temp[i] - r->target) * (r->temp[i] - r->target) / (double)r->n;
        energy -= 0.1 * fabs(a) / (double)r->n;
    }
    r->t++;
    observe(r, out->obs);
    out->reward = comfort + energy;
    out->term_values[0] = comfort;                  /* term_names' order */
    out->term_values[1] = energy;
    out->done = 0;
    out->truncated = r->t >= r->horizon;
    return 0;
}

static int rooms_context(void *self, const double *obs, json_t **ctx)
{
    rooms *r = self;
    json_t *list = json_array();
    for (long i = 0; i < r->n; i++) {
        char name[32];
        snprintf(name, sizeof name, "Room %ld", i + 1);
        json_array_append_new(list, json_pack("{s:s, s:f}", "name", name, "temperature", obs[i]));
    }
    *ctx = json_pack("{s:o, s:f, s:f}", "rooms", list, "outdoor_temperature", obs[r->n],
                     "target", r->target);
    return 0;
}

static int rooms_features(void *self, const double *obs, float *out, size_t cap, size_t *dim)
{
    rooms *r = self;
    double sum = 0, lo = obs[0], hi = obs[0];
    for (long i = 0; i < r->n; i++) {
        sum += obs[i];
        lo = fmin(lo, obs[i]);
        hi = fmax(hi, obs[i]);
    }
    *dim = 4;
    if (cap >= 4) {
        out[0] = (float)(sum / (double)r->n - r->target);
        out[1] = (float)(lo - r->target);
        out[2] = (float)(hi - r->target);
        out[3] = (float)(obs[r->n] - r->target);
    }
    return 0;
}

static int rooms_policy(void *self, const char *name, const double *obs, double *action)
{
    rooms *r = self;
    double hold = (r->target - obs[r->n]) / (r->gain * r->tau);
    for (long i = 0; i < r->n; i++)
        action[i] = fmax(-1.0, fmin(1.0, hold + 0.5 * (r->target - obs[i])));
    return 0;
}

static const fewshot_env_plugin rooms_plugin = {
    .abi = FEWSHOT_PLUGIN_ABI,
    .name = "rooms",
    .summary = "N independent rooms for retrieval tests",
    .version = "1.0",
    .params_doc = "{\"params\": {"
                  "\"rooms\": {\"type\": \"integer\", \"default\": 3, \"doc\": \"rooms\"},"
                  "\"target\": {\"type\": \"number\", \"default\": 22, \"doc\": \"target C\"},"
                  "\"outdoor\": {\"type\": \"number\", \"default\": 5, \"doc\": \"outdoor C\"},"
                  "\"tau\": {\"type\": \"number\", \"default\": 4, \"doc\": \"time constant\"},"
                  "\"gain\": {\"type\": \"number\", \"default\": 10, \"doc\": \"C/h at a=1\"},"
                  "\"spread\": {\"type\": \"number\", \"default\": 6, \"doc\": \"start +-C\"},"
                  "\"horizon\": {\"type\": \"integer\", \"default\": 24, \"doc\": \"steps\"}}}",
    .create = rooms_create,
    .destroy = rooms_destroy,
    .spaces = rooms_spaces,
    .params = rooms_params,
    .reset = rooms_reset,
    .step = rooms_step,
    .context = rooms_context,
    .features = rooms_features,
    .policies = policies,
    .term_names = term_names,
    .feature_names = feature_names,
    .policy = rooms_policy,
};

const fewshot_env_plugin *fewshot_env_plugin_entry(void);

const fewshot_env_plugin *fewshot_env_plugin_entry(void)
{
    return &rooms_plugin;
}
