/*
 * room: a one-room thermal model used by the tests to exercise the loader, rollouts and the
 * LLM loop without the HVAC plugin. dT/dt = (T_out - T)/tau + gain * a, one hour per step.
 *
 * Observation: [room temperature, outdoor temperature]; action: heating power in [-1, 1].
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot/plugin.h>
#include <fewshot/rng.h>

typedef struct room {
    double target, outdoor, tau, gain, initial;
    long horizon;
    double temp;
    long t;
    fewshot_rng rng;
} room;

static const double obs_low[] = {-50, -50}, obs_high[] = {80, 60};
static const double act_low[] = {-1}, act_high[] = {1};
static const char *const obs_names[] = {"room_temperature", "outdoor_temperature"};
static const char *const act_names[] = {"heating"};
static const char *const policies[] = {"thermostat", NULL};
/* reward terms, declared once; step() writes their values in this order */
static const char *const term_names[] = {"comfort", "energy", NULL};

static int room_create(void **self, const json_t *params)
{
    room *r = calloc(1, sizeof *r);
    if (!r)
        return fewshot_error_set(FEWSHOT_ENOMEM, "room: out of memory");
    r->target = json_number_value(json_object_get(params, "target"));
    r->outdoor = json_number_value(json_object_get(params, "outdoor"));
    r->tau = json_number_value(json_object_get(params, "tau"));
    r->gain = json_number_value(json_object_get(params, "gain"));
    r->initial = json_number_value(json_object_get(params, "initial"));
    r->horizon = (long)json_integer_value(json_object_get(params, "horizon"));
    if (!(r->tau > 0)) {
        free(r);
        return fewshot_error_set(FEWSHOT_EINVAL, "room: parameter 'tau' must be positive");
    }
    *self = r;
    return 0;
}

static void room_destroy(void *self)
{
    free(self);
}

static int room_spaces(void *self, fewshot_space *obs, fewshot_space *act)
{
    *obs = (fewshot_space){2, obs_low, obs_high, 0, obs_names};
    *act = (fewshot_space){1, act_low, act_high, 0, act_names};
    return 0;
}

static int room_params(void *self, json_t **out)
{
    room *r = self;
    *out = json_pack("{s:f, s:f, s:f, s:f, s:f, s:I}", "target", r->target, "outdoor", r->outdoor,
                     "tau", r->tau, "gain", r->gain, "initial", r->initial, "horizon",
                     (json_int_t)r->horizon);
    return 0;
}

static void observe(const room *r, double *obs)
{
    obs[0] = r->temp;
    obs[1] = r->outdoor;
}

static int room_reset(void *self, uint64_t seed, const json_t *options, double *obs)
{
    room *r = self;
    fewshot_rng_seed(&r->rng, seed);
    /* the seed perturbs the start by up to +-1 degree so episodes differ */
    r->temp = r->initial + (seed ? 2.0 * fewshot_rng_uniform(&r->rng) - 1.0 : 0.0);
    json_t *init = options ? json_object_get(options, "initial") : NULL;
    if (json_is_number(init))
        r->temp = json_number_value(init);
    r->t = 0;
    observe(r, obs);
    return 0;
}

static int room_step(void *self, const double *action, fewshot_step *out)
{
    room *r = self;
    double a = fmax(-1.0, fmin(1.0, action[0]));
    /* exact solution over one step of dT/dt = (T_out - T)/tau + gain*a */
    double eq = r->outdoor + r->gain * a * r->tau;
    r->temp = eq + (r->temp - eq) * exp(-1.0 / r->tau);
    r->t++;
    double comfort = -(r->temp - r->target) * (r->temp - r->target);
    double energy = -0.1 * fabs(a);
    observe(r, out->obs);
    out->reward = comfort + energy;
    out->term_values[0] = comfort;                  /* term_names' order */
    out->term_values[1] = energy;
    out->done = 0;
    out->truncated = r->t >= r->horizon;
    return 0;
}

static int room_context(void *self, const double *obs, json_t **ctx)
{
    room *r = self;
    *ctx = json_pack("{s:[{s:s, s:f}], s:f, s:f, s:s}", "rooms", "name", "Room 1",
                     "temperature", obs[0], "outdoor_temperature", obs[1], "target", r->target,
                     "mode", obs[1] < r->target ? "heating" : "cooling");
    return 0;
}

static int room_features(void *self, const double *obs, float *out, size_t cap, size_t *dim)
{
    room *r = self;
    *dim = 3;
    if (cap >= 3) {
        out[0] = (float)(obs[0] - r->target);
        out[1] = (float)(obs[1] - r->target);
        out[2] = (float)(obs[0] - obs[1]);
    }
    return 0;
}

static int room_policy(void *self, const char *name, const double *obs, double *action)
{
    room *r = self;
    /* proportional thermostat that also cancels the loss to outside in steady state */
    double hold = (r->target - obs[1]) / (r->gain * r->tau);
    action[0] = fmax(-1.0, fmin(1.0, hold + 0.5 * (r->target - obs[0])));
    return 0;
}

static const char *room_template(void *self, const char *component)
{
    if (strcmp(component, "objective") == 0)
        return "You control the heating of one room. Keep it close to {{target}} degrees.";
    if (strcmp(component, "state") == 0)
        return "{{#rooms}}{{name}}: {{temperature}} degrees Celsius\n{{/rooms}}"
               "Outside Temperature: {{outdoor_temperature}} degrees Celsius.";
    return NULL;
}

static const fewshot_env_plugin room_plugin = {
    .abi = FEWSHOT_PLUGIN_ABI,
    .name = "room",
    .summary = "one-room thermal model for tests",
    .version = "1.0",
    .params_doc = "{\"params\": {"
                  "\"target\": {\"type\": \"number\", \"default\": 22, \"doc\": \"target C\"},"
                  "\"outdoor\": {\"type\": \"number\", \"default\": 5, \"doc\": \"outdoor C\"},"
                  "\"tau\": {\"type\": \"number\", \"default\": 4, \"doc\": \"time constant, h\"},"
                  "\"gain\": {\"type\": \"number\", \"default\": 10, \"doc\": \"C/h at a=1\"},"
                  "\"initial\": {\"type\": \"number\", \"default\": 15, \"doc\": \"start C\"},"
                  "\"horizon\": {\"type\": \"integer\", \"default\": 24, \"role\": \"episode_length\","
                  " \"doc\": \"steps\"}}}",
    .create = room_create,
    .destroy = room_destroy,
    .spaces = room_spaces,
    .params = room_params,
    .reset = room_reset,
    .step = room_step,
    .context = room_context,
    .features = room_features,
    .policies = policies,
    .term_names = term_names,
    .policy = room_policy,
    .template_text = room_template,
};

const fewshot_env_plugin *fewshot_env_plugin_entry(void);

const fewshot_env_plugin *fewshot_env_plugin_entry(void)
{
    return &room_plugin;
}
