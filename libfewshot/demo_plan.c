/*
 * The plan of a generation: which days of the year and which scenarios (parameter overrides)
 * a dataset covers. Expanding a "days" or "scenarios" value is shared by the config checker
 * (which names the config file) and the generator, so both give the same JSON paths.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "demo_internal.h"

#define DAYS_IN_YEAR 365

static int bad(const char *file, const char *path, const char *sub, const char *fmt, ...)
    FEWSHOT_PRINTF(4, 5);

static int bad(const char *file, const char *path, const char *sub, const char *fmt, ...)
{
    char full[512], msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "%s%s", path ? path : "$", sub ? sub : "");
    return fewshot_error_set_path(FEWSHOT_EINVAL, file, full, "%s", msg);
}

static int day_value(const json_t *v, const char *file, const char *path, const char *sub,
                     int *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > DAYS_IN_YEAR)
        return bad(file, path, sub, "%s", "expected a day of the year, an integer from 1 to 365");
    *out = (int)json_integer_value(v);
    return 0;
}

static int every_days(const json_t *days, const char *file, const char *path, int *list,
                      size_t *n)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)days, key, v) {
        if (strcmp(key, "every") && strcmp(key, "from") && strcmp(key, "to")) {
            char sub[128];
            snprintf(sub, sizeof sub, ".%.64s", key);
            return bad(file, path, sub, "unknown key '%s' (known: every, from, to)", key);
        }
    }
    json_t *every = json_object_get(days, "every");
    if (!every)
        return bad(file, path, ".every", "%s", "missing: {\"every\": N} takes every Nth day");
    if (!json_is_integer(every) || json_integer_value(every) < 1 ||
        json_integer_value(every) > DAYS_IN_YEAR)
        return bad(file, path, ".every", "%s", "expected an integer from 1 to 365");
    int from = 1, to = DAYS_IN_YEAR, rc;
    if (json_object_get(days, "from") &&
        (rc = day_value(json_object_get(days, "from"), file, path, ".from", &from)))
        return rc;
    if (json_object_get(days, "to") &&
        (rc = day_value(json_object_get(days, "to"), file, path, ".to", &to)))
        return rc;
    if (from > to)
        return bad(file, path, ".to", "%s", "must not be before \"from\"");
    *n = 0;
    for (int d = from; d <= to; d += (int)json_integer_value(every))
        list[(*n)++] = d;
    return 0;
}

static int listed_days(const json_t *days, const char *file, const char *path, int *list,
                       size_t *n)
{
    size_t i;
    json_t *v;
    char seen[DAYS_IN_YEAR + 1] = {0}, sub[32];
    if (json_array_size(days) == 0)
        return bad(file, path, "", "%s", "expected at least one day");
    if (json_array_size(days) > DAYS_IN_YEAR)
        return bad(file, path, "", "%s", "more days than a year has");
    json_array_foreach((json_t *)days, i, v) {
        int rc, d;
        snprintf(sub, sizeof sub, "[%zu]", i);
        if ((rc = day_value(v, file, path, sub, &d)))
            return rc;
        if (seen[d]) {
            char what[32];
            snprintf(what, sizeof what, "%d", d);
            return bad(file, path, sub, "day %s is listed twice", what);
        }
        seen[d] = 1;
        list[i] = d;
    }
    *n = json_array_size(days);
    return 0;
}

int fewshot__demos_days(const json_t *days, const char *file, const char *path, int **out,
                        size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!days || json_is_null(days))
        return 0;
    int *list = malloc(DAYS_IN_YEAR * sizeof *list), rc = 0;
    if (!list)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if (json_is_string(days) && strcmp(json_string_value(days), "all") == 0) {
        for (int d = 1; d <= DAYS_IN_YEAR; d++)
            list[d - 1] = d;
        *n = DAYS_IN_YEAR;
    } else if (json_is_object(days)) {
        rc = every_days(days, file, path, list, n);
    } else if (json_is_array(days)) {
        rc = listed_days(days, file, path, list, n);
    } else {
        rc = bad(file, path, "", "%s", "expected \"all\", {\"every\": N, \"from\": D, \"to\": D} "
                 "or a list of days of the year (1-365)");
    }
    if (rc) {
        free(list);
        *n = 0;
        return rc;
    }
    *out = list;
    return 0;
}

/* Append to out every combination of the grid's dimensions from index k on, over base. */
static int grid_product(json_t *const *dims, const char *const *keys, size_t k, size_t n_dims,
                        json_t *base, json_t *out)
{
    if (k == n_dims)
        return json_array_append(out, base);
    size_t i;
    json_t *v;
    json_array_foreach(dims[k], i, v) {
        json_t *next = json_deep_copy(base);
        if (json_is_object(v))
            json_object_update(next, v);   /* paired values, e.g. {"weather": .., "city": ..} */
        else
            json_object_set(next, keys[k], v);
        int rc = grid_product(dims, keys, k + 1, n_dims, next, out);
        json_decref(next);
        if (rc)
            return rc;
    }
    return 0;
}

static int grid_scenarios(const json_t *grid, const char *file, const char *path, json_t *out)
{
    char sub[160];
    if (!json_is_object(grid) || json_object_size(grid) == 0)
        return bad(file, path, ".grid", "%s", "expected an object of parameter name: list of "
                   "values");
    size_t n_dims = json_object_size(grid), d = 0;
    json_t **dims = calloc(n_dims, sizeof *dims);
    const char **keys = calloc(n_dims, sizeof *keys);
    if (!dims || !keys) {
        free(dims), free(keys);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach((json_t *)grid, key, v) {
        snprintf(sub, sizeof sub, ".grid.%.64s", key);
        if (!json_is_array(v) || json_array_size(v) == 0) {
            rc = bad(file, path, sub, "%s", "expected a non-empty list of values (or of objects "
                     "of paired values)");
            break;
        }
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            if (json_is_array(item) || json_is_null(item)) {
                snprintf(sub, sizeof sub, ".grid.%.64s[%zu]", key, i);
                rc = bad(file, path, sub, "%s", "expected a parameter value or an object of "
                         "paired parameter values");
                break;
            }
        }
        if (rc)
            break;
        dims[d] = v;
        keys[d++] = key;
    }
    if (rc == 0) {
        json_t *base = json_object();
        rc = grid_product(dims, keys, 0, n_dims, base, out);
        json_decref(base);
        if (rc)
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    free(dims), free(keys);
    return rc;
}

int fewshot__demos_scenarios(const json_t *scenarios, const char *file, const char *path,
                             json_t **out)
{
    *out = NULL;
    if (!scenarios || json_is_null(scenarios))
        return 0;
    json_t *list = json_array();
    int rc = 0;
    if (json_is_object(scenarios)) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)scenarios, key, v) {
            if (strcmp(key, "grid") != 0) {
                char sub[128];
                snprintf(sub, sizeof sub, ".%.64s", key);
                rc = bad(file, path, sub, "unknown key '%s' (a scenarios object holds only "
                         "\"grid\")", key);
                break;
            }
        }
        if (rc == 0)
            rc = grid_scenarios(json_object_get(scenarios, "grid"), file, path, list);
    } else if (json_is_array(scenarios) && json_array_size(scenarios)) {
        size_t i;
        json_t *v;
        json_array_foreach((json_t *)scenarios, i, v) {
            if (!json_is_object(v)) {
                char sub[32];
                snprintf(sub, sizeof sub, "[%zu]", i);
                rc = bad(file, path, sub, "%s", "expected an object of parameter overrides");
                break;
            }
            json_array_append(list, v);
        }
    } else {
        rc = bad(file, path, "", "%s", "expected a non-empty list of parameter-override objects "
                 "or {\"grid\": {\"name\": [values], ...}}");
    }
    if (rc) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return 0;
}

/* The parameters of task t: base, then the scenario's overrides, then the day. */
json_t *fewshot__demos_task_params(const json_t *base, const json_t *scenarios, const int *days,
                                   size_t n_days, size_t t)
{
    size_t per = n_days ? n_days : 1;
    json_t *p = base ? json_deep_copy(base) : json_object();
    if (!p)
        return NULL;
    if (scenarios)
        json_object_update(p, json_array_get(scenarios, t / per));
    if (n_days)
        json_object_set_new(p, "start_day", json_integer(days[t % per]));
    return p;
}
