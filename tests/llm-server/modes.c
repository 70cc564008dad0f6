/*
 * The reply modes: one function each, listed in modes[]. Add a mode by writing a function
 * and one table line.
 */
#define _GNU_SOURCE 1
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modes.h"

static json_t *usage_for(const request *q, const char *text)
{
    size_t in = q->last_user ? strlen(q->last_user) / 4 + 1 : 1;
    size_t out = text ? strlen(text) / 4 + 1 : 0;
    return json_pack("{s:I,s:I,s:I}", "prompt_tokens", (json_int_t)in, "completion_tokens",
                     (json_int_t)out, "total_tokens", (json_int_t)(in + out));
}

json_t *make_completion(const request *q, const char *text, const char *finish)
{
    int chat = strcmp(q->endpoint, "chat/completions") == 0;
    const char *model = json_string_value(json_object_get(q->body, "model"));
    json_t *choice = json_pack("{s:i,s:s}", "index", 0, "finish_reason", finish);
    if (chat)
        json_object_set_new(choice, "message",
                            json_pack("{s:s,s:s}", "role", "assistant", "content", text));
    else
        json_object_set_new(choice, "text", json_string(text));
    json_t *choices = json_array();
    json_array_append_new(choices, choice);
    /* n > 1: more choices with the same text and their index */
    json_int_t n = json_integer_value(json_object_get(q->body, "n"));
    for (json_int_t i = 1; i < n && i < 16; i++) {
        json_t *c = json_deep_copy(choice);
        json_object_set_new(c, "index", json_integer(i));
        json_array_append_new(choices, c);
    }
    return json_pack("{s:s,s:s,s:i,s:s,s:o,s:o}", "id", "cmpl-test",
                     "object", chat ? "chat.completion" : "text_completion", "created", 0,
                     "model", model ? model : "fewshot-test", "choices", choices,
                     "usage", usage_for(q, text));
}

/* ---------------------------------------------------------------- modes */

static int m_echo(const spec *s, const request *q, reply *r)
{
    char *text = NULL;
    if (asprintf(&text, "echo: %s", q->last_user ? q->last_user : "") < 0)
        return -1;
    r->body = make_completion(q, text, "stop");
    free(text);
    return 0;
}

static int m_request(const spec *s, const request *q, reply *r)
{
    char *text = json_dumps(q->body, JSON_COMPACT | JSON_SORT_KEYS);
    r->body = make_completion(q, text ? text : "", "stop");
    free(text);
    return 0;
}

/* The last number after the last occurrence of `key` in text; NAN if none. */
static double after_last(const char *text, const char *key)
{
    const char *p = text, *hit = NULL;
    while ((p = strstr(p, key)) != NULL) {
        hit = p;
        p += strlen(key);
    }
    if (!hit)
        return NAN;
    char *end;
    double v = strtod(hit + strlen(key), &end);
    return end == hit + strlen(key) ? NAN : v;
}

/* A proportional controller over "Room k: X" temperatures and "Target Temperature: T". */
static int m_controller(const spec *s, const request *q, reply *r)
{
    const char *text = q->last_user ? q->last_user : "";
    double target = after_last(text, "Target Temperature:");
    if (isnan(target))
        target = after_last(text, "Target:");
    double rooms[256];
    int n = 0;
    for (int i = 0; i < 256; i++)
        rooms[i] = NAN;
    for (const char *p = text; (p = strstr(p, "Room ")) != NULL;) {
        p += 5;
        char *end;
        long k = strtol(p, &end, 10);
        if (end == p || *end != ':' || k < 1 || k > 256)
            continue;
        const char *v = end + 1;
        double x = strtod(v, &end);
        if (end == v)
            continue;
        rooms[k - 1] = x; /* the last mention wins: the current state comes last */
        if (k > n)
            n = (int)k;
    }
    char out[4096];
    size_t len = (size_t)snprintf(out, sizeof out, "Actions: [");
    for (int i = 0; i < n && len < sizeof out - 16; i++) {
        double a = isnan(target) || isnan(rooms[i]) ? 0 : s->gain * (target - rooms[i]);
        a = a < -1 ? -1 : a > 1 ? 1 : a;
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%d", i ? ", " : "",
                                (int)lround(a * 100));
    }
    snprintf(out + len, sizeof out - len, "]");
    r->body = make_completion(q, out, "stop");
    return 0;
}

static int m_length(const spec *s, const request *q, reply *r)
{
    r->body = make_completion(q, "Actions: [1", "length");
    return 0;
}

static int m_empty(const spec *s, const request *q, reply *r)
{
    r->body = json_pack("{s:s,s:s,s:[],s:{s:i,s:i,s:i}}", "id", "cmpl-empty", "object",
                        "chat.completion", "choices", "usage", "prompt_tokens", 1,
                        "completion_tokens", 0, "total_tokens", 1);
    return 0;
}

static int m_malformed(const spec *s, const request *q, reply *r)
{
    r->raw = strdup("{\"id\": \"cmpl-bad\", \"choices\": [{\"message\": {\"content\": \"Actions");
    return 0;
}

static int m_truncated(const spec *s, const request *q, reply *r)
{
    r->fault = FAULT_TRUNCATE;
    return m_echo(s, q, r);
}

static int m_reset(const spec *s, const request *q, reply *r)
{
    r->fault = FAULT_RESET;
    return 0;
}

static int m_hang(const spec *s, const request *q, reply *r)
{
    r->fault = FAULT_HANG;
    return 0;
}

static int m_status(const spec *s, const request *q, reply *r)
{
    int code = s->code ? s->code : 500;
    char msg[128];
    snprintf(msg, sizeof msg, "injected HTTP %d from the test server", code);
    r->status = code;
    r->body = json_pack("{s:{s:s,s:s,s:i}}", "error", "message", msg, "type", "test_error",
                        "code", code);
    r->retry_after = s->retry_after;
    r->retry_after_ms = s->retry_after_ms;
    return 0;
}

/* Structured output: a JSON object with one integer action per room, as the schema asks. */
static int m_json(const spec *s, const request *q, reply *r)
{
    reply tmp = {0};
    m_controller(s, q, &tmp);
    const char *t = json_string_value(json_object_get(json_object_get(json_array_get(
        json_object_get(tmp.body, "choices"), 0), "message"), "content"));
    if (!t)
        t = json_string_value(json_object_get(json_array_get(json_object_get(tmp.body,
                                                                             "choices"), 0),
                                              "text"));
    const char *lb = t ? strchr(t, '[') : NULL;
    char obj[4200];
    snprintf(obj, sizeof obj, "{\"actions\": %s}", lb ? lb : "[]");
    r->body = make_completion(q, obj, "stop");
    json_decref(tmp.body);
    return 0;
}

/* echo, with usage.prompt_tokens set to the spec's tokens (a server lying about counts) */
static int m_usage(const spec *s, const request *q, reply *r)
{
    if (m_echo(s, q, r) != 0)
        return -1;
    json_t *u = json_object_get(r->body, "usage");
    json_object_set_new(u, "prompt_tokens", json_integer((json_int_t)s->tokens));
    json_object_set_new(u, "total_tokens", json_integer((json_int_t)s->tokens));
    return 0;
}

const mode modes[] = {
    {"echo", "reply \"echo: \" + the last user message (or prompt)", m_echo},
    {"request", "reply with the request body as received (sorted compact JSON)", m_request},
    {"controller", "P controller: \"Actions: [a1, ...]\" from Room k: X and Target: T", m_controller},
    {"json", "like controller, as {\"actions\": [...]} for structured output", m_json},
    {"length", "a reply cut off at max_tokens (finish_reason \"length\")", m_length},
    {"empty", "a 200 reply with an empty choices array", m_empty},
    {"malformed", "a 200 reply whose body is not valid JSON", m_malformed},
    {"truncated", "Content-Length for the whole body, then half of it and a closed connection", m_truncated},
    {"reset", "close the connection without answering", m_reset},
    {"hang", "never answer", m_hang},
    {"usage", "like echo, claiming usage.prompt_tokens = the spec's tokens", m_usage},
    {"status", "HTTP error `code` (default 500) with optional Retry-After", m_status},
    {NULL, NULL, NULL},
};

const mode *mode_find(const char *name)
{
    for (const mode *m = modes; m->name; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}
