/* The response cache: canonical keys, store and hit, stats, prune, clear, several processes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include <fewshot.h>

static char dir[256], path[300];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "%s/fewshot-cache-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/sub/dir/llm.sqlite", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void test_key_canonical(void **state)
{
    char k1[65], k2[65], k3[65], k4[65], k5[65];
    json_t *a = json_loads("{\"model\":\"m\",\"temperature\":0,\"messages\":[{\"role\":\"user\","
                           "\"content\":\"hi\"}]}", 0, NULL);
    json_t *b = json_loads("{\"messages\":[{\"content\":\"hi\",\"role\":\"user\"}],"
                           "\"temperature\":0,\"model\":\"m\",\"stream\":true,"
                           "\"stream_options\":{\"include_usage\":true}}", 0, NULL);
    assert_int_equal(fewshot_cache_key("chat/completions", a, 0, k1), 0);
    assert_int_equal(fewshot_cache_key("chat/completions", b, 0, k2), 0);
    assert_string_equal(k1, k2);        /* key order and streaming flags do not matter */
    assert_int_equal(strlen(k1), 64);
    /* temperature 0: the sample index is not part of the key */
    assert_int_equal(fewshot_cache_key("chat/completions", a, 3, k3), 0);
    assert_string_equal(k1, k3);
    /* another endpoint, another key */
    assert_int_equal(fewshot_cache_key("completions", a, 0, k4), 0);
    assert_string_not_equal(k1, k4);
    /* temperature > 0: samples are distinct, and the same sample replays */
    json_object_set_new(a, "temperature", json_real(0.7));
    assert_int_equal(fewshot_cache_key("chat/completions", a, 0, k4), 0);
    assert_int_equal(fewshot_cache_key("chat/completions", a, 1, k5), 0);
    assert_string_not_equal(k4, k5);
    assert_int_equal(fewshot_cache_key("chat/completions", a, 1, k3), 0);
    assert_string_equal(k3, k5);
    json_decref(a);
    json_decref(b);
    assert_int_equal(fewshot_cache_key(NULL, NULL, 0, k1), FEWSHOT_EINVAL);
}

/* The key as fewshot-cache(3) defines it, computed the slow way: SHA-256 of the sorted
 * compact JSON of {"endpoint", "request" (the body without streaming fields), "sample" (when
 * the temperature is not 0)}. Keys of existing caches stay valid only if this holds. */
static void reference_key(const char *endpoint, const json_t *body, unsigned int sample,
                          char key[65])
{
    json_t *req = json_deep_copy(body);
    json_object_del(req, "stream");
    json_object_del(req, "stream_options");
    json_t *doc = json_pack("{s:s,s:o}", "endpoint", endpoint, "request", req);
    json_t *t = json_object_get(body, "temperature");
    if (!(json_is_number(t) && json_number_value(t) == 0))
        json_object_set_new(doc, "sample", json_integer(sample));
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < 32; i++)
        sprintf(key + 2 * i, "%02x", md[i]);
    free(text);
    json_decref(doc);
}

static void test_key_stable(void **state)
{
    char got[65], want[65];
    const char *bodies[] = {
        "{\"model\":\"gpt-4o\",\"temperature\":0,\"max_tokens\":96,\"messages\":[{\"role\":"
        "\"user\",\"content\":\"Room 1: 23 degrees Celsius\\n\\\"x\\\"\\u00e9\\u0001\"}]}",
        "{\"model\":\"m\",\"temperature\":0.7,\"seed\":42,\"top_p\":0.9,\"prompt\":\"a\\tb\","
        "\"stop\":[\"\\n\"],\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
        "{\"model\":\"m\",\"input\":[\"x\",\"y\"],\"response_format\":{\"type\":\"json_object\"}}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        json_t *b = json_loads(bodies[i], 0, NULL);
        assert_non_null(b);
        for (unsigned int sample = 0; sample < 3; sample++) {
            reference_key("http://127.0.0.1:1/v1/chat/completions", b, sample, want);
            assert_int_equal(fewshot_cache_key("http://127.0.0.1:1/v1/chat/completions", b,
                                               sample, got), 0);
            assert_string_equal(got, want);
        }
        json_decref(b);
    }
}

static void test_put_get_stats(void **state)
{
    fewshot_cache *c;
    assert_int_equal(fewshot_cache_open(&c, path, NULL), 0); /* creates sub/dir */
    assert_string_equal(fewshot_cache_path(c), path);
    char key[65];
    json_t *body = json_pack("{s:s}", "model", "m");
    fewshot_cache_key("chat/completions", body, 0, key);
    fewshot_cache_entry e;
    assert_int_equal(fewshot_cache_get(c, key, &e), FEWSHOT_ENOTFOUND);
    json_t *reply = json_pack("{s:[{s:{s:s}}]}", "choices", "message", "content", "hello");
    assert_int_equal(fewshot_cache_put(c, key, "chat/completions", "m", reply, 11, 7, 0.25), 0);
    assert_int_equal(fewshot_cache_get(c, key, &e), 0);
    assert_true(json_equal(e.reply, reply));
    assert_int_equal(e.prompt_tokens, 11);
    assert_int_equal(e.completion_tokens, 7);
    assert_true(e.latency == 0.25);
    assert_true(e.created > 1e9);
    json_decref(e.reply);
    assert_int_equal(fewshot_cache_get(c, key, &e), 0);
    json_decref(e.reply);
    fewshot_cache_stats st;
    assert_int_equal(fewshot_cache_get_stats(c, &st), 0);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.prompt_tokens, 11);
    assert_true(st.file_bytes > 0);
    json_t *models;
    assert_int_equal(fewshot_cache_models(c, &models), 0);
    assert_int_equal(json_array_size(models), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(models, 0), "model")), "m");
    json_decref(models);
    fewshot_cache_free(c);
    /* it persists, and hits were written on close */
    assert_int_equal(fewshot_cache_open(&c, path, NULL), 0);
    assert_int_equal(fewshot_cache_get(c, key, &e), 0);
    assert_int_equal(e.hits, 0); /* per entry: recorded at most hourly, so not yet */
    json_decref(e.reply);
    fewshot_cache_get_stats(c, &st);
    assert_int_equal(st.hits, 3); /* every hit counts in the total */
    /* read-only handles refuse writes */
    fewshot_cache *ro;
    fewshot_cache_options o = FEWSHOT_CACHE_OPTIONS_INIT;
    o.read_only = 1;
    assert_int_equal(fewshot_cache_open(&ro, path, &o), 0);
    assert_int_equal(fewshot_cache_get(ro, key, &e), 0);
    json_decref(e.reply);
    assert_int_equal(fewshot_cache_put(ro, key, "x", "m", reply, 1, 1, 0), FEWSHOT_EUNSUPPORTED);
    fewshot_cache_free(ro);
    fewshot_cache_free(c);
    json_decref(reply);
    json_decref(body);
}

static void fill(fewshot_cache *c, int n, const char *tag)
{
    for (int i = 0; i < n; i++) {
        char key[65];
        json_t *body = json_pack("{s:s,s:i}", "tag", tag, "i", i);
        fewshot_cache_key("completions", body, 0, key);
        assert_int_equal(fewshot_cache_put(c, key, "completions", tag, body, 1, 1, 0.01), 0);
        json_decref(body);
    }
}

static void test_prune_clear(void **state)
{
    fewshot_cache *c;
    assert_int_equal(fewshot_cache_open(&c, path, NULL), 0);
    fewshot_cache_clear(c, NULL);
    fill(c, 50, "old");
    uint64_t removed;
    /* nothing is older than an hour ago */
    assert_int_equal(fewshot_cache_prune(c, (double)time(NULL) - 3600, 0, &removed), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(fewshot_cache_prune(c, 0, 20, &removed), 0);
    assert_int_equal(removed, 30);
    assert_int_equal(fewshot_cache_prune(c, (double)time(NULL) + 10, 0, &removed), 0);
    assert_int_equal(removed, 20);
    fill(c, 5, "x");
    assert_int_equal(fewshot_cache_clear(c, &removed), 0);
    assert_int_equal(removed, 5);
    fewshot_cache_stats st;
    fewshot_cache_get_stats(c, &st);
    assert_int_equal(st.entries, 0);
    fewshot_cache_free(c);
}

/* Four processes write and read the same file at once; nothing is lost, nothing fails. */
static void test_processes(void **state)
{
    fewshot_cache *c;
    assert_int_equal(fewshot_cache_open(&c, path, NULL), 0);
    fewshot_cache_clear(c, NULL);
    fewshot_cache_free(c);
    pid_t pids[4];
    for (int p = 0; p < 4; p++) {
        pids[p] = fork();
        if (pids[p] == 0) {
            fewshot_cache *cc;
            if (fewshot_cache_open(&cc, path, NULL) != 0)
                _exit(1);
            char tag[8];
            snprintf(tag, sizeof tag, "p%d", p);
            for (int i = 0; i < 100; i++) {
                char key[65];
                json_t *body = json_pack("{s:s,s:i}", "tag", tag, "i", i);
                fewshot_cache_key("completions", body, 0, key);
                if (fewshot_cache_put(cc, key, "completions", tag, body, 1, 1, 0) != 0)
                    _exit(2);
                fewshot_cache_entry e;
                if (fewshot_cache_get(cc, key, &e) != 0)
                    _exit(3);
                json_decref(e.reply);
                json_decref(body);
            }
            fewshot_cache_free(cc);
            _exit(0);
        }
    }
    for (int p = 0; p < 4; p++) {
        int status;
        waitpid(pids[p], &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(fewshot_cache_open(&c, path, NULL), 0);
    fewshot_cache_stats st;
    fewshot_cache_get_stats(c, &st);
    assert_int_equal(st.entries, 400);
    assert_int_equal(st.hits, 400);
    fewshot_cache_free(c);
}

static void test_errors(void **state)
{
    fewshot_cache *c;
    char bad[400];
    snprintf(bad, sizeof bad, "%s/not-a-cache", dir);
    FILE *f = fopen(bad, "w");
    fputs("this is not sqlite, not at all, and long enough to be noticed by sqlite\n", f);
    fclose(f);
    int rc = fewshot_cache_open(&c, bad, NULL);
    assert_true(rc < 0);
    assert_non_null(strstr(fewshot_error_last()->message, "not-a-cache"));
    /* default path under XDG_CACHE_HOME */
    char buf[512], xdg[400];
    snprintf(xdg, sizeof xdg, "%s/xdg", dir);
    setenv("XDG_CACHE_HOME", xdg, 1);
    assert_int_equal(fewshot_cache_default_path(buf, sizeof buf), 0);
    assert_non_null(strstr(buf, "/xdg/fewshot/llm.sqlite"));
    assert_int_equal(fewshot_cache_open(&c, NULL, NULL), 0);
    assert_string_equal(fewshot_cache_path(c), buf);
    fewshot_cache_free(c);
    char small[8];
    assert_int_equal(fewshot_cache_default_path(small, sizeof small), FEWSHOT_ERANGE);
    fewshot_cache_options o = FEWSHOT_CACHE_OPTIONS_INIT;
    o.version = 99;
    assert_int_equal(fewshot_cache_open(&c, path, &o), FEWSHOT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_canonical),
        cmocka_unit_test(test_key_stable),
        cmocka_unit_test(test_put_get_stats),
        cmocka_unit_test(test_prune_clear),
        cmocka_unit_test(test_processes),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
