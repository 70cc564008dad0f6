/* json_read.c reads what json_loads reads: the same values with members in the same order, on
 * LLM replies, random documents (every escaped byte, multi-byte UTF-8, integers of every size,
 * reals, nesting, repeated keys) and broken texts, which both refuse. Its fast reader takes
 * the replies itself instead of leaving them to jansson. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"

static uint64_t state = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

/* text read both ways: both refuse it, or both give equal values dumped the same */
static void same(const char *text, size_t len)
{
    json_error_t jerr;
    json_t *ref = json_loadb(text, len, 0, &jerr), *got = fewshot__json_read(text, len, &jerr);
    assert_true((ref == NULL) == (got == NULL));
    if (ref) {
        assert_true(json_equal(ref, got));
        char *a = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY);
        char *b = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        assert_string_equal(a, b);     /* member order and integer or real */
        free(a);
        free(b);
    }
    json_t *fast = fewshot__json_read_fast(text, len);
    if (fast) {
        assert_non_null(ref);
        assert_true(json_equal(ref, fast));
    }
    json_decref(ref);
    json_decref(got);
    json_decref(fast);
}

static void same_str(const char *text)
{
    same(text, strlen(text));
}

static void test_replies(void **st)
{
    (void)st;
    const char *reply = "{\"id\":\"cmpl-test\",\"object\":\"chat.completion\",\"created\":0,"
                        "\"model\":\"gpt-4o\",\"system_fingerprint\":\"fp_test\",\"choices\":[{"
                        "\"index\":0,\"finish_reason\":\"stop\",\"message\":{\"role\":"
                        "\"assistant\",\"content\":\"Actions: [22, 22, 24]\\nDone \\u00e9\"}}],"
                        "\"usage\":{\"prompt_tokens\":711,\"completion_tokens\":21,"
                        "\"total_tokens\":732},\"logprobs\":null,\"ok\":true,\"no\":false}";
    same_str(reply);
    json_t *fast = fewshot__json_read_fast(reply, strlen(reply));
    assert_non_null(fast);     /* a reply is read without jansson's reader */
    json_decref(fast);
    same_str(" \n\t{ \"a\" : [ 1 , -2 , 0 , -0 , 999999999999999999 ] ,\r\"a\" : { } , \"b\" : [ ] } ");
}

static void test_broken(void **st)
{
    (void)st;
    static const char *const texts[] = {
        "", " ", "{", "[", "}", "[1,]", "{\"a\":1,}", "[01]", "[-]", "[-01]", "[1.5]",
        "[1e3]", "[1E-2]", "[-0.0]", "[tru]", "[truex]", "[nul]", "[null1]", "[true false]",
        "[\"\\u0000\"]", "[\"\\ud83d\\ude00\"]", "[\"\\ud83d\"]", "[\"\\uzzzz\"]", "[\"\\q\"]",
        "{\"a\" 1}", "{a:1}", "{\"a\":}", "[1] x", "[1][2]", "1", "\"s\"", "true", "null",
        "[\"\xff\"]", "[\"\xc3\"]", "[\"\xed\xa0\x80\"]", "[\"a\nb\"]", "[\"a\tb\"]",
        "[\"unterminated]", "[1234567890123456789]", "[12345678901234567890123]",
        "[-9223372036854775808]", "{\"k\\u00e9y\":1,\"k\\u00e9y\":2}", "{\"\":0}",
        "[1,2", "{\"a\":[1,{\"b\":[true,null,\"x\\\"y\\\\z\\/\"]}]}", "[\"\\b\\f\\n\\r\\t\"]",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        same_str(texts[i]);
    /* deeper than the fast reader goes */
    char deep[400];
    for (int i = 0; i < 150; i++)
        deep[i] = '[';
    for (int i = 0; i < 150; i++)
        deep[150 + i] = ']';
    same(deep, 300);
    /* a NUL ends what is read */
    same("[1]\0[2]", 7);
}

static json_t *random_value(int depth)
{
    switch (next() % (depth > 4 ? 5 : 8)) {
    case 0: return json_integer((json_int_t)(next() >> (next() % 64)) * (next() % 2 ? 1 : -1));
    case 1: return json_real((double)(int64_t)next() / (double)(next() % 1000 + 1));
    case 2: return next() % 2 ? json_true() : json_false();
    case 3: return json_null();
    case 4: {
        char s[40];
        size_t n = next() % sizeof s;
        for (size_t i = 0; i < n; i++) {
            unsigned b = (unsigned)(next() % 160);
            s[i] = (char)(b < 128 ? (b ? b : 'x') : 'a');
        }
        json_t *v = json_stringn(s, n);
        return v ? v : json_string("\xc3\xa9\xe2\x82\xac");
    }
    case 5:
    case 6: {
        json_t *o = json_object();
        size_t n = next() % 6;
        for (size_t i = 0; i < n; i++) {
            char key[8];
            snprintf(key, sizeof key, "k%u\"\\", (unsigned)(next() % 5));
            json_object_set_new(o, key + (next() % 2 ? 0 : 2), random_value(depth + 1));
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

static void test_random(void **st)
{
    (void)st;
    for (int i = 0; i < 3000; i++) {
        json_t *doc = json_array();
        json_array_append_new(doc, random_value(0));
        json_array_append_new(doc, random_value(0));
        static const size_t flags[] = {JSON_COMPACT, JSON_INDENT(2), 0,
                                       JSON_COMPACT | JSON_ENSURE_ASCII};
        for (size_t f = 0; f < 4; f++) {
            char *text = json_dumps(doc, flags[f]);
            same_str(text);
            /* a cut text is refused by both */
            size_t len = strlen(text);
            same(text, len / 2);
            free(text);
        }
        json_decref(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replies),
        cmocka_unit_test(test_broken),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
