/*
 * A client from the `llm` section of a configuration (fewshot-llm(5)). Every key is checked
 * for its type and range; unknown keys are errors naming their JSON path ("$.llm.rpm").
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llm_internal.h"

#define P "$.llm"

typedef struct parsed {
    fewshot_llm_options o;
    fewshot_llm_params p;
    const char *cache_path;
    int cache_mode;
    fewshot_llm_price *prices;
    size_t n_prices;
    const char **headers;   /* "Name: value" strings, owned */
    const char **stop;      /* points into the config */
    char **owned;           /* header strings */
    size_t n_owned;
} parsed;

static void parsed_free(parsed *x)
{
    free(x->prices);
    for (size_t i = 0; i < x->n_owned; i++)
        free(x->owned[i]);
    free(x->owned);
    free(x->headers);
    free(x->stop);
}

static int bad(const char *file, const char *path, const char *what)
{
    return fewshot_error_set_path(FEWSHOT_EINVAL, file, path, "%s", what);
}

static int get_string(const json_t *v, const char *file, const char *path, const char **out)
{
    if (!json_is_string(v))
        return bad(file, path, "expected a string");
    *out = json_string_value(v);
    return 0;
}

static int get_number(const json_t *v, const char *file, const char *path, double lo, double hi,
                      double *out)
{
    if (!json_is_number(v))
        return bad(file, path, "expected a number");
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return fewshot_error_set_path(FEWSHOT_EINVAL, file, path, "must be between %g and %g, "
                                      "not %g", lo, hi, d);
    *out = d;
    return 0;
}

static int get_int(const json_t *v, const char *file, const char *path, json_int_t lo,
                   json_int_t hi, json_int_t *out)
{
    if (!json_is_integer(v))
        return bad(file, path, "expected an integer");
    json_int_t i = json_integer_value(v);
    if (i < lo || i > hi)
        return fewshot_error_set_path(FEWSHOT_EINVAL, file, path, "must be between %lld and "
                                      "%lld, not %lld", (long long)lo, (long long)hi,
                                      (long long)i);
    *out = i;
    return 0;
}

static int unknown(const char *file, const char *path, const char *key, const char *known)
{
    return fewshot_error_set_path(FEWSHOT_EINVAL, file, path, "unknown key '%s' (known: %s)",
                                  key, known);
}

static int parse_timeouts(const json_t *v, const char *file, parsed *x)
{
    const char *k;
    json_t *e;
    char path[128];
    if (!json_is_object(v))
        return bad(file, P ".timeouts", "expected an object {\"connect\": s, \"request\": s}");
    json_object_foreach((json_t *)v, k, e) {
        snprintf(path, sizeof path, P ".timeouts.%s", k);
        int rc;
        if (strcmp(k, "connect") == 0)
            rc = get_number(e, file, path, 0.001, 86400, &x->o.connect_timeout);
        else if (strcmp(k, "request") == 0)
            rc = get_number(e, file, path, 0.001, 86400, &x->o.request_timeout);
        else
            rc = unknown(file, P ".timeouts", k, "connect, request");
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_retries(const json_t *v, const char *file, parsed *x)
{
    json_int_t n;
    if (json_is_integer(v)) {
        int rc = get_int(v, file, P ".retries", 0, 100, &n);
        x->o.max_retries = n == 0 ? -1 : (int)n;
        return rc;
    }
    if (!json_is_object(v))
        return bad(file, P ".retries", "expected an integer or an object {\"max\", \"initial\", "
                   "\"max_wait\", \"budget\"}");
    const char *k;
    json_t *e;
    char path[128];
    json_object_foreach((json_t *)v, k, e) {
        snprintf(path, sizeof path, P ".retries.%s", k);
        int rc;
        if (strcmp(k, "max") == 0) {
            rc = get_int(e, file, path, 0, 100, &n);
            x->o.max_retries = n == 0 ? -1 : (int)n;
        } else if (strcmp(k, "initial") == 0) {
            rc = get_number(e, file, path, 0.001, 3600, &x->o.backoff_initial);
        } else if (strcmp(k, "max_wait") == 0) {
            rc = get_number(e, file, path, 0.001, 3600, &x->o.backoff_max);
        } else if (strcmp(k, "budget") == 0) {
            rc = get_number(e, file, path, 0.001, 7 * 86400, &x->o.retry_budget);
        } else {
            rc = unknown(file, P ".retries", k, "max, initial, max_wait, budget");
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* One price entry's fields, {"prompt", "completion", "cached"} per million tokens. */
static int price_fields(const json_t *e, const char *file, const char *path,
                        fewshot_llm_price *pr)
{
    const char *k;
    json_t *f;
    if (!json_is_object(e))
        return bad(file, path, "expected {\"prompt\": price, \"completion\": price, "
                   "\"cached\": price} per 1M tokens");
    json_object_foreach((json_t *)e, k, f) {
        char sub[600];
        snprintf(sub, sizeof sub, "%s.%s", path, k);
        int rc;
        if (strcmp(k, "prompt") == 0 || strcmp(k, "input") == 0)
            rc = get_number(f, file, sub, 0, 1e9, &pr->prompt);
        else if (strcmp(k, "completion") == 0 || strcmp(k, "output") == 0)
            rc = get_number(f, file, sub, 0, 1e9, &pr->completion);
        else if (strcmp(k, "cached") == 0 || strcmp(k, "cached_input") == 0)
            rc = get_number(f, file, sub, 0, 1e9, &pr->cached);
        else
            rc = unknown(file, path, k, "prompt, completion, cached");
        if (rc)
            return rc;
    }
    return 0;
}

/* llm.price: the price of whatever model the section asks (an entry for "*"). */
static int parse_price(const json_t *v, const char *file, parsed *x)
{
    x->prices = calloc(2, sizeof *x->prices);
    if (!x->prices)
        return FEWSHOT_ENOMEM;
    x->prices[0].model = "*";
    x->n_prices = 1;
    return price_fields(v, file, P ".price", &x->prices[0]);
}

static int parse_prices(const json_t *v, const char *file, parsed *x)
{
    if (!json_is_object(v))
        return bad(file, P ".prices", "expected an object {MODEL: {\"prompt\": per 1M tokens, "
                   "\"completion\": per 1M tokens, \"cached\": per 1M cached tokens}}");
    x->prices = calloc(json_object_size(v) + 1, sizeof *x->prices);
    if (!x->prices)
        return FEWSHOT_ENOMEM;
    const char *model;
    json_t *e;
    char path[512];
    json_object_foreach((json_t *)v, model, e) {
        fewshot_llm_price *pr = &x->prices[x->n_prices++];
        pr->model = model;
        snprintf(path, sizeof path, P ".prices.%s", model);
        int rc = price_fields(e, file, path, pr);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_cache(const json_t *v, const char *file, parsed *x)
{
    const char *mode = NULL;
    if (json_is_string(v)) {
        mode = json_string_value(v);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e) {
            int rc;
            if (strcmp(k, "mode") == 0)
                rc = get_string(e, file, P ".cache.mode", &mode);
            else if (strcmp(k, "path") == 0)
                rc = get_string(e, file, P ".cache.path", &x->cache_path);
            else
                rc = unknown(file, P ".cache", k, "mode, path");
            if (rc)
                return rc;
        }
    } else {
        return bad(file, P ".cache", "expected an object {\"mode\": off|read|readwrite, "
                   "\"path\": FILE}");
    }
    if (!mode)
        mode = "readwrite";
    if (strcmp(mode, "off") == 0)
        x->cache_mode = FEWSHOT_LLM_CACHE_OFF;
    else if (strcmp(mode, "read") == 0)
        x->cache_mode = FEWSHOT_LLM_CACHE_READ;
    else if (strcmp(mode, "readwrite") == 0)
        x->cache_mode = FEWSHOT_LLM_CACHE_READWRITE;
    else
        return fewshot_error_set_path(FEWSHOT_EINVAL, file, json_is_string(v) ? P ".cache"
                                      : P ".cache.mode", "unknown cache mode '%s' (off, read, "
                                      "readwrite)", mode);
    return 0;
}

static int parse_headers(const json_t *v, const char *file, parsed *x)
{
    if (!json_is_object(v))
        return bad(file, P ".headers", "expected an object {NAME: VALUE}");
    size_t n = json_object_size(v);
    x->headers = calloc(n + 1, sizeof *x->headers);
    x->owned = calloc(n + 1, sizeof *x->owned);
    if (!x->headers || !x->owned)
        return FEWSHOT_ENOMEM;
    const char *k;
    json_t *e;
    json_object_foreach((json_t *)v, k, e) {
        char path[256];
        snprintf(path, sizeof path, P ".headers.%s", k);
        if (!json_is_string(e))
            return bad(file, path, "expected a string");
        if (strcasecmp(k, "authorization") == 0 || strcasecmp(k, "api-key") == 0)
            return bad(file, path, "secrets never go in a config: name the environment "
                       "variable that holds the key in api_key_env");
        size_t size = strlen(k) + strlen(json_string_value(e)) + 3;
        char *line = malloc(size);
        if (!line)
            return FEWSHOT_ENOMEM;
        snprintf(line, size, "%s: %s", k, json_string_value(e));
        x->owned[x->n_owned++] = line;
        x->headers[x->n_owned - 1] = line;
    }
    return 0;
}

static int parse_stop(const json_t *v, const char *file, parsed *x)
{
    if (json_is_string(v)) {
        x->stop = calloc(2, sizeof *x->stop);
        if (!x->stop)
            return FEWSHOT_ENOMEM;
        x->stop[0] = json_string_value(v);
        return 0;
    }
    if (!json_is_array(v))
        return bad(file, P ".stop", "expected a string or an array of strings");
    x->stop = calloc(json_array_size(v) + 1, sizeof *x->stop);
    if (!x->stop)
        return FEWSHOT_ENOMEM;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        char path[64];
        snprintf(path, sizeof path, P ".stop[%zu]", i);
        if (get_string(e, file, path, &x->stop[i]))
            return FEWSHOT_EINVAL;
    }
    return 0;
}

#define KNOWN "base_url, provider, model, api_key_env, azure, temperature, top_p, max_tokens, " \
              "seed, stop, n, response_format, stream, extra, headers, concurrency, rpm, tpm, " \
              "timeouts, retries, prices, price, context, cache"

/* Parse config into x; strings point into config. */
static int parse(const json_t *config, const char *file, parsed *x)
{
    fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
    fewshot_llm_params p = FEWSHOT_LLM_PARAMS_INIT;
    memset(x, 0, sizeof *x);
    x->o = o;
    x->p = p;
    if (!json_is_object(config))
        return bad(file, P, "expected an object");
    const char *k;
    json_t *v;
    json_int_t n;
    json_object_foreach((json_t *)config, k, v) {
        char path[128];
        snprintf(path, sizeof path, P ".%s", k);
        int rc;
        if (strcmp(k, "base_url") == 0) {
            rc = get_string(v, file, path, &x->o.base_url);
        } else if (strcmp(k, "provider") == 0) {
            rc = get_string(v, file, path, &x->o.provider);
        } else if (strcmp(k, "model") == 0) {
            rc = get_string(v, file, path, &x->o.model);
        } else if (strcmp(k, "api_key_env") == 0) {
            rc = get_string(v, file, path, &x->o.api_key_env);
        } else if (strcmp(k, "api_key") == 0) {
            rc = bad(file, path, "secrets never go in a config: put the key in an environment "
                     "variable and name it in api_key_env");
        } else if (strcmp(k, "azure") == 0) {
            const char *ak;
            json_t *av;
            rc = json_is_object(v) ? 0 : bad(file, path, "expected an object {\"deployment\", "
                                             "\"api_version\"}");
            json_object_foreach(v, ak, av) {
                char sub[160];
                snprintf(sub, sizeof sub, "%s.%s", path, ak);
                if (rc)
                    break;
                if (strcmp(ak, "deployment") == 0)
                    rc = get_string(av, file, sub, &x->o.azure_deployment);
                else if (strcmp(ak, "api_version") == 0)
                    rc = get_string(av, file, sub, &x->o.azure_api_version);
                else
                    rc = unknown(file, path, ak, "deployment, api_version");
            }
        } else if (strcmp(k, "temperature") == 0) {
            rc = get_number(v, file, path, 0, 2, &x->p.temperature);
        } else if (strcmp(k, "top_p") == 0) {
            rc = get_number(v, file, path, 0, 1, &x->p.top_p);
        } else if (strcmp(k, "max_tokens") == 0) {
            rc = get_int(v, file, path, 1, 10000000, &n);
            x->p.max_tokens = (int)n;
        } else if (strcmp(k, "seed") == 0) {
            rc = get_int(v, file, path, INT64_MIN + 1, INT64_MAX, &n);
            x->p.seed = n;
        } else if (strcmp(k, "n") == 0) {
            rc = get_int(v, file, path, 1, 128, &n);
            x->p.n = (unsigned int)n;
        } else if (strcmp(k, "stop") == 0) {
            rc = parse_stop(v, file, x);
        } else if (strcmp(k, "response_format") == 0) {
            rc = json_is_object(v) ? 0 : bad(file, path, "expected an object, e.g. "
                                             "{\"type\": \"json_schema\", \"json_schema\": {...}}");
            x->p.response_format = v;
        } else if (strcmp(k, "stream") == 0) {
            rc = json_is_boolean(v) ? 0 : bad(file, path, "expected true or false");
            x->p.stream = json_is_true(v);
        } else if (strcmp(k, "extra") == 0) {
            rc = json_is_object(v) ? 0 : bad(file, path, "expected an object of request fields");
            x->o.extra = v;
        } else if (strcmp(k, "headers") == 0) {
            rc = parse_headers(v, file, x);
        } else if (strcmp(k, "concurrency") == 0) {
            rc = get_int(v, file, path, 1, 100000, &n);
            x->o.max_in_flight = (unsigned int)n;
        } else if (strcmp(k, "rpm") == 0) {
            rc = get_number(v, file, path, 0, 1e9, &x->o.rpm);
        } else if (strcmp(k, "tpm") == 0) {
            rc = get_number(v, file, path, 0, 1e12, &x->o.tpm);
        } else if (strcmp(k, "timeouts") == 0) {
            rc = parse_timeouts(v, file, x);
        } else if (strcmp(k, "retries") == 0) {
            rc = parse_retries(v, file, x);
        } else if (strcmp(k, "prices") == 0) {
            if (x->n_prices)
                return bad(file, path, "give either price (for the model) or prices (per "
                           "model), not both");
            rc = parse_prices(v, file, x);
        } else if (strcmp(k, "price") == 0) {
            if (x->n_prices)
                return bad(file, path, "give either price (for the model) or prices (per "
                           "model), not both");
            rc = parse_price(v, file, x);
        } else if (strcmp(k, "context") == 0) {
            /* the model's context window in tokens: the dry run warns above it */
            rc = get_int(v, file, path, 1, 100000000, &n);
        } else if (strcmp(k, "cache") == 0) {
            rc = parse_cache(v, file, x);
        } else {
            rc = unknown(file, P, k, KNOWN);
        }
        if (rc)
            return rc;
    }
    if (x->o.provider && strcmp(x->o.provider, "azure") == 0 && !x->o.base_url)
        return bad(file, P ".base_url", "provider azure needs base_url "
                   "(https://RESOURCE.openai.azure.com)");
    x->o.prices = x->prices;
    x->o.n_prices = x->n_prices;
    x->o.headers = x->headers;
    x->p.stop = x->stop;
    return 0;
}

int fewshot_llm_config_check(const json_t *config, const char *file)
{
    parsed x;
    int rc = parse(config, file, &x);
    parsed_free(&x);
    return rc;
}

int fewshot_llm_new_from_config(fewshot_llm **out, const json_t *config, const char *file)
{
    *out = NULL;
    /* keep our own copy: the defaults point into it */
    json_t *copy = json_deep_copy(config);
    if (!copy)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    parsed x;
    int rc = parse(copy, file, &x);
    fewshot_cache *cache = NULL;
    if (!rc && x.cache_mode != FEWSHOT_LLM_CACHE_OFF) {
        rc = fewshot_cache_open(&cache, x.cache_path, NULL);
        if (rc)
            fewshot_error_prefix("%s%s" P ".cache", file ? file : "", file ? ": " : "");
    }
    x.o.cache = cache;
    x.o.cache_mode = x.cache_mode;
    fewshot_llm *llm = NULL;
    if (!rc) {
        rc = fewshot_llm_new(&llm, &x.o);
        if (rc && file)
            fewshot_error_prefix("%s", file);
    }
    if (rc) {
        fewshot_cache_free(cache);
        parsed_free(&x);
        json_decref(copy);
        return rc;
    }
    llm->own_cache = cache != NULL;
    llm->defaults = x.p;
    llm->defaults_store = copy;
    llm->default_stop = x.stop;
    x.stop = NULL;
    parsed_free(&x);
    *out = llm;
    return 0;
}
