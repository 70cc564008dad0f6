/*
 * The prefix-resuming SHA-256 (llm_digest.c) against OpenSSL's one-pass digest on streams of
 * texts that share prefixes of every length (around the 1 KB marks, none, all, longer and
 * shorter than the last), split into pieces anywhere; and the cache key and prompt hash of a
 * known request pinned to the values computed outside the library (Python's hashlib over the
 * canonical JSON), so existing caches keep hitting whichever way the key is hashed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "fewshot/cache.h"
#include "internal.h"
#include "xorshift.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void)
{
    return xorshift64(&rng);
}

static void one_pass(const char *s, size_t n, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(s, n, md, &len, EVP_sha256(), NULL), 1);
    for (unsigned int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* a length that lands near a mark often */
static size_t some_length(size_t max)
{
    switch (next() % 4) {
    case 0: {
        size_t k = (size_t)(next() % 8) * 1024, d = (size_t)(next() % 3);
        size_t n = k + d >= 1 ? k + d - 1 : 0;
        return n < max ? n : max;
    }
    case 1: return (size_t)(next() % 64) % (max + 1);
    default: return (size_t)(next() % (max + 1));
    }
}

static void test_streams(void **state)
{
    (void)state;
    enum { MAX = 9000 };
    char *prev = calloc(1, MAX + 1), *text = calloc(1, 2 * MAX + 1);
    size_t prev_len = 0;
    fewshot__digest *d = NULL;
    assert_int_equal(fewshot__digest_new(&d), 0);
    for (int round = 0; round < 3000; round++) {
        size_t keep = next() % 5 == 0 ? prev_len : some_length(prev_len);
        size_t add = next() % 6 == 0 ? 0 : some_length(MAX - keep);
        memcpy(text, prev, keep);
        for (size_t i = 0; i < add; i++)
            text[keep + i] = (char)(next() % 3 ? 'a' + next() % 4 : next() % 256);
        size_t n = keep + add;
        /* one to three pieces, any split */
        size_t cut1 = n ? (size_t)(next() % (n + 1)) : 0, cut2 = cut1 + (n - cut1 ? next() % (n - cut1 + 1) : 0);
        const char *part[3] = {text, text + cut1, text + cut2};
        size_t len[3] = {cut1, cut2 - cut1, n - cut2};
        size_t pieces = 1 + (size_t)(next() % 3);
        if (pieces == 1)
            len[0] = n;
        else if (pieces == 2)
            len[1] = n - cut1;
        char got[65], want[65];
        assert_int_equal(fewshot__digest_parts(d, part, len, pieces, got), 0);
        one_pass(text, n, want);
        assert_string_equal(got, want);
        memcpy(prev, text, n);
        prev_len = n;
    }
    fewshot__digest_free(d);
    free(prev);
    free(text);
}

/* The known request: a system message with a degree sign, a dash, quotes and a trailing
 * backslash; a user message of 300 room lines with a tab, a control byte and non-ASCII. */
static char *user_text(void)
{
    size_t cap = 16384, len = 0;
    char *u = malloc(cap);
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(u + len, cap - len, "Room %d: %d degrees Celsius\n", i,
                                18 + i % 7);
    snprintf(u + len, cap - len, "Tab\there, bell\a, caf\xc3\xa9, \xf0\x9f\x98\x80.\nActions:");
    return u;
}

static const char system_text[] = "You control the HVAC of an office building.\nKeep every room "
                                  "near 22 \xc2\xb0" "C \xe2\x80\x94 \"comfort\" first.\\";
static const char url[] = "http://127.0.0.1:8080/v1/chat/completions";
static const char known_key[] =
    "04b7b8e332a3e3b330044c933a27d3c0f3d9278fd1d637cc84c6427a2ab92fa4";
static const char known_prompt_hash[] =
    "d4281a298d536ab617ddab221a14263cb834cbeac58ff5f66e1a49dc76e3b7be";

static json_t *known_body(const char *user)
{
    return json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:f, s:i}", "model", "gpt-4o",
                     "messages", "role", "system", "content", system_text, "role", "user",
                     "content", user, "temperature", 0.0, "max_tokens", 96);
}

static void test_known_key(void **state)
{
    (void)state;
    char *user = user_text();
    json_t *body = known_body(user);
    assert_non_null(body);
    char key[65];
    assert_int_equal(fewshot_cache_key(url, body, 0, key), 0);
    assert_string_equal(key, known_key);
    /* through a digest that saw another request first, then this one twice */
    fewshot__jbuf req = {0};
    assert_int_equal(fewshot__json_canon(&req, body, 1, fewshot__cache_skip), 0);
    fewshot__digest *d = NULL;
    assert_int_equal(fewshot__digest_new(&d), 0);
    json_t *other = known_body("Room 0: 30 degrees Celsius\nActions:");
    fewshot__jbuf oreq = {0};
    assert_int_equal(fewshot__json_canon(&oreq, other, 1, fewshot__cache_skip), 0);
    assert_int_equal(fewshot__cache_key_text(url, strlen(url), oreq.data, oreq.len, other, 0, d,
                                             key), 0);
    assert_string_not_equal(key, known_key);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(fewshot__cache_key_text(url, strlen(url), req.data, req.len, body, 0, d,
                                                 key), 0);
        assert_string_equal(key, known_key);
    }
    /* the prompt hash of the text the two messages make */
    size_t n = strlen(system_text) + 2 + strlen(user);
    char *prompt = malloc(n + 1), hex[65];
    snprintf(prompt, n + 1, "%s\n\n%s", system_text, user);
    assert_int_equal(fewshot__digest_text(d, prompt, n, hex), 0);
    assert_string_equal(hex, known_prompt_hash);
    prompt[n - 1] = '?';    /* the last byte differs: resumed near the end */
    assert_int_equal(fewshot__digest_text(d, prompt, n, hex), 0);
    assert_string_not_equal(hex, known_prompt_hash);
    prompt[n - 1] = ':';
    assert_int_equal(fewshot__digest_text(d, prompt, n, hex), 0);
    assert_string_equal(hex, known_prompt_hash);
    free(prompt);
    fewshot__digest_free(d);
    fewshot__jbuf_free(&req);
    fewshot__jbuf_free(&oreq);
    json_decref(other);
    json_decref(body);
    free(user);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_known_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
