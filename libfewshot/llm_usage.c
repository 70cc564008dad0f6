/*
 * Reading replies: the first choice's text and finish reason, token usage and its cost under
 * the configured prices, embeddings; and the reply object's memory.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "llm_internal.h"

/* The public reply plus the storage its pointers point into. */
typedef struct reply_impl {
    fewshot_llm_reply pub;
    json_t *body;
    char *error, *text, *finish, *model;
} reply_impl;

fewshot_llm_reply *llm_reply_new(const llm_req *q)
{
    reply_impl *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->pub.id = q->id;
    r->pub.user = q->user;
    r->pub.endpoint = q->endpoint;
    r->pub.error = "";
    r->pub.text = "";
    r->pub.finish_reason = "";
    r->model = strdup(q->model ? q->model : "");
    r->pub.model = r->model ? r->model : "";
    memcpy(r->pub.cache_key, q->key, sizeof r->pub.cache_key);
    return &r->pub;
}

void llm_reply_set_error(fewshot_llm_reply *pub, int status, const char *msg)
{
    reply_impl *r = (reply_impl *)pub;
    free(r->error);
    r->error = strdup(msg ? msg : fewshot_strerror(status));
    r->pub.error = r->error ? r->error : "";
    r->pub.status = status;
}

void fewshot_llm_reply_free(fewshot_llm_reply *pub)
{
    if (!pub)
        return;
    reply_impl *r = (reply_impl *)pub;
    json_decref(r->body);
    free(r->error);
    free(r->text);
    free(r->finish);
    free(r->model);
    free(r);
}

static const char *choice_text(const json_t *c)
{
    const char *t = json_string_value(json_object_get(json_object_get(c, "message"), "content"));
    if (!t)
        t = json_string_value(json_object_get(c, "text"));
    return t;
}

/* A server's token count, trusted only inside [0, LLM_MAX_TOKENS]: sums of a few of them then
 * cannot overflow, and a hostile 9223372036854775807 or -1 is an error, not a huge cost.
 * Returns NULL when the count is fine (absent or null counts as 0), else what is wrong. */
#define LLM_MAX_TOKENS 1000000000
static const char *usage_count(const json_t *usage, const char *name, uint64_t *out)
{
    json_t *v = json_object_get(usage, name);
    *out = 0;
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > LLM_MAX_TOKENS) {
        if (strcmp(name, "prompt_tokens") == 0)
            return "$.usage.prompt_tokens: expected an integer from 0 to 1000000000";
        if (strcmp(name, "completion_tokens") == 0)
            return "$.usage.completion_tokens: expected an integer from 0 to 1000000000";
        return "$.usage.total_tokens: expected an integer from 0 to 1000000000";
    }
    *out = (uint64_t)json_integer_value(v);
    return NULL;
}

/* Prompt tokens served from the server's prefix cache, where the server says. */
static uint64_t cached_tokens(const json_t *body, const json_t *usage)
{
    json_t *v = json_object_get(json_object_get(usage, "prompt_tokens_details"),
                                "cached_tokens");
    if (!json_is_integer(v))    /* llama.cpp: its slot's timings, or the native field */
        v = json_object_get(json_object_get(body, "timings"), "cache_n");
    if (!json_is_integer(v))
        v = json_object_get(body, "tokens_cached");
    json_int_t n = json_integer_value(v);
    /* a count, like the others, trusted only up to LLM_MAX_TOKENS (sums must not overflow) */
    return n > 0 && n <= LLM_MAX_TOKENS ? (uint64_t)n : 0;
}

int llm_reply_read(fewshot_llm *llm, fewshot_llm_reply *pub, json_t *body, const char **why)
{
    reply_impl *r = (reply_impl *)pub;
    json_decref(r->body);
    r->body = body; /* takes the reference */
    r->pub.body = body;
    if (!json_is_object(body)) {
        *why = "the reply is not a JSON object";
        return FEWSHOT_EPARSE;
    }
    json_t *usage = json_object_get(body, "usage");
    if ((*why = usage_count(usage, "prompt_tokens", &r->pub.usage.prompt_tokens)) ||
        (*why = usage_count(usage, "completion_tokens", &r->pub.usage.completion_tokens)) ||
        (*why = usage_count(usage, "total_tokens", &r->pub.usage.total_tokens)))
        return FEWSHOT_EPARSE;
    if (!r->pub.usage.total_tokens)
        r->pub.usage.total_tokens = r->pub.usage.prompt_tokens + r->pub.usage.completion_tokens;
    r->pub.usage.calls = 1;
    r->pub.usage.cached_tokens = cached_tokens(body, usage);
    if (r->pub.usage.cached_tokens > r->pub.usage.prompt_tokens)
        r->pub.usage.cached_tokens = r->pub.usage.prompt_tokens;
    r->pub.usage.cost = fewshot_llm_cost_cached(llm, r->pub.model, r->pub.usage.prompt_tokens,
                                                r->pub.usage.cached_tokens,
                                                r->pub.usage.completion_tokens);
    switch (r->pub.endpoint) {
    case FEWSHOT_LLM_CHAT:
    case FEWSHOT_LLM_COMPLETION: {
        json_t *choices = json_object_get(body, "choices");
        if (!json_is_array(choices) || json_array_size(choices) == 0) {
            *why = "the reply has no choices";
            return FEWSHOT_EPARSE;
        }
        json_t *c = json_array_get(choices, 0);
        const char *text = choice_text(c);
        if (!text && !json_is_null(json_object_get(json_object_get(c, "message"), "content"))) {
            *why = "the first choice has no message content or text";
            return FEWSHOT_EPARSE;
        }
        free(r->text);
        r->text = strdup(text ? text : "");
        r->pub.text = r->text ? r->text : "";
        const char *fin = json_string_value(json_object_get(c, "finish_reason"));
        free(r->finish);
        r->finish = strdup(fin ? fin : "");
        r->pub.finish_reason = r->finish ? r->finish : "";
        r->pub.truncated = fin && strcmp(fin, "length") == 0;
        r->pub.n_choices = json_array_size(choices);
        return 0;
    }
    case FEWSHOT_LLM_EMBEDDING: {
        json_t *data = json_object_get(body, "data");
        if (!json_is_array(data) || json_array_size(data) == 0
            || !json_is_array(json_object_get(json_array_get(data, 0), "embedding"))) {
            *why = "the reply has no embeddings";
            return FEWSHOT_EPARSE;
        }
        r->pub.n_choices = json_array_size(data);
        return 0;
    }
    case FEWSHOT_LLM_MODELS:
        if (!json_is_array(json_object_get(body, "data"))) {
            *why = "the reply has no model list (\"data\")";
            return FEWSHOT_EPARSE;
        }
        r->pub.n_choices = json_array_size(json_object_get(body, "data"));
        return 0;
    default:
        *why = "unknown endpoint";
        return FEWSHOT_EINVAL;
    }
}

char *llm_server_message(const char *body, size_t len)
{
    json_t *doc = body ? json_loadb(body, len, 0, NULL) : NULL;
    const char *m = NULL;
    if (doc) {
        json_t *e = json_object_get(doc, "error");
        m = json_string_value(json_object_get(e, "message"));
        if (!m)
            m = json_string_value(e);
        if (!m)
            m = json_string_value(json_object_get(doc, "message"));
        if (!m)
            m = json_string_value(json_object_get(doc, "detail"));
    }
    char *out;
    if (m) {
        out = strdup(m);
    } else {
        size_t n = body ? len : 0;
        if (n > 300)
            n = 300;
        out = malloc(n + 1);
        if (out) {
            for (size_t i = 0; i < n; i++)
                out[i] = (body[i] == '\n' || body[i] == '\r') ? ' ' : body[i];
            out[n] = '\0';
        }
    }
    json_decref(doc);
    return out;
}

const char *fewshot_llm_reply_choice(const fewshot_llm_reply *reply, size_t i)
{
    if (!reply || !reply->body)
        return "";
    const char *t = choice_text(json_array_get(json_object_get(reply->body, "choices"), i));
    return t ? t : "";
}

int fewshot_llm_reply_embedding(const fewshot_llm_reply *reply, size_t i, float *out,
                                size_t cap, size_t *dim)
{
    json_t *data = reply ? json_object_get(reply->body, "data") : NULL;
    json_t *item = NULL, *e;
    size_t k;
    /* "index" says which input an embedding belongs to; fall back to the position */
    json_array_foreach(data, k, e) {
        json_t *idx = json_object_get(e, "index");
        if ((idx && (size_t)json_integer_value(idx) == i) || (!idx && k == i)) {
            item = e;
            break;
        }
    }
    json_t *vec = json_object_get(item, "embedding");
    if (!json_is_array(vec))
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "the reply has no embedding %zu", i);
    size_t n = json_array_size(vec);
    if (dim)
        *dim = n;
    if (out) {
        json_t *x;
        json_array_foreach(vec, k, x) {
            if (k >= cap)
                break;
            out[k] = (float)json_number_value(x);
        }
    }
    return 0;
}

void fewshot_llm_usage_add(fewshot_llm_usage *a, const fewshot_llm_usage *b)
{
    a->prompt_tokens += b->prompt_tokens;
    a->completion_tokens += b->completion_tokens;
    a->total_tokens += b->total_tokens;
    a->cost += b->cost;
    a->calls += b->calls;
    a->cache_hits += b->cache_hits;
    a->cached_tokens += b->cached_tokens;
}

const fewshot_llm_price *fewshot_llm_price_find(const fewshot_llm_price *prices, size_t n,
                                                const char *model)
{
    const fewshot_llm_price *any = NULL, *hit = NULL;
    for (size_t i = 0; prices && i < n; i++) {
        if (model && prices[i].model && strcmp(prices[i].model, model) == 0)
            hit = &prices[i];
        else if (prices[i].model && strcmp(prices[i].model, "*") == 0)
            any = &prices[i];
    }
    return hit ? hit : any;
}

double fewshot_llm_price_cost(const fewshot_llm_price *price, uint64_t prompt_tokens,
                              uint64_t cached_tokens, uint64_t completion_tokens)
{
    if (!price)
        return 0;
    if (cached_tokens > prompt_tokens)
        cached_tokens = prompt_tokens;
    double cached = price->cached > 0 ? price->cached : price->prompt;
    return ((double)(prompt_tokens - cached_tokens) * price->prompt +
            (double)cached_tokens * cached + (double)completion_tokens * price->completion) /
           1e6;
}

double fewshot_llm_cost_cached(const fewshot_llm *llm, const char *model,
                               uint64_t prompt_tokens, uint64_t cached_tokens,
                               uint64_t completion_tokens)
{
    const fewshot_llm_price *p = llm ? fewshot_llm_price_find(llm->prices, llm->n_prices, model)
                                     : NULL;
    return fewshot_llm_price_cost(p, prompt_tokens, cached_tokens, completion_tokens);
}

double fewshot_llm_cost(const fewshot_llm *llm, const char *model, uint64_t prompt_tokens,
                        uint64_t completion_tokens)
{
    return fewshot_llm_cost_cached(llm, model, prompt_tokens, 0, completion_tokens);
}
