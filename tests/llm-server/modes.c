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
    return json_pack("{s:s,s:s,s:i,s:s,s:s,s:o,s:o}", "id", "cmpl-test",
                     "object", chat ? "chat.completion" : "text_completion", "created", 0,
                     "model", model ? model : "fewshot-test", "system_fingerprint", "fp_test",
                     "choices", choices, "usage", usage_for(q, text));
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

/* ---------------------------------------------------------------- imitate */

/* The imitate mode reads the prompt as a sequence of state descriptions: each "Description:"
 * starts one (without that marker, each "Actions: [...]" list ends one). A description's
 * labelled numbers ("Room 3: 21", "Outside Temperature: 5") are read up to its first
 * "Actions:", so feedback after the list is not part of the state; the last mention of a
 * label wins. Descriptions followed by an "Actions: [...]" list are demonstrations; the last
 * description is the state to decide. */

#define IM_LABELS 256
#define IM_ACTS 512
#define IM_DESCS 128

typedef struct described {
    unsigned long long label[IM_LABELS];
    double value[IM_LABELS];
    unsigned char room[IM_LABELS];  /* the label has the form "Word k" */
    int n, indexed;             /* labels; labels of the form "Word k" (one per room) */
    double act[IM_ACTS];
    int n_act, has_act;
} described;

static unsigned long long label_hash(const char *s, size_t n)
{
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static int label_stop(char c)
{
    return c == '\n' || c == '.' || c == ',' || c == ';' || c == ':' || c == '{' || c == '}' ||
           c == '[' || c == ']' || c == '(' || c == ')';
}

/* The label before the number at p ("Room 3" in "Room 3: 21"), or 0 when it has none. */
static size_t label_before(const char *start, const char *p, const char **label)
{
    const char *q = p;
    while (q > start && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '"'))
        q--;
    if (q == start || (q[-1] != ':' && q[-1] != '='))
        return 0;
    const char *end = --q;
    while (end > start && (end[-1] == ' ' || end[-1] == '"'))
        end--;
    const char *b = end;
    while (b > start && !label_stop(b[-1]))
        b--;
    while (b < end && (*b == ' ' || *b == '"' || *b == '\t'))
        b++;
    *label = b;
    return (size_t)(end - b);
}

static int label_indexed(const char *l, size_t n)
{
    size_t d = n;
    while (d > 0 && isdigit((unsigned char)l[d - 1]))
        d--;
    return d < n && d >= 2 && l[d - 1] == ' ' && isalpha((unsigned char)l[0]);
}

static void read_state(described *d, const char *s, const char *e)
{
    for (const char *p = s; p < e; p++) {
        int starts = isdigit((unsigned char)*p) ||
                     ((*p == '-' || *p == '+') && p + 1 < e && isdigit((unsigned char)p[1]));
        if (!starts || (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '.' ||
                                  p[-1] == '_')))
            continue;
        char *end;
        double v = strtod(p, &end);
        const char *label;
        size_t n = label_before(s, p, &label);
        p = end - 1;
        if (n == 0)
            continue;
        unsigned long long h = label_hash(label, n);
        int k = 0;
        while (k < d->n && d->label[k] != h)
            k++;
        if (k == d->n) {
            if (d->n == IM_LABELS)
                continue;
            d->room[d->n] = (unsigned char)label_indexed(label, n);
            d->label[d->n++] = h;
            d->indexed += d->room[k];
        }
        d->value[k] = v;    /* the last mention wins */
    }
}

/* "Actions:" followed by a bracketed list at p: read it and return the text after it. */
static const char *read_list(described *d, const char *p)
{
    p += strlen("Actions:");
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p != '[')
        return NULL;
    d->n_act = 0;
    for (p++; *p && *p != ']';) {
        char *end;
        double v = strtod(p, &end);
        if (end == p) {
            p++;
            continue;
        }
        if (d->n_act < IM_ACTS)
            d->act[d->n_act++] = v;
        p = end;
    }
    d->has_act = 1;
    return *p ? p + 1 : p;
}

static const char *find_before(const char *s, const char *e, const char *key)
{
    const char *p = strstr(s, key);
    return p && p < e ? p : NULL;
}

/* Split text into descriptions; returns how many (the last one is the current state). */
static int describe(const char *text, described *d)
{
    int n = 0;
    const char *marker = "Description:";
    if (strstr(text, marker)) {
        for (const char *p = strstr(text, marker); p && n < IM_DESCS; n++) {
            const char *next = strstr(p + strlen(marker), marker);
            const char *e = next ? next : p + strlen(p);
            const char *a = find_before(p, e, "Actions:");
            read_state(&d[n], p + strlen(marker), a ? a : e);
            if (a)
                read_list(&d[n], a);
            p = next;
        }
        return n;
    }
    /* no markers: the text before each "Actions: [...]" list describes its state */
    const char *s = text, *look = text;
    for (const char *a; n < IM_DESCS - 1 && (a = strstr(look, "Actions:")) != NULL;) {
        described tmp = {0};
        const char *after = read_list(&tmp, a);
        if (!after) {
            look = a + strlen("Actions:");
            continue;
        }
        read_state(&tmp, s, a);
        d[n++] = tmp;
        s = look = after;
    }
    read_state(&d[n], s, s + strlen(s));
    return n + 1;
}

/* Mean squared difference over the labels both share, each scaled by its range in the
 * prompt, so irradiance in hundreds does not drown temperatures; the "Word k" labels (the
 * rooms) count together as one term, their mean, so 18 rooms do not drown the weather that
 * decides heating or cooling. HUGE_VAL when no label is shared. */
static double state_distance(const described *all, int n, const described *a,
                             const described *b)
{
    double sum = 0, rsum = 0;
    int count = 0, rcount = 0;
    for (int i = 0; i < a->n; i++) {
        int j = 0;
        while (j < b->n && b->label[j] != a->label[i])
            j++;
        if (j == b->n)
            continue;
        double lo = INFINITY, hi = -INFINITY;
        for (int k = 0; k < n; k++)
            for (int m = 0; m < all[k].n; m++)
                if (all[k].label[m] == a->label[i]) {
                    lo = fmin(lo, all[k].value[m]);
                    hi = fmax(hi, all[k].value[m]);
                }
        double z = hi > lo ? (a->value[i] - b->value[j]) / (hi - lo) : 0;
        if (a->room[i]) {
            rsum += z * z;
            rcount++;
        } else {
            sum += z * z;
            count++;
        }
    }
    if (rcount) {
        sum += rsum / rcount;
        count++;
    }
    return count ? sum / count : HUGE_VAL;
}

static const char *prompt_text(const request *q, char **owned)
{
    *owned = NULL;
    json_t *msgs = json_object_get(q->body, "messages");
    if (!json_is_array(msgs))
        return q->last_user ? q->last_user : "";
    size_t len = 1, i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        const char *c = json_string_value(json_object_get(m, "content"));
        len += (c ? strlen(c) : 0) + 1;
    }
    char *all = malloc(len), *p = all;
    if (!all)
        return "";
    json_array_foreach(msgs, i, m) {
        const char *c = json_string_value(json_object_get(m, "content"));
        size_t n = c ? strlen(c) : 0;
        memcpy(p, c ? c : "", n);
        p += n;
        *p++ = '\n';
    }
    *p = '\0';
    *owned = all;
    return all;
}

/* Copy the actions of the demonstration nearest the current state; zeros without one. A
 * list of another length than the current state's "Word k" labels (its rooms) is fitted:
 * its first values, padded with their mean. */
static int m_imitate(const spec *s, const request *q, reply *r)
{
    char *owned;
    const char *text = prompt_text(q, &owned);
    described *d = calloc(IM_DESCS, sizeof *d);
    if (!d) {
        free(owned);
        return -1;
    }
    int n = describe(text, d), best = -1;
    const described *cur = &d[n - 1];
    double best_d = HUGE_VAL;
    for (int i = 0; i < n - 1; i++) {
        if (!d[i].has_act)
            continue;
        double dist = state_distance(d, n, &d[i], cur);
        if (best < 0 || dist < best_d) {
            best = i;
            best_d = dist;
        }
    }
    int want = cur->indexed ? cur->indexed : best >= 0 ? d[best].n_act : 1;
    double mean = 0;
    int integers = 1;
    if (best >= 0) {
        for (int i = 0; i < d[best].n_act; i++) {
            mean += d[best].act[i];
            integers &= d[best].act[i] == floor(d[best].act[i]);
        }
        mean = d[best].n_act ? mean / d[best].n_act : 0;
        if (integers)
            mean = round(mean);
    }
    char out[8192];
    size_t len = (size_t)snprintf(out, sizeof out, "Actions: [");
    for (int i = 0; i < want && len < sizeof out - 32; i++) {
        double v = best < 0 ? 0 : i < d[best].n_act ? d[best].act[i] : mean;
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%.10g", i ? ", " : "", v);
    }
    snprintf(out + len, sizeof out - len, "]");
    r->body = make_completion(q, out, "stop");
    free(d);
    free(owned);
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
    {"strict", "OpenAI's checks (chat models on chat/completions only, messages required, "
               "no unknown fields), then a controller or demonstration reply with "
               "cached_tokens", mode_strict},
    {"echo", "reply \"echo: \" + the last user message (or prompt)", m_echo},
    {"request", "reply with the request body as received (sorted compact JSON)", m_request},
    {"controller", "P controller: \"Actions: [a1, ...]\" from Room k: X and Target: T", m_controller},
    {"json", "like controller, as {\"actions\": [...]} for structured output", m_json},
    {"imitate", "copy the actions of the demonstration in the prompt nearest the current state", m_imitate},
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
