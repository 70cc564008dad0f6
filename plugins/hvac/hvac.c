/*
 * hvac: BEAR's building thermal model as a libfewshot environment plugin.
 *
 * A building (prototype name, building JSON or EnergyPlus table) becomes an RC network
 * (model.c); a weather series (EPW file or a synthetic climate) and a city's monthly ground
 * temperatures drive it. Observation (the paper's layout): zone temperatures, then outdoor
 * temperature, GHI, ground temperature, occupant power in kW. Action: one value per zone in
 * [-1, 1] (negative cools). See fewshot-hvac(7).
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot/plugin.h>
#include <fewshot/rng.h>

#include "hvac_data.h"
#include "model.h"
#include "mpc.h"
#include "templates.h"

#define N_EXO 4             /* outdoor, GHI, ground, occupant power */
/* The features (fewshot-hvac(7)): what a decision depends on, whatever the number of rooms. */
enum {
    F_OUTDOOR_ERROR,    /* outdoor temperature - target: < 0 heating need, > 0 cooling need */
    F_MODE,             /* -1 heating (outdoor below target), +1 cooling, as the instruction */
    F_IRRADIANCE,       /* GHI / the year's max GHI (the model's solar input), 0..1 */
    F_ERROR_MEAN,       /* rooms' temperature - target: mean, min, max */
    F_ERROR_MIN,
    F_ERROR_MAX,
    F_HOUR_SIN,         /* hour of the day of the current step, on a circle */
    F_HOUR_COS,
    F_OUTDOOR_TREND,    /* outdoor temperature change over the next step (the forecast) */
    F_OCCUPANT,         /* occupant heat per room, kW (0 while occupancy is 0) */
    N_FEATURES
};
static const char *const feature_names[N_FEATURES + 1] = {
    "outdoor_error", "mode", "irradiance", "error_mean", "error_min", "error_max", "hour_sin",
    "hour_cos", "outdoor_trend", "occupant_kw_per_room", NULL};

typedef struct hvac {
    json_t *params;         /* resolved parameters */
    fewshot_building *building;
    const hvac_weather *weather;   /* shared by every environment with the same year */
    double ground[12];
    hvac_model model;
    hvac_mpc mpc;
    int mpc_ready;
    double *mpc_exo;                /* horizon x m: the MPC's forecast inputs */
    size_t n;
    double target, alpha, occupancy, activity, thermostat_gain;
    int reward_bear, mpc_solver;
    long start_day, start_hour, episode_length, horizon;
    json_t *initial;
    char *weather_words, *city, *building_name;
    double *obs_low, *obs_high, *act_low, *act_high;
    char **obs_names, **act_names;
    double *x, *u, *xn;
    long t;                 /* steps since reset */
    long start_day_ep, start_hour_ep;
    /* the weather of step `now_t` (outdoor C, GHI, ground C), computed once for the
     * observation and reused by the next step's inputs */
    long now_t;
    double now_out, now_ghi, now_ground;
    /* the context's strings, made once: every context shares them (jansson's reference counts
     * are atomic, and nothing changes a string value in place) */
    json_t **room_names, **room_zones;
    json_t *s_building, *s_weather, *s_city, *s_heating, *s_cooling;
} hvac;

static const char *const policies[] = {"mpc", "thermostat", NULL};
/* reward terms, declared once; step() writes their values in this order */
static const char *const term_names[] = {"energy", "comfort", NULL};

/* ----------------------------------------------------------------------- time and weather */

/* Seconds since Jan 1 00:00 at step t of the episode. */
static double clock_seconds(const hvac *h, long t)
{
    return ((double)(h->start_day_ep - 1) * 24.0 + (double)h->start_hour_ep) * 3600.0 +
           (double)t * h->model.dt;
}

/* Where time s falls in the weather series: rows i and j = i + 1 (wrapping at the end of the
 * series) and the fraction between them, as BEAR interpolates to its time step. */
typedef struct series_pos {
    size_t i, j;
    double frac;
} series_pos;

static series_pos series_locate(const hvac_weather *w, double s)
{
    double hours = s / 3600.0;
    double len = (double)w->hours;
    if (!(hours >= 0 && hours < len))   /* fmod is the identity in range; it is not cheap */
        hours = fmod(hours, len);
    if (hours < 0)
        hours += len;
    series_pos p;
    p.i = (size_t)hours;
    p.frac = hours - (double)p.i;
    p.j = (p.i + 1) % w->hours;
    return p;
}

static double series_value(const double *v, series_pos p)
{
    return v[p.i] + p.frac * (v[p.j] - v[p.i]);
}

static int month_of(double s)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    long day = (long)floor(s / 86400.0) % 365;
    if (day < 0)
        day += 365;
    int m = 0;
    while (m < 11 && day >= days[m])
        day -= days[m++];
    return m;
}

static double mean(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s / (double)n;
}

/* Outdoor temperature, GHI and ground temperature at step t. */
static void weather_at(const hvac *h, long t, double *out, double *ghi, double *ground)
{
    if (t == h->now_t) {
        *out = h->now_out;
        *ghi = h->now_ghi;
        *ground = h->now_ground;
        return;
    }
    double s = clock_seconds(h, t);
    series_pos p = series_locate(h->weather, s);
    *out = series_value(h->weather->temp, p);
    *ghi = series_value(h->weather->ghi, p);
    *ground = h->ground[month_of(s)];
}

/* Exogenous inputs at step t for zone temperatures x: fills u (model->m entries, actions 0). */
static void inputs_at(const hvac *h, long t, const double *x, double *u)
{
    double out, ghi, ground;
    weather_at(h, t, &out, &ghi, &ground);
    memset(u, 0, h->model.m * sizeof *u);
    u[HVAC_U_OCC] = hvac_occupant_heat(h->activity, mean(x, h->n));
    u[HVAC_U_GROUND] = ground;
    u[HVAC_U_OUT] = out;
    u[h->model.m - 1] = h->weather->max_ghi > 0 ? ghi / h->weather->max_ghi : 0.0;
}

/* Occupant heat of the whole building, kW (0 while occupancy is 0). */
static double occupant_kw(const hvac *h, const double *x)
{
    double t = mean(x, h->n);
    return h->occupancy * (double)h->n *
           (hvac_occupant_heat(h->activity, t) + HVAC_OCC_LINEAR * t) / 1000.0;
}

/* The observation at the current step; the step's weather is kept for its inputs. */
static void observe(hvac *h, double *obs)
{
    size_t n = h->n;
    h->now_t = -1;      /* computed afresh: reset may have moved the clock */
    weather_at(h, h->t, &h->now_out, &h->now_ghi, &h->now_ground);
    h->now_t = h->t;
    memcpy(obs, h->x, n * sizeof *obs);
    obs[n] = h->now_out;
    obs[n + 1] = h->now_ghi;
    obs[n + 2] = h->now_ground;
    obs[n + 3] = occupant_kw(h, h->x);
}

/* ----------------------------------------------------------------------- parameters */

static double num(const json_t *params, const char *key)
{
    return json_number_value(json_object_get(params, key));
}

static const char *str(const json_t *params, const char *key)
{
    return json_string_value(json_object_get(params, key));
}

static int is_epw_path(const char *s)
{
    size_t len = strlen(s);
    return strchr(s, '/') || (len > 4 && strcasecmp(s + len - 4, ".epw") == 0) ||
           (len > 7 && strcasecmp(s + len - 7, ".epw.gz") == 0);
}

/* Words for an EPW file's climate: the condition whose TMY3 city is in the file name. */
static char *climate_words_for_file(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char file_key[512], city_key[64];
    hvac_name_key(base, file_key, sizeof file_key);
    for (size_t i = 0; i < HVAC_N_CONDITIONS; i++) {
        const char *city = hvac_condition_city(hvac_condition_names[i]);
        hvac_name_key(city ? city : "", city_key, sizeof city_key);
        if (city_key[0] && strstr(file_key, city_key))
            return strdup(hvac_condition_words(hvac_condition_names[i]));
    }
    return strdup(base);
}

/* Check the shape of the 'initial' parameter (or reset option). */
static int check_initial(const hvac *h, const json_t *v, const char *where)
{
    if (json_is_string(v) && strcmp(json_string_value(v), "target") == 0)
        return 0;
    if (json_is_number(v) && isfinite(json_number_value(v)))
        return 0;
    if (json_is_array(v)) {
        if (json_array_size(v) != h->n)
            return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, where,
                                          "hvac: %s: expected %zu temperatures (one per zone), "
                                          "found %zu", where, h->n, json_array_size(v));
        for (size_t i = 0; i < h->n; i++)
            if (!json_is_number(json_array_get(v, i)) ||
                !isfinite(json_number_value(json_array_get(v, i))))
                return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, where,
                                              "hvac: %s[%zu] is not a finite number", where, i);
        return 0;
    }
    json_t *range = json_object_get(v, "uniform");
    if (json_is_object(v) && json_object_size(v) == 1 && json_array_size(range) == 2 &&
        json_is_number(json_array_get(range, 0)) && json_is_number(json_array_get(range, 1)) &&
        json_number_value(json_array_get(range, 0)) <= json_number_value(json_array_get(range, 1)))
        return 0;
    return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, where,
                                  "hvac: %s must be \"target\", a number, a list of %zu numbers "
                                  "or {\"uniform\": [low, high]}", where, h->n);
}

static void apply_initial(hvac *h, const json_t *v, uint64_t seed)
{
    fewshot_rng rng;
    fewshot_rng_seed(&rng, seed);
    for (size_t i = 0; i < h->n; i++) {
        if (json_is_number(v))
            h->x[i] = json_number_value(v);
        else if (json_is_array(v))
            h->x[i] = json_number_value(json_array_get(v, i));
        else if (json_is_object(v)) {
            json_t *r = json_object_get(v, "uniform");
            double lo = json_number_value(json_array_get(r, 0));
            double hi = json_number_value(json_array_get(r, 1));
            h->x[i] = lo + (hi - lo) * fewshot_rng_uniform(&rng);
        } else
            h->x[i] = h->target;
    }
}

/* weather_source: how a condition name becomes a year (an EPW path is always that file). */
static int weather_source(const json_t *params, hvac_weather_source *out)
{
    const char *source = str(params, "weather_source");
    if (source && strcmp(source, "tmy3") == 0)
        *out = HVAC_WEATHER_TMY3;
    else if (source && strcmp(source, "synthetic") == 0)
        *out = HVAC_WEATHER_SYNTHETIC;
    else
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "weather_source",
                                      "hvac: parameter 'weather_source' is '%s', expected "
                                      "\"tmy3\" (the condition's TMY3 year, BEAR's) or "
                                      "\"synthetic\" (a generated year for the seed)",
                                      source ? source : "");
    return 0;
}

static int load_weather(hvac *h, const json_t *params)
{
    const char *weather = str(params, "weather");
    hvac_weather_source source = HVAC_WEATHER_TMY3;
    int rc;
    if (!weather)
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "weather",
                                      "hvac: parameter 'weather' is required");
    if ((rc = weather_source(params, &source)) != 0)
        return rc;
    if (is_epw_path(weather)) {
        if (source == HVAC_WEATHER_SYNTHETIC)
            return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "weather_source",
                                          "hvac: parameter 'weather_source' is \"synthetic\" but "
                                          "'weather' is a file (%s); give a condition such as "
                                          "Cool_Humid to generate a year", weather);
        char *path;
        if ((rc = hvac_weather_find_file(weather, &path)) != 0)
            return rc;
        rc = hvac_weather_acquire(&h->weather, HVAC_WEATHER_FILE, path, 0);
        free(path);
        if (rc) {
            fewshot_error_prefix("hvac: parameter 'weather'");
            return rc;
        }
        h->weather_words = climate_words_for_file(weather);
    } else {
        const char *canonical;
        if (hvac_condition_lookup(weather, &canonical) != 0)
            return fewshot_error_set_path(FEWSHOT_ENOTFOUND, NULL, "weather",
                                          "hvac: parameter 'weather': unknown weather condition "
                                          "'%s' (a condition such as Hot_Dry, Cool_Humid, "
                                          "Very_Cold, or a path to an EPW file)", weather);
        json_int_t seed = json_integer_value(json_object_get(params, "seed"));
        if ((rc = hvac_weather_acquire(&h->weather, source, canonical, (uint64_t)seed)) != 0) {
            fewshot_error_prefix("hvac: parameter 'weather'");
            return rc;
        }
        h->weather_words = strdup(hvac_condition_words(weather));
    }
    if (h->weather->hours == 0)
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "weather",
                                      "hvac: parameter 'weather': '%s' has no hourly rows",
                                      weather);
    const char *city = str(params, "city");
    if (city) {
        if ((rc = hvac_ground_temperatures(city, h->ground)) != 0) {
            char message[1024];
            snprintf(message, sizeof message, "%s", fewshot_error_last()->message);
            return fewshot_error_set_path(rc, NULL, "city", "hvac: parameter 'city': %s",
                                          message);
        }
        h->city = strdup(hvac_ground_city(city));
    } else if (!is_epw_path(weather)) {
        city = hvac_condition_city(weather);
        if ((rc = hvac_ground_temperatures(city, h->ground)) != 0)
            return rc;
        h->city = strdup(city);
        json_object_set_new(h->params, "city", json_string(city));  /* the resolved value */
    } else if (h->weather->has_ground) {
        memcpy(h->ground, h->weather->ground, sizeof h->ground);
        h->city = strdup("the weather file's location");
    } else
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "city",
                                      "hvac: parameter 'city' is required: '%s' has no ground "
                                      "temperatures", weather);
    return 0;
}

static int check_params(const json_t *p)
{
    const char *reward = str(p, "reward");
    if (!reward || (strcmp(reward, "paper") && strcmp(reward, "bear")))
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "reward",
                                      "hvac: parameter 'reward' must be \"paper\" or \"bear\"");
    const char *solver = str(p, "mpc_solver");
    if (!solver || (strcmp(solver, "active-set") && strcmp(solver, "fista")))
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "mpc_solver",
                                      "hvac: parameter 'mpc_solver' must be active-set or fista");
    static const char *const positive[] = {"max_power", "time_step", "activity", NULL};
    for (size_t i = 0; positive[i]; i++)
        if (!(num(p, positive[i]) > 0) || !isfinite(num(p, positive[i])))
            return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, positive[i],
                                          "hvac: parameter '%s' must be positive", positive[i]);
    static const char *const nonneg[] = {"alpha", "occupancy", "thermostat_gain", "shgc",
                                         "shgc_weight", "ground_weight", NULL};
    for (size_t i = 0; nonneg[i]; i++)
        if (!(num(p, nonneg[i]) >= 0) || !isfinite(num(p, nonneg[i])))
            return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, nonneg[i],
                                          "hvac: parameter '%s' must be a finite number >= 0",
                                          nonneg[i]);
    if (!isfinite(num(p, "target")))
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "target",
                                      "hvac: parameter 'target' must be finite");
    json_int_t day = json_integer_value(json_object_get(p, "start_day"));
    json_int_t hour = json_integer_value(json_object_get(p, "start_hour"));
    json_int_t length = json_integer_value(json_object_get(p, "episode_length"));
    json_int_t horizon = json_integer_value(json_object_get(p, "horizon"));
    if (day < 1 || day > 365)
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "start_day",
                                      "hvac: parameter 'start_day' must be a day of the year, "
                                      "1 to 365");
    if (hour < 0 || hour > 23)
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "start_hour",
                                      "hvac: parameter 'start_hour' must be 0 to 23");
    if (length < 1)
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "episode_length",
                                      "hvac: parameter 'episode_length' must be at least 1");
    if (horizon < 1 || horizon > 48)
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "horizon",
                                      "hvac: parameter 'horizon' must be 1 to 48 steps");
    return 0;
}

static void hvac_destroy(void *self)
{
    hvac *h = self;
    if (!h)
        return;
    json_decref(h->params);
    fewshot_building_free(h->building);
    hvac_weather_release(h->weather);
    hvac_model_free(&h->model);
    hvac_mpc_free(&h->mpc);
    free(h->mpc_exo);
    free(h->weather_words);
    free(h->city);
    free(h->building_name);
    free(h->obs_low);
    free(h->obs_high);
    free(h->act_low);
    free(h->act_high);
    for (size_t i = 0; h->obs_names && i < h->n + N_EXO; i++)
        free(h->obs_names[i]);
    for (size_t i = 0; h->act_names && i < h->n; i++)
        free(h->act_names[i]);
    free(h->obs_names);
    free(h->act_names);
    free(h->x);
    free(h->u);
    free(h->xn);
    for (size_t i = 0; h->room_names && i < h->n; i++)
        json_decref(h->room_names[i]);
    for (size_t i = 0; h->room_zones && i < h->n; i++)
        json_decref(h->room_zones[i]);
    free(h->room_names);
    free(h->room_zones);
    json_decref(h->s_building);
    json_decref(h->s_weather);
    json_decref(h->s_city);
    json_decref(h->s_heating);
    json_decref(h->s_cooling);
    free(h);
}

static int make_context_strings(hvac *h)
{
    h->room_names = calloc(h->n, sizeof *h->room_names);
    h->room_zones = calloc(h->n, sizeof *h->room_zones);
    if (!h->room_names || !h->room_zones)
        return fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
    for (size_t i = 0; i < h->n; i++) {
        char name[32];
        snprintf(name, sizeof name, "Room %zu", i + 1);
        const char *zone = h->building->zones[i].name;
        h->room_names[i] = json_string(name);
        h->room_zones[i] = json_string(zone ? zone : "");
        if (!h->room_names[i] || !h->room_zones[i])
            return fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory or a zone name that "
                                     "is not UTF-8 (zone %zu)", i + 1);
    }
    h->s_building = json_string(h->building_name);
    h->s_weather = json_string(h->weather_words);
    h->s_city = json_string(h->city);
    h->s_heating = json_string("heating");
    h->s_cooling = json_string("cooling");
    if (!h->s_building || !h->s_weather || !h->s_city || !h->s_heating || !h->s_cooling)
        return fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory or a name that is not "
                                 "UTF-8 (building '%s', weather '%s')", h->building_name,
                                 h->weather_words);
    return 0;
}

static int make_spaces(hvac *h)
{
    size_t n = h->n, d = n + N_EXO;
    h->obs_low = calloc(d, sizeof *h->obs_low);
    h->obs_high = calloc(d, sizeof *h->obs_high);
    h->act_low = calloc(n, sizeof *h->act_low);
    h->act_high = calloc(n, sizeof *h->act_high);
    h->obs_names = calloc(d, sizeof *h->obs_names);
    h->act_names = calloc(n, sizeof *h->act_names);
    if (!h->obs_low || !h->obs_high || !h->act_low || !h->act_high || !h->obs_names ||
        !h->act_names)
        return fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *zone = h->building->zones[i].name ? h->building->zones[i].name : "zone";
        size_t len = strlen(zone) + 16;
        h->obs_names[i] = malloc(len);
        h->act_names[i] = malloc(len);
        if (!h->obs_names[i] || !h->act_names[i])
            return fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
        snprintf(h->obs_names[i], len, "temperature_%s", zone);
        snprintf(h->act_names[i], len, "hvac_%s", zone);
        h->obs_low[i] = -INFINITY;
        h->obs_high[i] = INFINITY;
        h->act_low[i] = -1;
        h->act_high[i] = 1;
    }
    static const char *const exo[N_EXO] = {"outdoor_temperature", "ghi", "ground_temperature",
                                           "occupant_power_kw"};
    static const double lo[N_EXO] = {-INFINITY, 0, -INFINITY, 0};
    for (size_t k = 0; k < N_EXO; k++) {
        h->obs_names[n + k] = strdup(exo[k]);
        if (!h->obs_names[n + k])
            return fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
        h->obs_low[n + k] = lo[k];
        h->obs_high[n + k] = INFINITY;
    }
    return 0;
}

static int hvac_create(void **self, const json_t *params)
{
    hvac *h = calloc(1, sizeof *h);
    int rc;
    if (!h)
        return fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
    h->params = json_deep_copy(params);
    if ((rc = check_params(params)) != 0)
        goto fail;
    const char *building = str(params, "building");
    if (!building) {
        rc = fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "building",
                                    "hvac: parameter 'building' is required");
        goto fail;
    }
    if ((rc = fewshot_building_load(&h->building, building)) != 0) {
        fewshot_error_prefix("hvac: parameter 'building'");
        goto fail;
    }
    h->n = h->building->n_zones;
    h->building_name = strdup(h->building->name ? h->building->name : building);
    if ((rc = load_weather(h, params)) != 0)
        goto fail;
    h->target = num(params, "target");
    h->alpha = num(params, "alpha");
    h->occupancy = num(params, "occupancy");
    h->activity = num(params, "activity");
    h->thermostat_gain = num(params, "thermostat_gain");
    h->reward_bear = strcmp(str(params, "reward"), "bear") == 0;
    h->mpc_solver = strcmp(str(params, "mpc_solver"), "fista") == 0 ? HVAC_MPC_FISTA
                                                                     : HVAC_MPC_ACTIVE_SET;
    h->start_day = (long)json_integer_value(json_object_get(params, "start_day"));
    h->start_hour = (long)json_integer_value(json_object_get(params, "start_hour"));
    h->episode_length = (long)json_integer_value(json_object_get(params, "episode_length"));
    h->horizon = (long)json_integer_value(json_object_get(params, "horizon"));
    h->initial = json_object_get(h->params, "initial");
    if ((rc = check_initial(h, h->initial, "initial")) != 0)
        goto fail;
    hvac_model_options o = {
        .max_power = num(params, "max_power"),
        .dt = num(params, "time_step"),
        .shgc = num(params, "shgc"),
        .shgc_weight = num(params, "shgc_weight"),
        .ground_weight = num(params, "ground_weight"),
        .max_ghi = h->weather->max_ghi,
        .tz = h->weather->tz,
        .occupancy = h->occupancy,
    };
    if ((rc = hvac_model_build(&h->model, h->building, &o)) != 0) {
        fewshot_error_prefix("hvac: building '%s'", h->building_name);
        goto fail;
    }
    h->x = calloc(h->n, sizeof *h->x);
    h->xn = calloc(h->n, sizeof *h->xn);
    h->u = calloc(h->model.m, sizeof *h->u);
    if (!h->x || !h->xn || !h->u) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
        goto fail;
    }
    if ((rc = make_spaces(h)) != 0 || (rc = make_context_strings(h)) != 0)
        goto fail;
    h->start_day_ep = h->start_day;
    h->start_hour_ep = h->start_hour;
    h->now_t = -1;
    apply_initial(h, h->initial, 0);
    *self = h;
    return 0;
fail:
    hvac_destroy(h);
    return rc;
}

static int hvac_spaces(void *self, fewshot_space *obs, fewshot_space *act)
{
    hvac *h = self;
    *obs = (fewshot_space){h->n + N_EXO, h->obs_low, h->obs_high, 0,
                           (const char *const *)h->obs_names};
    *act = (fewshot_space){h->n, h->act_low, h->act_high, 0, (const char *const *)h->act_names};
    return 0;
}

static int hvac_params(void *self, json_t **out)
{
    hvac *h = self;
    *out = json_deep_copy(h->params);
    return *out ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
}

static int hvac_reset(void *self, uint64_t seed, const json_t *options, double *obs)
{
    hvac *h = self;
    const json_t *initial = h->initial;
    h->start_day_ep = h->start_day;
    h->start_hour_ep = h->start_hour;
    if (options && json_is_object(options)) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)options, key, v) {
            if (strcmp(key, "initial") == 0) {
                int rc = check_initial(h, v, "options.initial");
                if (rc)
                    return rc;
                initial = v;
            } else if (strcmp(key, "start_day") == 0 && json_is_integer(v) &&
                       json_integer_value(v) >= 1 && json_integer_value(v) <= 365) {
                h->start_day_ep = (long)json_integer_value(v);
            } else if (strcmp(key, "start_hour") == 0 && json_is_integer(v) &&
                       json_integer_value(v) >= 0 && json_integer_value(v) <= 23) {
                h->start_hour_ep = (long)json_integer_value(v);
            } else
                return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, key,
                                              "hvac: unknown or invalid reset option '%s' "
                                              "(initial, start_day 1-365, start_hour 0-23)", key);
        }
    }
    apply_initial(h, initial, seed);
    h->t = 0;
    if (h->mpc_ready)
        hvac_mpc_reset(&h->mpc);
    observe(h, obs);
    return 0;
}

static int hvac_step(void *self, const double *action, fewshot_step *out)
{
    hvac *h = self;
    size_t n = h->n;
    inputs_at(h, h->t, h->x, h->u);
    double energy = 0, comfort = 0, a2 = 0;
    for (size_t i = 0; i < n; i++) {
        double a = action[i];               /* finite: the library checks */
        a = a < -1.0 ? -1.0 : a > 1.0 ? 1.0 : a;
        h->u[HVAC_U_ACT + i] = a;
        energy += fabs(a);
        a2 += a * a;
    }
    hvac_model_step(&h->model, h->x, h->u, h->x);   /* it reads x before writing */
    h->t++;
    for (size_t i = 0; i < n; i++) {
        double e = h->x[i] - h->target;
        comfort += e * e;
    }
    double r_energy, r_comfort;
    if (h->reward_bear) {
        r_energy = -0.024 * sqrt(a2);
        r_comfort = -0.999 * sqrt(comfort);
    } else {
        r_energy = 1.0 - energy / (double)n;
        r_comfort = h->alpha * (1.0 - comfort / (h->target * (double)n));
    }
    observe(h, out->obs);
    out->reward = r_energy + r_comfort;
    out->term_values[0] = r_energy;                 /* term_names' order */
    out->term_values[1] = r_comfort;
    out->done = 0;
    out->truncated = h->t >= h->episode_length;
    return 0;
}

/* ----------------------------------------------------------------------- LLM loop */

/* obj[key] = value (a new reference, NULL on allocation failure); records a failure in *ok. */
static void put(json_t *obj, const char *key, json_t *value, int *ok)
{
    if (!value || json_object_set_new_nocheck(obj, key, value) != 0)
        *ok = 0;
}

/* The paper's instruction: heating valves open 0..100, cooling -100..0 (a new array). */
static json_t *range_of(int heating)
{
    json_t *r = json_array();
    if (r && (json_array_append_new(r, json_real(heating ? 0.0 : -1.0)) ||
              json_array_append_new(r, json_real(heating ? 1.0 : 0.0)))) {
        json_decref(r);
        return NULL;
    }
    return r;
}

static int hvac_context(void *self, const double *obs, json_t **ctx)
{
    hvac *h = self;
    size_t n = h->n;
    int ok = 1;
    json_t *rooms = json_array();
    *ctx = json_object();
    if (!rooms || !*ctx)
        ok = 0;
    /* off-target as the prompt shows it: compare the rounded values */
    double target = round(h->target);
    for (size_t i = 0; ok && i < n; i++) {
        double t = round(obs[i]);
        json_t *room = json_object();
        if (!room || json_array_append_new(rooms, room) != 0) {
            ok = 0;
            break;
        }
        put(room, "name", json_incref(h->room_names[i]), &ok);
        put(room, "zone", json_incref(h->room_zones[i]), &ok);
        put(room, "temperature", json_real(obs[i]), &ok);
        put(room, "below_target", json_boolean(t < target), &ok);
        put(room, "above_target", json_boolean(t > target), &ok);
    }
    int heating = obs[n] < h->target;
    if (ok) {
        put(*ctx, "rooms", rooms, &ok);
        rooms = NULL;
        put(*ctx, "n_rooms", json_integer((json_int_t)n), &ok);
        put(*ctx, "outdoor_temperature", json_real(obs[n]), &ok);
        put(*ctx, "ghi", json_real(obs[n + 1]), &ok);
        put(*ctx, "ground_temperature", json_real(obs[n + 2]), &ok);
        put(*ctx, "occupant_power", json_real(obs[n + 3]), &ok);
        put(*ctx, "target", json_real(h->target), &ok);
        put(*ctx, "building", json_incref(h->s_building), &ok);
        put(*ctx, "weather", json_incref(h->s_weather), &ok);
        put(*ctx, "city", json_incref(h->s_city), &ok);
        put(*ctx, "mode", json_incref(heating ? h->s_heating : h->s_cooling), &ok);
        put(*ctx, "heating", json_boolean(heating), &ok);
        put(*ctx, "cooling", json_boolean(!heating), &ok);
        put(*ctx, "action_range", range_of(heating), &ok);
    }
    if (ok)
        return 0;
    json_decref(rooms);
    json_decref(*ctx);
    *ctx = NULL;
    return fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
}

static int hvac_features(void *self, const double *obs, float *out, size_t cap, size_t *dim)
{
    hvac *h = self;
    size_t n = h->n;
    *dim = N_FEATURES;
    if (cap < N_FEATURES)
        return 0;
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double e = obs[i] - h->target;
        sum += e;
        lo = fmin(lo, e);
        hi = fmax(hi, e);
    }
    /* the clock is the plugin's: obs is the current observation (demonstration generation and
     * retrieval both ask for the state being decided) */
    double s = clock_seconds(h, h->t);
    double hour = fmod(s / 3600.0, 24.0);
    series_pos now = series_locate(h->weather, s);
    series_pos next = series_locate(h->weather, s + h->model.dt);
    double f[N_FEATURES];
    f[F_OUTDOOR_ERROR] = obs[n] - h->target;
    f[F_MODE] = obs[n] < h->target ? -1.0 : 1.0;
    f[F_IRRADIANCE] = h->weather->max_ghi > 0 ? obs[n + 1] / h->weather->max_ghi : 0.0;
    f[F_ERROR_MEAN] = sum / (double)n;
    f[F_ERROR_MIN] = lo;
    f[F_ERROR_MAX] = hi;
    f[F_HOUR_SIN] = sin(2 * M_PI * hour / 24);
    f[F_HOUR_COS] = cos(2 * M_PI * hour / 24);
    f[F_OUTDOOR_TREND] = series_value(h->weather->temp, next) -
                         series_value(h->weather->temp, now);
    f[F_OCCUPANT] = obs[n + 3] / (double)n;
    for (size_t i = 0; i < N_FEATURES; i++)
        out[i] = (float)f[i];
    return 0;
}

/* ----------------------------------------------------------------------- experts */

static int thermostat(hvac *h, const double *obs, double *action)
{
    /* proportional: a_i = k_i (T - t_i), k_i = gain / r_i with r_i zone i's one-step
     * response when every zone acts alike (zones are strongly coupled: their own response
     * alone would overstate the gain and make the loop oscillate) */
    size_t n = h->n, m = h->model.m;
    for (size_t i = 0; i < n; i++) {
        double response = 0;
        for (size_t j = 0; j < n; j++)
            response += h->model.Bd[i * m + HVAC_U_ACT + j];
        double a = h->thermostat_gain / response * (h->target - obs[i]);
        action[i] = fmax(-1.0, fmin(1.0, a));
    }
    return 0;
}

static int mpc(hvac *h, const double *obs, double *action)
{
    size_t n = h->n, m = h->model.m, N = (size_t)h->horizon;
    if (!h->mpc_ready) {
        if (!h->mpc_exo && !(h->mpc_exo = calloc(N * m, sizeof *h->mpc_exo)))
            return fewshot_error_set(FEWSHOT_ENOMEM, "hvac: out of memory");
        int rc = hvac_mpc_init(&h->mpc, &h->model, N, h->alpha / (h->target * (double)n),
                               1.0 / (double)n, h->target, h->mpc_solver);
        if (rc)
            return rc;
        h->mpc_ready = 1;
    }
    /* forecast: the weather series; occupant heat held at its current value */
    for (size_t k = 0; k < N; k++)
        inputs_at(h, h->t + (long)k, obs, h->mpc_exo + k * m);
    return hvac_mpc_solve(&h->mpc, obs, h->mpc_exo, action);
}

static int hvac_policy(void *self, const char *name, const double *obs, double *action)
{
    hvac *h = self;
    if (strcmp(name, "mpc") == 0 || strcmp(name, "expert") == 0)
        return mpc(h, obs, action);
    if (strcmp(name, "thermostat") == 0)
        return thermostat(h, obs, action);
    return fewshot_error_set(FEWSHOT_ENOTFOUND, "hvac: no policy '%s' (mpc, thermostat)", name);
}

static const char *hvac_template(void *self, const char *component)
{
    return hvac_template_text(component);
}

/* ----------------------------------------------------------------------- the table */

#define P(name, type, def, doc) "\"" name "\": {\"type\": \"" type "\", \"default\": " def \
                                ", \"doc\": \"" doc "\"}"
/* the same with the bounds the library checks before create() (fewshot-plugin(7)) */
#define PB(name, type, def, lo, hi, doc) "\"" name "\": {\"type\": \"" type "\", \"default\": " \
                                def ", \"min\": " lo ", \"max\": " hi ", \"doc\": \"" doc "\"}"

static const fewshot_env_plugin hvac_plugin = {
    .abi = FEWSHOT_PLUGIN_ABI,
    .name = "hvac",
    .summary = "BEAR's building thermal model (RC network, EnergyPlus buildings, EPW weather)",
    /* 1.1: conditions run their TMY3 year by default; 10 named features (demonstrations made
     * by 1.0 hold other weather and features) */
    .version = "1.1",
    .params_doc =
        "{\"action_scale\": 100, \"params\": {"
        P("building", "string", "\"OfficeSmall\"",
          "prototype name (OfficeSmall, OfficeMedium, ...), building JSON file or EnergyPlus "
          "*.table.htm") ","
        P("weather", "string", "\"Hot_Dry\"",
          "weather condition (Hot_Dry, Cool_Humid, ...; its TMY3 city's year, as BEAR) or an "
          "EPW file (plain or .gz)") ","
        P("weather_source", "string", "\"tmy3\"",
          "for a condition: tmy3 (the TMY3 year shipped with the plugin, BEAR's) or synthetic "
          "(a year generated for 'seed', calibrated to the TMY3 months)") ","
        P("city", "string", "null",
          "ground temperature table (Tucson, Buffalo, ...); default: the condition's city, or "
          "the EPW file's ground temperatures") ","
        PB("target", "number", "22", "-50", "60", "target temperature, C") ","
        PB("alpha", "number", "1", "0", "1e9", "weight of comfort in the paper reward") ","
        P("reward", "string", "\"paper\"",
          "paper: (1 - sum|a|/n) + alpha (1 - sum (t-T)^2/(T n)); bear: -(0.024 |a| + 0.999 "
          "|t-T|)") ","
        PB("max_power", "number", "8000", "0", "1e9", "HVAC power per zone at |a| = 1, W") ","
        PB("time_step", "number", "3600", "1", "86400", "seconds per step") ","
        PB("start_day", "integer", "1", "1", "366", "day of the year the episode starts (1 = Jan 1)") ","
        PB("start_hour", "integer", "0", "0", "23", "hour of the day the episode starts (0-23)") ","
        PB("episode_length", "integer", "24, \"role\": \"episode_length\"", "1", "1000000", "steps per episode") ","
        P("initial", "any", "\"target\"",
          "initial zone temperatures: target, a number, a list per zone, or "
          "{\\\"uniform\\\": [low, high]} drawn with the reset seed") ","
        PB("occupancy", "number", "0", "0", "1e6", "occupants per zone (BEAR's full_occ); 0: no occupant "
          "heat") ","
        PB("activity", "number", "120", "0", "1e6", "occupant activity, W per person") ","
        P("seed", "integer", "0", "seed of the synthetic weather year (weather_source synthetic)") ","
        PB("horizon", "integer", "6", "1", "1000", "MPC horizon, steps") ","
        P("mpc_solver", "string", "\"active-set\"",
          "MPC QP solver: active-set (coordinate descent and Newton steps) or fista") ","
        P("thermostat_gain", "number", "0.5",
          "thermostat: fraction of a zone's error corrected per step") ","
        P("shgc", "number", "0.252", "solar heat gain coefficient of the windows") ","
        P("shgc_weight", "number", "0.01", "BEAR's extra loss of solar irradiance") ","
        P("ground_weight", "number", "0.5", "BEAR's weight of the ground coupling") "}}",
    .create = hvac_create,
    .destroy = hvac_destroy,
    .spaces = hvac_spaces,
    .params = hvac_params,
    .reset = hvac_reset,
    .step = hvac_step,
    .context = hvac_context,
    .features = hvac_features,
    .policies = policies,
    .term_names = term_names,
    .feature_names = feature_names,
    .policy = hvac_policy,
    .template_text = hvac_template,
};

const fewshot_env_plugin *fewshot_env_plugin_entry(void);

const fewshot_env_plugin *fewshot_env_plugin_entry(void)
{
    return &hvac_plugin;
}
