/* The LLM client against the fault-injecting test server (tests/llm-server): each behaviour
 * the client promises, one test each. Skips (77) when the server was not built. */
#define _GNU_SOURCE 1
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <fewshot.h>

#define KEY "sk-test-0123456789-SECRET-abcdef"

static pid_t server;
static int port;
static char dir[256], logpath[320];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int start_server(void)
{
    const char *top = getenv("top_builddir");
    char exe[512], portfile[320];
    snprintf(exe, sizeof exe, "%s/tests/llm-server/llm-server", top ? top : ".");
    if (access(exe, X_OK) != 0)
        return -1;
    snprintf(dir, sizeof dir, "%s/fewshot-llm-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(portfile, sizeof portfile, "%s/port", dir);
    snprintf(logpath, sizeof logpath, "%s/server.log", dir);
    setenv("FEWSHOT_TEST_KEY", KEY, 1);
    server = fork();
    if (server == 0) {
        freopen("/dev/null", "w", stdout);
        execl(exe, exe, "--port-file", portfile, "--key-env", "FEWSHOT_TEST_KEY", "--log",
              logpath, "--lifetime", "600", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            int ok = fscanf(f, "%d", &port) == 1;
            fclose(f);
            if (ok)
                return 0;
        }
        usleep(10000);
    }
    return -1;
}

static void stop_server(void)
{
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static char url[256];
static const char *base(const char *spec)
{
    if (spec && *spec)
        snprintf(url, sizeof url, "http://127.0.0.1:%d/%s/v1", port, spec);
    else
        snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", port);
    return url;
}

static fewshot_llm *client(const char *spec, fewshot_llm_options *o)
{
    fewshot_llm_options d = FEWSHOT_LLM_OPTIONS_INIT;
    if (!o)
        o = &d;
    o->base_url = base(spec);
    if (!o->api_key_env)
        o->api_key_env = "FEWSHOT_TEST_KEY";
    if (!o->model)
        o->model = "test-model";
    if (!o->backoff_initial)
        o->backoff_initial = 0.02;
    if (!o->seed)
        o->seed = 7;
    fewshot_llm *llm = NULL;
    int rc = fewshot_llm_new(&llm, o);
    if (rc)
        fail_msg("fewshot_llm_new: %s", fewshot_error_last()->message);
    return llm;
}

static fewshot_llm_reply *chat(fewshot_llm *llm, const char *text)
{
    json_t *m = fewshot_llm_messages("You are a test.", text);
    fewshot_llm_reply *r = NULL;
    fewshot_llm_chat(llm, m, NULL, &r);
    json_decref(m);
    assert_non_null(r);
    return r;
}

static void test_chat(void **state)
{
    fewshot_llm *llm = client(NULL, NULL);
    fewshot_llm_reply *r = chat(llm, "hello");
    assert_int_equal(r->status, 0);
    assert_string_equal(r->text, "echo: hello");
    assert_string_equal(r->finish_reason, "stop");
    assert_false(r->truncated);
    assert_int_equal(r->http_status, 200);
    assert_int_equal(r->attempts, 1);
    assert_int_equal(r->n_choices, 1);
    assert_int_equal(r->usage.prompt_tokens, 2);
    assert_true(r->usage.completion_tokens > 0);
    assert_int_equal(r->usage.total_tokens, r->usage.prompt_tokens + r->usage.completion_tokens);
    assert_false(r->cache_hit);
    assert_string_equal(r->model, "test-model");
    fewshot_llm_reply_free(r);
    /* completions */
    assert_int_equal(fewshot_llm_complete(llm, "prompt text", NULL, &r), 0);
    assert_string_equal(r->text, "echo: prompt text");
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
}

/* What the client sends: every option, extra provider fields, no key in the body. */
static void test_request_fields(void **state)
{
    json_t *extra = json_pack("{s:i}", "top_k", 5);
    fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
    o.extra = extra;
    fewshot_llm *llm = client("mode=request", &o);
    fewshot_llm_params p = FEWSHOT_LLM_PARAMS_INIT;
    const char *stop[] = {"\n\n", "END", NULL};
    json_t *schema = json_pack("{s:s,s:{s:s,s:{s:s}}}", "type", "json_schema", "json_schema",
                               "name", "a", "schema", "type", "object");
    assert_non_null(schema);
    json_t *pextra = json_pack("{s:f,s:s}", "min_p", 0.1, "model", "override-model");
    p.temperature = 0.25;
    p.top_p = 0.5;
    p.max_tokens = 42;
    p.stop = stop;
    p.seed = 1234;
    p.n = 2;
    p.response_format = schema;
    p.extra = pextra;
    json_t *m = fewshot_llm_messages(NULL, "x");
    fewshot_llm_reply *r;
    assert_int_equal(fewshot_llm_chat(llm, m, &p, &r), 0);
    json_t *sent = json_loads(r->text, 0, NULL);
    assert_non_null(sent);
    assert_true(json_number_value(json_object_get(sent, "temperature")) == 0.25);
    assert_true(json_number_value(json_object_get(sent, "top_p")) == 0.5);
    assert_int_equal(json_integer_value(json_object_get(sent, "max_tokens")), 42);
    assert_int_equal(json_integer_value(json_object_get(sent, "seed")), 1234);
    assert_int_equal(json_integer_value(json_object_get(sent, "n")), 2);
    assert_int_equal(json_integer_value(json_object_get(sent, "top_k")), 5);
    assert_string_equal(json_string_value(json_object_get(sent, "model")), "override-model");
    assert_string_equal(json_string_value(json_array_get(json_object_get(sent, "stop"), 1)), "END");
    assert_true(json_equal(json_object_get(sent, "response_format"), schema));
    assert_null(strstr(r->text, KEY));
    assert_int_equal(r->n_choices, 2);
    assert_string_equal(fewshot_llm_reply_choice(r, 1), r->text);
    assert_string_equal(fewshot_llm_reply_choice(r, 5), "");
    json_decref(sent);
    fewshot_llm_reply_free(r);
    /* nothing unset is sent */
    assert_int_equal(fewshot_llm_chat(llm, m, NULL, &r), 0);
    sent = json_loads(r->text, 0, NULL);
    assert_null(json_object_get(sent, "temperature"));
    assert_null(json_object_get(sent, "seed"));
    assert_null(json_object_get(sent, "max_tokens"));
    json_decref(sent);
    fewshot_llm_reply_free(r);
    json_decref(m);
    json_decref(schema);
    json_decref(pextra);
    json_decref(extra);
    fewshot_llm_free(llm);
}

static void test_retry_5xx(void **state)
{
    fewshot_llm *llm = client("mode=status,code=503,fail=2", NULL);
    fewshot_llm_reply *r = chat(llm, "a");
    assert_int_equal(r->status, 0);
    assert_int_equal(r->attempts, 3);
    assert_string_equal(r->text, "echo: a");
    fewshot_llm_stats st;
    fewshot_llm_get_stats(llm, &st);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.http_requests, 3);
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
    /* 408, 409 and 500 are retried too */
    const char *specs[] = {"mode=status,code=408,fail=1", "mode=status,code=409,fail=1",
                           "mode=status,code=500,fail=1"};
    for (size_t i = 0; i < 3; i++) {
        llm = client(specs[i], NULL);
        r = chat(llm, "b");
        assert_int_equal(r->status, 0);
        assert_int_equal(r->attempts, 2);
        fewshot_llm_reply_free(r);
        fewshot_llm_free(llm);
    }
}

static void test_retry_after(void **state)
{
    fewshot_llm *llm = client("mode=status,code=429,retry_after=1,fail=1", NULL);
    double t0 = now();
    fewshot_llm_reply *r = chat(llm, "a");
    double dt = now() - t0;
    assert_int_equal(r->status, 0);
    assert_int_equal(r->attempts, 2);
    assert_true(dt >= 0.99);   /* waited as told, not our 20 ms backoff */
    assert_true(dt < 3);
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
    llm = client("mode=status,code=429,retry_after_ms=300,fail=1", NULL);
    t0 = now();
    r = chat(llm, "a");
    dt = now() - t0;
    assert_int_equal(r->status, 0);
    assert_true(dt >= 0.29 && dt < 1.5);
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
}

static void test_no_retry_4xx(void **state)
{
    fewshot_llm *llm = client("mode=status,code=400", NULL);
    fewshot_llm_reply *r = chat(llm, "a");
    assert_int_equal(r->status, FEWSHOT_EHTTP);
    assert_int_equal(r->attempts, 1);
    assert_int_equal(r->http_status, 400);
    assert_non_null(strstr(r->error, "HTTP 400"));
    assert_non_null(strstr(r->error, "injected HTTP 400 from the test server"));
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
    /* a wrong key: 401 with the server's message, not retried */
    setenv("FEWSHOT_WRONG_KEY", "sk-wrong-key-000000", 1);
    fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
    o.api_key_env = "FEWSHOT_WRONG_KEY";
    llm = client(NULL, &o);
    r = chat(llm, "a");
    assert_int_equal(r->status, FEWSHOT_EHTTP);
    assert_int_equal(r->attempts, 1);
    assert_non_null(strstr(r->error, "Incorrect API key provided"));
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
}

/* Token counts are the server's word: out of [0, 1e9] they are a malformed reply (once
 * INT64_MAX overflowed the sums into a negative count). */
static void test_usage_bounds(void **state)
{
    const char *specs[] = {"mode=usage,tokens=9223372036854775807", "mode=usage,tokens=-5"};
    for (int i = 0; i < 2; i++) {
        fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
        o.max_retries = -1;
        fewshot_llm *llm = client(specs[i], &o);
        fewshot_llm_reply *r = chat(llm, "a");
        assert_int_equal(r->status, FEWSHOT_EPARSE);
        assert_non_null(strstr(r->error, "$.usage.prompt_tokens: expected an integer from 0"));
        assert_int_equal(r->usage.prompt_tokens, 0);
        fewshot_llm_reply_free(r);
        fewshot_llm_free(llm);
    }
    fewshot_llm *llm = client("mode=usage,tokens=1000", NULL);
    fewshot_llm_reply *r = chat(llm, "a");
    assert_int_equal(r->status, 0);
    assert_int_equal(r->usage.prompt_tokens, 1000);
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
}

static void test_timeout_and_budget(void **state)
{
    fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
    o.request_timeout = 0.3;
    o.max_retries = 1;
    fewshot_llm *llm = client("mode=hang", &o);
    double t0 = now();
    fewshot_llm_reply *r = chat(llm, "a");
    double dt = now() - t0;
    assert_int_equal(r->status, FEWSHOT_ETIMEOUT);
    assert_int_equal(r->attempts, 2);
    assert_true(dt >= 0.6 && dt < 2.5);
    assert_non_null(strstr(r->error, "after 2 attempts"));
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
    /* the total budget stops retries before max_retries */
    fewshot_llm_options b = FEWSHOT_LLM_OPTIONS_INIT;
    b.max_retries = 50;
    b.backoff_initial = 0.2;
    b.retry_budget = 1.0;
    llm = client("mode=status,code=503", &b);
    t0 = now();
    r = chat(llm, "a");
    dt = now() - t0;
    /* the last attempt may also be cut short by the budget on a loaded machine */
    assert_true(r->status == FEWSHOT_EHTTP || r->status == FEWSHOT_ETIMEOUT);
    assert_true(r->attempts >= 2 && r->attempts < 10);
    assert_true(dt < 1.5);
    assert_non_null(strstr(r->error, "retry budget"));
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
}

static void test_connection_faults(void **state)
{
    const char *recover[] = {"mode=reset,fail=1", "mode=truncated,fail=1", "mode=malformed,fail=1"};
    for (size_t i = 0; i < 3; i++) {
        fewshot_llm *llm = client(recover[i], NULL);
        fewshot_llm_reply *r = chat(llm, "z");
        assert_int_equal(r->status, 0);
        assert_int_equal(r->attempts, 2);
        assert_string_equal(r->text, "echo: z");
        fewshot_llm_reply_free(r);
        fewshot_llm_free(llm);
    }
    fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
    o.max_retries = 2;
    fewshot_llm *llm = client("mode=reset", &o);
    fewshot_llm_reply *r = chat(llm, "z");
    assert_int_equal(r->status, FEWSHOT_ENET);
    assert_int_equal(r->attempts, 3);
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
    llm = client("mode=malformed", &o);
    r = chat(llm, "z");
    assert_int_equal(r->status, FEWSHOT_EPARSE);
    assert_non_null(strstr(r->error, "malformed reply"));
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
    llm = client("mode=empty", &o);
    r = chat(llm, "z");
    assert_int_equal(r->status, FEWSHOT_EPARSE);
    assert_non_null(strstr(r->error, "no choices"));
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
    /* nobody listening */
    fewshot_llm_options c = FEWSHOT_LLM_OPTIONS_INIT;
    c.base_url = "http://127.0.0.1:1/v1";
    c.model = "m";
    c.api_key_env = "";
    c.max_retries = 1;
    c.backoff_initial = 0.01;
    assert_int_equal(fewshot_llm_new(&llm, &c), 0);
    r = chat(llm, "z");
    assert_int_equal(r->status, FEWSHOT_ENET);
    assert_int_equal(r->http_status, 0);
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
}

static void test_length(void **state)
{
    fewshot_llm *llm = client("mode=length", NULL);
    fewshot_llm_reply *r = chat(llm, "z");
    assert_int_equal(r->status, 0);
    assert_true(r->truncated);
    assert_string_equal(r->finish_reason, "length");
    assert_int_equal(r->attempts, 1); /* not retried blindly */
    fewshot_llm_stats st;
    fewshot_llm_reply_free(r);
    fewshot_llm_get_stats(llm, &st);
    assert_int_equal(st.truncated, 1);
    fewshot_llm_free(llm);
}

static char deltas[1024];
static int ndeltas;
static int on_delta(void *user, const char *t, size_t n)
{
    strncat(deltas, t, n);
    ndeltas++;
    return 0;
}

static void test_stream(void **state)
{
    fewshot_llm *llm = client(NULL, NULL);
    fewshot_llm_params p = FEWSHOT_LLM_PARAMS_INIT;
    p.stream = 1;
    p.on_delta = on_delta;
    deltas[0] = '\0';
    ndeltas = 0;
    json_t *m = fewshot_llm_messages(NULL, "a streamed reply of some length");
    fewshot_llm_reply *r;
    assert_int_equal(fewshot_llm_chat(llm, m, &p, &r), 0);
    assert_string_equal(r->text, "echo: a streamed reply of some length");
    assert_string_equal(deltas, r->text);
    assert_true(ndeltas > 5);
    assert_string_equal(r->finish_reason, "stop");
    assert_true(r->usage.total_tokens > 0);
    fewshot_llm_reply_free(r);
    json_decref(m);
    deltas[0] = '\0';
    assert_int_equal(fewshot_llm_complete(llm, "done", &p, &r), 0);
    assert_string_equal(r->text, "echo: done");
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
    /* streamed length */
    llm = client("mode=length", NULL);
    m = fewshot_llm_messages(NULL, "x");
    assert_int_equal(fewshot_llm_chat(llm, m, &p, &r), 0);
    assert_true(r->truncated);
    fewshot_llm_reply_free(r);
    json_decref(m);
    fewshot_llm_free(llm);
}

/* Hundreds in flight from one thread; replies come back with their user pointers. */
static void test_async_many(void **state)
{
    fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
    o.max_in_flight = 64;
    fewshot_llm *llm = client("delay=200", &o);
    enum { N = 256 };
    static int seen[N];
    memset(seen, 0, sizeof seen);
    double t0 = now();
    for (int i = 0; i < N; i++) {
        char text[32];
        snprintf(text, sizeof text, "q%d", i);
        json_t *m = fewshot_llm_messages(NULL, text);
        uint64_t id;
        assert_int_equal(fewshot_llm_submit(llm, FEWSHOT_LLM_CHAT, m, NULL, &seen[i], &id), 0);
        assert_int_equal(id, (uint64_t)i + 1);
        json_decref(m);
    }
    assert_int_equal(fewshot_llm_pending(llm), N);
    int got = 0;
    fewshot_llm_reply *r;
    while (got < N) {
        int rc = fewshot_llm_poll(llm, -1, &r);
        assert_int_equal(rc, 1);
        assert_int_equal(r->status, 0);
        int i = (int)((int *)r->user - seen);
        char want[40];
        snprintf(want, sizeof want, "echo: q%d", i);
        assert_string_equal(r->text, want);
        seen[i]++;
        got++;
        fewshot_llm_reply_free(r);
    }
    double dt = now() - t0;
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(fewshot_llm_pending(llm), 0);
    assert_int_equal(fewshot_llm_poll(llm, 0, &r), 0);
    fewshot_llm_stats st;
    fewshot_llm_get_stats(llm, &st);
    assert_int_equal(st.max_in_flight_seen, 64);
    assert_int_equal(st.completed, N);
    /* ideal: 256/64 * 0.2 s = 0.8 s */
    assert_true(dt >= 0.79);
    assert_true(dt < 3.0);
    fewshot_llm_free(llm);
}

static void test_rate_limits(void **state)
{
    fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
    o.rpm = 600; /* 10 per second */
    o.max_in_flight = 32;
    fewshot_llm *llm = client(NULL, &o);
    double t0 = now();
    for (int i = 0; i < 20; i++) {
        json_t *m = fewshot_llm_messages(NULL, "r");
        fewshot_llm_submit(llm, FEWSHOT_LLM_CHAT, m, NULL, NULL, NULL);
        json_decref(m);
    }
    fewshot_llm_reply *r;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(fewshot_llm_poll(llm, -1, &r), 1);
        fewshot_llm_reply_free(r);
    }
    double dt = now() - t0;
    assert_true(dt >= 0.95 && dt < 3); /* 10 at once, then 10 more at 10/s */
    fewshot_llm_free(llm);
    /* tokens per minute: 600/min = 10/s; each request estimated ~16+ tokens */
    fewshot_llm_options t = FEWSHOT_LLM_OPTIONS_INIT;
    t.tpm = 600;
    llm = client(NULL, &t);
    t0 = now();
    for (int i = 0; i < 4; i++) {
        json_t *m = fewshot_llm_messages(NULL, "tokens");
        fewshot_llm_submit(llm, FEWSHOT_LLM_CHAT, m, NULL, NULL, NULL);
        json_decref(m);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(fewshot_llm_poll(llm, -1, &r), 1);
        fewshot_llm_reply_free(r);
    }
    dt = now() - t0;
    assert_true(dt >= 0.5);
    fewshot_llm_free(llm);
}

static void test_embeddings_models(void **state)
{
    fewshot_llm *llm = client(NULL, NULL);
    json_t *in = json_pack("[s,s]", "first", "second");
    fewshot_llm_reply *r;
    assert_int_equal(fewshot_llm_embed(llm, in, NULL, &r), 0);
    assert_int_equal(r->n_choices, 2);
    float v[16];
    size_t dim;
    assert_int_equal(fewshot_llm_reply_embedding(r, 1, v, 16, &dim), 0);
    assert_int_equal(dim, 8);
    double norm = 0;
    for (size_t i = 0; i < dim; i++)
        norm += v[i] * v[i];
    assert_true(fabs(norm - 1) < 1e-5);
    assert_int_equal(fewshot_llm_reply_embedding(r, 2, v, 16, &dim), FEWSHOT_ENOTFOUND);
    fewshot_llm_reply_free(r);
    json_decref(in);
    assert_int_equal(fewshot_llm_models(llm, &r), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(
        json_object_get(r->body, "data"), 0), "id")), "fewshot-test");
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
}

static int log_has(const char *needle)
{
    FILE *f = fopen(logpath, "r");
    char line[8192];
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        found |= strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return found;
}

static void test_azure(void **state)
{
    char b[128];
    snprintf(b, sizeof b, "http://127.0.0.1:%d", port);
    fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
    o.provider = "azure";
    o.base_url = b;
    o.azure_deployment = "my-deployment";
    o.azure_api_version = "2024-10-21";
    o.api_key_env = "FEWSHOT_TEST_KEY";
    o.model = "gpt-4";
    fewshot_llm *llm;
    assert_int_equal(fewshot_llm_new(&llm, &o), 0);
    fewshot_llm_reply *r = chat(llm, "azure");
    assert_int_equal(r->status, 0);       /* the server checked the api-key header */
    assert_string_equal(r->text, "echo: azure");
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
    assert_true(log_has("\"api_version\":\"2024-10-21\",\"auth\":\"api-key\""));
    assert_true(log_has("\"deployment\":\"my-deployment\""));
    /* azure needs a base URL */
    unsetenv("FEWSHOT_BASE_URL");
    unsetenv("OPENAI_BASE_URL");
    o.base_url = NULL;
    assert_int_equal(fewshot_llm_new(&llm, &o), FEWSHOT_EINVAL);
}

static int file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = strlen(needle), cap = 1 << 20, len;
    char *buf = malloc(cap);
    int found = 0;
    while ((len = fread(buf, 1, cap, f)) > 0)
        found |= memmem(buf, len, needle, n) != NULL;
    free(buf);
    fclose(f);
    return found;
}

static void test_cache(void **state)
{
    char path[400];
    snprintf(path, sizeof path, "%s/cache.sqlite", dir);
    fewshot_cache *cache;
    assert_int_equal(fewshot_cache_open(&cache, path, NULL), 0);
    fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
    o.cache = cache;
    o.cache_mode = FEWSHOT_LLM_CACHE_READWRITE;
    fewshot_llm *llm = client(NULL, &o);
    fewshot_llm_params p = FEWSHOT_LLM_PARAMS_INIT;
    p.temperature = 0;
    json_t *m = fewshot_llm_messages(NULL, "cache me");
    fewshot_llm_reply *r1, *r2, *r3, *r4;
    assert_int_equal(fewshot_llm_chat(llm, m, &p, &r1), 0);
    assert_false(r1->cache_hit);
    assert_int_equal(strlen(r1->cache_key), 64);
    assert_int_equal(fewshot_llm_chat(llm, m, &p, &r2), 0);
    assert_true(r2->cache_hit);
    assert_int_equal(r2->attempts, 0);
    assert_string_equal(r2->text, r1->text);
    assert_string_equal(r2->cache_key, r1->cache_key);
    assert_int_equal(r2->usage.total_tokens, r1->usage.total_tokens);
    fewshot_llm_stats st;
    fewshot_llm_get_stats(llm, &st);
    assert_int_equal(st.http_requests, 1);
    assert_int_equal(st.cache_hits, 1);
    /* sampling: sample 0 and sample 1 are different entries */
    p.temperature = 0.8;
    p.sample = 0;
    assert_int_equal(fewshot_llm_chat(llm, m, &p, &r3), 0);
    p.sample = 1;
    assert_int_equal(fewshot_llm_chat(llm, m, &p, &r4), 0);
    assert_false(r3->cache_hit);
    assert_false(r4->cache_hit);
    assert_string_not_equal(r3->cache_key, r4->cache_key);
    fewshot_llm_reply_free(r3);
    fewshot_llm_reply_free(r4);
    p.sample = 1;
    assert_int_equal(fewshot_llm_chat(llm, m, &p, &r4), 0);
    assert_true(r4->cache_hit);
    fewshot_llm_reply_free(r4);
    /* no_cache bypasses */
    p.no_cache = 1;
    assert_int_equal(fewshot_llm_chat(llm, m, &p, &r4), 0);
    assert_false(r4->cache_hit);
    fewshot_llm_reply_free(r4);
    /* failures are not stored */
    fewshot_llm_free(llm);
    o.max_retries = -1;
    llm = client("mode=status,code=503", &o);
    p.no_cache = 0;
    p.temperature = 0;
    json_t *m2 = fewshot_llm_messages(NULL, "fails");
    assert_int_equal(fewshot_llm_chat(llm, m2, &p, &r3), FEWSHOT_EHTTP);
    assert_int_equal(strlen(r3->cache_key), 64);
    fewshot_cache_entry e;
    assert_true(fewshot_cache_get(cache, r3->cache_key, &e) != 0);
    fewshot_llm_reply_free(r3);
    fewshot_llm_free(llm);
    llm = client(NULL, &o);
    assert_int_equal(fewshot_llm_chat(llm, m2, &p, &r3), 0);
    assert_false(r3->cache_hit);
    fewshot_llm_reply_free(r3);
    fewshot_llm_free(llm);
    /* the same request to another server is another entry */
    llm = client("mode=echo", &o);
    assert_int_equal(fewshot_llm_chat(llm, m, &p, &r3), 0);
    assert_false(r3->cache_hit);
    assert_string_not_equal(r3->cache_key, r1->cache_key);
    fewshot_llm_reply_free(r3);
    assert_int_equal(fewshot_llm_chat(llm, m, &p, &r3), 0);
    assert_true(r3->cache_hit);
    fewshot_llm_reply_free(r3);
    fewshot_llm_free(llm);
    /* read-only mode: hits served, misses not stored */
    o.cache_mode = FEWSHOT_LLM_CACHE_READ;
    llm = client(NULL, &o);
    assert_int_equal(fewshot_llm_chat(llm, m, &p, &r3), 0);
    assert_true(r3->cache_hit);
    fewshot_llm_reply_free(r3);
    json_t *m3 = fewshot_llm_messages(NULL, "new in read mode");
    assert_int_equal(fewshot_llm_chat(llm, m3, &p, &r3), 0);
    fewshot_llm_reply_free(r3);
    assert_int_equal(fewshot_llm_chat(llm, m3, &p, &r3), 0);
    assert_false(r3->cache_hit);
    fewshot_llm_reply_free(r3);
    fewshot_llm_free(llm);
    fewshot_cache_free(cache);
    /* the key is in no file we wrote */
    char wal[420];
    snprintf(wal, sizeof wal, "%s-wal", path);
    assert_false(file_contains(path, KEY));
    assert_false(file_contains(wal, KEY));
    assert_true(file_contains(path, "cache me") || file_contains(wal, "cache me"));
    fewshot_llm_reply_free(r1);
    fewshot_llm_reply_free(r2);
    json_decref(m);
    json_decref(m2);
    json_decref(m3);
}

/* A server that quotes the key in its error: the error we report does not. */
static void test_key_redacted(void **state)
{
    fewshot_llm *llm = client("mode=leak", NULL);
    fewshot_llm_reply *r = chat(llm, "a");
    assert_int_equal(r->status, FEWSHOT_EHTTP);
    assert_non_null(strstr(r->error, "Incorrect API key provided"));
    assert_null(strstr(r->error, KEY));
    assert_null(strstr(fewshot_error_last()->message, KEY));
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);
}

static void test_cost_and_usage_sum(void **state)
{
    fewshot_llm_price prices[] = {{"test-model", 2000000, 4000000, 0}, {"*", 1, 1, 0}};
    fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
    o.prices = prices;
    o.n_prices = 2;
    fewshot_llm *llm = client(NULL, &o);
    fewshot_llm_reply *r = chat(llm, "12345678");
    assert_int_equal(r->status, 0);
    double want = r->usage.prompt_tokens * 2.0 + r->usage.completion_tokens * 4.0;
    assert_true(fabs(r->usage.cost - want) < 1e-9);
    fewshot_llm_usage sum = {0};
    fewshot_llm_usage_add(&sum, &r->usage);
    fewshot_llm_usage_add(&sum, &r->usage);
    assert_int_equal(sum.calls, 2);
    assert_true(fabs(sum.cost - 2 * want) < 1e-9);
    assert_true(fabs(fewshot_llm_cost(llm, "other", 1000000, 0) - 1) < 1e-12);
    fewshot_llm_stats st;
    fewshot_llm_reply_free(r);
    fewshot_llm_get_stats(llm, &st);
    assert_true(fabs(st.usage.cost - want) < 1e-9);
    fewshot_llm_free(llm);
}

/* The server's prefix cache: usage.prompt_tokens_details.cached_tokens is read, summed and
 * priced at the cached-input price; the strict mode accepts what the client sends. */
static void test_cached_tokens(void **state)
{
    fewshot_llm_price prices[] = {{"test-model", 2000000, 4000000, 1000000}};
    fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
    o.prices = prices;
    o.n_prices = 1;
    fewshot_llm *llm = client("mode=strict", &o);
    char *text = malloc(9001);
    for (int i = 0; i < 9000; i++)
        text[i] = (char)('a' + i % 26);
    text[9000] = '\0';
    fewshot_llm_reply *r1 = chat(llm, text), *r2 = chat(llm, text);
    free(text);
    assert_int_equal(r1->status, 0);
    assert_int_equal(r2->status, 0);
    assert_int_equal(r1->usage.cached_tokens, 0);          /* nothing seen before */
    assert_true(r2->usage.cached_tokens >= 1024);           /* the whole prompt again */
    assert_true(r2->usage.cached_tokens <= r2->usage.prompt_tokens);
    double want = ((double)(r2->usage.prompt_tokens - r2->usage.cached_tokens) * 2 +
                   (double)r2->usage.cached_tokens * 1 + (double)r2->usage.completion_tokens * 4);
    assert_true(fabs(r2->usage.cost - want) < 1e-9);
    fewshot_llm_usage sum = {0};
    fewshot_llm_usage_add(&sum, &r1->usage);
    fewshot_llm_usage_add(&sum, &r2->usage);
    assert_int_equal(sum.cached_tokens, r2->usage.cached_tokens);
    /* no cached price: cached tokens cost the prompt price */
    prices[0].cached = 0;
    assert_true(fabs(fewshot_llm_price_cost(&prices[0], 100, 60, 10) - (100 * 2.0 + 10 * 4.0)) <
                1e-9);
    fewshot_llm_reply_free(r1);
    fewshot_llm_reply_free(r2);
    fewshot_llm_free(llm);
    /* llm.price in a config: the price of the section's model */
    json_t *c = json_pack("{s:s, s:s, s:s, s:{s:f, s:f, s:f}, s:i, s:s}", "base_url",
                          base("mode=strict"), "model", "gpt-4o", "api_key_env",
                          "FEWSHOT_TEST_KEY", "price", "prompt", 2.5, "completion", 10.0,
                          "cached", 1.25, "context", 128000, "cache", "off");
    assert_int_equal(fewshot_llm_new_from_config(&llm, c, "sweep.json"), 0);
    assert_true(fabs(fewshot_llm_cost_cached(llm, "gpt-4o", 1000000, 500000, 1000000) -
                     (1.25 + 0.625 + 10)) < 1e-9);
    fewshot_llm_free(llm);
    json_decref(c);
}

static void test_config(void **state)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"base_url\": \"%s\", \"model\": \"cfg-model\", \"api_key_env\": "
             "\"FEWSHOT_TEST_KEY\", \"temperature\": 0, \"max_tokens\": 7, \"seed\": 3, "
             "\"stop\": \"END\", \"concurrency\": 4, \"rpm\": 6000, \"tpm\": 1000000, "
             "\"timeouts\": {\"connect\": 2, \"request\": 5}, \"retries\": {\"max\": 2, "
             "\"initial\": 0.01, \"max_wait\": 1, \"budget\": 30}, \"prices\": {\"cfg-model\": "
             "{\"prompt\": 1, \"completion\": 2}}, \"extra\": {\"top_k\": 1}, \"cache\": "
             "{\"mode\": \"off\"}}", base("mode=request"));
    json_t *conf = json_loads(text, 0, NULL);
    assert_non_null(conf);
    assert_int_equal(fewshot_llm_config_check(conf, "sweep.json"), 0);
    fewshot_llm *llm;
    assert_int_equal(fewshot_llm_new_from_config(&llm, conf, "sweep.json"), 0);
    json_decref(conf); /* the client keeps what it needs */
    assert_string_equal(fewshot_llm_model(llm), "cfg-model");
    const fewshot_llm_params *d = fewshot_llm_default_params(llm);
    assert_int_equal(d->max_tokens, 7);
    fewshot_llm_reply *r = chat(llm, "x");
    assert_int_equal(r->status, 0);
    json_t *sent = json_loads(r->text, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(sent, "max_tokens")), 7);
    assert_int_equal(json_integer_value(json_object_get(sent, "seed")), 3);
    assert_int_equal(json_integer_value(json_object_get(sent, "top_k")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(sent, "stop"), 0)), "END");
    assert_true(json_number_value(json_object_get(sent, "temperature")) == 0);
    json_decref(sent);
    fewshot_llm_reply_free(r);
    fewshot_llm_free(llm);

    struct { const char *json, *path, *msg; } bad[] = {
        {"{\"temprature\": 0}", "$.llm", "unknown key 'temprature'"},
        {"{\"temperature\": \"hot\"}", "$.llm.temperature", "expected a number"},
        {"{\"temperature\": 3}", "$.llm.temperature", "between 0 and 2"},
        {"{\"max_tokens\": 1.5}", "$.llm.max_tokens", "expected an integer"},
        {"{\"api_key\": \"sk-x\"}", "$.llm.api_key", "secrets never go in a config"},
        {"{\"headers\": {\"Authorization\": \"x\"}}", "$.llm.headers.Authorization", "secrets"},
        {"{\"cache\": {\"mode\": \"sometimes\"}}", "$.llm.cache.mode", "unknown cache mode"},
        {"{\"retries\": {\"tries\": 3}}", "$.llm.retries", "unknown key 'tries'"},
        {"{\"prices\": {\"m\": {\"prompt\": -1}}}", "$.llm.prices.m.prompt", "between"},
        {"{\"price\": {\"cached\": -1}}", "$.llm.price.cached", "between"},
        {"{\"price\": {\"input\": 1, \"cache\": 1}}", "$.llm.price", "unknown key 'cache'"},
        {"{\"price\": {}, \"prices\": {}}", "$.llm.prices", "either price"},
        {"{\"context\": 0}", "$.llm.context", "between"},
        {"{\"timeouts\": {\"request\": 0}}", "$.llm.timeouts.request", "between"},
        {"{\"stop\": [1]}", "$.llm.stop[0]", "expected a string"},
        {"{\"provider\": \"azure\"}", "$.llm.base_url", "needs base_url"},
        {"[]", "$.llm", "expected an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *c = json_loads(bad[i].json, JSON_DECODE_ANY, NULL);
        assert_int_equal(fewshot_llm_config_check(c, "sweep.json"), FEWSHOT_EINVAL);
        const fewshot_error *e = fewshot_error_last();
        if (strcmp(e->path, bad[i].path) != 0 || !strstr(e->message, bad[i].msg))
            fail_msg("%s: got %s: %s", bad[i].json, e->path, e->message);
        assert_string_equal(e->file, "sweep.json");
        json_decref(c);
    }
    /* a named key variable that is not set */
    json_t *c = json_pack("{s:s,s:s}", "api_key_env", "FEWSHOT_SURELY_UNSET_VAR", "base_url",
                          "http://127.0.0.1:1/v1");
    assert_int_equal(fewshot_llm_new_from_config(&llm, c, NULL), FEWSHOT_EINVAL);
    assert_non_null(strstr(fewshot_error_last()->message, "FEWSHOT_SURELY_UNSET_VAR is not set"));
    json_decref(c);
}

static void test_bad_arguments(void **state)
{
    fewshot_llm *llm = client(NULL, NULL);
    json_t *notmsgs = json_string("x");
    assert_int_equal(fewshot_llm_submit(llm, FEWSHOT_LLM_CHAT, notmsgs, NULL, NULL, NULL),
                     FEWSHOT_EINVAL);
    assert_int_equal(fewshot_llm_submit(llm, 42, notmsgs, NULL, NULL, NULL), FEWSHOT_EINVAL);
    fewshot_llm_params p = FEWSHOT_LLM_PARAMS_INIT;
    p.version = 9;
    assert_int_equal(fewshot_llm_submit(llm, FEWSHOT_LLM_COMPLETION, notmsgs, &p, NULL, NULL),
                     FEWSHOT_EINVAL);
    json_decref(notmsgs);
    fewshot_llm_free(llm);
    fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
    o.provider = "skynet";
    assert_int_equal(fewshot_llm_new(&llm, &o), FEWSHOT_EINVAL);
    o.provider = NULL;
    o.base_url = "ftp://x";
    assert_int_equal(fewshot_llm_new(&llm, &o), FEWSHOT_EINVAL);
    /* freeing a client with requests in flight */
    llm = client("delay=2000", NULL);
    json_t *m = fewshot_llm_messages(NULL, "abandoned");
    fewshot_llm_submit(llm, FEWSHOT_LLM_CHAT, m, NULL, NULL, NULL);
    fewshot_llm_reply *r;
    assert_int_equal(fewshot_llm_poll(llm, 50, &r), 0);
    json_decref(m);
    fewshot_llm_free(llm);
}

int main(void)
{
    if (start_server() != 0) {
        printf("SKIP: tests/llm-server/llm-server is not built\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chat),
        cmocka_unit_test(test_request_fields),
        cmocka_unit_test(test_retry_5xx),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_no_retry_4xx),
        cmocka_unit_test(test_timeout_and_budget),
        cmocka_unit_test(test_connection_faults),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_async_many),
        cmocka_unit_test(test_rate_limits),
        cmocka_unit_test(test_embeddings_models),
        cmocka_unit_test(test_azure),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_key_redacted),
        cmocka_unit_test(test_cost_and_usage_sum),
        cmocka_unit_test(test_usage_bounds),
        cmocka_unit_test(test_cached_tokens),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_bad_arguments),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    stop_server();
    return rc;
}
