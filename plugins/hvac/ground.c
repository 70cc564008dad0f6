/*
 * Monthly ground temperatures of BEAR's 19 cities (C, Jan..Dec), for the ground node of the
 * thermal model; city names are matched leniently ("New York", "NewYork", "new_york").
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "fewshot/error.h"
#include "weather.h"

typedef struct ground_row {
    const char *city;
    double t[12];
} ground_row;

static const ground_row table[HVAC_N_CITIES] = {
    {"Albuquerque", {13.7, 7.0, 2.1, 2.6, 4.3, 8.8, 13.9, 17.8, 23.2, 25.6, 24.1, 20.5}},
    {"Atlanta", {16.0, 11.9, 7.7, 4.0, 7.9, 13.8, 17.2, 20.8, 24.8, 26.1, 26.5, 22.5}},
    {"Buffalo", {9.7, 6.0, -2.2, -3.4, -4.2, 2.7, 7.5, 13.7, 18.6, 22.0, 20.7, 16.5}},
    {"Denver", {7.1, 3.0, -1.0, 0.8, -0.2, 4.8, 6.1, 13.7, 22.2, 22.7, 21.7, 18.5}},
    {"Dubai", {29.5, 25.5, 21.1, 19.2, 20.8, 23.1, 26.5, 31.4, 33.0, 35.1, 35.3, 32.5}},
    {"ElPaso", {18.3, 11.2, 6.8, 8.1, 10.3, 12.5, 19.2, 23.8, 27.9, 27.5, 26.3, 23.4}},
    {"Fairbanks", {-3.1, -17.7, -19.3, -17.6, -15.4, -10.3, 0.7, 10.6, 16.0, 16.9, 14.2, 6.7}},
    {"GreatFalls", {8.6, 2.8, -4.1, -8.8, -2.2, 0.3, 6.7, 10.1, 16.5, 20.6, 19.2, 14.7}},
    {"HoChiMinh", {26.9, 26.7, 26.0, 26.4, 27.5, 28.3, 29.2, 29.0, 28.9, 27.2, 27.5, 27.6}},
    {"Honolulu", {26.2, 24.8, 23.7, 22.5, 22.8, 23.2, 23.8, 25.2, 25.9, 26.9, 27.1, 26.9}},
    {"InternationalFalls", {5.4, -2.0, -14.6, -16.9, -11.5, -6.2, 4.0, 13.4, 18.0, 19.7, 17.9,
                            12.3}},
    {"NewDelhi", {25.1, 19.6, 14.5, 13.4, 17.0, 22.4, 29.1, 33.0, 33.6, 31.7, 30.0, 28.7}},
    {"NewYork", {14.0, 7.3, 3.3, 1.2, -0.2, 5.6, 10.9, 16.1, 21.7, 25.0, 24.8, 19.9}},
    {"PortAngeles", {9.3, 6.7, 4.1, 4.2, 4.2, 5.9, 9.0, 10.0, 13.3, 15.0, 15.7, 13.4}},
    {"Rochester", {7.4, 0.0, -7.6, -12.6, -7.7, 0.3, 7.0, 14.2, 19.2, 20.9, 20.0, 15.4}},
    {"SanDiego", {18.8, 14.3, 13.6, 13.2, 13.3, 12.6, 15.3, 15.6, 17.7, 19.4, 19.7, 18.5}},
    {"Seattle", {11.4, 8.1, 5.4, 4.5, 5.8, 8.3, 10.9, 13.0, 15.6, 17.7, 18.8, 15.1}},
    {"Tampa", {24.2, 18.9, 15.7, 13.6, 15.5, 17.1, 21.2, 26.9, 27.6, 27.9, 27.4, 26.2}},
    {"Tucson", {20.9, 15.4, 11.9, 14.8, 12.7, 15.4, 23.3, 26.3, 31.2, 30.4, 29.8, 27.8}},
};

const char *const hvac_ground_city_names[HVAC_N_CITIES] = {
    "Albuquerque", "Atlanta", "Buffalo", "Denver", "Dubai", "ElPaso", "Fairbanks", "GreatFalls",
    "HoChiMinh", "Honolulu", "InternationalFalls", "NewDelhi", "NewYork", "PortAngeles",
    "Rochester", "SanDiego", "Seattle", "Tampa", "Tucson",
};

void hvac_name_key(const char *name, char *key, size_t size)
{
    size_t n = 0;
    for (const char *p = name ? name : ""; *p && n + 1 < size; p++)
        if (isalnum((unsigned char)*p))
            key[n++] = (char)tolower((unsigned char)*p);
    if (size)
        key[n] = '\0';
}

static const ground_row *find(const char *city)
{
    char want[64], have[64];
    hvac_name_key(city, want, sizeof want);
    for (size_t i = 0; want[0] && i < HVAC_N_CITIES; i++) {
        hvac_name_key(table[i].city, have, sizeof have);
        if (strcmp(want, have) == 0)
            return &table[i];
    }
    return NULL;
}

const char *hvac_ground_city(const char *city)
{
    const ground_row *row = find(city);
    return row ? row->city : NULL;
}

const char *hvac_city_words(const char *city)
{
    static const char *const spaced[][2] = {
        {"ElPaso", "El Paso"}, {"GreatFalls", "Great Falls"}, {"HoChiMinh", "Ho Chi Minh"},
        {"InternationalFalls", "International Falls"}, {"NewDelhi", "New Delhi"},
        {"NewYork", "New York"}, {"PortAngeles", "Port Angeles"}, {"SanDiego", "San Diego"},
    };
    const char *name = hvac_ground_city(city);
    for (size_t i = 0; name && i < sizeof spaced / sizeof spaced[0]; i++)
        if (strcmp(spaced[i][0], name) == 0)
            return spaced[i][1];
    return name;
}

int hvac_ground_temperatures(const char *city, double out[12])
{
    const ground_row *row = find(city);
    if (!row) {
        char list[512];
        size_t n = 0;
        list[0] = '\0';
        for (size_t i = 0; i < HVAC_N_CITIES && n < sizeof list; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "",
                                  table[i].city);
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "unknown city '%s' for ground temperatures "
                                 "(known: %s)", city ? city : "(null)", list);
    }
    memcpy(out, row->t, sizeof row->t);
    return 0;
}
