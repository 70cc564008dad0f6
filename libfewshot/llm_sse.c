/*
 * Server-sent events (text/event-stream) and the assembly of streamed completions.
 *
 * Network reads split events anywhere: inside a field name, between \r and \n, inside a
 * multi-byte character. The parser keeps the unfinished line and the data lines of the
 * unfinished event across calls, and dispatches an event only at its blank line.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "llm_internal.h"

int llm_buf_append(llm_buf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return FEWSHOT_ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void llm_buf_free(llm_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void llm_sse_init(llm_sse *p, llm_sse_event_fn fn, void *user)
{
    memset(p, 0, sizeof *p);
    p->fn = fn;
    p->user = user;
}

void llm_sse_free(llm_sse *p)
{
    llm_buf_free(&p->line);
    llm_buf_free(&p->data);
}

static int dispatch(llm_sse *p)
{
    int rc = 0;
    if (p->has_data) {
        const char *data = p->data.data ? p->data.data : "";
        rc = p->fn(p->user, p->event, data, p->data.len);
    }
    p->data.len = 0;
    if (p->data.data)
        p->data.data[0] = '\0';
    p->has_data = 0;
    p->event[0] = '\0';
    return rc;
}

/* One complete line (without its terminator). */
static int line(llm_sse *p, const char *s, size_t n)
{
    if (n == 0)
        return dispatch(p);
    if (s[0] == ':')
        return 0; /* comment, e.g. keep-alive */
    const char *colon = memchr(s, ':', n);
    size_t name_len = colon ? (size_t)(colon - s) : n;
    const char *value = colon ? colon + 1 : s + n;
    size_t value_len = colon ? n - name_len - 1 : 0;
    if (value_len && *value == ' ') {
        value++;
        value_len--;
    }
    if (name_len == 4 && memcmp(s, "data", 4) == 0) {
        if (p->has_data && llm_buf_append(&p->data, "\n", 1))
            return FEWSHOT_ENOMEM;
        if (llm_buf_append(&p->data, value, value_len))
            return FEWSHOT_ENOMEM;
        p->has_data = 1;
    } else if (name_len == 5 && memcmp(s, "event", 5) == 0) {
        size_t m = value_len < sizeof p->event - 1 ? value_len : sizeof p->event - 1;
        memcpy(p->event, value, m);
        p->event[m] = '\0';
    }
    /* id and retry fields are not needed by completion streams */
    return 0;
}

int llm_sse_feed(llm_sse *p, const char *bytes, size_t n)
{
    size_t i = 0;
    if (p->last_cr && n > 0 && bytes[0] == '\n')
        i = 1; /* the \n of a \r\n split across reads */
    p->last_cr = 0;
    size_t start = i;
    for (; i < n; i++) {
        char c = bytes[i];
        if (c != '\n' && c != '\r')
            continue;
        int rc;
        if (p->line.len) {
            if (llm_buf_append(&p->line, bytes + start, i - start))
                return FEWSHOT_ENOMEM;
            rc = line(p, p->line.data, p->line.len);
            p->line.len = 0;
        } else {
            rc = line(p, bytes + start, i - start);
        }
        if (rc)
            return rc;
        if (c == '\r') {
            if (i + 1 < n && bytes[i + 1] == '\n')
                i++;
            else if (i + 1 == n)
                p->last_cr = 1;
        }
        start = i + 1;
    }
    if (start < n && llm_buf_append(&p->line, bytes + start, n - start))
        return FEWSHOT_ENOMEM;
    return 0;
}

int llm_sse_finish(llm_sse *p)
{
    int rc = 0;
    if (p->line.len) {
        rc = line(p, p->line.data, p->line.len);
        p->line.len = 0;
    }
    if (!rc)
        rc = dispatch(p);
    return rc;
}

/* ---------------------------------------------------------------- stream assembly */

static int grow_choices(llm_stream *s, size_t index)
{
    if (index < s->n)
        return 0;
    if (index > 1024)
        return FEWSHOT_EPARSE;
    size_t n = index + 1;
    llm_buf *t = realloc(s->texts, n * sizeof *t);
    if (!t)
        return FEWSHOT_ENOMEM;
    s->texts = t;
    char **f = realloc(s->finish, n * sizeof *f);
    if (!f)
        return FEWSHOT_ENOMEM;
    s->finish = f;
    for (size_t i = s->n; i < n; i++) {
        memset(&s->texts[i], 0, sizeof s->texts[i]);
        s->finish[i] = NULL;
    }
    s->n = n;
    return 0;
}

static int on_event(void *user, const char *event, const char *data, size_t len)
{
    llm_stream *s = user;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        s->done = 1;
        return 0;
    }
    json_error_t err;
    json_t *chunk = json_loadb(data, len, 0, &err);
    if (!chunk) {
        free(s->error);
        s->error = strdup("malformed JSON in a streamed event");
        return FEWSHOT_EPARSE;
    }
    json_t *error = json_object_get(chunk, "error");
    if (error) {
        const char *m = json_string_value(json_object_get(error, "message"));
        if (!m)
            m = json_string_value(error);
        free(s->error);
        s->error = strdup(m ? m : "the stream reported an error");
        json_decref(chunk);
        return FEWSHOT_EHTTP;
    }
    /* keep id, model, created, usage from the chunks */
    const char *k;
    json_t *v;
    json_object_foreach(chunk, k, v) {
        if (strcmp(k, "choices") != 0 && strcmp(k, "object") != 0 && !json_is_null(v))
            json_object_set(s->doc, k, v);
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(chunk, "choices"), i, c) {
        json_int_t index = json_integer_value(json_object_get(c, "index"));
        if (index < 0 || grow_choices(s, (size_t)index)) {
            json_decref(chunk);
            return FEWSHOT_EPARSE;
        }
        const char *piece;
        if (s->endpoint == FEWSHOT_LLM_CHAT)
            piece = json_string_value(json_object_get(json_object_get(c, "delta"), "content"));
        else
            piece = json_string_value(json_object_get(c, "text"));
        if (piece && *piece) {
            size_t m = strlen(piece);
            if (llm_buf_append(&s->texts[index], piece, m)) {
                json_decref(chunk);
                return FEWSHOT_ENOMEM;
            }
            if (s->on_delta && index == 0 && s->on_delta(s->on_delta_user, piece, m)) {
                json_decref(chunk);
                free(s->error);
                s->error = strdup("the delta callback stopped the stream");
                return FEWSHOT_EUSER;
            }
        }
        const char *fin = json_string_value(json_object_get(c, "finish_reason"));
        if (fin) {
            free(s->finish[index]);
            s->finish[index] = strdup(fin);
        }
    }
    json_decref(chunk);
    return 0;
}

void llm_stream_init(llm_stream *s, int endpoint)
{
    memset(s, 0, sizeof *s);
    s->endpoint = endpoint;
    s->doc = json_object();
    llm_sse_init(&s->sse, on_event, s);
}

int llm_stream_feed(llm_stream *s, const char *bytes, size_t n)
{
    return llm_sse_feed(&s->sse, bytes, n);
}

json_t *llm_stream_result(llm_stream *s, const char **why)
{
    if (llm_sse_finish(&s->sse) != 0 || s->error) {
        *why = s->error ? s->error : "the stream could not be read";
        return NULL;
    }
    if (!s->done && s->n == 0) {
        *why = "the stream ended without any event";
        return NULL;
    }
    json_t *doc = json_deep_copy(s->doc);
    json_t *choices = json_array();
    for (size_t i = 0; i < s->n; i++) {
        json_t *text = json_string(s->texts[i].data ? s->texts[i].data : "");
        json_t *c = json_pack("{s:I}", "index", (json_int_t)i);
        if (s->endpoint == FEWSHOT_LLM_CHAT)
            json_object_set_new(c, "message",
                                json_pack("{s:s,s:o}", "role", "assistant", "content", text));
        else
            json_object_set_new(c, "text", text);
        json_object_set_new(c, "finish_reason",
                            s->finish[i] ? json_string(s->finish[i]) : json_null());
        json_array_append_new(choices, c);
    }
    json_object_set_new(doc, "object", json_string(s->endpoint == FEWSHOT_LLM_CHAT
                                                   ? "chat.completion" : "text_completion"));
    json_object_set_new(doc, "choices", choices);
    return doc;
}

void llm_stream_free(llm_stream *s)
{
    llm_sse_free(&s->sse);
    for (size_t i = 0; i < s->n; i++) {
        llm_buf_free(&s->texts[i]);
        free(s->finish[i]);
    }
    free(s->texts);
    free(s->finish);
    free(s->error);
    json_decref(s->doc);
    memset(s, 0, sizeof *s);
}
