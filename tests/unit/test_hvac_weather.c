/* The hvac plugin's weather: EPW reading and its errors, ground temperature tables, weather
 * conditions, and the synthetic climates against their calibration table (and against the TMY3
 * files themselves when ../shared is present). */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <fewshot.h>
#include "weather.h"

#define TEMP_TOLERANCE 0.5     /* C, per month */
#define GHI_TOLERANCE 0.05     /* relative, per month */

static char tmpdir[256];

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/fewshot-weather.XXXXXX", getenv("TMPDIR") ?: "/tmp");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ conditions, ground */

static void test_conditions(void **state)
{
    assert_string_equal(hvac_condition_words("Hot_Dry"), "Hot and Dry");
    assert_string_equal(hvac_condition_words("Cool_Humid"), "Cool and Humid");
    assert_string_equal(hvac_condition_city("Hot_Dry"), "Tucson");
    assert_string_equal(hvac_condition_city("Warm_Dry"), "ElPaso");
    assert_true(hvac_condition_valid("hot and dry"));
    assert_true(hvac_condition_valid("VERY-COLD"));
    assert_false(hvac_condition_valid("Balmy"));
    assert_false(hvac_condition_valid(""));
    assert_false(hvac_condition_valid(NULL));
    const char *canonical;
    assert_int_equal(hvac_condition_lookup("subarctic", &canonical), 0);
    assert_string_equal(canonical, "Subarctic");
    assert_int_equal(hvac_condition_lookup("Balmy", &canonical), FEWSHOT_ENOTFOUND);
    assert_non_null(strstr(fewshot_error_last()->message, "unknown weather condition 'Balmy'"));
    assert_non_null(strstr(fewshot_error_last()->message, "Very_Hot_Humid"));
    hvac_weather w;
    assert_int_equal(hvac_weather_synthetic(&w, "Balmy", 1), FEWSHOT_ENOTFOUND);
    assert_null(w.temp);
    /* every condition's city has ground temperatures, and the table is in BEAR's order */
    for (int i = 0; i < HVAC_N_CONDITIONS; i++) {
        double g[12];
        assert_string_equal(hvac_climates[i].condition, hvac_condition_names[i]);
        assert_int_equal(hvac_ground_temperatures(hvac_condition_city(hvac_condition_names[i]), g),
                         0);
    }
}

static void test_ground(void **state)
{
    double g[12];
    const double tucson[12] = {20.9, 15.4, 11.9, 14.8, 12.7, 15.4, 23.3, 26.3, 31.2, 30.4, 29.8,
                               27.8};
    assert_int_equal(hvac_ground_temperatures("Tucson", g), 0);
    assert_memory_equal(g, tucson, sizeof g);
    const char *spellings[] = {"NewYork", "New York", "new_york", "NEWYORK", "new-york"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(hvac_ground_temperatures(spellings[i], g), 0);
        assert_true(g[0] == 14.0 && g[4] == -0.2 && g[11] == 19.9);
        assert_string_equal(hvac_ground_city(spellings[i]), "NewYork");
    }
    assert_int_equal(hvac_ground_temperatures("Ho Chi Minh", g), 0);
    assert_true(g[6] == 29.2);
    assert_int_equal(hvac_ground_temperatures("International Falls", g), 0);
    assert_true(g[3] == -16.9);
    assert_int_equal(hvac_ground_temperatures("Atlantis", g), FEWSHOT_ENOTFOUND);
    const char *m = fewshot_error_last()->message;
    assert_non_null(strstr(m, "unknown city 'Atlantis'"));
    assert_non_null(strstr(m, "Albuquerque"));
    assert_non_null(strstr(m, "Tucson"));
    assert_int_equal(hvac_ground_temperatures("", g), FEWSHOT_ENOTFOUND);
    assert_null(hvac_ground_city("Atlantis"));
    assert_string_equal(hvac_city_words("new_york"), "New York");
    assert_string_equal(hvac_city_words("Buffalo"), "Buffalo");
    assert_string_equal(hvac_city_words(hvac_condition_city("Very_Cold")), "International Falls");
    assert_null(hvac_city_words("Atlantis"));
}

/* ------------------------------------------------------------------ EPW */

#define EPW_HEADER \
    "LOCATION,Testville,AZ,USA,TMY3,000000,32.17,-110.88,%s,809.0\n" \
    "DESIGN CONDITIONS,0\n" \
    "TYPICAL/EXTREME PERIODS,0\n" \
    "%s\n" \
    "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0\n" \
    "COMMENTS 1,test\n" \
    "COMMENTS 2,test\n" \
    "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31\n"

static const char *good_ground =
    "GROUND TEMPERATURES,2,.5,,,,12.94,14.59,17.79,20.82,26.55,29.57,30.40,28.87,25.33,20.93,"
    "16.59,13.72,2,,,,15.21,15.61,17.43,19.47,23.87,26.69,28.09,27.78,25.76,22.72,19.29,16.60";

/* Write an EPW of `days` days; row `bad_row` (1-based, 0 = none) gets `bad` as its text. */
static const char *write_epw(const char *name, const char *tz, const char *ground, int days,
                             int bad_row, const char *bad)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, EPW_HEADER, tz, ground);
    for (int k = 0; k < 24 * days; k++) {
        if (k + 1 == bad_row) {
            fprintf(f, "%s\n", bad);
            continue;
        }
        double t = 10 + 5 * sin(k * 0.26), g = k % 24 >= 7 && k % 24 <= 17 ? 50.0 * (k % 24) : 0;
        fprintf(f, "2003,1,%d,%d,0,?9?9?9?9E0?9?9?9,%.1f,-2.9,53,92100,0,0,272,%.0f,0,0,0,0,0,0,"
                "190,6.2,1,1,777.7,77777,9,999999999,89,0.0390,0,88,0.200,999.0,99.0\r\n",
                k / 24 + 1, k % 24 + 1, t, g);
    }
    fclose(f);
    return path;
}

static void test_epw_good(void **state)
{
    hvac_weather w;
    const char *path = write_epw("good.epw", "-7.0", good_ground, 2, 0, NULL);
    assert_int_equal(hvac_weather_load_epw(&w, path), 0);
    assert_int_equal(w.hours, 48);
    assert_true(w.tz == -7.0);
    assert_true(w.latitude == 32.17 && w.longitude == -110.88);
    assert_true(w.has_ground);
    assert_true(w.ground[0] == 12.94 && w.ground[11] == 13.72);
    assert_true(fabs(w.temp[3] - (10 + 5 * sin(3 * 0.26))) < 0.051);
    assert_true(w.ghi[12] == 600 && w.ghi[0] == 0);
    assert_true(w.max_ghi == 850);
    assert_int_equal(w.month[47], 1);
    assert_string_equal(w.source, path);
    hvac_weather_free(&w);
    hvac_weather_free(&w);   /* freeing twice is harmless */
    /* no ground temperatures: allowed, reported */
    path = write_epw("noground.epw", "-7", "GROUND TEMPERATURES,0", 1, 0, NULL);
    assert_int_equal(hvac_weather_load_epw(&w, path), 0);
    assert_false(w.has_ground);
    hvac_weather_free(&w);
}

static void expect_epw_error(const char *path, int code, int line, const char *text)
{
    hvac_weather w;
    int rc = hvac_weather_load_epw(&w, path);
    const fewshot_error *e = fewshot_error_last();
    if (rc != code || e->line != line || !strstr(e->message, text))
        fail_msg("%s: rc %d (want %d), line %d (want %d), message '%s' (want '%s')", path, rc,
                 code, e->line, line, e->message, text);
    assert_string_equal(e->file, path);
    assert_null(w.temp);
    char buf[1024];
    fewshot_error_format(buf, sizeof buf);
    char where[600];
    snprintf(where, sizeof where, "%s:%d", path, line);
    assert_non_null(strstr(buf, where));
}

static void test_epw_errors(void **state)
{
    const char *truncated_row = "2003,1,1,5,0,?9?9,5.6,-2.9,53";
    expect_epw_error(write_epw("short.epw", "-7", good_ground, 1, 5, truncated_row),
                     FEWSHOT_EPARSE, 13, "hourly row has 9 fields, expected at least 14");
    const char *bad_temp = "2003,1,1,3,0,?9,warm,-2.9,53,92100,0,0,272,0,0";
    expect_epw_error(write_epw("temp.epw", "-7", good_ground, 1, 3, bad_temp), FEWSHOT_EPARSE,
                     11, "field 7 (dry-bulb temperature) is 'warm'");
    const char *bad_ghi = "2003,1,1,2,0,?9,5.0,-2.9,53,92100,0,0,272,9999,0";
    expect_epw_error(write_epw("ghi.epw", "-7", good_ground, 1, 2, bad_ghi), FEWSHOT_EPARSE, 10,
                     "field 14 (global horizontal irradiance) is '9999'");
    const char *bad_hour = "2003,1,1,7,0,?9,5.0,-2.9,53,92100,0,0,272,0,0";
    expect_epw_error(write_epw("hour.epw", "-7", good_ground, 1, 4, bad_hour), FEWSHOT_EPARSE, 12,
                     "field 4 (hour) is '7', expected 4");
    expect_epw_error(write_epw("tz.epw", "MST", good_ground, 1, 0, NULL), FEWSHOT_EPARSE, 1,
                     "LOCATION field 9 (time zone) is 'MST'");
    expect_epw_error(write_epw("ground.epw", "-7", "GROUND TEMPERATURES,1,.5,,,,12.94,cold", 1, 0,
                               NULL), FEWSHOT_EPARSE, 4, "GROUND TEMPERATURES has 8 fields");
    expect_epw_error(write_epw("ground2.epw", "-7", "GROUND TEMPERATURES,x", 1, 0, NULL),
                     FEWSHOT_EPARSE, 4, "expected the number of depths");

    /* a file cut off mid-day */
    char path[600], cmd[1400];
    const char *full = write_epw("cut.epw", "-7", good_ground, 1, 0, NULL);
    snprintf(path, sizeof path, "%s/cut20.epw", tmpdir);
    snprintf(cmd, sizeof cmd, "head -n 28 '%s' > '%s'", full, path);
    assert_int_equal(system(cmd), 0);
    expect_epw_error(path, FEWSHOT_ETRUNCATED, 29, "ends after 20 hourly rows, expected whole days");
    /* header cut short, not an EPW at all, an empty file, a missing file */
    snprintf(path, sizeof path, "%s/head.epw", tmpdir);
    snprintf(cmd, sizeof cmd, "head -n 5 '%s' > '%s'", full, path);
    assert_int_equal(system(cmd), 0);
    expect_epw_error(path, FEWSHOT_EPARSE, 5, "the file ends in the header");
    snprintf(path, sizeof path, "%s/data.csv", tmpdir);
    snprintf(cmd, sizeof cmd, "tail -n 24 '%s' > '%s'", full, path);
    assert_int_equal(system(cmd), 0);
    expect_epw_error(path, FEWSHOT_EPARSE, 1, "expected the LOCATION header line");
    snprintf(path, sizeof path, "%s/empty.epw", tmpdir);
    fclose(fopen(path, "w"));
    expect_epw_error(path, FEWSHOT_EPARSE, 1, "empty file");
    hvac_weather w;
    assert_int_equal(hvac_weather_load_epw(&w, "/nonexistent/x.epw"), FEWSHOT_EIO);
    assert_string_equal(fewshot_error_last()->file, "/nonexistent/x.epw");
    /* a data row where header line 6 should be */
    snprintf(path, sizeof path, "%s/early.epw", tmpdir);
    snprintf(cmd, sizeof cmd, "(head -n 5 '%s'; tail -n 24 '%s') > '%s'", full, full, path);
    assert_int_equal(system(cmd), 0);
    expect_epw_error(path, FEWSHOT_EPARSE, 6, "a data row in the header");
}

/* ------------------------------------------------------------------ synthetic climates */

/* Worst monthly errors of a series against a table row: C for temperatures, relative for GHI. */
static void worst_errors(const double stats[12][HVAC_N_STATS], const double want[12][HVAC_N_STATS],
                         double worst[HVAC_N_STATS])
{
    for (int s = 0; s < HVAC_N_STATS; s++)
        worst[s] = 0;
    for (int m = 0; m < 12; m++)
        for (int s = 0; s < HVAC_N_STATS; s++) {
            double err = fabs(stats[m][s] - want[m][s]);
            if (s >= HVAC_STAT_GHI_TOTAL)
                err = want[m][s] > 1 ? err / want[m][s] : err;   /* polar night: absolute */
            worst[s] = fmax(worst[s], err);
        }
}

static void test_synthetic_calibrated(void **state)
{
    const uint64_t seeds[] = {0, 1, 20231106};
    printf("# condition          worst monthly error: tmax C, tmin C, GHI sum %%, GHI peak %%\n");
    for (int i = 0; i < HVAC_N_CONDITIONS; i++) {
        double all[HVAC_N_STATS] = {0};
        for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
            hvac_weather w;
            assert_int_equal(hvac_weather_synthetic(&w, hvac_condition_names[i], seeds[k]), 0);
            assert_int_equal(w.hours, 8760);
            assert_string_equal(w.source, hvac_condition_names[i]);
            assert_true(w.tz == hvac_climates[i].tz);
            assert_false(w.has_ground);
            double stats[12][HVAC_N_STATS], worst[HVAC_N_STATS];
            assert_int_equal(hvac_weather_monthly_stats(&w, stats), 0);
            worst_errors(stats, hvac_climates[i].monthly, worst);
            for (int s = 0; s < HVAC_N_STATS; s++)
                all[s] = fmax(all[s], worst[s]);
            double max_ghi = 0;
            for (size_t h = 0; h < w.hours; h++) {
                assert_true(isfinite(w.temp[h]) && w.ghi[h] >= 0);
                max_ghi = fmax(max_ghi, w.ghi[h]);
            }
            assert_true(w.max_ghi == max_ghi && max_ghi > 0);
            hvac_weather_free(&w);
        }
        printf("# %-18s %.3f %.3f %.2f %.2f\n", hvac_condition_names[i], all[0], all[1],
               100 * all[2], 100 * all[3]);
        if (all[0] > TEMP_TOLERANCE || all[1] > TEMP_TOLERANCE || all[2] > GHI_TOLERANCE ||
            all[3] > GHI_TOLERANCE)
            fail_msg("%s: monthly statistics off the table", hvac_condition_names[i]);
    }
}

static void test_synthetic_deterministic(void **state)
{
    hvac_weather a, b, c;
    assert_int_equal(hvac_weather_synthetic(&a, "Hot_Dry", 7), 0);
    assert_int_equal(hvac_weather_synthetic(&b, "hot and dry", 7), 0);
    assert_int_equal(hvac_weather_synthetic(&c, "Hot_Dry", 8), 0);
    assert_memory_equal(a.temp, b.temp, a.hours * sizeof *a.temp);
    assert_memory_equal(a.ghi, b.ghi, a.hours * sizeof *a.ghi);
    assert_true(memcmp(a.temp, c.temp, a.hours * sizeof *a.temp) != 0);
    /* a plausible day: coldest near dawn, warmest mid-afternoon, dark at night, sun at noon */
    for (int d = 0; d < 365; d += 30) {
        const double *t = a.temp + 24 * d, *g = a.ghi + 24 * d;
        int hmax = 0, hmin = 0;
        for (int h = 0; h < 24; h++) {
            hmax = t[h] > t[hmax] ? h : hmax;
            hmin = t[h] < t[hmin] ? h : hmin;
        }
        assert_true(hmax >= 11 && hmax <= 16);
        assert_true(hmin <= 6 || hmin == 23);
        assert_true(g[1] == 0 && g[22] == 0 && g[12] > 0);
    }
    /* smooth: no jumps of more than 6 C from one hour to the next */
    for (size_t h = 1; h < a.hours; h++)
        assert_true(fabs(a.temp[h] - a.temp[h - 1]) < 6);
    hvac_weather_free(&a);
    hvac_weather_free(&b);
    hvac_weather_free(&c);
}

/* climate_table.csv holds the same numbers as the compiled table. */
static void test_csv_matches_table(void **state)
{
    char path[1024], line[512];
    const char *src = getenv("top_srcdir");
    snprintf(path, sizeof path, "%s/plugins/hvac/climate_table.csv", src ? src : "..");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        char cond[64], city[64];
        int month;
        double v[4];
        assert_int_equal(sscanf(line, "%63[^,],%63[^,],%d,%lf,%lf,%lf,%lf", cond, city, &month,
                                &v[0], &v[1], &v[2], &v[3]), 7);
        const hvac_climate *c = &hvac_climates[rows / 12];
        assert_string_equal(cond, c->condition);
        assert_string_equal(city, c->city);
        assert_int_equal(month, rows % 12 + 1);
        for (int s = 0; s < 4; s++)
            assert_true(v[s] == c->monthly[month - 1][s]);
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 12 * HVAC_N_CONDITIONS);
}

/* The TMY3 files give the table's numbers, and the synthetic years match the files. */
static void test_shared_epw(void **state)
{
    const char *shared = getenv("FEWSHOT_SHARED");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/data/weather", shared ? shared : "");
    if (!shared || access(dir, R_OK) != 0) {
        skip();
        return;
    }
    for (int i = 0; i < HVAC_N_CONDITIONS; i++) {
        const hvac_climate *c = &hvac_climates[i];
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, c->epw);
        hvac_weather w, syn;
        if (hvac_weather_load_epw(&w, path) != 0)
            fail_msg("%s: %s", path, fewshot_error_last()->message);
        assert_int_equal(w.hours, 8760);
        assert_true(w.tz == c->tz && w.has_ground);
        assert_true(w.max_ghi == c->max_ghi);
        double stats[12][HVAC_N_STATS], syn_stats[12][HVAC_N_STATS], worst[HVAC_N_STATS];
        assert_int_equal(hvac_weather_monthly_stats(&w, stats), 0);
        for (int m = 0; m < 12; m++) {
            assert_true(fabs(stats[m][HVAC_STAT_TMAX] - c->monthly[m][HVAC_STAT_TMAX]) < 6e-5);
            assert_true(fabs(stats[m][HVAC_STAT_TMIN] - c->monthly[m][HVAC_STAT_TMIN]) < 6e-5);
            assert_true(fabs(stats[m][HVAC_STAT_GHI_TOTAL] - c->monthly[m][HVAC_STAT_GHI_TOTAL]) <
                        6e-3);
            assert_true(fabs(stats[m][HVAC_STAT_GHI_PEAK] - c->monthly[m][HVAC_STAT_GHI_PEAK]) <
                        6e-3);
        }
        assert_int_equal(hvac_weather_synthetic(&syn, c->condition, 99), 0);
        assert_int_equal(hvac_weather_monthly_stats(&syn, syn_stats), 0);
        worst_errors(syn_stats, (const double(*)[HVAC_N_STATS])stats, worst);
        if (worst[0] > TEMP_TOLERANCE || worst[1] > TEMP_TOLERANCE ||
            worst[2] > GHI_TOLERANCE || worst[3] > GHI_TOLERANCE)
            fail_msg("%s: synthetic year off the EPW file: %g %g %g %g", c->condition, worst[0],
                     worst[1], worst[2], worst[3]);
        hvac_weather_free(&w);
        hvac_weather_free(&syn);
    }
    /* Tucson's EPW ground temperatures (first depth) */
    char path[1200];
    snprintf(path, sizeof path, "%s/USA_AZ_Tucson-Davis-Monthan.AFB.722745_TMY3.epw", dir);
    hvac_weather w;
    assert_int_equal(hvac_weather_load_epw(&w, path), 0);
    assert_true(w.ground[0] == 12.94 && w.ground[6] == 30.40);
    assert_true(w.temp[0] == 5.6 && w.ghi[0] == 0);
    hvac_weather_free(&w);
}

/* ------------------------------------------------------------------ gzip and shipped years */

/* Run a shell command made of parts (no format string: the paths are data). */
static void sh(const char *a, const char *b, const char *c, const char *d, const char *e)
{
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "%s'%s'%s'%s'%s", a, b, c, d, e);
    assert_int_equal(system(cmd), 0);
}

static void test_epw_gzip(void **state)
{
    hvac_weather plain, gz;
    char path[600], bad[600];
    const char *good = write_epw("zipped.epw", "-7.0", good_ground, 3, 0, NULL);
    snprintf(path, sizeof path, "%s.gz", good);
    sh("gzip -c ", good, " > ", path, "");
    assert_int_equal(hvac_weather_load_epw(&plain, good), 0);
    assert_int_equal(hvac_weather_load_epw(&gz, path), 0);
    assert_int_equal(gz.hours, 72);
    assert_memory_equal(gz.temp, plain.temp, 72 * sizeof *gz.temp);
    assert_memory_equal(gz.ghi, plain.ghi, 72 * sizeof *gz.ghi);
    assert_true(gz.has_ground && gz.ground[11] == plain.ground[11] && gz.tz == plain.tz);
    hvac_weather_free(&plain);
    hvac_weather_free(&gz);
    /* a bad row inside a compressed file: the same error, file and line */
    const char *row = write_epw("zbad.epw", "-7", good_ground, 1, 3, "2003,1,1,3,0,?9,warm");
    snprintf(bad, sizeof bad, "%s.gz", row);
    sh("gzip -c ", row, " > ", bad, "");
    expect_epw_error(bad, FEWSHOT_EPARSE, 11, "hourly row has 7 fields");
    /* cut short: zlib reports the truncated stream at the line it reached */
    snprintf(bad, sizeof bad, "%s/cut.epw.gz", tmpdir);
    sh("f=", path, "; head -c $(($(wc -c < \"$f\") / 2)) \"$f\" > ", bad, "");
    hvac_weather w;
    assert_int_equal(hvac_weather_load_epw(&w, bad), FEWSHOT_EPARSE);
    assert_string_equal(fewshot_error_last()->file, bad);
    assert_true(fewshot_error_last()->line > 8);
    assert_non_null(strstr(fewshot_error_last()->message, "corrupt compressed data"));
    assert_null(w.temp);
    /* damaged in the middle: the CRC or the inflater catches it */
    snprintf(bad, sizeof bad, "%s/damaged.epw.gz", tmpdir);
    sh("cp ", path, " ", bad, "");
    sh("printf 'XXXXXXXXXXXXXXXX' | dd bs=1 seek=600 conv=notrunc 2>/dev/null of=", bad, "", "",
       "");
    assert_true(hvac_weather_load_epw(&w, bad) < 0);
    assert_string_equal(fewshot_error_last()->file, bad);
    assert_true(fewshot_error_last()->line > 0);
    /* no newline at all (a binary file): refused at a bounded line length */
    snprintf(bad, sizeof bad, "%s/zeros.epw.gz", tmpdir);
    sh("head -c 300000 /dev/zero | tr '\\0' x | gzip > ", bad, "", "", "");
    assert_int_equal(hvac_weather_load_epw(&w, bad), FEWSHOT_EPARSE);
    assert_int_equal(fewshot_error_last()->line, 1);
    assert_non_null(strstr(fewshot_error_last()->message, "line longer than 65536 bytes"));
}

/* Every shipped TMY3 year is found without a path and is the whole file the calibration
 * table was measured on. */
static void test_shipped_years(void **state)
{
    for (int i = 0; i < HVAC_N_CONDITIONS; i++) {
        const hvac_climate *c = &hvac_climates[i];
        const hvac_weather *w;
        if (hvac_weather_acquire(&w, HVAC_WEATHER_TMY3, c->condition, 0) != 0)
            fail_msg("%s: %s", c->condition, fewshot_error_last()->message);
        assert_int_equal(w->hours, 8760);
        assert_true(w->tz == c->tz && w->max_ghi == c->max_ghi && w->has_ground);
        assert_non_null(strstr(w->source, c->epw));
        double stats[12][HVAC_N_STATS];
        assert_int_equal(hvac_weather_monthly_stats(w, stats), 0);
        for (int m = 0; m < 12; m++)
            for (int k = 0; k < HVAC_N_STATS; k++)
                if (fabs(stats[m][k] - c->monthly[m][k]) > (k < 2 ? 6e-5 : 6e-3))
                    fail_msg("%s month %d stat %d: %g, table %g", c->condition, m + 1, k,
                             stats[m][k], c->monthly[m][k]);
        hvac_weather_release(w);
    }
    /* Buffalo on 15 July (day 196): its TMY3 mean, not the synthetic year's */
    const hvac_weather *w;
    assert_int_equal(hvac_weather_acquire(&w, HVAC_WEATHER_TMY3, "Cool and Humid", 0), 0);
    double sum = 0;
    for (int hr = 0; hr < 24; hr++)
        sum += w->temp[195 * 24 + hr];
    assert_true(fabs(sum / 24 - 24.766666666666666) < 1e-9);
    hvac_weather_release(w);
}

static void test_shipped_missing_or_corrupt(void **state)
{
    /* $FEWSHOT_WEATHER_PATH comes first: a damaged copy there is reported by name and line */
    char dir[600], path[800], cmd[2000], *found;
    snprintf(dir, sizeof dir, "%s/weather", tmpdir);
    assert_int_equal(hvac_weather_find_tmy3("Cool_Humid", &found), 0);
    snprintf(path, sizeof path, "%s/USA_NY_Buffalo.Niagara.Intl.AP.725280_TMY3.epw", dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && gzip -dc '%s' | sed '100s/,[^,]*,/,x,/' > '%s'",
             dir, found, path);
    free(found);
    assert_int_equal(system(cmd), 0);
    setenv("FEWSHOT_WEATHER_PATH", dir, 1);
    assert_int_equal(hvac_weather_find_tmy3("Cool_Humid", &found), 0);
    assert_string_equal(found, path);
    free(found);
    const hvac_weather *w;
    assert_int_equal(hvac_weather_acquire(&w, HVAC_WEATHER_TMY3, "Cool_Humid", 0),
                     FEWSHOT_EPARSE);
    assert_string_equal(fewshot_error_last()->file, path);
    assert_int_equal(fewshot_error_last()->line, 100);
    unsetenv("FEWSHOT_WEATHER_PATH");
    assert_int_equal(hvac_weather_find_tmy3("Atlantis", &found), FEWSHOT_ENOTFOUND);
    assert_non_null(strstr(fewshot_error_last()->message, "unknown weather condition"));
}

/* One year per (source, name, seed): shared while held, distinct otherwise. */
static void test_shared_store(void **state)
{
    const hvac_weather *a, *b, *c, *d;
    assert_int_equal(hvac_weather_acquire(&a, HVAC_WEATHER_SYNTHETIC, "Hot_Dry", 5), 0);
    assert_int_equal(hvac_weather_acquire(&b, HVAC_WEATHER_SYNTHETIC, "Hot_Dry", 5), 0);
    assert_int_equal(hvac_weather_acquire(&c, HVAC_WEATHER_SYNTHETIC, "Hot_Dry", 6), 0);
    assert_int_equal(hvac_weather_acquire(&d, HVAC_WEATHER_TMY3, "Hot_Dry", 5), 0);
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
    assert_ptr_not_equal(a, d);
    assert_true(memcmp(a->temp, c->temp, 8760 * sizeof *a->temp) != 0);
    hvac_weather fresh;
    assert_int_equal(hvac_weather_synthetic(&fresh, "Hot_Dry", 5), 0);
    assert_memory_equal(a->temp, fresh.temp, 8760 * sizeof *a->temp);
    hvac_weather_free(&fresh);
    hvac_weather_release(a);
    assert_true(b->hours == 8760);    /* still held by b */
    size_t held = hvac_weather_shared_count();
    hvac_weather_release(b);
    hvac_weather_release(c);
    hvac_weather_release(d);
    /* idle years stay for the next environment */
    assert_int_equal(hvac_weather_shared_count(), held);
    assert_int_equal(hvac_weather_acquire(&b, HVAC_WEATHER_SYNTHETIC, "Hot_Dry", 5), 0);
    assert_ptr_equal(a, b);
    hvac_weather_release(b);
    hvac_weather_release(NULL);
}

static void *acquire_many(void *arg)
{
    const hvac_weather **first = arg;
    for (int i = 0; i < 50; i++) {
        const hvac_weather *w;
        if (hvac_weather_acquire(&w, HVAC_WEATHER_SYNTHETIC, "Subarctic", 77) != 0)
            return NULL;
        if (i == 0)
            *first = w;
        else if (w != *first)
            return NULL;
        hvac_weather_release(w);
    }
    return (void *)first;
}

static void test_shared_threads(void **state)
{
    pthread_t t[4];
    const hvac_weather *first[4] = {0};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, acquire_many, &first[i]), 0);
    for (int i = 0; i < 4; i++) {
        void *ok;
        assert_int_equal(pthread_join(t[i], &ok), 0);
        assert_non_null(ok);
    }
    for (int i = 1; i < 4; i++)
        assert_ptr_equal(first[i], first[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_ground),
        cmocka_unit_test(test_epw_good),
        cmocka_unit_test(test_epw_errors),
        cmocka_unit_test(test_synthetic_calibrated),
        cmocka_unit_test(test_synthetic_deterministic),
        cmocka_unit_test(test_csv_matches_table),
        cmocka_unit_test(test_shared_epw),
        cmocka_unit_test(test_epw_gzip),
        cmocka_unit_test(test_shipped_years),
        cmocka_unit_test(test_shipped_missing_or_corrupt),
        cmocka_unit_test(test_shared_store),
        cmocka_unit_test(test_shared_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
