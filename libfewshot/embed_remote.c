/*
 * The "remote" embedder: OpenAI-compatible POST {base_url}/embeddings, {"model", "input": [...]}
 * -> {"data": [{"index": i, "embedding": [...]}, ...]}. The HTTP exchange is one function
 * (libcurl easy by default) so tests can replay recorded replies and the LLM client can take
 * over later. The API key is read from the environment at each request and never stored,
 * logged or put into the identity.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "fewshot/embed.h"
#include "fewshot/error.h"
#include "internal.h"
#include "retrieval_internal.h"

typedef struct remote {
    char *url, *model, *api_key_env;
    size_t dim;                 /* 0 until configured or seen */
    int normalize;
    long timeout_ms;
    size_t batch;
    fewshot_embed_transport transport;
    void *transport_data;
} remote;

int fewshot_embed_remote_request(const char *model, size_t n, const char *const *texts,
                                 char **body)
{
    *body = NULL;
    json_t *input = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!texts[i]) {
            json_decref(input);
            return fewshot_error_set(FEWSHOT_EINVAL, "remote embedder: input %zu has no text", i);
        }
        json_array_append_new(input, json_string(texts[i]));
    }
    json_t *req = json_pack("{s:s, s:o, s:s}", "model", model ? model : "", "input", input,
                            "encoding_format", "float");
    *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    return *body ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
}

int fewshot_embed_remote_parse(const char *reply, size_t n, size_t *dim, float **vectors)
{
    json_error_t err;
    *vectors = NULL;
    json_t *doc = json_loads(reply ? reply : "", 0, &err);
    if (!doc)
        return fewshot_error_set_at(FEWSHOT_EPARSE, "embeddings reply", err.line, err.column,
                                    "%s", err.text);
    int rc = 0;
    float *out = NULL;
    char path[96];
    json_t *data = json_object_get(doc, "data");
    if (!json_is_array(data)) {
        rc = fewshot_error_set_path(FEWSHOT_EPARSE, "embeddings reply", "$.data",
                                    "expected an array of embeddings");
        goto done;
    }
    if (json_array_size(data) != n) {
        rc = fewshot_error_set_path(FEWSHOT_EPARSE, "embeddings reply", "$.data",
                                    "%zu embeddings for %zu inputs", json_array_size(data), n);
        goto done;
    }
    size_t d = *dim;
    char *seen = calloc(n ? n : 1, 1);
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *item = json_array_get(data, i), *idx = json_object_get(item, "index");
        json_t *emb = json_object_get(item, "embedding");
        size_t slot = i;
        if (idx) {
            if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
                (size_t)json_integer_value(idx) >= n || seen[json_integer_value(idx)]) {
                snprintf(path, sizeof path, "$.data[%zu].index", i);
                rc = fewshot_error_set_path(FEWSHOT_EPARSE, "embeddings reply", path,
                                            "expected a distinct input index below %zu", n);
                break;
            }
            slot = (size_t)json_integer_value(idx);
        }
        seen[slot] = 1;
        snprintf(path, sizeof path, "$.data[%zu].embedding", i);
        if (!json_is_array(emb) || json_array_size(emb) == 0) {
            rc = fewshot_error_set_path(FEWSHOT_EPARSE, "embeddings reply", path,
                                        "expected a non-empty array of numbers");
            break;
        }
        if (d == 0)
            d = json_array_size(emb);
        if (json_array_size(emb) != d) {
            rc = fewshot_error_set_path(FEWSHOT_EMISMATCH, "embeddings reply", path,
                                        "%zu values, expected %zu", json_array_size(emb), d);
            break;
        }
        if (!out && !(out = malloc(n * d * sizeof *out))) {
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
            break;
        }
        for (size_t j = 0; j < d; j++) {
            json_t *v = json_array_get(emb, j);
            if (!json_is_number(v)) {
                snprintf(path, sizeof path, "$.data[%zu].embedding[%zu]", i, j);
                rc = fewshot_error_set_path(FEWSHOT_EPARSE, "embeddings reply", path,
                                            "expected a number");
                break;
            }
            out[slot * d + j] = (float)json_number_value(v);
        }
    }
    free(seen);
    if (rc == 0) {
        *dim = d;
        *vectors = out;
        out = NULL;
    }
done:
    free(out);
    json_decref(doc);
    return rc;
}

/* ---- the default transport: libcurl easy ---- */

/* as the LLM client: no reply of ours is anywhere near this, a runaway server's would be */
#define MAX_REPLY_BYTES ((size_t)64 << 20)

typedef struct growbuf {
    char *data;
    size_t len, cap;
    int too_big;
} growbuf;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    growbuf *b = ud;
    size_t n = size * nmemb;
    if (n > MAX_REPLY_BYTES - b->len) {
        b->too_big = 1;
        return 0;       /* libcurl stops the transfer */
    }
    if (b->len + n + 1 > b->cap) {     /* doubling: a large reply is not copied per chunk */
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static int curl_post(void *data, const char *url, const char *api_key, const char *body,
                     long timeout_ms, long *status, char **reply)
{
    CURL *c = curl_easy_init();
    if (!c)
        return fewshot_error_set(FEWSHOT_ENOMEM, "remote embedder: cannot start libcurl");
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char *auth = NULL;
    if (api_key && *api_key) {
        size_t n = strlen(api_key) + 32;
        if ((auth = malloc(n)))
            snprintf(auth, n, "Authorization: Bearer %s", api_key);
        h = curl_slist_append(h, auth);
    }
    growbuf b = {NULL, 0, 0, 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode cc = curl_easy_perform(c);
    int rc = 0;
    if (b.too_big) {
        rc = fewshot_error_set(FEWSHOT_ETRUNCATED, "remote embedder: %s: the reply is larger "
                               "than %zu MiB; refused", url, MAX_REPLY_BYTES >> 20);
        free(b.data);
    } else if (cc != CURLE_OK) {
        rc = fewshot_error_set(cc == CURLE_OPERATION_TIMEDOUT ? FEWSHOT_ETIMEOUT : FEWSHOT_ENET,
                               "remote embedder: %s: %s", url, curl_easy_strerror(cc));
        free(b.data);
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        *reply = b.data ? b.data : strdup("");
    }
    if (auth) {
        memset(auth, 0, strlen(auth));   /* the key does not linger in freed memory */
        free(auth);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

/* ---- the embedder ---- */

static size_t r_dim(void *self)
{
    return ((remote *)self)->dim;
}

static int request_batch(remote *r, size_t n, const fewshot_embed_input *in, float *out)
{
    const char **texts = malloc(n * sizeof *texts);
    if (!texts)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        texts[i] = in[i].text;
    char *body = NULL, *reply = NULL;
    long status = 0;
    float *vectors = NULL;
    const char *key = r->api_key_env ? getenv(r->api_key_env) : NULL;
    int rc = fewshot_embed_remote_request(r->model, n, texts, &body);
    if (rc == 0)
        rc = r->transport(r->transport_data, r->url, key, body, r->timeout_ms, &status, &reply);
    if (rc == 0 && (status < 200 || status > 299)) {
        json_t *doc = json_loads(reply ? reply : "", 0, NULL);
        const char *m = json_string_value(json_object_get(json_object_get(doc, "error"),
                                                          "message"));
        char *msg = m ? strdup(m) : NULL;
        fewshot__redact(msg, key);   /* a 401 may quote the key it was sent */
        rc = fewshot_error_set(FEWSHOT_EHTTP, "remote embedder: HTTP %ld from %s%s%.300s", status,
                               r->url, msg ? ": " : "", msg ? msg : "");
        free(msg);
        json_decref(doc);
    }
    size_t dim = r->dim;
    if (rc == 0 && (rc = fewshot_embed_remote_parse(reply, n, &dim, &vectors)) != 0)
        fewshot_error_prefix("remote embedder (%s)", r->url);
    if (rc == 0) {
        r->dim = dim;
        memcpy(out, vectors, n * dim * sizeof *out);
    } else {
        fewshot__error_redact(key);
    }
    free(vectors);
    free(reply);
    free(body);
    free(texts);
    return rc;
}

static int r_embed(void *self, size_t n, const fewshot_embed_input *in, float *out)
{
    remote *r = self;
    for (size_t i = 0; i < n; i++)
        if (!in[i].text)
            return fewshot_error_set(FEWSHOT_EINVAL, "remote embedder: input %zu has no text", i);
    for (size_t start = 0; start < n; start += r->batch) {
        size_t m = n - start < r->batch ? n - start : r->batch;
        /* the first reply fixes the dimension; later batches must agree */
        int rc = request_batch(r, m, in + start, out + start * r->dim);
        if (rc)
            return rc;
    }
    if (r->normalize)
        fewshot__l2_normalize(out, n, r->dim);
    return 0;
}

static int r_identity(void *self, json_t **out)
{
    remote *r = self;
    *out = json_pack("{s:s, s:s, s:I, s:b}", "kind", "remote", "model", r->model, "dim",
                     (json_int_t)r->dim, "normalize", r->normalize);
    return *out ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
}

static int r_restore(void *self, const json_t *id)
{
    remote *r = self;
    if (r->dim == 0)
        r->dim = (size_t)json_integer_value(json_object_get(id, "dim"));
    return 0;
}

static void r_destroy(void *self)
{
    remote *r = self;
    if (r) {
        free(r->url), free(r->model), free(r->api_key_env);
        free(r);
    }
}

static const fewshot_embedder_ops remote_ops = {
    .version = FEWSHOT_EMBEDDER_OPS_VERSION,
    .kind = "remote",
    .embed = r_embed,
    .dim = r_dim,
    .identity = r_identity,
    .restore = r_restore,
    .destroy = r_destroy,
};

int fewshot__embed_remote_new(const fewshot_embedder_ops **ops, void **self,
                              const fewshot_embedder_options *o)
{
    if (!o->base_url || !*o->base_url || !o->model || !*o->model)
        return fewshot_error_set(FEWSHOT_EINVAL, "remote embedder: base_url and model are "
                                 "required");
    remote *r = calloc(1, sizeof *r);
    if (!r)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    size_t n = strlen(o->base_url);
    while (n && o->base_url[n - 1] == '/')
        n--;
    r->url = malloc(n + sizeof "/embeddings");
    r->model = strdup(o->model);
    r->api_key_env = o->api_key_env ? strdup(o->api_key_env) : NULL;
    if (!r->url || !r->model || (o->api_key_env && !r->api_key_env)) {
        r_destroy(r);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    memcpy(r->url, o->base_url, n);
    memcpy(r->url + n, "/embeddings", sizeof "/embeddings");
    r->dim = o->dim;
    r->normalize = o->normalize != 0;
    r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    r->batch = o->batch ? o->batch : 64;
    r->transport = o->transport ? o->transport : curl_post;
    r->transport_data = o->transport_data;
    *ops = &remote_ops;
    *self = r;
    return 0;
}
