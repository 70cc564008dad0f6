/*
 * Translators: numbers as prompts show them, and the growable buffer templates render into.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "fewshot/text.h"

static int buf_reserve(fewshot_text_buf *buf, size_t extra)
{
    if (extra > (size_t)-1 / 2 - buf->len)
        return fewshot_error_set(FEWSHOT_ENOMEM, "text buffer too large");
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap)
        return 0;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(buf->data, cap);
    if (!p)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    buf->data = p;
    buf->cap = cap;
    return 0;
}

int fewshot_text_buf_append(fewshot_text_buf *buf, const char *s, size_t len)
{
    int rc = buf_reserve(buf, len);
    if (rc)
        return rc;
    if (len)
        memcpy(buf->data + buf->len, s, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

int fewshot_text_buf_puts(fewshot_text_buf *buf, const char *s)
{
    return fewshot_text_buf_append(buf, s, strlen(s));
}

int fewshot_text_buf_printf(fewshot_text_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "bad format");
    int rc = buf_reserve(buf, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return 0;
}

void fewshot_text_buf_reset(fewshot_text_buf *buf)
{
    buf->len = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

char *fewshot_text_buf_detach(fewshot_text_buf *buf)
{
    char *s = buf->data ? buf->data : strdup("");
    buf->data = NULL;
    buf->len = buf->cap = 0;
    return s;
}

void fewshot_text_buf_free(fewshot_text_buf *buf)
{
    if (!buf)
        return;
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

int fewshot_text_options_init(fewshot_text_options *opts, unsigned int version)
{
    if (version != FEWSHOT_TEXT_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "text options version %u is not supported",
                                 version);
    *opts = (fewshot_text_options)FEWSHOT_TEXT_OPTIONS_INIT;
    return 0;
}

double fewshot_text_round(double x)
{
    double r = round(x);
    return r == 0 ? 0.0 : r;
}

static int nonfinite(char *buf, size_t size, double x)
{
    return snprintf(buf, size, "%s", isnan(x) ? "nan" : x > 0 ? "inf" : "-inf");
}

int fewshot_text_fixed(char *buf, size_t size, double x, int decimals)
{
    if (!isfinite(x))
        return nonfinite(buf, size, x);
    if (decimals < 0)
        decimals = 0;
    if (decimals > 17)
        decimals = 17;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%.*f", decimals, x);
    /* "-0.00": the sign of a value that shows as zero carries no information */
    const char *p = tmp;
    if (*p == '-' && strspn(p + 1, "0.") == strlen(p + 1))
        p++;
    return snprintf(buf, size, "%s", p);
}

int fewshot_text_shortest(char *buf, size_t size, double x)
{
    if (!isfinite(x))
        return nonfinite(buf, size, x);
    if (x == 0)
        return snprintf(buf, size, "0");
    /* integral values print as integers ("100", not "1e+02") */
    if (x == floor(x) && fabs(x) < 1e17)
        return snprintf(buf, size, "%.0f", x);
    char tmp[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(tmp, sizeof tmp, "%.*g", precision, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    return snprintf(buf, size, "%s", tmp);
}

int fewshot_text_significant(char *buf, size_t size, double x, int digits)
{
    if (!isfinite(x))
        return nonfinite(buf, size, x);
    if (digits < 1)
        digits = 1;
    if (digits > 17)
        digits = 17;
    if (x == 0)
        return snprintf(buf, size, "0");
    int decimals = digits - 1 - (int)floor(log10(fabs(x)));
    if (decimals <= 0)
        return fewshot_text_fixed(buf, size, x, 0);
    char tmp[512];
    fewshot_text_fixed(tmp, sizeof tmp, x, decimals > 17 ? 17 : decimals);
    /* trailing zeros say nothing more: "1.50" reads as "1.5" */
    size_t n = strlen(tmp);
    if (strchr(tmp, '.')) {
        while (n && tmp[n - 1] == '0')
            n--;
        if (n && tmp[n - 1] == '.')
            n--;
        tmp[n] = '\0';
    }
    if (strcmp(tmp, "-0") == 0)
        return snprintf(buf, size, "0");
    return snprintf(buf, size, "%s", tmp);
}

int fewshot_text_reward(char *buf, size_t size, double x, const fewshot_text_options *opts)
{
    if (opts && opts->numbers == FEWSHOT_NUMBERS_INTEGER && opts->reward_digits > 0)
        return fewshot_text_significant(buf, size, x, opts->reward_digits);
    return fewshot_text_number(buf, size, x, opts);
}

int fewshot_text_number(char *buf, size_t size, double x, const fewshot_text_options *opts)
{
    int mode = opts ? opts->numbers : FEWSHOT_NUMBERS_INTEGER;
    if (!isfinite(x))
        return nonfinite(buf, size, x);
    switch (mode) {
    case FEWSHOT_NUMBERS_DECIMALS:
        return fewshot_text_fixed(buf, size, x, opts->decimals);
    case FEWSHOT_NUMBERS_RAW:
        return fewshot_text_shortest(buf, size, x);
    default:
        break;
    }
    double r = fewshot_text_round(x);
    if (fabs(r) >= 1e15 || size < 24)
        return fewshot_text_fixed(buf, size, r, 0);
    /* the common case, without printf */
    long long v = (long long)r;
    char tmp[24];
    size_t n = 0;
    unsigned long long u = v < 0 ? (unsigned long long)(-v) : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t o = 0;
    if (v < 0)
        buf[o++] = '-';
    while (n)
        buf[o++] = tmp[--n];
    buf[o] = '\0';
    return (int)o;
}

json_t *fewshot_text_number_json(double x, const fewshot_text_options *opts)
{
    int mode = opts ? opts->numbers : FEWSHOT_NUMBERS_INTEGER;
    char tmp[512];
    if (!isfinite(x)) {
        nonfinite(tmp, sizeof tmp, x);
        return json_string(tmp);
    }
    switch (mode) {
    case FEWSHOT_NUMBERS_DECIMALS:
        fewshot_text_fixed(tmp, sizeof tmp, x, opts->decimals);
        return json_string(tmp);
    case FEWSHOT_NUMBERS_RAW:
        return json_real(x);
    default: {
        double r = fewshot_text_round(x);
        if (r >= -9.2e18 && r <= 9.2e18)
            return json_integer((json_int_t)r);
        fewshot_text_fixed(tmp, sizeof tmp, r, 0);
        return json_string(tmp);
    }
    }
}

static json_t *translate(const json_t *v, const fewshot_text_options *opts, int depth)
{
    if (depth > 256) {
        fewshot_error_set(FEWSHOT_ERANGE, "context nested deeper than 256 levels");
        return NULL;
    }
    if (json_is_real(v)) {
        json_t *n = fewshot_text_number_json(json_real_value(v), opts);
        if (!n)
            fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        return n;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < json_array_size(v); i++) {
            json_t *item = translate(json_array_get(v, i), opts, depth + 1);
            if (!item || json_array_append_new(a, item)) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item) {
            json_t *t = translate(item, opts, depth + 1);
            if (!o || !t || json_object_set_new(o, key, t)) {
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    return json_incref((json_t *)v);
}

int fewshot_text_translate(json_t **out, const json_t *ctx, const fewshot_text_options *opts)
{
    *out = NULL;
    if (!ctx)
        return fewshot_error_set(FEWSHOT_EINVAL, "translate: no context");
    json_t *t = translate(ctx, opts, 0);
    if (!t)
        return fewshot_error_last()->code ? fewshot_error_last()->code
                                          : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    *out = t;
    return 0;
}

int fewshot_text_actions(json_t **list, char **text, const double *action, size_t dim,
                         const fewshot_text_options *opts)
{
    double scale = opts && opts->action_scale != 0 ? opts->action_scale : 1.0;
    json_t *a = list ? json_array() : NULL;
    fewshot_text_buf buf = FEWSHOT_TEXT_BUF_INIT;
    int rc = fewshot_text_buf_puts(&buf, "[");
    for (size_t i = 0; rc == 0 && i < dim; i++) {
        char tmp[512];
        double v = action[i] * scale;
        int n = fewshot_text_number(tmp, sizeof tmp, v, opts);
        if (i)
            rc = fewshot_text_buf_append(&buf, ", ", 2);
        if (rc == 0)
            rc = fewshot_text_buf_append(&buf, tmp, n > 0 && (size_t)n < sizeof tmp ? (size_t)n
                                                                                 : strlen(tmp));
        if (rc == 0 && a && json_array_append_new(a, fewshot_text_number_json(v, opts)))
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    if (rc == 0)
        rc = fewshot_text_buf_puts(&buf, "]");
    if (rc || (list && !a)) {
        json_decref(a);
        fewshot_text_buf_free(&buf);
        return rc ? rc : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    if (list)
        *list = a;
    if (text)
        *text = fewshot_text_buf_detach(&buf);
    else
        fewshot_text_buf_free(&buf);
    return 0;
}
