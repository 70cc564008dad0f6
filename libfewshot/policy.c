/*
 * Simple policies: zero, random, constant, replay from a CSV file, or the plugin's own.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "fewshot/policy.h"
#include "fewshot/rng.h"
#include "internal.h"
#include "policy_mlp.h"

#define ACTION_LINE_MAX (1 << 20)  /* a CSV row of actions; /dev/zero must not fill memory */

typedef enum { POLICY_ZERO, POLICY_RANDOM, POLICY_CONST, POLICY_FILE, POLICY_PLUGIN,
               POLICY_MLP } kind;

struct fewshot_policy {
    kind kind;
    fewshot_env *env;
    char *spec;
    const char *plugin_name;    /* POLICY_PLUGIN: the name inside spec */
    fewshot_rng rng;
    double *values;             /* CONST: dim values; FILE: rows * dim values */
    size_t rows, next_row;
    char *file;
    fewshot_mlp *mlp;           /* MLP: the network */
};

/* Parse one number field; strtod with the checks it lacks. */
static int parse_number(const char *s, double *out)
{
    char *end;
    while (*s == ' ' || *s == '\t')
        s++;
    errno = 0;
    *out = strtod(s, &end);
    if (end == s || errno == ERANGE)
        return -1;
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    return *end ? -1 : 0;
}

/* Split a comma-separated row in place; returns the number of fields (at most cap). */
static size_t split_fields(char *line, char **fields, size_t cap)
{
    size_t n = 0;
    char *p = line;
    while (n < cap) {
        fields[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

static int parse_const(fewshot_policy *pol, const char *text, size_t dim)
{
    char *copy = strdup(text);
    char **fields = calloc(dim + 1, sizeof *fields);
    int rc = 0;
    pol->values = calloc(dim, sizeof *pol->values);
    if (!copy || !fields || !pol->values) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        goto done;
    }
    size_t n = split_fields(copy, fields, dim + 1);
    if (n != 1 && n != dim) {
        rc = fewshot_error_set(FEWSHOT_EINVAL, "policy const:%s: expected 1 or %zu values, "
                               "found %zu", text, dim, n);
        goto done;
    }
    for (size_t i = 0; i < dim; i++) {
        if (parse_number(fields[n == 1 ? 0 : i], &pol->values[i]) != 0 ||
            !isfinite(pol->values[i])) {
            rc = fewshot_error_set(FEWSHOT_EINVAL, "policy const:%s: value %zu ('%s') is not a "
                                   "finite number", text, (n == 1 ? 0 : i) + 1,
                                   fields[n == 1 ? 0 : i]);
            goto done;
        }
    }
done:
    free(copy);
    free(fields);
    return rc;
}

static int is_blank_or_comment(const char *line)
{
    line += strspn(line, " \t\r\n");
    return *line == '\0' || *line == '#';
}

static int append_row(fewshot_policy *pol, const double *row, size_t dim, size_t *cap)
{
    if (pol->rows == *cap) {
        size_t grown_cap = *cap ? *cap * 2 : 64;
        double *grown = realloc(pol->values, grown_cap * dim * sizeof *grown);
        if (!grown)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        pol->values = grown;
        *cap = grown_cap;
    }
    memcpy(pol->values + pol->rows * dim, row, dim * sizeof *row);
    pol->rows++;
    return 0;
}

static int load_file(fewshot_policy *pol, const char *path, size_t dim)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot open action file: %s",
                                    strerror(errno));
    char *line = NULL;
    size_t line_cap = 0, cap = 0;
    long lineno = 0;
    int rc = 0, seen_data = 0;
    char **fields = calloc(dim + 1, sizeof *fields);
    double *row = calloc(dim, sizeof *row);
    if (!fields || !row) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        goto done;
    }
    size_t len;
    int got;
    while ((got = fewshot__read_line(f, &line, &line_cap, ACTION_LINE_MAX, &len)) != 0) {
        lineno++;
        if (got < 0) {
            rc = got == -2 ? fewshot_error_set(FEWSHOT_ENOMEM, "out of memory")
                           : fewshot_error_set_at(FEWSHOT_EPARSE, path, (int)lineno, 0,
                                                  "line longer than %d bytes: not an action "
                                                  "file", ACTION_LINE_MAX);
            goto done;
        }
        if (is_blank_or_comment(line))
            continue;
        size_t n = split_fields(line, fields, dim + 1);
        int numeric = 1;
        for (size_t i = 0; i < n && numeric; i++)
            numeric = parse_number(fields[i], &row[i < dim ? i : 0]) == 0;
        if (!numeric && !seen_data) {
            seen_data = 1;     /* the first non-numeric row is a header */
            continue;
        }
        seen_data = 1;
        if (n != dim) {
            rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, (int)lineno, 0,
                                      "expected %zu actions, found %zu", dim, n);
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            if (parse_number(fields[i], &row[i]) != 0 || !isfinite(row[i])) {
                rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, (int)lineno, 0,
                                          "action %zu is not a finite number: '%s'", i + 1,
                                          fields[i]);
                goto done;
            }
        }
        if ((rc = append_row(pol, row, dim, &cap)) != 0)
            goto done;
    }
    if (ferror(f))
        rc = fewshot_error_set_at(FEWSHOT_EIO, path, (int)lineno, 0, "read error");
    else if (pol->rows == 0)
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, 0, 0, "the action file has no rows");
done:
    free(line);
    free(fields);
    free(row);
    fclose(f);
    return rc;
}

/* Append the value of env parameter `key` (a string as is, other JSON compactly). */
static int append_param(json_t *params, const char *key, char *buf, size_t size, size_t *used)
{
    const json_t *v = json_object_get(params, key);
    if (!v)
        return -1;
    char *text = json_is_string(v) ? strdup(json_string_value(v))
                                   : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!text)
        return -1;
    *used += (size_t)snprintf(buf + *used, *used < size ? size - *used : 0, "%s", text);
    free(text);
    return 0;
}

/* mlp:FILE may name env parameters as {KEY} (mlp:ppo/{building}-{weather}.json), so one
 * baseline of a sweep picks the policy trained for each scenario. */
static int expand_path(fewshot_env *env, const char *pattern, char *buf, size_t size)
{
    json_t *params = NULL;
    size_t used = 0;
    int rc = 0;
    for (const char *p = pattern; *p && rc == 0; p++) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (!close) {
            if (used + 1 < size)
                buf[used] = *p;
            used++;
            continue;
        }
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(close - p - 1), p + 1);
        if (!params && fewshot_env_params(env, &params) != 0)
            params = json_object();
        if (append_param(params, key, buf, size, &used) != 0)
            rc = fewshot_error_set(FEWSHOT_EINVAL, "policy mlp:%s: {%s} is not a parameter of "
                                   "%s", pattern, key, fewshot_env_plugin_of(env)->name);
        p = close;
    }
    json_decref(params);
    if (rc == 0 && used >= size)
        rc = fewshot_error_set(FEWSHOT_EINVAL, "policy mlp:%s: the file name is too long",
                               pattern);
    if (rc == 0)
        buf[used] = '\0';
    return rc;
}

static int load_mlp(fewshot_policy *pol, const char *pattern)
{
    char path[4096];
    int rc = expand_path(pol->env, pattern, path, sizeof path);
    if (rc)
        return rc;
    rc = fewshot__mlp_load(&pol->mlp, path, fewshot_env_obs_space(pol->env)->dim,
                           fewshot_env_act_space(pol->env)->dim);
    if (rc == 0 && !(pol->file = strdup(path)))
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    return rc;
}

int fewshot_policy_new(fewshot_policy **out, fewshot_env *env, const char *spec, uint64_t seed)
{
    size_t dim = fewshot_env_act_space(env)->dim;
    int rc = 0;
    *out = NULL;
    if (!spec || !spec[0])
        return fewshot_error_set(FEWSHOT_EINVAL, "empty policy");
    fewshot_policy *pol = calloc(1, sizeof *pol);
    if (!pol || !(pol->spec = strdup(spec))) {
        free(pol);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    pol->env = env;
    fewshot_rng_seed(&pol->rng, seed);
    if (strcmp(spec, "zero") == 0) {
        pol->kind = POLICY_ZERO;
    } else if (strcmp(spec, "random") == 0) {
        pol->kind = POLICY_RANDOM;
    } else if (strncmp(spec, "const:", 6) == 0) {
        pol->kind = POLICY_CONST;
        rc = parse_const(pol, spec + 6, dim);
    } else if (strncmp(spec, "file:", 5) == 0) {
        pol->kind = POLICY_FILE;
        rc = load_file(pol, spec + 5, dim);
    } else if (strncmp(spec, "mlp:", 4) == 0) {
        pol->kind = POLICY_MLP;
        rc = load_mlp(pol, spec + 4);
    } else {
        pol->kind = POLICY_PLUGIN;
        pol->plugin_name = pol->spec;
        const char *const *names = fewshot_env_policies(env);
        int known = strcmp(spec, "expert") == 0 && names[0];
        for (size_t i = 0; !known && names[i]; i++)
            known = strcmp(names[i], spec) == 0;
        if (!known) {
            char list[512] = "";
            size_t used = 0;
            for (size_t i = 0; names[i] && used < sizeof list; i++)
                used += (size_t)snprintf(list + used, sizeof list - used, ", %s", names[i]);
            rc = fewshot_error_set(FEWSHOT_EINVAL, "unknown policy '%s' for %s (expected zero, "
                                   "random, const:V, file:ACTIONS.csv, mlp:POLICY.json%s%s)%s",
                                   spec, fewshot_env_plugin_of(env)->name,
                                   names[0] ? ", expert" : "", list,
                                   strcmp(spec, "ppo") == 0
                                       ? "; train a PPO policy with `python3 -m fewshot.ppo "
                                         "ENV --steps N -o ppo.json` and use mlp:ppo.json"
                                       : "");
        }
    }
    if (rc) {
        fewshot_policy_free(pol);
        return rc;
    }
    *out = pol;
    return 0;
}

void fewshot_policy_free(fewshot_policy *policy)
{
    if (!policy)
        return;
    free(policy->values);
    free(policy->spec);
    free(policy->file);
    fewshot__mlp_free(policy->mlp);
    free(policy);
}

const char *fewshot_policy_spec(const fewshot_policy *policy)
{
    return policy->spec;
}

void fewshot_policy_reset(fewshot_policy *policy, uint64_t seed)
{
    fewshot_rng_seed(&policy->rng, seed);
    policy->next_row = 0;
}

static void act_random(fewshot_policy *pol, const fewshot_space *space, double *action)
{
    for (size_t i = 0; i < space->dim; i++) {
        double lo = space->low ? space->low[i] : -1.0, hi = space->high ? space->high[i] : 1.0;
        if (!isfinite(lo))
            lo = isfinite(hi) ? hi - 1.0 : -1.0;
        if (!isfinite(hi))
            hi = lo + 1.0;
        if (space->integer) {
            double span = floor(hi) - ceil(lo) + 1.0;
            action[i] = ceil(lo) + (double)fewshot_rng_below(&pol->rng, (uint64_t)span);
        } else {
            action[i] = lo + (hi - lo) * fewshot_rng_uniform(&pol->rng);
        }
    }
}

int fewshot_policy_act(fewshot_policy *policy, const double *obs, double *action)
{
    const fewshot_space *space = fewshot_env_act_space(policy->env);
    switch (policy->kind) {
    case POLICY_ZERO:
        memset(action, 0, space->dim * sizeof *action);
        fewshot_space_clip(space, action);
        return 0;
    case POLICY_RANDOM:
        act_random(policy, space, action);
        return 0;
    case POLICY_CONST:
        memcpy(action, policy->values, space->dim * sizeof *action);
        return 0;
    case POLICY_FILE:
        if (policy->next_row >= policy->rows)
            return fewshot_error_set(FEWSHOT_ERANGE, "%s: no action row for step %zu (the file "
                                     "has %zu rows)", policy->spec + 5, policy->next_row + 1,
                                     policy->rows);
        memcpy(action, policy->values + policy->next_row * space->dim,
               space->dim * sizeof *action);
        policy->next_row++;
        return 0;
    case POLICY_MLP:
        if (!obs && !(obs = fewshot_env_obs(policy->env)))
            return fewshot_error_set(FEWSHOT_EINVAL, "policy %s: no observation yet; reset() "
                                     "first", policy->spec);
        fewshot__mlp_forward(policy->mlp, obs, action);
        return fewshot_space_check_finite(space, action, "action");
    case POLICY_PLUGIN:
        return fewshot_env_policy(policy->env, policy->plugin_name, obs, action);
    }
    return fewshot_error_set(FEWSHOT_ERROR, "corrupt policy");
}
