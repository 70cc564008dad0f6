/*
 * The hvac plugin's weather: an EPW reader, synthetic years for BEAR's 16 weather conditions
 * (calibrated to the monthly statistics of their TMY3 files, climate_table.c), and the monthly
 * ground temperatures of BEAR's 19 cities. Plugin-internal: compiled into hvac.la.
 *
 * Functions return 0 or a negative FEWSHOT_E* code with the details in fewshot_error_last().
 */
#ifndef HVAC_WEATHER_H
#define HVAC_WEATHER_H

#include <stddef.h>
#include <stdint.h>

#define HVAC_N_CONDITIONS 16
#define HVAC_N_CITIES 19

typedef struct hvac_weather {
    size_t hours;      /* number of hourly rows (8760 for a TMY3 year) */
    double *temp;      /* dry-bulb temperature, C, per hour (hour 0 = Jan 1 00:00) */
    double *ghi;       /* global horizontal irradiance, Wh/m2, per hour */
    double max_ghi;    /* max of ghi over the file */
    double tz;         /* time zone, hours from UTC (EPW LOCATION field 9) */
    double ground[12]; /* monthly ground temperatures from the EPW header (first depth) */
    int has_ground;
    char *source;      /* EPW path or the synthetic condition name */
    /* additions beyond the shared interface */
    unsigned char *month;        /* month (1..12) of each hour */
    double latitude, longitude;  /* degrees, north and east positive */
} hvac_weather;

/* Read an EPW file: 8 header lines (LOCATION field 9 = time zone, GROUND TEMPERATURES), then
 * hourly rows, field 7 = dry-bulb temperature, field 14 = GHI; whole days only. Errors name the
 * file and line and say what was expected. On failure *w is left empty. */
int hvac_weather_load_epw(hvac_weather *w, const char *path);

/* Synthetic year (8760 hours) for one of the 16 conditions ("Hot_Dry", ...; also "Hot and Dry"
 * and other spellings), calibrated to TMY3 monthly statistics; deterministic for a given seed.
 * tz, latitude and longitude are the TMY3 site's; max_ghi is the series' own maximum; no
 * ground temperatures (has_ground = 0: use hvac_ground_temperatures()). */
int hvac_weather_synthetic(hvac_weather *w, const char *condition, uint64_t seed);

void hvac_weather_free(hvac_weather *w);

/* ---- the years of a process (weather_store.c) ---- */

typedef enum hvac_weather_source {
    HVAC_WEATHER_FILE,        /* name: an EPW path (plain or gzip-compressed) */
    HVAC_WEATHER_TMY3,        /* name: a condition; its TMY3 year shipped with the plugin */
    HVAC_WEATHER_SYNTHETIC,   /* name: a condition; a synthetic year from seed */
} hvac_weather_source;

/* The shared year for (source, name, seed), loaded or generated on first use; thread-safe.
 * Every successful acquire is paired with a release. The year is read-only. */
int hvac_weather_acquire(const hvac_weather **out, hvac_weather_source source, const char *name,
                         uint64_t seed);
void hvac_weather_release(const hvac_weather *w);
/* Years held in the process (in use or kept idle for the next environment), for tests. */
size_t hvac_weather_shared_count(void);

/* The path of the TMY3 file shipped for a condition (NAME.epw.gz or NAME.epw), searched in
 * $FEWSHOT_WEATHER_PATH (colon-separated), the installed weather directory, then the source
 * tree's when running from the build tree. A new string in *path; FEWSHOT_ENOTFOUND naming the
 * file and the directories searched. */
int hvac_weather_find_tmy3(const char *condition, char **path);
/* An EPW file name: a path (with '/') or an existing file as given; otherwise a file of that
 * name (or NAME.gz) in the weather directories, e.g. the shipped Chicago year by its file name.
 * A new string in *path (the name itself when found nowhere: opening it reports that). */
int hvac_weather_find_file(const char *name, char **path);
/* The installed weather directory. */
const char *hvac_weather_dir(void);

/* "Hot_Dry" -> "Hot and Dry"; NULL for an unknown condition. */
const char *hvac_condition_words(const char *condition);
/* "Hot_Dry" -> "Tucson" (a name hvac_ground_temperatures() knows); NULL when unknown. */
const char *hvac_condition_city(const char *condition);
/* 1 when condition names one of the 16 conditions (leniently spelled), else 0. */
int hvac_condition_valid(const char *condition);
/* The canonical name ("Hot_Dry") in *canonical; FEWSHOT_ENOTFOUND listing the valid ones. */
int hvac_condition_lookup(const char *condition, const char **canonical);
/* The 16 condition names, in BEAR's order. */
extern const char *const hvac_condition_names[HVAC_N_CONDITIONS];

/* Monthly ground temperatures (Jan..Dec) of one of the 19 cities ("Tucson", "NewYork"; also
 * "New York", "new_york"); FEWSHOT_ENOTFOUND listing the valid names otherwise. */
int hvac_ground_temperatures(const char *city, double out[12]);
/* The canonical city name ("NewYork") or NULL. */
const char *hvac_ground_city(const char *city);
/* The city as words for prompts ("new_york" -> "New York"), or NULL when unknown. */
const char *hvac_city_words(const char *city);
extern const char *const hvac_ground_city_names[HVAC_N_CITIES];

/* ---- calibration (climate_table.c is generated by tools/climate_stats.py) ---- */

enum { HVAC_STAT_TMAX, HVAC_STAT_TMIN, HVAC_STAT_GHI_TOTAL, HVAC_STAT_GHI_PEAK, HVAC_N_STATS };

typedef struct hvac_climate {
    const char *condition, *city, *epw;
    double latitude, longitude, tz, max_ghi;
    double temp_sd;    /* sd of the daily mean temperature about its month's mean, C */
    double temp_ar1;   /* lag-1 autocorrelation of that anomaly */
    double ghi_cv;     /* coefficient of variation of the daily GHI sum within a month */
    double monthly[12][HVAC_N_STATS];   /* mean daily max, min (C), GHI sum, GHI peak (Wh/m2) */
} hvac_climate;

extern const hvac_climate hvac_climates[HVAC_N_CONDITIONS];

/* The monthly statistics of a weather series, as defined in climate_table.c: means over the
 * days of each month of the daily max and min temperature, GHI sum and GHI peak. Days are
 * rows 24d..24d+23; the month is w->month's (a 365-day calendar when NULL). */
int hvac_weather_monthly_stats(const hvac_weather *w, double out[12][HVAC_N_STATS]);

/* Normalise a name for lenient matching: lower case, letters and digits only. */
void hvac_name_key(const char *name, char *key, size_t size);

#endif
