/*
 * Compact JSON text in one pass, byte for byte what json_dumps(v, JSON_COMPACT [|
 * JSON_SORT_KEYS]) writes, for the LLM request path: the cache key hashes the sorted text of
 * every request and the same text is the body sent, and jansson's dumper spends about 130
 * instructions per byte on a 13 KB prompt (a callback and a UTF-8 decode per character).
 * Strings are copied in runs between the bytes that need escaping; numbers are written as
 * jansson writes them (the tests compare the two on random values of every magnitude).
 */
#include "config.h"

#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "internal.h"

static int grow(fewshot__jbuf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int fewshot__jbuf_add(fewshot__jbuf *b, const char *s, size_t n)
{
    if (grow(b, n))
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void fewshot__jbuf_free(fewshot__jbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* 1 for the bytes jansson escapes without JSON_ENSURE_ASCII / JSON_ESCAPE_SLASH */
static const unsigned char needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1 /* " */, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1 /* \ */,
};

/* Bytes at the start of s (n bytes) that need no escape, eight at a time: a word has a byte
 * below 0x20, a '"' or a '\\' exactly when one of these zero-byte tests fires, and the lowest
 * byte that fires is the first such byte (a test can misfire only above a byte that fires). */
static size_t plain_run(const char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;
#if defined(__SSE2__) && defined(__GNUC__)
    /* sixteen at a time where SSE2 is (every x86-64): bytes below 0x20 as an unsigned compare
     * (a signed one with the high bits flipped), '"' and '\\' as equalities */
    const __m128i flip = _mm_set1_epi8((char)0x80), limit = _mm_set1_epi8((char)(0x20 ^ 0x80)),
                  quote16 = _mm_set1_epi8('"'), slash16 = _mm_set1_epi8('\\');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit = _mm_or_si128(_mm_cmplt_epi8(_mm_xor_si128(v, flip), limit),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, quote16),
                                                _mm_cmpeq_epi8(v, slash16)));
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask)
            return i + (size_t)__builtin_ctz(mask);
    }
#endif
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t quote = w ^ (ones * '"'), slash = w ^ (ones * '\\');
        uint64_t hit = (((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
                        ((slash - ones) & ~slash)) & highs;
        if (hit) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return i + (size_t)__builtin_ctzll(hit) / 8;
#else
            break;
#endif
        }
    }
    while (i < n && !needs_escape[(unsigned char)s[i]])
        i++;
    return i;
}

/* The escape of byte c (one that needs one) at o; returns the end. */
static char *escape(char *o, unsigned char c)
{
    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\b': *o++ = 'b'; break;
    case '\f': *o++ = 'f'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    default:
        o += sprintf(o, "u%04X", (unsigned int)c); /* jansson's upper-case digits */
    }
    return o;
}

/* Room at o for an escape and the rest bytes after it (at most 6 + rest + 16 + 2): o again,
 * or where it is after the buffer moved; NULL out of memory. */
static char *room(fewshot__jbuf *b, char *o, size_t rest)
{
    size_t at = (size_t)(o - b->data);
    if (at + rest + 6 + 16 + 2 + 1 <= b->cap)
        return o;
    b->len = at;
    if (grow(b, rest + 6 + 16 + 2 + 64))
        return NULL;
    return b->data + at;
}

static int add_string(fewshot__jbuf *b, const char *s, size_t n)
{
    /* room for the bytes as they are (and 16 for the whole blocks stored below), more as
     * escapes need it: reserving 6 bytes for each (\u00XX) made the buffer of a 13 KB prompt
     * grow to 80 KB, copying what it held each time */
    if (grow(b, n + 2 + 16 + 64))
        return -1;
    char *o = b->data + b->len;
    *o++ = '"';
    size_t i = 0;
#if defined(__SSE2__) && defined(__GNUC__)
    /* sixteen bytes stored at a time, the escapes among them written over the copy: a
     * prompt's newlines every few dozen bytes ended a run each, and a call to memcpy */
    const __m128i flip = _mm_set1_epi8((char)0x80), limit = _mm_set1_epi8((char)(0x20 ^ 0x80)),
                  quote16 = _mm_set1_epi8('"'), slash16 = _mm_set1_epi8('\\');
    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit = _mm_or_si128(_mm_cmplt_epi8(_mm_xor_si128(v, flip), limit),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, quote16),
                                                _mm_cmpeq_epi8(v, slash16)));
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        _mm_storeu_si128((__m128i *)(void *)o, v);
        if (!mask) {
            i += 16;
            o += 16;
            continue;
        }
        size_t z = (size_t)__builtin_ctz(mask);
        if (!(o = room(b, o + z, n - i - z)))
            return -1;
        o = escape(o, (unsigned char)s[i + z]);
        i += z + 1;
    }
#endif
    while (i < n) {
        size_t j = i + plain_run(s + i, n - i);
        memcpy(o, s + i, j - i);
        o += j - i;
        if (j == n)
            break;
        if (!(o = room(b, o, n - j)))
            return -1;
        o = escape(o, (unsigned char)s[j]);
        i = j + 1;
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

/* "%.17g" of d written without printf for 1e-5 <= |d| < 1e17 (results hold many such
 * reals: printf took 3000 instructions for each): d is m * 2^e exactly, so the 17 digits are
 * m * 10^(16 - k) / 2^-e, rounded to nearest with ties to even as glibc rounds (in its
 * default rounding mode, the only one this takes), in 128-bit integers. 0 for the values it
 * leaves to printf. The tests compare it with printf on values of every magnitude and ties. */
#if defined(__SIZEOF_INT128__)
static size_t g17(char *out, double d)
{
    double a = fabs(d);
    if (!(a >= 1e-5 && a < 1e17) || fegetround() != FE_TONEAREST)
        return 0;
    int be;
    double fr = frexp(a, &be);              /* a = fr * 2^be, 0.5 <= fr < 1 */
    uint64_t m = (uint64_t)ldexp(fr, 53);   /* exact: a = m * 2^(be - 53) */
    int e = be - 53;                        /* -70 < e <= 4 in this range */
    static const uint64_t p10[] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL,
                                   1000000ULL, 10000000ULL, 100000000ULL, 1000000000ULL,
                                   10000000000ULL, 100000000000ULL, 1000000000000ULL,
                                   10000000000000ULL, 100000000000000ULL,
                                   1000000000000000ULL, 10000000000000000ULL,
                                   100000000000000000ULL};
    int k = (int)floor(log10(a));           /* the exponent, corrected below */
    uint64_t q = 0;
    for (int tries = 0;; tries++) {
        if (tries == 3 || k < -5 || k > 16)
            return 0;
        /* a * 10^(16 - k) = m * 10^(16 - k) * 2^e, with 0 <= 16 - k <= 21 < 2^70 */
        int t = 16 - k;
        unsigned __int128 pw = t <= 17 ? p10[t] : (unsigned __int128)p10[17] * p10[t - 17];
        unsigned __int128 prod = (unsigned __int128)m * pw, rest = 0, half = 0;
        if (e >= 0) {
            prod <<= e;
        } else {
            int sh = -e;
            rest = prod & (((unsigned __int128)1 << sh) - 1);
            half = (unsigned __int128)1 << (sh - 1);
            prod >>= sh;
        }
        if (prod < p10[16]) {
            k--;
            continue;
        }
        if (prod >= p10[17]) {
            k++;
            continue;
        }
        q = (uint64_t)prod;
        if (rest > half || (rest == half && half && (q & 1)))
            q++;
        if (q == p10[17]) {
            q = p10[16];
            k++;
        }
        break;
    }
    char dig[17];
    for (int i = 16; i >= 0; i--, q /= 10)
        dig[i] = (char)('0' + q % 10);
    int nd = 17;                            /* %g drops trailing zeros */
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    char *o = out;
    if (signbit(d))
        *o++ = '-';
    if (k < -4 || k >= 17) {                /* d.ddde-XX */
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        o += sprintf(o, "e%c%02d", k < 0 ? '-' : '+', k < 0 ? -k : k);
    } else if (k >= 0) {                    /* ddd.ddd */
        memcpy(o, dig, (size_t)k + 1);
        o += k + 1;
        if (nd > k + 1) {
            *o++ = '.';
            memcpy(o, dig + k + 1, (size_t)(nd - k - 1));
            o += nd - k - 1;
        }
    } else {                                /* 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -k - 1; i++)
            *o++ = '0';
        memcpy(o, dig, (size_t)nd);
        o += nd;
    }
    *o = '\0';
    return (size_t)(o - out);
}
#else
static size_t g17(char *out, double d)
{
    (void)out, (void)d;
    return 0;
}
#endif

/* A real as jansson writes it (precision 17, its default): "%.17g" with the locale's decimal
 * point made '.', ".0" added when the text would read back as an integer, and the exponent
 * without '+' or leading zeros. The only byte of "%.17g" outside "+-0123456789e" is the
 * decimal point, whatever the locale. */
static size_t real_text(char *out, size_t size, double d)
{
    if (d > -1e17 && d < 1e17 && (double)(long long)d == d) {
        /* an integral value has at most 17 digits here, all of them shown by "%.17g":
         * written without printf (results hold many, 1.0 for an agreeing demonstration) */
        long long v = (long long)d;
        unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
        char digits[24], *p = digits + sizeof digits;
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (v < 0 || (v == 0 && signbit(d)))
            *--p = '-';
        size_t len = (size_t)(digits + sizeof digits - p);
        if (len + 3 > size)
            return 0;
        memcpy(out, p, len);
        memcpy(out + len, ".0", 3);
        return len + 2;
    }
    int n = size >= 32 ? (int)g17(out, d) : 0;
    if (n == 0)
        n = snprintf(out, size, "%.17g", d);
    if (n < 0 || (size_t)n >= size - 3)
        return 0;
    size_t len = (size_t)n;
    int point = 0;
    char *e = NULL;
    for (size_t i = 0; i < len; i++) {
        char c = out[i];
        if (c == 'e')
            e = out + i;
        else if (c != '+' && c != '-' && (c < '0' || c > '9')) {
            out[i] = '.';
            point = 1;
        }
    }
    if (!point && !e) {
        memcpy(out + len, ".0", 3);
        return len + 2;
    }
    if (e) {
        char *from = e + 1, *to = e + 1;
        if (*from == '+')
            from++;
        else if (*from == '-')
            from = ++to;
        while (*from == '0' && from[1])
            from++;
        if (from != to) {
            memmove(to, from, (size_t)(out + len - from) + 1);
            len -= (size_t)(from - to);
        }
    }
    return len;
}

static int add_scalar(fewshot__jbuf *b, const json_t *v)
{
    char text[64];
    size_t n;
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        n = (size_t)snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        if ((n = real_text(text, sizeof text, json_real_value(v))) == 0)
            return -1;
        break;
    case JSON_TRUE: return fewshot__jbuf_add(b, "true", 4);
    case JSON_FALSE: return fewshot__jbuf_add(b, "false", 5);
    case JSON_NULL: return fewshot__jbuf_add(b, "null", 4);
    default: return -1;
    }
    return fewshot__jbuf_add(b, text, n);
}

typedef struct key_ref {
    const char *key;
    size_t len;
    json_t *value;
} key_ref;

static int cmp_keys(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int skipped(const char *key, const char *const *skip)
{
    for (size_t i = 0; skip && skip[i]; i++)
        if (strcmp(key, skip[i]) == 0)
            return 1;
    return 0;
}

static int add_value(fewshot__jbuf *b, const json_t *v, int sort, const char *const *skip,
                     int depth);

static int add_object(fewshot__jbuf *b, const json_t *v, int sort, const char *const *skip,
                      int depth)
{
    size_t n = json_object_size(v), k = 0;
    key_ref stack[32], *keys = n <= 32 ? stack : malloc(n * sizeof *keys);
    if (!keys)
        return -1;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)v, key, value) {
        if (skip && skipped(key, skip))
            continue;
        keys[k].key = key;
#if JANSSON_VERSION_HEX >= 0x020e00
        keys[k].len = json_object_iter_key_len(json_object_key_to_iter(key));
#else
        keys[k].len = strlen(key);
#endif
        keys[k++].value = value;
    }
    if (sort)
        qsort(keys, k, sizeof *keys, cmp_keys);
    int rc = fewshot__jbuf_add(b, "{", 1);
    for (size_t i = 0; rc == 0 && i < k; i++) {
        if (i)
            rc = fewshot__jbuf_add(b, ",", 1);
        if (rc == 0)
            rc = add_string(b, keys[i].key, keys[i].len);
        if (rc == 0)
            rc = fewshot__jbuf_add(b, ":", 1);
        if (rc == 0)
            rc = add_value(b, keys[i].value, sort, NULL, depth + 1);
    }
    if (rc == 0)
        rc = fewshot__jbuf_add(b, "}", 1);
    if (keys != stack)
        free(keys);
    return rc;
}

static int add_value(fewshot__jbuf *b, const json_t *v, int sort, const char *const *skip,
                     int depth)
{
    if (depth > 2048)
        return -1; /* jansson's own limit on nesting */
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return add_object(b, v, sort, skip, depth);
    case JSON_ARRAY: {
        int rc = fewshot__jbuf_add(b, "[", 1);
        for (size_t i = 0; rc == 0 && i < json_array_size(v); i++) {
            if (i)
                rc = fewshot__jbuf_add(b, ",", 1);
            if (rc == 0)
                rc = add_value(b, json_array_get(v, i), sort, NULL, depth + 1);
        }
        return rc ? rc : fewshot__jbuf_add(b, "]", 1);
    }
    case JSON_STRING:
        return add_string(b, json_string_value(v), json_string_length(v));
    default:
        return add_scalar(b, v);
    }
}

int fewshot__json_canon(fewshot__jbuf *b, const json_t *v, int sort, const char *const *skip)
{
    if (!v)
        return -1;
    size_t start = b->len;
    int rc = add_value(b, v, sort, skip, 0);
    if (rc && b->data) {
        b->len = start;
        b->data[start] = '\0';
    }
    return rc;
}

int fewshot__json_canon_string(fewshot__jbuf *b, const char *s, size_t n)
{
    return add_string(b, s, n);
}
