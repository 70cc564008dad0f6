/* TEMPORARY stand-in for the hvacdata branch's building.h and weather.h (deleted at merge). */
#ifndef HVAC_STANDIN_H
#define HVAC_STANDIN_H
#include <stddef.h>
#include <stdint.h>
typedef struct hvac_weather {
    size_t hours;
    double *temp;
    double *ghi;
    double max_ghi;
    double tz;
    double ground[12];
    int has_ground;
    char *source;
} hvac_weather;
int hvac_weather_load_epw(hvac_weather *w, const char *path);
int hvac_weather_synthetic(hvac_weather *w, const char *condition, uint64_t seed);
void hvac_weather_free(hvac_weather *w);
const char *hvac_condition_words(const char *condition);
const char *hvac_condition_city(const char *condition);
int hvac_condition_valid(const char *condition);
int hvac_ground_temperatures(const char *city, double out[12]);
#endif
