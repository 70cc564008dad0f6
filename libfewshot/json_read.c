/*
 * JSON text read back into jansson values without jansson's reader for the texts the library
 * wrote itself (the LLM cache's replies, compact and mostly ASCII): jansson's reader spends
 * about 190 instructions per byte on a 350-byte reply (a callback, a UTF-8 decode and a
 * buffer append per character), more than the rest of a cached decision's lookup.
 *
 * The fast reader takes the common subset (objects, arrays, strings with the usual escapes,
 * integers, true, false, null) and builds what json_loads() builds: the same values, members
 * in the same order, a repeated key's last value. Anything else (reals, whose reading jansson
 * ties to the locale, \u escapes of surrogates or NUL, integers past 18 digits, deep nesting,
 * any error) gives up, and json_loadb() reads the text, so results and errors are jansson's.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_DEPTH 64

typedef struct reader {
    const char *p, *end;
    int depth;
    char *buf;              /* unescaped string bytes */
    size_t cap;
} reader;

static json_t *value(reader *r);

static void blanks(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r'))
        r->p++;
}

static int room(reader *r, size_t n)
{
    if (n <= r->cap)
        return 0;
    size_t cap = r->cap ? 2 * r->cap : 256;
    while (cap < n)
        cap *= 2;
    char *b = realloc(r->buf, cap);
    if (!b)
        return -1;
    r->buf = b;
    r->cap = cap;
    return 0;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* A string's bytes (r->p at its opening quote), unescaped: *s and *n point into the text when
 * it has no escape, else into r->buf. -1: give up. */
static int string_bytes(reader *r, const char **s, size_t *n)
{
    const char *p = ++r->p, *start = p;
    while (p < r->end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
        p++;
    if (p >= r->end || (unsigned char)*p < 0x20)
        return -1;
    if (*p == '"') {
        *s = start;
        *n = (size_t)(p - start);
        r->p = p + 1;
        return 0;
    }
    size_t len = (size_t)(p - start);
    if (room(r, len + 64))
        return -1;
    memcpy(r->buf, start, len);
    while (p < r->end && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || room(r, len + 4))
            return -1;
        if (c != '\\') {
            r->buf[len++] = (char)c;
            p++;
            continue;
        }
        if (p + 1 >= r->end)
            return -1;
        char e = p[1];
        p += 2;
        switch (e) {
        case '"': r->buf[len++] = '"'; break;
        case '\\': r->buf[len++] = '\\'; break;
        case '/': r->buf[len++] = '/'; break;
        case 'b': r->buf[len++] = '\b'; break;
        case 'f': r->buf[len++] = '\f'; break;
        case 'n': r->buf[len++] = '\n'; break;
        case 'r': r->buf[len++] = '\r'; break;
        case 't': r->buf[len++] = '\t'; break;
        case 'u': {
            unsigned u;
            /* surrogate pairs and NUL are left to jansson */
            if (r->end - p < 4 || hex4(p, &u) || u == 0 || (u >= 0xD800 && u <= 0xDFFF))
                return -1;
            p += 4;
            if (u < 0x80) {
                r->buf[len++] = (char)u;
            } else if (u < 0x800) {
                r->buf[len++] = (char)(0xC0 | (u >> 6));
                r->buf[len++] = (char)(0x80 | (u & 0x3F));
            } else {
                r->buf[len++] = (char)(0xE0 | (u >> 12));
                r->buf[len++] = (char)(0x80 | ((u >> 6) & 0x3F));
                r->buf[len++] = (char)(0x80 | (u & 0x3F));
            }
            break;
        }
        default:
            return -1;
        }
    }
    if (p >= r->end)
        return -1;
    r->p = p + 1;
    *s = r->buf;
    *n = len;
    return 0;
}

static json_t *string(reader *r)
{
    const char *s;
    size_t n;
    if (string_bytes(r, &s, &n))
        return NULL;
    return fewshot__json_text(s, n);   /* NULL for bytes jansson refuses */
}

/* An integer ([-]digits, no leading zero); NULL for a real or anything else. */
static json_t *number(reader *r)
{
    const char *p = r->p;
    int neg = *p == '-';
    p += neg;
    const char *digits = p;
    long long v = 0;
    while (p < r->end && *p >= '0' && *p <= '9' && p - digits < 18)
        v = 10 * v + (*p++ - '0');
    size_t nd = (size_t)(p - digits);
    if (nd == 0 || (nd > 1 && digits[0] == '0'))
        return NULL;
    /* a real, a longer integer or a glued token: jansson's to read */
    if (p < r->end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' ||
                       (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        return NULL;
    r->p = p;
    return json_integer(neg ? -v : v);
}

static json_t *word(reader *r, const char *w, size_t n, json_t *v)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return NULL;
    const char *after = r->p + n;
    if (after < r->end && ((*after >= 'a' && *after <= 'z') || (*after >= 'A' && *after <= 'Z') ||
                           (*after >= '0' && *after <= '9')))
        return NULL;
    r->p = after;
    return v;
}

static json_t *object(reader *r)
{
    json_t *o = json_object();
    r->p++;
    blanks(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return o;
    }
    while (o) {
        const char *k;
        size_t kn;
        if (r->p >= r->end || *r->p != '"' || string_bytes(r, &k, &kn) ||
            !fewshot__utf8_valid(k, kn) || memchr(k, '\0', kn))
            break;
        /* the key leaves r->buf before the value's strings reuse it */
        char small[64], *key = kn < sizeof small ? small : malloc(kn + 1);
        if (!key)
            break;
        memcpy(key, k, kn);
        key[kn] = '\0';
        blanks(r);
        json_t *v = NULL;
        if (r->p < r->end && *r->p == ':') {
            r->p++;
            blanks(r);
            v = value(r);
        }
        int bad = !v || json_object_setn_new_nocheck(o, key, kn, v) != 0;
        if (key != small)
            free(key);
        if (bad)
            break;
        blanks(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            blanks(r);
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return o;
        }
        break;
    }
    json_decref(o);
    return NULL;
}

static json_t *array(reader *r)
{
    json_t *a = json_array();
    r->p++;
    blanks(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return a;
    }
    while (a) {
        json_t *v = value(r);
        if (!v || json_array_append_new(a, v) != 0)
            break;
        blanks(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            blanks(r);
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return a;
        }
        break;
    }
    json_decref(a);
    return NULL;
}

static json_t *value(reader *r)
{
    if (r->p >= r->end || r->depth >= MAX_DEPTH)
        return NULL;
    json_t *v = NULL;
    switch (*r->p) {
    case '{':
    case '[':
        r->depth++;
        v = *r->p == '{' ? object(r) : array(r);
        r->depth--;
        return v;
    case '"':
        return string(r);
    case 't':
        return word(r, "true", 4, json_true());
    case 'f':
        return word(r, "false", 5, json_false());
    case 'n':
        return word(r, "null", 4, json_null());
    default:
        return *r->p == '-' || (*r->p >= '0' && *r->p <= '9') ? number(r) : NULL;
    }
}

json_t *fewshot__json_read_fast(const char *text, size_t len)
{
    reader r = {text, text + len, 0, NULL, 0};
    blanks(&r);
    json_t *v = r.p < r.end && (*r.p == '{' || *r.p == '[') ? value(&r) : NULL;
    blanks(&r);
    if (v && r.p != r.end) {
        json_decref(v);
        v = NULL;
    }
    free(r.buf);
    return v;
}

json_t *fewshot__json_read(const char *text, size_t len, json_error_t *err)
{
    json_t *v = fewshot__json_read_fast(text, len);
    return v ? v : json_loadb(text, len, 0, err);
}
