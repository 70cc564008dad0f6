/*
 * The LLM client object: options, the request queues, submit/poll and the synchronous calls
 * built on them. Transfers are in llm_transport.c, bodies and URLs in llm_request.c.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llm_internal.h"

#define DEFAULT_BASE_URL "https://api.openai.com/v1"
#define DEFAULT_AZURE_API_VERSION "2024-06-01"

double llm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int fewshot_llm_options_init(fewshot_llm_options *opts, unsigned int version)
{
    if (version != FEWSHOT_LLM_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_llm_options version %u is not %d",
                                 version, FEWSHOT_LLM_OPTIONS_VERSION);
    fewshot_llm_options init = FEWSHOT_LLM_OPTIONS_INIT;
    *opts = init;
    return 0;
}

int fewshot_llm_params_init(fewshot_llm_params *params, unsigned int version)
{
    if (version != FEWSHOT_LLM_PARAMS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_llm_params version %u is not %d",
                                 version, FEWSHOT_LLM_PARAMS_VERSION);
    fewshot_llm_params init = FEWSHOT_LLM_PARAMS_INIT;
    *params = init;
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static const char *const providers[] = {"openai", "azure", "vllm", "llama.cpp", "ollama", NULL};

int fewshot_llm_new(fewshot_llm **out, const fewshot_llm_options *opts)
{
    fewshot_llm_options defaults = FEWSHOT_LLM_OPTIONS_INIT;
    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (opts->version != FEWSHOT_LLM_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_llm_options version %u is not %d "
                                 "(use FEWSHOT_LLM_OPTIONS_INIT)", opts->version,
                                 FEWSHOT_LLM_OPTIONS_VERSION);
    const char *provider = opts->provider ? opts->provider : "openai";
    int known = 0;
    for (size_t i = 0; providers[i]; i++)
        known |= strcmp(provider, providers[i]) == 0;
    if (!known)
        return fewshot_error_set(FEWSHOT_EINVAL, "unknown provider '%s' (known: openai, azure, "
                                 "vllm, llama.cpp, ollama)", provider);
    int azure = strcmp(provider, "azure") == 0;
    const char *base = opts->base_url;
    if (!base || !*base)
        base = getenv("FEWSHOT_BASE_URL");
    if (!base || !*base)
        base = getenv("OPENAI_BASE_URL");
    if (!base || !*base) {
        if (azure)
            return fewshot_error_set(FEWSHOT_EINVAL, "provider azure needs a base URL "
                                     "(https://RESOURCE.openai.azure.com)");
        base = DEFAULT_BASE_URL;
    }
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "base URL '%s' must start with http:// or "
                                 "https://", base);
    const char *key = NULL;
    if (!opts->api_key_env) {
        key = getenv("OPENAI_API_KEY");
    } else if (*opts->api_key_env) {
        key = getenv(opts->api_key_env);
        if (!key || !*key)
            return fewshot_error_set(FEWSHOT_EINVAL, "the API key variable %s is not set "
                                     "(api_key_env names the environment variable that holds "
                                     "the key)", opts->api_key_env);
    }
    if (opts->rpm < 0 || opts->tpm < 0 || opts->connect_timeout < 0 || opts->request_timeout < 0
        || opts->backoff_initial < 0 || opts->backoff_max < 0 || opts->retry_budget < 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "rate limits, timeouts and backoff times "
                                 "must not be negative");
    if (opts->extra && !json_is_object(opts->extra))
        return fewshot_error_set(FEWSHOT_EINVAL, "extra request fields must be a JSON object");
    if (opts->cache_mode < FEWSHOT_LLM_CACHE_OFF || opts->cache_mode > FEWSHOT_LLM_CACHE_READWRITE)
        return fewshot_error_set(FEWSHOT_EINVAL, "unknown cache mode %d", opts->cache_mode);

    fewshot_llm *llm = calloc(1, sizeof *llm);
    if (!llm)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    llm->base_url = strdup(base);
    llm->provider = strdup(provider);
    llm->azure = azure;
    llm->model = dup_or_null(opts->model);
    llm->api_key = dup_or_null(key);
    llm->azure_deployment = dup_or_null(opts->azure_deployment);
    llm->azure_api_version = strdup(opts->azure_api_version ? opts->azure_api_version
                                                            : DEFAULT_AZURE_API_VERSION);
    llm->max_in_flight = opts->max_in_flight ? opts->max_in_flight : 16;
    llm->connect_timeout = opts->connect_timeout > 0 ? opts->connect_timeout : 10;
    llm->request_timeout = opts->request_timeout > 0 ? opts->request_timeout : 120;
    llm->retry.max_retries = opts->max_retries == 0 ? 5 : opts->max_retries;
    llm->retry.initial = opts->backoff_initial > 0 ? opts->backoff_initial : 0.5;
    llm->retry.cap = opts->backoff_max > 0 ? opts->backoff_max : 30;
    llm->retry.budget = opts->retry_budget > 0 ? opts->retry_budget : 600;
    llm->rng = opts->seed ? opts->seed : (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)llm;
    llm->cache = opts->cache;
    llm->cache_mode = opts->cache ? opts->cache_mode : FEWSHOT_LLM_CACHE_OFF;
    llm->extra = opts->extra ? json_deep_copy(opts->extra) : NULL;
    double now = llm_now();
    llm_bucket_init(&llm->rpm, opts->rpm, now);
    llm_bucket_init(&llm->tpm, opts->tpm, now);
    fewshot_llm_params p = FEWSHOT_LLM_PARAMS_INIT;
    llm->defaults = p;
    int rc = 0;
    if (!llm->base_url || !llm->provider || !llm->azure_api_version || (opts->model && !llm->model)
        || (key && !llm->api_key))
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if (!rc && opts->n_prices) {
        llm->prices = calloc(opts->n_prices, sizeof *llm->prices);
        if (!llm->prices)
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        for (size_t i = 0; !rc && i < opts->n_prices; i++) {
            if (!opts->prices[i].model)
                rc = fewshot_error_set(FEWSHOT_EINVAL, "price %zu names no model", i);
            else {
                llm->prices[i] = opts->prices[i];
                llm->prices[i].model = strdup(opts->prices[i].model);
                llm->n_prices++;
            }
        }
    }
    if (!rc)
        rc = llm_build_headers(llm, opts->headers);
    if (!rc)
        rc = llm_transport_init(llm);
    if (rc) {
        fewshot_llm_free(llm);
        return rc;
    }
    *out = llm;
    return 0;
}

void llm_req_free(llm_req *q)
{
    if (!q)
        return;
    free(q->url);
    free(q->body_text);
    free(q->model);
    llm_buf_free(&q->body);
    if (q->sse) {
        llm_stream_free(q->sse);
        free(q->sse);
    }
    free(q->last_error);
    fewshot_llm_reply_free(q->reply);
    free(q);
}

static void free_list(llm_req *q)
{
    while (q) {
        llm_req *next = q->next;
        llm_req_free(q);
        q = next;
    }
}

void fewshot_llm_free(fewshot_llm *llm)
{
    if (!llm)
        return;
    /* requests still on the wire are abandoned */
    while (llm->flight) {
        llm_req *q = llm->flight;
        llm->flight = q->fl_next;
        curl_multi_remove_handle(llm->multi, q->easy);
        curl_easy_cleanup(q->easy);
        llm_req_free(q);
    }
    free_list(llm->wait_head);
    free_list(llm->done_head);
    llm_transport_free(llm);
    if (llm->headers) {
        /* the key lives in one of these strings: wipe it before freeing */
        for (struct curl_slist *h = llm->headers; h; h = h->next)
            memset(h->data, 0, strlen(h->data));
        curl_slist_free_all(llm->headers);
    }
    if (llm->api_key) {
        memset(llm->api_key, 0, strlen(llm->api_key));
        free(llm->api_key);
    }
    for (size_t i = 0; i < llm->n_prices; i++)
        free((char *)llm->prices[i].model);
    free(llm->prices);
    json_decref(llm->extra);
    json_decref(llm->defaults_store);
    free(llm->default_stop);
    fewshot__digest_free(llm->key_digest);
    fewshot__jbuf_free(&llm->canon);
    if (llm->own_cache)
        fewshot_cache_free(llm->cache);
    free(llm->base_url);
    free(llm->provider);
    free(llm->model);
    free(llm->azure_deployment);
    free(llm->azure_api_version);
    free(llm);
}

const char *fewshot_llm_base_url(const fewshot_llm *llm) { return llm->base_url; }
const char *fewshot_llm_model(const fewshot_llm *llm) { return llm->model ? llm->model : ""; }
const fewshot_llm_params *fewshot_llm_default_params(const fewshot_llm *llm)
{
    return &llm->defaults;
}

void llm_queue_waiting(fewshot_llm *llm, llm_req *q)
{
    q->next = NULL;
    if (llm->wait_tail)
        llm->wait_tail->next = q;
    else
        llm->wait_head = q;
    llm->wait_tail = q;
    llm->n_waiting++;
}

void llm_finish(fewshot_llm *llm, llm_req *q)
{
    q->state = REQ_DONE;
    if (q->reply) {
        double t0 = q->attempts ? q->t_start : q->t_submit;
        q->reply->latency = llm_now() - t0;
        q->reply->attempts = q->attempts;
    }
    /* the transfer's memory is not needed any more */
    llm_buf_free(&q->body);
    if (q->sse) {
        llm_stream_free(q->sse);
        free(q->sse);
        q->sse = NULL;
    }
    free(q->body_text);
    q->body_text = NULL;
    q->next = NULL;
    if (llm->done_tail)
        llm->done_tail->next = q;
    else
        llm->done_head = q;
    llm->done_tail = q;
    llm->n_done++;
}

/* A cache hit, finished at once. Returns 1 on a hit. */
static int try_cache(fewshot_llm *llm, llm_req *q)
{
    fewshot_cache_entry e;
    if (fewshot_cache_get(llm->cache, q->key, &e) != 0)
        return 0;
    fewshot_llm_reply *r = llm_reply_new(q);
    if (!r) {
        json_decref(e.reply);
        return 0;
    }
    const char *why;
    if (llm_reply_read(llm, r, e.reply, &why) != 0) { /* takes e.reply */
        fewshot_llm_reply_free(r);
        return 0;
    }
    r->cache_hit = 1;
    r->usage.cache_hits = 1;
    r->http_status = 200;
    q->reply = r;
    llm_finish(llm, q);
    return 1;
}

int fewshot_llm_submit(fewshot_llm *llm, int endpoint, const json_t *input,
                       const fewshot_llm_params *params, void *user, uint64_t *id)
{
    return fewshot__llm_submit_keyed(llm, endpoint, input, params, user, id, NULL);
}

int fewshot__llm_submit_keyed(fewshot_llm *llm, int endpoint, const json_t *input,
                              const fewshot_llm_params *params, void *user, uint64_t *id,
                              fewshot__digest *key_digest)
{
    const fewshot_llm_params *p = params ? params : &llm->defaults;
    if (p->version != FEWSHOT_LLM_PARAMS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_llm_params version %u is not %d "
                                 "(use FEWSHOT_LLM_PARAMS_INIT)", p->version,
                                 FEWSHOT_LLM_PARAMS_VERSION);
    if (p->stream && endpoint != FEWSHOT_LLM_CHAT && endpoint != FEWSHOT_LLM_COMPLETION)
        return fewshot_error_set(FEWSHOT_EINVAL, "only chat and completions can be streamed");
    json_t *body = NULL;
    int rc = llm_build_body(llm, endpoint, input, p, &body);
    if (rc)
        return rc;
    llm_req *q = calloc(1, sizeof *q);
    if (!q) {
        json_decref(body);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    q->llm = llm;
    q->id = ++llm->next_id;
    q->user = user;
    q->endpoint = endpoint;
    q->state = REQ_WAITING;
    q->stream = p->stream;
    q->on_delta = p->on_delta;
    q->on_delta_user = p->on_delta_user;
    q->retry_after = -1;
    const char *model = json_string_value(json_object_get(body, "model"));
    q->model = strdup(model ? model : (llm->model ? llm->model : ""));
    if (!q->model) {
        json_decref(body);
        llm_req_free(q);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    q->t_submit = llm_now();
    q->deadline = q->t_submit + llm->retry.budget;
    llm->stats.submitted++;
    if (id)
        *id = q->id;
    q->url = llm_build_url(llm, endpoint, model);
    /* The body is serialized once, sorted: that text is what the cache key hashes and, for a
     * request without streaming fields (the key leaves those out), the text sent. */
    fewshot__jbuf text = llm->canon;       /* reused: emptied, its room kept */
    llm->canon = (fewshot__jbuf){0};
    text.len = 0;
    int have_text = body && fewshot__json_canon(&text, body, 1, fewshot__cache_skip) == 0;
    /* The key names the server too (the same model name on two servers is two models), but
     * not the query string, where some providers carry credentials. */
    if (have_text && q->url && llm->cache && llm->cache_mode != FEWSHOT_LLM_CACHE_OFF &&
        !p->no_cache) {
        if (!key_digest && !llm->key_digest && fewshot__digest_new(&llm->key_digest) != 0)
            fewshot_error_clear();  /* hashed in one pass instead */
        int krc = fewshot__cache_key_text(q->url, strcspn(q->url, "?"), text.data, text.len,
                                          body, p->sample,
                                          key_digest ? key_digest : llm->key_digest, q->key);
        if (krc == 0 && try_cache(llm, q)) {
            llm->canon = text;  /* kept for the next request */
            json_decref(body);
            return 0;
        }
        q->cache_store = krc == 0 && llm->cache_mode == FEWSHOT_LLM_CACHE_READWRITE;
    }
    if (have_text && !p->stream) {
        q->body_text = text.data; /* taken */
    } else {
        fewshot__jbuf_free(&text);
        if (body)
            q->body_text = json_dumps(body, JSON_COMPACT);
    }
    q->est_tokens = llm_estimate_tokens(body, q->body_text);
    json_decref(body);
    if (!q->url || (endpoint != FEWSHOT_LLM_MODELS && !q->body_text)) {
        llm->stats.submitted--;
        llm_req_free(q);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    llm_queue_waiting(llm, q);
    return 0;
}

size_t fewshot_llm_pending(const fewshot_llm *llm)
{
    return llm->n_waiting + llm->n_in_flight + llm->n_done;
}

/* One round of work: start what may start, move transfers, and sleep until something can
 * happen or `end` (monotonic time) passes. */
static int drive(fewshot_llm *llm, double end)
{
    double wake;
    int rc = llm_transport_start(llm, llm_now(), &wake);
    if (!rc)
        rc = llm_transport_perform(llm);
    if (rc || llm->done_head)
        return rc;
    double now = llm_now();
    if (now >= end)
        return 0;
    double wait = end - now;
    if (wake < wait)
        wait = wake;
    if (wait > 1.0)
        wait = 1.0; /* wake regularly: cheap, and robust against missed events */
    rc = llm_transport_wait(llm, (int)ceil(wait * 1000));
    if (!rc)
        rc = llm_transport_perform(llm);
    return rc;
}

static fewshot_llm_reply *hand_out(fewshot_llm *llm, llm_req *q)
{
    fewshot_llm_reply *r = q->reply;
    q->reply = NULL;
    llm_req_free(q);
    llm->n_done--;
    llm->stats.completed++;
    if (!r)
        return NULL;
    if (r->status)
        llm->stats.failed++;
    if (r->truncated)
        llm->stats.truncated++;
    if (r->cache_hit)
        llm->stats.cache_hits++;
    fewshot_llm_usage_add(&llm->stats.usage, &r->usage);
    return r;
}

int fewshot_llm_poll(fewshot_llm *llm, int timeout_ms, fewshot_llm_reply **out)
{
    *out = NULL;
    double end = timeout_ms < 0 ? INFINITY : llm_now() + timeout_ms / 1000.0;
    for (;;) {
        llm_req *q = llm->done_head;
        if (q) {
            llm->done_head = q->next;
            if (!llm->done_head)
                llm->done_tail = NULL;
            *out = hand_out(llm, q);
            if (!*out)
                return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
            return 1;
        }
        if (llm->n_waiting + llm->n_in_flight == 0)
            return 0;
        int rc = drive(llm, end);
        if (rc)
            return rc;
        if (!llm->done_head && llm_now() >= end)
            return 0;
    }
}

int fewshot_llm_call(fewshot_llm *llm, int endpoint, const json_t *input,
                     const fewshot_llm_params *params, fewshot_llm_reply **out)
{
    uint64_t id;
    *out = NULL;
    int rc = fewshot_llm_submit(llm, endpoint, input, params, NULL, &id);
    if (rc)
        return rc;
    for (;;) {
        llm_req *prev = NULL;
        for (llm_req *q = llm->done_head; q; prev = q, q = q->next) {
            if (q->id != id)
                continue;
            if (prev)
                prev->next = q->next;
            else
                llm->done_head = q->next;
            if (llm->done_tail == q)
                llm->done_tail = prev;
            *out = hand_out(llm, q);
            if (!*out)
                return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
            if ((*out)->status)
                fewshot_error_set((*out)->status, "%s", (*out)->error);
            return (*out)->status;
        }
        rc = drive(llm, INFINITY);
        if (rc)
            return rc;
    }
}

int fewshot_llm_chat(fewshot_llm *llm, const json_t *messages, const fewshot_llm_params *params,
                     fewshot_llm_reply **out)
{
    return fewshot_llm_call(llm, FEWSHOT_LLM_CHAT, messages, params, out);
}

int fewshot_llm_complete(fewshot_llm *llm, const char *prompt, const fewshot_llm_params *params,
                         fewshot_llm_reply **out)
{
    json_t *p = json_string(prompt ? prompt : "");
    int rc = fewshot_llm_call(llm, FEWSHOT_LLM_COMPLETION, p, params, out);
    json_decref(p);
    return rc;
}

int fewshot_llm_embed(fewshot_llm *llm, const json_t *input, const fewshot_llm_params *params,
                      fewshot_llm_reply **out)
{
    return fewshot_llm_call(llm, FEWSHOT_LLM_EMBEDDING, input, params, out);
}

int fewshot_llm_models(fewshot_llm *llm, fewshot_llm_reply **out)
{
    return fewshot_llm_call(llm, FEWSHOT_LLM_MODELS, NULL, NULL, out);
}

json_t *fewshot_llm_messages(const char *system, const char *user)
{
    json_t *m = json_array();
    if (!m)
        return NULL;
    /* prompts are long: checked for UTF-8 by the fast validator, not again by jansson */
    if (system)
        json_array_append_new(m, json_pack("{s:s,s:o}", "role", "system", "content",
                                           fewshot__json_text(system, strlen(system))));
    json_array_append_new(m, json_pack("{s:s,s:o}", "role", "user", "content",
                                       fewshot__json_text(user ? user : "",
                                                          user ? strlen(user) : 0)));
    if (json_array_size(m) != (system ? 2u : 1u)) {
        json_decref(m); /* invalid UTF-8 (json_pack fails on the NULL value) */
        return NULL;
    }
    return m;
}

void fewshot_llm_get_stats(const fewshot_llm *llm, fewshot_llm_stats *out)
{
    *out = llm->stats;
}

uint64_t fewshot_llm_cache_errors(const fewshot_llm *llm, const char **first)
{
    if (first)
        *first = llm && llm->cache_errors ? llm->cache_error : "";
    return llm ? llm->cache_errors : 0;
}
