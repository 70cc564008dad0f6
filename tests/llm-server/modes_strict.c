/*
 * The `strict` mode: the request checks OpenAI applies, so a test catches requests a real
 * endpoint refuses. Chat models answer only on /v1/chat/completions (404 with OpenAI's error
 * body on /v1/completions, and the mirror for completion-only models); `messages` is
 * required and checked message by message; unknown request fields are refused as OpenAI
 * refuses them. Accepted requests get the controller's reply when the prompt has rooms, else
 * the last "Actions: [...]" list the prompt shows (a demonstration's, so any plugin's format
 * parses), with OpenAI-shaped usage: prompt tokens about bytes / 4 and
 * prompt_tokens_details.cached_tokens, the longest prefix shared with a recent prompt,
 * counted as OpenAI does (prompts of 1024 tokens or more, in steps of 128).
 */
#define _GNU_SOURCE 1
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modes.h"

/* OpenAI's completion-only models; every other name is a chat model. */
static const char *const completion_models[] = {"gpt-3.5-turbo-instruct", "davinci-002",
                                                "babbage-002", NULL};

static const char *const chat_fields[] = {
    "model", "messages", "temperature", "top_p", "n", "stream", "stream_options", "stop",
    "max_tokens", "max_completion_tokens", "presence_penalty", "frequency_penalty",
    "logit_bias", "logprobs", "top_logprobs", "user", "seed", "response_format", "tools",
    "tool_choice", "parallel_tool_calls", "service_tier", "store", "metadata", "modalities",
    "reasoning_effort", "prediction", "audio", NULL};
static const char *const completion_fields[] = {
    "model", "prompt", "temperature", "top_p", "n", "stream", "stream_options", "stop",
    "max_tokens", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "echo",
    "best_of", "suffix", "user", "seed", NULL};
static const char *const roles[] = {"system", "developer", "user", "assistant", "tool", NULL};

static int listed(const char *const *names, const char *s)
{
    for (size_t i = 0; s && names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return 1;
    return 0;
}

static int refuse(reply *r, int status, const char *message, const char *param,
                  const char *code)
{
    r->status = status;
    r->body = json_pack("{s:{s:s, s:s, s:o, s:o}}", "error", "message", message, "type",
                        "invalid_request_error", "param", param ? json_string(param)
                                                                : json_null(),
                        "code", code ? json_string(code) : json_null());
    return 0;
}

/* The request as OpenAI checks it; 1 when refused (r filled). */
static int check(const request *q, reply *r)
{
    int chat = strcmp(q->endpoint, "chat/completions") == 0;
    const char *model = json_string_value(json_object_get(q->body, "model"));
    char msg[512];
    if (!model)
        return refuse(r, 400, "you must provide a model parameter", NULL, NULL), 1;
    if (!chat && strcmp(q->endpoint, "completions") != 0)
        return refuse(r, 404, "strict mode serves /v1/chat/completions and /v1/completions",
                      NULL, NULL), 1;
    int completion_model = listed(completion_models, model);
    if (!chat && !completion_model)
        return refuse(r, 404, "This is a chat model and not supported in the v1/completions "
                      "endpoint. Did you mean to use v1/chat/completions?", "model", NULL), 1;
    if (chat && completion_model)
        return refuse(r, 404, "This is not a chat model and thus not supported in the "
                      "v1/chat/completions endpoint. Did you mean to use v1/completions?",
                      "model", NULL), 1;
    const char *key;
    json_t *v;
    json_object_foreach(q->body, key, v) {
        if (!listed(chat ? chat_fields : completion_fields, key)) {
            snprintf(msg, sizeof msg, "Unrecognized request argument supplied: %s", key);
            return refuse(r, 400, msg, NULL, NULL), 1;
        }
    }
    if (!chat) {
        if (!json_is_string(json_object_get(q->body, "prompt")))
            return refuse(r, 400, "Missing required parameter: 'prompt'.", "prompt",
                          "missing_required_parameter"), 1;
        return 0;
    }
    json_t *messages = json_object_get(q->body, "messages");
    if (!messages)
        return refuse(r, 400, "Missing required parameter: 'messages'.", "messages",
                      "missing_required_parameter"), 1;
    if (!json_is_array(messages) || json_array_size(messages) == 0)
        return refuse(r, 400, "Invalid 'messages': empty array. Expected an array with minimum "
                      "length 1, but got an empty array instead.", "messages",
                      "empty_array"), 1;
    size_t i;
    json_array_foreach(messages, i, v) {
        char param[64];
        const char *role = json_string_value(json_object_get(v, "role"));
        snprintf(param, sizeof param, "messages[%zu].role", i);
        if (!listed(roles, role)) {
            snprintf(msg, sizeof msg, "Invalid value: '%s'. Supported values are: 'system', "
                     "'assistant', 'user', 'function', 'tool', and 'developer'.",
                     role ? role : "");
            return refuse(r, 400, msg, param, "invalid_value"), 1;
        }
        snprintf(param, sizeof param, "messages[%zu].content", i);
        if (!json_is_string(json_object_get(v, "content"))) {
            snprintf(msg, sizeof msg, "Missing required parameter: '%s'.", param);
            return refuse(r, 400, msg, param, "missing_required_parameter"), 1;
        }
    }
    return 0;
}

/* Everything the model reads, in order. malloc'd. */
static char *prompt_text(const request *q)
{
    json_t *messages = json_object_get(q->body, "messages");
    if (!messages)
        return strdup(json_string_value(json_object_get(q->body, "prompt")));
    size_t n = 0, i;
    json_t *m;
    json_array_foreach(messages, i, m)
        n += strlen(json_string_value(json_object_get(m, "role"))) +
             json_string_length(json_object_get(m, "content")) + 2;
    char *s = malloc(n + 1), *p = s;
    if (!s)
        return NULL;
    json_array_foreach(messages, i, m) {
        p = stpcpy(p, json_string_value(json_object_get(m, "role")));
        *p++ = '\n';
        p = stpcpy(p, json_string_value(json_object_get(m, "content")));
        *p++ = '\n';
    }
    *p = '\0';
    return s;
}

/* The server's prefix cache: recent prompts, the oldest replaced first. */
#define REMEMBERED 256
static char *recent[REMEMBERED];
static size_t n_recent, next_recent;
static pthread_mutex_t recent_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t cached_prefix(const char *text)
{
    size_t best = 0;
    pthread_mutex_lock(&recent_lock);
    for (size_t i = 0; i < n_recent; i++) {
        size_t k = 0;
        while (text[k] && text[k] == recent[i][k])
            k++;
        if (k > best)
            best = k;
    }
    free(recent[next_recent]);
    recent[next_recent] = strdup(text);
    next_recent = (next_recent + 1) % REMEMBERED;
    if (n_recent < REMEMBERED)
        n_recent++;
    pthread_mutex_unlock(&recent_lock);
    return best;
}

/* The last "Actions: [...]" list of numbers in text (not a format example such as
 * "Actions: [a, b, c]"), copied into out; 0 when there is none. */
static int last_actions(const char *text, char *out, size_t size)
{
    const char *p = text, *hit = NULL;
    while ((p = strstr(p, "Actions: [")) != NULL) {
        char c = p[10];
        if ((c >= '0' && c <= '9') || c == '-')
            hit = p;
        p++;
    }
    const char *end = hit ? strchr(hit, ']') : NULL;
    if (!end || (size_t)(end - hit + 2) > size)
        return 0;
    memcpy(out, hit, (size_t)(end - hit) + 1);
    out[end - hit + 1] = '\0';
    return 1;
}

int mode_strict(const spec *s, const request *q, reply *r)
{
    if (check(q, r))
        return 0;
    char *text = prompt_text(q);
    if (!text)
        return -1;
    const char *user = q->last_user ? q->last_user : "";
    /* the current state is the last description: demonstrations of other buildings name
     * other rooms before it */
    const char *cur = user, *p = user;
    while ((p = strstr(p, "Description:")) != NULL)
        cur = p++;
    if (strstr(cur, "Room ")) {
        request current = *q;
        current.last_user = cur;
        /* the controller reads the current state only, another mode (--answer) the prompt */
        const mode *answer = s->answer[0] ? mode_find(s->answer) : NULL;
        if (answer)
            answer->fn(s, q, r);
        else
            mode_find("controller")->fn(s, &current, r);
    } else {
        char actions[4096];
        if (!last_actions(text, actions, sizeof actions))
            snprintf(actions, sizeof actions, "Actions: []");
        r->body = make_completion(q, actions, "stop");
    }
    size_t prompt_tokens = strlen(text) / 4 + 1;
    size_t cached = cached_prefix(text) / 4;
    cached = prompt_tokens >= 1024 && cached >= 1024 ? cached / 128 * 128 : 0;
    json_t *usage = json_object_get(r->body, "usage");
    json_int_t completion = json_integer_value(json_object_get(usage, "completion_tokens"));
    json_object_set_new(usage, "prompt_tokens", json_integer((json_int_t)prompt_tokens));
    json_object_set_new(usage, "total_tokens",
                        json_integer((json_int_t)prompt_tokens + completion));
    json_object_set_new(usage, "prompt_tokens_details",
                        json_pack("{s:I}", "cached_tokens", (json_int_t)cached));
    free(text);
    return 0;
}
