/*
 * Reply modes of the fault-injecting test server. A mode turns one parsed request into one
 * reply: a status, a JSON body (or raw bytes), or a fault (hang, reset, truncation).
 */
#ifndef LLM_SERVER_MODES_H
#define LLM_SERVER_MODES_H

#include <jansson.h>

typedef enum fault {
    FAULT_NONE = 0,
    FAULT_RESET,      /* close the connection without an answer */
    FAULT_HANG,       /* never answer (until the client gives up or the server stops) */
    FAULT_TRUNCATE    /* announce the whole body, send half, close */
} fault;

/* Per-request settings from the URL spec (/mode=status,code=503,fail=2/v1/...) or flags. */
typedef struct spec {
    char mode[32];         /* a mode name from the table */
    char then[32];         /* mode after `fail` requests under this spec ("" = echo) */
    int fail;              /* first `fail` requests use mode, later ones use then (-1: all) */
    int delay_ms;
    int code;              /* status mode: HTTP status */
    double retry_after;    /* seconds; < 0: no header */
    int retry_after_ms;    /* < 0: no header */
    double gain;           /* controller mode: action = gain * (target - room), clamped */
    int dim;               /* embedding dimension */
    long long tokens;      /* usage mode: the prompt_tokens claimed */
    char answer[32];       /* strict mode: the mode that answers a state ("" = controller) */
} spec;

typedef struct request {
    const char *endpoint;  /* "chat/completions", "completions", "embeddings", "models" */
    json_t *body;          /* parsed request (NULL for GET) */
    const char *last_user; /* last user message (chat) or prompt (completion) */
    int stream;
} request;

typedef struct reply {
    int status;
    json_t *body;          /* JSON to send, or NULL when raw is used */
    char *raw;             /* raw bytes to send instead (malformed JSON), malloc'd */
    fault fault;
    double retry_after;
    int retry_after_ms;
} reply;

typedef int (*mode_fn)(const spec *s, const request *q, reply *r);

typedef struct mode {
    const char *name;
    const char *summary;
    mode_fn fn;
} mode;

extern const mode modes[];

/* OpenAI's request checks, then a reply any plugin parses (modes_strict.c). */
int mode_strict(const spec *s, const request *q, reply *r);
const mode *mode_find(const char *name);

/* A completion-shaped reply with `text` and finish_reason, for chat or completions. */
json_t *make_completion(const request *q, const char *text, const char *finish);

#endif
