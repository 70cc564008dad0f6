/*
 * The per-thread last error. Each thread owns one record; messages are formatted into its
 * own buffers so fewshot_error_last() never returns a dangling or NULL string.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fewshot/error.h"
#include "internal.h"

#define MESSAGE_MAX 1024
#define FILE_MAX 512
#define PATH_MAX_JSON 256

typedef struct error_state {
    fewshot_error pub;
    char message[MESSAGE_MAX];
    char file[FILE_MAX];
    char path[PATH_MAX_JSON];
} error_state;

static _Thread_local error_state last = {
    .pub = {0, "no error", "", 0, 0, -1, ""},
};

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static void reset_location(void)
{
    last.file[0] = '\0';
    last.path[0] = '\0';
    last.pub.line = 0;
    last.pub.column = 0;
    last.pub.position = -1;
}

static void publish(int code)
{
    last.pub.code = code;
    last.pub.message = last.message;
    last.pub.file = last.file;
    last.pub.path = last.path;
}

const fewshot_error *fewshot_error_last(void)
{
    if (last.pub.message == NULL || last.pub.code == 0) {
        last.pub.message = "no error";
        last.pub.file = "";
        last.pub.path = "";
    }
    return &last.pub;
}

void fewshot_error_clear(void)
{
    reset_location();
    last.message[0] = '\0';
    last.pub.code = 0;
    last.pub.message = "no error";
}

const char *fewshot_strerror(int code)
{
    switch (code) {
    case FEWSHOT_OK: return "success";
    case FEWSHOT_ERROR: return "error";
    case FEWSHOT_ENOMEM: return "out of memory";
    case FEWSHOT_EINVAL: return "invalid argument";
    case FEWSHOT_ENOTFOUND: return "not found";
    case FEWSHOT_EPARSE: return "parse error";
    case FEWSHOT_EIO: return "input/output error";
    case FEWSHOT_EPLUGIN: return "plugin error";
    case FEWSHOT_ERANGE: return "value out of range";
    case FEWSHOT_EUSER: return "user callback failed";
    case FEWSHOT_ENET: return "network error";
    case FEWSHOT_EHTTP: return "HTTP error";
    case FEWSHOT_ETIMEOUT: return "timed out";
    case FEWSHOT_EMISMATCH: return "mismatch";
    case FEWSHOT_EUNSUPPORTED: return "unsupported";
    case FEWSHOT_ETRUNCATED: return "truncated";
    case FEWSHOT_EAGAIN: return "try again";
    case FEWSHOT_EEXISTS: return "already exists";
    default: return "unknown error";
    }
}

int fewshot_error_setv(int code, const char *fmt, va_list ap)
{
    reset_location();
    vsnprintf(last.message, sizeof last.message, fmt, ap);
    publish(code);
    return code;
}

int fewshot_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fewshot_error_setv(code, fmt, ap);
    va_end(ap);
    return code;
}

int fewshot_error_set_at(int code, const char *file, int line, int column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fewshot_error_setv(code, fmt, ap);
    va_end(ap);
    copy_str(last.file, sizeof last.file, file);
    last.pub.line = line;
    last.pub.column = column;
    return code;
}

int fewshot_error_set_path(int code, const char *file, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fewshot_error_setv(code, fmt, ap);
    va_end(ap);
    copy_str(last.file, sizeof last.file, file);
    copy_str(last.path, sizeof last.path, path);
    return code;
}

void fewshot_error_prefix(const char *fmt, ...)
{
    char prefix[MESSAGE_MAX], joined[MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t n = strlen(prefix);
    if (n > sizeof joined - 3)
        n = sizeof joined - 3;
    memcpy(joined, prefix, n);
    memcpy(joined + n, ": ", 2);
    size_t m = strnlen(last.message, sizeof joined - n - 3);
    memcpy(joined + n + 2, last.message, m);
    joined[n + 2 + m] = '\0';
    memcpy(last.message, joined, sizeof joined);
    last.pub.message = last.message;
}

int fewshot_error_format(char *buf, size_t size)
{
    const fewshot_error *e = fewshot_error_last();
    char where[FILE_MAX + 64] = "";
    size_t n = 0;

    if (e->file[0]) {
        if (e->line > 0 && e->column > 0)
            n = (size_t)snprintf(where, sizeof where, "%s:%d:%d: ", e->file, e->line, e->column);
        else if (e->line > 0)
            n = (size_t)snprintf(where, sizeof where, "%s:%d: ", e->file, e->line);
        else
            n = (size_t)snprintf(where, sizeof where, "%s: ", e->file);
    }
    if (e->path[0] && n < sizeof where)
        snprintf(where + n, sizeof where - n, "%s: ", e->path);
    return snprintf(buf, size, "%s%s", where, e->message);
}

/* A server may quote the credential it was sent (a 401 "invalid key sk-..."); such text reaches
 * error messages, logs and results.sqlite, so every copy of a server's words is masked first.
 * Here with the error record, so anything that reports errors can mask them. */
void fewshot__redact(char *s, const char *secret)
{
    if (!s || !secret)
        return;
    size_t n = strlen(secret);
    if (n < 4)          /* too short to tell apart from ordinary words */
        return;
    char *hit;
    while ((hit = strstr(s, secret)) != NULL)
        memset(hit, '*', n);
}

void fewshot__error_redact(const char *secret)
{
    fewshot__redact(last.message, secret);
    fewshot__redact(last.file, secret);
    fewshot__redact(last.path, secret);
}
