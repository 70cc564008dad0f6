/*
 * EPW weather files (EnergyPlus weather format): the LOCATION and GROUND TEMPERATURES headers
 * and the hourly dry-bulb temperature and global horizontal irradiance. Every fault is reported
 * with the file, the line and what was expected there. Files are read through zlib, so the
 * plugin's shipped years (*.epw.gz) and plain *.epw files go through the same reader.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "fewshot/error.h"
#include "weather.h"

#define HEADER_LINES 8
#define FIELD_MONTH 2
#define FIELD_HOUR 4
#define FIELD_TEMP 7
#define FIELD_GHI 14
#define MAX_FIELDS 64

void hvac_weather_free(hvac_weather *w)
{
    if (!w)
        return;
    free(w->temp);
    free(w->ghi);
    free(w->month);
    free(w->source);
    memset(w, 0, sizeof *w);
}

/* Split a line at commas in place; returns the number of fields (1-based field i = f[i-1]). */
static int split(char *line, char **f, int cap)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n < cap)
            f[n] = p;
        n++;
        p = strchr(p, ',');
        if (!p)
            break;
        *p++ = '\0';
    }
    return n;
}

/* Parse a whole field as a number (surrounding spaces allowed). */
static int number(const char *text, double *out)
{
    char *end;
    while (*text == ' ')
        text++;
    if (!*text)
        return -1;
    errno = 0;
    *out = strtod(text, &end);
    while (*end == ' ')
        end++;
    return *end || errno || !isfinite(*out) ? -1 : 0;
}

typedef struct epw {
    const char *path;
    gzFile f;
    char *line;
    size_t cap;
    int lineno;
    int failed;      /* a read or decompression error, already recorded */
} epw;

/* EPW lines are a few hundred bytes; a file without newlines (/dev/zero, a binary file) must
 * not be read until memory runs out, so lines stop at EPW_LINE_MAX. */
#define EPW_LINE_MAX 65536

/* Read one line (gzgets fills a fixed buffer; grow until the newline, up to EPW_LINE_MAX). */
static int next_line(epw *e)
{
    size_t n = 0;
    if (!e->line) {
        e->cap = 1024;
        if (!(e->line = malloc(e->cap))) {
            e->failed = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory reading weather");
            return 0;
        }
    }
    for (;;) {
        if (!gzgets(e->f, e->line + n, (int)(e->cap - n)))
            break;
        size_t got = strlen(e->line + n);
        n += got;
        if (n > 0 && e->line[n - 1] == '\n')
            break;
        if (n + 1 < e->cap && !gzeof(e->f)) {
            /* gzgets stopped short of the buffer, not at a newline or the end: a NUL byte */
            e->failed = fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno + 1, 0, "a NUL "
                                             "byte: not an EPW weather file (which is text)");
            return 0;
        }
        if (n + 1 < e->cap)      /* short read without a newline: the last line */
            break;
        if (e->cap > EPW_LINE_MAX) {
            e->failed = fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno + 1, 0,
                                             "line longer than %d bytes: not an EPW weather "
                                             "file", EPW_LINE_MAX);
            return 0;
        }
        char *grown = realloc(e->line, 2 * e->cap);
        if (!grown) {
            e->failed = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory reading weather");
            return 0;
        }
        e->line = grown;
        e->cap *= 2;
    }
    /* zlib keeps handing out what it decompressed before a fault, so a fault shows at the end
     * of the data: it is reported at the first line it cost (Z_BUF_ERROR: a truncated stream) */
    if (n == 0 || e->line[n - 1] != '\n') {
        int zerr;
        const char *message = gzerror(e->f, &zerr);
        if (zerr != Z_OK) {
            e->failed = fewshot_error_set_at(zerr == Z_ERRNO ? FEWSHOT_EIO : FEWSHOT_EPARSE,
                                             e->path, e->lineno + 1, 0, "%s: %s",
                                             zerr == Z_ERRNO ? "read error"
                                                             : "corrupt compressed data",
                                             zerr == Z_ERRNO ? strerror(errno) : message);
            return 0;
        }
    }
    if (n == 0)
        return 0;
    e->lineno++;
    while (n > 0 && (e->line[n - 1] == '\n' || e->line[n - 1] == '\r'))
        e->line[--n] = '\0';
    return 1;
}

static int parse_location(epw *e, hvac_weather *w)
{
    char *f[MAX_FIELDS];
    if (strncmp(e->line, "LOCATION,", 9) != 0)
        return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 1,
                                    "expected the LOCATION header line (an EPW weather file "
                                    "starts with LOCATION,city,state,country,...)");
    int n = split(e->line, f, MAX_FIELDS);
    if (n < 9)
        return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 0,
                                    "LOCATION has %d fields, expected 10 (field 9 is the time "
                                    "zone)", n);
    if (number(f[8], &w->tz) != 0 || w->tz < -12 || w->tz > 14)
        return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 0,
                                    "LOCATION field 9 (time zone) is '%s', expected hours from "
                                    "UTC between -12 and 14", f[8]);
    if (number(f[6], &w->latitude) != 0 || number(f[7], &w->longitude) != 0)
        return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 0,
                                    "LOCATION fields 7 and 8 (latitude '%s', longitude '%s') "
                                    "must be numbers", f[6], f[7]);
    return 0;
}

/* GROUND TEMPERATURES,N,depth,conductivity,density,specific heat,Jan,...,Dec,depth,... */
static int parse_ground(epw *e, hvac_weather *w)
{
    char *f[MAX_FIELDS];
    int n = split(e->line, f, MAX_FIELDS);
    double depths;
    if (n < 2 || number(f[1], &depths) != 0 || depths < 0 || depths != floor(depths))
        return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 0,
                                    "GROUND TEMPERATURES field 2 is '%s', expected the number "
                                    "of depths", n >= 2 ? f[1] : "");
    if (depths == 0)
        return 0;
    if (n < 18)
        return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 0,
                                    "GROUND TEMPERATURES has %d fields, expected 12 monthly "
                                    "values after the first depth's 4 properties (18 fields)", n);
    for (int m = 0; m < 12; m++)
        if (number(f[6 + m], &w->ground[m]) != 0)
            return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 0,
                                        "GROUND TEMPERATURES field %d (month %d of the first "
                                        "depth) is '%s', expected a temperature", 7 + m, m + 1,
                                        f[6 + m]);
    w->has_ground = 1;
    return 0;
}

static int grow(hvac_weather *w, size_t *cap)
{
    size_t c = *cap ? 2 * *cap : 8784;
    double *t = realloc(w->temp, c * sizeof *t);
    if (t)
        w->temp = t;
    double *g = realloc(w->ghi, c * sizeof *g);
    if (g)
        w->ghi = g;
    unsigned char *m = realloc(w->month, c);
    if (m)
        w->month = m;
    if (!t || !g || !m)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory reading weather");
    *cap = c;
    return 0;
}

static int parse_row(epw *e, hvac_weather *w)
{
    char *f[MAX_FIELDS];
    int n = split(e->line, f, MAX_FIELDS);
    if (n < FIELD_GHI)
        return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 0,
                                    "hourly row has %d field%s, expected at least %d (field %d is "
                                    "the dry-bulb temperature, field %d the global horizontal "
                                    "irradiance)", n, n == 1 ? "" : "s", FIELD_GHI, FIELD_TEMP,
                                    FIELD_GHI);
    double month, hour, temp, ghi;
    size_t k = w->hours;
    if (number(f[FIELD_MONTH - 1], &month) != 0 || month < 1 || month > 12 ||
        month != floor(month))
        return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 0,
                                    "field %d (month) is '%s', expected 1..12", FIELD_MONTH,
                                    f[FIELD_MONTH - 1]);
    if (number(f[FIELD_HOUR - 1], &hour) != 0 || hour != (double)(k % 24 + 1))
        return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 0,
                                    "field %d (hour) is '%s', expected %zu (hourly rows, 1..24 "
                                    "each day, none missing)", FIELD_HOUR, f[FIELD_HOUR - 1],
                                    k % 24 + 1);
    if (number(f[FIELD_TEMP - 1], &temp) != 0 || temp < -90 || temp >= 70)
        return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 0,
                                    "field %d (dry-bulb temperature) is '%s', expected degrees C "
                                    "between -90 and 70", FIELD_TEMP, f[FIELD_TEMP - 1]);
    if (number(f[FIELD_GHI - 1], &ghi) != 0 || ghi < 0 || ghi >= 9999)
        return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 0,
                                    "field %d (global horizontal irradiance) is '%s', expected "
                                    "Wh/m2 between 0 and 9999 (9999 means missing)", FIELD_GHI,
                                    f[FIELD_GHI - 1]);
    w->temp[k] = temp;
    w->ghi[k] = ghi;
    w->month[k] = (unsigned char)month;
    if (ghi > w->max_ghi)
        w->max_ghi = ghi;
    w->hours = k + 1;
    return 0;
}

static int read_epw(epw *e, hvac_weather *w)
{
    int rc;
    if (!next_line(e))
        return e->failed ? e->failed
                         : fewshot_error_set_at(FEWSHOT_EPARSE, e->path, 1, 0,
                                                "empty file, expected an EPW weather file");
    if ((rc = parse_location(e, w)) != 0)
        return rc;
    for (int i = 2; i <= HEADER_LINES; i++) {
        if (!next_line(e))
            return e->failed ? e->failed
                             : fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 0,
                                        "the file ends in the header, expected %d header lines "
                                        "and hourly rows", HEADER_LINES);
        if (e->line[0] >= '0' && e->line[0] <= '9')
            return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 1,
                                        "a data row in the header, expected %d header lines "
                                        "(LOCATION ... DATA PERIODS)", HEADER_LINES);
        if (strncmp(e->line, "GROUND TEMPERATURES,", 20) == 0 && (rc = parse_ground(e, w)) != 0)
            return rc;
        if (i == HEADER_LINES && strncmp(e->line, "DATA PERIODS,", 13) != 0)
            return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, e->lineno, 1,
                                        "expected the DATA PERIODS line as header line %d",
                                        HEADER_LINES);
    }
    size_t cap = 0;
    int blank = 0;
    while (next_line(e)) {
        if (e->line[0] == '\0') {
            blank = e->lineno;
            continue;
        }
        if (blank)
            return fewshot_error_set_at(FEWSHOT_EPARSE, e->path, blank, 0,
                                        "empty line between hourly rows");
        if (w->hours == cap && (rc = grow(w, &cap)) != 0)
            return rc;
        if ((rc = parse_row(e, w)) != 0)
            return rc;
    }
    if (e->failed)
        return e->failed;
    if (w->hours == 0 || w->hours % 24 != 0)
        return fewshot_error_set_at(FEWSHOT_ETRUNCATED, e->path, e->lineno + 1, 0,
                                    "the file ends after %zu hourly rows, expected whole days "
                                    "(8760 rows for a TMY3 year)", w->hours);
    return 0;
}

int hvac_weather_load_epw(hvac_weather *w, const char *path)
{
    memset(w, 0, sizeof *w);
    epw e = {.path = path};
    e.f = gzopen(path, "rb");
    if (!e.f)
        return fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot open weather file: %s",
                                    errno ? strerror(errno) : "out of memory");
    gzbuffer(e.f, 64 * 1024);
    int rc = read_epw(&e, w);
    gzclose(e.f);
    free(e.line);
    if (rc == 0 && !(w->source = strdup(path)))
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if (rc)
        hvac_weather_free(w);
    return rc;
}

/* Month (1..12) of day d of a 365-day year. */
static int calendar_month(size_t d)
{
    static const int ends[12] = {31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};
    d %= 365;
    int m = 0;
    while (d >= (size_t)ends[m])
        m++;
    return m + 1;
}

int hvac_weather_monthly_stats(const hvac_weather *w, double out[12][HVAC_N_STATS])
{
    double sum[12][HVAC_N_STATS] = {{0}};
    int days[12] = {0};
    for (size_t d = 0; d < w->hours / 24; d++) {
        const double *t = w->temp + 24 * d, *g = w->ghi + 24 * d;
        double tmax = t[0], tmin = t[0], gsum = 0, gmax = 0;
        for (int h = 0; h < 24; h++) {
            tmax = fmax(tmax, t[h]);
            tmin = fmin(tmin, t[h]);
            gsum += g[h];
            gmax = fmax(gmax, g[h]);
        }
        int m = (w->month ? w->month[24 * d] : calendar_month(d)) - 1;
        sum[m][HVAC_STAT_TMAX] += tmax;
        sum[m][HVAC_STAT_TMIN] += tmin;
        sum[m][HVAC_STAT_GHI_TOTAL] += gsum;
        sum[m][HVAC_STAT_GHI_PEAK] += gmax;
        days[m]++;
    }
    for (int m = 0; m < 12; m++) {
        if (!days[m])
            return fewshot_error_set(FEWSHOT_EINVAL, "%s: no days in month %d",
                                     w->source ? w->source : "weather", m + 1);
        for (int s = 0; s < HVAC_N_STATS; s++)
            out[m][s] = sum[m][s] / days[m];
    }
    return 0;
}
