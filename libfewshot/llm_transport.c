/*
 * The transport: one curl multi handle carries every attempt of every request. Queued
 * requests start when the in-flight limit and the rate limits allow; a finished attempt is
 * read, and either completes its request or goes back to the queue with a time before which
 * it must not start again (backoff or Retry-After). Easy handles are pooled; connections live
 * in the multi handle's cache and are reused across requests.
 */
#define _GNU_SOURCE 1
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fewshot/version.h"
#include "llm_internal.h"

#define MAX_REPLY_BYTES (64u << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void init_curl(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

int llm_transport_init(fewshot_llm *llm)
{
    pthread_once(&curl_once, init_curl);
    if (curl_init_rc != CURLE_OK)
        return fewshot_error_set(FEWSHOT_ENET, "libcurl could not be initialized: %s",
                                 curl_easy_strerror(curl_init_rc));
    llm->multi = curl_multi_init();
    if (!llm->multi)
        return fewshot_error_set(FEWSHOT_ENOMEM, "curl_multi_init failed");
    curl_multi_setopt(llm->multi, CURLMOPT_MAXCONNECTS, (long)llm->max_in_flight + 4);
    curl_multi_setopt(llm->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)llm->max_in_flight);
    curl_multi_setopt(llm->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return 0;
}

void llm_transport_free(fewshot_llm *llm)
{
    for (size_t i = 0; i < llm->n_easy_pool; i++)
        curl_easy_cleanup(llm->easy_pool[i]);
    free(llm->easy_pool);
    llm->easy_pool = NULL;
    llm->n_easy_pool = 0;
    if (llm->multi)
        curl_multi_cleanup(llm->multi);
    llm->multi = NULL;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    llm_req *q = userdata;
    size_t n = size * nmemb;
    if (q->body.len + n > MAX_REPLY_BYTES)
        return 0;
    if (llm_buf_append(&q->body, ptr, n))
        return 0;
    if (q->sse) {
        long status = 0;
        curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300 && llm_stream_feed(q->sse, ptr, n) == FEWSHOT_EUSER)
            return 0;
    }
    return n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    llm_req *q = userdata;
    size_t n = size * nitems;
    char line[256];
    if (n >= sizeof line)
        return n;
    memcpy(line, buf, n);
    line[n] = '\0';
    if (strncmp(line, "HTTP/", 5) == 0) {
        q->retry_after = -1; /* a new response (after a redirect or 100-continue) */
    } else if (strncasecmp(line, "retry-after-ms:", 15) == 0) {
        double v = llm_parse_retry_after(line + 15, 1, (double)time(NULL));
        if (v >= 0)
            q->retry_after = v;
    } else if (strncasecmp(line, "retry-after:", 12) == 0 && q->retry_after < 0) {
        char *end = line + strlen(line);
        while (end > line && (end[-1] == '\r' || end[-1] == '\n'))
            *--end = '\0';
        q->retry_after = llm_parse_retry_after(line + 12, 0, (double)time(NULL));
    }
    return n;
}

static CURL *easy_get(fewshot_llm *llm)
{
    if (llm->n_easy_pool > 0) {
        CURL *e = llm->easy_pool[--llm->n_easy_pool];
        curl_easy_reset(e);
        return e;
    }
    return curl_easy_init();
}

static void easy_put(fewshot_llm *llm, CURL *e)
{
    if (llm->n_easy_pool == llm->cap_easy_pool) {
        size_t cap = llm->cap_easy_pool ? llm->cap_easy_pool * 2 : 16;
        CURL **p = realloc(llm->easy_pool, cap * sizeof *p);
        if (!p) {
            curl_easy_cleanup(e);
            return;
        }
        llm->easy_pool = p;
        llm->cap_easy_pool = cap;
    }
    llm->easy_pool[llm->n_easy_pool++] = e;
}

static int start_attempt(fewshot_llm *llm, llm_req *q, double now)
{
    CURL *e = easy_get(llm);
    if (!e)
        return fewshot_error_set(FEWSHOT_ENOMEM, "curl_easy_init failed");
    q->easy = e;
    q->body.len = 0;
    q->retry_after = -1;
    if (q->stream) {
        if (q->sse)
            llm_stream_free(q->sse);
        else
            q->sse = malloc(sizeof *q->sse);
        if (!q->sse)
            return FEWSHOT_ENOMEM;
        llm_stream_init(q->sse, q->endpoint);
        q->sse->on_delta = q->on_delta;
        q->sse->on_delta_user = q->on_delta_user;
    }
    double left = q->deadline - now;
    double timeout = llm->request_timeout < left ? llm->request_timeout : left;
    if (timeout < 0.001)
        timeout = 0.001;
    curl_easy_setopt(e, CURLOPT_URL, q->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, q);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, q);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, q);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, llm->headers);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ceil(timeout * 1000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)ceil(llm->connect_timeout * 1000));
    curl_easy_setopt(e, CURLOPT_USERAGENT, "libfewshot/" FEWSHOT_VERSION);
    if (q->body_text) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->body_text);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(q->body_text));
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    CURLMcode mc = curl_multi_add_handle(llm->multi, e);
    if (mc != CURLM_OK) {
        easy_put(llm, e);
        q->easy = NULL;
        return fewshot_error_set(FEWSHOT_ENET, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
    }
    if (q->attempts == 0)
        q->t_start = now;
    q->fl_prev = NULL;
    q->fl_next = llm->flight;
    if (llm->flight)
        llm->flight->fl_prev = q;
    llm->flight = q;
    q->attempts++;
    q->state = REQ_IN_FLIGHT;
    llm->stats.http_requests++;
    if (q->attempts > 1)
        llm->stats.retries++;
    llm->n_in_flight++;
    if (llm->n_in_flight > llm->stats.max_in_flight_seen)
        llm->stats.max_in_flight_seen = llm->n_in_flight;
    return 0;
}

int llm_transport_start(fewshot_llm *llm, double now, double *next_wake)
{
    double wake = 1e9;
    llm_req *prev = NULL, *q = llm->wait_head;
    while (q && llm->n_in_flight < llm->max_in_flight) {
        llm_req *next = q->next;
        if (q->t_ready > now) {
            if (q->t_ready - now < wake)
                wake = q->t_ready - now;
            prev = q;
            q = next;
            continue;
        }
        double w = llm_bucket_take(&llm->rpm, 1, now);
        if (w == 0) {
            w = llm_bucket_take(&llm->tpm, q->est_tokens, now);
            if (w > 0)
                llm_bucket_adjust(&llm->rpm, 1);
        }
        if (w > 0) {
            if (w < wake)
                wake = w;
            break; /* first come, first served under the rate limits */
        }
        /* unlink and start */
        if (prev)
            prev->next = next;
        else
            llm->wait_head = next;
        if (llm->wait_tail == q)
            llm->wait_tail = prev;
        q->next = NULL;
        llm->n_waiting--;
        int rc = start_attempt(llm, q, now);
        if (rc) {
            llm_reply_set_error(q->reply ? q->reply : (q->reply = llm_reply_new(q)), rc,
                                fewshot_error_last()->message);
            llm_finish(llm, q);
        }
        q = next;
    }
    *next_wake = wake;
    return 0;
}

/* An attempt failed with status code and message msg (owned): retry it or finish it. */
static void attempt_failed(fewshot_llm *llm, llm_req *q, int code, char *msg, int retryable,
                           double now)
{
    llm_redact(llm, msg);
    int budget_spent = now >= q->deadline - 1e-3;
    if (retryable && budget_spent) {
        size_t size = (msg ? strlen(msg) : 0) + 128;
        char *full = malloc(size);
        if (full)
            snprintf(full, size, "%s (gave up after %u attempts: the retry budget of %gs is "
                     "spent)", msg ? msg : "", q->attempts, llm->retry.budget);
        free(msg);
        msg = full;
    } else if (retryable
               && (llm->retry.max_retries < 0 ? 0 : (int)q->attempts <= llm->retry.max_retries)) {
        double wait = llm_backoff(&llm->retry, q->attempts, q->retry_after, &llm->rng);
        if (now + wait < q->deadline) {
            free(q->last_error);
            q->last_error = msg;
            q->last_status = code;
            q->t_ready = now + wait;
            q->state = REQ_WAITING;
            llm_queue_waiting(llm, q);
            return;
        }
        size_t size = (msg ? strlen(msg) : 0) + 160;
        char *full = malloc(size);
        if (full)
            snprintf(full, size, "%s (gave up after %u attempts: the next wait of %.3gs would "
                     "pass the retry budget of %gs)", msg ? msg : "", q->attempts, wait,
                     llm->retry.budget);
        free(msg);
        msg = full;
    } else if (q->attempts > 1) {
        size_t size = (msg ? strlen(msg) : 0) + 64;
        char *full = malloc(size);
        if (full)
            snprintf(full, size, "%s (after %u attempts)", msg ? msg : "", q->attempts);
        free(msg);
        msg = full;
    }
    if (!q->reply)
        q->reply = llm_reply_new(q);
    if (q->reply)
        llm_reply_set_error(q->reply, code, msg);
    free(msg);
    llm_finish(llm, q);
}

static char *format(const char *fmt, ...) FEWSHOT_PRINTF(1, 2);
static char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static void attempt_done(fewshot_llm *llm, llm_req *q, CURLcode result)
{
    double now = llm_now();
    long status = 0;
    curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(llm->multi, q->easy);
    easy_put(llm, q->easy);
    if (q->fl_prev)
        q->fl_prev->fl_next = q->fl_next;
    else
        llm->flight = q->fl_next;
    if (q->fl_next)
        q->fl_next->fl_prev = q->fl_prev;
    q->fl_prev = q->fl_next = NULL;
    q->easy = NULL;
    llm->n_in_flight--;
    if (!q->reply)
        q->reply = llm_reply_new(q);
    if (!q->reply) {
        llm_finish(llm, q);
        return;
    }
    q->reply->http_status = status;
    q->reply->attempts = q->attempts;

    if (result != CURLE_OK) {
        llm_bucket_adjust(&llm->tpm, q->est_tokens);
        int code = result == CURLE_OPERATION_TIMEDOUT ? FEWSHOT_ETIMEOUT : FEWSHOT_ENET;
        if (result == CURLE_WRITE_ERROR && q->sse && q->sse->error)
            attempt_failed(llm, q, FEWSHOT_EUSER, format("%s", q->sse->error), 0, now);
        else
            attempt_failed(llm, q, code, format("%s: %s", q->url, curl_easy_strerror(result)),
                           llm_retryable(result, 0, 0), now);
        return;
    }
    if (status < 200 || status >= 300) {
        llm_bucket_adjust(&llm->tpm, q->est_tokens);
        char *server = llm_server_message(q->body.data, q->body.len);
        char *msg = format("HTTP %ld from %s: %s", status, q->url,
                           server && *server ? server : "(no message)");
        free(server);
        attempt_failed(llm, q, FEWSHOT_EHTTP, msg, llm_retryable(CURLE_OK, status, 0), now);
        return;
    }
    json_t *doc;
    const char *why = NULL;
    json_error_t jerr;
    if (q->sse) {
        doc = llm_stream_result(q->sse, &why);
    } else {
        doc = json_loadb(q->body.data ? q->body.data : "", q->body.len, 0, &jerr);
        if (!doc)
            why = jerr.text;
    }
    int rc = doc ? llm_reply_read(llm, q->reply, doc, &why) : FEWSHOT_EPARSE;
    if (rc) {
        char *msg = format("%s: malformed reply: %s", q->url, why ? why : "unreadable");
        attempt_failed(llm, q, rc == FEWSHOT_EUSER ? FEWSHOT_EUSER : FEWSHOT_EPARSE, msg,
                       rc != FEWSHOT_EUSER && llm_retryable(CURLE_OK, status, 1), now);
        return;
    }
    /* correct the token estimate with what the server counted */
    double used = (double)q->reply->usage.total_tokens;
    if (used > 0)
        llm_bucket_adjust(&llm->tpm, q->est_tokens - used);
    q->reply->status = 0;
    q->reply->error = "";
    if (q->cache_store && llm->cache && llm->cache_mode == FEWSHOT_LLM_CACHE_READWRITE &&
        fewshot_cache_put(llm->cache, q->key, llm_endpoint_path(q->endpoint), q->model,
                          q->reply->body, q->reply->usage.prompt_tokens,
                          q->reply->usage.completion_tokens, now - q->t_start) != 0) {
        /* the reply itself is fine; the caller learns from the stats that it was not kept */
        if (llm->cache_errors++ == 0)
            fewshot_error_format(llm->cache_error, sizeof llm->cache_error);
    }
    llm_finish(llm, q);
}

int llm_transport_perform(fewshot_llm *llm)
{
    int running = 0;
    CURLMcode mc = curl_multi_perform(llm->multi, &running);
    if (mc != CURLM_OK)
        return fewshot_error_set(FEWSHOT_ENET, "curl_multi_perform: %s", curl_multi_strerror(mc));
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(llm->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        llm_req *q = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
        if (q)
            attempt_done(llm, q, m->data.result);
    }
    return 0;
}

int llm_transport_wait(fewshot_llm *llm, int timeout_ms)
{
    CURLMcode mc = curl_multi_poll(llm->multi, NULL, 0, timeout_ms, NULL);
    if (mc != CURLM_OK)
        return fewshot_error_set(FEWSHOT_ENET, "curl_multi_poll: %s", curl_multi_strerror(mc));
    return 0;
}
