/*
 * Plugin parameters: checked against the plugin's params_doc before create() sees them, so
 * every plugin refuses unknown names and wrong types the same way, naming the parameter.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "internal.h"

/* The kept documents, by their text (a copy: a table's text may be freed and its address
 * reused by another). A process reads a few plugins' documents; past DOCS_MAX they are parsed
 * on every use, as before. */
#define DOCS_MAX 32
static pthread_mutex_t docs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *text;
    json_t *doc;
} docs[DOCS_MAX];
static size_t n_docs;

const json_t *fewshot__params_doc(const char *params_doc)
{
    if (!params_doc)
        return NULL;
    const json_t *found = NULL;
    pthread_mutex_lock(&docs_lock);
    for (size_t i = 0; i < n_docs && !found; i++)
        if (strcmp(docs[i].text, params_doc) == 0)
            found = docs[i].doc;
    if (!found && n_docs < DOCS_MAX) {
        json_t *doc = json_loads(params_doc, 0, NULL);
        char *text = doc ? strdup(params_doc) : NULL;
        if (text) {
            docs[n_docs].text = text;
            docs[n_docs++].doc = doc;
            found = doc;
        } else {
            json_decref(doc);
        }
    }
    pthread_mutex_unlock(&docs_lock);
    return found;
}

int fewshot__json_type_matches(const json_t *v, const char *type)
{
    if (!type || strcmp(type, "any") == 0)
        return 1;
    if (strcmp(type, "number") == 0)
        return json_is_number(v);
    if (strcmp(type, "integer") == 0)
        return json_is_integer(v) ||
               (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)));
    if (strcmp(type, "string") == 0)
        return json_is_string(v);
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(v);
    if (strcmp(type, "array") == 0)
        return json_is_array(v);
    if (strcmp(type, "object") == 0)
        return json_is_object(v);
    /* "string|array" style unions */
    if (strchr(type, '|')) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s", type);
        char *save = NULL;
        for (char *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save))
            if (fewshot__json_type_matches(v, t))
                return 1;
    }
    return 0;
}

const char *fewshot__json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static void list_names(const json_t *spec, char *buf, size_t size)
{
    const char *key;
    json_t *value;
    size_t used = 0;
    buf[0] = '\0';
    json_object_foreach((json_t *)spec, key, value) {
        (void)value;
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", key);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

/* A number outside the "min"/"max" a params_doc gives (a target of 1e308 C) is refused here,
 * before every episode fails with a non-finite reward. */
static int check_bounds(const char *plugin_name, const char *key, const json_t *p,
                        const json_t *value)
{
    if (!json_is_number(value))
        return 0;
    double v = json_number_value(value);
    const json_t *lo = json_object_get(p, "min"), *hi = json_object_get(p, "max");
    if ((json_is_number(lo) && v < json_number_value(lo)) ||
        (json_is_number(hi) && v > json_number_value(hi))) {
        char range[96];
        if (json_is_number(lo) && json_is_number(hi))
            snprintf(range, sizeof range, "from %g to %g", json_number_value(lo),
                     json_number_value(hi));
        else if (json_is_number(lo))
            snprintf(range, sizeof range, "at least %g", json_number_value(lo));
        else
            snprintf(range, sizeof range, "at most %g", json_number_value(hi));
        return fewshot_error_set_path(FEWSHOT_EINVAL, NULL, key, "%s: parameter '%s' must be "
                                      "%s, not %g", plugin_name, key, range, v);
    }
    return 0;
}

int fewshot__params_resolve(const char *plugin_name, const char *params_doc,
                            const json_t *params, json_t **out)
{
    json_error_t jerr;
    const json_t *kept = fewshot__params_doc(params_doc);
    json_t *own = params_doc && !kept ? json_loads(params_doc, 0, &jerr) : NULL;
    const json_t *doc = kept ? kept : own;
    json_t *spec = doc ? json_object_get(doc, "params") : NULL;
    json_t *resolved = json_object();
    const char *key;
    json_t *value;
    int rc = 0;

    if (!resolved) {
        json_decref(own);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    if (params && !json_is_object(params)) {
        rc = fewshot_error_set(FEWSHOT_EINVAL, "%s: parameters must be a JSON object",
                               plugin_name);
        goto done;
    }
    if (params) {
        json_object_foreach((json_t *)params, key, value) {
            json_t *p = spec ? json_object_get(spec, key) : NULL;
            if (spec && !p) {
                char known[1024];
                list_names(spec, known, sizeof known);
                rc = fewshot_error_set_path(FEWSHOT_EINVAL, NULL, key,
                                            "%s: unknown parameter '%s' (known: %s)",
                                            plugin_name, key, known[0] ? known : "none");
                goto done;
            }
            const char *type = p ? json_string_value(json_object_get(p, "type")) : NULL;
            if (!json_is_null(value) && !fewshot__json_type_matches(value, type)) {
                rc = fewshot_error_set_path(FEWSHOT_EINVAL, NULL, key,
                                            "%s: parameter '%s' must be %s %s, not %s",
                                            plugin_name, key,
                                            strchr("aeiou", type[0]) ? "an" : "a", type,
                                            fewshot__json_kind(value));
                goto done;
            }
            if ((rc = check_bounds(plugin_name, key, p, value)) != 0)
                goto done;
            json_object_set(resolved, key, value);
        }
    }
    if (spec) {
        json_object_foreach(spec, key, value) {
            json_t *def = json_object_get(value, "default");
            /* a copy: the kept document is shared, the resolved parameters are the env's */
            if (def && !json_object_get(resolved, key))
                json_object_set_new(resolved, key, json_deep_copy(def));
        }
    }
done:
    json_decref(own);
    if (rc) {
        json_decref(resolved);
        return rc;
    }
    *out = resolved;
    return 0;
}
