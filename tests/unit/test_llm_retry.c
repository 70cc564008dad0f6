/* Retry classification, Retry-After parsing, backoff with jitter, and the rate-limit buckets.
 * Built with llm_retry.c and llm_ratelimit.c compiled in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "llm_internal.h"

static void test_retryable(void **state)
{
    assert_true(llm_retryable(CURLE_OPERATION_TIMEDOUT, 0, 0));
    assert_true(llm_retryable(CURLE_COULDNT_CONNECT, 0, 0));
    assert_true(llm_retryable(CURLE_GOT_NOTHING, 0, 0));
    assert_true(llm_retryable(CURLE_PARTIAL_FILE, 0, 0));
    assert_true(llm_retryable(CURLE_RECV_ERROR, 0, 0));
    assert_false(llm_retryable(CURLE_URL_MALFORMAT, 0, 0));
    assert_false(llm_retryable(CURLE_UNSUPPORTED_PROTOCOL, 0, 0));
    int yes[] = {408, 409, 429, 500, 502, 503, 504, 599};
    int no[] = {400, 401, 403, 404, 410, 413, 422, 501, 505};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(llm_retryable(CURLE_OK, yes[i], 0));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(llm_retryable(CURLE_OK, no[i], 0));
    assert_false(llm_retryable(CURLE_OK, 200, 0));
    assert_true(llm_retryable(CURLE_OK, 200, 1)); /* malformed body */
}

static void test_retry_after(void **state)
{
    assert_true(llm_parse_retry_after(" 2\r\n", 0, 0) == 2);
    assert_true(llm_parse_retry_after("0.5", 0, 0) == 0.5);
    assert_true(llm_parse_retry_after("1500", 1, 0) == 1.5);
    assert_true(llm_parse_retry_after("soon", 0, 0) < 0);
    assert_true(llm_parse_retry_after("-3", 0, 0) < 0);
    assert_true(llm_parse_retry_after("", 0, 0) < 0);
    /* an HTTP date 30 s after "now" */
    double now = 1445412450; /* Wed, 21 Oct 2015 07:27:30 GMT */
    double w = llm_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 0, now);
    assert_true(w > 29.9 && w < 30.1);
    assert_true(llm_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 0, now + 100) == 0);
}

static void test_backoff(void **state)
{
    llm_retry_policy p = {5, 0.5, 4.0, 60};
    uint64_t rng = 42;
    for (unsigned a = 1; a <= 8; a++) {
        double base = 0.5 * (double)(1u << (a - 1));
        if (base > 4)
            base = 4;
        for (int k = 0; k < 100; k++) {
            double w = llm_backoff(&p, a, -1, &rng);
            assert_true(w >= base / 2 && w <= base);
        }
    }
    /* jitter: not all the same */
    double a = llm_backoff(&p, 3, -1, &rng), b = llm_backoff(&p, 3, -1, &rng);
    assert_true(a != b);
    /* Retry-After wins over the backoff, up to the cap (max_wait) */
    assert_true(llm_backoff(&p, 1, 3.0, &rng) == 3.0);
    assert_true(llm_backoff(&p, 1, 7.0, &rng) == 4.0);
    assert_true(llm_backoff(&p, 1, 45.0, &rng) == 4.0);
    /* seeded: reproducible */
    uint64_t r1 = 9, r2 = 9;
    assert_true(llm_backoff(&p, 2, -1, &r1) == llm_backoff(&p, 2, -1, &r2));
}

static void test_bucket(void **state)
{
    llm_bucket b;
    llm_bucket_init(&b, 120, 0); /* 2 per second, burst of 2 */
    assert_true(llm_bucket_take(&b, 1, 0) == 0);
    assert_true(llm_bucket_take(&b, 1, 0) == 0);
    double w = llm_bucket_take(&b, 1, 0);
    assert_true(w > 0.49 && w < 0.51);
    assert_true(llm_bucket_take(&b, 1, 0.5) == 0);
    /* unlimited */
    llm_bucket u;
    llm_bucket_init(&u, 0, 0);
    for (int i = 0; i < 1000; i++)
        assert_true(llm_bucket_take(&u, 1e6, 0) == 0);
    /* tokens: corrected after the fact; debt delays the next request */
    llm_bucket t;
    llm_bucket_init(&t, 600, 0); /* 10 tokens/s, capacity 10 */
    assert_true(llm_bucket_take(&t, 5, 0) == 0);
    llm_bucket_adjust(&t, 5 - 25); /* the call really used 25 */
    w = llm_bucket_take(&t, 5, 0);
    assert_true(w > 1.99 && w < 2.01); /* level -15, need 5: 20 tokens at 10/s */
    /* a request larger than the bucket goes when it is full */
    llm_bucket big;
    llm_bucket_init(&big, 60, 0); /* 1 token/s, capacity 1 */
    assert_true(llm_bucket_take(&big, 50, 0) == 0);
    assert_true(llm_bucket_take(&big, 50, 1) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retryable),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
