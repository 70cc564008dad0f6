/* The per-thread last error: codes, formatting, locations, thread isolation. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <fewshot.h>

static void test_default_is_no_error(void **state)
{
    fewshot_error_clear();
    const fewshot_error *e = fewshot_error_last();
    assert_non_null(e);
    assert_int_equal(e->code, 0);
    assert_string_equal(e->message, "no error");
    assert_string_equal(e->file, "");
    assert_string_equal(e->path, "");
}

static void test_set_returns_code_and_formats(void **state)
{
    assert_int_equal(fewshot_error_set(FEWSHOT_EINVAL, "bad %s %d", "thing", 7), FEWSHOT_EINVAL);
    const fewshot_error *e = fewshot_error_last();
    assert_int_equal(e->code, FEWSHOT_EINVAL);
    assert_string_equal(e->message, "bad thing 7");
    char buf[128];
    fewshot_error_format(buf, sizeof buf);
    assert_string_equal(buf, "bad thing 7");
}

static void test_location_and_path(void **state)
{
    char buf[256];
    fewshot_error_set_at(FEWSHOT_EPARSE, "demos.jsonl", 12, 5, "expected a number");
    fewshot_error_format(buf, sizeof buf);
    assert_string_equal(buf, "demos.jsonl:12:5: expected a number");
    assert_int_equal(fewshot_error_last()->line, 12);
    assert_int_equal(fewshot_error_last()->column, 5);

    fewshot_error_set_path(FEWSHOT_EINVAL, "sweep.json", "$.llm.temperature", "expected a number");
    fewshot_error_format(buf, sizeof buf);
    assert_string_equal(buf, "sweep.json: $.llm.temperature: expected a number");

    /* a plain set clears the previous location */
    fewshot_error_set(FEWSHOT_ERROR, "plain");
    assert_string_equal(fewshot_error_last()->file, "");
    assert_int_equal(fewshot_error_last()->line, 0);
}

static void test_prefix(void **state)
{
    fewshot_error_set(FEWSHOT_ERANGE, "value is NaN");
    fewshot_error_prefix("step %d", 3);
    assert_string_equal(fewshot_error_last()->message, "step 3: value is NaN");
    assert_int_equal(fewshot_error_last()->code, FEWSHOT_ERANGE);
}

static void test_long_message_truncates_safely(void **state)
{
    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    fewshot_error_set(FEWSHOT_ERROR, "%s", big);
    assert_true(strlen(fewshot_error_last()->message) < sizeof big);
    fewshot_error_prefix("%s", big);
    assert_true(strlen(fewshot_error_last()->message) > 0);
}

static void test_strerror_covers_codes(void **state)
{
    for (int code = 0; code >= FEWSHOT_EEXISTS; code--)
        assert_string_not_equal(fewshot_strerror(code), "unknown error");
    assert_string_equal(fewshot_strerror(-999), "unknown error");
}

static void *other_thread(void *arg)
{
    /* a fresh thread starts without the main thread's error */
    int *code = arg;
    *code = fewshot_error_last()->code;
    fewshot_error_set(FEWSHOT_ENET, "thread error");
    return NULL;
}

static void test_thread_local(void **state)
{
    pthread_t t;
    int seen = -1;
    fewshot_error_set(FEWSHOT_EIO, "main error");
    pthread_create(&t, NULL, other_thread, &seen);
    pthread_join(t, NULL);
    assert_int_equal(seen, 0);
    assert_int_equal(fewshot_error_last()->code, FEWSHOT_EIO);
    assert_string_equal(fewshot_error_last()->message, "main error");
}

static void test_version(void **state)
{
    assert_string_equal(fewshot_version_str(), FEWSHOT_VERSION);
    assert_int_equal(fewshot_version_hex(), FEWSHOT_VERSION_HEX);
    assert_true(FEWSHOT_VERSION_CHECK(0, 0, 1));
    assert_false(FEWSHOT_VERSION_CHECK(99, 0, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_is_no_error),
        cmocka_unit_test(test_set_returns_code_and_formats),
        cmocka_unit_test(test_location_and_path),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_long_message_truncates_safely),
        cmocka_unit_test(test_strerror_covers_codes),
        cmocka_unit_test(test_thread_local),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
