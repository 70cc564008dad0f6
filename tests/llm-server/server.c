/*
 * llm-server: an OpenAI-compatible HTTP server for tests, with faults on demand.
 *
 *   llm-server [--port N] [--port-file FILE] [--mode MODE] [--delay-ms N] [--gain G]
 *              [--answer MODE] [--key-env NAME] [--log FILE] [--stats-file FILE] [--dim N] [--lifetime S]
 *              [--list-modes]
 *
 * Listens on 127.0.0.1 (port 0: any free port), prints the port on stdout and writes it to
 * --port-file. Answers /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models and
 * GET /stats. A URL may start with a spec that overrides the flags for that request:
 *   http://127.0.0.1:PORT/mode=status,code=429,retry_after=1,fail=2/v1/chat/completions
 * keys: mode, then, fail, delay (ms), code, retry_after (s), retry_after_ms, gain, dim.
 * With fail=N the first N requests under that spec get `mode`, later ones `then` (echo).
 * Streaming requests ("stream": true) are answered as server-sent events, sent in small
 * pieces so that events are split across network reads.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>

#include "modes.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_RESULT;
#else
typedef enum MHD_Result MHD_RESULT;
#endif

static spec defaults = {"echo", "echo", -1, 0, 500, -1, -1, 0.5, 8, 0, ""};
static const char *key_env;
static FILE *log_file;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int stopping;
static atomic_long n_requests, n_chat, n_completions, n_embeddings, n_models, n_stream;
static atomic_long in_flight, max_in_flight, n_auth, n_faults;

/* fail=N counters per spec string */
typedef struct counter {
    char spec[256];
    int count;
} counter;
static counter counters[256];
static size_t n_counters;

static int count_spec(const char *s)
{
    pthread_mutex_lock(&lock);
    int n = -1;
    for (size_t i = 0; i < n_counters; i++)
        if (strcmp(counters[i].spec, s) == 0) {
            n = ++counters[i].count;
            break;
        }
    if (n < 0 && n_counters < 256) {
        snprintf(counters[n_counters].spec, sizeof counters[n_counters].spec, "%s", s);
        counters[n_counters++].count = n = 1;
    }
    pthread_mutex_unlock(&lock);
    return n;
}

static int parse_spec(const char *text, spec *s)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",;", &save); kv; kv = strtok_r(NULL, ",;", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            return -1;
        *eq = '\0';
        const char *v = eq + 1;
        if (strcmp(kv, "mode") == 0)
            snprintf(s->mode, sizeof s->mode, "%s", v);
        else if (strcmp(kv, "then") == 0)
            snprintf(s->then, sizeof s->then, "%s", v);
        else if (strcmp(kv, "fail") == 0)
            s->fail = atoi(v);
        else if (strcmp(kv, "delay") == 0)
            s->delay_ms = atoi(v);
        else if (strcmp(kv, "code") == 0)
            s->code = atoi(v);
        else if (strcmp(kv, "retry_after") == 0)
            s->retry_after = atof(v);
        else if (strcmp(kv, "retry_after_ms") == 0)
            s->retry_after_ms = atoi(v);
        else if (strcmp(kv, "gain") == 0)
            s->gain = atof(v);
        else if (strcmp(kv, "dim") == 0)
            s->dim = atoi(v);
        else if (strcmp(kv, "tokens") == 0)
            s->tokens = strtoll(v, NULL, 10);
        else
            return -1;
    }
    return 0;
}

/* Sleep ms milliseconds (to an absolute deadline, so steps do not add up their overshoot),
 * waking early when the server stops. */
static void nap(long ms)
{
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += ms / 1000;
    end.tv_nsec += (ms % 1000) * 1000000L;
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    while (!stopping) {
        struct timespec now, step;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
            return;
        step = now;
        step.tv_nsec += 50000000L; /* check the stop flag every 50 ms */
        if (step.tv_nsec >= 1000000000L) {
            step.tv_sec++;
            step.tv_nsec -= 1000000000L;
        }
        if (step.tv_sec > end.tv_sec || (step.tv_sec == end.tv_sec && step.tv_nsec > end.tv_nsec))
            step = end;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &step, NULL);
    }
}

typedef struct conn {
    char *body;
    size_t len;
    int counted;
} conn;

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    conn *k = *con_cls;
    if (k) {
        if (k->counted)
            atomic_fetch_sub(&in_flight, 1);
        free(k->body);
        free(k);
        *con_cls = NULL;
    }
}

static MHD_RESULT send_json(struct MHD_Connection *c, int status, json_t *doc, double retry_after,
                            int retry_after_ms)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text,
                                                             MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    char v[64];
    if (retry_after >= 0) {
        snprintf(v, sizeof v, "%g", retry_after);
        MHD_add_response_header(r, "Retry-After", v);
    }
    if (retry_after_ms >= 0) {
        snprintf(v, sizeof v, "%d", retry_after_ms);
        MHD_add_response_header(r, "retry-after-ms", v);
    }
    MHD_RESULT ret = MHD_queue_response(c, (unsigned int)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Callback responses: send `data` in pieces of `step` bytes, optionally failing halfway. */
typedef struct piecewise {
    char *data;
    size_t len, step, stop_at;
} piecewise;

static ssize_t piece_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    piecewise *p = cls;
    if (pos >= p->stop_at)
        return pos >= p->len ? MHD_CONTENT_READER_END_OF_STREAM
                             : MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = p->stop_at - (size_t)pos;
    if (n > p->step)
        n = p->step;
    if (n > max)
        n = max;
    memcpy(buf, p->data + pos, n);
    if (p->step < 64)
        nap(1); /* let each piece leave on its own */
    return (ssize_t)n;
}

static void piece_free(void *cls)
{
    piecewise *p = cls;
    free(p->data);
    free(p);
}

static MHD_RESULT send_pieces(struct MHD_Connection *c, char *data, size_t len, size_t step,
                              size_t stop_at, const char *type, uint64_t announced)
{
    piecewise *p = malloc(sizeof *p);
    p->data = data;
    p->len = len;
    p->step = step;
    p->stop_at = stop_at;
    struct MHD_Response *r = MHD_create_response_from_callback(announced, 1024, piece_reader, p,
                                                               piece_free);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_RESULT ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* Turn a completion reply into server-sent events, a few characters per chunk. */
static char *to_sse(const request *q, json_t *doc, size_t *len)
{
    int chat = strcmp(q->endpoint, "chat/completions") == 0;
    json_t *c0 = json_array_get(json_object_get(doc, "choices"), 0);
    const char *text = chat ? json_string_value(json_object_get(json_object_get(c0, "message"),
                                                                "content"))
                            : json_string_value(json_object_get(c0, "text"));
    const char *finish = json_string_value(json_object_get(c0, "finish_reason"));
    size_t cap = 4096, n = 0;
    char *out = malloc(cap);
    out[0] = '\0';
/* doc_ is evaluated once: it owns what it packs (packing it twice leaked every event) */
#define EMIT(doc_)                                                                 \
    do {                                                                           \
        json_t *d_ = (doc_);                                                       \
        char *s_ = d_ ? json_dumps(d_, JSON_COMPACT) : strdup("{}");               \
        json_decref(d_);                                                           \
        size_t m_ = strlen(s_) + 16;                                               \
        while (n + m_ >= cap)                                                      \
            out = realloc(out, cap *= 2);                                          \
        n += (size_t)sprintf(out + n, "data: %s\n\n", s_);                         \
        free(s_);                                                                  \
    } while (0)
    size_t tl = text ? strlen(text) : 0;
    /* no choice at all (mode=empty): no content events, only usage and [DONE] */
    for (size_t i = 0; c0 && (i < tl || i == 0); i += 3) {
        char piece[4] = {0};
        if (tl)
            memcpy(piece, text + i, tl - i < 3 ? tl - i : 3);
        json_t *choice = json_pack("{s:i}", "index", 0);
        if (chat)
            json_object_set_new(choice, "delta", json_pack("{s:s}", "content", piece));
        else
            json_object_set_new(choice, "text", json_string(piece));
        json_object_set_new(choice, "finish_reason",
                            i + 3 >= tl && finish ? json_string(finish) : json_null());
        EMIT(json_pack("{s:s,s:s,s:O*,s:[o]}", "id", "cmpl-test", "object",
                       chat ? "chat.completion.chunk" : "text_completion", "model",
                       json_object_get(doc, "model"), "choices", choice));
        if (!tl)
            break;
    }
    EMIT(json_pack("{s:s,s:[],s:O*}", "id", "cmpl-test", "choices", "usage",
                   json_object_get(doc, "usage")));
#undef EMIT
    while (n + 16 >= cap)
        out = realloc(out, cap *= 2);
    n += (size_t)sprintf(out + n, ": keep-alive comment\r\ndata: [DONE]\r\n\r\n");
    *len = n;
    return out;
}

static json_t *embeddings(const json_t *body, int dim)
{
    json_t *input = json_object_get(body, "input");
    json_t *list = json_is_array(input) ? json_incref(input) : json_pack("[O]", input);
    json_t *data = json_array();
    size_t i;
    json_t *s;
    size_t tokens = 0;
    json_array_foreach(list, i, s) {
        const char *t = json_string_value(s);
        uint64_t h = 1469598103934665603ULL;
        for (const char *p = t ? t : ""; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        tokens += (t ? strlen(t) : 0) / 4 + 1;
        json_t *v = json_array();
        double norm = 0, x[1024];
        int d = dim > 0 && dim <= 1024 ? dim : 8;
        for (int k = 0; k < d; k++) {
            x[k] = sin((double)(h % 100003) + k * 1.7);
            norm += x[k] * x[k];
        }
        for (int k = 0; k < d; k++)
            json_array_append_new(v, json_real(x[k] / sqrt(norm)));
        json_array_append_new(data, json_pack("{s:s,s:I,s:o}", "object", "embedding", "index",
                                              (json_int_t)i, "embedding", v));
    }
    json_decref(list);
    return json_pack("{s:s,s:o,s:s,s:{s:I,s:I}}", "object", "list", "data", data, "model",
                     "fewshot-test-embed", "usage", "prompt_tokens", (json_int_t)tokens,
                     "total_tokens", (json_int_t)tokens);
}

static json_t *stats_doc(void)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
                     "requests", (json_int_t)n_requests, "chat", (json_int_t)n_chat,
                     "completions", (json_int_t)n_completions,
                     "embeddings", (json_int_t)n_embeddings, "models", (json_int_t)n_models,
                     "stream", (json_int_t)n_stream, "max_in_flight", (json_int_t)max_in_flight,
                     "with_key", (json_int_t)n_auth, "faults", (json_int_t)n_faults);
}

static const char *auth_kind(struct MHD_Connection *c, int *ok)
{
    const char *bearer = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *apikey = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "api-key");
    const char *key = key_env ? getenv(key_env) : NULL;
    *ok = 1;
    if (key) {
        char want[512];
        snprintf(want, sizeof want, "Bearer %s", key);
        *ok = (bearer && strcmp(bearer, want) == 0) || (apikey && strcmp(apikey, key) == 0);
    }
    return bearer ? "bearer" : apikey ? "api-key" : "none";
}

static MHD_RESULT handler(void *cls, struct MHD_Connection *c, const char *url,
                          const char *method, const char *version, const char *upload_data,
                          size_t *upload_data_size, void **con_cls)
{
    conn *k = *con_cls;
    if (!k) {
        k = calloc(1, sizeof *k);
        *con_cls = k;
        return MHD_YES;
    }
    if (*upload_data_size) {
        k->body = realloc(k->body, k->len + *upload_data_size + 1);
        memcpy(k->body + k->len, upload_data, *upload_data_size);
        k->len += *upload_data_size;
        k->body[k->len] = '\0';
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/stats") == 0)
        return send_json(c, 200, stats_doc(), -1, -1);

    long now = atomic_fetch_add(&in_flight, 1) + 1;
    k->counted = 1;
    long seen = max_in_flight;
    while (now > seen && !atomic_compare_exchange_weak(&max_in_flight, &seen, now))
        ;
    atomic_fetch_add(&n_requests, 1);

    /* /[SPEC/]v1/ENDPOINT, or Azure's /[SPEC/]openai/deployments/NAME/ENDPOINT */
    const char *v1 = strstr(url, "/v1/"), *endpoint = NULL, *deployment = "";
    char deployment_buf[128] = "";
    if (v1) {
        endpoint = v1 + 4;
    } else if ((v1 = strstr(url, "/openai/deployments/")) != NULL) {
        const char *name = v1 + 20, *slash = strchr(name, '/');
        if (slash) {
            snprintf(deployment_buf, sizeof deployment_buf, "%.*s", (int)(slash - name), name);
            deployment = deployment_buf;
            endpoint = slash + 1;
        }
    } else if ((v1 = strstr(url, "/openai/models")) != NULL) {
        endpoint = "models";
    }
    if (!endpoint)
        return send_json(c, 404, json_pack("{s:{s:s}}", "error", "message",
                                           "unknown path (expected .../v1/ENDPOINT)"), -1, -1);
    spec s = defaults;
    char spec_text[256] = "";
    if (v1 > url + 1) {
        snprintf(spec_text, sizeof spec_text, "%.*s", (int)(v1 - url - 1), url + 1);
        if (parse_spec(spec_text, &s) != 0)
            return send_json(c, 400, json_pack("{s:{s:s}}", "error", "message",
                                               "bad spec in the URL"), -1, -1);
    }
    const char *api_version = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "api-version");
    request q = {0};
    q.endpoint = endpoint;
    int auth_ok;
    const char *auth = auth_kind(c, &auth_ok);
    if (strcmp(auth, "none") != 0)
        atomic_fetch_add(&n_auth, 1);
    json_error_t jerr;
    if (k->body)
        q.body = json_loads(k->body, 0, &jerr);
    if (log_file) {
        json_t *line = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:O*}", "method", method, "endpoint",
                                 q.endpoint, "spec", spec_text, "auth", auth, "deployment",
                                 deployment, "api_version", api_version ? api_version : "",
                                 "body", q.body);
        char *t = json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS);
        pthread_mutex_lock(&lock);
        fprintf(log_file, "%s\n", t);
        fflush(log_file);
        pthread_mutex_unlock(&lock);
        free(t);
        json_decref(line);
    }
    /* which mode: fail=N switches to `then` after N requests under this spec (leak too) */
    const char *mode_name = s.mode;
    if (s.fail >= 0 && count_spec(spec_text) > s.fail)
        mode_name = s.then[0] ? s.then : "echo";
    if (strcmp(mode_name, "leak") == 0) {
        /* like OpenAI's 401: the message quotes the key the client presented */
        const char *b = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "api-key");
        const char *presented = b && strncmp(b, "Bearer ", 7) == 0 ? b + 7 : a ? a : "";
        char msg[600];
        snprintf(msg, sizeof msg, "Incorrect API key provided: %s. You can find your API key "
                 "in your account settings.", presented);
        json_decref(q.body);
        atomic_fetch_add(&n_faults, 1);
        return send_json(c, 401, json_pack("{s:{s:s,s:s}}", "error", "message", msg, "type",
                                           "invalid_request_error"), -1, -1);
    }
    if (!auth_ok) {
        json_decref(q.body);
        return send_json(c, 401, json_pack("{s:{s:s,s:s}}", "error", "message",
                                           "Incorrect API key provided", "type",
                                           "invalid_request_error"), -1, -1);
    }
    if (s.delay_ms > 0)
        nap(s.delay_ms);

    if (strcmp(q.endpoint, "models") == 0) {
        atomic_fetch_add(&n_models, 1);
        json_decref(q.body);
        return send_json(c, 200, json_pack("{s:s,s:[{s:s,s:s,s:s},{s:s,s:s,s:s}]}", "object",
                                           "list", "data", "id", "fewshot-test", "object",
                                           "model", "owned_by", "fewshot", "id",
                                           "fewshot-test-embed", "object", "model", "owned_by",
                                           "fewshot"), -1, -1);
    }
    if (strcmp(method, "POST") != 0 || !q.body) {
        json_decref(q.body);
        return send_json(c, 400, json_pack("{s:{s:s}}", "error", "message",
                                           "expected a POST with a JSON body"), -1, -1);
    }
    if (strcmp(q.endpoint, "embeddings") == 0 && (strcmp(mode_name, "echo") == 0
                                                  || strcmp(mode_name, "controller") == 0)) {
        atomic_fetch_add(&n_embeddings, 1);
        json_t *doc = embeddings(q.body, s.dim);
        json_decref(q.body);
        return send_json(c, 200, doc, -1, -1);
    }
    int chat = strcmp(q.endpoint, "chat/completions") == 0;
    if (chat) {
        atomic_fetch_add(&n_chat, 1);
        json_t *msgs = json_object_get(q.body, "messages");
        for (size_t i = json_array_size(msgs); i-- > 0;) {
            json_t *m = json_array_get(msgs, i);
            const char *role = json_string_value(json_object_get(m, "role"));
            if (role && strcmp(role, "user") == 0) {
                q.last_user = json_string_value(json_object_get(m, "content"));
                break;
            }
        }
    } else if (strcmp(q.endpoint, "completions") == 0) {
        atomic_fetch_add(&n_completions, 1);
        q.last_user = json_string_value(json_object_get(q.body, "prompt"));
    } else if (strcmp(q.endpoint, "embeddings") == 0) {
        atomic_fetch_add(&n_embeddings, 1);
    } else {
        json_decref(q.body);
        return send_json(c, 404, json_pack("{s:{s:s}}", "error", "message", "unknown endpoint"),
                         -1, -1);
    }
    q.stream = json_is_true(json_object_get(q.body, "stream"));
    const mode *m = mode_find(mode_name);
    if (!m) {
        json_decref(q.body);
        return send_json(c, 400, json_pack("{s:{s:s}}", "error", "message",
                                           "unknown mode in the URL spec"), -1, -1);
    }
    reply r = {200, NULL, NULL, FAULT_NONE, -1, -1};
    m->fn(&s, &q, &r);
    if (r.fault != FAULT_NONE || r.raw || r.status >= 400)
        atomic_fetch_add(&n_faults, 1);
    MHD_RESULT ret;
    switch (r.fault) {
    case FAULT_RESET:
        ret = MHD_NO;
        break;
    case FAULT_HANG:
        nap(300000);
        ret = MHD_NO;
        break;
    case FAULT_TRUNCATE: {
        char *text = json_dumps(r.body, JSON_COMPACT);
        size_t len = strlen(text);
        ret = send_pieces(c, text, len, len, len / 2, "application/json", len);
        break;
    }
    default:
        if (r.raw) {
            ret = send_pieces(c, r.raw, strlen(r.raw), 4096, strlen(r.raw), "application/json",
                              strlen(r.raw));
            r.raw = NULL;
        } else if (q.stream && r.status == 200) {
            atomic_fetch_add(&n_stream, 1);
            size_t len;
            char *sse = to_sse(&q, r.body, &len);
            ret = send_pieces(c, sse, len, 7, len, "text/event-stream", MHD_SIZE_UNKNOWN);
        } else {
            ret = send_json(c, r.status, r.body, r.retry_after, r.retry_after_ms);
            r.body = NULL;
        }
    }
    json_decref(r.body);
    free(r.raw);
    json_decref(q.body);
    return ret;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: llm-server [--port N] [--port-file FILE] [--mode MODE] [--delay-ms N]\n"
                 "                  [--gain G] [--answer MODE] [--key-env NAME] [--log FILE]\n"
                 "                  [--stats-file FILE]\n"
                 "                  [--dim N] [--lifetime SECONDS] [--list-modes]\n");
}

int main(int argc, char **argv)
{
    int port = 0;
    double lifetime = 900;
    const char *port_file = NULL, *stats_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE() (v ? (i++, v) : (usage(stderr), exit(2), ""))
        if (strcmp(a, "--port") == 0)
            port = atoi(TAKE());
        else if (strcmp(a, "--port-file") == 0)
            port_file = TAKE();
        else if (strcmp(a, "--mode") == 0)
            snprintf(defaults.mode, sizeof defaults.mode, "%s", TAKE());
        else if (strcmp(a, "--delay-ms") == 0)
            defaults.delay_ms = atoi(TAKE());
        else if (strcmp(a, "--gain") == 0)
            defaults.gain = atof(TAKE());
        else if (strcmp(a, "--answer") == 0)
            snprintf(defaults.answer, sizeof defaults.answer, "%s", TAKE());
        else if (strcmp(a, "--dim") == 0)
            defaults.dim = atoi(TAKE());
        else if (strcmp(a, "--key-env") == 0)
            key_env = TAKE();
        else if (strcmp(a, "--lifetime") == 0)
            lifetime = atof(TAKE());
        else if (strcmp(a, "--log") == 0) {
            log_file = fopen(TAKE(), "a");
            if (!log_file) {
                perror(v);
                return 2;
            }
        } else if (strcmp(a, "--stats-file") == 0)
            stats_file = TAKE();
        else if (strcmp(a, "--list-modes") == 0) {
            for (const mode *m = modes; m->name; m++)
                printf("%-11s %s\n", m->name, m->summary);
            printf("%-11s %s\n", "leak", "401 whose message quotes the API key presented");
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
#undef TAKE
    }
    if (!mode_find(defaults.mode) && strcmp(defaults.mode, "leak") != 0) {
        fprintf(stderr, "llm-server: unknown mode '%s' (see --list-modes)\n", defaults.mode);
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* MHD's threads inherit the mask */
    signal(SIGPIPE, SIG_IGN);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
        (uint16_t)port, NULL, NULL, handler, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4096,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)600,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "llm-server: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int bound = info ? info->port : port;
    printf("%d\n", bound);
    fflush(stdout);
    if (port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", bound) < 0 || fclose(f) != 0 || rename(tmp, port_file)) {
            perror(port_file);
            MHD_stop_daemon(d);
            return 1;
        }
    }
    alarm((unsigned int)lifetime); /* an orphaned server does not outlive its test for long */
    int sig;
    sigwait(&set, &sig);
    stopping = 1;
    MHD_stop_daemon(d);
    if (stats_file) {
        json_t *doc = stats_doc();
        json_dump_file(doc, stats_file, JSON_COMPACT);
        json_decref(doc);
    }
    if (log_file)
        fclose(log_file);
    return 0;
}
