/*
 * inventory: demand lists and demand CSV files (see demand.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot/error.h>

#include "demand.h"

static int parse_count(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    while (isspace((unsigned char)*end))
        end++;
    if (end == text || *end || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int load_list(const json_t *spec, long periods, double *d)
{
    if ((long)json_array_size(spec) != periods)
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, "demand",
                                      "inventory: parameter 'demand' has %zu values, but "
                                      "periods is %ld (one value per period)",
                                      json_array_size(spec), periods);
    for (long i = 0; i < periods; i++) {
        json_t *v = json_array_get(spec, (size_t)i);
        double x = json_number_value(v);
        if (!json_is_number(v) || x < 0 || x != floor(x)) {
            char path[64];
            snprintf(path, sizeof path, "demand[%ld]", i);
            return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, path,
                                          "inventory: demand[%ld] must be a non-negative "
                                          "integer", i);
        }
        d[i] = x;
    }
    return 0;
}

static int load_csv(const char *file, long periods, double *d)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return fewshot_error_set(FEWSHOT_EIO, "inventory: cannot open demand file %s: %s", file,
                                 strerror(errno));
    char line[4096];
    long count = 0, lineno = 0;
    int rc = 0, seen_row = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        char *field = strrchr(p, ',');
        field = field ? field + 1 : p;
        while (isspace((unsigned char)*field))
            field++;
        double v;
        if (parse_count(field, &v) != 0) {
            if (!seen_row) {            /* a header row */
                seen_row = 1;
                continue;
            }
            rc = fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)lineno,
                                      (int)(field - line) + 1,
                                      "expected a demand value, found '%s'", field);
            break;
        }
        seen_row = 1;
        if (v < 0 || v != floor(v)) {
            rc = fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)lineno,
                                      (int)(field - line) + 1,
                                      "demand must be a non-negative integer, found '%s'",
                                      field);
            break;
        }
        if (count >= periods) {
            rc = fewshot_error_set_at(FEWSHOT_EINVAL, file, (int)lineno, 0,
                                      "more demand rows than periods (%ld)", periods);
            break;
        }
        d[count++] = v;
    }
    if (rc == 0 && ferror(f))
        rc = fewshot_error_set(FEWSHOT_EIO, "inventory: reading %s failed", file);
    if (rc == 0 && count < periods)
        rc = fewshot_error_set_at(FEWSHOT_EINVAL, file, (int)lineno, 0,
                                  "%ld demand rows, but periods is %ld (one row per period)",
                                  count, periods);
    fclose(f);
    return rc;
}

int inv_demand_load(const json_t *spec, long periods, double **out)
{
    double *d = calloc((size_t)periods, sizeof *d);
    if (!d)
        return fewshot_error_set(FEWSHOT_ENOMEM, "inventory: out of memory");
    int rc = json_is_array(spec) ? load_list(spec, periods, d)
                                 : load_csv(json_string_value(spec), periods, d);
    if (rc != 0) {
        free(d);
        return rc;
    }
    *out = d;
    return 0;
}
