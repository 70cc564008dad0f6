/*
 * libfewshot: an OpenAI-compatible LLM client (chat, completions, embeddings, models).
 *
 * One client owns one libcurl multi handle: a single thread keeps hundreds of requests in
 * flight over reused connections. Requests are submitted with fewshot_llm_submit() and their
 * replies collected with fewshot_llm_poll(); fewshot_llm_chat() and friends are synchronous
 * wrappers. Failed attempts are retried on timeouts, connection errors, 408/409/429/5xx and
 * malformed replies, honouring Retry-After, otherwise with exponential backoff and jitter, up
 * to a cap and a total time budget per request. Other 4xx fail at once with the server's message.
 * Optional rate limits (requests and tokens per minute, requests in flight) hold requests back
 * before they are sent. Replies can be served from and stored in a fewshot_cache.
 *
 * Base URLs: OpenAI (https://api.openai.com/v1), vLLM and llama.cpp (http://HOST:PORT/v1),
 * Ollama (http://HOST:11434/v1) and Azure OpenAI (provider "azure", base URL
 * https://RESOURCE.openai.azure.com, a deployment and an api-version). The API key is read
 * from an environment variable whose name is configured; it is sent as a header and never
 * appears in the cache, in replies, in errors or in logs.
 *
 * Thread-safety: a client must be used by one thread at a time; distinct clients may be used
 * concurrently. Replies are independent objects.
 */
#ifndef FEWSHOT_LLM_H
#define FEWSHOT_LLM_H

#include <jansson.h>
#include "fewshot/common.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_llm fewshot_llm;
struct fewshot_cache;

/* What a request asks for. */
typedef enum fewshot_llm_endpoint {
    FEWSHOT_LLM_CHAT = 0,       /* POST chat/completions: input is a JSON array of messages */
    FEWSHOT_LLM_COMPLETION = 1, /* POST completions: input is a JSON string (the prompt) */
    FEWSHOT_LLM_EMBEDDING = 2,  /* POST embeddings: input is a string or an array of strings */
    FEWSHOT_LLM_MODELS = 3      /* GET models: input is NULL */
} fewshot_llm_endpoint;

/* Cache use, per client (fewshot_llm_options.cache_mode). */
typedef enum fewshot_llm_cache_mode {
    FEWSHOT_LLM_CACHE_OFF = 0,       /* neither read nor written */
    FEWSHOT_LLM_CACHE_READ = 1,      /* hits are served, new replies are not stored */
    FEWSHOT_LLM_CACHE_READWRITE = 2  /* hits are served and new replies stored */
} fewshot_llm_cache_mode;

/* Per-model prices, in currency units per million tokens. */
typedef struct fewshot_llm_price {
    const char *model;          /* exact model name, or "*" for any other model */
    double prompt;              /* per 1e6 prompt tokens */
    double completion;          /* per 1e6 completion tokens */
    double cached;              /* per 1e6 prompt tokens the server served from its prefix
                                   cache; 0: the prompt price (zero-initialised callers of
                                   old keep paying the full price) */
} fewshot_llm_price;

#define FEWSHOT_LLM_OPTIONS_VERSION 1
/* Client options. Zero values mean "the default" unless said otherwise. */
typedef struct fewshot_llm_options {
    unsigned int version;         /* FEWSHOT_LLM_OPTIONS_VERSION */
    const char *base_url;         /* NULL: $FEWSHOT_BASE_URL, $OPENAI_BASE_URL, then OpenAI's */
    const char *provider;         /* "openai" (default), "azure", "vllm", "llama.cpp", "ollama" */
    const char *api_key_env;      /* variable holding the key; NULL: OPENAI_API_KEY if set;
                                     "" no key. A named variable that is unset is an error. */
    const char *azure_deployment; /* Azure: deployment name (default: the model) */
    const char *azure_api_version;/* Azure: api-version (default "2024-06-01") */
    const char *model;            /* default model for requests that name none */
    unsigned int max_in_flight;   /* requests on the wire at once (default 16) */
    double rpm;                   /* requests per minute, 0: unlimited */
    double tpm;                   /* tokens per minute, 0: unlimited */
    double connect_timeout;       /* seconds (default 10) */
    double request_timeout;       /* seconds per attempt (default 120) */
    int max_retries;              /* retries after the first attempt (default 5; -1: none) */
    double backoff_initial;       /* seconds before the first retry (default 0.5) */
    double backoff_max;           /* cap on one wait (default 30) */
    double retry_budget;          /* total seconds per request, attempts and waits (default 600) */
    uint64_t seed;                /* seeds the backoff jitter (0: from the clock) */
    struct fewshot_cache *cache;  /* borrowed; NULL: no cache */
    int cache_mode;               /* a fewshot_llm_cache_mode (0: OFF; set it with cache) */
    const fewshot_llm_price *prices; /* n_prices entries, copied */
    size_t n_prices;
    const json_t *extra;          /* object merged into every request body (provider fields) */
    const char *const *headers;   /* extra "Name: value" headers, NULL-terminated, or NULL */
} fewshot_llm_options;

#define FEWSHOT_LLM_OPTIONS_INIT \
    {FEWSHOT_LLM_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, \
     0, NULL, 0, NULL, 0, NULL, NULL}
FEWSHOT_EXTERN(int) fewshot_llm_options_init(fewshot_llm_options *opts, unsigned int version);

/* "Not sent": the server's default applies. */
#define FEWSHOT_LLM_UNSET (-1.0)
#define FEWSHOT_LLM_NO_SEED INT64_MIN

#define FEWSHOT_LLM_PARAMS_VERSION 1
/* Per-request options. Use FEWSHOT_LLM_PARAMS_INIT: it marks every field as not sent. */
typedef struct fewshot_llm_params {
    unsigned int version;         /* FEWSHOT_LLM_PARAMS_VERSION */
    const char *model;            /* NULL: the client's model */
    double temperature;           /* FEWSHOT_LLM_UNSET: not sent */
    double top_p;                 /* FEWSHOT_LLM_UNSET: not sent */
    int max_tokens;               /* 0: not sent */
    const char *const *stop;      /* NULL-terminated stop sequences, or NULL */
    int64_t seed;                 /* FEWSHOT_LLM_NO_SEED: not sent */
    unsigned int n;               /* choices wanted; 0: not sent */
    const json_t *response_format;/* e.g. {"type":"json_schema","json_schema":{...}}; NULL */
    const json_t *extra;          /* object merged into the body last (provider fields) */
    unsigned int sample;          /* sample index: part of the cache key when temperature is
                                     not 0, so distinct samples are cached apart */
    int stream;                   /* 1: ask for server-sent events and assemble the reply */
    int no_cache;                 /* 1: bypass the cache for this request */
    /* streaming: called with each text delta as it arrives (may be NULL) */
    int (*on_delta)(void *user, const char *text, size_t len);
    void *on_delta_user;
} fewshot_llm_params;

#define FEWSHOT_LLM_PARAMS_INIT \
    {FEWSHOT_LLM_PARAMS_VERSION, NULL, FEWSHOT_LLM_UNSET, FEWSHOT_LLM_UNSET, 0, NULL, \
     FEWSHOT_LLM_NO_SEED, 0, NULL, NULL, 0, 0, 0, NULL, NULL}
FEWSHOT_EXTERN(int) fewshot_llm_params_init(fewshot_llm_params *params, unsigned int version);

/* Token counts and cost of one call (or a sum of calls). */
typedef struct fewshot_llm_usage {
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    uint64_t total_tokens;
    double cost;                  /* from the client's prices; 0 when the model has none */
    uint64_t calls;               /* 1 for one reply; the count in sums */
    uint64_t cache_hits;          /* 1 when served from the cache; the count in sums */
    uint64_t cached_tokens;       /* prompt tokens the server took from its prefix cache:
                                     usage.prompt_tokens_details.cached_tokens (OpenAI, vLLM,
                                     llama.cpp), else llama.cpp's timings.cache_n or
                                     tokens_cached; 0 when the server says nothing */
} fewshot_llm_usage;

/* Add b to *a (for sums per episode, per arm, per run). */
FEWSHOT_EXTERN(void) fewshot_llm_usage_add(fewshot_llm_usage *a, const fewshot_llm_usage *b);

/* The outcome of one request. Owned by the caller; free with fewshot_llm_reply_free().
 * Read-only: the library may add fields at the end. */
typedef struct fewshot_llm_reply {
    uint64_t id;                  /* as returned by fewshot_llm_submit() */
    void *user;                   /* as given to fewshot_llm_submit() */
    int endpoint;                 /* a fewshot_llm_endpoint */
    int status;                   /* 0, or a negative FEWSHOT_E* code */
    const char *error;            /* what went wrong (server message included), or "" */
    long http_status;             /* of the last attempt; 0 if none reached the server */
    const char *text;             /* first choice's message content or text, or "" */
    const char *finish_reason;    /* first choice's, or "" */
    int truncated;                /* finish_reason was "length" (status is 0: not an error) */
    size_t n_choices;
    const json_t *body;           /* the whole reply document (assembled when streamed) */
    fewshot_llm_usage usage;
    double latency;               /* seconds from the first attempt to completion, retries and
                                     waits included (queueing before it is not) */
    unsigned int attempts;        /* HTTP attempts made (0 for a cache hit) */
    int cache_hit;                /* served from the cache */
    char cache_key[65];           /* hex SHA-256 of the canonical request, "" if uncached */
    const char *model;            /* the model the request named */
} fewshot_llm_reply;

FEWSHOT_EXTERN(void) fewshot_llm_reply_free(fewshot_llm_reply *reply);

/* Text of choice i ("" when out of range). */
FEWSHOT_EXTERN(const char *) fewshot_llm_reply_choice(const fewshot_llm_reply *reply, size_t i);

/* Embedding i of an embeddings reply: writes up to cap floats into out (may be NULL to ask the
 * size) and its dimension into *dim. FEWSHOT_ENOTFOUND when there is no embedding i. */
FEWSHOT_EXTERN(int) fewshot_llm_reply_embedding(const fewshot_llm_reply *reply, size_t i,
                                                float *out, size_t cap, size_t *dim);

/* Create a client. opts may be NULL for all defaults. */
FEWSHOT_EXTERN(int) fewshot_llm_new(fewshot_llm **out, const fewshot_llm_options *opts);

/* Create a client from the `llm` section of a sweep configuration (see fewshot-llm(5)):
 * base_url, provider, model, api_key_env, azure, temperature, top_p, max_tokens, seed, stop,
 * concurrency, rpm, tpm, timeouts, retries, prices, extra, headers, cache {mode, path}.
 * Unknown keys are errors naming their JSON path; file (may be NULL) names the document in
 * errors. When the section configures a cache the client opens and owns it. The section's
 * request options become the defaults: see fewshot_llm_default_params(). */
FEWSHOT_EXTERN(int) fewshot_llm_new_from_config(fewshot_llm **out, const json_t *config,
                                                const char *file);

/* Check an `llm` section without creating a client (no network, no files). */
FEWSHOT_EXTERN(int) fewshot_llm_config_check(const json_t *config, const char *file);

/* The request options the configuration set (temperature, max_tokens, ...), for requests that
 * should follow the config. Strings in it live as long as the client. */
FEWSHOT_EXTERN(const fewshot_llm_params *) fewshot_llm_default_params(const fewshot_llm *llm);

FEWSHOT_EXTERN(void) fewshot_llm_free(fewshot_llm *llm);

/* The base URL and default model in use. */
FEWSHOT_EXTERN(const char *) fewshot_llm_base_url(const fewshot_llm *llm);
FEWSHOT_EXTERN(const char *) fewshot_llm_model(const fewshot_llm *llm);

/* Queue a request. input: messages (chat), prompt string (completion), string or array of
 * strings (embedding), NULL (models); it is copied. params may be NULL (the defaults).
 * user is returned in the reply. *id (may be NULL) receives the request's id. A cache hit
 * is queued as an already finished reply. Fails only on invalid arguments. */
FEWSHOT_EXTERN(int) fewshot_llm_submit(fewshot_llm *llm, int endpoint, const json_t *input,
                                       const fewshot_llm_params *params, void *user,
                                       uint64_t *id);

/* Drive transfers for up to timeout_ms milliseconds (0: do not wait, -1: wait until a reply
 * is ready) and hand out one finished reply in *out. Returns 1 with a reply, 0 when none is
 * ready yet (or nothing is pending), negative on an internal failure. A reply's own failure
 * is in reply->status, not in the return value. */
FEWSHOT_EXTERN(int) fewshot_llm_poll(fewshot_llm *llm, int timeout_ms, fewshot_llm_reply **out);

/* Requests submitted and not yet handed out by fewshot_llm_poll(). */
FEWSHOT_EXTERN(size_t) fewshot_llm_pending(const fewshot_llm *llm);

/* Synchronous calls: submit, then poll until this reply is done. Returns reply->status;
 * *out is set even on failure (free it). Replies of other submitted requests that finish
 * meanwhile are kept for fewshot_llm_poll(). */
FEWSHOT_EXTERN(int) fewshot_llm_call(fewshot_llm *llm, int endpoint, const json_t *input,
                                     const fewshot_llm_params *params, fewshot_llm_reply **out);
FEWSHOT_EXTERN(int) fewshot_llm_chat(fewshot_llm *llm, const json_t *messages,
                                     const fewshot_llm_params *params, fewshot_llm_reply **out);
FEWSHOT_EXTERN(int) fewshot_llm_complete(fewshot_llm *llm, const char *prompt,
                                         const fewshot_llm_params *params,
                                         fewshot_llm_reply **out);
FEWSHOT_EXTERN(int) fewshot_llm_embed(fewshot_llm *llm, const json_t *input,
                                      const fewshot_llm_params *params, fewshot_llm_reply **out);
FEWSHOT_EXTERN(int) fewshot_llm_models(fewshot_llm *llm, fewshot_llm_reply **out);

/* Build a chat message array [{"role":"system",...}, {"role":"user",...}] (system may be
 * NULL). New reference, or NULL when out of memory or a text is not valid UTF-8. */
FEWSHOT_EXTERN(json_t *) fewshot_llm_messages(const char *system, const char *user);

/* Counters since the client was created. */
typedef struct fewshot_llm_stats {
    uint64_t submitted;          /* requests submitted */
    uint64_t completed;          /* replies handed out (success or failure) */
    uint64_t failed;             /* replies with a non-zero status */
    uint64_t http_requests;      /* HTTP attempts sent */
    uint64_t retries;            /* attempts after the first */
    uint64_t cache_hits;
    uint64_t truncated;
    uint64_t max_in_flight_seen; /* the most requests on the wire at once */
    fewshot_llm_usage usage;     /* summed over completed replies */
} fewshot_llm_stats;

FEWSHOT_EXTERN(void) fewshot_llm_get_stats(const fewshot_llm *llm, fewshot_llm_stats *out);

/* Replies the cache failed to store (a full disk, ...); *first (may be NULL) gets the first
 * such error, or "", valid while the client lives. A separate call, not a stats field, so
 * fewshot_llm_stats keeps its size for callers built against it. */
FEWSHOT_EXTERN(uint64_t) fewshot_llm_cache_errors(const fewshot_llm *llm, const char **first);

/* The cost of a usage under the client's prices for model (0 when it has none). */
FEWSHOT_EXTERN(double) fewshot_llm_cost(const fewshot_llm *llm, const char *model,
                                        uint64_t prompt_tokens, uint64_t completion_tokens);

/* The same, with cached_tokens of the prompt tokens at the model's cached-input price. */
FEWSHOT_EXTERN(double) fewshot_llm_cost_cached(const fewshot_llm *llm, const char *model,
                                               uint64_t prompt_tokens, uint64_t cached_tokens,
                                               uint64_t completion_tokens);

/* The price of model among prices (exact name, else "*"), or NULL. */
FEWSHOT_EXTERN(const fewshot_llm_price *) fewshot_llm_price_find(const fewshot_llm_price *prices,
                                                                 size_t n, const char *model);

/* Cost in currency units of a usage under price (NULL: 0). */
FEWSHOT_EXTERN(double) fewshot_llm_price_cost(const fewshot_llm_price *price,
                                              uint64_t prompt_tokens, uint64_t cached_tokens,
                                              uint64_t completion_tokens);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_LLM_H */
