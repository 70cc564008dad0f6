/*
 * Sweep configurations: strict validation against a small schema table, defaults, --set
 * overrides, and the expansion of arms (explicit, design-generated, baselines), scenarios
 * (list or grid) and seeds.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fewshot/config.h"
#include "fewshot/error.h"
#include "demo_internal.h"
#include "internal.h"

struct fewshot_config {
    char *file;         /* where it came from, for messages */
    char *dir;          /* directory relative file names are resolved against */
    json_t *raw;        /* the document as given, with overrides applied */
    json_t *resolved;   /* defaults filled in */
    json_t *arms, *scenarios, *seeds;
    char *reference;
    char hash[65];
};

/* ---------------------------------------------------------------- the schema */

typedef enum {
    T_ANY, T_OBJECT, T_ARRAY, T_STRING, T_INTEGER, T_NUMBER, T_BOOLEAN, T_STRINGS
} vtype;

typedef struct field {
    const char *key;
    vtype type;
    const char *dflt;           /* JSON text of the default, or NULL (optional, no default) */
    const struct field *sub;    /* T_OBJECT: its fields; NULL: any keys */
    const char *choices;        /* T_STRING: "a|b|c", or NULL */
    int required;
    int min_zero;               /* numbers: must be >= 0 */
} field;

#define END {NULL, T_ANY, NULL, NULL, NULL, 0, 0}

static const field env_fields[] = {
    {"plugin", T_STRING, NULL, NULL, NULL, 1, 0},
    {"params", T_OBJECT, "{}", NULL, NULL, 0, 0},
    END
};
static const field demos_fields[] = {
    {"file", T_STRING, NULL, NULL, NULL, 0, 0},
    {"env", T_STRING, NULL, NULL, NULL, 0, 0},
    {"params", T_OBJECT, NULL, NULL, NULL, 0, 0},
    {"policy", T_STRING, NULL, NULL, NULL, 0, 0},
    {"episodes", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"steps", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"seed", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"days", T_ANY, NULL, NULL, NULL, 0, 0},
    {"scenarios", T_ANY, NULL, NULL, NULL, 0, 0},
    {"jobs", T_INTEGER, NULL, NULL, NULL, 0, 1},
    END
};
static const field embedding_fields[] = {
    {"kind", T_STRING, "\"features\"", NULL, "features|text-hash|remote", 0, 0},
    {"dim", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"normalize", T_BOOLEAN, NULL, NULL, NULL, 0, 0},
    {"ngram_min", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"ngram_max", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"seed", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"base_url", T_STRING, NULL, NULL, NULL, 0, 0},
    {"model", T_STRING, NULL, NULL, NULL, 0, 0},
    {"api_key_env", T_STRING, NULL, NULL, NULL, 0, 0},
    {"timeout_ms", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"batch", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"index", T_STRING, NULL, NULL, NULL, 0, 0},
    {"metric", T_STRING, NULL, NULL, "l2|ip", 0, 0},
    {"scaling", T_STRING, NULL, NULL, "robust|std", 0, 0},
    {"scale_floor", T_NUMBER, NULL, NULL, NULL, 0, 1},
    {"weights", T_ANY, NULL, NULL, NULL, 0, 0},
    END
};
static const field selection_fields[] = {
    {"knn", T_INTEGER, "4", NULL, NULL, 0, 1},
    {"clusters", T_INTEGER, "0", NULL, NULL, 0, 1},
    {"representative", T_STRING, "\"nearest\"", NULL, "nearest|best", 0, 0},
    {"history", T_INTEGER, "0", NULL, NULL, 0, 1},
    {"history_order", T_STRING, "\"recent\"", NULL, "recent|best", 0, 0},
    {"history_window", T_STRING, NULL, NULL, "block|sliding|restart", 0, 0},
    {"stick", T_NUMBER, NULL, NULL, NULL, 0, 1},
    {"random", T_INTEGER, "0", NULL, NULL, 0, 1},
    {"reward_lambda", T_NUMBER, NULL, NULL, NULL, 0, 1},
    {"mmr_lambda", T_NUMBER, NULL, NULL, NULL, 0, 1},
    {"candidates", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"kmeans_iterations", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"budget", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"order", T_STRINGS, NULL, NULL, NULL, 0, 0},
    {"buffer", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"seed", T_INTEGER, NULL, NULL, NULL, 0, 1},
    END
};
/* prompt and parse are checked here for shape; the prompt generator and the action parser
 * check the values when an arm's agent is built (before anything runs). */
static const field prompt_fields[] = {
    {"order", T_STRINGS, NULL, NULL, NULL, 0, 0},
    {"drop", T_STRINGS, "[]", NULL, NULL, 0, 0},
    {"templates", T_OBJECT, "{}", NULL, NULL, 0, 0},
    {"numbers", T_ANY, NULL, NULL, NULL, 0, 0},
    {"style", T_STRING, NULL, NULL, "completion|chat", 0, 0},
    {"system", T_STRINGS, NULL, NULL, NULL, 0, 0},
    {"separator", T_STRING, NULL, NULL, NULL, 0, 0},
    {"action_scale", T_NUMBER, NULL, NULL, NULL, 0, 0},
    {"demo_order", T_STRING, NULL, NULL, "cache|paper", 0, 0},
    {"history_layout", T_STRING, NULL, NULL, "turns|demonstrations", 0, 0},
    {"reward_digits", T_INTEGER, NULL, NULL, NULL, 0, 1},
    END
};
static const field parse_fields[] = {
    {"scale", T_NUMBER, NULL, NULL, NULL, 0, 0},
    {"integers", T_BOOLEAN, NULL, NULL, NULL, 0, 0},
    {"out_of_range", T_STRING, NULL, NULL, "clamp|reject", 0, 0},
    {"non_integer", T_STRING, NULL, NULL, "round|reject", 0, 0},
    {"extra_values", T_STRING, NULL, NULL, "reject|truncate", 0, 0},
    {"ranges", T_STRING, NULL, NULL, "midpoint|reject", 0, 0},
    {"patterns", T_STRINGS, NULL, NULL, NULL, 0, 0},
    {"reask", T_BOOLEAN, "true", NULL, NULL, 0, 0},
    {"fallback", T_STRING, "\"hold\"", NULL, "hold|zero|expert|none", 0, 0},
    {"max_failure_rate", T_NUMBER, NULL, NULL, NULL, 0, 1},
    END
};
static const field design_fields[] = {
    {"type", T_STRING, "\"arms\"", NULL, "arms|grid|one-at-a-time|leave-one-out", 0, 0},
    {"factors", T_OBJECT, "{}", NULL, NULL, 0, 0},
    {"reference", T_STRING, NULL, NULL, NULL, 0, 0},
    {"components", T_STRINGS, NULL, NULL, NULL, 0, 0},
    END
};
static const field episodes_fields[] = {
    {"seeds", T_ANY, "[1]", NULL, NULL, 0, 0},
    {"steps", T_INTEGER, "0", NULL, NULL, 0, 1},
    {"reset", T_OBJECT, "{}", NULL, NULL, 0, 0},
    END
};
/* Defaults of the statistics keys live in report.c, so configs without them keep their hash. */
static const field report_fields[] = {
    {"plots", T_BOOLEAN, "true", NULL, NULL, 0, 0},
    {"score_zero", T_STRING, NULL, NULL, NULL, 0, 0},
    {"score_one", T_STRING, NULL, NULL, NULL, 0, 0},
    {"bootstrap", T_INTEGER, NULL, NULL, NULL, 0, 1},
    {"seed", T_INTEGER, NULL, NULL, NULL, 0, 1},
    END
};
static const field top_fields[] = {
    {"name", T_STRING, NULL, NULL, NULL, 0, 0},
    {"description", T_STRING, NULL, NULL, NULL, 0, 0},
    {"env", T_OBJECT, NULL, env_fields, NULL, 1, 0},
    {"scenarios", T_ANY, NULL, NULL, NULL, 0, 0},
    {"demos", T_OBJECT, "{}", demos_fields, NULL, 0, 0},
    {"embedding", T_OBJECT, "{}", embedding_fields, NULL, 0, 0},
    {"selection", T_OBJECT, "{}", selection_fields, NULL, 0, 0},
    {"prompt", T_OBJECT, "{}", prompt_fields, NULL, 0, 0},
    {"parse", T_OBJECT, "{}", parse_fields, NULL, 0, 0},
    {"llm", T_OBJECT, "{}", NULL, NULL, 0, 0},
    {"arms", T_ANY, NULL, NULL, NULL, 0, 0},
    {"design", T_OBJECT, "{}", design_fields, NULL, 0, 0},
    {"baselines", T_STRINGS, "[]", NULL, NULL, 0, 0},
    {"episodes", T_OBJECT, "{}", episodes_fields, NULL, 0, 0},
    {"report", T_OBJECT, "{}", report_fields, NULL, 0, 0},
    END
};

/* The sections an arm may override, in the order arms list them. */
static const struct {
    const char *name;
    const field *fields;
} arm_sections[] = {
    {"demos", demos_fields},   {"embedding", embedding_fields}, {"selection", selection_fields},
    {"prompt", prompt_fields}, {"parse", parse_fields},         {"llm", NULL},
};
#define N_SECTIONS (sizeof arm_sections / sizeof arm_sections[0])

/* ---------------------------------------------------------------- helpers */

/* Append ".key" (or "['key']" when the key is not a plain word) to a JSON path. */
static void path_key(char *out, size_t size, const char *base, const char *key)
{
    int plain = key[0] != '\0';
    for (const char *p = key; *p; p++)
        if (!(*p == '_' || *p == '-' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9')))
            plain = 0;
    if (plain)
        snprintf(out, size, "%s.%s", base, key);
    else
        snprintf(out, size, "%s['%s']", base, key);
}

static const char *type_name(vtype t)
{
    switch (t) {
    case T_OBJECT: return "an object";
    case T_ARRAY: return "an array";
    case T_STRING: return "a string";
    case T_INTEGER: return "an integer";
    case T_NUMBER: return "a number";
    case T_BOOLEAN: return "a boolean";
    case T_STRINGS: return "an array of strings";
    default: return "a value";
    }
}

static int type_ok(const json_t *v, vtype t)
{
    size_t i;
    json_t *item;
    switch (t) {
    case T_ANY: return 1;
    case T_OBJECT: return json_is_object(v);
    case T_ARRAY: return json_is_array(v);
    case T_STRING: return json_is_string(v);
    case T_INTEGER: return json_is_integer(v);
    case T_NUMBER: return json_is_number(v);
    case T_BOOLEAN: return json_is_boolean(v);
    case T_STRINGS:
        if (!json_is_array(v))
            return 0;
        json_array_foreach(v, i, item)
            if (!json_is_string(item))
                return 0;
        return 1;
    }
    return 0;
}

static int choice_ok(const char *choices, const char *value)
{
    size_t n = strlen(value);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, value, n) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static void known_keys(const field *fields, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const field *f = fields; f->key && used < size; f++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "", f->key);
}

/* Check obj against fields in place, adding defaults. */
static int check_object(const fewshot_config *cfg, json_t *obj, const field *fields,
                        const char *path)
{
    const char *key;
    json_t *value;
    char sub[512], known[512];
    json_object_foreach(obj, key, value) {
        const field *f = fields;
        while (f->key && strcmp(f->key, key) != 0)
            f++;
        if (!f->key) {
            known_keys(fields, known, sizeof known);
            path_key(sub, sizeof sub, path, key);
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                          "unknown key '%s' (known: %s)", key, known);
        }
    }
    for (const field *f = fields; f->key; f++) {
        path_key(sub, sizeof sub, path, f->key);
        value = json_object_get(obj, f->key);
        if (!value) {
            if (f->required)
                return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                              "missing required key '%s'", f->key);
            if (!f->dflt)
                continue;
            value = json_loads(f->dflt, JSON_DECODE_ANY, NULL);
            json_object_set_new(obj, f->key, value);
        }
        if (!type_ok(value, f->type))
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                          "expected %s, found %s", type_name(f->type),
                                          fewshot__json_kind(value));
        if (f->choices && !choice_ok(f->choices, json_string_value(value)))
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                          "'%s' is not one of %s", json_string_value(value),
                                          f->choices);
        if (f->min_zero && json_is_number(value) && json_number_value(value) < 0)
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                          "must not be negative");
        if (f->type == T_OBJECT && f->sub) {
            int rc = check_object(cfg, value, f->sub, sub);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* Deep merge: objects merge key by key, everything else in `over` replaces. */
static void merge_into(json_t *base, const json_t *over)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)over, key, value) {
        json_t *old = json_object_get(base, key);
        if (json_is_object(old) && json_is_object(value))
            merge_into(old, value);
        else
            json_object_set_new(base, key, json_deep_copy(value));
    }
}

/* A value as it appears in an arm or scenario name: strings bare, the rest as JSON. */
static void value_label(const json_t *v, char *buf, size_t size)
{
    if (json_is_string(v)) {
        snprintf(buf, size, "%s", json_string_value(v));
        return;
    }
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(12));
    snprintf(buf, size, "%s", text ? text : "?");
    free(text);
}

static char *dir_of(const char *file)
{
    const char *slash = file ? strrchr(file, '/') : NULL;
    char cwd[PATH_MAX];
    if (!slash) {
        if (!getcwd(cwd, sizeof cwd))
            return strdup(".");
        return strdup(cwd);
    }
    if (file[0] == '/')
        return strndup(file, (size_t)(slash - file) > 0 ? (size_t)(slash - file) : 1);
    if (!getcwd(cwd, sizeof cwd))
        return strndup(file, (size_t)(slash - file));
    char *out = malloc(strlen(cwd) + (size_t)(slash - file) + 2);
    if (out)
        sprintf(out, "%s/%.*s", cwd, (int)(slash - file), file);
    return out;
}

/* Make demos.file absolute (relative to the config file's directory). */
static void absolutize(const fewshot_config *cfg, json_t *demos)
{
    json_t *file = json_object_get(demos, "file");
    const char *name = json_string_value(file);
    if (!name || name[0] == '/' || !name[0])
        return;
    char *full = malloc(strlen(cfg->dir) + strlen(name) + 2);
    if (!full)
        return;
    sprintf(full, "%s/%s", cfg->dir, name);
    json_object_set_new(demos, "file", json_string(full));
    free(full);
}

/* demos: either a file, or generation settings (defaults filled when expanding arms). */
static int check_demos(const fewshot_config *cfg, json_t *demos, const char *path)
{
    int rc = check_object(cfg, demos, demos_fields, path);
    if (rc)
        return rc;
    int generate = 0;
    for (const field *f = demos_fields; f->key; f++)
        if (strcmp(f->key, "file") != 0 && json_object_get(demos, f->key))
            generate = 1;
    if (generate && json_object_get(demos, "file")) {
        char sub[512];
        path_key(sub, sizeof sub, path, "file");
        return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                      "give either a demonstration file or generation settings "
                                      "(env, params, policy, episodes, steps, seed, days, "
                                      "scenarios, jobs), not both");
    }
    /* the plan is expanded here too, so a bad day or scenario is reported before any run */
    char sub[512];
    int *days = NULL;
    size_t n_days = 0;
    json_t *scenarios = NULL;
    path_key(sub, sizeof sub, path, "days");
    rc = fewshot__demos_days(json_object_get(demos, "days"), cfg->file, sub, &days, &n_days);
    free(days);
    if (rc)
        return rc;
    path_key(sub, sizeof sub, path, "scenarios");
    rc = fewshot__demos_scenarios(json_object_get(demos, "scenarios"), cfg->file, sub,
                                  &scenarios);
    json_decref(scenarios);
    if (rc)
        return rc;
    absolutize(cfg, demos);
    return 0;
}

/* embedding: the schema, and weights as a list of numbers >= 0 (one per feature; the count
 * is checked against the plugin's features when the arm's index is built). */
static int check_embedding(const fewshot_config *cfg, json_t *emb, const char *path)
{
    int rc = check_object(cfg, emb, embedding_fields, path);
    json_t *w = json_object_get(emb, "weights");
    char sub[512];
    if (rc || !w)
        return rc;
    path_key(sub, sizeof sub, path, "weights");
    if ((!json_is_array(w) && !json_is_object(w)) ||
        json_array_size(w) + json_object_size(w) == 0)
        return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub, "expected a non-empty "
                                      "list of numbers, one weight per feature, or an object "
                                      "of feature name: weight");
    size_t i = 0;
    json_t *v;
    const char *key;
    void *it = json_is_object(w) ? json_object_iter(w) : NULL;
    for (; json_is_array(w) ? i < json_array_size(w) : it != NULL; i++) {
        char item[600];
        if (json_is_array(w)) {
            v = json_array_get(w, i);
            snprintf(item, sizeof item, "%s[%zu]", sub, i);
        } else {
            key = json_object_iter_key(it);
            v = json_object_iter_value(it);
            it = json_object_iter_next(w, it);
            snprintf(item, sizeof item, "%s.%.64s", sub, key);
        }
        if (!json_is_number(v) || json_number_value(v) < 0) {
            if (json_is_number(v))
                return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, item, "expected a "
                                              "weight >= 0, found %g", json_number_value(v));
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, item, "expected a number "
                                          ">= 0, found %s", fewshot__json_kind(v));
        }
    }
    return 0;
}

static int check_section(const fewshot_config *cfg, json_t *obj, size_t s, const char *path)
{
    char sub[512];
    path_key(sub, sizeof sub, path, arm_sections[s].name);
    if (!json_is_object(obj))
        return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                      "expected an object, found %s", fewshot__json_kind(obj));
    if (strcmp(arm_sections[s].name, "demos") == 0)
        return check_demos(cfg, obj, sub);
    if (strcmp(arm_sections[s].name, "embedding") == 0)
        return check_embedding(cfg, obj, sub);
    if (!arm_sections[s].fields)
        return 0;
    return check_object(cfg, obj, arm_sections[s].fields, sub);
}

/* ---------------------------------------------------------------- scenarios and seeds */

static int scenario_name(const json_t *params, char *buf, size_t size)
{
    const char *key;
    json_t *value;
    size_t used = 0;
    char label[256];
    buf[0] = '\0';
    json_object_foreach((json_t *)params, key, value) {
        value_label(value, label, sizeof label);
        used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s=%s",
                                 used ? "," : "", key, label);
    }
    if (!buf[0])
        snprintf(buf, size, "default");
    return 0;
}

static int add_scenario(fewshot_config *cfg, const char *name, const json_t *params,
                        const json_t *reset, const char *path)
{
    size_t i;
    json_t *item;
    json_array_foreach(cfg->scenarios, i, item)
        if (strcmp(json_string_value(json_object_get(item, "name")), name) == 0)
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, path,
                                          "duplicate scenario name '%s'", name);
    json_t *env = json_object_get(cfg->resolved, "env");
    json_t *merged = json_deep_copy(json_object_get(env, "params"));
    if (params)
        merge_into(merged, params);
    json_t *episodes = json_object_get(cfg->resolved, "episodes");
    json_t *rs = json_deep_copy(json_object_get(episodes, "reset"));
    if (reset)
        merge_into(rs, reset);
    json_array_append_new(cfg->scenarios,
                          json_pack("{s:s, s:o, s:o}", "name", name, "params", merged,
                                    "reset", rs));
    return 0;
}

static int expand_grid(fewshot_config *cfg, const json_t *grid, const json_t *base,
                       const char *path)
{
    size_t n = json_object_size(grid), total = 1;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    const json_t **lists = calloc(n ? n : 1, sizeof *lists);
    size_t k = 0;
    const char *key;
    json_t *value;
    int rc = 0;
    char sub[512];
    json_object_foreach((json_t *)grid, key, value) {
        path_key(sub, sizeof sub, path, key);
        if (!json_is_array(value) || json_array_size(value) == 0) {
            rc = fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                        "expected a non-empty array of values");
            goto done;
        }
        keys[k] = key;
        lists[k++] = value;
        total *= json_array_size(value);
    }
    for (size_t idx = 0; idx < total && rc == 0; idx++) {
        json_t *params = base ? json_deep_copy(base) : json_object();
        size_t rem = idx;
        /* the last key varies fastest */
        for (size_t j = n; j-- > 0;) {
            size_t m = json_array_size(lists[j]);
            json_object_set(params, keys[j], json_array_get(lists[j], rem % m));
            rem /= m;
        }
        json_t *named = json_object();
        for (size_t j = 0; j < n; j++)
            json_object_set(named, keys[j], json_object_get(params, keys[j]));
        char name[512];
        scenario_name(named, name, sizeof name);
        json_decref(named);
        rc = add_scenario(cfg, name, params, NULL, path);
        json_decref(params);
    }
done:
    free(keys);
    free(lists);
    return rc;
}

/* Names go into tables, file names and terminals: printable text only. */
static int check_name(const fewshot_config *cfg, const char *path, const char *what,
                      const char *name)
{
    if (!name[0])
        return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, path, "empty %s name", what);
    for (const unsigned char *s = (const unsigned char *)name; *s; s++)
        if (*s < 0x20 || *s == 0x7f)
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, path,
                                          "the %s name has a control character (byte 0x%02x "
                                          "at %td)", what, *s,
                                          (const char *)s - name);
    return 0;
}

static int expand_scenarios(fewshot_config *cfg)
{
    json_t *sc = json_object_get(cfg->resolved, "scenarios");
    cfg->scenarios = json_array();
    if (!sc)
        return add_scenario(cfg, "default", NULL, NULL, "$.scenarios");
    if (json_is_object(sc)) {
        const char *key;
        json_t *value;
        json_object_foreach(sc, key, value) {
            if (strcmp(key, "grid") != 0 && strcmp(key, "params") != 0) {
                char sub[512];
                path_key(sub, sizeof sub, "$.scenarios", key);
                return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                              "unknown key '%s' (known: grid, params)", key);
            }
        }
        json_t *grid = json_object_get(sc, "grid"), *base = json_object_get(sc, "params");
        if (!json_is_object(grid))
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, "$.scenarios.grid",
                                          "expected an object of parameter value lists");
        if (base && !json_is_object(base))
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, "$.scenarios.params",
                                          "expected an object, found %s", fewshot__json_kind(base));
        return expand_grid(cfg, grid, base, "$.scenarios.grid");
    }
    if (!json_is_array(sc) || json_array_size(sc) == 0)
        return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, "$.scenarios",
                                      "expected a non-empty array of scenarios or "
                                      "{\"grid\": {...}}");
    size_t i;
    json_t *item;
    static const field scenario_fields[] = {
        {"name", T_STRING, NULL, NULL, NULL, 0, 0},
        {"params", T_OBJECT, "{}", NULL, NULL, 0, 0},
        {"reset", T_OBJECT, "{}", NULL, NULL, 0, 0},
        END
    };
    json_array_foreach(sc, i, item) {
        char sub[64], name[512];
        snprintf(sub, sizeof sub, "$.scenarios[%zu]", i);
        if (!json_is_object(item))
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                          "expected an object, found %s", fewshot__json_kind(item));
        int rc = check_object(cfg, item, scenario_fields, sub);
        if (rc)
            return rc;
        json_t *params = json_object_get(item, "params");
        const char *given = json_string_value(json_object_get(item, "name"));
        if (given)
            snprintf(name, sizeof name, "%s", given);
        else
            scenario_name(params, name, sizeof name);
        char npath[540];
        snprintf(npath, sizeof npath, "%s.name", sub);
        if ((rc = check_name(cfg, npath, "scenario", name)) != 0)
            return rc;
        if ((rc = add_scenario(cfg, name, params, json_object_get(item, "reset"), sub)) != 0)
            return rc;
    }
    return 0;
}

static int expand_seeds(fewshot_config *cfg)
{
    json_t *seeds = json_object_get(json_object_get(cfg->resolved, "episodes"), "seeds");
    const char *path = "$.episodes.seeds";
    cfg->seeds = json_array();
    if (json_is_array(seeds)) {
        size_t i;
        json_t *item;
        if (json_array_size(seeds) == 0)
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, path,
                                          "expected at least one seed");
        json_array_foreach(seeds, i, item) {
            if (!json_is_integer(item) || json_integer_value(item) < 0) {
                char sub[64];
                snprintf(sub, sizeof sub, "%s[%zu]", path, i);
                return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                              "expected a non-negative integer seed");
            }
            for (size_t j = 0; j < i; j++)
                if (json_integer_value(json_array_get(seeds, j)) == json_integer_value(item))
                    return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, path,
                                                  "seed %" JSON_INTEGER_FORMAT " is repeated",
                                                  json_integer_value(item));
            json_array_append(cfg->seeds, item);
        }
        return 0;
    }
    if (json_is_object(seeds)) {
        static const field count_fields[] = {
            {"count", T_INTEGER, NULL, NULL, NULL, 1, 1},
            {"start", T_INTEGER, "1", NULL, NULL, 0, 1},
            END
        };
        int rc = check_object(cfg, seeds, count_fields, path);
        if (rc)
            return rc;
        json_int_t count = json_integer_value(json_object_get(seeds, "count"));
        json_int_t start = json_integer_value(json_object_get(seeds, "start"));
        if (count < 1 || count > 1000000)
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, "$.episodes.seeds.count",
                                          "expected between 1 and 1000000 seeds");
        for (json_int_t s = 0; s < count; s++)
            json_array_append_new(cfg->seeds, json_integer(start + s));
        return 0;
    }
    return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, path,
                                  "expected an array of seeds or {\"count\": N, \"start\": S}");
}

/* ---------------------------------------------------------------- arms */

/* The base sections every arm starts from. */
static json_t *base_sections(const fewshot_config *cfg)
{
    json_t *out = json_object();
    for (size_t s = 0; s < N_SECTIONS; s++)
        json_object_set_new(out, arm_sections[s].name,
                            json_deep_copy(json_object_get(cfg->resolved, arm_sections[s].name)));
    return out;
}

static int arm_exists(const fewshot_config *cfg, const char *name)
{
    size_t i;
    json_t *item;
    json_array_foreach(cfg->arms, i, item)
        if (strcmp(json_string_value(json_object_get(item, "name")), name) == 0)
            return 1;
    return 0;
}

/* Build one arm from the base sections and overrides (an object of section overrides and
 * optionally "policy"), validate it and append it. */
static int add_arm(fewshot_config *cfg, const char *name, const json_t *base,
                   const json_t *over, const char *path)
{
    int nrc = check_name(cfg, path, "arm", name);
    if (nrc)
        return nrc;
    if (arm_exists(cfg, name))
        return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, path,
                                      "duplicate arm name '%s'", name);
    json_t *arm = json_deep_copy(base);
    const char *key;
    json_t *value;
    int rc = 0;
    char sub[512];
    json_object_foreach((json_t *)over, key, value) {
        path_key(sub, sizeof sub, path, key);
        if (strcmp(key, "name") == 0)
            continue;
        if (strcmp(key, "policy") == 0) {
            if (!json_is_string(value) || !json_string_value(value)[0]) {
                rc = fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                            "expected a policy name");
                goto done;
            }
            continue;
        }
        size_t s = 0;
        while (s < N_SECTIONS && strcmp(arm_sections[s].name, key) != 0)
            s++;
        if (s == N_SECTIONS) {
            rc = fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                        "unknown key '%s' (known: name, policy, demos, embedding, "
                                        "selection, prompt, parse, llm)", key);
            goto done;
        }
        if (!json_is_object(value)) {
            rc = fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                        "expected an object, found %s", fewshot__json_kind(value));
            goto done;
        }
        json_t *section = json_object_get(arm, key);
        /* a demonstration file replaces generation settings and the other way round */
        if (strcmp(key, "demos") == 0)
            json_object_clear(section);
        merge_into(section, value);
    }
    for (size_t s = 0; s < N_SECTIONS; s++)
        if ((rc = check_section(cfg, json_object_get(arm, arm_sections[s].name), s, path)) != 0)
            goto done;
    const char *policy = json_string_value(json_object_get(over, "policy"));
    json_object_set_new(arm, "name", json_string(name));
    if (policy && strcmp(policy, "knn-imitation") == 0) {
        json_object_set_new(arm, "kind", json_string("knn-imitation"));
    } else if (policy) {
        json_object_set_new(arm, "kind", json_string("policy"));
        json_object_set_new(arm, "policy", json_string(policy));
    } else {
        json_object_set_new(arm, "kind", json_string("llm"));
    }
    json_array_append(cfg->arms, arm);
done:
    json_decref(arm);
    return rc;
}

/* Set a dotted path ("selection.knn") inside an arm's overrides. */
static void set_dotted(json_t *obj, const char *dotted, json_t *value)
{
    char *copy = strdup(dotted), *save = NULL;
    char *part = strtok_r(copy, ".", &save), *next;
    while (part && (next = strtok_r(NULL, ".", &save)) != NULL) {
        json_t *child = json_object_get(obj, part);
        if (!json_is_object(child)) {
            child = json_object();
            json_object_set_new(obj, part, child);
        }
        obj = child;
        part = next;
    }
    if (part)
        json_object_set(obj, part, value);
    free(copy);
}

static const json_t *get_dotted(const json_t *obj, const char *dotted)
{
    char *copy = strdup(dotted), *save = NULL;
    const json_t *cur = obj;
    for (char *part = strtok_r(copy, ".", &save); part && cur;
         part = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, part);
    free(copy);
    return cur;
}

/* The explicit arms as (name, overrides) pairs, from a list or a name -> overrides map. */
static int explicit_arms(const fewshot_config *cfg, json_t **out)
{
    json_t *arms = json_object_get(cfg->resolved, "arms");
    json_t *list = json_array();
    *out = list;
    if (!arms)
        return 0;
    if (json_is_object(arms)) {
        const char *key;
        json_t *value;
        json_object_foreach(arms, key, value) {
            char sub[512];
            path_key(sub, sizeof sub, "$.arms", key);
            if (!json_is_object(value))
                return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                              "expected an object of overrides, found %s",
                                              fewshot__json_kind(value));
            json_array_append_new(list, json_pack("{s:s, s:O, s:s}", "name", key, "over",
                                                  value, "path", sub));
        }
        return 0;
    }
    if (!json_is_array(arms))
        return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, "$.arms",
                                      "expected an array of arms or an object of named arms");
    size_t i;
    json_t *item;
    json_array_foreach(arms, i, item) {
        char sub[64];
        snprintf(sub, sizeof sub, "$.arms[%zu]", i);
        if (!json_is_object(item))
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                          "expected an object, found %s", fewshot__json_kind(item));
        if (!json_is_string(json_object_get(item, "name")))
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                          "every arm needs a \"name\" string");
        json_array_append_new(list, json_pack("{s:O, s:O, s:s}", "name",
                                              json_object_get(item, "name"), "over", item,
                                              "path", sub));
    }
    return 0;
}

static int check_factors(const fewshot_config *cfg, const json_t *factors, int *short_names)
{
    const char *key, *key2;
    json_t *value, *value2;
    char sub[512];
    *short_names = 1;
    if (json_object_size(factors) == 0)
        return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, "$.design.factors",
                                      "this design needs at least one factor, e.g. "
                                      "{\"selection.knn\": [2, 4, 8]}");
    json_object_foreach((json_t *)factors, key, value) {
        path_key(sub, sizeof sub, "$.design.factors", key);
        const char *dot = strchr(key, '.');
        size_t s = 0;
        while (s < N_SECTIONS && (!dot || strlen(arm_sections[s].name) != (size_t)(dot - key) ||
                                  strncmp(arm_sections[s].name, key, (size_t)(dot - key)) != 0))
            s++;
        if (s == N_SECTIONS || !dot[1])
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                          "a factor is a dotted path into demos, embedding, "
                                          "selection, prompt, parse or llm, e.g. selection.knn");
        if (!json_is_array(value) || json_array_size(value) == 0)
            return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, sub,
                                          "expected a non-empty array of values");
        const char *last = strrchr(key, '.') + 1;
        json_object_foreach((json_t *)factors, key2, value2) {
            (void)value2;
            const char *dot2 = strrchr(key2, '.');     /* key2 may not be checked yet */
            if (key2 != key && dot2 && strcmp(dot2 + 1, last) == 0)
                *short_names = 0;
        }
    }
    return 0;
}

static const char *factor_label(const char *key, int short_names)
{
    return short_names ? strrchr(key, '.') + 1 : key;
}

static int design_grid(fewshot_config *cfg, const json_t *base, const json_t *factors)
{
    int short_names, rc = check_factors(cfg, factors, &short_names);
    if (rc)
        return rc;
    size_t n = json_object_size(factors), total = 1, k = 0;
    const char **keys = calloc(n, sizeof *keys);
    const json_t **lists = calloc(n, sizeof *lists);
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)factors, key, value) {
        keys[k] = key;
        lists[k++] = value;
        total *= json_array_size(value);
    }
    for (size_t idx = 0; idx < total && rc == 0; idx++) {
        json_t *over = json_object();
        char name[512] = "", label[256];
        size_t rem = idx, used = 0;
        size_t *pick = calloc(n, sizeof *pick);
        for (size_t j = n; j-- > 0;) {
            size_t m = json_array_size(lists[j]);
            pick[j] = rem % m;
            rem /= m;
        }
        for (size_t j = 0; j < n; j++) {
            json_t *v = json_array_get(lists[j], pick[j]);
            set_dotted(over, keys[j], v);
            value_label(v, label, sizeof label);
            used += (size_t)snprintf(name + used, used < sizeof name ? sizeof name - used : 0,
                                     "%s%s=%s", used ? "," : "", factor_label(keys[j],
                                     short_names), label);
        }
        free(pick);
        rc = add_arm(cfg, name, base, over, "$.design.factors");
        json_decref(over);
    }
    free(keys);
    free(lists);
    return rc;
}

static int design_one_at_a_time(fewshot_config *cfg, json_t *base, const json_t *factors,
                                 const char *ref)
{
    int short_names, rc = check_factors(cfg, factors, &short_names);
    if (rc)
        return rc;
    json_t *empty = json_object();
    rc = add_arm(cfg, ref, base, empty, "$.design.reference");
    json_decref(empty);
    if (rc)
        return rc;
    json_t *ref_arm = json_array_get(cfg->arms, json_array_size(cfg->arms) - 1);
    const char *key;
    json_t *values;
    json_object_foreach((json_t *)factors, key, values) {
        size_t i;
        json_t *v;
        const json_t *current = get_dotted(ref_arm, key);
        json_array_foreach(values, i, v) {
            if (current && json_equal((json_t *)current, v))
                continue;
            char name[512], label[256];
            value_label(v, label, sizeof label);
            snprintf(name, sizeof name, "%s=%s", factor_label(key, short_names), label);
            json_t *over = json_object();
            set_dotted(over, key, v);
            rc = add_arm(cfg, name, base, over, "$.design.factors");
            json_decref(over);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int design_leave_one_out(fewshot_config *cfg, json_t *base, const json_t *design,
                                const char *ref)
{
    json_t *components = json_object_get(design, "components");
    json_t *dflt = NULL;
    if (!components)
        components = dflt = json_pack("[sssss]", "objective", "meta", "instruction",
                                      "demonstrations", "comments");
    if (json_array_size(components) == 0)
        return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, "$.design.components",
                                      "leave-one-out needs at least one component to leave "
                                      "out");
    json_t *empty = json_object();
    int rc = add_arm(cfg, ref, base, empty, "$.design.reference");
    json_decref(empty);
    size_t i;
    json_t *c;
    json_array_foreach(components, i, c) {
        if (rc)
            break;
        char name[256];
        snprintf(name, sizeof name, "no-%s", json_string_value(c));
        json_t *drop = json_deep_copy(json_object_get(json_object_get(base, "prompt"), "drop"));
        if (!json_is_array(drop)) {
            json_decref(drop);
            drop = json_array();
        }
        json_array_append(drop, c);
        json_t *over = json_pack("{s:{s:o}}", "prompt", "drop", drop);
        rc = add_arm(cfg, name, base, over, "$.design.components");
        json_decref(over);
    }
    json_decref(dflt);
    return rc;
}

static int expand_arms(fewshot_config *cfg)
{
    json_t *base = base_sections(cfg), *explicit = NULL;
    json_t *design = json_object_get(cfg->resolved, "design");
    const char *type = json_string_value(json_object_get(design, "type"));
    const char *ref = json_string_value(json_object_get(design, "reference"));
    json_t *factors = json_object_get(design, "factors");
    int rc;
    size_t i;
    json_t *item;
    cfg->arms = json_array();
    if ((rc = explicit_arms(cfg, &explicit)) != 0)
        goto done;
    if (strcmp(type, "arms") != 0 && strcmp(type, "leave-one-out") != 0 &&
        strcmp(type, "grid") != 0 && strcmp(type, "one-at-a-time") != 0)
        goto done;
    if (strcmp(type, "arms") == 0 && json_object_size(factors) > 0) {
        rc = fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, "$.design.factors",
                                    "factors need a design type (grid or one-at-a-time)");
        goto done;
    }
    /* a one-at-a-time or leave-one-out reference may be an explicit arm */
    json_t *ref_base = json_incref(base);
    const char *ref_explicit = NULL;
    if (ref && strcmp(type, "grid") != 0 && strcmp(type, "arms") != 0) {
        json_array_foreach(explicit, i, item) {
            if (strcmp(json_string_value(json_object_get(item, "name")), ref) == 0) {
                json_t *tmp = json_array();
                json_t *saved = cfg->arms;
                cfg->arms = tmp;
                rc = add_arm(cfg, ref, base, json_object_get(item, "over"),
                             json_string_value(json_object_get(item, "path")));
                cfg->arms = saved;
                if (rc == 0) {
                    json_decref(ref_base);
                    ref_base = json_deep_copy(json_array_get(tmp, 0));
                    json_object_del(ref_base, "name");
                    json_object_del(ref_base, "kind");
                    ref_explicit = ref;
                }
                json_decref(tmp);
                break;
            }
        }
    }
    if (rc == 0 && strcmp(type, "grid") == 0)
        rc = design_grid(cfg, base, factors);
    else if (rc == 0 && strcmp(type, "one-at-a-time") == 0)
        rc = design_one_at_a_time(cfg, ref_base, factors, ref ? ref : "reference");
    else if (rc == 0 && strcmp(type, "leave-one-out") == 0)
        rc = design_leave_one_out(cfg, ref_base, design, ref ? ref : "full");
    json_decref(ref_base);
    if (rc)
        goto done;
    /* explicit arms; with no "arms" key and no design, one LLM arm named "llm" */
    if (!json_object_get(cfg->resolved, "arms") && strcmp(type, "arms") == 0) {
        json_t *empty = json_object();
        rc = add_arm(cfg, "llm", base, empty, "$");
        json_decref(empty);
    }
    json_array_foreach(explicit, i, item) {
        if (rc)
            break;
        const char *name = json_string_value(json_object_get(item, "name"));
        if (ref_explicit && strcmp(name, ref_explicit) == 0)
            continue;
        rc = add_arm(cfg, name, base, json_object_get(item, "over"),
                     json_string_value(json_object_get(item, "path")));
    }
    /* baselines are arms named after their policy */
    json_array_foreach(json_object_get(cfg->resolved, "baselines"), i, item) {
        if (rc)
            break;
        char sub[64];
        snprintf(sub, sizeof sub, "$.baselines[%zu]", i);
        json_t *over = json_pack("{s:O}", "policy", item);
        rc = add_arm(cfg, json_string_value(item), base, over, sub);
        json_decref(over);
    }
    if (rc == 0 && json_array_size(cfg->arms) == 0)
        rc = fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, "$.arms",
                                    "the config defines no arms and no baselines");
    if (rc == 0) {
        if (ref && !arm_exists(cfg, ref))
            rc = fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, "$.design.reference",
                                        "no arm is named '%s'", ref);
        free(cfg->reference);
        cfg->reference = strdup(ref ? ref : json_string_value(json_object_get(
                                                 json_array_get(cfg->arms, 0), "name")));
    }
done:
    json_decref(explicit);
    json_decref(base);
    return rc;
}

/* ---------------------------------------------------------------- resolving */

/* LLM settings that change how a run executes, not what it computes: a resumed run may
 * change them (lower the concurrency after rate limits, rotate the key variable). */
static const char *const execution_only[] = {"api_key_env", "concurrency", "rpm", "tpm",
                                             "timeouts", "retries", "cache", "stream",
                                             "context", NULL};

static void drop_execution_settings(json_t *section)
{
    json_t *llm = json_object_get(section, "llm");
    for (size_t i = 0; json_is_object(llm) && execution_only[i]; i++)
        json_object_del(llm, execution_only[i]);
    /* the demonstrations' worker count does not change the dataset */
    json_t *demos = json_object_get(section, "demos");
    if (json_is_object(demos))
        json_object_del(demos, "jobs");
}

/* The identity of a run: the resolved config without its execution-only settings and
 * without the report's (how results are summarized, not what they are). */
static json_t *identity_of(const json_t *resolved)
{
    json_t *identity = json_deep_copy(resolved);
    size_t k;
    json_t *arm;
    if (!identity)
        return NULL;
    drop_execution_settings(identity);
    json_array_foreach(json_object_get(identity, "arms"), k, arm)
        drop_execution_settings(arm);
    json_object_del(identity, "report");
    return identity;
}

int fewshot__config_same_identity(const json_t *a, const json_t *b)
{
    json_t *ia = identity_of(a), *ib = identity_of(b);
    int same = ia && ib && json_equal(ia, ib);
    json_decref(ia);
    json_decref(ib);
    return same;
}

static void compute_hash(fewshot_config *cfg)
{
    json_t *identity = identity_of(cfg->resolved);
    char *text = json_dumps(identity, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(identity);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < len && i < 32; i++)
        sprintf(cfg->hash + 2 * i, "%02x", md[i]);
    free(text);
}

static void clear_derived(fewshot_config *cfg)
{
    json_decref(cfg->resolved);
    json_decref(cfg->arms);
    json_decref(cfg->scenarios);
    json_decref(cfg->seeds);
    cfg->resolved = cfg->arms = cfg->scenarios = cfg->seeds = NULL;
}

static int resolve(fewshot_config *cfg)
{
    clear_derived(cfg);
    if (!json_is_object(cfg->raw))
        return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, "$",
                                      "a config is a JSON object, found %s", fewshot__json_kind(cfg->raw));
    cfg->resolved = json_deep_copy(cfg->raw);
    int rc = check_object(cfg, cfg->resolved, top_fields, "$");
    if (rc == 0)
        rc = check_demos(cfg, json_object_get(cfg->resolved, "demos"), "$.demos");
    if (rc == 0)
        rc = check_embedding(cfg, json_object_get(cfg->resolved, "embedding"), "$.embedding");
    if (rc == 0)
        rc = expand_seeds(cfg);
    if (rc == 0)
        rc = expand_scenarios(cfg);
    if (rc == 0)
        rc = expand_arms(cfg);
    if (rc == 0)
        compute_hash(cfg);
    return rc;
}

static int config_from_json(fewshot_config **out, json_t *doc, const char *name)
{
    fewshot_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        json_decref(doc);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    cfg->file = strdup(name ? name : "(config)");
    cfg->dir = dir_of(name);
    cfg->raw = doc;
    int rc = resolve(cfg);
    if (rc) {
        fewshot_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

int fewshot_config_parse(fewshot_config **out, const char *text, const char *name)
{
    json_error_t jerr;
    *out = NULL;
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return fewshot_error_set_at(FEWSHOT_EPARSE, name ? name : "(config)", jerr.line,
                                    jerr.column, "%s", jerr.text);
    return config_from_json(out, doc, name);
}

int fewshot_config_load(fewshot_config **out, const char *path)
{
    json_error_t jerr;
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return fewshot_error_set_at(errno == ENOENT ? FEWSHOT_ENOTFOUND : FEWSHOT_EIO, path, 0,
                                    0, "cannot open config: %s", strerror(errno));
    json_t *doc = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!doc)
        return fewshot_error_set_at(FEWSHOT_EPARSE, path, jerr.line, jerr.column, "%s",
                                    jerr.text);
    return config_from_json(out, doc, path);
}

void fewshot_config_free(fewshot_config *cfg)
{
    if (!cfg)
        return;
    clear_derived(cfg);
    json_decref(cfg->raw);
    free(cfg->reference);
    free(cfg->file);
    free(cfg->dir);
    free(cfg);
}

/* "-?digits[.digits][e[+-]digits]": what JSON would read as a number */
static int looks_numeric(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return 0;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

int fewshot_config_set(fewshot_config *cfg, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return fewshot_error_set(FEWSHOT_EINVAL, "--set %s: expected key.path=value",
                                 assignment);
    json_error_t jerr;
    json_t *value = json_loads(eq + 1, JSON_DECODE_ANY, &jerr);
    if (!value && looks_numeric(eq + 1)) {  /* 20 digits: not "a string" but too large */
        char path[300];
        snprintf(path, sizeof path, "$.%.*s", (int)(eq - assignment), assignment);
        return fewshot_error_set_path(FEWSHOT_EINVAL, cfg->file, path, "--set %s: a number out "
                                      "of range (%s)", assignment, jerr.text);
    }
    char *key = strndup(assignment, (size_t)(eq - assignment));
    if (!value)
        value = json_string(eq + 1);
    json_t *doc = json_deep_copy(cfg->raw), *parent = doc;
    char *save = NULL, *part = strtok_r(key, ".", &save), *next;
    int rc = 0;
    while (part && (next = strtok_r(NULL, ".", &save)) != NULL) {
        json_t *child;
        char *end;
        if (json_is_array(parent)) {
            unsigned long idx = strtoul(part, &end, 10);
            child = (*end || idx >= json_array_size(parent)) ? NULL
                                                              : json_array_get(parent, idx);
            if (!child) {
                rc = fewshot_error_set(FEWSHOT_EINVAL, "--set %s: '%s' is not an index of the "
                                       "array", assignment, part);
                break;
            }
        } else {
            child = json_object_get(parent, part);
            if (!json_is_object(child) && !json_is_array(child)) {
                child = json_object();
                /* jansson refuses (and frees child for) a key that is not UTF-8 */
                if (json_object_set_new(parent, part, child) != 0) {
                    rc = fewshot_error_set(FEWSHOT_EINVAL, "--set %s: the key is not valid "
                                           "UTF-8", assignment);
                    break;
                }
            }
        }
        parent = child;
        part = next;
    }
    if (rc == 0 && !part)
        rc = fewshot_error_set(FEWSHOT_EINVAL, "--set %s: empty key", assignment);
    if (rc == 0) {
        if (json_is_array(parent)) {
            char *end;
            unsigned long idx = strtoul(part, &end, 10);
            if (*end || idx >= json_array_size(parent))
                rc = fewshot_error_set(FEWSHOT_EINVAL, "--set %s: '%s' is not an index of the "
                                       "array", assignment, part);
            else
                json_array_set(parent, idx, value);
        } else if (json_object_set(parent, part, value) != 0) {
            rc = fewshot_error_set(FEWSHOT_EINVAL, "--set %s: the key is not valid UTF-8",
                                   assignment);
        }
    }
    json_decref(value);
    free(key);
    if (rc) {
        json_decref(doc);
        return rc;
    }
    json_t *old = cfg->raw;
    cfg->raw = doc;
    if ((rc = resolve(cfg)) != 0) {
        fewshot_error_prefix("--set %s", assignment);
        cfg->raw = old;
        json_decref(doc);
        int saved_rc = rc;
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", fewshot_error_last()->message);
        char path[256];
        snprintf(path, sizeof path, "%s", fewshot_error_last()->path);
        resolve(cfg);
        return fewshot_error_set_path(saved_rc, cfg->file, path, "%s", msg);
    }
    json_decref(old);
    return 0;
}

const json_t *fewshot_config_json(const fewshot_config *cfg)
{
    return cfg->resolved;
}

const char *fewshot_config_hash(const fewshot_config *cfg)
{
    return cfg->hash;
}

const char *fewshot_config_file(const fewshot_config *cfg)
{
    return cfg->file;
}

const json_t *fewshot_config_arms(const fewshot_config *cfg)
{
    return cfg->arms;
}

const json_t *fewshot_config_scenarios(const fewshot_config *cfg)
{
    return cfg->scenarios;
}

const json_t *fewshot_config_seeds(const fewshot_config *cfg)
{
    return cfg->seeds;
}

const char *fewshot_config_reference(const fewshot_config *cfg)
{
    return cfg->reference;
}

int fewshot_config_write(const fewshot_config *cfg, const char *path)
{
    /* atomically: a full disk leaves the previous config.json, not an empty one */
    return fewshot__atomic_dump_json(cfg->resolved, path, JSON_INDENT(2) | JSON_SORT_KEYS |
                                     JSON_REAL_PRECISION(17), "the resolved config");
}
