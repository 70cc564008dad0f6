/*
 * BEAR's 16 weather conditions and synthetic hourly years for them, so the plugin works without
 * weather files. Each year is calibrated to the monthly statistics of the condition's TMY3 file
 * (climate_table.c): mean daily maximum and minimum temperature, mean daily GHI sum and mean
 * daily GHI peak.
 *
 * The generator: monthly anchors interpolated linearly between mid-months (cyclically) give
 * smooth daily targets; seeded day-to-day variation (an AR(1) temperature anomaly and a cloud
 * factor, both with the TMY3 file's spread) is added, zero-mean within each month; each day's
 * temperature follows a cosine from its minimum at 06:00 to its maximum at 15:00 and back down
 * to the next day's minimum; each day's GHI is P * u^k, u the clear-sky shape (sine of the sun's
 * elevation at the site, normalised to 1 at noon) and k chosen so the day has its GHI sum and
 * peak P. Because interpolation, day boundaries and clipping move the monthly statistics a
 * little, the anchors are then corrected a few times against the statistics of the generated
 * series itself, so every month lands on its target.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "fewshot/rng.h"
#include "weather.h"

#define DAYS 365
#define HOURS (24 * DAYS)
#define CALIBRATION_ROUNDS 12
#define HOUR_TMIN 6.0    /* clock time of the daily minimum */
#define HOUR_TMAX 15.0   /* and maximum */

const char *const hvac_condition_names[HVAC_N_CONDITIONS] = {
    "Very_Hot_Humid", "Hot_Humid", "Hot_Dry", "Warm_Humid", "Warm_Dry", "Warm_Marine",
    "Mixed_Humid", "Mixed_Dry", "Mixed_Marine", "Cool_Humid", "Cool_Dry", "Cool_Marine",
    "Cold_Humid", "Cold_Dry", "Very_Cold", "Subarctic",
};

static const char *const condition_words[HVAC_N_CONDITIONS] = {
    "Very Hot and Humid", "Hot and Humid", "Hot and Dry", "Warm and Humid", "Warm and Dry",
    "Warm and Marine", "Mixed and Humid", "Mixed and Dry", "Mixed and Marine", "Cool and Humid",
    "Cool and Dry", "Cool and Marine", "Cold and Humid", "Cold and Dry", "Very Cold",
    "Subarctic",
};

static int condition_index(const char *condition)
{
    char want[64], have[64];
    hvac_name_key(condition, want, sizeof want);
    for (int i = 0; want[0] && i < HVAC_N_CONDITIONS; i++) {
        hvac_name_key(hvac_condition_names[i], have, sizeof have);
        if (strcmp(want, have) == 0)
            return i;
        hvac_name_key(condition_words[i], have, sizeof have);
        if (strcmp(want, have) == 0)
            return i;
    }
    return -1;
}

int hvac_condition_valid(const char *condition)
{
    return condition_index(condition) >= 0;
}

const char *hvac_condition_words(const char *condition)
{
    int i = condition_index(condition);
    return i < 0 ? NULL : condition_words[i];
}

const char *hvac_condition_city(const char *condition)
{
    int i = condition_index(condition);
    return i < 0 ? NULL : hvac_climates[i].city;
}

int hvac_condition_lookup(const char *condition, const char **canonical)
{
    int i = condition_index(condition);
    if (i < 0) {
        char list[512];
        size_t n = 0;
        list[0] = '\0';
        for (int k = 0; k < HVAC_N_CONDITIONS && n < sizeof list; k++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", k ? ", " : "",
                                  hvac_condition_names[k]);
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "unknown weather condition '%s' (known: %s; "
                                 "or give the path of an EPW file)",
                                 condition ? condition : "(null)", list);
    }
    *canonical = hvac_condition_names[i];
    return 0;
}

/* ------------------------------------------------------------------ the generator */

static const int month_start[13] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};

typedef struct synth {
    const hvac_climate *c;
    int month[DAYS];            /* 0..11 */
    double shape[DAYS][24];     /* clear-sky shape, max 1 per day (0 all day in polar night) */
    double log_shape[DAYS][24]; /* its logarithm where positive */
    double noise[DAYS];         /* temperature anomaly, C, zero mean per month */
    double cloud[DAYS];         /* GHI factor, mean 1 per month */
    double exponent[DAYS];      /* the day's GHI shape exponent, kept between rounds */
    double anchor[12][HVAC_N_STATS];
} synth;

/* Linear interpolation of monthly anchors between mid-months, cyclic over the year. */
static double interpolate(const synth *s, int stat, int d)
{
    double t = d + 0.5;
    int m = s->month[d];
    double mid = 0.5 * (month_start[m] + month_start[m + 1]);
    int other = t < mid ? (m + 11) % 12 : (m + 1) % 12;
    double other_mid = 0.5 * (month_start[other] + month_start[other + 1]);
    if (t < mid && other == 11)
        other_mid -= DAYS;
    if (t >= mid && other == 0)
        other_mid += DAYS;
    double w = (t - mid) / (other_mid - mid);
    return (1 - w) * s->anchor[m][stat] + w * s->anchor[other][stat];
}

/* Sine of the sun's elevation at clock time t (hours, local standard time) of day d. */
static double sun_sine(const hvac_climate *c, int d, double t)
{
    const double rad = M_PI / 180;
    int n = d + 1;
    double decl = 23.45 * rad * sin(2 * M_PI * (284 + n) / 365.0);
    double b = 2 * M_PI * (n - 81) / 364.0;
    double eot = 9.87 * sin(2 * b) - 7.53 * cos(b) - 1.5 * sin(b);   /* minutes */
    double solar = t + (4 * (c->longitude - 15 * c->tz) + eot) / 60;
    double omega = 15 * rad * (solar - 12);
    double lat = c->latitude * rad;
    return sin(lat) * sin(decl) + cos(lat) * cos(decl) * cos(omega);
}

static void prepare(synth *s, uint64_t seed)
{
    const hvac_climate *c = s->c;
    for (int m = 0; m < 12; m++)
        for (int d = month_start[m]; d < month_start[m + 1]; d++)
            s->month[d] = m;
    for (int d = 0; d < DAYS; d++) {
        double peak = 0;
        for (int h = 0; h < 24; h++) {
            /* EPW hour h+1 covers clock time h..h+1 */
            s->shape[d][h] = fmax(0, sun_sine(c, d, h + 0.5));
            peak = fmax(peak, s->shape[d][h]);
        }
        for (int h = 0; h < 24; h++) {
            s->shape[d][h] = peak > 0 ? s->shape[d][h] / peak : 0;
            s->log_shape[d][h] = s->shape[d][h] > 0 ? log(s->shape[d][h]) : 0;
        }
    }
    fewshot_rng rng;
    fewshot_rng_seed(&rng, seed);
    double phi = fmin(fmax(c->temp_ar1, 0), 0.95), anomaly = c->temp_sd * fewshot_rng_normal(&rng);
    double upper = 1 + 1.5 * c->ghi_cv;
    for (int d = 0; d < DAYS; d++) {
        if (d)
            anomaly = phi * anomaly + sqrt(1 - phi * phi) * c->temp_sd * fewshot_rng_normal(&rng);
        s->noise[d] = anomaly;
        s->cloud[d] = fmin(fmax(1 + c->ghi_cv * fewshot_rng_normal(&rng), 0.1), upper);
        s->exponent[d] = 1;
    }
    for (int m = 0; m < 12; m++) {
        double mean_noise = 0, mean_cloud = 0;
        int n = month_start[m + 1] - month_start[m];
        for (int d = month_start[m]; d < month_start[m + 1]; d++) {
            mean_noise += s->noise[d] / n;
            mean_cloud += s->cloud[d] / n;
        }
        for (int d = month_start[m]; d < month_start[m + 1]; d++) {
            s->noise[d] -= mean_noise;
            s->cloud[d] /= mean_cloud;
        }
        memcpy(s->anchor[m], c->monthly[m], sizeof s->anchor[m]);
    }
}

/* Exponent k with sum(u^k) = ratio over the day's shape u (log_u = log u where u > 0). The sum
 * is convex and decreasing in k: Newton's method from the previous round's k, kept inside a
 * shrinking bracket (bisection when a step leaves it). */
static double shape_exponent(const double *u, const double *log_u, double ratio, double k)
{
    double lo = 0.02, hi = 50;
    k = fmin(fmax(k, lo), hi);
    for (int i = 0; i < 100; i++) {
        double sum = 0, slope = 0;
        for (int h = 0; h < 24; h++)
            if (u[h] > 0) {
                double p = exp(k * log_u[h]);
                sum += p;
                slope += p * log_u[h];
            }
        double f = sum - ratio;
        if (fabs(f) <= 1e-10 * ratio)
            break;
        if (f > 0)
            lo = k;
        else
            hi = k;
        double next = slope < 0 ? k - f / slope : 0.5 * (lo + hi);
        k = next > lo && next < hi ? next : 0.5 * (lo + hi);
        if (hi - lo < 1e-12)
            break;
    }
    return k;
}

static void generate(synth *s, hvac_weather *w)
{
    double tmax[DAYS], tmin[DAYS];
    for (int d = 0; d < DAYS; d++) {
        double hi = interpolate(s, HVAC_STAT_TMAX, d), lo = interpolate(s, HVAC_STAT_TMIN, d);
        /* cloudy days have a smaller diurnal range, clear days a larger one */
        double spread = 0.25 * (s->cloud[d] - 1) * (hi - lo);
        tmax[d] = hi + s->noise[d] + spread;
        tmin[d] = lo + s->noise[d] - spread;
    }
    for (int d = 0; d < DAYS; d++) {
        double prev_max = tmax[(d + DAYS - 1) % DAYS], next_min = tmin[(d + 1) % DAYS];
        for (int h = 0; h < 24; h++) {
            double t = h + 1, f, v;   /* EPW temperatures are at the end of hour h+1 */
            if (t < HOUR_TMIN) {
                f = (t + 24 - HOUR_TMAX) / (24 - HOUR_TMAX + HOUR_TMIN);
                v = tmin[d] + (prev_max - tmin[d]) * 0.5 * (1 + cos(M_PI * f));
            } else if (t <= HOUR_TMAX) {
                f = (t - HOUR_TMIN) / (HOUR_TMAX - HOUR_TMIN);
                v = tmin[d] + (tmax[d] - tmin[d]) * 0.5 * (1 - cos(M_PI * f));
            } else {
                f = (t - HOUR_TMAX) / (24 - HOUR_TMAX + HOUR_TMIN);
                v = next_min + (tmax[d] - next_min) * 0.5 * (1 + cos(M_PI * f));
            }
            w->temp[24 * d + h] = v;
        }
        const double *u = s->shape[d];
        double total = fmax(0, interpolate(s, HVAC_STAT_GHI_TOTAL, d) * s->cloud[d]);
        double peak = fmax(0, interpolate(s, HVAC_STAT_GHI_PEAK, d) * sqrt(s->cloud[d]));
        int daylight = 0;
        for (int h = 0; h < 24; h++)
            daylight += u[h] > 0;
        double ratio = peak > 0 ? total / peak : 0, k = s->exponent[d];
        if (daylight && ratio > 0)
            k = s->exponent[d] = shape_exponent(u, s->log_shape[d],
                                                fmin(fmax(ratio, 1.0), (double)daylight), k);
        for (int h = 0; h < 24; h++)
            w->ghi[24 * d + h] = daylight && peak > 0 && u[h] > 0 ? peak * exp(k * s->log_shape[d][h]) : 0;
    }
    w->max_ghi = 0;
    for (size_t k = 0; k < HOURS; k++)
        w->max_ghi = fmax(w->max_ghi, w->ghi[k]);
}

int hvac_weather_synthetic(hvac_weather *w, const char *condition, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    const char *name = NULL;
    int rc = hvac_condition_lookup(condition, &name);
    if (rc)
        return rc;
    synth *s = calloc(1, sizeof *s);
    w->temp = malloc(HOURS * sizeof *w->temp);
    w->ghi = malloc(HOURS * sizeof *w->ghi);
    w->month = malloc(HOURS);
    w->source = strdup(name);
    if (!s || !w->temp || !w->ghi || !w->month || !w->source) {
        free(s);
        hvac_weather_free(w);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory generating weather");
    }
    s->c = &hvac_climates[condition_index(name)];
    w->hours = HOURS;
    w->tz = s->c->tz;
    w->latitude = s->c->latitude;
    w->longitude = s->c->longitude;
    prepare(s, seed);
    for (int d = 0; d < DAYS; d++)
        memset(w->month + 24 * d, s->month[d] + 1, 24);
    double stats[12][HVAC_N_STATS];
    for (int round = 0; round < CALIBRATION_ROUNDS; round++) {
        generate(s, w);
        if (round + 1 == CALIBRATION_ROUNDS)
            break;
        hvac_weather_monthly_stats(w, stats);
        for (int m = 0; m < 12; m++) {
            const double *target = s->c->monthly[m];
            s->anchor[m][HVAC_STAT_TMAX] += target[HVAC_STAT_TMAX] - stats[m][HVAC_STAT_TMAX];
            s->anchor[m][HVAC_STAT_TMIN] += target[HVAC_STAT_TMIN] - stats[m][HVAC_STAT_TMIN];
            for (int k = HVAC_STAT_GHI_TOTAL; k <= HVAC_STAT_GHI_PEAK; k++)
                if (stats[m][k] > 0)
                    s->anchor[m][k] *= target[k] / stats[m][k];
        }
    }
    free(s);
    return 0;
}
