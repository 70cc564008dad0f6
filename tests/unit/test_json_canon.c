/* json_canon.c writes what json_dumps(JSON_COMPACT [| JSON_SORT_KEYS]) writes, byte for byte:
 * the LLM cache keys of every existing cache depend on it. Compared on fixed documents and on
 * random ones with every escaped byte, multi-byte UTF-8, reals, deep nesting and many keys. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"
#include "xorshift.h"

static void same(const json_t *v, int sort, const char *const *skip)
{
    /* (json_deep_copy drops what follows a NUL in a key: copy only to remove keys) */
    json_t *ref = skip ? json_deep_copy(v) : json_incref((json_t *)v);
    for (size_t i = 0; skip && skip[i]; i++)
        json_object_del(ref, skip[i]);
    char *want = json_dumps(ref, JSON_ENCODE_ANY | JSON_COMPACT | (sort ? JSON_SORT_KEYS : 0));
    fewshot__jbuf b = {0};
    assert_int_equal(fewshot__json_canon(&b, v, sort, skip), 0);
    assert_non_null(want);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, strlen(want));
    free(want);
    fewshot__jbuf_free(&b);
    json_decref(ref);
}

static void test_fixed(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{}", "[]", "\"\"", "0", "-1", "1.5", "1e300", "-0.0", "true", "false", "null",
        "{\"b\":1,\"a\":[1,2.25,{\"z\":null,\"y\":\"\\u0000x\"}],\"ab\":\"\\\"\\\\/\\b\\f\\n\\r\\t\"}",
        "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"You are\\nan HVAC "
        "administrator.\"},{\"role\":\"user\",\"content\":\"Room 1: 23 degrees Celsius\\u00b0 "
        "\\u20ac \\ud83d\\ude00 \\u007f \\u001f\"}],\"temperature\":0.0,\"max_tokens\":96,"
        "\"seed\":42,\"top_p\":0.1,\"stop\":[\"\\n\\n\"],\"response_format\":{\"type\":"
        "\"json_schema\",\"json_schema\":{\"strict\":true,\"schema\":{\"type\":\"object\"}}}}",
        "[0.1,0.30000000000000004,123456789012345678,1e-07,2.5e+20,3.0]",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_error_t err;
        json_t *v = json_loads(docs[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        assert_non_null(v);
        same(v, 0, NULL);
        same(v, 1, NULL);
        json_decref(v);
    }
    static const char *const skip[] = {"stream", "stream_options", NULL};
    json_t *v = json_loads("{\"stream\":true,\"model\":\"m\",\"stream_options\":{\"a\":1},"
                           "\"x\":{\"stream\":1}}", 0, NULL);
    same(v, 1, skip);   /* only top-level keys are left out */
    json_decref(v);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    return xorshift64(&rng);
}

static json_t *random_string(void)
{
    static const char *const pieces[] = {"a", "Room 1: 23 ", "\"", "\\", "/", "\n", "\r", "\t",
                                         "\b", "\f", "\x01", "\x1f", "\x7f", "\xc3\xa9",
                                         "\xe2\x82\xac", "\xf0\x9f\x98\x80", " ", "{", "}"};
    char buf[512];
    size_t n = 0, count = next() % 40;
    for (size_t i = 0; i < count; i++) {
        const char *p = pieces[next() % (sizeof pieces / sizeof pieces[0])];
        size_t l = strlen(p);
        if (n + l >= sizeof buf)
            break;
        memcpy(buf + n, p, l);
        n += l;
    }
    if (next() % 8 == 0 && n + 1 < sizeof buf)
        buf[n++] = '\0';    /* strings may hold NUL */
    return json_stringn(buf, n);
}

static json_t *random_value(int depth)
{
    switch (next() % (depth > 4 ? 4 : 7)) {
    case 0: return random_string();
    case 1: return json_integer((json_int_t)(next() % 2000001) - 1000000);
    case 2: return json_real(((double)(int64_t)next()) / (double)(next() % 1000 + 1) * 1e-9);
    case 3: return next() % 3 == 0 ? json_null() : json_boolean(next() % 2);
    case 4: case 5: {
        json_t *o = json_object();
        size_t n = next() % 40;     /* more than the 32 keys kept on the stack */
        for (size_t i = 0; i < n; i++) {
            json_t *k = random_string();
            json_object_setn_new(o, json_string_value(k), json_string_length(k),
                                 random_value(depth + 1));
            json_decref(k);
        }
        return o;
    }
    default: {
        json_t *a = json_array();
        size_t n = next() % 6;
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    }
}

static void test_random(void **state)
{
    (void)state;
    for (int i = 0; i < 400; i++) {
        json_t *v = random_value(0);
        same(v, 0, NULL);
        same(v, 1, NULL);
        json_decref(v);
    }
}

/* numbers of every magnitude, as bit patterns and as round values: the formatting of reals
 * (".0" added, the exponent's '+' and zeros dropped) and of integers at their limits */
static void test_numbers(void **state)
{
    (void)state;
    json_t *a = json_array();
    static const double fixed[] = {0.0, -0.0, 1.0, -1.0, 0.1, 1e15, 1e16, 1e17, 1e21, 1e22,
                                   1e-5, 1e-4, 1e-300, 5e-324, 1.7976931348623157e308, 123.0,
                                   2.5e-7, -9.999999999999999e22, 4294967296.0, 1e100, 1e-100,
                                   99999999999999984.0, -99999999999999984.0, 1e16 + 2,
                                   9007199254740993.0, -123456789.0, 0.5, -0.5, 1e17 + 16};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        json_array_append_new(a, json_real(fixed[i]));
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = next();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (i % 2)
            d = (double)(int64_t)(next() % 2000001 - 1000000) * 1e-6 *
                (double)(next() % 2 ? 1 : 1e12);
        json_t *r = json_real(d);   /* NULL for NaN and the infinities */
        if (r)
            json_array_append_new(a, r);
    }
    static const json_int_t ints[] = {0, 1, -1, INT64_MAX, INT64_MIN, 1000000, -999999999999};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        json_array_append_new(a, json_integer(ints[i]));
    json_array_append_new(a, json_true());
    json_array_append_new(a, json_false());
    json_array_append_new(a, json_null());
    same(a, 0, NULL);
    json_decref(a);
}

/* reals from 1e-5 to 1e17, written without printf: random bit patterns in that range, short
 * decimals, neighbours of the powers of ten, and exact ties at the 17th digit (18-digit
 * values of a quarter, an eighth, ...), which printf rounds to even */
static void test_reals_17(void **state)
{
    (void)state;
    json_t *a = json_array();
    for (int i = 0; i < 60000; i++) {
        uint64_t bits = next();
        double d;
        memcpy(&d, &bits, sizeof d);
        /* exponents from 2^-17 to 2^57 (just past 1e-5 and 1e17) */
        d = ldexp(frexp(fabs(d), &(int){0}), (int)(next() % 75) - 17) * (next() % 2 ? 1 : -1);
        json_array_append_new(a, json_real(d));
        json_array_append_new(a, json_real((double)(int64_t)(next() % 100000000) *
                                           pow(10, (double)(next() % 24) - 13)));
    }
    for (int k = -6; k <= 17; k++) {
        double p = pow(10, k);
        double near[] = {p, nextafter(p, 0), nextafter(p, INFINITY), 5 * p, 9.5 * p,
                         nextafter(9.5 * p, 0), 0.99999999999999994 * p * 10};
        for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
            json_array_append_new(a, json_real(near[i]));
            json_array_append_new(a, json_real(-near[i]));
        }
    }
    for (int i = 0; i < 20000; i++) {
        /* m / 2^j with 18 significant digits: the 18th is 5 for some of them, an exact tie */
        int j = 1 + (int)(next() % 6);
        double lo = ldexp(1e17, -j), d = floor(lo + (double)(next() % (uint64_t)lo));
        json_array_append_new(a, json_real(ldexp(d, -j) + ldexp(1, -j)));
        json_array_append_new(a, json_real(1234567890123456.25 + (double)(i % 64) * 0.25));
    }
    same(a, 0, NULL);
    json_decref(a);
}

static void test_long_prompt(void **state)
{
    (void)state;
    /* a paper-size prompt: 13 KB of lines */
    char *text = malloc(14000);
    size_t n = 0;
    for (int i = 0; n < 13000; i++)
        n += (size_t)sprintf(text + n, "Room %d: %d degrees Celsius.\n\"quoted\"\t\\ ", i, i % 30);
    json_t *v = json_pack("{s:s, s:[{s:s, s:s}], s:f}", "model", "m", "messages", "role",
                          "user", "content", text, "temperature", 0.0);
    same(v, 1, NULL);
    json_decref(v);
    free(text);
}

/* fewshot__utf8_valid accepts exactly what json_stringn accepts */
static void test_utf8(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "", "plain ASCII text, longer than eight bytes", "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf",
        "\xed\xa0\x80", "\xf0\x80\x80\xaf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\x80",
        "\xbf", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "abcdefgh\xc3\xa9ijklmnop\xff", "\xfe\xff",
        "0123456\xe2\x82\xac" "89abcdef",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i]);
        json_t *j = json_stringn(cases[i], n);
        assert_int_equal(fewshot__utf8_valid(cases[i], n), j != NULL);
        json_decref(j);
    }
    /* every two-byte string, and random longer ones */
    for (unsigned a = 0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++) {
            char s[2] = {(char)a, (char)b};
            json_t *j = json_stringn(s, 2);
            assert_int_equal(fewshot__utf8_valid(s, 2), j != NULL);
            json_decref(j);
        }
    for (int k = 0; k < 20000; k++) {
        char s[24];
        size_t n = next() % sizeof s;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next();
            s[i] = (char)(r % 4 == 0 ? 0x80 + (r >> 8) % 0x80 : r % 4 == 1 ? 0xc0 + (r >> 8) % 0x40
                          : (uint64_t)(0x20 + (r >> 8) % 0x60));
        }
        json_t *j = json_stringn(s, n);
        assert_int_equal(fewshot__utf8_valid(s, n), j != NULL);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_reals_17),
        cmocka_unit_test(test_long_prompt),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
