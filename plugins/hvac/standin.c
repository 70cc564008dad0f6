/* TEMPORARY stand-in for the hvacdata branch (deleted at merge): crude, for tests only. */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fewshot/error.h>
#include "standin.h"

int hvac_weather_load_epw(hvac_weather *w, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "%s: cannot open weather file", path);
    char line[4096];
    memset(w, 0, sizeof *w);
    w->temp = calloc(8784, sizeof(double));
    w->ghi = calloc(8784, sizeof(double));
    int ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        char *fields[40];
        int nf = 0;
        char *save, *tok = line;
        for (char *c = strtok_r(tok, ",", &save); c && nf < 40; c = strtok_r(NULL, ",", &save))
            fields[nf++] = c;
        if (ln == 1) {
            if (nf < 10) {
                fclose(f);
                return fewshot_error_set_at(FEWSHOT_EPARSE, path, 1, 0, "bad LOCATION line");
            }
            w->tz = atof(fields[8]);
        } else if (ln > 8 && nf > 14 && w->hours < 8784) {
            w->temp[w->hours] = atof(fields[6]);
            w->ghi[w->hours] = atof(fields[13]);
            if (w->ghi[w->hours] > w->max_ghi)
                w->max_ghi = w->ghi[w->hours];
            w->hours++;
        }
    }
    fclose(f);
    w->source = strdup(path);
    return 0;
}

int hvac_weather_synthetic(hvac_weather *w, const char *condition, uint64_t seed)
{
    if (!hvac_condition_valid(condition))
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "unknown weather condition '%s'", condition);
    memset(w, 0, sizeof *w);
    w->hours = 8760;
    w->temp = calloc(8760, sizeof(double));
    w->ghi = calloc(8760, sizeof(double));
    double base = strstr(condition, "Hot") ? 20 : strstr(condition, "Cold") ? 0 : 12;
    for (size_t h = 0; h < 8760; h++) {
        double day = (double)h / 24, hod = (double)(h % 24);
        w->temp[h] = base - 10 * cos(2 * M_PI * (day - 15) / 365) - 6 * cos(2 * M_PI * (hod - 3) / 24);
        double sun = sin(M_PI * (hod - 6) / 12);
        w->ghi[h] = sun > 0 ? 800 * sun : 0;
    }
    w->max_ghi = 800;
    w->tz = -7;
    w->source = strdup(condition);
    return 0;
}

void hvac_weather_free(hvac_weather *w)
{
    free(w->temp);
    free(w->ghi);
    free(w->source);
    memset(w, 0, sizeof *w);
}

static const char *const conds[][3] = {
    {"Very_Hot_Humid", "Very Hot and Humid", "Honolulu"}, {"Hot_Humid", "Hot and Humid", "Tampa"},
    {"Hot_Dry", "Hot and Dry", "Tucson"}, {"Warm_Humid", "Warm and Humid", "Atlanta"},
    {"Warm_Dry", "Warm and Dry", "ElPaso"}, {"Warm_Marine", "Warm and Marine", "SanDiego"},
    {"Mixed_Humid", "Mixed and Humid", "NewYork"}, {"Mixed_Dry", "Mixed and Dry", "Albuquerque"},
    {"Mixed_Marine", "Mixed and Marine", "Seattle"}, {"Cool_Humid", "Cool and Humid", "Buffalo"},
    {"Cool_Dry", "Cool and Dry", "Denver"}, {"Cool_Marine", "Cool and Marine", "PortAngeles"},
    {"Cold_Humid", "Cold and Humid", "Rochester"}, {"Cold_Dry", "Cold and Dry", "GreatFalls"},
    {"Very_Cold", "Very Cold", "InternationalFalls"}, {"Subarctic", "Subarctic", "Fairbanks"}};

static int cond_index(const char *c)
{
    for (int i = 0; i < 16; i++)
        if (!strcmp(c, conds[i][0]))
            return i;
    return -1;
}
const char *hvac_condition_words(const char *c) { int i = cond_index(c); return i < 0 ? NULL : conds[i][1]; }
const char *hvac_condition_city(const char *c) { int i = cond_index(c); return i < 0 ? NULL : conds[i][2]; }
int hvac_condition_valid(const char *c) { return cond_index(c) >= 0; }

int hvac_ground_temperatures(const char *city, double out[12])
{
    static const double tucson[12] = {20.9, 15.4, 11.9, 14.8, 12.7, 15.4, 23.3, 26.3, 31.2, 30.4, 29.8, 27.8};
    static const double buffalo[12] = {9.7, 6.0, -2.2, -3.4, -4.2, 2.7, 7.5, 13.7, 18.6, 22.0, 20.7, 16.5};
    if (!strcmp(city, "Tucson"))
        memcpy(out, tucson, sizeof tucson);
    else if (!strcmp(city, "Buffalo"))
        memcpy(out, buffalo, sizeof buffalo);
    else
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "unknown city '%s'", city);
    return 0;
}
