/*
 * Building requests: the JSON body from the request options, the URL for the provider
 * (OpenAI-style base URLs, or Azure's deployment path with its api-version), the headers
 * (the only place the API key goes), and redaction of the key from any text we keep.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_internal.h"

const char *llm_endpoint_path(int endpoint)
{
    switch (endpoint) {
    case FEWSHOT_LLM_CHAT: return "chat/completions";
    case FEWSHOT_LLM_COMPLETION: return "completions";
    case FEWSHOT_LLM_EMBEDDING: return "embeddings";
    case FEWSHOT_LLM_MODELS: return "models";
    default: return NULL;
    }
}

static void merge(json_t *body, const json_t *extra)
{
    const char *k;
    json_t *v;
    if (!json_is_object(extra))
        return;
    json_object_foreach((json_t *)extra, k, v)
        json_object_set(body, k, v);
}

static int check_input(int endpoint, const json_t *input)
{
    switch (endpoint) {
    case FEWSHOT_LLM_CHAT: {
        if (!json_is_array(input) || json_array_size(input) == 0)
            return fewshot_error_set(FEWSHOT_EINVAL,
                                     "chat: messages must be a non-empty JSON array");
        size_t i;
        json_t *m;
        json_array_foreach(input, i, m) {
            if (!json_is_string(json_object_get(m, "role")) || !json_object_get(m, "content"))
                return fewshot_error_set(FEWSHOT_EINVAL,
                                         "chat: message %zu needs \"role\" and \"content\"", i);
        }
        return 0;
    }
    case FEWSHOT_LLM_COMPLETION:
        if (!json_is_string(input) && !json_is_array(input))
            return fewshot_error_set(FEWSHOT_EINVAL, "completion: the prompt must be a string");
        return 0;
    case FEWSHOT_LLM_EMBEDDING:
        if (!json_is_string(input) && !json_is_array(input))
            return fewshot_error_set(FEWSHOT_EINVAL,
                                     "embedding: input must be a string or an array of strings");
        return 0;
    case FEWSHOT_LLM_MODELS:
        return 0;
    default:
        return fewshot_error_set(FEWSHOT_EINVAL, "unknown endpoint %d", endpoint);
    }
}

int llm_build_body(const fewshot_llm *llm, int endpoint, const json_t *input,
                   const fewshot_llm_params *p, json_t **out)
{
    *out = NULL;
    int rc = check_input(endpoint, input);
    if (rc)
        return rc;
    if (endpoint == FEWSHOT_LLM_MODELS)
        return 0;
    const char *model = p->model ? p->model : llm->model;
    if (!model || !*model)
        return fewshot_error_set(FEWSHOT_EINVAL, "no model given (set --model or llm.model)");
    json_t *body = json_object();
    json_object_set_new(body, "model", json_string(model));
    const char *field = endpoint == FEWSHOT_LLM_CHAT ? "messages"
                      : endpoint == FEWSHOT_LLM_COMPLETION ? "prompt" : "input";
    /* shared, not copied: the body lives only while submit builds the request text */
    json_object_set(body, field, (json_t *)input);
    if (endpoint != FEWSHOT_LLM_EMBEDDING) {
        if (p->temperature >= 0 && isfinite(p->temperature))
            json_object_set_new(body, "temperature", json_real(p->temperature));
        if (p->top_p >= 0 && isfinite(p->top_p))
            json_object_set_new(body, "top_p", json_real(p->top_p));
        if (p->max_tokens > 0)
            json_object_set_new(body, "max_tokens", json_integer(p->max_tokens));
        if (p->stop && p->stop[0]) {
            json_t *stop = json_array();
            for (size_t i = 0; p->stop[i]; i++)
                json_array_append_new(stop, json_string(p->stop[i]));
            json_object_set_new(body, "stop", stop);
        }
        if (p->seed != FEWSHOT_LLM_NO_SEED)
            json_object_set_new(body, "seed", json_integer((json_int_t)p->seed));
        if (p->n > 0)
            json_object_set_new(body, "n", json_integer(p->n));
        if (p->response_format) {
            if (!json_is_object(p->response_format)) {
                json_decref(body);
                return fewshot_error_set(FEWSHOT_EINVAL, "response_format must be an object");
            }
            json_object_set(body, "response_format", (json_t *)p->response_format);
        }
        if (p->stream) {
            json_object_set_new(body, "stream", json_true());
            json_object_set_new(body, "stream_options", json_pack("{s:b}", "include_usage", 1));
        }
    }
    merge(body, llm->extra);
    if (p->extra && !json_is_object(p->extra)) {
        json_decref(body);
        return fewshot_error_set(FEWSHOT_EINVAL, "extra request fields must be an object");
    }
    merge(body, p->extra);
    *out = body;
    return 0;
}

/* Append path to base, with exactly one '/' between them. */
static char *join(const char *base, const char *path, const char *query)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    size_t size = n + strlen(path) + (query ? strlen(query) : 0) + 3;
    char *url = malloc(size);
    if (url)
        snprintf(url, size, "%.*s/%s%s", (int)n, base, path, query ? query : "");
    return url;
}

char *llm_build_url(const fewshot_llm *llm, int endpoint, const char *model)
{
    const char *path = llm_endpoint_path(endpoint);
    if (!llm->azure)
        return join(llm->base_url, path, NULL);
    char query[160];
    snprintf(query, sizeof query, "?api-version=%s", llm->azure_api_version);
    if (endpoint == FEWSHOT_LLM_MODELS)
        return join(llm->base_url, "openai/models", query);
    const char *deployment = llm->azure_deployment ? llm->azure_deployment : model;
    char rel[512];
    snprintf(rel, sizeof rel, "openai/deployments/%s/%s", deployment ? deployment : "", path);
    return join(llm->base_url, rel, query);
}

int llm_build_headers(fewshot_llm *llm, const char *const *extra)
{
    struct curl_slist *h = NULL, *t;
#define ADD(s)                                   \
    do {                                         \
        if (!(t = curl_slist_append(h, (s)))) {  \
            curl_slist_free_all(h);              \
            return FEWSHOT_ENOMEM;               \
        }                                        \
        h = t;                                   \
    } while (0)
    ADD("Content-Type: application/json");
    ADD("Accept: application/json, text/event-stream");
    ADD("Expect:");
    if (llm->api_key && *llm->api_key) {
        size_t size = strlen(llm->api_key) + 32;
        char *line = malloc(size);
        if (!line) {
            curl_slist_free_all(h);
            return FEWSHOT_ENOMEM;
        }
        snprintf(line, size, llm->azure ? "api-key: %s" : "Authorization: Bearer %s",
                 llm->api_key);
        t = curl_slist_append(h, line);
        /* the copy curl keeps is freed with the list; wipe ours */
        memset(line, 0, size);
        free(line);
        if (!t) {
            curl_slist_free_all(h);
            return FEWSHOT_ENOMEM;
        }
        h = t;
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        if (!strchr(extra[i], ':')) {
            curl_slist_free_all(h);
            return fewshot_error_set(FEWSHOT_EINVAL, "header '%s' is not \"Name: value\"",
                                     extra[i]);
        }
        ADD(extra[i]);
    }
#undef ADD
    llm->headers = h;
    return 0;
}

void llm_redact(const fewshot_llm *llm, char *s)
{
    if (!s || !llm->api_key)
        return;
    size_t n = strlen(llm->api_key);
    if (n < 4)
        return;
    char *hit;
    while ((hit = strstr(s, llm->api_key)) != NULL)
        memset(hit, '*', n);
}

double llm_estimate_tokens(const json_t *body, const char *text)
{
    double chars = text ? (double)strlen(text) : 0;
    json_int_t max_tokens = json_integer_value(json_object_get(body, "max_tokens"));
    return chars / 4.0 + (double)(max_tokens > 0 ? max_tokens : 16);
}
