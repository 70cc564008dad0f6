/*
 * Internal pieces of the LLM client shared by its files (llm*.c). Not installed.
 *   llm.c            the client object, submit/poll, synchronous wrappers, stats
 *   llm_request.c    request bodies, URLs, headers, secret redaction
 *   llm_transport.c  the curl multi loop: starting attempts, collecting their outcome
 *   llm_retry.c      which failures are retried, Retry-After, backoff with jitter
 *   llm_ratelimit.c  requests/tokens per minute
 *   llm_sse.c        server-sent events parser and stream assembly
 *   llm_usage.c      reading replies: text, finish reason, usage, cost
 *   llm_config.c     a client from the `llm` section of a config
 */
#ifndef FEWSHOT_LLM_INTERNAL_H
#define FEWSHOT_LLM_INTERNAL_H

#include <curl/curl.h>
#include <jansson.h>

#include "internal.h"
#include "fewshot/error.h"
#include "fewshot/llm.h"
#include "fewshot/cache.h"

/* ---- growable byte buffer ---- */
typedef struct llm_buf {
    char *data;
    size_t len, cap;
} llm_buf;
FEWSHOT_HIDDEN int llm_buf_append(llm_buf *b, const char *p, size_t n);
FEWSHOT_HIDDEN void llm_buf_free(llm_buf *b);

/* ---- SSE (text/event-stream) parser: feed bytes in any split; events come out whole ---- */
typedef int (*llm_sse_event_fn)(void *user, const char *event, const char *data, size_t len);
typedef struct llm_sse {
    llm_buf line;          /* the current, unfinished line */
    llm_buf data;          /* data lines of the current event, joined by \n */
    char event[64];        /* the event field ("" = message) */
    int last_cr;           /* previous chunk ended in \r: a leading \n belongs to it */
    int has_data;
    llm_sse_event_fn fn;
    void *user;
} llm_sse;
FEWSHOT_HIDDEN void llm_sse_init(llm_sse *p, llm_sse_event_fn fn, void *user);
/* Returns 0, or the first non-zero value the callback returned. */
FEWSHOT_HIDDEN int llm_sse_feed(llm_sse *p, const char *bytes, size_t n);
/* End of stream: an event without its blank line is dispatched. */
FEWSHOT_HIDDEN int llm_sse_finish(llm_sse *p);
FEWSHOT_HIDDEN void llm_sse_free(llm_sse *p);

/* Assembles streamed chunks (chat or completion) into the document a non-streamed call
 * would have returned. */
typedef struct llm_stream {
    llm_sse sse;
    int endpoint;
    json_t *doc;           /* the assembled reply, built as chunks arrive */
    llm_buf *texts;        /* per choice */
    char **finish;         /* per choice */
    size_t n;
    int done;              /* [DONE] seen */
    char *error;           /* an "error" event's message */
    int (*on_delta)(void *user, const char *text, size_t len);
    void *on_delta_user;
} llm_stream;
FEWSHOT_HIDDEN void llm_stream_init(llm_stream *s, int endpoint);
FEWSHOT_HIDDEN int llm_stream_feed(llm_stream *s, const char *bytes, size_t n);
/* The assembled document (new reference) or NULL with *why set. */
FEWSHOT_HIDDEN json_t *llm_stream_result(llm_stream *s, const char **why);
FEWSHOT_HIDDEN void llm_stream_free(llm_stream *s);

/* ---- rate limiting ---- */
typedef struct llm_bucket {
    double rate;           /* units per second; 0: unlimited */
    double capacity;
    double level;
    double updated;        /* time of the last refill */
} llm_bucket;
FEWSHOT_HIDDEN void llm_bucket_init(llm_bucket *b, double per_minute, double now);
/* 0 when `amount` may be taken now (and takes it), else the seconds to wait. */
FEWSHOT_HIDDEN double llm_bucket_take(llm_bucket *b, double amount, double now);
/* Give back (positive) or charge (negative) units after the fact. */
FEWSHOT_HIDDEN void llm_bucket_adjust(llm_bucket *b, double amount);

/* ---- retry policy ---- */
typedef struct llm_retry_policy {
    int max_retries;
    double initial, cap, budget;
} llm_retry_policy;
/* Is this outcome worth another attempt? curl_code/http_status of the attempt, parse_failed
 * when a 2xx body could not be read. */
FEWSHOT_HIDDEN int llm_retryable(CURLcode curl_code, long http_status, int parse_failed);
/* Seconds to wait before attempt number `attempt` (1 = the first retry): Retry-After when the
 * server gave one (>= 0), else capped exponential backoff with equal jitter. */
FEWSHOT_HIDDEN double llm_backoff(const llm_retry_policy *p, unsigned int attempt,
                                  double retry_after, uint64_t *rng);
/* Parse a Retry-After (seconds or HTTP date) or retry-after-ms header value; -1 if invalid. */
FEWSHOT_HIDDEN double llm_parse_retry_after(const char *value, int millis, double now_unix);

/* ---- one request ---- */
enum { REQ_WAITING, REQ_IN_FLIGHT, REQ_DONE };
typedef struct llm_req {
    struct llm_req *next;
    struct llm_req *fl_prev, *fl_next;  /* the in-flight list */
    fewshot_llm *llm;
    uint64_t id;
    void *user;
    int endpoint;
    int state;
    char *url;
    char *body_text;       /* NULL for GET */
    char *model;
    char key[65];
    int cache_store;       /* store the reply under key when it succeeds */
    int stream;
    int (*on_delta)(void *user, const char *text, size_t len);
    void *on_delta_user;
    double est_tokens;
    double t_submit, t_start, t_ready, deadline;
    unsigned int attempts;
    CURL *easy;
    llm_buf body;          /* reply bytes of the current attempt */
    llm_stream *sse;       /* when streaming */
    double retry_after;    /* from the current attempt's headers, -1 if none */
    fewshot_llm_reply *reply;
    char *last_error;
    int last_status;
} llm_req;

/* ---- the client ---- */
struct fewshot_llm {
    char *base_url, *provider, *model, *api_key, *azure_deployment, *azure_api_version;
    int azure;
    unsigned int max_in_flight;
    double connect_timeout, request_timeout;
    llm_retry_policy retry;
    uint64_t rng;
    fewshot_cache *cache;
    int own_cache;
    int cache_mode;
    uint64_t cache_errors;      /* replies the cache failed to store */
    char cache_error[512];      /* the first such failure (fewshot_llm_cache_errors) */
    fewshot_llm_price *prices;
    size_t n_prices;
    json_t *extra;
    struct curl_slist *headers;
    CURLM *multi;
    CURL **easy_pool;
    size_t n_easy_pool, cap_easy_pool;
    llm_bucket rpm, tpm;
    /* queues: waiting (FIFO by submit / ready time), done (FIFO) */
    llm_req *wait_head, *wait_tail, *done_head, *done_tail, *flight;
    size_t n_waiting, n_in_flight, n_done;
    uint64_t next_id;
    fewshot_llm_stats stats;
    /* defaults from a config */
    fewshot_llm_params defaults;
    json_t *defaults_store; /* keeps the strings and JSON the defaults point into */
    const char **default_stop;
    fewshot__digest *key_digest;    /* cache keys of requests submitted without their own */
    fewshot__jbuf canon;            /* the last request's sorted text, its buffer reused: a
                                       reply from the cache needs no copy of it */
};

FEWSHOT_HIDDEN double llm_now(void);

/* llm_request.c */
FEWSHOT_HIDDEN const char *llm_endpoint_path(int endpoint);
FEWSHOT_HIDDEN int llm_build_body(const fewshot_llm *llm, int endpoint, const json_t *input,
                                  const fewshot_llm_params *p, json_t **out);
FEWSHOT_HIDDEN char *llm_build_url(const fewshot_llm *llm, int endpoint, const char *model);
FEWSHOT_HIDDEN int llm_build_headers(fewshot_llm *llm, const char *const *extra);
/* Replace every occurrence of the API key in s (in place) with "[REDACTED]"-style stars. */
FEWSHOT_HIDDEN void llm_redact(const fewshot_llm *llm, char *s);
/* A rough token estimate of a body (characters / 4, plus max_tokens). */
FEWSHOT_HIDDEN double llm_estimate_tokens(const json_t *body, const char *text);

/* llm_usage.c: fill reply fields from its body; returns 0 or FEWSHOT_EPARSE with *why. */
FEWSHOT_HIDDEN int llm_reply_read(fewshot_llm *llm, fewshot_llm_reply *r, json_t *body,
                                  const char **why);
FEWSHOT_HIDDEN char *llm_server_message(const char *body, size_t len);
FEWSHOT_HIDDEN fewshot_llm_reply *llm_reply_new(const llm_req *q);
FEWSHOT_HIDDEN void llm_reply_set_error(fewshot_llm_reply *r, int status, const char *msg);

/* llm_transport.c */
FEWSHOT_HIDDEN int llm_transport_init(fewshot_llm *llm);
FEWSHOT_HIDDEN void llm_transport_free(fewshot_llm *llm);
/* Start whatever may start now; *next_wake gets the seconds until something queued may
 * start (or a large number). */
FEWSHOT_HIDDEN int llm_transport_start(fewshot_llm *llm, double now, double *next_wake);
/* Run transfers, finish attempts. */
FEWSHOT_HIDDEN int llm_transport_perform(fewshot_llm *llm);
FEWSHOT_HIDDEN int llm_transport_wait(fewshot_llm *llm, int timeout_ms);
FEWSHOT_HIDDEN void llm_req_free(llm_req *q);

/* llm.c: queue handling used by the transport */
FEWSHOT_HIDDEN void llm_queue_waiting(fewshot_llm *llm, llm_req *q);
FEWSHOT_HIDDEN void llm_finish(fewshot_llm *llm, llm_req *q);

#endif
