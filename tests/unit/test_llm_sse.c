/* The SSE parser and stream assembly: events split at every byte, CR/LF variants, comments,
 * multi-line data, [DONE], error events. Built with llm_sse.c compiled in (its symbols are
 * internal to the library). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "llm_internal.h"

typedef struct seen {
    char data[16][256];
    char event[16][64];
    int n;
} seen;

static int collect(void *user, const char *event, const char *data, size_t len)
{
    seen *s = user;
    if (s->n < 16) {
        snprintf(s->data[s->n], sizeof s->data[0], "%.*s", (int)len, data);
        snprintf(s->event[s->n], sizeof s->event[0], "%s", event);
        s->n++;
    }
    return 0;
}

static const char stream_text[] =
    ": comment\r\n"
    "event: delta\r\n"
    "data: {\"a\":1}\r\n"
    "\r\n"
    "data: line one\n"
    "data:line two\n"
    "\n"
    "id: 7\r"
    "data: cr only\r"
    "\r"
    "data: [DONE]\n\n";

static void check_events(const seen *s)
{
    assert_int_equal(s->n, 4);
    assert_string_equal(s->event[0], "delta");
    assert_string_equal(s->data[0], "{\"a\":1}");
    assert_string_equal(s->event[1], "");
    assert_string_equal(s->data[1], "line one\nline two");
    assert_string_equal(s->data[2], "cr only");
    assert_string_equal(s->data[3], "[DONE]");
}

static void test_whole(void **state)
{
    seen s = {0};
    llm_sse p;
    llm_sse_init(&p, collect, &s);
    assert_int_equal(llm_sse_feed(&p, stream_text, strlen(stream_text)), 0);
    assert_int_equal(llm_sse_finish(&p), 0);
    check_events(&s);
    llm_sse_free(&p);
}

/* Every split point, and one byte at a time. */
static void test_every_split(void **state)
{
    size_t n = strlen(stream_text);
    for (size_t cut = 0; cut <= n; cut++) {
        seen s = {0};
        llm_sse p;
        llm_sse_init(&p, collect, &s);
        assert_int_equal(llm_sse_feed(&p, stream_text, cut), 0);
        assert_int_equal(llm_sse_feed(&p, stream_text + cut, n - cut), 0);
        llm_sse_finish(&p);
        check_events(&s);
        llm_sse_free(&p);
    }
    seen s = {0};
    llm_sse p;
    llm_sse_init(&p, collect, &s);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(llm_sse_feed(&p, stream_text + i, 1), 0);
    llm_sse_finish(&p);
    check_events(&s);
    llm_sse_free(&p);
}

/* An event without its final blank line is still delivered at the end of the stream. */
static void test_unterminated(void **state)
{
    seen s = {0};
    llm_sse p;
    llm_sse_init(&p, collect, &s);
    llm_sse_feed(&p, "data: tail", 10);
    assert_int_equal(s.n, 0);
    llm_sse_finish(&p);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.data[0], "tail");
    llm_sse_free(&p);
}

static const char chat_stream[] =
    "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n"
    "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Act\"}}]}\n\n"
    "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ions: [\\u00e9, 1]\"},"
    "\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,"
    "\"total_tokens\":8}}\n\n"
    "data: [DONE]\n\n";

static char deltas[256];
static int on_delta(void *user, const char *t, size_t n)
{
    strncat(deltas, t, n);
    return 0;
}

static void test_assembly_every_split(void **state)
{
    size_t n = strlen(chat_stream);
    for (size_t cut = 0; cut <= n; cut += 3) {
        llm_stream s;
        llm_stream_init(&s, FEWSHOT_LLM_CHAT);
        deltas[0] = '\0';
        s.on_delta = on_delta;
        assert_int_equal(llm_stream_feed(&s, chat_stream, cut), 0);
        assert_int_equal(llm_stream_feed(&s, chat_stream + cut, n - cut), 0);
        const char *why = NULL;
        json_t *doc = llm_stream_result(&s, &why);
        assert_non_null(doc);
        json_t *c0 = json_array_get(json_object_get(doc, "choices"), 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(c0, "message"),
                                                              "content")),
                            "Actions: [\xc3\xa9, 1]");
        assert_string_equal(json_string_value(json_object_get(c0, "finish_reason")), "stop");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "usage"),
                                                            "total_tokens")), 8);
        assert_string_equal(json_string_value(json_object_get(doc, "model")), "m");
        assert_string_equal(deltas, "Actions: [\xc3\xa9, 1]");
        json_decref(doc);
        llm_stream_free(&s);
    }
}

static void test_error_event(void **state)
{
    llm_stream s;
    llm_stream_init(&s, FEWSHOT_LLM_COMPLETION);
    const char *t = "data: {\"error\":{\"message\":\"overloaded\"}}\n\n";
    assert_int_equal(llm_stream_feed(&s, t, strlen(t)), FEWSHOT_EHTTP);
    const char *why = NULL;
    assert_null(llm_stream_result(&s, &why));
    assert_string_equal(why, "overloaded");
    llm_stream_free(&s);

    llm_stream_init(&s, FEWSHOT_LLM_COMPLETION);
    t = "data: {not json\n\n";
    assert_int_equal(llm_stream_feed(&s, t, strlen(t)), FEWSHOT_EPARSE);
    assert_null(llm_stream_result(&s, &why));
    assert_non_null(strstr(why, "malformed"));
    llm_stream_free(&s);

    llm_stream_init(&s, FEWSHOT_LLM_COMPLETION);
    assert_null(llm_stream_result(&s, &why));
    assert_non_null(strstr(why, "without any event"));
    llm_stream_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole),
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_assembly_every_split),
        cmocka_unit_test(test_error_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
