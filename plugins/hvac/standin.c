/* TEMPORARY stand-in for the hvacdata branch (deleted at merge): crude, for tests only. */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fewshot/error.h>
#include "standin.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    fread(s, 1, (size_t)n, f);
    s[n] = 0;
    fclose(f);
    return s;
}

/* next <td ...>text</td> after p; copies text trimmed */
static const char *next_cell(const char *p, char *buf, size_t cap, const char *end)
{
    const char *td = strstr(p, "<td");
    if (!td || td > end)
        return NULL;
    const char *gt = strchr(td, '>');
    const char *close = strstr(gt, "</td>");
    const char *s = gt + 1;
    while (*s == ' ')
        s++;
    size_t len = (size_t)(close - s);
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, s, len);
    buf[len] = 0;
    while (len && buf[len - 1] == ' ')
        buf[--len] = 0;
    return close + 5;
}

static int cmpz(const void *a, const void *b)
{
    const fewshot_building_zone *x = a, *y = b;
    if (x->centroid_z != y->centroid_z)
        return x->centroid_z < y->centroid_z ? -1 : 1;
    return x->layer - y->layer; /* layer holds the original index here */
}

int fewshot_building_load(fewshot_building **out, const char *path)
{
    static const double u_office[7] = {6.299, 3.839, 0.514, 0.228, 4.488, 0.319, 2.615};
    char pathbuf[1024];
    if (!strchr(path, '/')) {
        const char *sh = getenv("FEWSHOT_SHARED");
        snprintf(pathbuf, sizeof pathbuf, "%s/data/energyplus/ASHRAE901_%s_STD2019_Tucson.table.htm",
                 sh ? sh : "../shared", path);
        path = pathbuf;
    }
    char *s = slurp(path);
    if (!s)
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "%s: cannot open", path);
    char *t = strstr(s, "<b>Zone Information</b>");
    char *end = t ? strstr(t, "</table>") : NULL;
    if (!end) {
        free(s);
        return fewshot_error_set(FEWSHOT_EPARSE, "%s: no Zone Information table", path);
    }
    char cell[256];
    const char *p = strstr(t, "<tr>");
    int col[9] = {-1, -1, -1, -1, -1, -1, -1, -1, -1};
    static const char *names[9] = {"Centroid Z-Coordinate {m}", "Minimum X {m}", "Maximum X {m}",
        "Minimum Y {m}", "Maximum Y {m}", "Minimum Z {m}", "Maximum Z {m}", "Floor Area {m2}",
        "Exterior Net Wall Area {m2}"};
    const char *rowend = strstr(p, "</tr>");
    int ncol = 0, wincol = -1;
    for (const char *q = p; (q = next_cell(q, cell, sizeof cell, rowend)); ncol++) {
        for (int k = 0; k < 9; k++)
            if (strcmp(cell, names[k]) == 0)
                col[k] = ncol;
        if (strcmp(cell, "Exterior Window Area {m2}") == 0)
            wincol = ncol;
    }
    fewshot_building *b = calloc(1, sizeof *b);
    b->name = strdup("OfficeSmall");
    b->type = strdup("OfficeSmall");
    memcpy(b->u, u_office, sizeof b->u);
    p = rowend;
    while ((p = strstr(p, "<tr>")) && p < end) {
        rowend = strstr(p, "</tr>");
        double v[64];
        char name[128] = "";
        int k = 0;
        for (const char *q = p; (q = next_cell(q, cell, sizeof cell, rowend)) && k < 64; k++) {
            if (k == 1)
                snprintf(name, sizeof name, "%s", cell);
            v[k] = atof(cell);
        }
        if (!strcmp(name, "Total") || !strncmp(name, "Conditioned", 11) ||
            !strncmp(name, "Unconditioned", 13) || !strncmp(name, "Not Part", 8) || !name[0]) {
            p = rowend;
            continue;
        }
        b->zones = realloc(b->zones, (b->n_zones + 1) * sizeof *b->zones);
        fewshot_building_zone *z = &b->zones[b->n_zones];
        z->name = strdup(name);
        z->centroid_z = v[col[0]];
        z->xmin = v[col[1]]; z->xmax = v[col[2]]; z->ymin = v[col[3]]; z->ymax = v[col[4]];
        z->zmin = v[col[5]]; z->zmax = v[col[6]]; z->floor_area = v[col[7]];
        z->wall_area = v[col[8]]; z->window_area = v[wincol];
        z->layer = (int)b->n_zones;
        b->n_zones++;
        p = rowend;
    }
    free(s);
    qsort(b->zones, b->n_zones, sizeof *b->zones, cmpz);
    int layer = 0;
    for (size_t i = 0; i < b->n_zones; i++) {
        if (i && b->zones[i].centroid_z != b->zones[i - 1].centroid_z)
            layer++;
        b->zones[i].layer = layer;
    }
    *out = b;
    return 0;
}

void fewshot_building_free(fewshot_building *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_zones; i++)
        free(b->zones[i].name);
    free(b->zones);
    free(b->name);
    free(b->type);
    free(b);
}

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
